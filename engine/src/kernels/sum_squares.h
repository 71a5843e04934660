// Sum of squares over many fp32 buffers in one pass — the heart of the global gradient norm used
// for clipping. LibTorch's clip_grad_norm_ launches a norm kernel per parameter and then a stack
// and a norm; with LoRA there are hundreds of small tensors, so launches dominate. The CUDA
// version does all of them in one launch; the CPU reference beside it is what it is tested against.
// This header stays free of CUDA and LibTorch types so both compilers can include it.
#pragma once

#include <cstdint>
#include <vector>

namespace deeptune::kernels {

struct FloatSpan {
  const float* data = nullptr;  // contiguous fp32 values
  int64_t size = 0;
};

// Host memory. Accumulates in double: the result feeds a clipping decision and must not depend on
// the order of summation beyond fp64 rounding.
double sum_squares_reference(const std::vector<FloatSpan>& spans);

// Device memory; `stream` is a cudaStream_t (0 for the default stream). Blocks until the result is
// on the host. Only compiled when nvcc is found (DEEPTUNE_HAVE_CUDA).
double sum_squares_cuda(const std::vector<FloatSpan>& spans, void* stream);

}  // namespace deeptune::kernels
