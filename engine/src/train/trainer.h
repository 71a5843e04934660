// The training loop: AdamW with decoupled weight decay, warmup then cosine/linear/constant
// schedule, global-norm clipping, gradient accumulation, label smoothing, autocast, periodic
// evaluation and checkpoints, and pause/stop between optimizer steps. Knows nothing of the
// project file: progress leaves through the RunObserver, checkpoints through a CheckpointSink.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>

#include "deeptune/config.h"
#include "deeptune/session.h"
#include "model/llama.h"
#include "train/batches.h"
#include "train/checkpoint.h"

namespace deeptune::train {

// Where checkpoints go, and who records them (the project file, in a run).
class CheckpointSink {
 public:
  virtual ~CheckpointSink() = default;
  virtual std::string directory_for(int64_t step) = 0;
  // `sha256` identifies the checkpoint's contents (see checkpoint.h).
  virtual void saved(int64_t step, const std::string& dir, const std::string& sha256) = 0;
  // Called every few seconds while the run is paused, so the project can see the process lives.
  virtual void still_alive() {}
};

// Summed cross-entropy of (N, C) fp32 logits against (N) targets, rows with target -100 skipped,
// with PyTorch's label smoothing.
torch::Tensor cross_entropy_sum(const torch::Tensor& logits, const torch::Tensor& targets,
                                double smoothing);

// AdamW's parameter groups over the trainable parameters: matrices decay by `weight_decay`;
// vectors (norms, biases) do not — decaying them hurts, and PEFT users expect this split.
std::vector<torch::optim::OptimizerParamGroup> adamw_groups(model::Transformer& m,
                                                            double weight_decay);

// Moves `m` to `device` in the types it will train in: with base_in_16_bits the frozen weights go
// straight to the 16-bit compute type (no fp32 copy of the base ever reaches the device), the
// rest as they are.
void place_for_training(model::Transformer& m, const RunConfig& c, const torch::Device& device);

// Learning rate of optimizer step `step` (1-based).
double learning_rate(const TrainSpec& spec, int64_t step);

class Trainer {
 public:
  Trainer(const RunConfig& config, model::Transformer model, EncodedData data,
          const torch::Device& device, int32_t pad_id, RunObserver& observer, RunControl& control,
          CheckpointSink& sink);

  // Continues from a checkpoint the project recorded at `step` with `sha256` (verified).
  void restore(const std::string& checkpoint_dir, const std::string& sha256, int64_t step);
  // Trains until max_steps (-> kCompleted) or a stop request (-> kStopped, after a checkpoint).
  // Throws Error on failure (NaN loss, ...).
  RunStatus run();
  EvalMetrics evaluate();
  // One optimizer step exactly as run() takes it, outside the run loop (no evaluation, checkpoint
  // or observer), and its memory: what the forecast is measured against. Its loss is
  // last_train_loss().
  MemorySample profile_step();
  int64_t micro_batch() const { return micro_batch_; }
  // Probes (token ids) whose attention is captured at step 0, every probe.attention_every steps
  // and at the last step, and reported through RunObserver::on_attention.
  void set_probes(std::vector<std::vector<int32_t>> probes) { probes_ = std::move(probes); }
  // What the memory forecast said before the run, quoted when even micro-batch 1 does not fit.
  void set_forecast_note(std::string note) { forecast_note_ = std::move(note); }

  int64_t step() const { return pos_.step; }
  double last_train_loss() const { return last_train_loss_; }
  const std::optional<EvalMetrics>& last_eval() const { return last_eval_; }

 private:
  // One optimizer step over `batch`; after an out-of-memory error it halves the micro-batch and
  // runs the step again from the same state (the effective batch and the result are unchanged).
  double train_step(const std::vector<size_t>& batch, int64_t* tokens, double* grad_norm);
  double try_step(const std::vector<size_t>& batch, int64_t* tokens, double* grad_norm);
  torch::Tensor loss_sum(const Batch& b);  // summed over targets, fp32 scalar
  void checkpoint();
  void capture_attention();
  // Back to the last checkpoint with the learning rate times train.nonfinite_lr_factor.
  void rollback();
  void wait_while_paused();

  RunConfig config_;
  model::Transformer model_;
  EncodedData data_;
  torch::Device device_;
  int32_t pad_id_;
  RunObserver& observer_;
  RunControl& control_;
  CheckpointSink& sink_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  std::vector<torch::Tensor> trainable_;
  Sampler sampler_;
  // The trainer's own generator for dropout masks (saved in checkpoints), so that nothing else
  // in the process — a model summary or an export on another thread — shifts a run's draws.
  torch::Generator dropout_gen_;
  TrainPosition pos_;
  int64_t last_checkpoint_step_ = -1;  // a step is checkpointed once, however the loop ends
  torch::ScalarType autocast_dtype_ = torch::kFloat;
  bool base_16bit_ = false;  // frozen weights held in autocast_dtype_ (base_in_16_bits)
  double last_train_loss_ = 0.0;
  int64_t micro_batch_ = 1;  // train.micro_batch_size until an out-of-memory error halves it
  int64_t halvings_ = 0;     // in the step being reported
  int64_t bad_streak_ = 0;   // NaN/inf steps in a row
  int64_t skipped_steps_ = 0;
  std::string last_checkpoint_dir_, last_checkpoint_sha_;
  std::string forecast_note_;
  std::vector<std::vector<int32_t>> probes_;
  std::optional<EvalMetrics> last_eval_;
};

}  // namespace deeptune::train
