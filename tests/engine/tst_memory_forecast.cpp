// The memory forecast against what a training step really allocates on the CPU (every tensor the
// step allocates is counted through LibTorch's memory-profiling hook, so the measured peak is
// exact): the trainer's own categories agree byte for byte, and the activation peak within a
// bound, for presets and Hugging Face fixtures of each architecture, fp32 and bf16, LoRA and full,
// with and without dropout. Also: the forecast grows with the micro-batch and the sequence,
// `auto` picks the largest micro-batch that fits and a run with it trains.
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <map>

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
  void recomputationKeepsTheRunAndSavesMemory();

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
  QTest::addColumn<QString>("checkpointing");
  const QString off = "off", full = "full", selective = "selective";
  auto row = [](const char* name, const QString& source, int micro, int length,
                const char* precision, const char* mode, double dropout, const QString& recompute) {
    QTest::newRow(name) << source << micro << length << QString(precision) << QString(mode)
                        << dropout << recompute;
  };
  row("tiny fp32 lora", "preset:tiny", 4, 64, "fp32", "lora", 0.05, off);
  row("tiny bf16 lora", "preset:tiny", 8, 256, "bf16", "lora", 0.05, off);
  row("small fp32 long", "preset:small", 1, 512, "fp32", "lora", 0.0, off);
  row("small fp32 full", "preset:small", 2, 256, "fp32", "full", 0.0, off);
  row("tiny bf16 full", "preset:tiny", 16, 128, "bf16", "full", 0.0, off);
  row("small recompute full", "preset:small", 2, 512, "fp32", "lora", 0.1, full);
  row("small recompute selective", "preset:small", 2, 512, "fp32", "lora", 0.1, selective);
  const auto fixture = [](const char* name) {
    return QString::fromStdString(kFixtures + "/" + name);
  };
  for (const char* arch : {"llama_tied", "llama_bf16", "qwen2_sharded", "qwen3"})
    row((std::string(arch) + " fixture").c_str(), fixture(arch), 2, 128, "fp32", "lora", 0.1, off);
  row("qwen3 selective bf16", fixture("qwen3"), 4, 256, "bf16", "lora", 0.1, selective);
  row("llama full recompute, full training", fixture("llama_tied"), 4, 256, "fp32", "full", 0.0,
      full);
}

void TstMemoryForecast::forecastMatchesMeasuredStep() {
  QFETCH(QString, source);
  QFETCH(int, micro);
  QFETCH(int, length);
  QFETCH(QString, precision);
  QFETCH(QString, mode);
  QFETCH(double, dropout);
  QFETCH(QString, checkpointing);
  auto doc = test::small_run_config("pairs").to_json();
  doc["model"]["source"] = source.toStdString();
  doc["train"]["batch_size"] = micro * 2;
  doc["train"]["micro_batch_size"] = micro;
  doc["train"]["precision"] = precision.toStdString();
  doc["train"]["mode"] = mode.toStdString();
  doc["data"]["max_length"] = length;
  doc["lora"]["dropout"] = dropout;
  doc["lora"]["targets"] = {"q_proj", "v_proj", "down_proj"};
  doc["train"]["gradient_checkpointing"] = checkpointing.toStdString();
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

// Gradient checkpointing changes what is kept, never the numbers: the same seed and data (dropout
// on, so the recomputation must redraw the same masks) give the same losses and gradient norms
// off, full and selective, while the measured peak falls and the forecast falls with it.
void TstMemoryForecast::recomputationKeepsTheRunAndSavesMemory() {
  auto doc = test::small_run_config("pairs").to_json();
  doc["model"]["source"] = "preset:small";
  doc["data"]["max_length"] = 64;
  doc["lora"]["dropout"] = 0.1;
  doc["lora"]["targets"] = {"q_proj", "v_proj", "o_proj", "up_proj"};
  doc["train"]["max_steps"] = 4;
  std::map<std::string, std::vector<double>> losses, norms;
  std::map<std::string, int64_t> measured, forecast;
  for (const std::string mode : {"off", "full", "selective"}) {
    doc["train"]["gradient_checkpointing"] = mode;
    const auto config = RunConfig::from_json(doc);
    const int64_t id = create_run(project_, config, "recompute-" + mode);
    test::RunRecorder obs;
    RunControl control;
    QCOMPARE(execute_run(project_, id, obs, control).status, RunStatus::kCompleted);
    for (const auto& step : obs.steps) {
      losses[mode].push_back(step.loss);
      norms[mode].push_back(step.grad_norm);
    }
    auto measure = config;
    measure.data.max_length = 512;  // long enough for the activations to dominate
    measured[mode] = measure_step_memory(measure, project_, 2).peak_allocated;
    forecast[mode] = forecast_memory(measure, project_).peak_bytes;
  }
  for (const std::string mode : {"full", "selective"}) {
    QCOMPARE(losses[mode].size(), losses["off"].size());
    for (size_t i = 0; i < losses["off"].size(); ++i) {
      QVERIFY2(std::fabs(losses[mode][i] - losses["off"][i]) <= 1e-6 * std::fabs(losses["off"][i]),
               qPrintable(QString("%1 step %2: loss %3 vs %4")
                              .arg(QString::fromStdString(mode))
                              .arg(i + 1)
                              .arg(losses[mode][i], 0, 'g', 12)
                              .arg(losses["off"][i], 0, 'g', 12)));
      QVERIFY(std::fabs(norms[mode][i] - norms["off"][i]) <= 1e-5 * std::fabs(norms["off"][i]));
    }
  }
  QVERIFY2(measured["full"] < measured["selective"] && measured["selective"] < measured["off"],
           qPrintable(QString("off %1, selective %2, full %3")
                          .arg(measured["off"])
                          .arg(measured["selective"])
                          .arg(measured["full"])));
  QVERIFY(forecast["full"] < forecast["selective"] && forecast["selective"] < forecast["off"]);
}

QTEST_GUILESS_MAIN(TstMemoryForecast)
#include "tst_memory_forecast.moc"
