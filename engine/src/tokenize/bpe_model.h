// The BPE model of tokenizer.json: one pre-token in, ids out, merged exactly as `tokenizers`
// does (lowest merge rank first, leftmost on ties), with byte fallback, unknown-token fusing,
// ignore_merges, and a cache of results per pre-token.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace deeptune::tok {

struct BpeOptions {
  bool ignore_merges = false;
  bool byte_fallback = false;
  bool fuse_unk = false;
  int32_t unk_id = -1;  // -1: no unknown token (unknown characters are dropped, as tokenizers does)
  std::string continuing_subword_prefix;
  std::string end_of_word_suffix;
};

class BpeModel {
 public:
  // `vocab` maps token to id; `merges` are pairs of tokens, rank = position. Merges must name
  // known tokens whose concatenation is known too (the loader checks and reports which).
  BpeModel(std::unordered_map<std::string, int32_t> vocab,
           const std::vector<std::pair<int32_t, int32_t>>& merge_ids,
           const std::vector<int32_t>& merge_results, BpeOptions options);

  // Appends the ids of one pre-token (valid UTF-8, not empty) to `out`.
  void tokenize(std::string_view word, std::vector<int32_t>& out) const;

  int32_t id_of(std::string_view token) const;  // -1 when absent
  const std::unordered_map<std::string, int32_t>& vocab() const { return vocab_; }

 private:
  struct MergeTarget {
    uint32_t rank;
    int32_t id;
  };
  static uint64_t key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  void merge_word(std::string_view word, std::vector<int32_t>& out) const;

  std::unordered_map<std::string, int32_t> vocab_;
  std::unordered_map<uint64_t, MergeTarget> merges_;
  BpeOptions options_;
  int32_t byte_ids_[256];  // "<0xXX>" ids for byte fallback, -1 when absent

  // Pre-tokens repeat (words, whitespace runs): results are kept for short ones, up to a bound,
  // as tokenizers does (its cache: 10 000 entries under 256 bytes; ours is larger because a
  // training set re-encodes the same vocabulary of words many times over).
  static constexpr size_t kCacheEntries = 200000;
  static constexpr size_t kCacheMaxBytes = 256;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace deeptune::tok
