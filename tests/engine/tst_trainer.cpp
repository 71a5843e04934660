// Training end to end through the public API (create_run / execute_run on a real project file),
// on slices of the bundled sample data: the loss falls, a stopped run resumes bit for bit,
// accumulation and the schedule do what they say, evaluation is right, failures are recorded,
// and checkpoints hold what they should. Sizes are picked to keep the suite near 30 s on 2 cores.
#include <dlfcn.h>
#include <torch/torch.h>

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "deeptune/config.h"
#include "deeptune/data.h"
#include "deeptune/data_preview.h"
#include "deeptune/files.h"
#include "deeptune/json_input.h"
#include "deeptune/safetensors.h"
#include "deeptune/sample_data.h"
#include "deeptune/session.h"
#include "deeptune/store.h"
#include "deeptune/tokenizer.h"
#include "formats/hf_checkpoint.h"
#include "lora/lora.h"
#include "model/linear_cross_entropy.h"
#include "model/llama.h"
#include "model/presets.h"
#include "support/test_support.h"
#include "torch/compat.h"
#include "torch/tensor_io.h"
#include "train/batches.h"
#include "train/trainer.h"

using deeptune::test::q;
using deeptune::test::RunRecorder;
using deeptune::test::small_run_config;

using namespace deeptune;
namespace fs = std::filesystem;

namespace {

// Doubles compared bit for bit (QCOMPARE on doubles is fuzzy); 17 digits identify a double.
QByteArray exact(double v) {
  return QByteArray::number(v, 'g', 17);
}

// The first `lines` lines of a bundled sample file (CSV: the header counts as one).
std::string sample_head(const std::string& name, int lines) {
  for (const auto& f : sample_files()) {
    if (f.name != name) continue;
    const std::string all(f.data, f.size);
    size_t pos = 0;
    for (int i = 0; i < lines && pos != std::string::npos; ++i) {
      pos = all.find('\n', pos);
      if (pos != std::string::npos) ++pos;
    }
    return all.substr(0, pos);
  }
  return {};
}

// A project file in a temporary folder with one dataset registered as the GUI registers it.
struct Project {
  QTemporaryDir dir;
  std::string path;       // the .dtproj
  std::string data_path;  // the dataset file
  std::string dataset;    // its name in the project
};

std::unique_ptr<Project> make_project(const std::string& file_name, const std::string& contents,
                                      const std::string& format, const FieldMapping& mapping,
                                      int64_t rows) {
  auto p = std::make_unique<Project>();
  if (!p->dir.isValid()) return nullptr;
  const std::string dir = p->dir.path().toStdString();
  p->path = dir + "/test.dtproj";
  p->data_path = dir + "/" + file_name;
  p->dataset = fs::path(file_name).stem().string();
  {
    std::ofstream out(p->data_path, std::ios::binary);
    out << contents;
    if (!out) return nullptr;
  }
  auto store = ProjectStore::create(p->path, "trainer test");
  DatasetRecord d;
  d.name = p->dataset;
  d.path = file_name;  // relative: resolved against the project's folder
  d.format = format;
  d.mapping_json = mapping.to_json().dump();
  d.sha256 = sha256_file(p->data_path);
  d.rows = rows;
  store->add_dataset(d);
  return p;
}

FieldMapping prompt_response() {
  FieldMapping m;
  m.prompt = "prompt";
  m.response = "response";
  return m;
}

std::unique_ptr<Project> dates_project(int rows = 200) {
  return make_project("dates.jsonl", sample_head("dates.jsonl", rows), "jsonl", prompt_response(),
                      rows);
}

RunOutcome execute(const Project& p, int64_t run_id, RunRecorder& obs) {
  RunControl control;
  obs.control = &control;
  auto outcome = execute_run(p.path, run_id, obs, control);
  obs.control = nullptr;
  return outcome;
}

// Creates and runs to the end; the run id comes back through `run_id`.
RunOutcome create_and_run(const Project& p, const RunConfig& c, RunRecorder& obs, int64_t* run_id,
                          const std::string& name = "") {
  *run_id = create_run(p.path, c, name);
  return execute(p, *run_id, obs);
}

using Series = std::vector<std::pair<int64_t, double>>;

Series metric(const Project& p, int64_t run_id, const std::string& name) {
  auto all = ProjectStore::open(p.path)->metrics(run_id);
  auto it = all.find(name);
  return it == all.end() ? Series{} : it->second;
}

double mean(const std::vector<double>& v, size_t from, size_t count) {
  double s = 0;
  for (size_t i = from; i < from + count; ++i) s += v.at(i);
  return s / double(count);
}

// Records a checkpoint's current files as its own: hashes in state.json, state.json's hash in
// the project. What a tampering tool would have to do; tests use it to build checkpoints that
// pass verification but say something else.
void reseal_checkpoint(const Project& p, const ArtifactRecord& a) {
  auto store = ProjectStore::open(p.path);
  const std::string dir = store->resolve(a.path);
  auto state = nlohmann::json::parse(std::ifstream(dir + "/state.json"));
  for (auto& [file, hash] : state["files"].items()) hash = sha256_file(dir + "/" + file);
  const std::string text = state.dump(2) + "\n";
  std::ofstream(dir + "/state.json", std::ios::trunc) << text;
  ArtifactRecord sealed = a;
  sealed.path = dir;
  sealed.sha256 = deeptune::sha256_bytes(text.data(), text.size());
  store->add_artifact(sealed);
}

std::vector<ArtifactRecord> artifacts_of(const Project& p, int64_t run_id,
                                         const std::string& kind) {
  std::vector<ArtifactRecord> out;
  for (const auto& a : ProjectStore::open(p.path)->artifacts(run_id))
    if (a.kind == kind) out.push_back(a);
  return out;
}

std::string resolve(const Project& p, const std::string& relative) {
  return ProjectStore::open(p.path)->resolve(relative);
}

QString outcome_text(const RunOutcome& o) {
  return QString("status %1, step %2, error: %3")
      .arg(q(to_string(o.status)))
      .arg(o.last_step)
      .arg(q(o.error));
}

class DirSink : public train::CheckpointSink {
 public:
  explicit DirSink(std::string root) : root_(std::move(root)) {}
  std::string directory_for(int64_t step) override {
    return root_ + "/checkpoint-" + std::to_string(step);
  }
  void saved(int64_t, const std::string&, const std::string&) override {}

 private:
  std::string root_;
};

}  // namespace

class TestTrainer : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void lossDecreases_data();
  void lossDecreases();
  void exactResume_data();
  void exactResume();
  void pauseWaitsBetweenStepsAndChangesNothing();
  void learningRateSchedule_data();
  void learningRateSchedule();
  void gradientAccumulationMatchesOneBatch();
  void labelSmoothingRaisesLoss();
  void chunkedLossEqualsThePlainOne_data();
  void chunkedLossEqualsThePlainOne();
  void evaluationRecordsLossAndPerplexity();
  void memoryIsSampledEveryStep();
  void outOfMemoryHalvesTheMicroBatch();
  void nonFiniteStepsAreSkippedThenRolledBack();
  void classificationRecordsAccuracy();
  void messagesTrainOnAssistantTurnsOnly();
  void messagesWithAHuggingFaceModel();
  void badInputBeforeTrainingLeavesNoRun();
  void failedRunIsRecordedAndResumable();
  void tamperedCheckpointIsRefused_data();
  void tamperedCheckpointIsRefused();
  void implausibleStateIsRefused_data();
  void implausibleStateIsRefused();
  void stopOnCheckpointStepWritesItOnce();
  void lossScaleGrowsAndShrinks();
  void adamwDecaysMatricesOnly();
  void sideWorkDoesNotChangeARun();
  void checkpointsHoldAdaptersAndStep();
};

void TestTrainer::initTestCase() {
  // Tensors this small make extra threads pure synchronisation cost. Debian's LibTorch multiplies
  // in OpenBLAS, whose spinning threads at::set_num_threads does not reach: on the busy 2-core
  // build machine one thread ran these runs 2 to 5 times faster.
  torch::set_num_threads(1);
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    set(1);
  QVERIFY2(!sample_head("dates.jsonl", 1).empty(),
           "dates.jsonl is not among the compiled-in samples");
  QVERIFY2(!sample_head("tickets.csv", 1).empty(),
           "tickets.csv is not among the compiled-in samples");
}

void TestTrainer::lossDecreases_data() {
  QTest::addColumn<bool>("full");
  QTest::addColumn<int>("steps");
  QTest::addColumn<double>("lr");
  QTest::addColumn<double>("ratio");  // mean(last 5) must be below ratio * mean(first 5)
  QTest::newRow("full") << true << 15 << 3e-3 << 0.8;
  // Adapters on a random base learn slowly: a looser bar, still a clear fall. Measured: 0.67 (full)
  // and 0.73 (lora).
  QTest::newRow("lora") << false << 15 << 1e-2 << 0.85;
}

void TestTrainer::lossDecreases() {
  QFETCH(bool, full);
  QFETCH(int, steps);
  QFETCH(double, lr);
  QFETCH(double, ratio);
  auto p = dates_project();
  QVERIFY(p);
  auto c = small_run_config(p->dataset);
  c.train.mode = full ? TrainMode::kFull : TrainMode::kLora;
  c.train.max_steps = steps;
  c.train.lr = lr;
  c.lora.targets = {"q_proj", "v_proj", "o_proj", "down_proj", "lm_head"};
  RunRecorder obs;
  int64_t id = 0;
  const auto outcome = create_and_run(*p, c, obs, &id);
  QVERIFY2(outcome.status == RunStatus::kCompleted, qPrintable(outcome_text(outcome)));
  QCOMPARE(outcome.last_step, int64_t(steps));
  const auto losses = obs.losses();
  QCOMPARE(int(losses.size()), steps);
  const double first = mean(losses, 0, 5), last = mean(losses, losses.size() - 5, 5);
  QVERIFY2(last < ratio * first,
           qPrintable(QString("first five %1, last five %2").arg(first).arg(last)));
  // What the observer saw is what the project holds.
  const auto stored = metric(*p, id, "train/loss");
  QCOMPARE(int(stored.size()), steps);
  for (int i = 0; i < steps; ++i) {
    QCOMPARE(stored[i].first, int64_t(i + 1));
    QCOMPARE(exact(stored[i].second), exact(losses[i]));
  }
  const auto run = ProjectStore::open(p->path)->run(id);
  QVERIFY(run->status == RunStatus::kCompleted);
  QCOMPARE(run->last_step, int64_t(steps));
}

void TestTrainer::exactResume_data() {
  QTest::addColumn<bool>("full");
  // LoRA dropout draws from the generator every step: resume is exact only if its state is
  // restored.
  QTest::newRow("lora with dropout") << false;
  QTest::newRow("full") << true;
}

// Pause holds the run between optimizer steps (state paused, in the project too) until resumed,
// and the run then continues as if nothing had happened: same losses, bit for bit.
void TestTrainer::pauseWaitsBetweenStepsAndChangesNothing() {
  auto p = dates_project();
  QVERIFY(p);
  auto c = small_run_config(p->dataset);
  c.train.max_steps = 8;
  c.lora.dropout = 0.1;
  RunRecorder plain;
  int64_t a = 0;
  QVERIFY(create_and_run(*p, c, plain, &a, "plain").status == RunStatus::kCompleted);

  class Pauser : public RunRecorder {
   public:
    void on_step(const StepMetrics& m) override {
      RunRecorder::on_step(m);
      if (m.step == 3) {
        control->request_pause();
        // Resume from another thread, as the UI would, once the pause is visible in the project.
        resumer = std::thread([this, path = path, id = id] {
          for (int i = 0; i < 200; ++i) {
            auto store = ProjectStore::open(path);
            if (store->run(id)->status == RunStatus::kPaused) {
              status_seen_while_paused = true;
              break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
          }
          control->request_resume();
        });
      }
    }
    std::thread resumer;
    std::string path;
    int64_t id = 0;
    std::atomic<bool> status_seen_while_paused{false};
  } paused;
  paused.path = p->path;
  paused.id = create_run(p->path, c, "paused");
  RunControl control;
  paused.control = &control;
  const auto outcome = execute_run(p->path, paused.id, paused, control);
  paused.resumer.join();
  QCOMPARE(int(outcome.status), int(RunStatus::kCompleted));
  QVERIFY(paused.status_seen_while_paused);
  int pauses = 0, resumes = 0;
  for (const auto& [state, detail] : paused.states) {
    pauses += state == RunState::kPaused;
    resumes += state == RunState::kRunning && detail == "resumed";
  }
  QCOMPARE(pauses, 1);
  QCOMPARE(resumes, 1);
  QCOMPARE(int(paused.steps.size()), 8);
  for (int i = 0; i < 8; ++i) QCOMPARE(exact(paused.steps[i].loss), exact(plain.steps[i].loss));
}

void TestTrainer::exactResume() {
  QFETCH(bool, full);
  const int n = 8, k = 5;  // k is not a checkpoint_every multiple: the stop writes its own
  auto p = dates_project();
  QVERIFY(p);
  auto c = small_run_config(p->dataset);
  c.train.mode = full ? TrainMode::kFull : TrainMode::kLora;
  c.train.max_steps = n;
  c.train.checkpoint_every = 3;
  c.train.eval_every = 4;
  c.lora.dropout = 0.1;

  RunRecorder a_obs;
  int64_t a = 0;
  auto outcome = create_and_run(*p, c, a_obs, &a, "uninterrupted");
  QVERIFY2(outcome.status == RunStatus::kCompleted, qPrintable(outcome_text(outcome)));

  RunRecorder b_obs;
  b_obs.stop_at = k;
  const int64_t b = create_run(p->path, c, "stopped");
  outcome = execute(*p, b, b_obs);
  QVERIFY2(outcome.status == RunStatus::kStopped, qPrintable(outcome_text(outcome)));
  QCOMPARE(outcome.last_step, int64_t(k));
  QVERIFY(ProjectStore::open(p->path)->run(b)->status == RunStatus::kStopped);
  QCOMPARE(int(b_obs.steps.size()), k);

  RunRecorder resume_obs;
  outcome = execute(*p, b, resume_obs);
  QVERIFY2(outcome.status == RunStatus::kCompleted, qPrintable(outcome_text(outcome)));
  QCOMPARE(outcome.last_step, int64_t(n));
  QVERIFY2(resume_obs.log_text().contains("resuming from checkpoint at step " + QString::number(k)),
           qPrintable(resume_obs.log_text()));
  QCOMPARE(int(resume_obs.steps.size()), n - k);
  QCOMPARE(resume_obs.steps.front().step, int64_t(k + 1));

  for (const char* name : {"train/loss", "train/grad_norm", "train/lr", "val/loss"}) {
    const auto sa = metric(*p, a, name), sb = metric(*p, b, name);
    QVERIFY2(!sa.empty(), name);
    QCOMPARE(sb.size(), sa.size());
    for (size_t i = 0; i < sa.size(); ++i) {
      QCOMPARE(sb[i].first, sa[i].first);
      if (exact(sb[i].second) != exact(sa[i].second))
        QFAIL(qPrintable(QString("%1 at step %2: resumed %3, uninterrupted %4")
                             .arg(name)
                             .arg(sa[i].first)
                             .arg(QString(exact(sb[i].second)))
                             .arg(QString(exact(sa[i].second)))));
    }
  }
  // And the trained weights end bit-identical.
  const auto ca = artifacts_of(*p, a, "checkpoint"), cb = artifacts_of(*p, b, "checkpoint");
  QVERIFY(!ca.empty() && !cb.empty());
  QCOMPARE(ca.back().step, int64_t(n));
  QCOMPARE(cb.back().step, int64_t(n));
  const auto wa = tensor_io::load(resolve(*p, ca.back().path) + "/trainable.safetensors");
  const auto wb = tensor_io::load(resolve(*p, cb.back().path) + "/trainable.safetensors");
  QCOMPARE(wb.size(), wa.size());
  for (const auto& [name, t] : wa) QVERIFY2(torch::equal(t, wb.at(name)), name.c_str());
  if (full) return;

  // Control: the same stop and resume with another generator state in the checkpoint diverges,
  // so the equality above rests on the restored state, not on dropout being inert.
  RunRecorder c_obs;
  c_obs.stop_at = k;
  const int64_t other = create_run(p->path, c, "other generator");
  outcome = execute(*p, other, c_obs);
  QVERIFY2(outcome.status == RunStatus::kStopped, qPrintable(outcome_text(outcome)));
  const auto stopped = artifacts_of(*p, other, "checkpoint");
  QCOMPARE(stopped.back().step, int64_t(k));
  // A legitimately different generator state: the file replaced and the checkpoint re-sealed
  // (its hashes recorded again), as a checkpoint written from that state would be.
  const std::string dir = resolve(*p, stopped.back().path);
  tensor_io::save(dir + "/rng.safetensors",
                  {{"dropout", compat::generator_state(at::detail::createCPUGenerator(1234))}});
  reseal_checkpoint(*p, stopped.back());
  RunRecorder other_obs;
  outcome = execute(*p, other, other_obs);
  QVERIFY2(outcome.status == RunStatus::kCompleted, qPrintable(outcome_text(outcome)));
  const auto la = metric(*p, a, "train/loss"), lo = metric(*p, other, "train/loss");
  QCOMPARE(lo.size(), la.size());
  bool diverged = false;
  for (size_t i = k; i < la.size(); ++i)
    diverged = diverged || exact(la[i].second) != exact(lo[i].second);
  QVERIFY2(diverged, "the generator state in the checkpoint made no difference");
}

void TestTrainer::learningRateSchedule_data() {
  QTest::addColumn<int>("schedule");
  QTest::addColumn<int>("warmup");
  QTest::addColumn<int>("step");
  QTest::addColumn<double>("expected");
  const int cosine = int(Schedule::kCosine), linear = int(Schedule::kLinear),
            constant = int(Schedule::kConstant);
  // lr 1e-3, max_steps 110; with warmup 10 the decay spans steps 10..110.
  QTest::newRow("warmup first step") << cosine << 10 << 1 << 1e-4;
  QTest::newRow("warmup middle") << cosine << 10 << 5 << 5e-4;
  QTest::newRow("warmup end is the peak") << cosine << 10 << 10 << 1e-3;
  QTest::newRow("cosine quarter") << cosine << 10 << 35
                                  << 0.0008535533905932737;  // 1e-3 (1 + cos(pi/4)) / 2
  QTest::newRow("cosine half") << cosine << 10 << 60 << 5e-4;
  QTest::newRow("cosine end") << cosine << 10 << 110 << 0.0;
  QTest::newRow("cosine past the end") << cosine << 10 << 150 << 0.0;
  QTest::newRow("cosine no warmup step 1")
      << cosine << 0 << 1 << 0.0009997960964140947;  // 1e-3 (1 + cos(pi/110)) / 2
  QTest::newRow("linear quarter") << linear << 10 << 35 << 7.5e-4;
  QTest::newRow("linear three quarters") << linear << 10 << 85 << 2.5e-4;
  QTest::newRow("linear end") << linear << 10 << 110 << 0.0;
  QTest::newRow("constant warmup") << constant << 10 << 5 << 5e-4;
  QTest::newRow("constant after warmup") << constant << 10 << 90 << 1e-3;
}

void TestTrainer::learningRateSchedule() {
  QFETCH(int, schedule);
  QFETCH(int, warmup);
  QFETCH(int, step);
  QFETCH(double, expected);
  TrainSpec spec;
  spec.lr = 1e-3;
  spec.max_steps = 110;
  spec.warmup_steps = warmup;
  spec.schedule = static_cast<Schedule>(schedule);
  const double lr = train::learning_rate(spec, step);
  QVERIFY2(std::abs(lr - expected) <= 1e-12 * 1e-3, qPrintable(QString("lr(%1) = %2, expected %3")
                                                                   .arg(step)
                                                                   .arg(lr, 0, 'g', 17)
                                                                   .arg(expected, 0, 'g', 17)));
}

void TestTrainer::gradientAccumulationMatchesOneBatch() {
  auto p = dates_project();
  QVERIFY(p);
  auto c = small_run_config(p->dataset);
  c.train.mode = TrainMode::kFull;
  c.train.max_steps = 3;
  c.train.warmup_steps = 1;
  c.train.schedule = Schedule::kLinear;
  std::map<int, RunRecorder> runs;
  for (int micro : {8, 2}) {
    c.train.micro_batch_size = micro;
    int64_t id = 0;
    const auto outcome = create_and_run(*p, c, runs[micro], &id, "micro-" + std::to_string(micro));
    QVERIFY2(outcome.status == RunStatus::kCompleted, qPrintable(outcome_text(outcome)));
    QCOMPARE(int(runs[micro].steps.size()), 3);
    // The schedule as applied: warmup 1 -> peak at step 1, then linear to zero at max_steps.
    const std::vector<double> lr = {3e-3, 1.5e-3, 0.0};
    for (int i = 0; i < 3; ++i) QCOMPARE(exact(runs[micro].steps[i].lr), exact(lr[i]));
  }
  const auto& one = runs[8].steps;
  const auto& acc = runs[2].steps;
  // One batch of 8 vs four micro-batches of 2 padded differently: the same sums, other rounding.
  QVERIFY2(
      std::abs(one[0].loss - acc[0].loss) < 1e-5,
      qPrintable(
          QString("step 1: %1 vs %2").arg(one[0].loss, 0, 'g', 10).arg(acc[0].loss, 0, 'g', 10)));
  // The gradient, not only the loss, is normalised by the whole batch (its norm would show a
  // factor of 4 otherwise) ...
  QVERIFY2(std::abs(one[0].grad_norm - acc[0].grad_norm) < 1e-5 * one[0].grad_norm,
           qPrintable(QString("grad norm %1 vs %2").arg(one[0].grad_norm).arg(acc[0].grad_norm)));
  // ... so the update is the same and so is the next step's loss.
  QVERIFY2(
      std::abs(one[1].loss - acc[1].loss) < 1e-4,
      qPrintable(
          QString("step 2: %1 vs %2").arg(one[1].loss, 0, 'g', 10).arg(acc[1].loss, 0, 'g', 10)));
}

void TestTrainer::chunkedLossEqualsThePlainOne_data() {
  QTest::addColumn<double>("smoothing");
  QTest::addColumn<int>("chunk");
  QTest::addColumn<bool>("bf16");
  QTest::newRow("one chunk") << 0.0 << 0 << false;
  QTest::newRow("chunks of 3 rows") << 0.0 << 3 << false;
  QTest::newRow("smoothing, chunks of 4") << 0.1 << 4 << false;
  QTest::newRow("bf16 products") << 0.1 << 5 << true;
}

void TestTrainer::chunkedLossEqualsThePlainOne() {
  // model::linear_cross_entropy_sum against the head + cross_entropy_sum it replaces: the same
  // loss and the same gradients for the hidden states and a trainable head weight, skipped rows
  // (-100) included, whatever the chunking.
  QFETCH(double, smoothing);
  QFETCH(int, chunk);
  QFETCH(bool, bf16);
  const auto compute = bf16 ? torch::kBFloat16 : torch::kFloat;
  torch::manual_seed(7);
  const int64_t n = 13, hidden = 16, vocab = 37;
  const auto h0 = torch::randn({n, hidden});
  const auto w0 = torch::randn({vocab, hidden}) * 0.3;
  auto targets = torch::randint(vocab, {n}, torch::kLong);
  targets[2] = -100;
  targets[9] = -100;

  auto h1 = h0.clone().requires_grad_(true), w1 = w0.clone().requires_grad_(true);
  const auto logits = torch::mm(h1.to(compute), w1.to(compute).t()).to(torch::kFloat);
  const auto plain = train::cross_entropy_sum(logits, targets, smoothing);
  (plain * 0.25).backward();

  auto h2 = h0.clone().requires_grad_(true), w2 = w0.clone().requires_grad_(true);
  const auto chunked =
      model::linear_cross_entropy_sum(h2, w2, targets, smoothing, compute, int64_t(chunk));
  (chunked * 0.25).backward();

  const double tol = bf16 ? 2e-2 : 1e-5;
  QVERIFY2(std::fabs(plain.item<double>() - chunked.item<double>()) <= tol * plain.item<double>(),
           qPrintable(QString("%1 vs %2").arg(plain.item<double>()).arg(chunked.item<double>())));
  const double dh = (h1.grad() - h2.grad()).abs().max().item<double>();
  const double dw = (w1.grad() - w2.grad()).abs().max().item<double>();
  const double scale = h1.grad().abs().max().item<double>();
  QVERIFY2(dh <= tol * scale && dw <= tol * w1.grad().abs().max().item<double>(),
           qPrintable(QString("dh %1, dw %2 (of %3)").arg(dh).arg(dw).arg(scale)));
  QCOMPARE(h2.grad()[2].abs().sum().item<double>(), 0.0);  // a skipped row has no gradient

  // Without gradients (evaluation) only the loss is computed.
  torch::NoGradGuard no_grad;
  const auto eval = model::linear_cross_entropy_sum(h0, w0, targets, smoothing, compute);
  QVERIFY(std::fabs(eval.item<double>() - chunked.item<double>()) <= 1e-4 * eval.item<double>());
}

void TestTrainer::labelSmoothingRaisesLoss() {
  // On a freshly initialised model the target is unrelated to the prediction, so smoothing moves
  // the loss either way by chance. It reliably raises the loss of a model that has learned
  // something: train one first, then take step 1 from that same model with and without smoothing.
  auto p = dates_project();
  QVERIFY(p);
  const auto table = read_table(p->data_path, DataFormat::kJsonl);
  const auto examples = map_examples(table, prompt_response(), p->data_path);
  auto c = small_run_config(p->dataset);
  c.train.mode = TrainMode::kFull;
  c.train.max_steps = 15;
  c.train.micro_batch_size = 8;
  const auto split = split_indices(examples.size(), c.data.val_fraction, c.seed);
  ByteTokenizer tok;
  auto encoded = [&] {
    return train::encode(examples, split, MappingKind::kPromptResponse, Task::kCausalLm, tok,
                         c.data.max_length);
  };
  auto cfg = model::find_preset("tiny").config;
  model::Transformer trained(cfg);
  model::init_weights(trained, c.seed);
  lora::set_trainable(trained, TrainMode::kFull);
  QTemporaryDir ckpt;
  QVERIFY(ckpt.isValid());
  DirSink sink(ckpt.path().toStdString());
  RunControl control;
  {
    RunRecorder obs;
    train::Trainer t(c, trained, encoded(), torch::kCPU, tok.pad_id(), obs, control, sink);
    QVERIFY(t.run() == RunStatus::kCompleted);
    QVERIFY(obs.steps.back().loss < 0.8 * obs.steps.front().loss);
  }
  auto step_one = [&](double smoothing) {
    model::Transformer m(cfg);
    {
      torch::NoGradGuard no_grad;
      auto src = trained->named_parameters();
      for (auto& param : m->named_parameters()) param.value().copy_(src[param.key()]);
    }
    lora::set_trainable(m, TrainMode::kFull);
    auto one = c;
    one.train.max_steps = 1;
    one.train.warmup_steps = 0;
    one.train.label_smoothing = smoothing;
    RunRecorder obs;
    train::Trainer t(one, m, encoded(), torch::kCPU, tok.pad_id(), obs, control, sink);
    t.run();
    return obs.steps.at(0).loss;
  };
  const double plain = step_one(0.0), smoothed = step_one(0.1);
  QVERIFY2(smoothed > plain + 0.05,
           qPrintable(QString("smoothed %1, plain %2").arg(smoothed).arg(plain)));

  // Exactly PyTorch's definition: (1 - e) * CE + e * mean over classes of -log p, per target.
  auto data = encoded();
  train::Sampler sampler(data.train.size(), c.seed);
  std::vector<const train::TokenizedExample*> batch;
  for (size_t i : sampler.next(size_t(c.train.batch_size))) batch.push_back(&data.train[i]);
  const auto b = train::collate(batch, tok.pad_id(), torch::kCPU);
  torch::NoGradGuard no_grad;
  trained->eval();
  const auto logp = torch::log_softmax(trained->lm_logits(b.input_ids).to(torch::kDouble), -1);
  const auto mask = b.targets.ne(-100);
  const auto uniform =
      -logp.mean(-1).masked_select(mask).sum().item<double>() / double(b.target_count);
  const double expected = 0.9 * plain + 0.1 * uniform;
  QVERIFY2(
      std::abs(smoothed - expected) < 1e-5,
      qPrintable(
          QString("smoothed %1, expected %2").arg(smoothed, 0, 'g', 10).arg(expected, 0, 'g', 10)));
}

void TestTrainer::evaluationRecordsLossAndPerplexity() {
  auto p = dates_project();
  QVERIFY(p);
  auto c = small_run_config(p->dataset);
  c.train.mode = TrainMode::kFull;
  c.train.max_steps = 8;
  c.train.eval_every = 3;  // before training, at 3, 6 and the last step
  RunRecorder obs;
  int64_t id = 0;
  const auto outcome = create_and_run(*p, c, obs, &id);
  QVERIFY2(outcome.status == RunStatus::kCompleted, qPrintable(outcome_text(outcome)));
  const auto loss = metric(*p, id, "val/loss"), ppl = metric(*p, id, "val/perplexity");
  const std::vector<int64_t> steps = {0, 3, 6, 8};
  QCOMPARE(int(loss.size()), 4);
  QCOMPARE(int(ppl.size()), 4);
  QCOMPARE(int(obs.evals.size()), 4);
  QVERIFY(metric(*p, id, "val/accuracy").empty());
  for (int i = 0; i < 4; ++i) {
    QCOMPARE(loss[i].first, steps[i]);
    QCOMPARE(ppl[i].first, steps[i]);
    QCOMPARE(exact(ppl[i].second), exact(std::exp(loss[i].second)));
    QCOMPARE(exact(obs.evals.at(i).loss), exact(loss[i].second));
  }
  // Step 0 is the untrained model: about ln(259) = 5.56 nats per byte, and training lowers it.
  QVERIFY2(std::abs(loss[0].second - std::log(259.0)) < 0.3,
           qPrintable(QString::number(loss[0].second)));
  QVERIFY(loss[3].second < loss[0].second - 1.0);

  // The last val/loss recomputed without the trainer: the run's base model plus its final
  // (full) weights, each validation example alone, tokens as bytes.
  const auto base = artifacts_of(*p, id, "base_model"), ckpts = artifacts_of(*p, id, "checkpoint");
  QCOMPARE(int(base.size()), 1);
  QCOMPARE(ckpts.back().step, int64_t(8));
  const std::string base_dir = resolve(*p, base[0].path);
  model::Transformer m(hf::read_config(base_dir));
  hf::load_weights(m, base_dir);
  const auto weights = tensor_io::load(resolve(*p, ckpts.back().path) + "/trainable.safetensors");
  QCOMPARE(weights.size(), m->named_parameters().size());
  torch::NoGradGuard no_grad;
  for (auto& param : m->named_parameters()) param.value().copy_(weights.at(param.key()));
  m->eval();
  const auto examples =
      map_examples(read_table(p->data_path, DataFormat::kJsonl), prompt_response(), p->data_path);
  const auto split = split_indices(examples.size(), c.data.val_fraction, c.seed);
  QCOMPARE(int(split.val.size()), 20);
  double sum = 0;
  int64_t count = 0;
  for (size_t i : split.val) {
    std::vector<int64_t> ids = {ByteTokenizer::kBos};
    for (unsigned char ch : examples[i].prompt) ids.push_back(ch);
    const size_t first_target = ids.size();
    for (unsigned char ch : examples[i].response) ids.push_back(ch);
    ids.push_back(ByteTokenizer::kEos);
    if (ids.size() > size_t(c.data.max_length)) ids.resize(c.data.max_length);
    if (first_target >= ids.size()) continue;
    const auto input = torch::tensor(ids).unsqueeze(0);
    const auto logp = torch::log_softmax(m->lm_logits(input)[0].to(torch::kDouble), -1);
    for (size_t j = first_target; j < ids.size(); ++j) {
      sum -= logp[int64_t(j - 1)][ids[j]].item<double>();
      ++count;
    }
  }
  const double independent = sum / double(count);
  QVERIFY2(std::abs(independent - loss[3].second) < 1e-5 * independent,
           qPrintable(QString("recorded %1, recomputed %2")
                          .arg(loss[3].second, 0, 'g', 10)
                          .arg(independent, 0, 'g', 10)));
}

// Every step records where memory goes, counted from the model and optimizer: LoRA's adapters
// train (their gradients the same size, AdamW's two moments twice it), everything else is frozen.
void TestTrainer::memoryIsSampledEveryStep() {
  auto p = dates_project();
  QVERIFY(p);
  auto c = small_run_config(p->dataset);
  c.train.max_steps = 3;
  RunRecorder obs;
  int64_t id = 0;
  const auto outcome = create_and_run(*p, c, obs, &id);
  QVERIFY2(outcome.status == RunStatus::kCompleted, qPrintable(outcome_text(outcome)));
  const auto summary = summarize_model(c);
  QCOMPARE(int(obs.steps.size()), 3);
  for (const auto& step : obs.steps) {
    const MemorySample& m = step.memory;
    QCOMPARE(m.trainable_weights, summary.trainable_parameters * 4);  // fp32
    QCOMPARE(m.base_weights, (summary.total_parameters - summary.trainable_parameters) * 4);
    QCOMPARE(m.gradients, m.trainable_weights);
    QCOMPARE(m.optimizer_state, 2 * m.trainable_weights);
    QVERIFY(m.resident > m.base_weights);  // the process holds at least the model
    QCOMPARE(m.device_total, int64_t(0));  // no CUDA figures on the CPU
    QCOMPARE(m.reserved, int64_t(0));
    // The step's allocations are counted on the CPU too: the peak holds the activations.
    QVERIFY(m.activations() > 0);
    QVERIFY(m.peak_allocated >= m.allocated);
    QVERIFY(m.allocated >= m.base_weights + m.trainable_weights);
  }
  const auto recorded = metric(*p, id, "memory/optimizer_state");
  QCOMPARE(int(recorded.size()), 3);
  QCOMPARE(recorded.back().second, double(obs.steps.back().memory.optimizer_state));
  QCOMPARE(int(metric(*p, id, "memory/resident").size()), 3);
  QCOMPARE(int(metric(*p, id, "memory/peak_allocated").size()), 3);
  QVERIFY(metric(*p, id, "memory/reserved").empty());
  QVERIFY(metric(*p, id, "memory/device_total").empty());
}

// An allocation failure inside a step (injected: the CPU has no limit to hit) halves the
// micro-batch and runs the step again: the run goes on with the same losses as one configured with
// the smaller micro-batch, says so, and marks the step. At micro-batch 1 it fails, saying why.
void TestTrainer::outOfMemoryHalvesTheMicroBatch() {
  auto p = dates_project();
  QVERIFY(p);
  auto c = small_run_config(p->dataset);
  c.train.max_steps = 4;
  c.train.batch_size = 8;
  c.train.micro_batch_size = 2;
  RunRecorder reference;
  int64_t ref_id = 0;
  QVERIFY(create_and_run(*p, c, reference, &ref_id, "reference").status == RunStatus::kCompleted);

  c.train.micro_batch_size = 8;
  qputenv("DEEPTUNE_INJECT_OOM_ABOVE", "2");
  RunRecorder obs;
  int64_t id = 0;
  const auto outcome = create_and_run(*p, c, obs, &id);
  QVERIFY2(outcome.status == RunStatus::kCompleted, qPrintable(outcome_text(outcome)));
  QCOMPARE(obs.losses(), reference.losses());  // 8 -> 4 -> 2: the reference's split exactly
  QCOMPARE(obs.steps.at(0).out_of_memory_retries, int64_t(2));
  QCOMPARE(obs.steps.at(0).micro_batch, int64_t(2));
  QCOMPARE(obs.steps.at(1).out_of_memory_retries, int64_t(0));
  QVERIFY2(obs.log_text().contains("out of memory at step 1 with micro-batch 8") &&
               obs.log_text().contains("effective batch stays 8"),
           qPrintable(obs.log_text()));
  const auto marks = metric(*p, id, "memory/out_of_memory");
  QCOMPARE(int(marks.size()), 1);
  QCOMPARE(marks[0].first, int64_t(1));
  QCOMPARE(marks[0].second, 2.0);

  qputenv("DEEPTUNE_INJECT_OOM_ABOVE", "0");
  RunRecorder failing;
  int64_t failed_id = 0;
  const auto failed = create_and_run(*p, c, failing, &failed_id, "failing");
  qunsetenv("DEEPTUNE_INJECT_OOM_ABOVE");
  QCOMPARE(failed.status, RunStatus::kFailed);
  QVERIFY2(QString::fromStdString(failed.error).contains("even with micro-batch 1"),
           failed.error.c_str());
  // The message quotes the forecast made before the run.
  QVERIFY2(QString::fromStdString(failed.error).contains("the forecast for micro-batch"),
           failed.error.c_str());
}

// NaN losses (injected at steps 3 and 4; a diverging run would give them): each step is skipped
// without an update, and the second in a row (patience 2) sends the run back to its checkpoint
// at step 2 with half the learning rate, from where it completes. Metrics of the abandoned steps
// are replaced, the next checkpoint remembers the scale, and with patience 0 the first NaN fails.
void TestTrainer::nonFiniteStepsAreSkippedThenRolledBack() {
  auto p = dates_project();
  QVERIFY(p);
  auto c = small_run_config(p->dataset);
  c.train.max_steps = 6;
  c.train.checkpoint_every = 2;
  c.train.nonfinite_patience = 2;
  c.train.warmup_steps = 0;
  c.train.schedule = Schedule::kConstant;
  qputenv("DEEPTUNE_INJECT_NAN_AT", "3,2");
  RunRecorder obs;
  int64_t id = 0;
  const auto outcome = create_and_run(*p, c, obs, &id);
  QVERIFY2(outcome.status == RunStatus::kCompleted, qPrintable(outcome_text(outcome)));
  const QString log = obs.log_text();
  QVERIFY2(log.contains("the loss became NaN at step 3: update skipped (1 of 2 in a row)") &&
               log.contains("went back from step 4 to the checkpoint at step 2"),
           qPrintable(log));
  // Steps 1, 2, then 3 skipped (reported), 4 skipped and rolled back (not reported), then 3..6.
  std::vector<int64_t> steps;
  for (const auto& s : obs.steps) steps.push_back(s.step);
  QCOMPARE(steps, (std::vector<int64_t>{1, 2, 3, 3, 4, 5, 6}));
  QVERIFY(obs.steps[2].skipped && !obs.steps[3].skipped);
  QCOMPARE(obs.steps.back().skipped_steps, int64_t(2));
  QCOMPARE(obs.steps.back().lr_scale, 0.5);
  QCOMPARE(obs.steps.back().lr, c.train.lr * 0.5);
  // One value per step in the project, the re-run's.
  const auto loss = metric(*p, id, "train/loss");
  QCOMPARE(int(loss.size()), 6);
  QCOMPARE(loss[2].second, obs.steps[3].loss);
  QCOMPARE(metric(*p, id, "train/lr_scale").back().second, 0.5);
  const auto ckpts = artifacts_of(*p, id, "checkpoint");
  const auto state = deeptune::read_json_file(resolve(*p, ckpts.back().path) + "/state.json");
  QCOMPARE(state.at("lr_scale").template get<double>(), 0.5);

  c.train.nonfinite_patience = 0;
  qputenv("DEEPTUNE_INJECT_NAN_AT", "2,1");
  RunRecorder failing;
  int64_t failed_id = 0;
  const auto failed = create_and_run(*p, c, failing, &failed_id, "nan-fails");
  qunsetenv("DEEPTUNE_INJECT_NAN_AT");
  QCOMPARE(failed.status, RunStatus::kFailed);
  QVERIFY2(QString::fromStdString(failed.error).contains("the loss became NaN at step 2"),
           failed.error.c_str());
}

void TestTrainer::classificationRecordsAccuracy() {
  const int rows = 240;
  FieldMapping mapping;
  mapping.text = "text";
  mapping.label = "label";
  auto p = make_project("tickets.csv", sample_head("tickets.csv", rows + 1), "csv", mapping, rows);
  QVERIFY(p);
  auto c = small_run_config(p->dataset);
  c.model.task = Task::kClassification;
  c.data.max_length = 64;
  c.train.max_steps = 6;
  c.train.eval_every = 3;  // before training, at 3 and at 6
  RunRecorder obs;
  int64_t id = 0;
  const auto outcome = create_and_run(*p, c, obs, &id);
  QVERIFY2(outcome.status == RunStatus::kCompleted, qPrintable(outcome_text(outcome)));
  const auto acc = metric(*p, id, "val/accuracy");
  QCOMPARE(int(acc.size()), 3);
  QVERIFY(metric(*p, id, "val/perplexity").empty());
  QCOMPARE(int(metric(*p, id, "val/loss").size()), 3);
  const int val_rows = int(split_indices(rows, c.data.val_fraction, c.seed).val.size());
  QCOMPARE(val_rows, 24);
  for (const auto& [step, value] : acc) {
    QVERIFY2(value >= 0.0 && value <= 1.0, qPrintable(QString::number(value)));
    // A share of the validation examples: a whole number of them were right.
    const double right = value * val_rows;
    QVERIFY2(std::abs(right - std::round(right)) < 1e-9, qPrintable(QString::number(value)));
  }
  QCOMPARE(acc[0].first, int64_t(0));
  QCOMPARE(acc[1].first, int64_t(3));
  QCOMPARE(acc[2].first, int64_t(6));
  QVERIFY(obs.evals.at(0).accuracy.has_value());
  // The classification head trains whole next to the adapters: it is in the checkpoint.
  const auto ckpts = artifacts_of(*p, id, "checkpoint");
  QVERIFY(!ckpts.empty());
  const auto file =
      SafetensorsFile::read(resolve(*p, ckpts.back().path) + "/trainable.safetensors");
  QVERIFY(file.contains("score.weight"));
  QCOMPARE(file.info("score.weight").shape, (std::vector<int64_t>{4, 128}));  // 4 ticket labels
}

// Bad input known before training (here the dataset file vanished) is refused without leaving a
// run behind: the error names the file and the run is gone again.
// A chat dataset: the loss covers each assistant text and its end-of-turn token, never the system
// or user turns, and a run trains on it end to end.
void TestTrainer::messagesTrainOnAssistantTurnsOnly() {
  const int rows = 40;
  std::string jsonl;
  for (int i = 0; i < rows; ++i)
    jsonl += R"({"messages": [{"role": "system", "content": "Be terse."}, {"role": "user", )"
             R"("content": "What is )" +
             std::to_string(i) + R"( + 1?"}, {"role": "assistant", "content": ")" +
             std::to_string(i + 1) +
             R"("}, {"role": "user", "content": "Sure?"}, )"
             R"({"role": "assistant", "content": "Yes."}]})"
             "\n";
  FieldMapping mapping;
  mapping.messages = "messages";
  auto p = make_project("chat.jsonl", jsonl, "jsonl", mapping, rows);
  QVERIFY(p);

  // What the loss covers, example by example: exactly the assistant bytes and their <|im_end|>.
  const auto examples =
      map_examples(read_table(p->data_path, DataFormat::kJsonl), mapping, p->data_path);
  const auto split = split_indices(examples.size(), 0.1, 42);
  ByteTokenizer tok;
  const auto data =
      train::encode(examples, split, MappingKind::kMessages, Task::kCausalLm, tok, 512);
  QCOMPARE(data.train.size(), split.train.size());
  QVERIFY2(data.chat_note.find("ChatML") != std::string::npos, data.chat_note.c_str());
  for (size_t k = 0; k < 3; ++k) {
    const auto b = train::collate({&data.train[k]}, tok.pad_id(), torch::kCPU);
    std::string predicted;
    const auto targets = b.targets[0];
    for (int64_t t = 0; t < targets.size(0); ++t)
      if (targets[t].item<int64_t>() != -100) predicted += char(targets[t].item<int64_t>());
    const std::string answer = std::to_string(split.train[k] + 1);
    QCOMPARE(q(predicted), q(answer + "<|im_end|>Yes.<|im_end|>"));
    QCOMPARE(b.target_count, int64_t(predicted.size()));
  }
  // Cut inside the second answer's end-of-turn ("Yes.<|im_end" left): the first answer still
  // trains, the cut one up to the cut. Rows 0-8 are the shortest (one-digit numbers), so every
  // row is cut.
  QVERIFY(split.train[0] < 9);
  const auto cut = train::encode(examples, split, MappingKind::kMessages, Task::kCausalLm, tok,
                                 int(data.train[0].ids.size()) - 3);
  QCOMPARE(cut.truncated, size_t(rows));
  const auto b = train::collate({&cut.train[0]}, tok.pad_id(), torch::kCPU);
  QCOMPARE(b.target_count, int64_t(std::to_string(split.train[0] + 1).size() + 10 + 12));
  // A classifier cannot train on conversations.
  QVERIFY_THROWS_EXCEPTION(InputError, train::encode(examples, split, MappingKind::kMessages,
                                                     Task::kClassification, tok, 512));

  auto c = small_run_config(p->dataset);
  c.data.max_length = 256;
  c.train.mode = TrainMode::kFull;
  c.train.max_steps = 4;
  c.train.eval_every = 2;
  RunRecorder obs;
  int64_t id = 0;
  const auto outcome = create_and_run(*p, c, obs, &id);
  QVERIFY2(outcome.status == RunStatus::kCompleted, qPrintable(outcome_text(outcome)));
  QCOMPARE(int(metric(*p, id, "val/loss").size()), 3);
  bool noted = false;
  for (const auto& l : ProjectStore::open(p->path)->logs(id))
    noted =
        noted || l.text.find("no chat template: messages formatted as ChatML") != std::string::npos;
  QVERIFY(noted);

  // The Data page's view: the same tokens and loss positions, and the share cut at max_length.
  const auto preview = preview_example(p->path, p->dataset, c, split.train[0]);
  QCOMPARE(preview.ids.size(), data.train[0].ids.size());
  QVERIFY(std::equal(preview.ids.begin(), preview.ids.end(), data.train[0].ids.begin()));
  QVERIFY(
      std::equal(preview.loss_mask.begin(), preview.loss_mask.end(), data.train[0].target.begin()));
  QCOMPARE(preview.tokens.front(), std::string("<bos>"));
  QCOMPARE(preview.tokens.at(1), std::string("<"));
  QVERIFY(!preview.truncated && !preview.validation);
  QCOMPARE(preview.chat_family, std::string("ChatML (Qwen)"));
  auto stats = dataset_token_stats(p->path, p->dataset, c);
  QCOMPARE(stats.stats.rows, size_t(rows));
  QCOMPARE(stats.truncated_share, 0.0);
  QCOMPARE(stats.tokenizer, std::string("byte"));
  c.data.max_length = int(data.train[0].ids.size()) - 3;
  stats = dataset_token_stats(p->path, p->dataset, c);
  QCOMPARE(stats.truncated_share, 1.0);
  QVERIFY(preview_example(p->path, p->dataset, c, 0).truncated);
  QVERIFY_THROWS_EXCEPTION(InputError, preview_example(p->path, p->dataset, c, rows));
}

// A conversation dataset on a Hugging Face folder (the Qwen3 fixture): its tokenizer's ChatML
// template is detected, <|im_end|> is one special token the loss covers, no BOS is added (the
// tokenizer adds none), and a short run trains.
void TestTrainer::messagesWithAHuggingFaceModel() {
  const std::string model =
      std::string(DEEPTUNE_SOURCE_DIR) + "/tests/interop/fixtures/models/qwen3";
  if (!fs::exists(model + "/config.json")) QSKIP("the Qwen3 model fixture is not present");
  std::string jsonl;
  for (int i = 0; i < 16; ++i)
    jsonl += R"({"messages": [{"role": "user", "content": "What is )" + std::to_string(i) +
             R"( + 1?"}, {"role": "assistant", "content": ")" + std::to_string(i + 1) +
             R"("}, {"role": "user", "content": "Sure?"}, {"role": "assistant", "content": )"
             R"("Yes."}]})"
             "\n";
  FieldMapping mapping;
  mapping.messages = "messages";
  auto p = make_project("chat.jsonl", jsonl, "jsonl", mapping, 16);
  QVERIFY(p);
  auto c = small_run_config(p->dataset);
  c.model.source = model;
  c.data.max_length = 128;
  c.train.max_steps = 2;
  c.train.batch_size = 4;
  c.train.micro_batch_size = 2;

  const auto preview = preview_example(p->path, p->dataset, c, 3);
  QCOMPARE(preview.chat_family, std::string("ChatML (Qwen)"));
  QCOMPARE(preview.tokens.front(), std::string("<|im_start|>"));
  std::string trained;
  for (size_t i = 0; i < preview.ids.size(); ++i)
    if (preview.loss_mask[i]) trained += preview.tokens[i];
  QCOMPARE(q(trained), QStringLiteral("4<|im_end|>Yes.<|im_end|>"));
  const auto stats = dataset_token_stats(p->path, p->dataset, c);
  QCOMPARE(stats.tokenizer, std::string("hf"));
  QCOMPARE(stats.truncated_share, 0.0);

  RunRecorder obs;
  int64_t id = 0;
  const auto outcome = create_and_run(*p, c, obs, &id);
  QVERIFY2(outcome.status == RunStatus::kCompleted, qPrintable(outcome_text(outcome)));
  bool noted = false;
  for (const auto& l : ProjectStore::open(p->path)->logs(id))
    noted = noted || l.text.find("ChatML (Qwen), detected from the tokenizer's chat template") !=
                         std::string::npos;
  QVERIFY(noted);
}

void TestTrainer::badInputBeforeTrainingLeavesNoRun() {
  auto p = dates_project();
  QVERIFY(p);
  auto c = small_run_config(p->dataset);
  c.train.max_steps = 3;
  const int64_t id = create_run(p->path, c, "doomed");
  QVERIFY(QFile::remove(q(p->data_path)));
  RunRecorder obs;
  const auto err = deeptune::test::input_error_of([&] { execute(*p, id, obs); });
  QVERIFY(err);
  QVERIFY2(std::string(err->what()).find(p->data_path) != std::string::npos, err->what());
  QVERIFY(obs.steps.empty());
  auto store = ProjectStore::open(p->path);
  QVERIFY(!store->run(id));
  QVERIFY(!fs::exists(fs::path(p->path).parent_path() / "test.runs" / "run-1"));
  QCOMPARE(int(store->datasets().size()), 1);
}

// A failure while training ends the run as failed with the reason stored and logged; a failed run
// that has a checkpoint continues from it, to the same end as an uninterrupted run.
void TestTrainer::failedRunIsRecordedAndResumable() {
  auto p = dates_project();
  QVERIFY(p);
  auto c = small_run_config(p->dataset);
  c.train.max_steps = 6;
  c.train.checkpoint_every = 2;
  RunRecorder plain;
  int64_t a = 0;
  QVERIFY(create_and_run(*p, c, plain, &a, "plain").status == RunStatus::kCompleted);

  class Exploding : public RunRecorder {
   public:
    void on_step(const StepMetrics& m) override {
      RunRecorder::on_step(m);
      if (m.step == 3) throw std::runtime_error("the observer exploded");
    }
  } obs;
  const int64_t id = create_run(p->path, c, "doomed");
  const auto outcome = execute(*p, id, obs);
  QVERIFY2(outcome.status == RunStatus::kFailed, qPrintable(outcome_text(outcome)));
  QCOMPARE(q(outcome.error), QStringLiteral("the observer exploded"));
  QVERIFY(!obs.states.empty() && obs.states.back().first == RunState::kFailed);
  {
    auto store = ProjectStore::open(p->path);
    const auto run = store->run(id);
    QVERIFY(run->status == RunStatus::kFailed);
    QCOMPARE(q(run->error_text), QStringLiteral("the observer exploded"));
    QCOMPARE(run->checkpoint_step, int64_t{2});
    QVERIFY(deeptune::is_resumable(*run));
    bool logged = false;
    for (const auto& l : store->logs(id))
      logged = logged || (l.level == "error" && l.text == outcome.error);
    QVERIFY(logged);
  }
  RunRecorder resumed;
  const auto again = execute(*p, id, resumed);
  QVERIFY2(again.status == RunStatus::kCompleted, qPrintable(outcome_text(again)));
  QCOMPARE(resumed.steps.front().step, int64_t{3});
  const auto la = metric(*p, a, "train/loss"), lb = metric(*p, id, "train/loss");
  QCOMPARE(lb.size(), la.size());
  for (size_t i = 0; i < la.size(); ++i) QCOMPARE(exact(lb[i].second), exact(la[i].second));
}

void TestTrainer::checkpointsHoldAdaptersAndStep() {
  auto p = dates_project();
  QVERIFY(p);
  auto c = small_run_config(p->dataset);
  c.train.max_steps = 12;
  c.train.checkpoint_every = 3;
  c.lora.targets = {"q_proj", "v_proj"};
  RunRecorder obs;
  int64_t id = 0;
  const auto outcome = create_and_run(*p, c, obs, &id);
  QVERIFY2(outcome.status == RunStatus::kCompleted, qPrintable(outcome_text(outcome)));
  // Checkpoints at 3, 6, 9, 12: the two newest stay, the older folders are gone with their rows.
  const std::string run_dir =
      fs::path(resolve(*p, artifacts_of(*p, id, "base_model").at(0).path)).parent_path().string();
  QVERIFY(!fs::exists(run_dir + "/checkpoint-3"));
  QVERIFY(!fs::exists(run_dir + "/checkpoint-6"));
  std::set<std::string> expected;
  for (int l = 0; l < 2; ++l)
    for (const char* proj : {"q_proj", "v_proj"})
      for (const char* ab : {"lora_A", "lora_B"})
        expected.insert("model.layers." + std::to_string(l) + ".self_attn." + proj + "." + ab +
                        ".weight");
  const auto ckpts = artifacts_of(*p, id, "checkpoint");
  QCOMPARE(int(ckpts.size()), 2);
  for (size_t i = 0; i < ckpts.size(); ++i) {
    const auto& a = ckpts[i];
    QCOMPARE(a.step, int64_t(9 + 3 * i));
    const std::string dir = resolve(*p, a.path);
    QCOMPARE(q(fs::path(dir).filename().string()), QString("checkpoint-%1").arg(a.step));
    const auto file = SafetensorsFile::read(dir + "/trainable.safetensors");
    QStringList names, want;
    for (const auto& t : file.tensors()) names << q(t.name);
    for (const auto& n : expected) want << q(n);
    names.sort();
    QCOMPARE(names, want);
    QCOMPARE(file.info("model.layers.1.self_attn.v_proj.lora_B.weight").shape,
             (std::vector<int64_t>{64, 8}));
    // The project pins state.json, which pins every other file.
    QCOMPARE(q(a.sha256), q(sha256_file(dir + "/state.json")));
    std::ifstream in(dir + "/state.json");
    QVERIFY(in.good());
    const auto state = nlohmann::json::parse(in);
    QCOMPARE(state.at("step").get<int64_t>(), a.step);
    for (const char* f : {"trainable.safetensors", "optimizer.safetensors", "rng.safetensors"})
      QCOMPARE(q(state.at("files").at(f).get<std::string>()), q(sha256_file(dir + "/" + f)));
    QVERIFY(!fs::exists(dir + ".partial"));
  }
  // Adapters moved away from their B = 0 start.
  const auto w = tensor_io::load(resolve(*p, ckpts.back().path) + "/trainable.safetensors");
  QVERIFY(w.at("model.layers.0.self_attn.q_proj.lora_B.weight").abs().max().item<float>() > 0.0f);
}

namespace {

// A run stopped at step 5 with checkpoints at 3 and 5, for tampering.
struct StoppedRun {
  std::unique_ptr<Project> p;
  int64_t id = 0;
  std::string dir, older;  // newest and previous checkpoint folders
  size_t metric_rows = 0;
};

StoppedRun stopped_run() {
  StoppedRun r;
  r.p = dates_project();
  auto c = small_run_config(r.p->dataset);
  c.train.max_steps = 8;
  c.train.checkpoint_every = 3;
  c.lora.dropout = 0.1;
  RunRecorder obs;
  obs.stop_at = 5;
  r.id = create_run(r.p->path, c, "stopped");
  execute(*r.p, r.id, obs);
  const auto ckpts = artifacts_of(*r.p, r.id, "checkpoint");
  r.dir = resolve(*r.p, ckpts.back().path);
  r.older = resolve(*r.p, ckpts.front().path);
  r.metric_rows = metric(*r.p, r.id, "train/loss").size();
  return r;
}

void flip_byte(const std::string& path, qint64 offset) {
  QFile f(q(path));
  QVERIFY(f.open(QIODevice::ReadWrite));
  QVERIFY(f.seek(std::min(offset, f.size() - 1)));
  char c = 0;
  QVERIFY(f.getChar(&c));
  QVERIFY(f.seek(std::min(offset, f.size() - 1)));
  QVERIFY(f.putChar(char(c ^ 0x01)));
}

// Resuming must be refused naming `file`, and leave the run as it was: stopped, its metrics and
// checkpoints in place.
void expect_refused_resume(StoppedRun& r, const QString& file, const QString& says) {
  RunRecorder obs;
  const auto err = deeptune::test::input_error_of([&] { execute(*r.p, r.id, obs); });
  QVERIFY2(err, "the resume was not refused");
  QVERIFY2(q(err->what()).contains(file), err->what());
  QVERIFY2(q(err->what()).contains(says), err->what());
  QVERIFY(obs.steps.empty());
  auto store = ProjectStore::open(r.p->path);
  const auto run = store->run(r.id);
  QVERIFY(run->status == RunStatus::kStopped);
  QVERIFY2(q(run->error_text).contains(file), run->error_text.c_str());
  QCOMPARE(metric(*r.p, r.id, "train/loss").size(), r.metric_rows);
  QCOMPARE(run->checkpoint_step, int64_t{5});
}

}  // namespace

void TestTrainer::tamperedCheckpointIsRefused_data() {
  QTest::addColumn<QString>("how");
  QTest::addColumn<QString>("file");
  for (const char* f :
       {"trainable.safetensors", "optimizer.safetensors", "rng.safetensors", "state.json"})
    QTest::newRow((QString("flipped byte in ") + f).toUtf8()) << "flip" << f;
  QTest::newRow("older trainable copied in") << "copy"
                                             << "trainable.safetensors";
  QTest::newRow("older optimizer copied in") << "copy"
                                             << "optimizer.safetensors";
  QTest::newRow("older state copied in") << "copy"
                                         << "state.json";
  QTest::newRow("folder missing") << "remove"
                                  << "";
}

void TestTrainer::tamperedCheckpointIsRefused() {
  QFETCH(QString, how);
  QFETCH(QString, file);
  auto r = stopped_run();
  QVERIFY(r.p);
  const std::string name = file.toStdString();
  if (how == "flip") flip_byte(r.dir + "/" + name, 300);
  // QFile and remove_tree, not std::filesystem: PyTorch's CUDA wheels export their own
  // std::filesystem symbols, and their remove_all crashes (seen with LibTorch 2.11).
  if (how == "copy") {
    QVERIFY(QFile::remove(q(r.dir + "/" + name)));
    QVERIFY(QFile::copy(q(r.older + "/" + name), q(r.dir + "/" + name)));
  }
  if (how == "remove") deeptune::remove_tree(r.dir);
  expect_refused_resume(r, how == "remove" ? q(r.dir) : q(r.dir + "/" + name),
                        how == "remove" ? "is missing" : "");
  // Export refuses the same checkpoint the same way.
  const auto err = deeptune::test::input_error_of([&] {
    ExportOptions o;
    o.format = ExportFormat::kPeft;
    export_run(r.p->path, "stopped", o, r.p->dir.path().toStdString() + "/out");
  });
  QVERIFY(err);
  QVERIFY2(q(err->what()).contains(q(r.dir)), err->what());
}

void TestTrainer::implausibleStateIsRefused_data() {
  QTest::addColumn<QString>("key");
  QTest::addColumn<qlonglong>("value");
  QTest::addColumn<QString>("says");
  QTest::newRow("step beyond the run") << "step" << 1000000000000LL << "outside the run's 0..8";
  QTest::newRow("negative step") << "step" << -1LL << "outside the run's";
  QTest::newRow("other step than recorded")
      << "step" << 4LL << "recorded this checkpoint at step 5";
  QTest::newRow("negative epoch") << "epoch" << -1LL << "is impossible";
  QTest::newRow("negative cursor") << "cursor" << -3LL << "is impossible";
  QTest::newRow("cursor beyond the data") << "cursor" << 100000LL << "is impossible";
  QTest::newRow("position not of this step") << "cursor" << 1LL << "does not follow from step 5";
}

// state.json passing the hash check (re-sealed, as a format-1 checkpoint would pass) is still
// checked against the run: a checkpoint cannot claim a step or data position the run never had.
void TestTrainer::implausibleStateIsRefused() {
  QFETCH(QString, key);
  QFETCH(qlonglong, value);
  QFETCH(QString, says);
  auto r = stopped_run();
  QVERIFY(r.p);
  auto state = nlohmann::json::parse(std::ifstream(r.dir + "/state.json"));
  state[key.toStdString()] = value;
  std::ofstream(r.dir + "/state.json", std::ios::trunc) << state.dump(2);
  reseal_checkpoint(*r.p, artifacts_of(*r.p, r.id, "checkpoint").back());
  expect_refused_resume(r, q(r.dir + "/state.json"), says);
}

// A stop requested right at a checkpoint step: one checkpoint, one row, one folder (it used to be
// written twice, with two rows on one folder).
void TestTrainer::stopOnCheckpointStepWritesItOnce() {
  auto p = dates_project();
  QVERIFY(p);
  auto c = small_run_config(p->dataset);
  c.train.max_steps = 8;
  c.train.checkpoint_every = 4;
  RunRecorder obs;
  obs.stop_at = 4;
  const int64_t id = create_run(p->path, c, "stop at 4");
  QVERIFY(execute(*p, id, obs).status == RunStatus::kStopped);
  QCOMPARE(obs.log_text().count("checkpoint saved at step 4"), 1);
  const auto ckpts = artifacts_of(*p, id, "checkpoint");
  QCOMPARE(int(ckpts.size()), 1);
  QCOMPARE(ckpts[0].step, int64_t{4});
  const fs::path run_dir = fs::path(resolve(*p, ckpts[0].path)).parent_path();
  QStringList entries;
  for (const auto& e : fs::directory_iterator(run_dir)) entries << q(e.path().filename().string());
  entries.sort();
  QCOMPARE(entries, (QStringList{"base", "checkpoint-4"}));
  // Resumed, it runs on and keeps the newest two, with one row per folder.
  RunRecorder resumed;
  QVERIFY(execute(*p, id, resumed).status == RunStatus::kCompleted);
  const auto after = artifacts_of(*p, id, "checkpoint");
  QCOMPARE(int(after.size()), 2);
  QCOMPARE(after[0].step + after[1].step, int64_t{4 + 8});
  QVERIFY(after[0].path != after[1].path);
}

void TestTrainer::lossScaleGrowsAndShrinks() {
  train::LossScale s;
  QCOMPARE(s.scale, 65536.0);
  QVERIFY(s.update(true));  // overflow: halve
  QCOMPARE(s.scale, 32768.0);
  for (int i = 0; i < train::LossScale::kGrowthInterval - 1; ++i) QVERIFY(!s.update(false));
  QVERIFY(s.update(false));  // the kGrowthInterval-th clean step in a row doubles it
  QCOMPARE(s.scale, 65536.0);
  // An overflow resets the count of clean steps.
  for (int i = 0; i < 10; ++i) s.update(false);
  s.update(true);
  for (int i = 0; i < train::LossScale::kGrowthInterval - 1; ++i) s.update(false);
  QCOMPARE(s.scale, 32768.0);
  // Floor and ceiling.
  for (int i = 0; i < 100; ++i) s.update(true);
  QCOMPARE(s.scale, train::LossScale::kMin);
  train::LossScale top;
  for (int i = 0; i < 20 * train::LossScale::kGrowthInterval; ++i) top.update(false);
  QCOMPARE(top.scale, train::LossScale::kMax);
}

// Weight decay on matrices only (the README's promise, PEFT's habit): norms, biases and other
// vectors are in a group without decay.
void TestTrainer::adamwDecaysMatricesOnly() {
  auto cfg = model::find_preset("tiny").config;
  cfg.attention_bias = true;  // biases must not decay either
  cfg.labels = {"a", "b"};
  model::Transformer m(cfg);
  model::init_weights(m, 1);
  lora::set_trainable(m, TrainMode::kFull);
  const auto groups = train::adamw_groups(m, 0.05);
  QCOMPARE(int(groups.size()), 2);
  std::map<const void*, std::string> names;
  for (const auto& p : m->named_parameters()) names[p.value().unsafeGetTensorImpl()] = p.key();
  int matrices = 0, vectors = 0;
  for (const auto& g : groups) {
    const double wd = static_cast<const torch::optim::AdamWOptions&>(g.options()).weight_decay();
    for (const auto& t : g.params()) {
      const std::string& name = names.at(t.unsafeGetTensorImpl());
      if (t.dim() >= 2) {
        QVERIFY2(wd == 0.05, name.c_str());
        ++matrices;
      } else {
        QVERIFY2(wd == 0.0, name.c_str());
        ++vectors;
      }
    }
  }
  QCOMPARE(matrices + vectors, int(m->parameters().size()));
  QVERIFY(vectors >= 2 * cfg.num_hidden_layers + 1 + 3 * cfg.num_hidden_layers);  // norms, biases
}

// Model summaries and exports computed on other threads while a run trains (what the workbench
// does when the user edits the Model page) leave the run's losses bit-identical.
void TestTrainer::sideWorkDoesNotChangeARun() {
  auto p = dates_project();
  QVERIFY(p);
  auto c = small_run_config(p->dataset);
  c.train.max_steps = 12;
  c.train.checkpoint_every = 4;
  c.lora.dropout = 0.2;  // dropout draws every step: a shifted generator would show
  RunRecorder quiet;
  int64_t a = 0;
  QVERIFY(create_and_run(*p, c, quiet, &a, "quiet").status == RunStatus::kCompleted);

  std::atomic<bool> done{false};
  std::atomic<int> side_jobs{0};
  std::thread side([&] {
    while (!done) {
      RunConfig other = c;
      other.lora.r = 4 + side_jobs % 5;
      other.lora.targets = {"q_proj", "k_proj", "up_proj"};
      summarize_model(other, 0, p->path);
      try {
        ExportOptions o;
        o.format = ExportFormat::kHfMerged;
        o.check = false;
        export_run(p->path, "quiet", o, p->dir.path().toStdString() + "/side-export");
      } catch (const std::exception&) {
      }
      ++side_jobs;
    }
  });
  RunRecorder busy;
  int64_t b = 0;
  const auto outcome = create_and_run(*p, c, busy, &b, "busy");
  done = true;
  side.join();
  QVERIFY(outcome.status == RunStatus::kCompleted);
  QVERIFY2(side_jobs > 0, "no side work ran during the run");
  QCOMPARE(busy.steps.size(), quiet.steps.size());
  for (size_t i = 0; i < quiet.steps.size(); ++i)
    QCOMPARE(exact(busy.steps[i].loss), exact(quiet.steps[i].loss));
}

QTEST_GUILESS_MAIN(TestTrainer)
#include "tst_trainer.moc"
