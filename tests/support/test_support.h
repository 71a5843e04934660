// Helpers shared by the engine test suites: string conversion, catching an expected InputError,
// an observer that records a run, and the small CPU-sized run config the trainer suites start
// from. Header-only and LibTorch-free, so every suite can include it.
#pragma once

#include <QString>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "deeptune/config.h"
#include "deeptune/data.h"
#include "deeptune/error.h"
#include "deeptune/session.h"
#include "deeptune/store.h"

namespace deeptune::test {

inline QString q(const std::string& s) {
  return QString::fromStdString(s);
}

// The InputError `f` throws, or nothing when it returns normally.
template <typename F>
std::optional<InputError> input_error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e;
  }
  return std::nullopt;
}

// Records everything a run reports; can request a stop after a given step.
class RunRecorder : public RunObserver {
 public:
  void on_step(const StepMetrics& m) override {
    steps.push_back(m);
    if (control && m.step == stop_at) control->request_stop();
  }
  void on_eval(const EvalMetrics& m) override { evals.push_back(m); }
  void on_log(const LogLine& l) override { logs.push_back(l); }
  void on_state(RunState s, const std::string& detail) override { states.emplace_back(s, detail); }

  std::vector<double> losses() const {
    std::vector<double> out;
    for (const auto& s : steps) out.push_back(s.loss);
    return out;
  }
  QString log_text() const {
    QString out;
    for (const auto& l : logs) out += q(l.text) + "\n";
    return out;
  }

  std::vector<StepMetrics> steps;
  std::vector<EvalMetrics> evals;
  std::vector<LogLine> logs;
  std::vector<std::pair<RunState, std::string>> states;
  RunControl* control = nullptr;
  int64_t stop_at = -1;
};

// preset:tiny on short sequences with small batches: a step takes milliseconds on a CPU.
inline RunConfig small_run_config(const std::string& dataset,
                                  DeviceChoice device = DeviceChoice::kCpu) {
  RunConfig c;
  c.seed = 42;
  c.device = device;
  c.data.dataset = dataset;
  c.data.max_length = 48;
  c.data.val_fraction = 0.1;
  c.model.source = "preset:tiny";
  c.train.batch_size = 8;
  c.train.micro_batch_size = 4;
  c.train.lr = 3e-3;
  c.train.max_steps = 30;
  c.train.warmup_steps = 2;
  c.train.eval_every = 0;
  c.train.checkpoint_every = 0;
  c.lora.r = 8;
  c.lora.alpha = 16;
  c.lora.dropout = 0.0;
  return c;
}

// A new project at `project_path` with one prompt/response dataset "pairs" of `rows` counting
// exercises ("Count 7: " -> "8 9 10"), written beside it: what generation and export suites
// train their runs on.
inline void make_counting_project(const std::string& project_path, int rows = 40) {
  const std::string data =
      (std::filesystem::path(project_path).parent_path() / "pairs.jsonl").string();
  {
    std::ofstream out(data, std::ios::binary);
    for (int i = 0; i < rows; ++i)
      out << "{\"prompt\": \"Count " << i << ": \", \"response\": \"" << i + 1 << " " << i + 2
          << " " << i + 3 << "\"}\n";
  }
  auto store = ProjectStore::create(project_path, "counting");
  FieldMapping mapping;
  mapping.prompt = "prompt";
  mapping.response = "response";
  DatasetRecord d;
  d.name = "pairs";
  d.path = "pairs.jsonl";
  d.format = "jsonl";
  d.mapping_json = mapping.to_json().dump();
  d.sha256 = sha256_file(data);
  d.rows = rows;
  store->add_dataset(d);
}

}  // namespace deeptune::test
