// Orchestrates a run for deeptune-cli and the workbench: validates the config against the project,
// prepares data and model, persists every event to the project file in batches, and turns any
// failure into a 'failed' run with its message stored. Also exports finished runs.
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "deeptune/data.h"
#include "deeptune/files.h"
#include "deeptune/session.h"
#include "deeptune/version.h"
#include "formats/hf_checkpoint.h"
#include "lora/lora.h"
#include "model/presets.h"
#include "session/session_internal.h"
#include "torch/compat.h"
#include "torch/tensor_io.h"
#include "train/trainer.h"

namespace fs = std::filesystem;

namespace deeptune {

std::string to_string(RunState s) {
  switch (s) {
    case RunState::kPreparing:
      return "preparing";
    case RunState::kRunning:
      return "running";
    case RunState::kPaused:
      return "paused";
    case RunState::kStopped:
      return "stopped";
    case RunState::kCompleted:
      return "completed";
    case RunState::kFailed:
      return "failed";
  }
  return "unknown";
}

namespace detail {

void adapt(model::Transformer& m, const RunConfig& c) {
  if (c.train.mode == TrainMode::kLora) lora::apply(m, c.lora);
  lora::set_trainable(m, c.train.mode);
}

std::string runs_folder(const ProjectStore& store, int64_t run_id) {
  const fs::path project(store.path());
  return (fs::path(store.directory()) / (project.stem().string() + ".runs") /
          ("run-" + std::to_string(run_id)))
      .string();
}

std::optional<ArtifactRecord> latest_artifact(const ProjectStore& store, int64_t run_id,
                                              const std::string& kind) {
  std::optional<ArtifactRecord> best;
  for (const auto& a : store.artifacts(run_id)) {
    if (a.kind != kind || !fs::exists(store.resolve(a.path))) continue;
    if (!best || a.step >= best->step) best = a;
  }
  return best;
}

model::Transformer load_run_model(const ProjectStore& store, const RunRecord& run,
                                  const RunConfig& c, std::string* checkpoint_dir) {
  const auto base = latest_artifact(store, run.id, "base_model");
  const auto ckpt = latest_artifact(store, run.id, "checkpoint");
  if (!base || !ckpt) throw InputError(run.name, "the run has no checkpoint yet; train it first");
  const std::string base_dir = store.resolve(base->path);
  model::Transformer m(hf::read_config(base_dir));
  hf::load_weights(m, base_dir);
  adapt(m, c);
  *checkpoint_dir = store.resolve(ckpt->path);
  train::load_trainable(*checkpoint_dir, m);
  return m;
}

}  // namespace detail

using detail::adapt;
using detail::latest_artifact;
using detail::runs_folder;

namespace {

constexpr const char* kPresetPrefix = "preset:";

constexpr const char* kRunPrefix = "run:";

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

std::string preset_name(const RunConfig& c) {
  const auto& src = c.model.source;
  if (!starts_with(src, kPresetPrefix))
    throw InputError("model.source", "'" + src + "' is not a preset");
  return src.substr(std::char_traits<char>::length(kPresetPrefix));
}

// A "run:NAME" source: the earlier run, which must have a checkpoint to start from.
RunRecord source_run(const ProjectStore& store, const RunConfig& c) {
  const std::string name = c.model.source.substr(std::char_traits<char>::length(kRunPrefix));
  const auto r = store.find_run(name);
  if (!r) throw InputError("model.source", "no run named '" + name + "' in the project");
  if (!latest_artifact(store, r->id, "checkpoint") || !latest_artifact(store, r->id, "base_model"))
    throw InputError("model.source", "run '" + name + "' has no checkpoint yet; train it first");
  return *r;
}

void apply_run_settings(model::LlamaConfig& cfg, const RunConfig& c,
                        const std::vector<std::string>& labels) {
  cfg.attention_kind = c.attention.kind;
  cfg.attention_temperature = c.attention.temperature;
  cfg.labels = labels;
  if (c.data.max_length > cfg.max_position_embeddings)
    cfg.max_position_embeddings = c.data.max_length;
}

// The model a config describes, freshly initialised from the seed (weights drawn in a fixed order
// from the default generator, so the same seed gives the same model).
model::Transformer build_preset_model(const RunConfig& c, const Tokenizer& tok,
                                      const std::vector<std::string>& labels) {
  auto cfg = model::find_preset(preset_name(c)).config;
  cfg.vocab_size = std::max<int64_t>(cfg.vocab_size, tok.vocab_size());
  cfg.bos_token_id = tok.bos_id();
  cfg.eos_token_id = tok.eos_id();
  cfg.pad_token_id = tok.pad_id();
  apply_run_settings(cfg, c, labels);
  torch::manual_seed(c.seed);
  model::Transformer m(cfg);
  model::init_weights(m);
  return m;
}

// An earlier run's final weights (its adapter merged in) as a fresh base. Parameters the new task
// has and the old one lacked (a classification head, or lm_head) start from the seed's init.
model::Transformer build_model_from_run(const ProjectStore& store, const RunConfig& c,
                                        const std::vector<std::string>& labels) {
  const RunRecord parent = source_run(store, c);
  const RunConfig pc =
      RunConfig::from_json(nlohmann::json::parse(parent.config_json), "run " + parent.name);
  const std::string base_dir = store.resolve(latest_artifact(store, parent.id, "base_model")->path);
  model::Transformer old(hf::read_config(base_dir));
  hf::load_weights(old, base_dir);
  adapt(old, pc);
  train::load_trainable(store.resolve(latest_artifact(store, parent.id, "checkpoint")->path), old);
  lora::merge(old);

  auto cfg = old->config();
  apply_run_settings(cfg, c, labels);
  torch::manual_seed(c.seed);
  model::Transformer m(cfg);
  model::init_weights(m);
  torch::NoGradGuard no_grad;
  const auto src = old->named_parameters();
  for (auto& p : m->named_parameters()) {
    const auto* from = src.find(p.key());
    if (from && from->sizes() == p.value().sizes()) p.value().copy_(*from);
  }
  return m;
}

std::unique_ptr<Tokenizer> tokenizer_for(const ProjectStore& store, const RunConfig& c) {
  if (starts_with(c.model.source, kRunPrefix)) {
    const RunRecord parent = source_run(store, c);
    return hf::read_tokenizer(store.resolve(latest_artifact(store, parent.id, "base_model")->path));
  }
  return std::make_unique<ByteTokenizer>();
}

torch::Device resolve_device(DeviceChoice choice) {
  if (choice == DeviceChoice::kCpu) return torch::kCPU;
  if (choice == DeviceChoice::kCuda) {
    if (!compat::cuda_available())
      throw InputError("device",
                       "cuda was requested but no CUDA device is available to this build "
                       "(LibTorch " +
                           torch_version() + ")");
    return torch::Device(torch::kCUDA, 0);
  }
  return compat::cuda_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
}

struct PreparedData {
  std::vector<Example> examples;
  MappingKind mapping;
  Split split;
  std::string sha256;
};

PreparedData load_dataset(const ProjectStore& store, const DatasetRecord& d, const RunConfig& c) {
  PreparedData p;
  const std::string path = store.resolve(d.path);
  const auto mapping = FieldMapping::from_json(nlohmann::json::parse(d.mapping_json));
  p.mapping = mapping.kind();
  const auto table = read_table(path, data_format_from_string(d.format));
  p.examples = map_examples(table, mapping, path);
  p.split = split_indices(p.examples.size(), c.data.val_fraction, c.seed);
  p.sha256 = sha256_file(path);
  return p;
}

DatasetRecord find_dataset_for(const ProjectStore& store, const RunConfig& c) {
  if (c.data.dataset.empty()) {
    const auto all = store.datasets();
    if (all.size() == 1) return all.front();
    throw InputError("data.dataset", all.empty()
                                         ? "the project has no dataset; add one with 'data add'"
                                         : "several datasets exist; name one in data.dataset");
  }
  auto d = store.find_dataset(c.data.dataset);
  if (!d)
    throw InputError("data.dataset", "no dataset named '" + c.data.dataset + "' in the project");
  return *d;
}

std::string host_name() {
  char buf[256] = {0};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

// Persists events to the project (batched: at most one transaction a second) and forwards them.
class PersistingObserver : public RunObserver {
 public:
  PersistingObserver(ProjectStore& store, int64_t run_id, RunObserver& next)
      : store_(store), run_id_(run_id), next_(next) {}
  ~PersistingObserver() override {
    try {
      flush();
    } catch (...) {
    }
  }

  void on_step(const StepMetrics& m) override {
    add(m.step, "train/loss", m.loss);
    add(m.step, "train/lr", m.lr);
    add(m.step, "train/grad_norm", m.grad_norm);
    add(m.step, "train/tokens_per_s", m.tokens_per_second);
    add(m.step, "train/epoch", m.epoch);
    step_ = m.step;
    next_.on_step(m);
    maybe_flush();
  }
  void on_eval(const EvalMetrics& m) override {
    add(m.step, "val/loss", m.loss);
    if (m.accuracy)
      add(m.step, "val/accuracy", *m.accuracy);
    else
      add(m.step, "val/perplexity", m.perplexity);
    next_.on_eval(m);
    maybe_flush();
  }
  void on_log(const LogLine& l) override {
    const char* level = l.level == LogLevel::kError     ? "error"
                        : l.level == LogLevel::kWarning ? "warning"
                                                        : "info";
    logs_.push_back({run_id_, utc_now_iso(), level, l.text});
    next_.on_log(l);
    maybe_flush();
  }
  void on_state(RunState s, const std::string& detail) override {
    flush();
    if (s == RunState::kPaused) store_.set_run_status(run_id_, RunStatus::kPaused);
    if (s == RunState::kRunning) store_.set_run_status(run_id_, RunStatus::kRunning);
    next_.on_state(s, detail);
  }
  void flush() {
    if (!points_.empty()) store_.append_metrics(points_);
    if (!logs_.empty()) store_.append_logs(logs_);
    points_.clear();
    logs_.clear();
    store_.heartbeat(run_id_, step_);
    last_flush_ = std::chrono::steady_clock::now();
  }

 private:
  void add(int64_t step, const char* name, double v) {
    points_.push_back({run_id_, step, name, v});
  }
  void maybe_flush() {
    if (std::chrono::steady_clock::now() - last_flush_ >= std::chrono::seconds(1)) flush();
  }
  ProjectStore& store_;
  int64_t run_id_;
  RunObserver& next_;
  int64_t step_ = 0;
  std::vector<MetricPoint> points_;
  std::vector<LogRecord> logs_;
  std::chrono::steady_clock::time_point last_flush_ = std::chrono::steady_clock::now();
};

class StoreCheckpointSink : public train::CheckpointSink {
 public:
  StoreCheckpointSink(ProjectStore& store, int64_t run_id, PersistingObserver& obs)
      : store_(store), run_id_(run_id), obs_(obs) {}
  std::string directory_for(int64_t step) override {
    return (fs::path(runs_folder(store_, run_id_)) / ("checkpoint-" + std::to_string(step)))
        .string();
  }
  void saved(int64_t step, const std::string& dir) override {
    obs_.flush();  // metrics up to the checkpoint are on disk before the checkpoint is recorded
    ArtifactRecord a;
    a.run_id = run_id_;
    a.kind = "checkpoint";
    a.path = store_.relativize(dir);
    a.sha256 = sha256_file((fs::path(dir) / "trainable.safetensors").string());
    a.step = step;
    store_.add_artifact(a);
    prune();
  }

 private:
  // Keeps the newest kKeep checkpoints of the run: enough to resume even if the newest one turns
  // out unreadable, without a full fine-tune of a large model filling the disk (each checkpoint
  // holds the weights and two optimizer moments).
  void prune() {
    constexpr size_t kKeep = 2;
    std::vector<ArtifactRecord> checkpoints;
    for (auto& a : store_.artifacts(run_id_))
      if (a.kind == "checkpoint") checkpoints.push_back(std::move(a));
    std::sort(checkpoints.begin(), checkpoints.end(),
              [](const ArtifactRecord& x, const ArtifactRecord& y) { return x.step > y.step; });
    for (size_t i = kKeep; i < checkpoints.size(); ++i) {
      store_.remove_artifact(
          checkpoints[i].id);  // the row first: no row ever points at a half-deleted folder
      remove_tree(store_.resolve(checkpoints[i].path));
    }
  }

  ProjectStore& store_;
  int64_t run_id_;
  PersistingObserver& obs_;
};

nlohmann::json final_metrics(const train::Trainer& t) {
  nlohmann::json j = {{"steps", t.step()}, {"train_loss", t.last_train_loss()}};
  if (const auto& e = t.last_eval()) {
    j["val_loss"] = e->loss;
    if (e->accuracy)
      j["val_accuracy"] = *e->accuracy;
    else
      j["val_perplexity"] = e->perplexity;
  }
  return j;
}

}  // namespace

int64_t create_run(const std::string& project_path, const RunConfig& config,
                   const std::string& name) {
  auto store = ProjectStore::open(project_path);
  RunConfig c = config;
  std::optional<int64_t> r_parent;
  const auto dataset = find_dataset_for(*store, c);
  c.data.dataset = dataset.name;
  if (starts_with(c.model.source, kRunPrefix)) {
    const RunRecord parent = source_run(*store, c);
    r_parent = parent.id;
  } else {
    model::find_preset(preset_name(c));
  }
  const auto kind = FieldMapping::from_json(nlohmann::json::parse(dataset.mapping_json)).kind();
  if ((c.model.task == Task::kClassification) != (kind == MappingKind::kTextLabel))
    throw InputError(
        "model.task",
        c.model.task == Task::kClassification
            ? "classification needs a dataset mapped as text + label; '" + dataset.name + "' is not"
            : "dataset '" + dataset.name +
                  "' is mapped as text + label: set model.task=classification");
  RunRecord r;
  r.name = name.empty() ? store->unique_run_name("run") : name;
  r.config_json = c.to_json().dump();
  r.status = RunStatus::kCreated;
  r.parent_run_id = r_parent;
  r.dataset_id = dataset.id;
  r.dataset_sha256 = dataset.sha256;
  r.seed = c.seed;
  r.engine_version = engine_version();
  r.torch_version = torch_version();
  r.max_steps = c.train.max_steps;
  return store->create_run(r);
}

void delete_run(const std::string& project_path, int64_t run_id) {
  auto store = ProjectStore::open(project_path);  // marks runs of dead processes interrupted
  const auto r = store->run(run_id);
  if (!r) throw InputError(project_path, "no run with id " + std::to_string(run_id));
  if (r->status == RunStatus::kRunning || r->status == RunStatus::kPaused)
    throw InputError(r->name, "is " + to_string(r->status) +
                                  " in a live process; stop it before deleting it");
  store->delete_run(run_id);
  remove_tree(runs_folder(*store, run_id));
}

RunOutcome execute_run(const std::string& project_path, int64_t run_id, RunObserver& observer,
                       RunControl& control) {
  // One LibTorch (OpenMP) thread unless the user pins a count: the matrix products run in
  // OpenBLAS's own threads on every core, and a second pool spinning on the same cores slowed the
  // sample's steps by 1.7x on a 2-core machine (60 steps: 14.0 s vs 23.6 s, 12 s of it in the
  // kernel).
  if (!std::getenv("OMP_NUM_THREADS")) torch::set_num_threads(1);
  auto store = ProjectStore::open(project_path);
  auto record = store->run(run_id);
  if (!record) throw InputError(project_path, "no run with id " + std::to_string(run_id));
  if (record->status == RunStatus::kCompleted)
    throw InputError(record->name, "the run has already completed");
  if (record->status == RunStatus::kRunning)
    throw InputError(record->name,
                     "the run is already running (process " + std::to_string(record->pid) + ")");
  const bool resuming = record->status != RunStatus::kCreated;

  PersistingObserver persist(*store, run_id, observer);
  RunOutcome outcome;
  std::unique_ptr<StoreCheckpointSink> sink;
  std::unique_ptr<train::Trainer> trainer;
  try {
    persist.on_state(RunState::kPreparing, resuming ? "resuming" : "preparing");
    const RunConfig c =
        RunConfig::from_json(nlohmann::json::parse(record->config_json), "run " + record->name);
    const torch::Device device = resolve_device(c.device);
    const auto dataset = find_dataset_for(*store, c);
    auto data = load_dataset(*store, dataset, c);
    if (!record->dataset_sha256.empty() && data.sha256 != record->dataset_sha256)
      persist.on_log(
          {resuming ? LogLevel::kError : LogLevel::kWarning,
           "dataset file " + store->resolve(dataset.path) + " changed since the run was created"});
    if (resuming && !record->dataset_sha256.empty() && data.sha256 != record->dataset_sha256)
      throw InputError(store->resolve(dataset.path),
                       "changed since the run started; it cannot be resumed exactly");
    const auto tok_ptr = tokenizer_for(*store, c);
    const Tokenizer& tok = *tok_ptr;
    auto encoded = train::encode(data.examples, data.split, data.mapping, c.model.task, tok,
                                 c.data.max_length);
    if (encoded.truncated)
      persist.on_log({LogLevel::kInfo, std::to_string(encoded.truncated) +
                                           " examples truncated to data.max_length = " +
                                           std::to_string(c.data.max_length)});
    if (encoded.dropped)
      persist.on_log({LogLevel::kWarning, std::to_string(encoded.dropped) +
                                              " examples dropped: prompt fills data.max_length"});

    // Base model: a resumed run reloads the exact base it started from.
    model::Transformer m{nullptr};
    const auto base = latest_artifact(*store, run_id, "base_model");
    const auto ckpt = resuming ? latest_artifact(*store, run_id, "checkpoint") : std::nullopt;
    if (base && ckpt) {
      m = model::Transformer(hf::read_config(store->resolve(base->path)));
      hf::load_weights(m, store->resolve(base->path));
    } else {
      m = starts_with(c.model.source, kRunPrefix) ? build_model_from_run(*store, c, encoded.labels)
                                                  : build_preset_model(c, tok, encoded.labels);
      const std::string dir = (fs::path(runs_folder(*store, run_id)) / "base").string();
      hf::save(dir, m, tok);
      ArtifactRecord a;
      a.run_id = run_id;
      a.kind = "base_model";
      a.path = store->relativize(dir);
      a.sha256 = sha256_file((fs::path(dir) / "model.safetensors").string());
      store->add_artifact(a);
    }
    adapt(m, c);
    m->to(device);
    const auto counts = lora::count_parameters(m);
    persist.on_log({LogLevel::kInfo,
                    "model: " + std::to_string(counts.total) + " parameters, " +
                        std::to_string(counts.trainable) + " trainable (" +
                        std::to_string(100.0 * counts.trainable_share()).substr(0, 6) + "%)"});
    sink = std::make_unique<StoreCheckpointSink>(*store, run_id, persist);
    trainer = std::make_unique<train::Trainer>(c, m, std::move(encoded), device, tok.pad_id(),
                                               persist, control, *sink);
    if (ckpt) {
      trainer->restore(store->resolve(ckpt->path));
      store->truncate_metrics(run_id, trainer->step());
      persist.on_log(
          {LogLevel::kInfo, "resuming from checkpoint at step " + std::to_string(trainer->step())});
    } else if (resuming) {
      store->truncate_metrics(run_id, 0);
      persist.on_log(
          {LogLevel::kWarning, "no checkpoint found: starting the run again from step 0"});
    }
    store->mark_run_started(run_id, compat::device_name(device), getpid(), host_name());
    persist.on_log({LogLevel::kInfo, "training on " + compat::device_name(device) +
                                         " with LibTorch " + torch_version()});
    outcome.status = trainer->run();
    outcome.last_step = trainer->step();
    persist.flush();
    store->finish_run(run_id, outcome.status, final_metrics(*trainer).dump(), "");
    persist.on_state(
        outcome.status == RunStatus::kCompleted ? RunState::kCompleted : RunState::kStopped,
        "step " + std::to_string(outcome.last_step));
  } catch (const Error& e) {
    outcome.status = RunStatus::kFailed;
    outcome.error = e.what();
    outcome.error_kind = e.kind();
  } catch (const c10::Error& e) {
    outcome.status = RunStatus::kFailed;
    outcome.error = e.what_without_backtrace();
  } catch (const std::exception& e) {
    outcome.status = RunStatus::kFailed;
    outcome.error = e.what();
  }
  if (outcome.status == RunStatus::kFailed) {
    if (trainer) outcome.last_step = trainer->step();
    try {
      persist.on_log({LogLevel::kError, outcome.error});
      persist.flush();
      store->finish_run(run_id, RunStatus::kFailed, trainer ? final_metrics(*trainer).dump() : "",
                        outcome.error);
    } catch (const std::exception&) {
      // The project file itself is failing; the outcome still carries the message.
    }
    observer.on_state(RunState::kFailed, outcome.error);
  }
  return outcome;
}

ModelSummary summarize_model(const RunConfig& config, int num_labels,
                             const std::string& project_path) {
  std::vector<std::string> labels;
  for (int i = 0; i < num_labels; ++i) labels.push_back("class" + std::to_string(i));
  model::Transformer m{nullptr};
  ModelSummary s;
  if (starts_with(config.model.source, kRunPrefix)) {
    if (project_path.empty())
      throw InputError("model.source", "a run:NAME source needs the project it belongs to");
    auto store = ProjectStore::open(project_path);
    m = build_model_from_run(*store, config, labels);
    s.description = "final weights of " +
                    config.model.source.substr(std::char_traits<char>::length(kRunPrefix));
  } else {
    ByteTokenizer tok;
    m = build_preset_model(config, tok, labels);
    s.description = model::find_preset(preset_name(config)).description;
  }
  s.target_choices = lora::target_choices(m);
  if (config.train.mode == TrainMode::kLora) s.adapted_modules = lora::apply(m, config.lora);
  lora::set_trainable(m, config.train.mode);
  const auto counts = lora::count_parameters(m);
  s.total_parameters = counts.total;
  s.trainable_parameters = counts.trainable;
  s.trainable_share = counts.trainable_share();
  return s;
}

std::vector<std::pair<std::string, std::string>> model_presets() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& p : model::presets()) out.emplace_back(p.name, p.description);
  return out;
}

}  // namespace deeptune
