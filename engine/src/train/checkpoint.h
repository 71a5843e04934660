// Checkpoints: everything needed to continue a run bit-for-bit, each file written by our own
// safetensors writer (no LibTorch archive: its writer aborts the process on a full disk):
//   trainable.safetensors  trainable weights
//   optimizer.safetensors  AdamW moments and step counts, keyed by parameter name
//   rng.safetensors        the trainer's dropout generator
//   state.json             step, data position, loss scale, and the SHA-256 of the three files
// The project records the SHA-256 of state.json, so that one hash pins every byte: a flipped byte
// or a file copied in from another checkpoint is refused on load, naming the file. A checkpoint is
// written into `<dir>.partial`, fsynced, and renamed into place; an older checkpoint of the same
// step is replaced only once the new one is durable.
// Format 1 (the first release: optimizer.pt, the project hashing trainable.safetensors) still
// loads, with that one file verified.
#pragma once

#include <torch/torch.h>

#include <string>

#include "model/llama.h"

namespace deeptune::train {

// fp16 dynamic loss scaling: halve on overflow (skipping the step), double after kGrowthInterval
// clean steps in a row, kept within [kMin, kMax].
struct LossScale {
  static constexpr double kInitial = 65536.0;  // 2^16, as PyTorch's GradScaler
  static constexpr double kMin = 1.0;
  static constexpr double kMax = 16777216.0;  // 2^24: beyond it fp16 gradients overflow at once
  static constexpr int64_t kGrowthInterval = 2000;
  double scale = kInitial;
  int64_t clean_steps = 0;  // steps since the last overflow or growth
  // Returns true when the scale changed.
  bool update(bool overflow);
};

struct TrainPosition {
  int64_t step = 0;
  uint64_t epoch = 0;
  uint64_t cursor = 0;
  LossScale loss_scale;
  double lr_scale = 1.0;  // halved (train.nonfinite_lr_factor) at each NaN/inf rollback
};

// What a run allows a checkpoint to say: state.json is checked against it.
struct RunShape {
  int64_t max_steps = 0;
  int64_t batch_size = 0;
  uint64_t train_examples = 0;
};

// Writes a checkpoint into `dir` (see the file comment). Returns the SHA-256 that identifies it.
// Throws DiskFullError when the disk fills ("disk full while writing checkpoint N (M bytes free)")
// with `<dir>.partial` removed, RunError on other I/O failures.
std::string save_checkpoint(const std::string& dir, model::Transformer& m,
                            torch::optim::Optimizer& opt, const TrainPosition& pos,
                            const torch::Generator& dropout_gen);
// Verifies the checkpoint against `sha256` (what the project recorded) and restores weights
// (strict: every trainable parameter present with its shape), optimizer state, generator and
// position. `expected_step` is the step the project recorded for it. Throws InputError naming
// the file at fault.
TrainPosition load_checkpoint(const std::string& dir, const std::string& sha256,
                              int64_t expected_step, const RunShape& run, model::Transformer& m,
                              torch::optim::Optimizer& opt, torch::Generator& dropout_gen,
                              const torch::Device& device);
// Only the trainable weights (export, generation, a child run's base), verified the same way.
void load_trainable(const std::string& dir, const std::string& sha256, model::Transformer& m);

}  // namespace deeptune::train
