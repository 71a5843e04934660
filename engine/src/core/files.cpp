// File-system helpers (see files.h).
#include "deeptune/files.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "deeptune/error.h"
#include "deeptune/text.h"

namespace deeptune {
namespace {
int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
  return std::remove(path) == 0 ? 0 : errno;
}

std::string errno_text(int err) {
  return err == ENOSPC ? "the disk is full" : std::strerror(err);
}

[[noreturn]] void io_failure(const std::string& path, const std::string& what, int err) {
  if (err == ENOSPC || err == EDQUOT)
    throw DiskFullError(
        path, what + ": the disk is full (" + std::to_string(free_bytes(path)) + " bytes free)");
  throw RunError(path, what + ": " + std::strerror(err));
}

void fsync_fd_path(const std::string& path, int flags, const char* what) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0)
    throw RunError(path, std::string("cannot open to ") + what + ": " + errno_text(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  // Some file systems refuse fsync on folders (EINVAL); their renames are as durable as it gets.
  if (rc != 0 && !(err == EINVAL && (flags & O_DIRECTORY)))
    throw RunError(path, std::string("cannot ") + what + ": " + errno_text(err));
}
}  // namespace

void remove_tree(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return;
  // FTW_DEPTH: children before their folder; FTW_PHYS: never follow symbolic links out of the tree.
  const int rc = nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  if (rc != 0)
    throw RunError(path, std::string("cannot remove: ") + std::strerror(rc > 0 ? rc : errno));
}

void require_regular_file(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) throw InputError(path, "does not exist");
    throw InputError(path, std::string("cannot be read: ") + std::strerror(errno));
  }
  if (S_ISREG(st.st_mode)) return;
  if (S_ISDIR(st.st_mode)) throw InputError(path, "is a folder, not a file");
  const char* kind = S_ISFIFO(st.st_mode)   ? "a FIFO (named pipe)"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                     : S_ISCHR(st.st_mode)  ? "a character device"
                     : S_ISBLK(st.st_mode)  ? "a block device"
                                            : "a special file";
  throw InputError(path, std::string("is ") + kind + ", not a regular file");
}

void fsync_file(const std::string& path) {
  fsync_fd_path(path, O_RDONLY, "sync it to disk");
}

void fsync_directory(const std::string& path) {
  fsync_fd_path(path.empty() ? "." : path, O_RDONLY | O_DIRECTORY, "sync the folder to disk");
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  static std::atomic<unsigned> counter{0};
  tmp_ = path_ + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) io_failure(path_, "cannot create " + tmp_, errno);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

void AtomicFile::fail(const std::string& what, int err) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(tmp_.c_str());
  io_failure(path_, what, err);
}

void AtomicFile::write(const void* data, size_t size) {
  if (fd_ < 0) throw RunError(path_, "written after it was committed or failed");
  const auto* bytes = static_cast<const char*>(data);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd_, bytes + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("cannot write", n < 0 ? errno : EIO);
    done += static_cast<size_t>(n);
  }
  written_ += size;
}

void AtomicFile::commit() {
  if (fd_ < 0) throw RunError(path_, "committed twice or after a failure");
  // Flushed before the rename, so a crash cannot leave a renamed but empty file.
  if (::fsync(fd_) != 0) fail("cannot flush to disk", errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp_.c_str());
    io_failure(path_, "cannot close", err);
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp_.c_str());
    io_failure(path_, "cannot replace the file", err);
  }
  fsync_directory(std::filesystem::path(path_).parent_path().string());
}

void write_file_atomic(const std::string& path, const void* data, size_t size) {
  AtomicFile file(path);
  file.write(data, size);
  file.commit();
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  require_regular_file(path);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw RunError(path, std::string("cannot read: ") + std::strerror(err));
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw RunError(path, std::string("cannot read: ") + std::strerror(err));
    }
    if (n == 0) break;  // shrank while reading: parse what is there, the checks will tell
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  bytes.resize(done);
  return bytes;
}

std::vector<std::string> remove_stale_temporaries(const std::string& dir, bool with_partials) {
  std::vector<std::string> removed;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    bool stale = false;
    if (with_partials && ends_with(name, ".partial")) {
      stale = true;
    } else if (const auto at = name.rfind(".tmp-"); at != std::string::npos) {
      // <name>.tmp-<pid> or <name>.tmp-<pid>-<n>
      const std::string rest = name.substr(at + 5);
      const std::string pid = rest.substr(0, rest.find('-'));
      const bool digits = !pid.empty() && pid.size() <= 10 &&
                          pid.find_first_not_of("0123456789") == std::string::npos;
      stale = digits && process_is_gone(std::stoll(pid));
    }
    if (!stale) continue;
    try {
      remove_tree(it->path().string());
      removed.push_back(name);
    } catch (const Error&) {
      // Best effort: the next operation tries again.
    }
  }
  return removed;
}

bool process_is_gone(int64_t pid) {
  if (pid <= 0 || pid > INT_MAX) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == -1 && errno == ESRCH;
}

int64_t free_bytes(const std::string& path) {
  std::filesystem::path p(path);
  std::error_code ec;
  while (!p.empty() && !std::filesystem::exists(p, ec)) p = p.parent_path();
  struct statvfs vfs;
  if (::statvfs(p.empty() ? "." : p.c_str(), &vfs) != 0) return -1;
  return static_cast<int64_t>(vfs.f_bavail) * static_cast<int64_t>(vfs.f_frsize);
}

MappedFile map_file(const std::string& path) {
  require_regular_file(path);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw InputError(path, std::string("cannot stat: ") + std::strerror(err));
  }
  MappedFile m;
  m.size = static_cast<uint64_t>(st.st_size);
  if (m.size == 0) {
    ::close(fd);
    return m;
  }
  void* addr = ::mmap(nullptr, m.size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int err = errno;
  ::close(fd);  // the mapping outlives the descriptor
  if (addr == MAP_FAILED) throw InputError(path, std::string("cannot map: ") + std::strerror(err));
  const uint64_t size = m.size;
  m.owner = std::shared_ptr<const void>(
      addr, [size](const void* p) { ::munmap(const_cast<void*>(p), size); });
  m.data = static_cast<const uint8_t*>(addr);
  return m;
}

}  // namespace deeptune
