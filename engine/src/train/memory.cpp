#include "train/memory.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "torch/compat.h"

namespace deeptune::train {

int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<int64_t>(::sysconf(_SC_PAGESIZE));
}

namespace {
int64_t bytes_of(const torch::Tensor& t) {
  return t.defined() ? t.numel() * static_cast<int64_t>(t.element_size()) : int64_t{0};
}
}  // namespace

StepMemory::StepMemory(model::Transformer& m, torch::optim::Optimizer& optimizer,
                       const torch::Device& device)
    : model_(m), optimizer_(optimizer), device_(device) {
  compat::reset_peak_memory(device);
  if (device.is_cuda()) return;
  for (const auto& p : m->parameters()) held_ += bytes_of(p) + bytes_of(p.grad());
  for (const auto& [key, state] : optimizer.state()) {
    (void)key;
    if (const auto* adamw = dynamic_cast<const torch::optim::AdamWParamState*>(state.get()))
      held_ += bytes_of(adamw->exp_avg()) + bytes_of(adamw->exp_avg_sq()) +
               bytes_of(adamw->max_exp_avg_sq());
  }
  // DEEPTUNE_CPU_MEMORY_TRACKING=0 leaves the step's allocations uncounted (to measure what
  // counting costs); the sample then has no allocator figures, as before they were counted.
  const char* tracking = std::getenv("DEEPTUNE_CPU_MEMORY_TRACKING");
  if (tracking && std::string(tracking) == "0") return;
  tracker_ = std::make_unique<compat::CpuAllocationTracker>();
}

MemorySample StepMemory::finish() {
  compat::synchronize(device_);
  MemorySample s = measure_memory(model_, optimizer_, device_);
  if (tracker_) {
    s.allocated = held_ + tracker_->current();
    s.peak_allocated = held_ + tracker_->peak();
    tracker_.reset();
  }
  return s;
}

MemorySample measure_memory(model::Transformer& m, torch::optim::Optimizer& optimizer,
                            const torch::Device& device) {
  MemorySample s;
  auto bytes = [](const torch::Tensor& t) {
    return t.defined() ? t.numel() * static_cast<int64_t>(t.element_size()) : int64_t{0};
  };
  for (const auto& p : m->parameters()) {
    if (p.requires_grad()) {
      s.trainable_weights += bytes(p);
      s.gradients += bytes(p);
    } else {
      s.base_weights += bytes(p);
    }
  }
  for (const auto& [key, state] : optimizer.state()) {
    (void)key;
    if (const auto* adamw = dynamic_cast<const torch::optim::AdamWParamState*>(state.get()))
      s.optimizer_state +=
          bytes(adamw->exp_avg()) + bytes(adamw->exp_avg_sq()) + bytes(adamw->max_exp_avg_sq());
  }
  const auto cuda = compat::cuda_memory(device);
  s.allocated = cuda.allocated;
  s.reserved = cuda.reserved;
  s.peak_allocated = cuda.peak_allocated;
  s.device_used = cuda.device_used;
  s.device_total = cuda.device_total;
  s.resident = resident_bytes();
  return s;
}

}  // namespace deeptune::train
