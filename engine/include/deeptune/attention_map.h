// One head's attention weights over a probe (rows are queries, columns keys, causal: row i puts
// its weight on keys 0..i), and what the Attention page and `deeptune-cli attention` read from
// them: per-head statistics, max-pooling of long probes to a displayable size, and the fp16
// packing snapshots are stored in. Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace deeptune {

struct HeadStats {
  double entropy = 0.0;   // mean over query rows of -sum p log p, in nats (0: one key per row)
  double sink = 0.0;      // mean weight on the first token (attention sinks put most of it there)
  double previous = 0.0;  // mean weight of rows 1.. on the token just before them
  double max = 0.0;       // mean over rows of the row's largest weight (1: every row picks one key)
};

// `weights`: t x t, row-major.
HeadStats head_stats(const float* weights, int64_t t);

// A t x t map max-pooled to n x n, n = min(t, limit): cell (a, b) is the largest weight of the
// rows [a t / n, (a + 1) t / n) and the columns [b t / n, (b + 1) t / n) (integer division), so
// every row and column of the original falls in exactly one block. Returns the n x n map.
std::vector<float> max_pool(const float* weights, int64_t t, int64_t limit, int64_t* n);

// The side of the previews stored with every layer: the Attention page's thumbnail, in cells.
inline constexpr int64_t kPreviewSide = 44;

// `maps`: heads x t x t. Each head max-pooled to n x n, n = min(t, side) (max-pooling keeps a
// thin diagonal and the largest weight), packed like the maps. Returns heads x n x n packed.
std::vector<uint8_t> pack_preview(const float* maps, int64_t heads, int64_t t, int64_t side,
                                  int64_t* n);

// IEEE half precision, round to nearest even (what snapshots are stored in).
std::vector<uint16_t> to_fp16(const std::vector<float>& values);
std::vector<float> from_fp16(const std::vector<uint16_t>& values);
void from_fp16(const uint16_t* values, size_t count, float* out);

// A layer's maps as stored: heads x n x n values, fp16, compressed with zstd ("fp16+zstd").
std::vector<uint8_t> pack_maps(const std::vector<float>& values);
// Throws Error naming `what` when the bytes are not a packing of `count` values.
std::vector<float> unpack_maps(const std::vector<uint8_t>& packed, size_t count,
                               const std::string& what);
// The same, left in half precision, into `out` (count values): a layer of 32 heads at 512 tokens
// (8 M values) unpacked while the user waits for one map of it, to be converted as it is drawn.
void unpack_halves(const std::vector<uint8_t>& packed, size_t count, uint16_t* out,
                   const std::string& what);
inline constexpr const char* kMapsCodec = "fp16+zstd";

}  // namespace deeptune
