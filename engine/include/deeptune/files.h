// Small file-system helpers the engine needs beyond <filesystem>: removing trees, refusing
// non-regular files before opening them, and durable writes (fsync of files and folders).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace deeptune {

// Removes a file or a folder with everything in it (no-op when absent); throws RunError naming
// the path on failure. Written on POSIX nftw rather than std::filesystem::remove_all: PyTorch's
// CUDA wheels export their own copy of the std::filesystem symbols, and calls from our code bind
// to it — its remove_all crashed on a non-empty folder (seen with LibTorch 2.11, GCC 13).
void remove_tree(const std::string& path);

// Throws InputError(path, ...) unless `path` is a regular file (symbolic links are followed):
// "does not exist", "is a folder", "is a FIFO/socket/device, not a regular file". Opening a FIFO
// for reading blocks until a writer appears, so callers check before they open.
void require_regular_file(const std::string& path);

// fsync of a file's data and of a folder's entries (after a rename or create inside it). Throw
// RunError naming the path when the system refuses.
void fsync_file(const std::string& path);
void fsync_directory(const std::string& path);

// Writes `size` bytes to `path` durably and atomically: a temp file beside it
// (`<path>.tmp-<pid>-<n>`), fsync, rename over the target, fsync of the folder. Readers see the
// old or the new file, never a torn one. Throws DiskFullError when the disk is full (temp file
// removed), RunError on other failures.
void write_file_atomic(const std::string& path, const void* data, size_t size);
inline void write_file_atomic(const std::string& path, const std::string& content) {
  write_file_atomic(path, content.data(), content.size());
}

// A file written in pieces, durably and atomically as write_file_atomic writes it: the bytes go
// to a temp file beside `path` until commit() flushes it and renames it over `path`. Destroyed
// without commit() (an error, a cancel), the temp file is removed and `path` is untouched. Write
// failures throw as write_file_atomic does, after removing the temp file.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t size);
  void commit();
  uint64_t written() const { return written_; }
  const std::string& path() const { return path_; }

 private:
  [[noreturn]] void fail(const std::string& what, int err);
  std::string path_;
  std::string tmp_;
  int fd_ = -1;
  uint64_t written_ = 0;
};

// The whole file, after require_regular_file. Throws InputError when it is missing or not a
// regular file, RunError when reading fails.
std::vector<uint8_t> read_file_bytes(const std::string& path);

// A regular file mapped read-only: `data` stays valid while `owner` (or a copy of it) lives. An
// empty file gives size 0 and no mapping. Throws InputError naming the path when it cannot be
// opened or mapped. The file must not be truncated while mapped.
struct MappedFile {
  std::shared_ptr<const void> owner;
  const uint8_t* data = nullptr;
  uint64_t size = 0;
};
MappedFile map_file(const std::string& path);

// Removes what an interrupted writer left in `dir`: temp files `<name>.tmp-<pid>[-<n>]` whose
// process no longer exists, and, when `with_partials` (the caller owns the folder: it has claimed
// the run), every `<name>.partial` folder. Returns the names removed; what cannot be removed
// stays.
std::vector<std::string> remove_stale_temporaries(const std::string& dir, bool with_partials);

// True when process `pid` certainly no longer exists on this machine (ESRCH); an unknown or
// foreign pid is never declared gone.
bool process_is_gone(int64_t pid);

// Bytes available to this user on the file system holding `path` (its nearest existing
// ancestor); -1 when unknown.
int64_t free_bytes(const std::string& path);

}  // namespace deeptune
