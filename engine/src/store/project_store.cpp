// ProjectStore: the project file's public face. Checks a file is a DeepTune project before
// writing a byte to it, migrates it, and reads and writes records with bound parameters only.
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "core/enum_names.h"
#include "deeptune/error.h"
#include "deeptune/files.h"
#include "deeptune/store.h"
#include "store/schema.h"
#include "store/sqlite.h"

namespace deeptune {
namespace fs = std::filesystem;
using store::Database;
using store::OpenMode;
using store::SqliteError;
using store::Statement;
using store::Transaction;

namespace {

constexpr EnumName<RunStatus> kStatusNames[] = {
    {RunStatus::kCreated, "created"},         {RunStatus::kRunning, "running"},
    {RunStatus::kPaused, "paused"},           {RunStatus::kStopped, "stopped"},
    {RunStatus::kCompleted, "completed"},     {RunStatus::kFailed, "failed"},
    {RunStatus::kInterrupted, "interrupted"},
};

// A run on another machine whose heartbeat is older than this is taken for dead: the trainer
// beats at least every few seconds, so ten minutes leaves room for a long evaluation or
// checkpoint write without declaring a live run lost.
constexpr std::chrono::minutes kStaleHeartbeat{10};

std::string iso_utc(std::chrono::system_clock::time_point t) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  const size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buffer + n, sizeof buffer - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buffer;
}

std::string or_now(const std::string& time) {
  return time.empty() ? utc_now_iso() : time;
}

bool is_decimal_id(const std::string& s) {
  // 18 digits always fit in int64_t.
  return !s.empty() && s.size() <= 18 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_unique_violation(const SqliteError& e) {
  return e.code() == SQLITE_CONSTRAINT_UNIQUE;
}

enum class Verdict { kOpenable, kDamaged, kForeign, kNewer };
struct ProbeResult {
  Verdict verdict = Verdict::kForeign;
  int64_t application_id = 0, version = 0;
  std::string detail;
};

// What a read-only look at the file's schema says, through a connection of `mode`.
ProbeResult probe_file(const std::string& path, OpenMode mode) {
  ProbeResult r;
  bool has_project_table = false;
  try {
    Database db(path, mode);
    db.exec("PRAGMA busy_timeout = 10000", "setting busy_timeout");
    r.application_id = db.pragma_int("application_id");
    Statement st =
        db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'project'",
                   "reading the schema");
    has_project_table = st.step() && st.column_int64(0) == 1;
    r.version = db.pragma_int("user_version");
  } catch (const SqliteError& e) {
    const int primary = e.code() & 0xff;
    if (primary != SQLITE_NOTADB && primary != SQLITE_CORRUPT) throw;
    r.verdict = Verdict::kDamaged;
    r.detail = e.message();
    return r;
  }
  if (r.application_id != store::kApplicationId || !has_project_table || r.version < 1)
    r.verdict = Verdict::kForeign;
  else if (r.version > ProjectStore::kSchemaVersion)
    r.verdict = Verdict::kNewer;
  else
    r.verdict = Verdict::kOpenable;
  return r;
}

// Refuses, without writing anything, a file that is not a project this build can open. SQLite
// would happily treat an empty or foreign file as a new database and write a schema into it, so
// the header is read by hand first and the rest is inspected over a read-only connection.
void check_openable(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) throw InputError(path, "does not exist");
  if (fs::is_directory(status)) throw InputError(path, "is a folder, not a DeepTune project");
  // A FIFO would block the header read forever; a device is no project either.
  require_regular_file(path);

  std::string header;
  try {
    header = store::read_file_start(path, 20);
  } catch (const SqliteError&) {
    throw InputError(path, "cannot be read (check its permissions)");
  }
  if (header.empty()) throw InputError(path, "is empty, not a DeepTune project");
  static const char kSqliteMagic[16] = "SQLite format 3";  // 15 characters and the '\0'
  if (header.size() < sizeof kSqliteMagic ||
      std::memcmp(header.data(), kSqliteMagic, sizeof kSqliteMagic) != 0) {
    throw InputError(path, "is not a SQLite database, so not a DeepTune project");
  }

  // Header bytes 18 and 19 are 2 in a WAL database, as every DeepTune project is.
  const bool wal_mode = header.size() >= 20 && header[18] == 2 && header[19] == 2;
  const bool wal_in_use = fs::exists(path + "-wal", ec);
  // A snapshot read (no locks) leaves no -wal or -shm beside a file that is not ours; but a writer
  // may checkpoint into the file while it is read, and half-written schema pages would read as
  // damage or as a foreign file. Such a verdict against a WAL file that looked like one of ours
  // is confirmed through a locking read-only connection before it is given. ("Newer schema"
  // needs no confirmation: it comes from page 1's header, which a torn read does not make ours.)
  ProbeResult probe =
      probe_file(path, wal_in_use ? OpenMode::kReadOnly : OpenMode::kReadOnlySnapshot);
  const bool doubtful =
      probe.verdict == Verdict::kDamaged ||
      (probe.verdict == Verdict::kForeign && probe.application_id == store::kApplicationId);
  if (doubtful && wal_mode && !wal_in_use) probe = probe_file(path, OpenMode::kReadOnly);
  switch (probe.verdict) {
    case Verdict::kOpenable:
      return;
    case Verdict::kDamaged:
      throw InputError(path, "is a damaged SQLite database, not a readable DeepTune project (" +
                                 probe.detail + ")");
    case Verdict::kForeign:
      throw InputError(path, "is a SQLite database but not a DeepTune project");
    case Verdict::kNewer:
      throw InputError(path, "was written by a newer DeepTune (schema " +
                                 std::to_string(probe.version) + ", this build reads up to " +
                                 std::to_string(ProjectStore::kSchemaVersion) + ")");
  }
}

// Column list shared by every query that reads whole runs; read_run follows the same order.
constexpr const char* kRunColumns =
    "id, name, config_json, status, parent_run_id, sweep_id, dataset_id, dataset_sha256, seed, "
    "engine_version, torch_version, device, created_at, started_at, finished_at, heartbeat_at, "
    "pid, host, last_step, max_steps, final_metrics_json, error_text, "
    "(SELECT max(step) FROM artifacts a WHERE a.run_id = runs.id AND a.kind = 'checkpoint')";

RunRecord read_run(const Statement& st) {
  RunRecord r;
  r.id = st.column_int64(0);
  r.name = st.column_text(1);
  r.config_json = st.column_text(2);
  r.status = run_status_from_string(st.column_text(3));
  r.parent_run_id = st.column_optional(4);
  r.sweep_id = st.column_optional(5);
  r.dataset_id = st.column_optional(6);
  r.dataset_sha256 = st.column_text(7);
  // SQLite integers are signed 64-bit; the seed's bits are stored as they are.
  r.seed = static_cast<uint64_t>(st.column_int64(8));
  r.engine_version = st.column_text(9);
  r.torch_version = st.column_text(10);
  r.device = st.column_text(11);
  r.created_at = st.column_text(12);
  r.started_at = st.column_text(13);
  r.finished_at = st.column_text(14);
  r.heartbeat_at = st.column_text(15);
  r.pid = st.column_int64(16);
  r.host = st.column_text(17);
  r.last_step = st.column_int64(18);
  r.max_steps = st.column_int64(19);
  r.final_metrics_json = st.column_text(20);
  r.error_text = st.column_text(21);
  r.checkpoint_step = st.is_null(22) ? -1 : st.column_int64(22);
  return r;
}

constexpr const char* kDatasetColumns =
    "id, name, path, format, mapping_json, sha256, rows, stats_json, added_at";

DatasetRecord read_dataset(const Statement& st) {
  DatasetRecord d;
  d.id = st.column_int64(0);
  d.name = st.column_text(1);
  d.path = st.column_text(2);
  d.format = st.column_text(3);
  d.mapping_json = st.column_text(4);
  d.sha256 = st.column_text(5);
  d.rows = st.column_int64(6);
  d.stats_json = st.column_text(7);
  d.added_at = st.column_text(8);
  return d;
}

}  // namespace

std::string to_string(RunStatus s) {
  return name_of(kStatusNames, s);
}

RunStatus run_status_from_string(const std::string& s) {
  if (const auto status = value_of(kStatusNames, s)) return *status;
  throw InputError("status",
                   "unknown run status '" + s + "' (expected " + names_text(kStatusNames) + ")");
}

bool is_resumable(RunStatus s) {
  return s == RunStatus::kStopped || s == RunStatus::kInterrupted;
}

bool is_resumable(const RunRecord& r) {
  return is_resumable(r.status) || (r.status == RunStatus::kFailed && r.checkpoint_step >= 0);
}

std::string utc_now_iso() {
  return iso_utc(std::chrono::system_clock::now());
}

std::string local_host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "";
  return name;
}

struct ProjectStore::Impl {
  Impl(const std::string& file, OpenMode mode) : path(file), db(file, mode) {}

  // Runs found dead while the file could not be written: shown as interrupted, not marked.
  RunRecord overlay(RunRecord r) const {
    if (const auto it = dead_unmarked.find(r.id); it != dead_unmarked.end()) {
      r.status = RunStatus::kInterrupted;
      r.error_text = it->second;
    }
    return r;
  }

  // Throws InputError when an UPDATE/DELETE by id touched nothing.
  void require_changed(const char* kind, int64_t id) const {
    if (db.changes() == 0)
      throw InputError(path, std::string("no ") + kind + " with id " + std::to_string(id));
  }

  Statement select_runs(const std::string& where_clause) const {
    return db.prepare(std::string("SELECT ") + kRunColumns + " FROM runs " + where_clause,
                      "reading runs");
  }

  bool run_name_taken(const std::string& name) const {
    Statement st = db.prepare("SELECT 1 FROM runs WHERE name = ?", "reading run names");
    st.bind_text(1, name);
    return st.step();
  }

  // Runs whose process died: 'running' and 'paused' ones become interrupted, so the GUI offers
  // to resume them instead of showing them running forever; 'created' ones whose creator died
  // before claiming them hold nothing and are removed. On a read-only project the verdicts are
  // kept in memory (dead_unmarked) and shown, not written.
  void find_dead_runs(bool writable) {
    const std::string host = local_host_name();
    const std::string stale_before = iso_utc(std::chrono::system_clock::now() - kStaleHeartbeat);
    std::vector<std::pair<int64_t, std::string>> dead;  // id, why
    std::vector<int64_t> stillborn;                     // created, never claimed
    {
      Statement st = db.prepare(
          "SELECT id, pid, host, heartbeat_at, started_at, created_at, status FROM runs "
          "WHERE status IN ('created', 'running', 'paused')",
          "looking for interrupted runs");
      while (st.step()) {
        const int64_t id = st.column_int64(0);
        const int64_t pid = st.column_int64(1);
        const std::string run_host = st.column_text(2);
        const bool created = st.column_text(6) == "created";
        // Files from schema 1 have no heartbeat: the start time is the last sign of life.
        std::string last_seen = st.column_text(3);
        if (last_seen.empty()) last_seen = st.column_text(4);
        if (last_seen.empty()) last_seen = st.column_text(5);
        bool gone = false;
        std::string why;
        if (!run_host.empty() && run_host == host) {
          gone = process_is_gone(pid);
          why = "the process (pid " + std::to_string(pid) + ") ended without finishing the run";
        } else if (!run_host.empty() && !last_seen.empty() && last_seen < stale_before) {
          // ISO-8601 UTC strings of one fixed format compare like the times they spell.
          gone = true;
          why = "no heartbeat from host '" + run_host + "' since " + last_seen;
        }
        if (!gone) continue;
        if (created)
          stillborn.push_back(id);
        else
          dead.emplace_back(id, why);
      }
    }
    if (dead.empty() && stillborn.empty()) return;
    if (!writable) {
      for (const auto& [id, why] : dead) dead_unmarked[id] = why;
      return;
    }
    Transaction tx(db);
    Statement mark = db.prepare(
        "UPDATE runs SET status = 'interrupted', error_text = ? "
        "WHERE id = ? AND status IN ('created', 'running', 'paused')",
        "marking interrupted runs");
    auto mark_interrupted = [&](int64_t id, const std::string& why) {
      mark.bind_text(1, why).bind_int64(2, id).run();
      mark.reset();
    };
    for (const auto& [id, why] : dead) mark_interrupted(id, why);
    // Only if still unclaimed and nothing was recorded for it (the claim is what writes); one
    // that holds records is kept as interrupted.
    Statement drop = db.prepare(
        "DELETE FROM runs WHERE id = ? AND status = 'created' "
        "AND NOT EXISTS (SELECT 1 FROM artifacts WHERE run_id = runs.id) "
        "AND NOT EXISTS (SELECT 1 FROM metrics WHERE run_id = runs.id) "
        "AND NOT EXISTS (SELECT 1 FROM logs WHERE run_id = runs.id)",
        "removing runs whose process ended before they started");
    for (const int64_t id : stillborn) {
      drop.bind_int64(1, id).run();
      drop.reset();
      if (db.changes() == 0)
        mark_interrupted(id, "the process that created it ended before the run started");
    }
    tx.commit();
  }

  // Throws RunError when the project opened read-only.
  void require_writable() const {
    if (!read_only_reason.empty())
      throw RunError(path, "the project is open read-only: " + read_only_reason);
  }

  std::string path;  // absolute, normalised
  Database db;
  std::string read_only_reason;
  std::map<int64_t, std::string> dead_unmarked;
};

ProjectStore::ProjectStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProjectStore::~ProjectStore() = default;

std::unique_ptr<ProjectStore> ProjectStore::create(const std::string& path,
                                                   const std::string& name) {
  store::create_project_file(path, name, kSchemaVersion);
  return open(path);
}

namespace {

// SQLite's verdict on the file's structure; "ok" or the first problems it lists. quick_check
// reads every page but skips index-content checks: measured at a few milliseconds per megabyte.
std::string quick_check(const Database& db) {
  std::string result;
  try {
    Statement st = db.prepare("PRAGMA quick_check(5)", "checking the project file");
    while (st.step()) result += (result.empty() ? "" : "; ") + st.column_text(0);
  } catch (const SqliteError& e) {
    const int primary = e.code() & 0xff;
    if (primary != SQLITE_CORRUPT && primary != SQLITE_NOTADB) throw;
    result = e.message();
  }
  return result;
}

// quick_check reads every page: 0.44 s for a 121 MB project holding 2 million metric points
// (40 runs of 10,000 steps). The CLI and the workbench open one project several times for one
// command, so a file that passed is not checked again in this process until its main file
// changes (size or modification time: WAL writes leave both alone until a checkpoint).
class CheckedFiles {
 public:
  bool contains(const std::string& file) {
    std::lock_guard<std::mutex> lock(mutex_);
    return files_.count(key(file)) > 0;
  }
  void add(const std::string& file) {
    std::lock_guard<std::mutex> lock(mutex_);
    files_.insert(key(file));
  }

 private:
  static std::string key(const std::string& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return file;
    return file + "|" + std::to_string(st.st_size) + "|" + std::to_string(st.st_mtim.tv_sec) + "." +
           std::to_string(st.st_mtim.tv_nsec);
  }
  std::mutex mutex_;
  std::set<std::string> files_;
};

void refuse_if_damaged(const Database& db, const std::string& file) {
  static CheckedFiles passed;
  if (passed.contains(file)) return;
  const std::string check = quick_check(db);
  if (check == "ok") {
    passed.add(file);
    return;
  }
  throw InputError(file, "is damaged (SQLite quick_check: " + check +
                             "). Nothing was changed. Keep a copy of it, then recover what "
                             "SQLite can read with: sqlite3 '" +
                             file +
                             "' .recover | sqlite3 recovered.dtproj — or go back to a backup");
}

// Could not write: the project can still be read.
bool is_unwritable(const SqliteError& e) {
  const int primary = e.code() & 0xff;
  return primary == SQLITE_FULL || primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN ||
         primary == SQLITE_IOERR || primary == SQLITE_PERM;
}

}  // namespace

// A read-only connection to a file that cannot be written. A WAL file's readers need its -shm
// index, which a full disk cannot hold; when no -wal file is left (the last writer checkpointed
// it into the file), the file alone is the whole database and is read as a snapshot.
std::unique_ptr<ProjectStore::Impl> ProjectStore::open_read_only(const std::string& file) {
  std::error_code ec;
  try {
    auto impl = std::make_unique<Impl>(file, OpenMode::kReadOnly);
    impl->db.exec("PRAGMA busy_timeout = 10000", "setting busy_timeout");
    refuse_if_damaged(impl->db, file);
    return impl;
  } catch (const SqliteError& e) {
    const auto wal_bytes = fs::file_size(file + "-wal", ec);
    if (!is_unwritable(e) || (!ec && wal_bytes > 0)) throw;
  }
  auto impl = std::make_unique<Impl>(file, OpenMode::kReadOnlySnapshot);
  refuse_if_damaged(impl->db, file);
  return impl;
}

std::unique_ptr<ProjectStore> ProjectStore::open(const std::string& path) {
  check_openable(path);
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  if (ec) absolute = path;
  const std::string file = absolute.lexically_normal().string();
  std::unique_ptr<Impl> impl;
  try {
    impl = std::make_unique<Impl>(file, OpenMode::kReadWrite);
    if (impl->db.is_read_only())
      throw SqliteError(file, "the file or its file system is read-only", SQLITE_READONLY);
    store::configure_connection(impl->db);
    refuse_if_damaged(impl->db, file);  // before migrating writes anything
    store::migrate(impl->db, kSchemaVersion);
  } catch (const SqliteError& e) {
    if (!is_unwritable(e)) throw;
    impl = open_read_only(file);
    // Reading needs no migration when the file is current; an older file cannot be read as is.
    if (impl->db.pragma_int("user_version") != kSchemaVersion)
      throw InputError(file, "cannot be upgraded to this version: " + e.message());
    impl->read_only_reason = e.message();
  }
  try {
    impl->find_dead_runs(impl->read_only_reason.empty());
  } catch (const SqliteError& e) {
    if (!is_unwritable(e)) throw;
    impl->read_only_reason = e.message();
    impl->find_dead_runs(false);
  }
  return std::unique_ptr<ProjectStore>(new ProjectStore(std::move(impl)));
}

const std::string& ProjectStore::path() const {
  return impl_->path;
}

const std::string& ProjectStore::read_only_reason() const {
  return impl_->read_only_reason;
}

std::string ProjectStore::directory() const {
  return fs::path(impl_->path).parent_path().string();
}

std::string ProjectStore::resolve(const std::string& relative_or_absolute) const {
  if (relative_or_absolute.empty()) return relative_or_absolute;
  const fs::path p(relative_or_absolute);
  if (p.is_absolute()) return p.lexically_normal().string();
  return (fs::path(directory()) / p).lexically_normal().string();
}

std::string ProjectStore::relativize(const std::string& absolute) const {
  const fs::path p(absolute);
  if (absolute.empty() || p.is_relative()) return absolute;
  // Canonical forms on both sides, so a project reached through a symlinked folder still
  // recognises its own files.
  std::error_code ec;
  fs::path target = fs::weakly_canonical(p, ec);
  if (ec) target = p.lexically_normal();
  fs::path dir = fs::weakly_canonical(directory(), ec);
  if (ec) dir = fs::path(directory()).lexically_normal();
  const auto mismatch = std::mismatch(dir.begin(), dir.end(), target.begin(), target.end());
  if (mismatch.first != dir.end()) return absolute;  // outside the project folder
  return target.lexically_relative(dir).string();
}

ProjectInfo ProjectStore::info() const {
  ProjectInfo info;
  Statement st = impl_->db.prepare("SELECT name, created_at, app_version FROM project WHERE id = 1",
                                   "reading the project row");
  if (st.step()) {
    info.name = st.column_text(0);
    info.created_at = st.column_text(1);
    info.app_version = st.column_text(2);
  }
  info.schema_version = static_cast<int>(impl_->db.pragma_int("user_version"));
  return info;
}

// --- datasets ----------------------------------------------------------------------------------

int64_t ProjectStore::add_dataset(const DatasetRecord& d) {
  impl_->require_writable();
  Statement st = impl_->db.prepare(
      "INSERT INTO datasets (name, path, format, mapping_json, sha256, rows, stats_json, "
      "added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      "adding dataset '" + d.name + "'");
  st.bind_text(1, d.name)
      .bind_text(2, d.path)
      .bind_text(3, d.format)
      .bind_text(4, d.mapping_json)
      .bind_text(5, d.sha256)
      .bind_int64(6, d.rows)
      .bind_text(7, d.stats_json)
      .bind_text(8, or_now(d.added_at));
  try {
    st.run();
  } catch (const SqliteError& e) {
    if (is_unique_violation(e)) {
      throw InputError(impl_->path, "a dataset named '" + d.name + "' already exists");
    }
    throw;
  }
  return impl_->db.last_insert_rowid();
}

std::vector<DatasetRecord> ProjectStore::datasets() const {
  Statement st = impl_->db.prepare(
      std::string("SELECT ") + kDatasetColumns + " FROM datasets ORDER BY id", "reading datasets");
  std::vector<DatasetRecord> out;
  while (st.step()) out.push_back(read_dataset(st));
  return out;
}

std::optional<DatasetRecord> ProjectStore::find_dataset(const std::string& name_or_id) const {
  // A name wins over an id, so a dataset literally named "2" stays reachable.
  {
    Statement st = impl_->db.prepare(
        std::string("SELECT ") + kDatasetColumns + " FROM datasets WHERE name = ?",
        "reading a dataset");
    st.bind_text(1, name_or_id);
    if (st.step()) return read_dataset(st);
  }
  if (!is_decimal_id(name_or_id)) return std::nullopt;
  Statement st =
      impl_->db.prepare(std::string("SELECT ") + kDatasetColumns + " FROM datasets WHERE id = ?",
                        "reading a dataset");
  st.bind_int64(1, std::stoll(name_or_id));
  if (st.step()) return read_dataset(st);
  return std::nullopt;
}

void ProjectStore::update_dataset_stats(int64_t id, const std::string& sha256, int64_t rows,
                                        const std::string& stats_json) {
  impl_->require_writable();
  impl_->db
      .prepare("UPDATE datasets SET sha256 = ?, rows = ?, stats_json = ? WHERE id = ?",
               "updating dataset statistics")
      .bind_text(1, sha256)
      .bind_int64(2, rows)
      .bind_text(3, stats_json)
      .bind_int64(4, id)
      .run();
  impl_->require_changed("dataset", id);
}

// --- runs --------------------------------------------------------------------------------------

int64_t ProjectStore::create_run(const RunRecord& r) {
  impl_->require_writable();
  Statement st = impl_->db.prepare(
      "INSERT INTO runs (name, config_json, status, parent_run_id, sweep_id, dataset_id, "
      "dataset_sha256, seed, engine_version, torch_version, device, created_at, started_at, "
      "finished_at, heartbeat_at, pid, host, last_step, max_steps, final_metrics_json, "
      "error_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      "creating run '" + r.name + "'");
  st.bind_text(1, r.name)
      .bind_text(2, r.config_json)
      .bind_text(3, to_string(r.status))
      .bind_optional(4, r.parent_run_id)
      .bind_optional(5, r.sweep_id)
      .bind_optional(6, r.dataset_id)
      .bind_text(7, r.dataset_sha256)
      .bind_int64(8, static_cast<int64_t>(r.seed))
      .bind_text(9, r.engine_version)
      .bind_text(10, r.torch_version)
      .bind_text(11, r.device)
      .bind_text(12, or_now(r.created_at))
      .bind_text(13, r.started_at)
      .bind_text(14, r.finished_at)
      .bind_text(15, r.heartbeat_at)
      .bind_int64(16, r.pid)
      .bind_text(17, r.host)
      .bind_int64(18, r.last_step)
      .bind_int64(19, r.max_steps)
      .bind_text(20, r.final_metrics_json)
      .bind_text(21, r.error_text);
  try {
    st.run();
  } catch (const SqliteError& e) {
    if (is_unique_violation(e)) {
      throw InputError(impl_->path, "a run named '" + r.name + "' already exists");
    }
    if (e.code() == SQLITE_CONSTRAINT_FOREIGNKEY) {
      throw InputError(impl_->path, "run '" + r.name +
                                        "' refers to a parent run or dataset that does not exist");
    }
    throw;
  }
  return impl_->db.last_insert_rowid();
}

std::vector<RunRecord> ProjectStore::runs() const {
  Statement st = impl_->select_runs("ORDER BY id");
  std::vector<RunRecord> out;
  while (st.step()) out.push_back(impl_->overlay(read_run(st)));
  return out;
}

std::optional<RunRecord> ProjectStore::find_run(const std::string& name_or_id) const {
  // A name wins over an id, so a run literally named "2" stays reachable.
  {
    Statement st = impl_->select_runs("WHERE name = ?");
    st.bind_text(1, name_or_id);
    if (st.step()) return impl_->overlay(read_run(st));
  }
  if (!is_decimal_id(name_or_id)) return std::nullopt;
  return run(std::stoll(name_or_id));
}

std::optional<RunRecord> ProjectStore::run(int64_t id) const {
  Statement st = impl_->select_runs("WHERE id = ?");
  st.bind_int64(1, id);
  if (st.step()) return impl_->overlay(read_run(st));
  return std::nullopt;
}

std::string ProjectStore::unique_run_name(const std::string& stem) const {
  const std::string base = stem.empty() ? "run" : stem;
  if (!impl_->run_name_taken(base)) return base;
  for (int n = 2;; ++n) {
    std::string candidate = base + "-" + std::to_string(n);
    if (!impl_->run_name_taken(candidate)) return candidate;
  }
}

RunRecord ProjectStore::claim_run(int64_t id, int64_t pid, const std::string& host) {
  impl_->require_writable();
  // The check and the update in one write transaction: of two processes claiming together, the
  // second sees the first's 'running'.
  Transaction tx(impl_->db);
  const auto before = run(id);
  if (!before) throw InputError(impl_->path, "no run with id " + std::to_string(id));
  const RunRecord& r = *before;
  switch (r.status) {
    case RunStatus::kRunning:
    case RunStatus::kPaused:
      throw InputError(r.name, "run '" + r.name + "' is already " + to_string(r.status) + " (pid " +
                                   std::to_string(r.pid) + " on host " +
                                   (r.host.empty() ? "?" : r.host) + ")");
    case RunStatus::kCompleted:
      throw InputError(r.name, "run '" + r.name + "' has already completed");
    case RunStatus::kFailed:
      if (r.checkpoint_step < 0)
        throw InputError(r.name, "run '" + r.name +
                                     "' failed before its first checkpoint; nothing to continue "
                                     "(start a new run)");
      break;
    case RunStatus::kCreated:
    case RunStatus::kStopped:
    case RunStatus::kInterrupted:
      break;
  }
  const std::string now = utc_now_iso();
  impl_->db
      .prepare(
          "UPDATE runs SET status = 'running', started_at = ?, heartbeat_at = ?, pid = ?, "
          "host = ?, finished_at = '', error_text = '' WHERE id = ? AND status = ?",
          "claiming run " + std::to_string(id))
      .bind_text(1, now)
      .bind_text(2, now)
      .bind_int64(3, pid)
      .bind_text(4, host)
      .bind_int64(5, id)
      .bind_text(6, to_string(r.status))
      .run();
  if (impl_->db.changes() != 1)
    throw InputError(r.name, "run '" + r.name + "' changed while being claimed; try again");
  tx.commit();
  return r;
}

void ProjectStore::release_run(int64_t id, RunStatus previous, const std::string& why) {
  impl_->require_writable();
  impl_->db
      .prepare("UPDATE runs SET status = ?, error_text = ?, finished_at = ? WHERE id = ?",
               "releasing run " + std::to_string(id))
      .bind_text(1, to_string(previous))
      .bind_text(2, why)
      .bind_text(3, utc_now_iso())
      .bind_int64(4, id)
      .run();
  impl_->require_changed("run", id);
}

void ProjectStore::set_run_device(int64_t id, const std::string& device) {
  impl_->require_writable();
  impl_->db.prepare("UPDATE runs SET device = ? WHERE id = ?", "recording the run's device")
      .bind_text(1, device)
      .bind_int64(2, id)
      .run();
  impl_->require_changed("run", id);
}

void ProjectStore::set_run_status(int64_t id, RunStatus s, const std::string& error_text) {
  impl_->require_writable();
  impl_->db
      .prepare("UPDATE runs SET status = ?, error_text = ? WHERE id = ?",
               "setting the status of run " + std::to_string(id))
      .bind_text(1, to_string(s))
      .bind_text(2, error_text)
      .bind_int64(3, id)
      .run();
  impl_->require_changed("run", id);
}

void ProjectStore::heartbeat(int64_t id, int64_t step) {
  impl_->require_writable();
  impl_->db
      .prepare("UPDATE runs SET heartbeat_at = ?, last_step = ? WHERE id = ?",
               "recording the heartbeat of run " + std::to_string(id))
      .bind_text(1, utc_now_iso())
      .bind_int64(2, step)
      .bind_int64(3, id)
      .run();
  impl_->require_changed("run", id);
}

void ProjectStore::finish_run(int64_t id, RunStatus s, const std::string& final_metrics_json,
                              const std::string& error_text) {
  impl_->require_writable();
  impl_->db
      .prepare(
          "UPDATE runs SET status = ?, finished_at = ?, final_metrics_json = ?, error_text = ? "
          "WHERE id = ?",
          "finishing run " + std::to_string(id))
      .bind_text(1, to_string(s))
      .bind_text(2, utc_now_iso())
      .bind_text(3, final_metrics_json)
      .bind_text(4, error_text)
      .bind_int64(5, id)
      .run();
  impl_->require_changed("run", id);
}

void ProjectStore::rename_run(int64_t id, const std::string& new_name) {
  impl_->require_writable();
  Statement st = impl_->db.prepare("UPDATE runs SET name = ? WHERE id = ?",
                                   "renaming run " + std::to_string(id));
  st.bind_text(1, new_name).bind_int64(2, id);
  try {
    st.run();
  } catch (const SqliteError& e) {
    if (is_unique_violation(e)) {
      throw InputError(impl_->path, "a run named '" + new_name + "' already exists");
    }
    throw;
  }
  impl_->require_changed("run", id);
}

void ProjectStore::delete_run(int64_t id) {
  impl_->require_writable();
  // Metrics, logs, artifacts, memory samples and attention snapshots go with it through
  // ON DELETE CASCADE; forks and trials keep their rows with the link set to NULL.
  impl_->db.prepare("DELETE FROM runs WHERE id = ?", "deleting run " + std::to_string(id))
      .bind_int64(1, id)
      .run();
  impl_->require_changed("run", id);
}

// --- metrics and logs --------------------------------------------------------------------------

void ProjectStore::append_metrics(const std::vector<MetricPoint>& points) {
  impl_->require_writable();
  if (points.empty()) return;
  // One transaction for the batch: one WAL commit instead of one per point.
  Transaction tx(impl_->db);
  Statement st = impl_->db.prepare(
      "INSERT OR REPLACE INTO metrics (run_id, step, name, value) VALUES (?, ?, ?, ?)",
      "writing metrics");
  for (const MetricPoint& p : points) {
    st.bind_int64(1, p.run_id).bind_int64(2, p.step).bind_text(3, p.name).bind_double(4, p.value);
    st.run();
    st.reset();
  }
  tx.commit();
}

std::map<std::string, std::vector<std::pair<int64_t, double>>> ProjectStore::metrics(
    int64_t run_id, int64_t after_step) const {
  Statement st = impl_->db.prepare(
      "SELECT name, step, value FROM metrics WHERE run_id = ? AND step > ? ORDER BY name, step",
      "reading metrics");
  st.bind_int64(1, run_id).bind_int64(2, after_step);
  std::map<std::string, std::vector<std::pair<int64_t, double>>> out;
  std::vector<std::pair<int64_t, double>>* series = nullptr;
  std::string current;
  while (st.step()) {
    std::string name = st.column_text(0);
    if (!series || name != current) {
      current = name;
      series = &out[std::move(name)];
    }
    // NULL is a NaN that SQLite refused to store as a number.
    const double value =
        st.is_null(2) ? std::numeric_limits<double>::quiet_NaN() : st.column_double(2);
    series->emplace_back(st.column_int64(1), value);
  }
  return out;
}

void ProjectStore::truncate_metrics(int64_t run_id, int64_t after_step) {
  impl_->require_writable();
  impl_->db.prepare("DELETE FROM metrics WHERE run_id = ? AND step > ?", "truncating metrics")
      .bind_int64(1, run_id)
      .bind_int64(2, after_step)
      .run();
}

void ProjectStore::put_attention_probes(const std::vector<AttentionProbeRecord>& probes) {
  impl_->require_writable();
  if (probes.empty()) return;
  Transaction tx(impl_->db);
  Statement st = impl_->db.prepare(
      "INSERT OR REPLACE INTO attention_probes (run_id, probe, source, tokens_json, ids_json) "
      "VALUES (?, ?, ?, ?, ?)",
      "writing attention probes");
  for (const auto& p : probes) {
    st.bind_int64(1, p.run_id)
        .bind_int64(2, p.probe)
        .bind_text(3, p.source)
        .bind_text(4, nlohmann::json(p.tokens).dump())
        .bind_text(5, nlohmann::json(p.ids).dump());
    st.run();
    st.reset();
  }
  tx.commit();
}

std::vector<AttentionProbeRecord> ProjectStore::attention_probes(int64_t run_id) const {
  Statement st = impl_->db.prepare(
      "SELECT probe, source, tokens_json, ids_json FROM attention_probes WHERE run_id = ? "
      "ORDER BY probe",
      "reading attention probes");
  st.bind_int64(1, run_id);
  std::vector<AttentionProbeRecord> out;
  while (st.step()) {
    AttentionProbeRecord p;
    p.run_id = run_id;
    p.probe = static_cast<int>(st.column_int64(0));
    p.source = st.column_text(1);
    const std::string tokens = st.column_text(2);
    const auto j = nlohmann::json::parse(tokens, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_array())
      throw InputError(impl_->path + ": run " + std::to_string(run_id) + ", attention probe " +
                           std::to_string(p.probe),
                       "its tokens are not a JSON list");
    for (const auto& t : j) p.tokens.push_back(t.is_string() ? t.get<std::string>() : t.dump());
    const auto ids = nlohmann::json::parse(st.column_text(3), nullptr, false);
    const bool ids_ok =
        !ids.is_discarded() && ids.is_array() &&
        std::all_of(ids.begin(), ids.end(), [](const nlohmann::json& id) {
          return id.is_number_integer() && id.get<int64_t>() >= 0 && id.get<int64_t>() <= INT32_MAX;
        });
    if (!ids_ok || (!ids.empty() && ids.size() != p.tokens.size()))
      throw InputError(impl_->path + ": run " + std::to_string(run_id) + ", attention probe " +
                           std::to_string(p.probe),
                       "its token ids are not a list of one id per token");
    for (const auto& id : ids) p.ids.push_back(id.get<int32_t>());
    out.push_back(std::move(p));
  }
  return out;
}

void ProjectStore::append_attention_maps(const std::vector<AttentionMapRecord>& maps) {
  impl_->require_writable();
  if (maps.empty()) return;
  Transaction tx(impl_->db);
  Statement st = impl_->db.prepare(
      "INSERT OR REPLACE INTO attention_maps (run_id, probe, step, layer, heads, length, size, "
      "codec, data, stats_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      "writing attention maps");
  Statement previews = impl_->db.prepare(
      "INSERT OR REPLACE INTO attention_previews (run_id, probe, step, layer, heads, size, data) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)",
      "writing attention previews");
  Statement previews_gone = impl_->db.prepare(
      "DELETE FROM attention_previews WHERE run_id = ? AND probe = ? AND step = ? AND layer = ?",
      "writing attention previews");
  // (run_id, probe, step, layer): the first four parameters of each statement.
  const auto bind_key = [](Statement& s, const AttentionMapRecord& m) -> Statement& {
    return s.bind_int64(1, m.run_id)
        .bind_int64(2, m.probe)
        .bind_int64(3, m.step)
        .bind_int64(4, m.layer);
  };
  for (const auto& m : maps) {
    bind_key(st, m)
        .bind_int64(5, m.heads)
        .bind_int64(6, m.length)
        .bind_int64(7, m.size)
        .bind_text(8, m.codec)
        .bind_blob(9, m.data)
        .bind_text(10, m.stats_json);
    st.run();
    st.reset();
    if (m.preview.empty()) {
      // A layer written again without a preview must not keep the old maps' one.
      bind_key(previews_gone, m).run();
      previews_gone.reset();
      continue;
    }
    bind_key(previews, m)
        .bind_int64(5, m.heads)
        .bind_int64(6, m.preview_size)
        .bind_blob(7, m.preview);
    previews.run();
    previews.reset();
  }
  tx.commit();
}

std::vector<int64_t> ProjectStore::attention_steps(int64_t run_id, int probe) const {
  Statement st = impl_->db.prepare(
      "SELECT DISTINCT step FROM attention_maps WHERE run_id = ? AND probe = ? ORDER BY step",
      "reading attention steps");
  st.bind_int64(1, run_id).bind_int64(2, probe);
  std::vector<int64_t> out;
  while (st.step()) out.push_back(st.column_int64(0));
  return out;
}

namespace {

// Maps the file into memory while maps are read: SQLite then copies a blob's overflow pages from
// the mapping instead of one read call each (a 7.7 MB layer: 24 -> 8 ms). For that read only: an
// I/O error on a mapped page (the file cut short by another program) is a signal, not an error
// SQLite could report, so no connection keeps the file mapped.
class MappedRead {
 public:
  explicit MappedRead(const Database& db) : db_(db) {
    db_.exec("PRAGMA mmap_size = 2147418112", "mapping the project for reading");  // SQLite's cap
  }
  ~MappedRead() {
    try {
      db_.exec("PRAGMA mmap_size = 0", "unmapping the project");
    } catch (const std::exception&) {
      // The connection stays mapped until it closes; nothing to report from a destructor.
    }
  }
  MappedRead(const MappedRead&) = delete;
  MappedRead& operator=(const MappedRead&) = delete;

 private:
  const Database& db_;
};

// A row of (run_id, probe, step) whose columns 0 and 1 are its layer and heads.
AttentionMapRecord layer_record(const Statement& st, int64_t run_id, int probe, int64_t step) {
  AttentionMapRecord m;
  m.run_id = run_id;
  m.probe = probe;
  m.step = step;
  m.layer = static_cast<int>(st.column_int64(0));
  m.heads = static_cast<int>(st.column_int64(1));
  return m;
}

// The maps of (run_id, probe, step), all layers or the one asked for (layer >= 0), previews
// included: a left join, since layers recorded before schema version 5 have none.
std::vector<AttentionMapRecord> read_attention_maps(const Database& db, int64_t run_id, int probe,
                                                    int64_t step, int layer) {
  const MappedRead mapped(db);
  Statement st = db.prepare(
      "SELECT m.layer, m.heads, m.length, m.size, m.codec, m.data, m.stats_json, "
      "coalesce(p.size, 0), p.data FROM attention_maps m LEFT JOIN attention_previews p "
      "ON p.run_id = m.run_id AND p.probe = m.probe AND p.step = m.step AND p.layer = m.layer "
      "WHERE m.run_id = ? AND m.probe = ? AND m.step = ? AND m.layer BETWEEN ? AND ? "
      "ORDER BY m.layer",
      "reading attention maps");
  // A range on the key: "(? < 0 OR m.layer = ?)" made SQLite load every layer's row of the step
  // (5 x slower for one layer of 32).
  st.bind_int64(1, run_id)
      .bind_int64(2, probe)
      .bind_int64(3, step)
      .bind_int64(4, layer < 0 ? 0 : layer)
      .bind_int64(5, layer < 0 ? std::numeric_limits<int>::max() : layer);
  std::vector<AttentionMapRecord> out;
  while (st.step()) {
    AttentionMapRecord m = layer_record(st, run_id, probe, step);
    m.length = static_cast<int>(st.column_int64(2));
    m.size = static_cast<int>(st.column_int64(3));
    m.codec = st.column_text(4);
    m.data = st.column_blob(5);
    m.stats_json = st.column_text(6);
    m.preview_size = static_cast<int>(st.column_int64(7));
    m.preview = st.column_blob(8);
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

std::vector<AttentionMapRecord> ProjectStore::attention_maps(int64_t run_id, int probe,
                                                             int64_t step) const {
  return read_attention_maps(impl_->db, run_id, probe, step, -1);
}

std::optional<AttentionMapRecord> ProjectStore::attention_layer(int64_t run_id, int probe,
                                                                int64_t step, int layer) const {
  if (layer < 0) return std::nullopt;
  auto records = read_attention_maps(impl_->db, run_id, probe, step, layer);
  if (records.empty()) return std::nullopt;
  return std::move(records.front());
}

std::vector<AttentionMapRecord> ProjectStore::attention_previews(int64_t run_id, int probe,
                                                                 int64_t step) const {
  // The previews' table alone: touching the maps' rows reads their blobs (schema.cpp).
  Statement st = impl_->db.prepare(
      "SELECT layer, heads, size, data FROM attention_previews "
      "WHERE run_id = ? AND probe = ? AND step = ? ORDER BY layer",
      "reading attention previews");
  st.bind_int64(1, run_id).bind_int64(2, probe).bind_int64(3, step);
  std::vector<AttentionMapRecord> out;
  while (st.step()) {
    AttentionMapRecord m = layer_record(st, run_id, probe, step);
    m.preview_size = static_cast<int>(st.column_int64(2));
    m.preview = st.column_blob(3);
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<AttentionMapRecord> ProjectStore::attention_stats(int64_t run_id, int probe) const {
  Statement st = impl_->db.prepare(
      "SELECT step, layer, heads, length, size, codec, stats_json FROM attention_maps "
      "WHERE run_id = ? AND probe = ? ORDER BY step, layer",
      "reading attention statistics");
  st.bind_int64(1, run_id).bind_int64(2, probe);
  std::vector<AttentionMapRecord> out;
  while (st.step()) {
    AttentionMapRecord m;
    m.run_id = run_id;
    m.probe = probe;
    m.step = st.column_int64(0);
    m.layer = static_cast<int>(st.column_int64(1));
    m.heads = static_cast<int>(st.column_int64(2));
    m.length = static_cast<int>(st.column_int64(3));
    m.size = static_cast<int>(st.column_int64(4));
    m.codec = st.column_text(5);
    m.stats_json = st.column_text(6);
    out.push_back(std::move(m));
  }
  return out;
}

void ProjectStore::truncate_attention(int64_t run_id, int64_t after_step) {
  impl_->require_writable();
  Transaction tx(impl_->db);
  for (const char* table : {"attention_maps", "attention_previews"})
    impl_->db
        .prepare(std::string("DELETE FROM ") + table + " WHERE run_id = ? AND step > ?",
                 "truncating attention maps")
        .bind_int64(1, run_id)
        .bind_int64(2, after_step)
        .run();
  tx.commit();
}

void ProjectStore::append_logs(const std::vector<LogRecord>& logs) {
  impl_->require_writable();
  if (logs.empty()) return;
  Transaction tx(impl_->db);
  Statement st = impl_->db.prepare(
      "INSERT INTO logs (run_id, time, level, text) VALUES (?, ?, ?, ?)", "writing logs");
  for (const LogRecord& log : logs) {
    st.bind_int64(1, log.run_id)
        .bind_text(2, or_now(log.time))
        .bind_text(3, log.level)
        .bind_text(4, log.text);
    st.run();
    st.reset();
  }
  tx.commit();
}

std::vector<LogRecord> ProjectStore::logs(int64_t run_id, int64_t after_id) const {
  Statement st = impl_->db.prepare(
      "SELECT run_id, time, level, text, id FROM logs WHERE run_id = ? AND id > ? ORDER BY id",
      "reading logs");
  st.bind_int64(1, run_id).bind_int64(2, after_id);
  std::vector<LogRecord> out;
  while (st.step()) {
    out.push_back({st.column_int64(0), st.column_text(1), st.column_text(2), st.column_text(3),
                   st.column_int64(4)});
  }
  return out;
}

// --- artifacts and presets ---------------------------------------------------------------------

int64_t ProjectStore::add_artifact(const ArtifactRecord& a) {
  impl_->require_writable();
  // Stored relative when inside the project folder, so moving the folder keeps it valid.
  const std::string path = relativize(a.path);
  Transaction tx(impl_->db);
  Statement find = impl_->db.prepare(
      "SELECT id FROM artifacts WHERE run_id = ? AND kind = ? AND path = ?", "reading artifacts");
  find.bind_int64(1, a.run_id).bind_text(2, a.kind).bind_text(3, path);
  int64_t id = 0;
  if (find.step()) {
    id = find.column_int64(0);
    impl_->db
        .prepare("UPDATE artifacts SET sha256 = ?, step = ?, created_at = ? WHERE id = ?",
                 "updating a " + a.kind + " artifact")
        .bind_text(1, a.sha256)
        .bind_int64(2, a.step)
        .bind_text(3, or_now(a.created_at))
        .bind_int64(4, id)
        .run();
  } else {
    impl_->db
        .prepare(
            "INSERT INTO artifacts (run_id, kind, path, sha256, step, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            "adding a " + a.kind + " artifact")
        .bind_int64(1, a.run_id)
        .bind_text(2, a.kind)
        .bind_text(3, path)
        .bind_text(4, a.sha256)
        .bind_int64(5, a.step)
        .bind_text(6, or_now(a.created_at))
        .run();
    id = impl_->db.last_insert_rowid();
  }
  tx.commit();
  return id;
}

std::vector<ArtifactRecord> ProjectStore::artifacts(int64_t run_id) const {
  Statement st = impl_->db.prepare(
      "SELECT id, run_id, kind, path, sha256, step, created_at FROM artifacts "
      "WHERE run_id = ? ORDER BY id",
      "reading artifacts");
  st.bind_int64(1, run_id);
  std::vector<ArtifactRecord> out;
  while (st.step()) {
    ArtifactRecord a;
    a.id = st.column_int64(0);
    a.run_id = st.column_int64(1);
    a.kind = st.column_text(2);
    a.path = st.column_text(3);
    a.sha256 = st.column_text(4);
    a.step = st.column_int64(5);
    a.created_at = st.column_text(6);
    out.push_back(std::move(a));
  }
  return out;
}

void ProjectStore::remove_artifact(int64_t id) {
  impl_->require_writable();
  impl_->db.prepare("DELETE FROM artifacts WHERE id = ?", "removing artifact " + std::to_string(id))
      .bind_int64(1, id)
      .run();
  impl_->require_changed("artifact", id);
}

void ProjectStore::save_preset(const std::string& name, const std::string& json) {
  impl_->require_writable();
  impl_->db
      .prepare(
          "INSERT INTO presets (name, json) VALUES (?, ?) "
          "ON CONFLICT (name) DO UPDATE SET json = excluded.json",
          "saving preset '" + name + "'")
      .bind_text(1, name)
      .bind_text(2, json)
      .run();
}

std::map<std::string, std::string> ProjectStore::presets() const {
  Statement st =
      impl_->db.prepare("SELECT name, json FROM presets ORDER BY name", "reading presets");
  std::map<std::string, std::string> out;
  while (st.step()) out.emplace(st.column_text(0), st.column_text(1));
  return out;
}

}  // namespace deeptune
