// Running a run for deeptune-cli and the workbench, in the steps it reads as: claim the run for
// this process, prepare its data, prepare its model, train, finish. Every event is persisted to
// the project file in batches; a failure after the claim ends the run as 'failed' (or
// 'interrupted' when the disk filled) with its message stored. Also creating and deleting runs.
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "core/enum_names.h"
#include "deeptune/data.h"
#include "deeptune/files.h"
#include "deeptune/session.h"
#include "deeptune/text.h"
#include "deeptune/version.h"
#include "formats/hf_checkpoint.h"
#include "lora/lora.h"
#include "session/session_internal.h"
#include "torch/compat.h"
#include "train/trainer.h"

namespace fs = std::filesystem;

namespace deeptune {

namespace {
constexpr EnumName<RunState> kStateNames[] = {
    {RunState::kPreparing, "preparing"}, {RunState::kRunning, "running"},
    {RunState::kPaused, "paused"},       {RunState::kStopped, "stopped"},
    {RunState::kCompleted, "completed"}, {RunState::kFailed, "failed"},
};
}  // namespace

std::string to_string(RunState s) {
  return name_of(kStateNames, s);
}

namespace {

using detail::kRunPrefix;

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

// The device a config runs on, refusing what that device cannot compute.
torch::Device checked_device(const RunConfig& c) {
  const torch::Device device = resolve_device(c.device);
  if (c.train.precision == Precision::kFp16 && !device.is_cuda())
    throw InputError(
        "train.precision",
        "fp16 needs a CUDA device; this run would train on the CPU (use bf16 or fp32)");
  const auto dtype = c.train.precision == Precision::kBf16   ? torch::kBFloat16
                     : c.train.precision == Precision::kFp16 ? torch::kHalf
                                                             : torch::kFloat;
  if (!compat::autocast_supported(device, dtype))
    throw InputError("train.precision", "this device cannot compute in " +
                                            to_string(c.train.precision) + " with LibTorch " +
                                            torch_version());
  return device;
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

FieldMapping mapping_of(const DatasetRecord& d) {
  try {
    return FieldMapping::from_json(nlohmann::json::parse(d.mapping_json));
  } catch (const nlohmann::json::exception& e) {
    throw InputError("dataset " + d.name,
                     std::string("stored field mapping is not valid JSON: ") + e.what());
  }
}

void check_task_fits(const RunConfig& c, const DatasetRecord& dataset) {
  const auto kind = mapping_of(dataset).kind();
  if ((c.model.task == Task::kClassification) != (kind == MappingKind::kTextLabel))
    throw InputError(
        "model.task",
        c.model.task == Task::kClassification
            ? "classification needs a dataset mapped as text + label; '" + dataset.name + "' is not"
            : "dataset '" + dataset.name +
                  "' is mapped as text + label: set model.task=classification");
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
    if (m.skipped_steps > 0) add(m.step, "train/skipped_steps", double(m.skipped_steps));
    if (m.lr_scale != 1.0) add(m.step, "train/lr_scale", m.lr_scale);
    add(m.step, "train/loss", m.loss);
    add(m.step, "train/lr", m.lr);
    add(m.step, "train/grad_norm", m.grad_norm);
    add(m.step, "train/tokens_per_s", m.tokens_per_second);
    add(m.step, "train/epoch", m.epoch);
    const MemorySample& mem = m.memory;
    add(m.step, "memory/base_weights", double(mem.base_weights));
    add(m.step, "memory/trainable_weights", double(mem.trainable_weights));
    add(m.step, "memory/gradients", double(mem.gradients));
    add(m.step, "memory/optimizer_state", double(mem.optimizer_state));
    add(m.step, "memory/resident", double(mem.resident));
    if (m.out_of_memory_retries > 0) add(m.step, "memory/out_of_memory", double(m.micro_batch));
    if (mem.peak_allocated > 0) {  // CUDA's allocator, or the step's counted CPU allocations
      add(m.step, "memory/allocated", double(mem.allocated));
      add(m.step, "memory/peak_allocated", double(mem.peak_allocated));
      add(m.step, "memory/activations", double(mem.activations()));
    }
    if (mem.device_total > 0) {  // CUDA
      add(m.step, "memory/reserved", double(mem.reserved));
      add(m.step, "memory/device_used", double(mem.device_used));
      add(m.step, "memory/device_total", double(mem.device_total));
    }
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
    if (closed_) return;
    if (s == RunState::kPaused) store_.set_run_status(run_id_, RunStatus::kPaused);
    if (s == RunState::kRunning) store_.set_run_status(run_id_, RunStatus::kRunning);
    next_.on_state(s, detail);
  }
  void on_rollback(int64_t step) override {
    // What was recorded after the checkpoint is replaced by the steps run again.
    points_.erase(std::remove_if(points_.begin(), points_.end(),
                                 [&](const MetricPoint& p) { return p.step > step; }),
                  points_.end());
    maps_.erase(std::remove_if(maps_.begin(), maps_.end(),
                               [&](const AttentionMapRecord& m) { return m.step > step; }),
                maps_.end());
    if (!closed_) {
      store_.truncate_metrics(run_id_, step);
      store_.truncate_attention(run_id_, step);
    }
    step_ = step;
    next_.on_rollback(step);
  }
  void on_attention(const AttentionSnapshot& a) override {
    for (auto& m : to_map_records(a, run_id_)) maps_.push_back(std::move(m));
    next_.on_attention(a);
    maybe_flush();
  }
  void set_step(int64_t step) { step_ = step; }
  // Drops what is buffered and writes nothing more (the run is being removed or put back).
  void discard() {
    points_.clear();
    logs_.clear();
    maps_.clear();
    closed_ = true;
  }
  void flush() {
    if (closed_) return;
    if (!points_.empty()) store_.append_metrics(points_);
    if (!logs_.empty()) store_.append_logs(logs_);
    if (!maps_.empty()) store_.append_attention_maps(maps_);
    points_.clear();
    logs_.clear();
    maps_.clear();
    store_.heartbeat(run_id_, step_);
    last_flush_ = std::chrono::steady_clock::now();
  }

 private:
  void add(int64_t step, const char* name, double v) {
    if (std::isfinite(v)) points_.push_back({run_id_, step, name, v});  // a skipped step's loss
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
  std::vector<AttentionMapRecord> maps_;
  std::chrono::steady_clock::time_point last_flush_ = std::chrono::steady_clock::now();
  bool closed_ = false;
};

// Records checkpoints in the project (one row per folder) and keeps the newest kKeep.
class StoreCheckpointSink : public train::CheckpointSink {
 public:
  StoreCheckpointSink(ProjectStore& store, int64_t run_id, PersistingObserver& obs)
      : store_(store), run_id_(run_id), obs_(obs) {}
  std::string directory_for(int64_t step) override {
    return (fs::path(detail::runs_folder(store_, run_id_)) / ("checkpoint-" + std::to_string(step)))
        .string();
  }
  void saved(int64_t step, const std::string& dir, const std::string& sha256) override {
    obs_.flush();  // metrics up to the checkpoint are on disk before the checkpoint is recorded
    ArtifactRecord a;
    a.run_id = run_id_;
    a.kind = "checkpoint";
    a.path = dir;
    a.sha256 = sha256;
    a.step = step;
    store_.add_artifact(a);
    prune();
  }
  void still_alive() override { obs_.flush(); }  // flush() records the heartbeat

 private:
  // Keeps the newest kKeep checkpoints of the run: enough to resume even if the newest one turns
  // out unreadable, without a full fine-tune of a large model filling the disk (each checkpoint
  // holds the weights and two optimizer moments). Rows are unique per folder, so removing an old
  // row's folder never takes one a kept row points to.
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

// One execution of a run, step by step (see the file comment). Until the trainer starts, a
// failure changes nothing the user keeps: a new run is removed again, a resumed one returns to
// the status it had, and the error is thrown. After that it is recorded with the run.
class RunExecution {
 public:
  RunExecution(std::unique_ptr<ProjectStore> store, int64_t run_id, RunObserver& observer,
               RunControl& control)
      : store_(std::move(store)),
        run_id_(run_id),
        observer_(observer),
        control_(control),
        persist_(*store_, run_id, observer) {}

  RunOutcome run() {
    claim();
    try {
      persist_.on_state(RunState::kPreparing, resuming() ? "resuming" : "preparing");
      clean_run_folder();
      prepare_data();
      prepare_model();
      start_trainer();
    } catch (const std::exception& e) {
      refuse_start(e);
      throw;
    }
    return train();
  }

 private:
  bool resuming() const { return before_.status != RunStatus::kCreated; }
  std::string folder() const { return detail::runs_folder(*store_, run_id_); }

  // 1. The run becomes ours, atomically, or we leave without having touched it.
  void claim() {
    before_ = store_->claim_run(run_id_, getpid(), local_host_name());
    persist_.set_step(before_.last_step);
  }

  // What an earlier process left behind: half-written checkpoints and temp files, checkpoint
  // folders the project never recorded, a base folder without its record.
  void clean_run_folder() {
    const std::string dir = folder();
    std::error_code ec;
    if (!fs::exists(dir, ec)) return;
    for (const auto& name : remove_stale_temporaries(dir, /*with_partials=*/true))
      persist_.on_log({LogLevel::kInfo, "removed " + name + " left by an interrupted process"});
    std::vector<std::string> recorded;
    for (const auto& a : store_->artifacts(run_id_)) recorded.push_back(store_->resolve(a.path));
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string path = it->path().lexically_normal().string();
      const std::string name = it->path().filename().string();
      const bool ours =
          starts_with(name, "checkpoint-") || name == "base" || name == detail::kBaseReferenceFile;
      if (!ours || std::find(recorded.begin(), recorded.end(), path) != recorded.end()) continue;
      remove_tree(path);
      persist_.on_log({LogLevel::kInfo, "removed " + name + ": the project has no record of it"});
    }
  }

  // 2. Config, device, dataset (verified against the hash the run was created with), tokens.
  void prepare_data() {
    config_ = detail::run_config(before_);
    device_ = checked_device(config_);
    const auto dataset = find_dataset_for(*store_, config_);
    check_task_fits(config_, dataset);
    const std::string path = store_->resolve(dataset.path);
    const std::string sha = sha256_file(path);
    if (!before_.dataset_sha256.empty() && sha != before_.dataset_sha256)
      throw InputError(path, resuming()
                                 ? "changed since the run started; it cannot be resumed exactly"
                                 : "changed since the run was created; start a new run");
    const auto table = read_table(path, data_format_from_string(dataset.format));
    const auto examples = map_examples(table, mapping_of(dataset), path);
    const Split split = split_indices(examples.size(), config_.data.val_fraction, config_.seed);
    const bool has_base = detail::newest_artifact(*store_, run_id_, "base_model").has_value();
    tokenizer_ = has_base ? detail::load_tokenizer(*store_, before_)
                          : detail::start_tokenizer(*store_, config_, before_.parent_run_id);
    encoded_ = train::encode(examples, split, mapping_of(dataset).kind(), config_.model.task,
                             *tokenizer_, config_.data.max_length, config_.data.chat_template);
    if (!encoded_.chat_note.empty()) persist_.on_log({LogLevel::kInfo, encoded_.chat_note});
    if (encoded_.truncated)
      persist_.on_log({LogLevel::kInfo, std::to_string(encoded_.truncated) +
                                            " examples truncated to data.max_length = " +
                                            std::to_string(config_.data.max_length)});
    if (encoded_.dropped)
      persist_.on_log({LogLevel::kWarning, std::to_string(encoded_.dropped) +
                                               " examples dropped: prompt fills data.max_length"});
    resolve_probes(examples, split, mapping_of(dataset).kind());
  }

  // The probes' token ids (texts as BOS + text, rows as the trainer encodes them; with neither,
  // the first validation row, else the first row), recorded in the project with their tokens.
  void resolve_probes(const std::vector<Example>& examples, const Split& split, MappingKind kind) {
    probes_.clear();
    if (config_.probe.attention_every <= 0) return;
    std::vector<AttentionProbeRecord> records;
    auto add = [&](std::vector<int32_t> ids, std::string source) {
      if (ids.size() > size_t(config_.data.max_length)) ids.resize(size_t(config_.data.max_length));
      AttentionProbeRecord r;
      r.run_id = run_id_;
      r.probe = static_cast<int>(probes_.size());
      r.source = std::move(source);
      for (int32_t id : ids) r.tokens.push_back(tokenizer_->token_text(id));
      r.ids = ids;
      records.push_back(std::move(r));
      probes_.push_back(std::move(ids));
    };
    for (const auto& text : config_.probe.text) {
      std::vector<int32_t> ids;
      if (tokenizer_->adds_bos() && tokenizer_->bos_id() >= 0) ids.push_back(tokenizer_->bos_id());
      const auto body = tokenizer_->encode(text);
      ids.insert(ids.end(), body.begin(), body.end());
      add(std::move(ids), "text");
    }
    auto row = [&](size_t index, const std::string& source) {
      const auto one =
          train::encode({examples.at(index)}, Split{{0}, {}}, kind, config_.model.task, *tokenizer_,
                        config_.data.max_length, config_.data.chat_template);
      if (one.train.empty())
        throw InputError("probe.rows", "row " + std::to_string(index) +
                                           " has nothing left to read after truncation to "
                                           "data.max_length");
      add(one.train[0].ids, source);
    };
    for (const auto& text : config_.probe.rows) {
      const size_t index = std::stoull(text);
      if (index >= examples.size())
        throw InputError("probe.rows", "row " + text + " is past the dataset's " +
                                           std::to_string(examples.size()) + " rows");
      row(index, "row " + text);
    }
    if (probes_.empty() && !examples.empty()) {
      const bool val = !split.val.empty();
      const size_t index = val ? split.val.front() : split.train.front();
      row(index, "row " + std::to_string(index) + (val ? " (validation)" : ""));
    }
    store_->put_attention_probes(records);
  }

  // 3. The base it trains on: the one its base artifact holds (verified), or, for a run that
  // has none yet, the start model, saved durably before it is recorded.
  void prepare_model() {
    if (detail::newest_artifact(*store_, run_id_, "base_model")) {
      model_ = detail::load_base(*store_, before_, config_);
      check_vocabulary();
    } else {
      std::string origin;
      model_ = detail::build_start_model(*store_, config_, before_.parent_run_id, encoded_.labels,
                                         &origin);
      check_vocabulary();
      if (detail::is_folder_source(config_)) {
        // An imported base is referenced, not copied: its files are hashed once and checked on
        // resume and export (an 8B model would otherwise cost 32 GB per run).
        store_->add_artifact(detail::write_base_reference(
            *store_, run_id_, detail::source_folder(config_), encoded_.labels));
        fsync_directory(folder());
        persist_.on_log({LogLevel::kInfo, "base model: " + origin + ", referenced"});
        detail::adapt(model_, config_);
        train::place_for_training(model_, config_, device_);
        log_parameter_counts();
        return;
      }
      const fs::path base = fs::path(folder()) / "base";
      const fs::path partial = base.string() + ".partial";
      remove_tree(partial.string());
      ArtifactRecord a;
      a.run_id = run_id_;
      a.kind = "base_model";
      a.sha256 = hf::save(partial.string(), model_, *tokenizer_);
      remove_tree(base.string());
      fs::rename(partial, base);
      fsync_directory(folder());
      a.path = base.string();
      store_->add_artifact(a);
      persist_.on_log({LogLevel::kInfo, "base model: " + origin});
      detail::adapt(model_, config_);
    }
    train::place_for_training(model_, config_, device_);
    log_parameter_counts();
  }

  // A tokenizer with ids the embedding has no row for would fail mid-step; models often have
  // more rows than tokens (padding to a multiple), never fewer.
  void check_vocabulary() {
    const int64_t rows = model_->config().vocab_size;
    if (tokenizer_->vocab_size() > rows)
      throw InputError(detail::is_folder_source(config_)
                           ? detail::source_folder(config_) + "/tokenizer.json"
                           : std::string("tokenizer"),
                       "has " + std::to_string(tokenizer_->vocab_size()) +
                           " tokens but the model's vocab_size (config.json) is " +
                           std::to_string(rows) + ": they do not belong together");
  }

  void log_parameter_counts() {
    const auto counts = lora::count_parameters(model_);
    persist_.on_log({LogLevel::kInfo,
                     "model: " + std::to_string(counts.total) + " parameters, " +
                         std::to_string(counts.trainable) + " trainable (" +
                         std::to_string(100.0 * counts.trainable_share()).substr(0, 6) + "%)"});
  }

  // 4. The trainer, continued from the newest checkpoint (verified) when there is one.
  void start_trainer() {
    if (config_.train.micro_batch_size == kAutoMicroBatch) {
      const MemoryForecast f = detail::forecast_for(model_->config(), config_);
      config_.train.micro_batch_size = int(std::max<int64_t>(1, f.max_micro_batch));
      persist_.on_log(
          {f.max_micro_batch > 0 ? LogLevel::kInfo : LogLevel::kWarning,
           "micro-batch auto: " + std::to_string(config_.train.micro_batch_size) +
               (f.max_micro_batch > 0
                    ? " (the largest divisor of the batch whose forecast fits on " + f.device + ")"
                    : " (even 1 is forecast not to fit on " + f.device + ")")});
    }
    sink_ = std::make_unique<StoreCheckpointSink>(*store_, run_id_, persist_);
    const int32_t pad = tokenizer_->pad_id();
    trainer_ = std::make_unique<train::Trainer>(config_, model_, std::move(encoded_), device_, pad,
                                                persist_, control_, *sink_);
    {
      const MemoryForecast f = detail::forecast_for(model_->config(), config_);
      const auto mib = [](int64_t b) { return std::to_string(b >> 20) + " MiB"; };
      const std::string note =
          "the forecast for micro-batch " + std::to_string(f.micro_batch) + " was a peak of " +
          mib(f.peak_bytes) + " (" + mib(f.category("activations")) + " of activations), " +
          mib(f.device_bytes) + " on the device with " + mib(f.available_bytes) + " free";
      trainer_->set_forecast_note(note);
      trainer_->set_probes(probes_);
      persist_.on_log({f.fit == MemoryFit::kWontFit ? LogLevel::kWarning : LogLevel::kInfo,
                       "memory: " + note + " (" + to_string(f.fit) + ")"});
    }
    if (before_.checkpoint_step >= 0) {
      const auto ckpt = detail::newest_checkpoint(*store_, before_);
      trainer_->restore(store_->resolve(ckpt.path), ckpt.sha256, ckpt.step);
      store_->truncate_metrics(run_id_, trainer_->step());
      persist_.set_step(trainer_->step());
      persist_.on_log({LogLevel::kInfo,
                       "resuming from checkpoint at step " + std::to_string(trainer_->step())});
    } else if (resuming()) {
      store_->truncate_metrics(run_id_, 0);
      persist_.set_step(0);
      persist_.on_log(
          {LogLevel::kWarning, "no checkpoint found: starting the run again from step 0"});
    }
    store_->set_run_device(run_id_, compat::device_name(device_));
    persist_.on_log({LogLevel::kInfo, "training on " + compat::device_name(device_) +
                                          " with LibTorch " + torch_version()});
  }

  // Before training: put things back as they were (see the class comment).
  void refuse_start(const std::exception& e) {
    try {
      persist_.discard();
      if (!resuming() && dynamic_cast<const InputError*>(&e)) {
        store_->delete_run(run_id_);
        remove_tree(folder());
      } else if (!resuming()) {
        store_->finish_run(
            run_id_,
            dynamic_cast<const DiskFullError*>(&e) ? RunStatus::kInterrupted : RunStatus::kFailed,
            "", e.what());
      } else {
        store_->release_run(run_id_, before_.status, e.what());
      }
    } catch (const std::exception&) {
      // The project itself cannot be written (a full disk): the claim dies with this process and
      // the next open marks the run interrupted.
    }
  }

  // 5. Train until done, stopped or failed, and record how it ended.
  RunOutcome train() {
    RunOutcome outcome;
    try {
      outcome.status = trainer_->run();
      outcome.last_step = trainer_->step();
      persist_.flush();
      store_->finish_run(run_id_, outcome.status, final_metrics(*trainer_).dump(), "");
      persist_.on_state(
          outcome.status == RunStatus::kCompleted ? RunState::kCompleted : RunState::kStopped,
          "step " + std::to_string(outcome.last_step));
      return outcome;
    } catch (const DiskFullError& e) {
      outcome.status = RunStatus::kInterrupted;
      outcome.error = e.what();
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
    outcome.last_step = trainer_->step();
    try {
      persist_.on_log({LogLevel::kError, outcome.error});
      persist_.flush();
      store_->finish_run(run_id_, outcome.status, final_metrics(*trainer_).dump(), outcome.error);
    } catch (const std::exception&) {
      // The project itself is failing; the outcome still carries the message.
    }
    observer_.on_state(RunState::kFailed, outcome.error);
    return outcome;
  }

  std::unique_ptr<ProjectStore> store_;
  int64_t run_id_;
  RunObserver& observer_;
  RunControl& control_;
  PersistingObserver persist_;
  RunRecord before_;  // as it was before the claim
  RunConfig config_;
  torch::Device device_{torch::kCPU};
  std::vector<std::vector<int32_t>> probes_;
  std::unique_ptr<Tokenizer> tokenizer_;
  train::EncodedData encoded_;
  model::Transformer model_{nullptr};
  std::unique_ptr<StoreCheckpointSink> sink_;
  std::unique_ptr<train::Trainer> trainer_;
};

}  // namespace

int64_t create_run(const std::string& project_path, const RunConfig& config,
                   const std::string& name) {
  auto store = ProjectStore::open(project_path);
  RunConfig c = config;
  const auto dataset = find_dataset_for(*store, c);
  c.data.dataset = dataset.name;
  check_task_fits(c, dataset);
  // What can be known before the run exists is refused now, leaving no failed run behind.
  checked_device(c);
  std::optional<int64_t> parent;
  if (starts_with(c.model.source, kRunPrefix))
    parent = detail::parent_run(*store, c, std::nullopt).id;
  if (detail::is_folder_source(c)) {
    // Stored absolute, so the run finds its base from any working directory.
    std::string folder = c.model.source;
    if (starts_with(folder, "~/") && std::getenv("HOME"))
      folder = std::string(std::getenv("HOME")) + folder.substr(1);
    c.model.source = fs::absolute(folder).lexically_normal().string();
    if (ends_with(c.model.source, "/") && c.model.source.size() > 1) c.model.source.pop_back();
    detail::source_folder(c);  // refuses a folder without config.json, naming it
  }
  const std::vector<std::string> labels(
      c.model.task == Task::kClassification ? 2 : 0);  // the count does not change targets
  lora::plan(detail::model_config(store.get(), c, parent, labels), c.lora, c.train.mode);

  RunRecord r;
  r.name = name.empty() ? store->unique_run_name("run") : name;
  r.config_json = c.to_json().dump();
  r.status = RunStatus::kCreated;
  r.parent_run_id = parent;
  r.dataset_id = dataset.id;
  r.dataset_sha256 = dataset.sha256;
  r.seed = c.seed;
  r.engine_version = engine_version();
  r.torch_version = torch_version();
  r.max_steps = c.train.max_steps;
  // The creator: a created run whose creator dies before claiming it is removed on next open.
  r.pid = getpid();
  r.host = local_host_name();
  return store->create_run(r);
}

namespace {
std::vector<RunDependent> dependents_in(const ProjectStore& store, int64_t run_id) {
  std::vector<RunDependent> out;
  for (const auto& r : store.runs()) {
    if (r.parent_run_id != run_id) continue;
    // A child that has saved its own base no longer reads the parent's files.
    out.push_back({r.id, r.name, !detail::newest_artifact(store, r.id, "base_model").has_value()});
  }
  return out;
}
}  // namespace

std::vector<RunDependent> run_dependents(const std::string& project_path, int64_t run_id) {
  return dependents_in(*ProjectStore::open(project_path), run_id);
}

void delete_run(const std::string& project_path, int64_t run_id, bool force) {
  auto store = ProjectStore::open(project_path);  // marks runs of dead processes interrupted
  const auto r = store->run(run_id);
  if (!r) throw InputError(project_path, "no run with id " + std::to_string(run_id));
  if (r->status == RunStatus::kRunning || r->status == RunStatus::kPaused)
    throw InputError(r->name, "is " + to_string(r->status) + " in a live process (pid " +
                                  std::to_string(r->pid) + "); stop it before deleting it");
  if (!force) {
    std::string needing;
    for (const auto& d : dependents_in(*store, run_id))
      if (d.needs_parent) needing += (needing.empty() ? "'" : ", '") + d.name + "'";
    if (!needing.empty())
      throw InputError(r->name, "run(s) " + needing +
                                    " start from its weights and have not started yet; deleting "
                                    "it leaves them unable to start (delete them first, or force)");
  }
  store->delete_run(run_id);
  remove_tree(detail::runs_folder(*store, run_id));
}

RunOutcome execute_run(const std::string& project_path, int64_t run_id, RunObserver& observer,
                       RunControl& control) {
  // One LibTorch (OpenMP) thread unless the user pins a count: the matrix products run in
  // OpenBLAS's own threads on every core, and a second pool spinning on the same cores slowed the
  // sample's steps by 1.7x on a 2-core machine (60 steps: 14.0 s vs 23.6 s, 12 s of it in the
  // kernel).
  if (!std::getenv("OMP_NUM_THREADS")) torch::set_num_threads(1);
  RunExecution execution(ProjectStore::open(project_path), run_id, observer, control);
  return execution.run();
}

}  // namespace deeptune
