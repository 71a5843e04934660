// Small file-system helpers the engine needs beyond <filesystem>.
#pragma once

#include <string>

namespace deeptune {

// Removes a file or a folder with everything in it (no-op when absent); throws RunError naming
// the path on failure. Written on POSIX nftw rather than std::filesystem::remove_all: PyTorch's
// CUDA wheels export their own copy of the std::filesystem symbols, and calls from our code bind
// to it — its remove_all crashed on a non-empty folder (seen with LibTorch 2.11, GCC 13).
void remove_tree(const std::string& path);

}  // namespace deeptune
