// Activation recomputation ("gradient checkpointing"): a piece of the forward pass that keeps
// only its inputs for backward, and runs again inside backward — with the same dropout masks
// (the generator is rewound to where the forward found it) and the same autocast — to
// back-propagate through the fresh copy. The layers choose what to wrap (model/llama.cpp).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <vector>

#include "deeptune/config.h"

namespace deeptune::model {

// What backward recomputes, and what the recomputation must reproduce: the device and autocast
// type of the forward, and the generator its dropout draws from (if any).
struct RecomputeSettings {
  GradientCheckpointing mode = GradientCheckpointing::kOff;
  torch::Device device{torch::kCPU};
  torch::ScalarType autocast = torch::kFloat;  // kFloat: none
  c10::optional<torch::Generator> dropout_gen;
};

using RecomputeFn = std::function<torch::Tensor(const std::vector<torch::Tensor>&)>;

// fn(inputs) (one to three tensors), keeping only `inputs` for backward. Only where gradients
// are being recorded; otherwise it simply calls fn.
torch::Tensor recompute(const RecomputeFn& fn, const std::vector<torch::Tensor>& inputs,
                        const RecomputeSettings& settings);

}  // namespace deeptune::model
