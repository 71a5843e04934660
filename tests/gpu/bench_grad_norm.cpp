// Benchmark: global gradient norm + clip, LibTorch's clip_grad_norm_ vs. our one-launch kernel
// (train/grad_clip.h), on the LoRA gradients of TinyLlama-1.1B's shape. Prints medians and the
// ratio measured in the same run. Needs a CUDA device; says so and exits 0 without one.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "train/grad_clip.h"

namespace {
std::vector<torch::Tensor> lora_params(int layers,
                                       const std::vector<std::pair<int64_t, int64_t>>& shapes,
                                       int64_t r) {
  std::vector<torch::Tensor> out;
  auto opts = torch::TensorOptions().device(torch::kCUDA).dtype(torch::kFloat);
  for (int l = 0; l < layers; ++l)
    for (auto [in, outf] : shapes) {
      for (auto shape : {std::vector<int64_t>{r, in}, std::vector<int64_t>{outf, r}}) {
        auto p = torch::zeros(shape, opts).requires_grad_(true);
        p.mutable_grad() = torch::randn(shape, opts) * 1e-3;
        out.push_back(p);
      }
    }
  return out;
}

template <typename F>
double median_us(F&& f, int reps = 200) {
  std::vector<double> t;
  for (int i = 0; i < 20; ++i) f();
  torch::cuda::synchronize();
  for (int i = 0; i < reps; ++i) {
    auto a = std::chrono::steady_clock::now();
    f();
    torch::cuda::synchronize();
    t.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}
}  // namespace

int main() {
  if (!torch::cuda::is_available()) {
    std::printf("bench_grad_norm: no CUDA device, nothing measured\n");
    return 0;
  }
  const int64_t h = 2048, kv = 256, inter = 5632, r = 16;
  struct Case {
    const char* name;
    std::vector<std::pair<int64_t, int64_t>> shapes;
  };
  const Case cases[] = {
      {"q,v (88 tensors)", {{h, h}, {h, kv}}},
      {"all 7 projections (308 tensors)",
       {{h, h}, {h, kv}, {h, kv}, {h, h}, {h, inter}, {h, inter}, {inter, h}}},
  };
  std::printf("%-34s %14s %14s %8s %12s\n", "LoRA r=16, 22 layers", "libtorch (us)", "fused (us)",
              "ratio", "|norm diff|");
  for (const auto& c : cases) {
    auto params = lora_params(22, c.shapes, r);
    if (!deeptune::train::uses_fused_norm(params)) {
      std::printf("fused path not available in this build\n");
      return 1;
    }
    const double a = torch::nn::utils::clip_grad_norm_(params, 1e9);
    const double b = deeptune::train::clip_gradients(params, 1e9);
    const double t_ref = median_us([&] { torch::nn::utils::clip_grad_norm_(params, 1e9); });
    const double t_ours = median_us([&] { deeptune::train::clip_gradients(params, 1e9); });
    std::printf("%-34s %14.1f %14.1f %7.2fx %12.3g\n", c.name, t_ref, t_ours, t_ref / t_ours,
                std::abs(a - b));
  }
  return 0;
}
