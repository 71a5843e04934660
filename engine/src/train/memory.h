// Where a training step's memory goes: the trainer's tensors counted by category, the CUDA
// allocator's counters and the process's resident size (MemorySample in session.h).
#pragma once

#include <torch/torch.h>

#include "deeptune/session.h"
#include "model/llama.h"

namespace deeptune::train {

// Counts `m`'s parameters (frozen / trainable; gradients as the trainable weights' size, the
// bytes backward allocates for them each step) and `optimizer`'s state tensors, then reads the
// allocator and device counters for `device` and the resident set.
MemorySample measure_memory(model::Transformer& m, torch::optim::Optimizer& optimizer,
                            const torch::Device& device);

// This process's resident set in bytes (/proc/self/statm); 0 where it cannot be read.
int64_t resident_bytes();

}  // namespace deeptune::train
