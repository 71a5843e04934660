// The language-model head and its cross-entropy in one autograd node, computed a chunk of rows
// at a time so the (tokens x vocabulary) logits never exist whole: at 8 x 1024 tokens and a
// 32,000-token vocabulary the plain path holds 1 GiB of fp32 logits, 1 GiB of fp32 log-probs kept
// for backward and their gradients. Each chunk's gradient is computed in the forward pass (the
// loss is the graph's end: its gradient is a scalar), and only the gradient of the hidden states
// (and of the head's weight when it trains) is kept until backward.
#pragma once

#include <torch/torch.h>

#include "model/loss_chunks.h"

namespace deeptune::model {

// Summed cross-entropy of logits = h weight^T against `targets`, rows with target -100 skipped,
// with PyTorch's label smoothing: (1 - e) (-log p[target]) + e mean over classes of (-log p).
// h: (N, H); weight: (V, H); targets: (N) int64. The products run in `compute` (the autocast
// type, or kFloat), the softmax in fp32 — the numbers of linear + cross_entropy_sum under
// autocast. `chunk_rows` 0: cross_entropy_chunk_rows (loss_chunks.h). Returns an fp32 scalar.
torch::Tensor linear_cross_entropy_sum(const torch::Tensor& h, const torch::Tensor& weight,
                                       const torch::Tensor& targets, double smoothing,
                                       torch::ScalarType compute, int64_t chunk_rows = 0);

}  // namespace deeptune::model
