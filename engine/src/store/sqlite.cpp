// RAII wrappers over the SQLite C API (see sqlite.h). Statements are always finalized, and a
// transaction left open by an exception is rolled back.
#include "store/sqlite.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <utility>

namespace deeptune::store {
namespace {

// "file:" URI for a path, percent-encoding everything but unreserved characters and '/', so a
// '?' or '#' in a folder name is not read as the start of URI parameters.
std::string file_uri(const std::string& path, const char* parameters) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string uri = "file:";
  for (const unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      uri += static_cast<char>(c);
    } else {
      uri += '%';
      uri += kHex[c >> 4];
      uri += kHex[c & 0xf];
    }
  }
  return uri + "?" + parameters;
}

}  // namespace

Database::Database(std::string path, OpenMode mode) : path_(std::move(path)) {
  int flags = SQLITE_OPEN_NOMUTEX;  // one connection per thread (see store.h)
  std::string name = path_;
  switch (mode) {
    case OpenMode::kReadOnly:
      flags |= SQLITE_OPEN_READONLY;
      break;
    case OpenMode::kReadOnlySnapshot:
      flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
      name = file_uri(path_, "immutable=1");
      break;
    case OpenMode::kReadWrite:
      flags |= SQLITE_OPEN_READWRITE;
      break;
    case OpenMode::kReadWriteCreate:
      flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
      break;
  }
  const int rc = sqlite3_open_v2(name.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    // sqlite3_open_v2 hands back a handle even on failure; it carries the message.
    std::string message = "opening failed: ";
    message += db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw SqliteError(path_, message, rc);
  }
  sqlite3_extended_result_codes(db_, 1);
}

Database::~Database() {
  // All statements are finalized by their own destructors before the connection goes, so the
  // plain close succeeds; _v2 would only defer the close if one leaked.
  sqlite3_close_v2(db_);
}

void Database::exec(const std::string& sql, const std::string& what) const {
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) fail(what);
}

std::string read_file_start(const std::string& path, size_t size) {
  sqlite3_vfs* vfs = sqlite3_vfs_find(nullptr);
  // The VFS parses URI parameters from the name, so it must be a name SQLite made.
  sqlite3_filename name = sqlite3_create_filename(path.c_str(), "", "", 0, nullptr);
  std::vector<std::max_align_t> storage(
      (static_cast<size_t>(vfs->szOsFile) + sizeof(std::max_align_t) - 1) /
      sizeof(std::max_align_t));
  auto* file = reinterpret_cast<sqlite3_file*>(storage.data());
  int flags = 0;
  int rc = vfs->xOpen(vfs, name, file, SQLITE_OPEN_READONLY | SQLITE_OPEN_MAIN_DB, &flags);
  if (rc != SQLITE_OK) {
    sqlite3_free_filename(name);
    throw SqliteError(path, "cannot be read (check its permissions)", rc);
  }
  sqlite3_int64 file_size = 0;
  file->pMethods->xFileSize(file, &file_size);
  std::string bytes(
      std::min<size_t>(size, static_cast<size_t>(std::max<sqlite3_int64>(file_size, 0))), '\0');
  if (!bytes.empty())
    rc = file->pMethods->xRead(file, bytes.data(), static_cast<int>(bytes.size()), 0);
  file->pMethods->xClose(file);
  sqlite3_free_filename(name);
  if (rc != SQLITE_OK) throw SqliteError(path, "cannot be read", rc);
  return bytes;
}

Statement Database::prepare(const std::string& sql, std::string what) const {
  return Statement(*this, sql, std::move(what));
}

int64_t Database::pragma_int(const std::string& name) const {
  Statement st = prepare("PRAGMA " + name, "reading PRAGMA " + name);
  return st.step() ? st.column_int64(0) : 0;
}

std::string Database::pragma_text(const std::string& name) const {
  Statement st = prepare("PRAGMA " + name, "reading PRAGMA " + name);
  return st.step() ? st.column_text(0) : std::string();
}

int64_t Database::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}

int64_t Database::changes() const {
  return sqlite3_changes64(db_);
}

bool Database::is_read_only() const {
  return sqlite3_db_readonly(db_, "main") == 1;
}

void Database::fail(const std::string& what) const {
  throw SqliteError(path_, what + " failed: " + sqlite3_errmsg(db_), sqlite3_extended_errcode(db_));
}

Statement::Statement(const Database& db, const std::string& sql, std::string what)
    : db_(&db), what_(std::move(what)) {
  if (sqlite3_prepare_v2(db.handle(), sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr) !=
      SQLITE_OK) {
    db.fail(what_);
  }
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), what_(std::move(other.what_)) {}

void Statement::check_bind(int rc, int index) {
  if (rc != SQLITE_OK) db_->fail(what_ + " (binding parameter " + std::to_string(index) + ")");
}

Statement& Statement::bind_int64(int index, int64_t value) {
  check_bind(sqlite3_bind_int64(stmt_, index, value), index);
  return *this;
}

Statement& Statement::bind_double(int index, double value) {
  check_bind(sqlite3_bind_double(stmt_, index, value), index);
  return *this;
}

Statement& Statement::bind_text(int index, const std::string& value) {
  check_bind(
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
      index);
  return *this;
}

Statement& Statement::bind_blob(int index, const std::vector<uint8_t>& value) {
  // A zero-length blob must stay a blob, not NULL, so never pass a null pointer.
  static const uint8_t kEmpty = 0;
  const void* data = value.empty() ? &kEmpty : value.data();
  check_bind(sqlite3_bind_blob64(stmt_, index, data, value.size(), SQLITE_TRANSIENT), index);
  return *this;
}

Statement& Statement::bind_null(int index) {
  check_bind(sqlite3_bind_null(stmt_, index), index);
  return *this;
}

Statement& Statement::bind_optional(int index, const std::optional<int64_t>& value) {
  return value ? bind_int64(index, *value) : bind_null(index);
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_->fail(what_);
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t Statement::column_int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

double Statement::column_double(int column) const {
  return sqlite3_column_double(stmt_, column);
}

std::string Statement::column_text(int column) const {
  const auto* text = sqlite3_column_text(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);  // after _text: the UTF-8 length
  return text ? std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size))
              : std::string();
}

std::optional<int64_t> Statement::column_optional(int column) const {
  if (is_null(column)) return std::nullopt;
  return column_int64(column);
}

std::vector<uint8_t> Statement::column_blob(int column) const {
  const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, column));
  const int size = sqlite3_column_bytes(stmt_, column);
  return data ? std::vector<uint8_t>(data, data + size) : std::vector<uint8_t>();
}

Transaction::Transaction(const Database& db) : db_(db) {
  db_.exec("BEGIN IMMEDIATE", "starting a transaction");
}

Transaction::~Transaction() {
  if (open_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_.exec("COMMIT", "committing a transaction");
  open_ = false;
}

}  // namespace deeptune::store
