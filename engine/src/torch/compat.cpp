// LibTorch version differences, selected with TORCH_VERSION_MAJOR/MINOR (see compat.h).
#include "torch/compat.h"

#include <ATen/autocast_mode.h>
#include <c10/core/Allocator.h>
#include <c10/util/ThreadLocalDebugInfo.h>
#include <torch/version.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <stdexcept>

#include "deeptune/version.h"

#define DT_TORCH_AT_LEAST(maj, min) \
  (TORCH_VERSION_MAJOR > (maj) || (TORCH_VERSION_MAJOR == (maj) && TORCH_VERSION_MINOR >= (min)))

#if defined(DEEPTUNE_TORCH_CUDA)
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAGeneratorImpl.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#define DT_WITH_CUDA_RUNTIME 1
#endif

namespace deeptune {

std::string torch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

namespace compat {

torch::Tensor attention_reference(const torch::Tensor& q, const torch::Tensor& k,
                                  const torch::Tensor& v, double scale, bool causal,
                                  torch::Tensor* weights_out) {
  auto scores = torch::matmul(q, k.transpose(-2, -1)) * scale;  // (B, nh, T, S)
  if (causal) {
    const int64_t t = q.size(-2), s = k.size(-2);
    // Query i sees keys 0..i+(s-t): with a cache (s > t) the newest queries align with the end.
    auto mask = torch::ones({t, s}, torch::TensorOptions().dtype(torch::kBool).device(q.device()))
                    .triu(s - t + 1);
    scores = scores.masked_fill(mask, -std::numeric_limits<float>::infinity());
  }
  // Softmax in fp32: bf16/fp16 scores lose too much for long rows.
  auto weights = torch::softmax(scores.to(torch::kFloat), -1).to(q.scalar_type());
  if (weights_out) *weights_out = weights;
  return torch::matmul(weights, v);
}

torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        double scale, bool causal) {
#if DT_TORCH_AT_LEAST(2, 1)
  // The fused kernel aligns a causal mask top-left; with a cache (more keys than queries) we need
  // it bottom-right, which only the reference path does.
  if (causal && q.size(-2) != k.size(-2)) return attention_reference(q, k, v, scale, causal);
  return at::scaled_dot_product_attention(q, k, v, /*attn_mask=*/{}, /*dropout_p=*/0.0, causal,
                                          scale);
#else
  return attention_reference(q, k, v, scale, causal);
#endif
}

bool mean_keeps_input() {
  return !DT_TORCH_AT_LEAST(2, 0);
}

bool fused_attention(const torch::Device& device) {
#if DT_TORCH_AT_LEAST(2, 1)
  return device.is_cuda();
#else
  (void)device;
  return false;
#endif
}

bool autocast_supported(const torch::Device& device, torch::ScalarType dtype) {
  if (dtype == torch::kFloat) return true;
  if (device.is_cuda()) return dtype == torch::kBFloat16 || dtype == torch::kHalf;
  // CPU autocast handles bf16 only.
  return dtype == torch::kBFloat16;
}

AutocastGuard::AutocastGuard(const torch::Device& device, torch::ScalarType dtype) {
  if (dtype == torch::kFloat || !autocast_supported(device, dtype)) return;
  active_ = true;
  cuda_ = device.is_cuda();
#if DT_TORCH_AT_LEAST(2, 4)
  const auto type = cuda_ ? at::kCUDA : at::kCPU;
  prev_enabled_ = at::autocast::is_autocast_enabled(type);
  prev_dtype_ = at::autocast::get_autocast_dtype(type);
  at::autocast::set_autocast_enabled(type, true);
  at::autocast::set_autocast_dtype(type, dtype);
#else
  if (cuda_) {
    prev_enabled_ = at::autocast::is_enabled();
    prev_dtype_ = at::autocast::get_autocast_gpu_dtype();
    at::autocast::set_enabled(true);
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    prev_enabled_ = at::autocast::is_cpu_enabled();
    prev_dtype_ = at::autocast::get_autocast_cpu_dtype();
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  // Leaving the outermost region drops the cached casts of the weights, as torch.autocast does.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
#if DT_TORCH_AT_LEAST(2, 4)
  const auto type = cuda_ ? at::kCUDA : at::kCPU;
  at::autocast::set_autocast_enabled(type, prev_enabled_);
  at::autocast::set_autocast_dtype(type, prev_dtype_);
#else
  if (cuda_) {
    at::autocast::set_enabled(prev_enabled_);
    at::autocast::set_autocast_gpu_dtype(prev_dtype_);
  } else {
    at::autocast::set_cpu_enabled(prev_enabled_);
    at::autocast::set_autocast_cpu_dtype(prev_dtype_);
  }
#endif
}

torch::Generator make_generator(const torch::Device& device, uint64_t seed) {
  if (device.is_cuda()) {
#if defined(DT_WITH_CUDA_RUNTIME)
    auto gen = at::cuda::detail::createCUDAGenerator(device.has_index() ? device.index() : 0);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(seed);
    return gen;
#else
    throw std::runtime_error("this LibTorch build has no CUDA generators");
#endif
  }
  return at::detail::createCPUGenerator(seed);
}

torch::Tensor generator_state(const torch::Generator& gen) {
  auto g = gen;  // a handle: shares the generator
  std::lock_guard<std::mutex> lock(g.mutex());
  return g.get_state();
}

void set_generator_state(torch::Generator& gen, const torch::Tensor& state) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

bool cuda_available() {
  return torch::cuda::is_available();
}

std::string device_name(const torch::Device& device) {
  if (!device.is_cuda()) return "cpu";
  const int index = device.has_index() ? device.index() : 0;
  std::string name = "cuda:" + std::to_string(index);
#ifdef DT_WITH_CUDA_RUNTIME
  name += std::string(" (") + at::cuda::getDeviceProperties(index)->name + ")";
#endif
  return name;
}

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.has_index() ? device.index() : -1);
}

CudaMemory cuda_memory(const torch::Device& device) {
  CudaMemory m;
#ifdef DT_WITH_CUDA_RUNTIME
  if (!device.is_cuda()) return m;
  const int index = device.has_index() ? device.index() : 0;
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(index);
  // StatType::AGGREGATE (all pools) is entry 0 in every version; its namespace moved in 2.x.
  const size_t aggregate = 0;
  m.allocated = stats.allocated_bytes[aggregate].current;
  m.peak_allocated = stats.allocated_bytes[aggregate].peak;
  m.reserved = stats.reserved_bytes[aggregate].current;
  size_t free = 0, total = 0;
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(index));
  if (cudaMemGetInfo(&free, &total) == cudaSuccess) {
    m.device_total = static_cast<int64_t>(total);
    m.device_used = static_cast<int64_t>(total - free);
  }
#else
  (void)device;
#endif
  return m;
}

bool is_out_of_memory(const std::exception& e) {
#if DT_TORCH_AT_LEAST(2, 0)
  if (dynamic_cast<const c10::OutOfMemoryError*>(&e)) return true;
#endif
  const std::string what = e.what();
  return what.find("out of memory") != std::string::npos ||
         what.find("not enough memory") != std::string::npos ||
         what.find("can't allocate memory") != std::string::npos;
}

void release_cached_memory(const torch::Device& device) {
#ifdef DT_WITH_CUDA_RUNTIME
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::emptyCache();
#else
  (void)device;
#endif
}

void maybe_inject_out_of_memory(int64_t micro_batch_rows) {
  const char* v = std::getenv("DEEPTUNE_INJECT_OOM_ABOVE");
  const int64_t limit = v ? std::atoll(v) : int64_t{-1};
  if (limit >= 0 && micro_batch_rows > limit)
    throw std::runtime_error(
        "out of memory (injected by DEEPTUNE_INJECT_OOM_ABOVE=" + std::to_string(limit) +
        " for a micro-batch of " + std::to_string(micro_batch_rows) + " rows)");
}

bool inject_nonfinite(int64_t step) {
  const char* v = std::getenv("DEEPTUNE_INJECT_NAN_AT");
  if (!v) return false;
  static std::mutex mutex;
  static std::map<std::string, int64_t> done;  // injections made per setting
  int64_t from = 0, count = 0;
  if (std::sscanf(v, "%ld,%ld", &from, &count) != 2 || step < from) return false;
  std::lock_guard<std::mutex> lock(mutex);
  if (done[v] >= count) return false;
  ++done[v];
  return true;
}

void reset_peak_memory(const torch::Device& device) {
#ifdef DT_WITH_CUDA_RUNTIME
  if (device.is_cuda())
    c10::cuda::CUDACachingAllocator::resetPeakStats(device.has_index() ? device.index() : 0);
#else
  (void)device;
#endif
}

namespace {
// The totals' type of reportMemoryUsage changed across LibTorch versions (int64_t, then size_t);
// read it off the base class so the override matches either.
template <typename F>
struct TotalsOf;
template <typename C, typename T>
struct TotalsOf<void (C::*)(void*, int64_t, T, T, c10::Device)> {
  using type = T;
};
using Totals = TotalsOf<decltype(&c10::MemoryReportingInfoBase::reportMemoryUsage)>::type;
}  // namespace

struct CpuAllocationTracker::Reporter : c10::MemoryReportingInfoBase {
  void reportMemoryUsage(void* /*ptr*/, int64_t alloc_size, Totals /*allocated*/,
                         Totals /*reserved*/, c10::Device device) override {
    if (device.type() != c10::DeviceType::CPU) return;
    current += alloc_size;
    peak = std::max(peak, current);
  }
  bool memoryProfilingEnabled() const override { return true; }
  int64_t current = 0, peak = 0;
};

CpuAllocationTracker::CpuAllocationTracker() : reporter_(std::make_shared<Reporter>()) {
  guard_ = std::make_shared<c10::DebugInfoGuard>(c10::DebugInfoKind::PROFILER_STATE, reporter_);
}

CpuAllocationTracker::~CpuAllocationTracker() = default;

int64_t CpuAllocationTracker::current() const {
  return reporter_->current;
}

int64_t CpuAllocationTracker::peak() const {
  return reporter_->peak;
}

}  // namespace compat
}  // namespace deeptune
