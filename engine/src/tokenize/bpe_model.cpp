// BPE merging as the `tokenizers` library does it (see bpe_model.h).
#include "tokenize/bpe_model.h"

#include <cstdio>
#include <queue>

#include "tokenize/unicode.h"

namespace deeptune::tok {

BpeModel::BpeModel(std::unordered_map<std::string, int32_t> vocab,
                   const std::vector<std::pair<int32_t, int32_t>>& merge_ids,
                   const std::vector<int32_t>& merge_results, BpeOptions options)
    : vocab_(std::move(vocab)), options_(std::move(options)) {
  merges_.reserve(merge_ids.size());
  // A repeated pair keeps its last rank, as tokenizers' map built from the merges list does.
  for (size_t i = 0; i < merge_ids.size(); ++i)
    merges_[key(merge_ids[i].first, merge_ids[i].second)] = {static_cast<uint32_t>(i),
                                                             merge_results[i]};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    byte_ids_[b] = id_of(name);
  }
}

int32_t BpeModel::id_of(std::string_view token) const {
  const auto it = vocab_.find(std::string(token));
  return it == vocab_.end() ? -1 : it->second;
}

void BpeModel::tokenize(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  // ignore_merges: a pre-token that is in the vocabulary is emitted whole (Llama 3).
  const auto whole_or_merged = [&](const std::string& text) {
    if (options_.ignore_merges) {
      const auto it = vocab_.find(text);
      if (it != vocab_.end()) {
        out.push_back(it->second);
        return;
      }
    }
    merge_word(text, out);
  };
  std::string key_text(word);
  if (word.size() >= kCacheMaxBytes) {
    whole_or_merged(key_text);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    const auto it = cache_.find(key_text);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t first = out.size();
  whole_or_merged(key_text);
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() < kCacheEntries)
    cache_.emplace(std::move(key_text), std::vector<int32_t>(out.begin() + first, out.end()));
}

void BpeModel::merge_word(std::string_view word, std::vector<int32_t>& out) const {
  // Symbols in a doubly linked list over a vector; a merged-away symbol gets id -1.
  struct Symbol {
    int32_t id;
    int32_t prev;
    int32_t next;
  };
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  const auto add = [&](int32_t id) {
    const auto n = static_cast<int32_t>(symbols.size());
    symbols.push_back({id, n - 1, n + 1});
  };

  // Characters to initial symbols (tokenizers' merge_word): a known character is its id; an
  // unknown one becomes its byte tokens when byte_fallback has them all, else the unknown token,
  // runs of which fuse into one when fuse_unk. A pending unknown token is placed before the next
  // known character (not before byte-fallback tokens: tokenizers does the same).
  int32_t pending_unk = -1;
  std::string piece;
  for (size_t i = 0; i < word.size();) {
    const size_t len = utf8_length(static_cast<unsigned char>(word[i]));
    const bool is_first = i == 0, is_last = i + len >= word.size();
    piece.clear();
    if (!is_first) piece += options_.continuing_subword_prefix;
    piece.append(word.data() + i, len);
    if (is_last) piece += options_.end_of_word_suffix;
    const auto it = vocab_.find(piece);
    if (it != vocab_.end()) {
      if (pending_unk >= 0) add(pending_unk), pending_unk = -1;
      add(it->second);
    } else {
      bool done = false;
      if (options_.byte_fallback) {
        bool all = true;
        for (size_t k = 0; k < piece.size(); ++k)
          all = all && byte_ids_[static_cast<unsigned char>(piece[k])] >= 0;
        if (all) {
          for (size_t k = 0; k < piece.size(); ++k)
            add(byte_ids_[static_cast<unsigned char>(piece[k])]);
          done = true;
        }
      }
      if (!done && options_.unk_id >= 0) {
        if (pending_unk >= 0 && !options_.fuse_unk) add(pending_unk);
        pending_unk = options_.unk_id;
      }
    }
    i += len;
  }
  if (pending_unk >= 0) add(pending_unk);
  if (symbols.empty()) return;
  symbols.back().next = -1;

  struct Candidate {
    uint32_t rank;
    int32_t pos;
    int32_t new_id;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  const auto push_pair = [&](int32_t pos) {
    const int32_t next = symbols[pos].next;
    if (next < 0) return;
    const auto it = merges_.find(key(symbols[pos].id, symbols[next].id));
    if (it != merges_.end()) queue.push({it->second.rank, pos, it->second.id});
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(symbols.size()); ++i) push_pair(i);

  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (left.id < 0 || left.next < 0) continue;
    const int32_t right_pos = left.next;
    // A stale entry: the pair at this position has changed since it was queued.
    const auto it = merges_.find(key(left.id, symbols[right_pos].id));
    if (it == merges_.end() || it->second.id != top.new_id) continue;
    left.id = top.new_id;
    left.next = symbols[right_pos].next;
    symbols[right_pos].id = -1;
    if (left.next >= 0) symbols[left.next].prev = top.pos;
    if (left.prev >= 0) push_pair(left.prev);
    push_pair(top.pos);
  }
  for (int32_t i = 0; i >= 0; i = symbols[i].next) out.push_back(symbols[i].id);
}

}  // namespace deeptune::tok
