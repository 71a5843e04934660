// SHA-256 (FIPS 180-4) of a dataset file, so each run records exactly which bytes it trained on.
// Written from the standard rather than pulled from a crypto library: the engine needs only this.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#endif

#include "data/sha256_paths.h"
#include "deeptune/data.h"
#include "deeptune/error.h"
#include "deeptune/files.h"

namespace deeptune {
namespace {

// FIPS 180-4 §4.2.2: first 32 bits of the fractional parts of the cube roots of the first 64
// primes.
constexpr std::array<uint32_t, 64> kRound = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

// FIPS 180-4 §5.3.3: first 32 bits of the fractional parts of the square roots of the first 8
// primes.
constexpr std::array<uint32_t, 8> kInitial = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                              0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

constexpr size_t kBlockBytes = 64;

uint32_t rotr(uint32_t x, int n) {
  return (x >> n) | (x << (32 - n));
}

// The compression function on x86 CPUs with the SHA extensions (Intel since Goldmont/Ice Lake,
// AMD since Zen): about 6x the portable loop, which matters when a run hashes a base model of
// several gigabytes. The state is kept as SHA-NI wants it, (A,B,E,F) and (C,D,G,H); the message
// schedule runs four words at a time (sha256msg1/msg2), two rounds per sha256rnds2.
#if defined(__x86_64__) && defined(__GNUC__)
#define DEEPTUNE_SHA_NI 1
__attribute__((target("sha,sse4.1,ssse3"))) void compress_sha_ni(uint32_t state[8],
                                                                 const unsigned char* data,
                                                                 size_t blocks) {
  const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i abcd = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state));
  __m128i efgh = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state + 4));
  abcd = _mm_shuffle_epi32(abcd, 0xB1);              // CDAB
  efgh = _mm_shuffle_epi32(efgh, 0x1B);              // HGFE
  __m128i abef = _mm_alignr_epi8(abcd, efgh, 8);     // ABEF
  __m128i cdgh = _mm_blend_epi16(efgh, abcd, 0xF0);  // CDGH
  for (; blocks > 0; --blocks, data += kBlockBytes) {
    const __m128i abef_start = abef, cdgh_start = cdgh;
    __m128i w[4];
    for (int group = 0; group < 16; ++group) {  // four rounds per group
      __m128i& words = w[group % 4];
      if (group < 4) {
        words = _mm_shuffle_epi8(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 16 * group)), byte_swap);
      } else {
        // W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], for t = 4g .. 4g+3.
        const __m128i& w1 = w[(group + 3) % 4];          // group - 1
        const __m128i& w2 = w[(group + 2) % 4];          // group - 2
        const __m128i& w3 = w[(group + 1) % 4];          // group - 3
        __m128i next = _mm_sha256msg1_epu32(words, w3);  // words still holds group - 4
        next = _mm_add_epi32(next, _mm_alignr_epi8(w1, w2, 4));
        words = _mm_sha256msg2_epu32(next, w1);
      }
      __m128i msg = _mm_add_epi32(
          words, _mm_loadu_si128(reinterpret_cast<const __m128i*>(kRound.data() + 4 * group)));
      cdgh = _mm_sha256rnds2_epu32(cdgh, abef, msg);
      msg = _mm_shuffle_epi32(msg, 0x0E);
      abef = _mm_sha256rnds2_epu32(abef, cdgh, msg);
    }
    abef = _mm_add_epi32(abef, abef_start);
    cdgh = _mm_add_epi32(cdgh, cdgh_start);
  }
  const __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
  const __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state), _mm_blend_epi16(feba, dchg, 0xF0));   // ABCD
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state + 4), _mm_alignr_epi8(dchg, feba, 8));  // EFGH
}

bool cpu_has_sha_ni() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool ssse3 = c & (1u << 9), sse41 = c & (1u << 19);
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return ssse3 && sse41 && (b & (1u << 29));
}
#endif

// Tests force the portable path to compare the two.
bool g_force_portable = false;

bool use_sha_ni() {
#ifdef DEEPTUNE_SHA_NI
  static const bool available = cpu_has_sha_ni();
  return available && !g_force_portable;
#else
  return false;
#endif
}

// Incremental hasher so a file of any size streams through a fixed buffer.
class Sha256 {
 public:
  void update(const unsigned char* data, size_t size) {
    total_bytes_ += size;
    if (buffered_ > 0) {
      const size_t take = std::min(size, kBlockBytes - buffered_);
      std::memcpy(buffer_.data() + buffered_, data, take);
      buffered_ += take;
      data += take;
      size -= take;
      if (buffered_ < kBlockBytes) return;
      compress_blocks(buffer_.data(), 1);
      buffered_ = 0;
    }
    const size_t blocks = size / kBlockBytes;
    compress_blocks(data, blocks);
    data += blocks * kBlockBytes;
    size -= blocks * kBlockBytes;
    std::memcpy(buffer_.data(), data, size);
    buffered_ = size;
  }

  std::string hex_digest() {
    // §5.1.1 padding: a 1 bit, zeros up to 56 mod 64 bytes, then the message length in bits
    // as a 64-bit big-endian integer.
    const uint64_t bit_length = total_bytes_ * 8;
    const unsigned char one_bit = 0x80;
    update(&one_bit, 1);
    const unsigned char zero = 0;
    while (buffered_ != kBlockBytes - 8) update(&zero, 1);
    unsigned char length[8];
    for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(bit_length >> (56 - 8 * i));
    update(length, 8);

    static const char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(64);
    for (uint32_t word : state_)
      for (int shift = 28; shift >= 0; shift -= 4) out.push_back(kHex[(word >> shift) & 0xf]);
    return out;
  }

 private:
  void compress_blocks(const unsigned char* data, size_t blocks) {
#ifdef DEEPTUNE_SHA_NI
    if (blocks > 0 && use_sha_ni()) return compress_sha_ni(state_.data(), data, blocks);
#endif
    for (; blocks > 0; --blocks, data += kBlockBytes) compress(data);
  }

  // §6.2.2: one 512-bit block.
  void compress(const unsigned char* block) {
    std::array<uint32_t, 64> w;
    for (int t = 0; t < 16; ++t)
      w[t] = (uint32_t{block[4 * t]} << 24) | (uint32_t{block[4 * t + 1]} << 16) |
             (uint32_t{block[4 * t + 2]} << 8) | uint32_t{block[4 * t + 3]};
    for (int t = 16; t < 64; ++t) {
      const uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
      const uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3];
    uint32_t e = state_[4], f = state_[5], g = state_[6], h = state_[7];
    for (int t = 0; t < 64; ++t) {
      const uint32_t big_s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const uint32_t ch = (e & f) ^ (~e & g);
      const uint32_t t1 = h + big_s1 + ch + kRound[t] + w[t];
      const uint32_t big_s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
      const uint32_t t2 = big_s0 + maj;
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    state_[0] += a;
    state_[1] += b;
    state_[2] += c;
    state_[3] += d;
    state_[4] += e;
    state_[5] += f;
    state_[6] += g;
    state_[7] += h;
  }

  std::array<uint32_t, 8> state_ = kInitial;
  std::array<unsigned char, kBlockBytes> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

}  // namespace

std::string sha256_bytes(const void* data, size_t size) {
  Sha256 hasher;
  hasher.update(static_cast<const unsigned char*>(data), size);
  return hasher.hex_digest();
}

namespace detail {
void sha256_force_portable(bool on) {
  g_force_portable = on;
}
bool sha256_hardware() {
  return use_sha_ni();
}
}  // namespace detail

std::string sha256_file(const std::string& path) {
  require_regular_file(path);  // a FIFO would block the open until some writer appears
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open file");
  Sha256 hasher;
  // 1 MiB chunks: large enough that syscalls do not dominate, small enough for any dataset size.
  std::vector<char> chunk(1 << 20);
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const std::streamsize got = in.gcount();
    if (got > 0) hasher.update(reinterpret_cast<const unsigned char*>(chunk.data()), got);
  }
  if (in.bad()) throw InputError(path, "read error while hashing the file");
  return hasher.hex_digest();
}

}  // namespace deeptune
