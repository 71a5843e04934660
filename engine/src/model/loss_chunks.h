// How many rows of logits the chunked head + cross-entropy (linear_cross_entropy.h) computes at a
// time; torch-free, so the memory forecast assumes what the engine does.
#pragma once

#include <algorithm>
#include <cstdint>

namespace deeptune::model {

// About 64 M logits a chunk (256 MiB in fp32), at least one row, at most `rows`.
inline int64_t cross_entropy_chunk_rows(int64_t vocab, int64_t rows) {
  constexpr int64_t kLogitsPerChunk = int64_t(1) << 26;
  return std::max<int64_t>(1, std::min(rows, kLogitsPerChunk / std::max<int64_t>(1, vocab)));
}

}  // namespace deeptune::model
