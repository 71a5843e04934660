// The project file: one SQLite database (*.dtproj) holding datasets, runs, metrics, logs,
// artifacts, attention snapshots, memory samples, presets and sweeps. SQLite C API, WAL mode,
// schema versioned with PRAGMA user_version and migrated forward on open. One ProjectStore per
// thread (each has its own connection); SQLite's locking makes concurrent writers safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace deeptune {

enum class RunStatus { kCreated, kRunning, kPaused, kStopped, kCompleted, kFailed, kInterrupted };
std::string to_string(RunStatus s);                      // "created", "running", ...
RunStatus run_status_from_string(const std::string& s);  // throws InputError
// A status from which a run can be continued by a new process: stopped or interrupted. (A paused
// run is paused inside a live process: that process resumes it; a dead one's run is marked
// interrupted when the project is next opened.)
bool is_resumable(RunStatus s);
struct RunRecord;
// is_resumable(status), or a failed run that has a checkpoint to continue from.
bool is_resumable(const RunRecord& r);

struct ProjectInfo {
  std::string name;
  std::string created_at;   // ISO-8601 UTC
  std::string app_version;  // engine version that created the file
  int schema_version = 0;
};

struct DatasetRecord {
  int64_t id = 0;
  std::string name;
  std::string path;          // as given: relative paths are relative to the project file's folder
  std::string format;        // "jsonl", "json", "csv", "txt"
  std::string mapping_json;  // FieldMapping::to_json().dump()
  std::string sha256;
  int64_t rows = 0;
  std::string stats_json;  // DatasetStats::to_json().dump(), may be ""
  std::string added_at;
};

struct RunRecord {
  int64_t id = 0;
  std::string name;
  std::string config_json;  // RunConfig::to_json().dump()
  RunStatus status = RunStatus::kCreated;
  std::optional<int64_t> parent_run_id;  // forks / resumed-from
  std::optional<int64_t> sweep_id;
  std::optional<int64_t> dataset_id;
  std::string dataset_sha256;
  uint64_t seed = 0;
  std::string engine_version;
  std::string torch_version;
  std::string device;  // resolved device, e.g. "cpu", "cuda:0"
  std::string created_at, started_at, finished_at, heartbeat_at;
  int64_t pid = 0;        // process that last ran it (to detect crashes)
  std::string host;       // host name of that process
  int64_t last_step = 0;  // last optimizer step recorded
  int64_t max_steps = 0;
  std::string final_metrics_json;  // {"train_loss":..,"val_loss":..}, may be ""
  std::string error_text;
  int64_t checkpoint_step = -1;  // step of the newest recorded checkpoint; -1 when none (read only)
};

struct MetricPoint {
  int64_t run_id = 0;
  int64_t step = 0;
  std::string
      name;  // "train/loss", "train/lr", "train/grad_norm", "train/tokens_per_s", "val/loss", ...
  double value = 0.0;
};

struct LogRecord {
  int64_t run_id = 0;
  std::string time;   // ISO-8601 UTC
  std::string level;  // "info", "warning", "error"
  std::string text;
  int64_t id = 0;  // set when read; increases with every line written to the project
};

struct ArtifactRecord {
  int64_t id = 0;
  int64_t run_id = 0;
  std::string kind;  // "checkpoint", "base_model", "export_peft", ...
  std::string path;  // relative to the project file's folder when inside it
  std::string sha256;
  int64_t step = 0;
  std::string created_at;
};

// A probe whose attention a run captures: where it came from ("text" or "row N"), its tokens as
// the tokenizer spells them and their ids (empty for probes recorded before schema version 4).
struct AttentionProbeRecord {
  int64_t run_id = 0;
  int probe = 0;  // 0-based, in config order (texts, then rows)
  std::string source;
  std::vector<std::string> tokens;
  std::vector<int32_t> ids;
};

// One layer of one probe at one step: `heads` maps of size x size (the probe's `length` tokens
// max-pooled when longer than 512), packed as `codec` says (deeptune/attention_map.h), and per
// head the statistics of the full map as JSON [[entropy, sink, previous, max], ...]; and a preview:
// every head max-pooled to preview_size x preview_size, packed the same way (empty for maps
// recorded before schema version 5).
struct AttentionMapRecord {
  int64_t run_id = 0;
  int probe = 0;
  int64_t step = 0;
  int layer = 0;
  int heads = 0;
  int length = 0;
  int size = 0;
  std::string codec;
  std::vector<uint8_t> data;
  std::string stats_json;
  int preview_size = 0;
  std::vector<uint8_t> preview;
};

class ProjectStore {
 public:
  static constexpr int kSchemaVersion = 5;

  // Creates a new project file; throws InputError if the path exists.
  static std::unique_ptr<ProjectStore> create(const std::string& path, const std::string& name);
  // Opens an existing project. Throws InputError("<path>", ...) — and changes nothing in the file —
  // when it does not exist, is not a regular file, is not a SQLite database, is a SQLite database
  // without DeepTune's tables, fails SQLite's quick_check (damaged: the message gives advice), or
  // was written by a newer schema version. Migrates older versions forward in one transaction.
  // Runs left 'running' or 'paused' by a process that no longer exists (same host) are marked
  // 'interrupted'; a 'created' run whose creator is gone is removed (nothing was written for it).
  // When the file cannot be written (a full disk, a read-only file system or file) the project
  // opens read-only: reading works, dead runs show as interrupted without being marked, and
  // every write throws RunError saying why.
  static std::unique_ptr<ProjectStore> open(const std::string& path);

  ~ProjectStore();
  ProjectStore(const ProjectStore&) = delete;
  ProjectStore& operator=(const ProjectStore&) = delete;

  const std::string& path() const;
  // Why the project opened read-only ("" when writable).
  const std::string& read_only_reason() const;
  std::string directory() const;  // folder holding the project file
  std::string resolve(const std::string& relative_or_absolute) const;  // against directory()
  std::string relativize(const std::string& absolute) const;  // relative when inside directory()
  ProjectInfo info() const;

  // datasets
  int64_t add_dataset(const DatasetRecord& d);  // throws InputError if the name exists
  std::vector<DatasetRecord> datasets() const;
  std::optional<DatasetRecord> find_dataset(const std::string& name_or_id) const;
  void update_dataset_stats(int64_t id, const std::string& sha256, int64_t rows,
                            const std::string& stats_json);

  // runs
  int64_t create_run(const RunRecord& r);  // throws InputError if the name exists
  std::vector<RunRecord> runs() const;     // ordered by id
  std::optional<RunRecord> find_run(const std::string& name_or_id) const;
  std::optional<RunRecord> run(int64_t id) const;
  std::string unique_run_name(const std::string& stem) const;  // "stem", "stem-2", ...
  // Claims run `id` for the process (pid, host) in one write transaction: a created, stopped or
  // interrupted run, or a failed run with a checkpoint, becomes 'running' (started and heartbeat
  // now, finish time and error cleared). Returns the record as it was before the claim. Throws
  // InputError naming the run when it cannot be claimed: "run X is already running (pid P on
  // host H)" (or paused), completed, or failed without a checkpoint.
  RunRecord claim_run(int64_t id, int64_t pid, const std::string& host);
  // Returns a claimed run to the status it had before (a resume refused before training started),
  // with the reason as its error text.
  void release_run(int64_t id, RunStatus previous, const std::string& why);
  void set_run_device(int64_t id, const std::string& device);
  void set_run_status(int64_t id, RunStatus s, const std::string& error_text = "");
  void heartbeat(int64_t id, int64_t step);  // updates heartbeat_at and last_step
  void finish_run(int64_t id, RunStatus s, const std::string& final_metrics_json,
                  const std::string& error_text);
  void rename_run(int64_t id, const std::string& new_name);
  void delete_run(int64_t id);  // with its metrics, logs, artifacts rows

  // metrics (batched: one transaction for the whole vector; a (run, name, step) written twice
  // keeps the last value — a resumed run rewrites the steps after its checkpoint)
  void append_metrics(const std::vector<MetricPoint>& points);
  // name -> [(step, value)] ordered by step; only steps > after_step (a live view polls a run
  // that another process trains with the last step it has).
  std::map<std::string, std::vector<std::pair<int64_t, double>>> metrics(
      int64_t run_id, int64_t after_step = -1) const;
  // Deletes metrics with step > after_step (used when resuming from an earlier checkpoint).
  void truncate_metrics(int64_t run_id, int64_t after_step);

  // attention maps (batched like metrics; a (run, probe, step, layer) written twice keeps the last)
  void put_attention_probes(const std::vector<AttentionProbeRecord>& probes);
  std::vector<AttentionProbeRecord> attention_probes(int64_t run_id) const;
  void append_attention_maps(const std::vector<AttentionMapRecord>& maps);
  // The steps with maps of `probe`, ascending.
  std::vector<int64_t> attention_steps(int64_t run_id, int probe) const;
  // Every layer of `probe` at `step`, by layer (empty when there is no such snapshot).
  std::vector<AttentionMapRecord> attention_maps(int64_t run_id, int probe, int64_t step) const;
  // One layer of `probe` at `step`, preview included (nullopt when there is no such layer): a
  // thirty-second of a 32-layer step, what one head's map needs.
  std::optional<AttentionMapRecord> attention_layer(int64_t run_id, int probe, int64_t step,
                                                    int layer) const;
  // The previews of `probe` at `step`, by layer: layer, heads, preview_size and preview set, the
  // rest left empty (the maps' rows are not touched): what a grid of every head needs. Layers
  // recorded before schema version 5 have none and are left out.
  std::vector<AttentionMapRecord> attention_previews(int64_t run_id, int probe, int64_t step) const;
  // Every snapshot's layers of `probe` without their maps (data empty), by step then layer: what
  // the statistics over training are read from.
  std::vector<AttentionMapRecord> attention_stats(int64_t run_id, int probe) const;
  // Deletes maps with step > after_step (a run that went back to a checkpoint).
  void truncate_attention(int64_t run_id, int64_t after_step);

  void append_logs(const std::vector<LogRecord>& logs);
  // The run's log lines in order; only those with id > after_id (a live view asks for what is new).
  std::vector<LogRecord> logs(int64_t run_id, int64_t after_id = 0) const;

  // Records an artifact of (run, kind, path): the row already recording that path gets the new
  // hash, step and time, else a row is added — one row per file or folder, so pruning one never
  // removes what another row still points to. Returns the row's id.
  int64_t add_artifact(const ArtifactRecord& a);
  std::vector<ArtifactRecord> artifacts(int64_t run_id) const;  // ordered by id
  void remove_artifact(int64_t id);  // the row only; the caller deletes the files

  // Named hyperparameter presets (JSON documents).
  void save_preset(const std::string& name, const std::string& json);
  std::map<std::string, std::string> presets() const;

 private:
  struct Impl;
  explicit ProjectStore(std::unique_ptr<Impl> impl);
  static std::unique_ptr<Impl> open_read_only(const std::string& file);
  std::unique_ptr<Impl> impl_;
};

// Current time as ISO-8601 UTC with milliseconds, e.g. "2026-11-28T12:00:00.123Z".
std::string utc_now_iso();

// This machine's host name (gethostname), as open() compares it with RunRecord::host to tell a
// crashed local run from one running elsewhere; pass it to mark_run_started.
std::string local_host_name();

}  // namespace deeptune
