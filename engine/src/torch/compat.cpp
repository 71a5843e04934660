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
#include <set>
#include <stdexcept>

#include "deeptune/version.h"

#define DT_TORCH_AT_LEAST(maj, min) \
  (TORCH_VERSION_MAJOR > (maj) || (TORCH_VERSION_MAJOR == (maj) && TORCH_VERSION_MINOR >= (min)))

#if DT_TORCH_AT_LEAST(2, 1)
#include <torch/csrc/autograd/profiler_kineto.h>
#endif

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

namespace {
// k or v of nkv heads as nh heads: head j is kv head j / (nh / nkv).
torch::Tensor repeat_heads(const torch::Tensor& x, int64_t heads) {
  return x.size(1) == heads ? x : x.repeat_interleave(heads / x.size(1), 1);
}
}  // namespace

torch::Tensor attention_reference(const torch::Tensor& q, const torch::Tensor& k_grouped,
                                  const torch::Tensor& v_grouped, double scale, bool causal,
                                  torch::Tensor* weights_out) {
  const auto k = repeat_heads(k_grouped, q.size(1)), v = repeat_heads(v_grouped, q.size(1));
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
#if DT_TORCH_AT_LEAST(2, 5)
  // Grouped k and v go to the flash kernel as they are; it computes in 16 bits only (in fp32
  // the kernel would fall back to the composition, scores and all).
  const bool half = q.scalar_type() == torch::kBFloat16 || q.scalar_type() == torch::kHalf ||
                    (at::autocast::is_autocast_enabled(at::kCUDA) &&
                     at::autocast::get_autocast_dtype(at::kCUDA) != torch::kFloat);
  if (q.is_cuda() && half)
    return at::scaled_dot_product_attention(q, k, v, /*attn_mask=*/{}, /*dropout_p=*/0.0, causal,
                                            scale, /*enable_gqa=*/k.size(1) != q.size(1));
#endif
  return at::scaled_dot_product_attention(q, repeat_heads(k, q.size(1)), repeat_heads(v, q.size(1)),
                                          /*attn_mask=*/{},
                                          /*dropout_p=*/0.0, causal, scale);
#else
  return attention_reference(q, k, v, scale, causal);
#endif
}

bool grouped_attention(const torch::Device& device) {
#if DT_TORCH_AT_LEAST(2, 5)
  return device.is_cuda();
#else
  (void)device;
  return false;
#endif
}

bool fused_adamw_step(torch::optim::AdamW& opt) {
#if DT_TORCH_AT_LEAST(2, 1)
  auto& state = opt.state();
  for (auto& group : opt.param_groups()) {  // every condition first: all groups or none
    if (static_cast<const torch::optim::AdamWOptions&>(group.options()).amsgrad()) return false;
    for (auto& p : group.params())
      if (p.grad().defined() && !p.is_cuda()) return false;
  }
  torch::NoGradGuard no_grad;
  for (auto& group : opt.param_groups()) {
    const auto& o = static_cast<const torch::optim::AdamWOptions&>(group.options());
    std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs;
    std::vector<torch::optim::AdamWParamState*> states;
    std::vector<float> steps;
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const auto key = optimizer_state_key(state, p);
      auto it = state.find(key);
      if (it == state.end()) {
        auto s = std::make_unique<torch::optim::AdamWParamState>();
        s->step(0);
        s->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        s->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        it = state.emplace(key, std::move(s)).first;
      }
      auto* s = static_cast<torch::optim::AdamWParamState*>(it->second.get());
      params.push_back(p);
      grads.push_back(p.grad());
      exp_avgs.push_back(s->exp_avg());
      exp_avg_sqs.push_back(s->exp_avg_sq());
      states.push_back(s);
      steps.push_back(float(s->step() + 1));  // this update's number: the kernel reads it
    }
    if (params.empty()) continue;
    // One fp32 step count per parameter on the device, already advanced (as torch.optim's fused
    // AdamW advances them before the kernel, which only reads them for the bias corrections).
    const auto step_tensor =
        torch::tensor(steps, torch::kFloat).to(params.front().device(), /*non_blocking=*/true);
    const auto step_list = step_tensor.unbind(0);
    const auto [beta1, beta2] = o.betas();
    at::_fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, /*max_exp_avg_sqs=*/{}, step_list,
                      o.lr(), beta1, beta2, o.weight_decay(), o.eps(), /*amsgrad=*/false,
                      /*maximize=*/false);
    for (auto* s : states) s->step(s->step() + 1);
  }
  return true;
#else
  (void)opt;
  return false;
#endif
}

void start_profiler(bool cuda) {
#if DT_TORCH_AT_LEAST(2, 1)
  namespace prof = torch::autograd::profiler;
  const prof::ProfilerConfig config(prof::ProfilerState::KINETO, /*report_input_shapes=*/false,
                                    /*profile_memory=*/false);
  std::set<prof::ActivityType> activities{prof::ActivityType::CPU};
  if (cuda) activities.insert(prof::ActivityType::CUDA);
  prof::prepareProfiler(config, activities);
  prof::enableProfiler(config, activities);
#else
  (void)cuda;
  throw std::runtime_error("profiling needs LibTorch 2.1 or later (this is " + torch_version() +
                           ")");
#endif
}

void save_profile(const std::string& path) {
#if DT_TORCH_AT_LEAST(2, 1)
  auto result = torch::autograd::profiler::disableProfiler();
  if (result) result->save(path);
#else
  (void)path;
#endif
}

bool zero_grad_frees() {
  return DT_TORCH_AT_LEAST(2, 0);
}

bool blas_workspaces_in_allocator() {
  return DT_TORCH_AT_LEAST(2, 0);
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
