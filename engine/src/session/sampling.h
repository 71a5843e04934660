// Choosing the next token from a row of logits: greedy, or temperature / top-k / top-p sampling
// with Hugging Face's repetition penalty, drawn from the engine's own SplitMix64 so that a seed
// gives the same text on every platform. Torch-free: logits are a plain float vector (V).
#pragma once

#include <cstdint>
#include <vector>

#include "core/splitmix64.h"

namespace deeptune::sampling {

struct SamplingOptions {
  double temperature = 0.0;         // 0: greedy (argmax)
  int top_k = 0;                    // 0: no limit
  double top_p = 1.0;               // 1: no limit
  double repetition_penalty = 1.0;  // 1: none
  uint64_t seed = 0;
};

// As transformers' RepetitionPenaltyLogitsProcessor: each token in `context` (once, however often
// it occurs) has a positive logit divided by `penalty`, a negative one multiplied by it.
void apply_repetition_penalty(std::vector<float>& logits, const std::vector<int32_t>& context,
                              double penalty);

// Index of the largest logit (the first of equals).
int32_t argmax(const std::vector<float>& logits);

// Probabilities (summing to 1) of softmax(logits / temperature) restricted to the `top_k` most
// likely tokens, then to the smallest set of most likely tokens whose probability reaches
// `top_p` (HF's order: top-k, then top-p); zero elsewhere. temperature > 0.
std::vector<double> filtered_probabilities(const std::vector<float>& logits, double temperature,
                                           int top_k, double top_p);

class Sampler {
 public:
  // Throws InputError naming the option when a value is out of range.
  explicit Sampler(const SamplingOptions& options);
  // The next token after `context` (prompt and output so far) given its logits (V), which the
  // repetition penalty may change.
  int32_t next(std::vector<float> logits, const std::vector<int32_t>& context);

 private:
  SamplingOptions options_;
  SplitMix64 rng_;
};

}  // namespace deeptune::sampling
