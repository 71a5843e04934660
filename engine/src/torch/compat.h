// The one place where LibTorch versions differ (Debian's 1.13 CPU build vs. a CUDA 2.x wheel):
// attention kernel, autocast switches, generator state, CUDA queries. Everything else calls these.
#pragma once

#include <torch/torch.h>

#include <sstream>
#include <string>
#include <type_traits>

namespace deeptune::compat {

// softmax(q k^T * scale + causal mask) v. q: (B, nh, T, hd), k/v: (B, nkv, S, hd) -> (B, nh, T,
// hd), nh a multiple of nkv: query head j reads kv head j / (nh / nkv) (grouped-query attention).
// LibTorch >= 2.1 uses the fused scaled_dot_product_attention (flash / memory-efficient kernels);
// older ones the plain composition, which is also the reference the fused path is tested against.
// Grouped k and v are repeated to nh heads first, except by the fused kernel of LibTorch >= 2.5,
// which reads them grouped.
torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        double scale, bool causal);
// Whether attention() takes the fused kernel on `device` (what the memory forecast must assume).
bool fused_attention(const torch::Device& device);
// Whether attention() on `device` reads grouped k and v without repeating them (when it computes
// in 16 bits).
bool grouped_attention(const torch::Device& device);
// Whether Optimizer::zero_grad() frees the gradients (LibTorch >= 2.0) rather than zeroing them.
bool zero_grad_frees();
// Whether cuBLAS's workspaces come from the caching allocator (LibTorch >= 2.0), so that they
// count in its allocated bytes and peak.
bool blas_workspaces_in_allocator();
// Whether mean() keeps its input for backward (LibTorch < 2.0), as the memory forecast assumes.
bool mean_keeps_input();
// Always the plain composition (used when the weights themselves are wanted).
torch::Tensor attention_reference(const torch::Tensor& q, const torch::Tensor& k,
                                  const torch::Tensor& v, double scale, bool causal,
                                  torch::Tensor* weights_out = nullptr);

// LibTorch keys optimizer state by the parameter's TensorImpl: a string of its address in 1.x, the
// address itself in 2.x. Both spellings come from the map's own key type.
template <typename Map>
typename Map::key_type optimizer_state_key(const Map&, const torch::Tensor& p) {
  using Key = typename Map::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream s;  // what c10::guts::to_string does
    s << p.unsafeGetTensorImpl();
    return s.str();
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

// AdamW's update of every parameter that has a gradient, one fused kernel per parameter group
// (at::_fused_adamw_, CUDA, LibTorch >= 2.1) instead of a dozen kernels per parameter. The state
// lives in `opt` exactly as its own step() keeps it, so checkpoints and resumes do not change.
// Returns false, having changed nothing, where the fused kernel does not apply (the CPU, an older
// LibTorch, amsgrad): then call opt.step().
bool fused_adamw_step(torch::optim::AdamW& opt);

// LibTorch's profiler (Kineto) from start_profiler() to save_profile(): every operator on the
// CPU and every kernel on the GPU, written as a Chrome trace (chrome://tracing, Perfetto;
// bench/kernel_profile.py sums it per kernel). Throws where this LibTorch has none (< 2.1).
void start_profiler(bool cuda);
void save_profile(const std::string& path);

// Enables autocast to `dtype` on `device` for the guard's lifetime (no-op for fp32 / kFloat).
class AutocastGuard {
 public:
  AutocastGuard(const torch::Device& device, torch::ScalarType dtype);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool active_ = false;
  bool cuda_ = false;
  bool prev_enabled_ = false;
  torch::ScalarType prev_dtype_ = torch::kFloat;
};
// Whether autocast to `dtype` is available on this device type with this LibTorch.
bool autocast_supported(const torch::Device& device, torch::ScalarType dtype);

// A new generator on `device` (CPU, or a CUDA device) seeded with `seed`: the trainer's own, so
// nothing else in the process (a model summary, an export on another thread) shifts its draws.
torch::Generator make_generator(const torch::Device& device, uint64_t seed);
// A generator's state as bytes (what a checkpoint stores), and back.
torch::Tensor generator_state(const torch::Generator& gen);
void set_generator_state(torch::Generator& gen, const torch::Tensor& state);

bool cuda_available();
std::string device_name(const torch::Device& device);  // "cpu" or "cuda:0 (NVIDIA H200)"
void synchronize(const torch::Device& device);

// The CUDA caching allocator's counters for `device` (all zero for the CPU or a build without
// CUDA): bytes allocated in tensors, reserved from the device, the peak allocated since the last
// reset_peak_memory(), and the device's used and total bytes (every process).
struct CudaMemory {
  int64_t allocated = 0, reserved = 0, peak_allocated = 0, device_used = 0, device_total = 0;
};
CudaMemory cuda_memory(const torch::Device& device);
// Whether `e` reports an allocation that failed for want of memory (CUDA's out-of-memory error,
// the CPU allocator's, or the test hook below).
bool is_out_of_memory(const std::exception& e);
// Returns the allocator's cached, unused blocks to the device (after an out-of-memory error).
void release_cached_memory(const torch::Device& device);
// Test hook for the CPU, which has no allocator limit to hit: with DEEPTUNE_INJECT_OOM_ABOVE=N in
// the environment, a micro-batch of more than N rows fails as if its allocation had failed.
void maybe_inject_out_of_memory(int64_t micro_batch_rows);
// Test hook: with DEEPTUNE_INJECT_NAN_AT="S,K", the first K attempts of steps S and later (in
// this process, for that setting) report a NaN loss, as a diverging step would.
bool inject_nonfinite(int64_t step);
void reset_peak_memory(const torch::Device& device);

// Counts the CPU tensor memory allocated on this thread while it lives, through LibTorch's
// memory-profiling hook (the one its profiler uses): bytes allocated since it started and not yet
// freed, and their peak. Memory that existed before it started is not seen; the CPU allocator
// has no counters of its own.
class CpuAllocationTracker {
 public:
  CpuAllocationTracker();
  ~CpuAllocationTracker();
  CpuAllocationTracker(const CpuAllocationTracker&) = delete;
  CpuAllocationTracker& operator=(const CpuAllocationTracker&) = delete;
  int64_t current() const;
  int64_t peak() const;

 private:
  struct Reporter;
  std::shared_ptr<Reporter> reporter_;
  std::shared_ptr<void> guard_;
};

}  // namespace deeptune::compat
