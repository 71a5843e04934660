// Checkpoints: everything needed to continue a run bit-for-bit — trainable weights
// (trainable.safetensors), optimizer moments (optimizer.pt), RNG states (rng.safetensors) and the
// data position and step (state.json). Written into a temp folder and renamed into place, so a
// crash mid-save never leaves a half checkpoint under the final name.
#pragma once

#include <torch/torch.h>

#include <string>

#include "model/llama.h"

namespace deeptune::train {

struct TrainPosition {
  int64_t step = 0;
  uint64_t epoch = 0;
  uint64_t cursor = 0;
  double loss_scale = 65536.0;  // fp16 dynamic loss scale
};

void save_checkpoint(const std::string& dir, model::Transformer& m, torch::optim::Optimizer& opt,
                     const TrainPosition& pos, const torch::Device& device);
// Restores weights (strict: every trainable parameter must be present with its shape),
// optimizer state, RNG and position. Throws InputError naming the file at fault.
TrainPosition load_checkpoint(const std::string& dir, model::Transformer& m,
                              torch::optim::Optimizer& opt, const torch::Device& device);
// Only the trainable weights (for export), without an optimizer.
void load_trainable(const std::string& dir, model::Transformer& m);

}  // namespace deeptune::train
