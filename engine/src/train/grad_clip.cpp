// Gradient clipping (see grad_clip.h).
#include "train/grad_clip.h"

#include <cmath>

#include "kernels/sum_squares.h"

#ifdef DEEPTUNE_TORCH_CUDA
#include <c10/cuda/CUDAStream.h>
#endif

namespace deeptune::train {

bool uses_fused_norm(const std::vector<torch::Tensor>& params) {
#ifdef DEEPTUNE_TORCH_CUDA
  bool any = false;
  for (const auto& p : params) {
    const auto& g = p.grad();
    if (!g.defined()) continue;
    if (!g.is_cuda() || g.scalar_type() != torch::kFloat || !g.is_contiguous()) return false;
    any = true;
  }
  return any;
#else
  (void)params;
  return false;
#endif
}

double clip_gradients(const std::vector<torch::Tensor>& params, double max_norm) {
#ifdef DEEPTUNE_TORCH_CUDA
  if (uses_fused_norm(params)) {
    std::vector<kernels::FloatSpan> spans;
    std::vector<torch::Tensor> grads;
    for (const auto& p : params) {
      if (!p.grad().defined()) continue;
      grads.push_back(p.grad());
      spans.push_back({p.grad().data_ptr<float>(), p.grad().numel()});
    }
    const double norm = std::sqrt(kernels::sum_squares_cuda(
        spans, c10::cuda::getCurrentCUDAStream(grads.front().device().index()).stream()));
    const double coef = max_norm / (norm + 1e-6);
    if (std::isfinite(norm) && coef < 1.0)
      for (auto& g : grads) g.mul_(coef);
    return norm;
  }
#endif
  return torch::nn::utils::clip_grad_norm_(params, max_norm);
}

}  // namespace deeptune::train
