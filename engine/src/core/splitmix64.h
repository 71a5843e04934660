// SplitMix64 (Steele, Lea & Flood 2014): the engine's one pseudo-random generator for data order
// (validation split, epoch shuffles). Tiny and fully specified, so a seed gives the same sequence
// with every compiler and standard library — std::shuffle and the std distributions do not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace deeptune {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, bound), bound > 0: draws at or above the largest multiple of bound are
  // rejected, so no value is favoured by the modulo.
  uint64_t below(uint64_t bound) {
    const uint64_t max = std::numeric_limits<uint64_t>::max();
    const uint64_t limit = max - max % bound;
    uint64_t x;
    do x = next();
    while (x >= limit);
    return x % bound;
  }

  // Fisher-Yates over the whole vector.
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

 private:
  uint64_t state_;
};

}  // namespace deeptune
