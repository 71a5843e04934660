// Schema history of the project file. Steps are append-only: a released step is never edited,
// a change is a new step, so every older file reaches the same schema.
#include "store/schema.h"

#include <filesystem>
#include <system_error>

#include "deeptune/store.h"
#include "deeptune/version.h"

namespace deeptune::store {
namespace {

struct MigrationStep {
  int version;      // user_version after the step
  const char* sql;  // statements run inside the step's transaction
};

// Version 1: the project, its datasets, runs, metrics and artifacts.
// Times are ISO-8601 UTC text (utc_now_iso), which sorts and compares as text.
// runs.sweep_id has no foreign key: the sweeps table arrived in version 2, and SQLite cannot add
// a constraint to an existing column.
constexpr const char* kVersion1 = R"sql(
CREATE TABLE project (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  app_version TEXT NOT NULL
);
CREATE TABLE datasets (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  path TEXT NOT NULL,
  format TEXT NOT NULL,
  mapping_json TEXT NOT NULL DEFAULT '',
  sha256 TEXT NOT NULL DEFAULT '',
  rows INTEGER NOT NULL DEFAULT 0,
  stats_json TEXT NOT NULL DEFAULT '',
  added_at TEXT NOT NULL
);
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  config_json TEXT NOT NULL,
  status TEXT NOT NULL,
  parent_run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
  sweep_id INTEGER,
  dataset_id INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
  dataset_sha256 TEXT NOT NULL DEFAULT '',
  seed INTEGER NOT NULL DEFAULT 0,
  engine_version TEXT NOT NULL DEFAULT '',
  torch_version TEXT NOT NULL DEFAULT '',
  device TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  started_at TEXT NOT NULL DEFAULT '',
  finished_at TEXT NOT NULL DEFAULT '',
  pid INTEGER NOT NULL DEFAULT 0,
  last_step INTEGER NOT NULL DEFAULT 0,
  max_steps INTEGER NOT NULL DEFAULT 0,
  final_metrics_json TEXT NOT NULL DEFAULT '',
  error_text TEXT NOT NULL DEFAULT ''
);
-- value may be NULL: SQLite stores NaN as NULL, and a diverged loss is worth keeping.
CREATE TABLE metrics (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  name TEXT NOT NULL,
  value REAL,
  PRIMARY KEY (run_id, name, step)
) WITHOUT ROWID;
-- The primary key already serves "all series of a run"; this one serves truncating a run's
-- metrics after a step (resume) without visiting every series.
CREATE INDEX metrics_by_run_step ON metrics(run_id, step);
CREATE TABLE artifacts (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL DEFAULT '',
  step INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
CREATE INDEX artifacts_by_run ON artifacts(run_id);
)sql";

// Version 2: logs, memory samples, attention snapshots, presets, sweeps and trials; runs learn
// the host and heartbeat that crash detection needs.
constexpr const char* kVersion2 = R"sql(
ALTER TABLE runs ADD COLUMN host TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN heartbeat_at TEXT NOT NULL DEFAULT '';
CREATE TABLE logs (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  time TEXT NOT NULL,
  level TEXT NOT NULL,
  text TEXT NOT NULL
);
CREATE INDEX logs_by_run ON logs(run_id);
CREATE TABLE memory_samples (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  time TEXT NOT NULL,
  allocated_bytes INTEGER NOT NULL,
  reserved_bytes INTEGER NOT NULL,
  rss_bytes INTEGER NOT NULL,
  PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
CREATE TABLE attention_snapshots (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  layer INTEGER NOT NULL,
  head INTEGER NOT NULL,
  tokens_json TEXT NOT NULL,
  codec TEXT NOT NULL,
  matrix BLOB NOT NULL,
  PRIMARY KEY (run_id, step, layer, head)
);
CREATE TABLE presets (
  name TEXT PRIMARY KEY,
  json TEXT NOT NULL
);
CREATE TABLE sweeps (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  space_json TEXT NOT NULL,
  created_at TEXT NOT NULL
);
-- A trial outlives the run it launched (run_id becomes NULL) so a sweep's history stays whole.
CREATE TABLE trials (
  id INTEGER PRIMARY KEY,
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
  params_json TEXT NOT NULL,
  status TEXT NOT NULL
);
CREATE INDEX trials_by_sweep ON trials(sweep_id);
CREATE INDEX trials_by_run ON trials(run_id);
)sql";

// Version 3: attention maps captured while training. The probes of a run (their token strings),
// then one row per probe, step and layer holding every head's map of that layer (max-pooled to
// at most 512 x 512, fp16, zstd: codec "fp16+zstd") and per-head statistics of the full map.
// attention_snapshots, reserved in version 2 and never written, gives way to them.
constexpr const char* kVersion3 = R"sql(
DROP TABLE attention_snapshots;
CREATE TABLE attention_probes (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  probe INTEGER NOT NULL,
  source TEXT NOT NULL,
  tokens_json TEXT NOT NULL,
  PRIMARY KEY (run_id, probe)
) WITHOUT ROWID;
CREATE TABLE attention_maps (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  probe INTEGER NOT NULL,
  step INTEGER NOT NULL,
  layer INTEGER NOT NULL,
  heads INTEGER NOT NULL,
  length INTEGER NOT NULL,
  size INTEGER NOT NULL,
  codec TEXT NOT NULL,
  data BLOB NOT NULL,
  stats_json TEXT NOT NULL,
  PRIMARY KEY (run_id, probe, step, layer)
) WITHOUT ROWID;
)sql";

// Version 4: a probe's token ids beside its token strings, so its attention can be recomputed
// from a checkpoint (the full map, adapters on and off) without reading the dataset again. Probes
// recorded by version 3 keep an empty list.
constexpr const char* kVersion4 = R"sql(
ALTER TABLE attention_probes ADD COLUMN ids_json TEXT NOT NULL DEFAULT '[]';
)sql";

// Version 5: a small preview of every head beside each layer's maps (each head max-pooled to at
// most kPreviewSide x kPreviewSide, fp16+zstd), so the Attention page's layers x heads grid of a
// step reads ~130 KB a layer instead of unpacking every map (1 GiB a step at 32 x 32 heads of 512
// tokens). A table of its own rather than a column of attention_maps: a column after the maps'
// blob is only reached by walking that blob's overflow pages, and a join to the maps' rows for
// their shape costs as much (measured: 0.45 s for 32 layers of 7.7 MB maps, 10 ms without), so
// the previews carry their heads. Steps recorded before have no rows here; their previews are
// pooled from the maps when read.
constexpr const char* kVersion5 = R"sql(
CREATE TABLE attention_previews (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  probe INTEGER NOT NULL,
  step INTEGER NOT NULL,
  layer INTEGER NOT NULL,
  heads INTEGER NOT NULL,
  size INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (run_id, probe, step, layer)
) WITHOUT ROWID;
)sql";

constexpr MigrationStep kSteps[] = {
    {1, kVersion1}, {2, kVersion2}, {3, kVersion3}, {4, kVersion4}, {5, kVersion5}};

static_assert(sizeof(kSteps) / sizeof(kSteps[0]) == ProjectStore::kSchemaVersion,
              "every schema version needs its migration step");

void remove_database_files(const std::string& path) {
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"})
    std::filesystem::remove(path + suffix, ignored);
}

}  // namespace

void configure_connection(const Database& db) {
  // busy_timeout first, so switching the journal mode waits for another process's lock.
  db.exec("PRAGMA busy_timeout = 10000", "setting busy_timeout");
  const std::string mode = db.pragma_text("journal_mode = WAL");
  if (mode != "wal") {
    throw SqliteError(db.path(),
                      "switching to WAL journal mode failed: the file stays in '" + mode +
                          "' mode (is it on a network file system?)",
                      0);
  }
  db.exec("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON", "configuring the connection");
}

void migrate(const Database& db, int target_version) {
  for (const MigrationStep& step : kSteps) {
    if (step.version > target_version) break;
    if (db.pragma_int("user_version") >= step.version) continue;
    Transaction tx(db);
    // Another process may have migrated between the read above and taking the write lock.
    if (db.pragma_int("user_version") >= step.version) continue;
    const std::string what = "migrating the project to schema " + std::to_string(step.version);
    if (step.version == 1) {
      db.exec("PRAGMA application_id = " + std::to_string(kApplicationId), what);
    }
    db.exec(step.sql, what);
    db.exec("PRAGMA user_version = " + std::to_string(step.version), what);
    tx.commit();
  }
}

void create_project_file(const std::string& path, const std::string& name, int version) {
  if (version < 1 || version > ProjectStore::kSchemaVersion) {
    throw InputError(path,
                     "cannot create a project with schema version " + std::to_string(version));
  }
  std::error_code ec;
  if (std::filesystem::exists(path, ec) || ec) {
    throw InputError(path, "already exists; choose a new file name for the project");
  }
  try {
    Database db(path, OpenMode::kReadWriteCreate);
    configure_connection(db);
    migrate(db, version);
    Transaction tx(db);
    db.prepare("INSERT INTO project (id, name, created_at, app_version) VALUES (1, ?, ?, ?)",
               "writing the project row")
        .bind_text(1, name)
        .bind_text(2, utc_now_iso())
        .bind_text(3, engine_version())
        .run();
    tx.commit();
  } catch (...) {
    // Database is closed by now (it lived in the try block); leave no half-made project behind.
    remove_database_files(path);
    throw;
  }
}

}  // namespace deeptune::store
