// Thin RAII wrappers over the SQLite C API: a connection, a prepared statement and a transaction.
// Private to the store (and its tests); every failure throws SqliteError naming the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "deeptune/error.h"

struct sqlite3;
struct sqlite3_stmt;

namespace deeptune::store {

// A RunError that keeps SQLite's extended result code, so callers can turn a constraint
// violation (a duplicate name) into an InputError and a "not a database" into a refusal.
class SqliteError : public RunError {
 public:
  SqliteError(std::string where, std::string message, int code)
      : RunError(std::move(where), std::move(message)), code_(code) {}
  int code() const { return code_; }  // extended result code, e.g. SQLITE_CONSTRAINT_UNIQUE

 private:
  int code_;
};

enum class OpenMode {
  kReadOnly,  // inspect a file without any chance of writing to it
  // Read-only, and also no lock files: SQLite treats the file as a snapshot and creates no
  // -wal/-shm beside it. Only for a file that no connection has open in WAL mode (no -wal file).
  kReadOnlySnapshot,
  kReadWrite,        // the file must exist
  kReadWriteCreate,  // creates the file when missing
};

class Statement;

// The first `size` bytes of a file (fewer when it is shorter), read through SQLite's own file
// layer. Never read a database file with an ifstream: closing any descriptor of a file drops
// every POSIX lock this process holds on it, SQLite's included, and another process then believes
// it is alone and resets the WAL index under this process's open connections (seen: a GUI
// connection stopped seeing a deeptune-cli run's writes). SQLite's own close keeps such locks.
std::string read_file_start(const std::string& path, size_t size);

class Database {
 public:
  Database(std::string path, OpenMode mode);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

  // Runs one or more statements without results (schema, PRAGMAs, BEGIN/COMMIT).
  void exec(const std::string& sql, const std::string& what) const;
  Statement prepare(const std::string& sql, std::string what) const;
  // Value of a PRAGMA that answers with a single integer (user_version, application_id).
  int64_t pragma_int(const std::string& name) const;
  std::string pragma_text(const std::string& name) const;
  int64_t last_insert_rowid() const;
  int64_t changes() const;  // rows touched by the last INSERT/UPDATE/DELETE
  // True when SQLite opened the file read-only (asked for read-write on a write-protected file or
  // file system, it falls back to reading).
  bool is_read_only() const;

  // Throws SqliteError(path, "<what> failed: <sqlite3_errmsg>") with the last error code.
  [[noreturn]] void fail(const std::string& what) const;

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

// A prepared statement; parameters are 1-based as in SQLite. Reuse it in a loop with reset().
class Statement {
 public:
  Statement(const Database& db, const std::string& sql, std::string what);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind_int64(int index, int64_t value);
  Statement& bind_double(int index, double value);  // NaN is stored as NULL by SQLite
  Statement& bind_text(int index, const std::string& value);
  Statement& bind_blob(int index, const std::vector<uint8_t>& value);
  Statement& bind_null(int index);
  Statement& bind_optional(int index, const std::optional<int64_t>& value);

  bool step();   // true while a row is available, false when done
  void run();    // steps a statement that returns no rows
  void reset();  // ready for new bindings (clears the old ones)

  // Columns are 0-based, read from the current row.
  bool is_null(int column) const;
  int64_t column_int64(int column) const;
  double column_double(int column) const;
  std::string column_text(int column) const;
  std::optional<int64_t> column_optional(int column) const;
  std::vector<uint8_t> column_blob(int column) const;

 private:
  void check_bind(int rc, int index);

  const Database* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string what_;
};

// BEGIN IMMEDIATE … COMMIT; rolls back when destroyed without commit() (an exception unwound it).
// IMMEDIATE takes the write lock up front, so two writers wait on busy_timeout instead of one
// failing with SQLITE_BUSY when it upgrades a read lock mid-transaction.
class Transaction {
 public:
  explicit Transaction(const Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  const Database& db_;
  bool open_ = true;
};

}  // namespace deeptune::store
