// The memory forecast against what a training step really allocates on the CPU (every tensor the
// step allocates is counted through LibTorch's memory-profiling hook, so the measured peak is
// exact): the trainer's own categories agree byte for byte, and the activation peak within a
// bound, for presets and Hugging Face fixtures of each architecture, fp32 and bf16, LoRA and full,
// with and without dropout. Also: the forecast grows with the micro-batch and the sequence,
// `auto` picks the largest micro-batch that fits and a run with it trains.
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>

#include "deeptune/error.h"
#include "deeptune/session.h"
#include "deeptune/store.h"
#include "support/test_support.h"

using namespace deeptune;

namespace {
const std::string kFixtures = DEEPTUNE_SOURCE_DIR "/tests/interop/fixtures/models";
}  // namespace

class TstMemoryForecast : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void forecastMatchesMeasuredStep_data();
  void forecastMatchesMeasuredStep();
  void forecastGrowsWithBatchAndSequence();
  void autoMicroBatchTrains();

 private:
  QTemporaryDir dir_;
  std::string project_;
};

void TstMemoryForecast::initTestCase() {
  QVERIFY(dir_.isValid());
  project_ = dir_.filePath("forecast.dtproj").toStdString();
  test::make_counting_project(project_);
}

void TstMemoryForecast::forecastMatchesMeasuredStep_data() {
  QTest::addColumn<QString>("source");
  QTest::addColumn<int>("micro");
  QTest::addColumn<int>("length");
  QTest::addColumn<QString>("precision");
  QTest::addColumn<QString>("mode");
  QTest::addColumn<double>("dropout");
  QTest::newRow("tiny fp32 lora") << "preset:tiny" << 4 << 64 << "fp32"
                                  << "lora" << 0.05;
  QTest::newRow("tiny bf16 lora") << "preset:tiny" << 8 << 256 << "bf16"
                                  << "lora" << 0.05;
  QTest::newRow("small fp32 long") << "preset:small" << 1 << 512 << "fp32"
                                   << "lora" << 0.0;
  QTest::newRow("small fp32 full") << "preset:small" << 2 << 256 << "fp32"
                                   << "full" << 0.0;
  QTest::newRow("tiny bf16 full") << "preset:tiny" << 16 << 128 << "bf16"
                                  << "full" << 0.0;
  for (const char* arch : {"llama_tied", "llama_bf16", "qwen2_sharded", "qwen3"})
    QTest::newRow((std::string(arch) + " fixture").c_str())
        << QString::fromStdString(kFixtures + "/" + arch) << 2 << 128 << "fp32"
        << "lora" << 0.1;
}

void TstMemoryForecast::forecastMatchesMeasuredStep() {
  QFETCH(QString, source);
  QFETCH(int, micro);
  QFETCH(int, length);
  QFETCH(QString, precision);
  QFETCH(QString, mode);
  QFETCH(double, dropout);
  auto doc = test::small_run_config("pairs").to_json();
  doc["model"]["source"] = source.toStdString();
  doc["train"]["batch_size"] = micro * 2;
  doc["train"]["micro_batch_size"] = micro;
  doc["train"]["precision"] = precision.toStdString();
  doc["train"]["mode"] = mode.toStdString();
  doc["data"]["max_length"] = length;
  doc["lora"]["dropout"] = dropout;
  doc["lora"]["targets"] = {"q_proj", "v_proj", "down_proj"};
  const auto config = RunConfig::from_json(doc);
  const MemoryForecast f = forecast_memory(config, project_);
  const MemorySample m = measure_step_memory(config, project_, 2);
  QCOMPARE(f.micro_batch, int64_t(micro));
  QVERIFY(!f.cuda);
  // The trainer's own tensors: exactly what the forecast counts from shapes.
  QCOMPARE(f.category("base_weights"), m.base_weights);
  QCOMPARE(f.category("trainable_weights"), m.trainable_weights);
  QCOMPARE(f.category("gradients"), m.gradients);
  QCOMPARE(f.category("optimizer_state"), m.optimizer_state);
  // The categories add up to the peak on both sides.
  int64_t sum = 0;
  for (const auto& [name, bytes] : f.categories) sum += bytes;
  QCOMPARE(sum, f.peak_bytes);
  QCOMPARE(m.base_weights + m.trainable_weights + m.gradients + m.optimizer_state + m.activations(),
           m.peak_allocated);
  // The step's peak (CPU: LibTorch 1.13's kernels; the GPU suite holds CUDA to its own bound).
  const double error = double(f.peak_bytes - m.peak_allocated) / double(m.peak_allocated);
  qInfo("%s: forecast %lld, measured %lld bytes (%+.2f%%)", qPrintable(source),
        static_cast<long long>(f.peak_bytes), static_cast<long long>(m.peak_allocated),
        100.0 * error);
  QVERIFY2(std::fabs(error) <= 0.06,
           qPrintable(QStringLiteral("forecast off by %1%").arg(100.0 * error, 0, 'f', 2)));
  // The process's resident size holds at least the measured tensors.
  QVERIFY(m.resident > m.peak_allocated / 2);
}

void TstMemoryForecast::forecastGrowsWithBatchAndSequence() {
  auto config = test::small_run_config("pairs");
  config.train.batch_size = 16;
  config.train.micro_batch_size = 1;
  const auto one = forecast_memory(config, project_);
  config.train.micro_batch_size = 8;
  const auto eight = forecast_memory(config, project_);
  QVERIFY(eight.category("activations") > 4 * one.category("activations"));
  QCOMPARE(eight.category("base_weights"), one.category("base_weights"));
  config.data.max_length = 4 * config.data.max_length;
  const auto longer = forecast_memory(config, project_);
  QVERIFY(longer.peak_bytes > eight.peak_bytes);
  // bf16 over fp32 weights keeps 16-bit copies of the adapted layers' inputs: different peak.
  config.train.precision = Precision::kBf16;
  QVERIFY(forecast_memory(config, project_).peak_bytes != longer.peak_bytes);
  // The host has room for preset:tiny at every divisor of the batch.
  QCOMPARE(one.max_micro_batch, int64_t(16));
  QCOMPARE(one.fit, MemoryFit::kFits);
  QVERIFY(one.available_bytes > 0 && one.total_bytes >= one.available_bytes);
  // A sequence whose attention scores alone exceed any host: will not fit, and no micro-batch does.
  config.data.max_length = 131072;
  config.model.source = "preset:small";
  const auto huge = forecast_memory(config, project_);
  QCOMPARE(huge.fit, MemoryFit::kWontFit);
  QCOMPARE(huge.max_micro_batch, int64_t(0));
  QVERIFY(huge.device_bytes > huge.available_bytes);
}

void TstMemoryForecast::autoMicroBatchTrains() {
  auto doc = test::small_run_config("pairs").to_json();
  doc["train"]["micro_batch_size"] = "auto";
  doc["train"]["max_steps"] = 3;
  const auto config = RunConfig::from_json(doc);
  QCOMPARE(config.train.micro_batch_size, kAutoMicroBatch);
  QCOMPARE(config.to_json()["train"]["micro_batch_size"], nlohmann::json("auto"));
  QCOMPARE(forecast_memory(config, project_).micro_batch, int64_t(config.train.batch_size));
  const int64_t id = create_run(project_, config, "auto");
  test::RunRecorder obs;
  RunControl control;
  const auto outcome = execute_run(project_, id, obs, control);
  QCOMPARE(outcome.status, RunStatus::kCompleted);
  bool said = false;
  for (const auto& line : obs.logs)
    said = said || line.text.find("micro-batch auto: 8") != std::string::npos;
  QVERIFY2(said, "the run's log names the micro-batch auto chose");
  QVERIFY(!obs.steps.empty());
  QCOMPARE(obs.steps.back().micro_batch, int64_t(8));
  // On the CPU the step's peak is measured too (the tracked allocations of the step).
  QVERIFY(obs.steps.back().memory.peak_allocated > obs.steps.back().memory.base_weights);
}

QTEST_GUILESS_MAIN(TstMemoryForecast)
#include "tst_memory_forecast.moc"
