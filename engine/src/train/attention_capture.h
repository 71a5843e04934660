// Attention maps of probes during training: each probe through the model in evaluation mode with
// the reference attention path (which returns the weights), every layer and head reduced to its
// statistics and a stored map (deeptune/attention_map.h). Draws no random numbers.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "deeptune/session.h"
#include "model/llama.h"

namespace deeptune::train {

inline constexpr int64_t kStoredMapSide = 512;  // longer probes are max-pooled to this

// One snapshot per probe (token ids) at `step`, maps max-pooled to at most `max_side` (0: never
// pooled); a model in training mode is put back in it.
std::vector<AttentionSnapshot> capture_attention(model::Transformer& m,
                                                 const std::vector<std::vector<int32_t>>& probes,
                                                 int64_t step, const torch::Device& device,
                                                 int64_t max_side = kStoredMapSide);

}  // namespace deeptune::train
