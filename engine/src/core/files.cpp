// File-system helpers (see files.h).
#include "deeptune/files.h"

#include <ftw.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "deeptune/error.h"

namespace deeptune {
namespace {
int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
  return std::remove(path) == 0 ? 0 : errno;
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

}  // namespace deeptune
