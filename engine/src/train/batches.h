// From examples to tensors: tokenisation with loss masks, a deterministic resumable sampler and
// padding collation. Dimensions: B examples in a micro-batch, T longest sequence in it.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "deeptune/config.h"
#include "deeptune/data.h"
#include "deeptune/tokenizer.h"

namespace deeptune::train {

struct TokenizedExample {
  std::vector<int32_t> ids;     // BOS + tokens (+ EOS for causal LM), at most max_length
  std::vector<uint8_t> target;  // same length: 1 where the token is predicted (causal LM); never
                                // position 0, which nothing precedes
  int32_t label = -1;           // class index (classification)
};

struct EncodedData {
  std::vector<TokenizedExample> train, val;
  std::vector<std::string> labels;  // class names, sorted (classification)
  size_t truncated = 0;             // examples cut to max_length
  size_t dropped = 0;               // examples with nothing left to predict after truncation
  std::string chat_note;            // messages: which chat family formats them, and why
};

// Tokens and loss positions as example_tokens() gives them (prompts, system and user turns are
// not predicted), cut to max_length. Messages are formatted in the family `chat` resolves to with
// this tokenizer. Throws InputError("model.task", ...) when the mapping does not fit the task,
// and InputError when the chat family cannot be resolved (see resolve_chat_format).
EncodedData encode(const std::vector<Example>& examples, const Split& split, MappingKind mapping,
                   Task task, const Tokenizer& tokenizer, int max_length,
                   ChatTemplate chat = ChatTemplate::kAuto);

// Walks the training split in epochs, each a fresh permutation drawn from (seed, epoch), so that a
// position (epoch, cursor) identifies exactly what comes next — the key to exact resume.
class Sampler {
 public:
  Sampler(size_t n, uint64_t seed);
  std::vector<size_t> next(size_t count);
  uint64_t epoch() const { return epoch_; }
  uint64_t cursor() const { return cursor_; }
  double epochs_done() const { return epoch_ + double(cursor_) / double(order_.size()); }
  void seek(uint64_t epoch, uint64_t cursor);

 private:
  void shuffle();
  size_t n_;
  uint64_t seed_, epoch_ = 0, cursor_ = 0;
  std::vector<size_t> order_;
};

struct Batch {
  torch::Tensor input_ids;  // (B, T) int64, right-padded with pad_id
  torch::Tensor targets;  // (B, T) int64: the token to predict at t+1 ... see collate; -100 = none
  torch::Tensor labels;   // (B) int64 class indices (classification)
  torch::Tensor last_index;  // (B) int64 position of each row's last real token
  int64_t tokens = 0;        // real (non-pad) tokens
  int64_t target_count = 0;  // predicted tokens (causal LM) or examples (classification)
};

// targets[b][t] is the id at position t+1 when that position is predicted, else -100, so the loss
// is cross_entropy(logits[:, t], targets[:, t]) with no further shifting.
Batch collate(const std::vector<const TokenizedExample*>& examples, int32_t pad_id,
              const torch::Device& device);

}  // namespace deeptune::train
