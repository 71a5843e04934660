// The memory a training step will hold at its peak, predicted from the model's shape and the run's
// settings without building anything — torch-free, so the Hyperparameters and Model pages can ask
// as the user types. The accounting follows what this engine's forward pass keeps for backward,
// op by op (see forecast.cpp), for the two attention paths it has: the plain composition (CPU and
// LibTorch < 2.1) and the fused scaled_dot_product_attention kernel (CUDA with LibTorch >= 2.1).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "deeptune/config.h"
#include "model/llama_config.h"

namespace deeptune::train {

// Whether the weights that do not train are kept in the 16-bit compute type instead of fp32:
// LoRA under autocast (bf16 / fp16) on a CUDA device. They never receive an update, so fp32
// buys nothing but twice the bytes and a cast at every product. The CPU keeps fp32 (its 16-bit
// products are slow and its numbers are the reference the tests compare with).
inline bool base_in_16_bits(const TrainSpec& t, bool cuda) {
  return cuda && t.mode == TrainMode::kLora && t.precision != Precision::kFp32;
}

struct ForecastInput {
  model::LlamaConfig model;          // with the run's settings applied (labels, attention)
  TrainSpec train;                   // precision, mode, batch sizes
  LoraSpec lora;                     // rank and dropout of the adapters
  std::vector<std::string> adapted;  // full names of the adapted linear layers (LoRA mode)
  int64_t micro_batch = 1;           // rows per forward pass
  int64_t sequence = 1;              // tokens per row (every row assumed this long)
  bool cuda = false;                 // the caching allocator rounds blocks to 512 bytes
  bool fused_attention = false;      // scaled_dot_product_attention instead of the composition
  // LibTorch before 2.0 keeps mean()'s input for its backward (for the element count); later
  // versions keep only the sizes. RMSNorm's squares are that input.
  bool mean_keeps_input = false;
  // The fused kernel reads grouped k and v without repeating them (LibTorch >= 2.5 on CUDA).
  bool grouped_attention = false;
  // zero_grad() frees the gradients (LibTorch >= 2.0) instead of zeroing them, so they exist only
  // from backward to the update, not beside the forward's activations.
  bool gradients_freed = false;
};

struct ForecastBytes {
  int64_t base_weights = 0, trainable_weights = 0, gradients = 0, optimizer_state = 0;
  int64_t saved = 0;      // activations kept for backward at the end of the forward pass
  int64_t transient = 0;  // the largest temporary on top of them (logits, scores, grads)
  // Gradients freed between steps (ForecastInput::gradients_freed): the step holds either the
  // activations (forward, most of backward) or the gradients (after backward), whichever is more;
  // activations() is then what the activations add beyond the gradients, so the parts still add
  // up to peak().
  bool gradients_freed = false;
  int64_t step_activations() const { return saved + transient; }
  int64_t activations() const {
    return gradients_freed ? std::max<int64_t>(0, step_activations() - gradients)
                           : step_activations();
  }
  int64_t peak() const {
    return base_weights + trainable_weights + gradients + optimizer_state + activations();
  }
};

ForecastBytes forecast_step(const ForecastInput& in);

}  // namespace deeptune::train
