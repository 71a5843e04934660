// The project file's schema history: an ordered list of migration steps keyed by
// PRAGMA user_version, and the marker that makes a SQLite file recognisably a DeepTune project.
#pragma once

#include <cstdint>
#include <string>

#include "store/sqlite.h"

namespace deeptune::store {

// PRAGMA application_id of every project file: "DTpr" in ASCII, so `file(1)` and a hex dump
// (header offset 68) show what the file is.
constexpr int32_t kApplicationId = 0x44547072;

// Connection settings every project connection needs: WAL so the GUI can read while the CLI
// trainer writes; synchronous=NORMAL, which in WAL mode loses at most the last transactions on
// power loss but never corrupts; enforced foreign keys (cascading deletes); and a generous busy
// timeout because a checkpoint by the other process may hold the lock for a moment.
void configure_connection(const Database& db);

// Applies every step above the file's user_version up to `target_version`, each in its own
// BEGIN IMMEDIATE transaction, re-reading user_version inside it so two processes opening the
// same old file at once migrate it once.
void migrate(const Database& db, int target_version);

// Creates a fresh project file at `path` with the schema of `version` (1..kSchemaVersion) and its
// project row. create() uses it with the latest version; tests use it to build an older file.
// The path must not exist.
void create_project_file(const std::string& path, const std::string& name, int version);

}  // namespace deeptune::store
