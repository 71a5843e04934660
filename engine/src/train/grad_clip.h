// Global-norm gradient clipping, with the one-launch CUDA sum of squares when gradients live on
// the GPU (see kernels/sum_squares.h) and LibTorch's clip_grad_norm_ otherwise.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace deeptune::train {

// Returns the L2 norm of all gradients before clipping; scales them by max_norm / (norm + 1e-6)
// when that is below one (LibTorch's rule). Parameters without a gradient are skipped.
double clip_gradients(const std::vector<torch::Tensor>& params, double max_norm);

// True when clip_gradients uses the CUDA kernel for these parameters.
bool uses_fused_norm(const std::vector<torch::Tensor>& params);

}  // namespace deeptune::train
