// Incremental decoding for the LLaMA-family model: a per-layer cache of keys and values so that a
// forward over new tokens attends to everything seen before without recomputing it. Inference
// only (no autograd, no attention capture, no classification head); training uses lm_logits.
// Shapes: B batch, n new tokens, S cached positions, nkv key-value heads, hd head dim, V vocab.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "model/llama.h"

namespace deeptune::model {

// Keys and values of every layer, after RoPE and before grouped-query expansion (so the cache is
// nkv / nh the size of the expanded one), in the activations' dtype.
struct KvCache {
  std::vector<torch::Tensor> k, v;  // per layer: (B, nkv, S, hd); empty before the first forward
  torch::Tensor inv_freq;           // (hd/2) fp32 RoPE frequencies, computed once
  double attention_factor = 1.0;    // yarn's cos/sin scale (1 otherwise)

  int64_t length() const {  // S
    return k.empty() || !k.front().defined() ? 0 : k.front().size(2);
  }
  void clear() { *this = KvCache{}; }
};

// Logits of the next token after each of `ids` (B, n), which sit at positions
// [cache.length(), cache.length() + n); appends their keys and values to `cache`. -> (B, n, V).
// Equals lm_logits over the whole sequence at those positions (causal mask aligned to the end).
torch::Tensor lm_logits_cached(Transformer& m, const torch::Tensor& ids, KvCache& cache);

}  // namespace deeptune::model
