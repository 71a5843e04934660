// Attention maps (see attention_map.h).
#include "deeptune/attention_map.h"

#include <zstd.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "deeptune/error.h"
#include "deeptune/gguf.h"

namespace deeptune {

HeadStats head_stats(const float* w, int64_t t) {
  HeadStats s;
  if (t <= 0) return s;
  for (int64_t i = 0; i < t; ++i) {
    const float* row = w + i * t;
    double entropy = 0.0, largest = 0.0;
    for (int64_t j = 0; j <= i; ++j) {
      const double p = row[j];
      if (p > 0.0) entropy -= p * std::log(p);
      largest = std::max(largest, p);
    }
    s.entropy += entropy;
    s.max += largest;
    s.sink += row[0];
    if (i > 0) s.previous += row[i - 1];
  }
  s.entropy /= double(t);
  s.max /= double(t);
  s.sink /= double(t);
  s.previous = t > 1 ? s.previous / double(t - 1) : 0.0;
  return s;
}

std::vector<float> max_pool(const float* w, int64_t t, int64_t limit, int64_t* n_out) {
  const int64_t n = std::max<int64_t>(1, std::min(t, limit));
  *n_out = n;
  std::vector<float> out(size_t(n * n), 0.0f);
  for (int64_t a = 0; a < n; ++a) {
    const int64_t r0 = a * t / n, r1 = (a + 1) * t / n;
    for (int64_t b = 0; b < n; ++b) {
      const int64_t c0 = b * t / n, c1 = (b + 1) * t / n;
      float best = 0.0f;
      for (int64_t i = r0; i < r1; ++i)
        for (int64_t j = c0; j < c1; ++j) best = std::max(best, w[i * t + j]);
      out[size_t(a * n + b)] = best;
    }
  }
  return out;
}

std::vector<uint8_t> pack_preview(const float* maps, int64_t heads, int64_t t, int64_t side,
                                  int64_t* n) {
  std::vector<float> pooled;
  *n = 0;
  for (int64_t h = 0; h < heads; ++h) {
    const auto one = max_pool(maps + h * t * t, t, side, n);
    pooled.insert(pooled.end(), one.begin(), one.end());
  }
  return pack_maps(pooled);
}

std::vector<uint16_t> to_fp16(const std::vector<float>& values) {
  std::vector<uint16_t> out(values.size());
  std::transform(values.begin(), values.end(), out.begin(), gguf::fp32_to_fp16);
  return out;
}

std::vector<float> from_fp16(const std::vector<uint16_t>& values) {
  std::vector<float> out(values.size());
  from_fp16(values.data(), values.size(), out.data());
  return out;
}

void from_fp16(const uint16_t* values, size_t count, float* out) {
  // Every half has its float in a 256 KB table: a lookup is several times faster than
  // fp16_to_fp32's branches and bit moves, over 8 M values a layer.
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (uint32_t h = 0; h < t.size(); ++h) t[h] = gguf::fp16_to_fp32(static_cast<uint16_t>(h));
    return t;
  }();
  const float* lookup = table.data();
  for (size_t i = 0; i < count; ++i) out[i] = lookup[values[i]];
}

std::vector<uint8_t> pack_maps(const std::vector<float>& values) {
  const auto half = to_fp16(values);
  const size_t raw = half.size() * sizeof(uint16_t);
  std::vector<uint8_t> out(ZSTD_compressBound(raw));
  // Level 3: attention maps are mostly near-zero halves; this keeps capture cheap.
  const size_t n = ZSTD_compress(out.data(), out.size(), half.data(), raw, 3);
  if (ZSTD_isError(n))
    throw RunError("attention maps", std::string("cannot be compressed: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

std::vector<float> unpack_maps(const std::vector<uint8_t>& packed, size_t count,
                               const std::string& what) {
  std::vector<uint16_t> half(count);
  unpack_halves(packed, count, half.data(), what);
  return from_fp16(half);
}

void unpack_halves(const std::vector<uint8_t>& packed, size_t count, uint16_t* out,
                   const std::string& what) {
  const size_t raw = count * sizeof(uint16_t);
  const unsigned long long declared = ZSTD_getFrameContentSize(packed.data(), packed.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR || declared == ZSTD_CONTENTSIZE_UNKNOWN || declared != raw)
    throw InputError(what, "is not a packing of " + std::to_string(count) + " attention weights");
  const size_t n = ZSTD_decompress(out, raw, packed.data(), packed.size());
  if (ZSTD_isError(n) || n != raw)
    throw InputError(what, std::string("cannot be decompressed: ") +
                               (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short"));
}

}  // namespace deeptune
