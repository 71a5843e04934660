// Where a training step's memory goes: the trainer's tensors counted by category, the CUDA
// allocator's counters and the process's resident size (MemorySample in session.h).
#pragma once

#include <torch/torch.h>

#include "deeptune/session.h"
#include "model/llama.h"
#include "torch/compat.h"

namespace deeptune::train {

// Counts `m`'s parameters (frozen / trainable; gradients as the trainable weights' size, the
// bytes backward allocates for them each step) and `optimizer`'s state tensors, then reads the
// allocator and device counters for `device` and the resident set.
MemorySample measure_memory(model::Transformer& m, torch::optim::Optimizer& optimizer,
                            const torch::Device& device);

// One training step's memory, from construction to finish(). On CUDA the allocator's peak is
// reset at the start; on the CPU, which keeps no counters, the tensors alive at the start
// (parameters, gradients, optimizer state) plus the peak of what the step allocates on this
// thread (compat::CpuAllocationTracker) give the same figures: allocated and peak_allocated.
class StepMemory {
 public:
  StepMemory(model::Transformer& m, torch::optim::Optimizer& optimizer,
             const torch::Device& device);
  MemorySample finish();

 private:
  model::Transformer& model_;
  torch::optim::Optimizer& optimizer_;
  torch::Device device_;
  int64_t held_ = 0;
  std::unique_ptr<compat::CpuAllocationTracker> tracker_;
};

// This process's resident set in bytes (/proc/self/statm); 0 where it cannot be read.
int64_t resident_bytes();

}  // namespace deeptune::train
