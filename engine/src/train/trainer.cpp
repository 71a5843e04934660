// Training loop (see trainer.h).
#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <thread>

#include "deeptune/error.h"
#include "lora/lora.h"
#include "model/linear_cross_entropy.h"
#include "torch/compat.h"
#include "train/attention_capture.h"
#include "train/forecast.h"
#include "train/grad_clip.h"
#include "train/memory.h"

namespace deeptune::train {
namespace {
using Clock = std::chrono::steady_clock;
constexpr double kPi = 3.14159265358979323846;
// Dropout draws from its own stream of the run's seed (the data order has another).
constexpr uint64_t kDropoutStream = 0xd5a1f00dULL;

torch::ScalarType autocast_type(Precision p) {
  switch (p) {
    case Precision::kBf16:
      return torch::kBFloat16;
    case Precision::kFp16:
      return torch::kHalf;
    default:
      return torch::kFloat;
  }
}
}  // namespace

std::vector<torch::optim::OptimizerParamGroup> adamw_groups(model::Transformer& m,
                                                            double weight_decay) {
  std::vector<torch::Tensor> decay, no_decay;
  for (auto& p : m->parameters())
    if (p.requires_grad()) (p.dim() >= 2 ? decay : no_decay).push_back(p);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  auto options = [](double wd) {
    // The learning rate is set before every step from the schedule.
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(0.0).weight_decay(wd));
  };
  if (!decay.empty()) groups.emplace_back(decay, options(weight_decay));
  if (!no_decay.empty()) groups.emplace_back(no_decay, options(0.0));
  return groups;
}

void place_for_training(model::Transformer& m, const RunConfig& c, const torch::Device& device) {
  const bool half = base_in_16_bits(c.train, device.is_cuda());
  const auto dtype = autocast_type(c.train.precision);
  torch::NoGradGuard no_grad;
  for (auto& p : m->parameters())
    p.set_data(half && !p.requires_grad() ? p.to(device, dtype) : p.to(device));
  for (auto& b : m->buffers()) b.set_data(b.to(device));
}

double learning_rate(const TrainSpec& spec, int64_t step) {
  if (spec.warmup_steps > 0 && step <= spec.warmup_steps)
    return spec.lr * double(step) / double(spec.warmup_steps);
  const double span = std::max<int64_t>(1, spec.max_steps - spec.warmup_steps);
  const double progress = std::clamp(double(step - spec.warmup_steps) / span, 0.0, 1.0);
  switch (spec.schedule) {
    case Schedule::kCosine:
      return spec.lr * 0.5 * (1.0 + std::cos(kPi * progress));
    case Schedule::kLinear:
      return spec.lr * (1.0 - progress);
    case Schedule::kConstant:
      return spec.lr;
  }
  return spec.lr;
}

Trainer::Trainer(const RunConfig& config, model::Transformer model, EncodedData data,
                 const torch::Device& device, int32_t pad_id, RunObserver& observer,
                 RunControl& control, CheckpointSink& sink)
    : config_(config),
      model_(std::move(model)),
      data_(std::move(data)),
      device_(device),
      pad_id_(pad_id),
      observer_(observer),
      control_(control),
      sink_(sink),
      sampler_(data_.train.size(), config.seed),
      dropout_gen_(compat::make_generator(device, config.seed ^ kDropoutStream)) {
  lora::set_dropout_generator(model_, dropout_gen_);
  autocast_dtype_ = autocast_type(config_.train.precision);
  if (autocast_dtype_ == torch::kHalf && !device_.is_cuda())
    throw InputError("train.precision", "fp16 needs a CUDA device; use bf16 or fp32 on the CPU");
  if (!compat::autocast_supported(device_, autocast_dtype_))
    throw InputError("train.precision",
                     "this device cannot compute in " + to_string(config_.train.precision));

  if (base_in_16_bits(config_.train, device_.is_cuda())) {
    torch::NoGradGuard no_grad;
    for (auto& p : model_->parameters())
      if (!p.requires_grad()) p.set_data(p.to(autocast_dtype_));
    base_16bit_ = true;
  }
  model::RecomputeSettings recompute;
  recompute.mode = config_.train.gradient_checkpointing;
  recompute.device = device_;
  recompute.autocast = autocast_dtype_;
  recompute.dropout_gen = dropout_gen_;
  model_->set_recompute(recompute);
  micro_batch_ = config_.train.micro_batch_size;
  for (auto& p : model_->parameters())
    if (p.requires_grad()) trainable_.push_back(p);
  if (trainable_.empty())
    throw InputError("train.mode", "nothing to train: no trainable parameters");
  optimizer_ = std::make_unique<torch::optim::AdamW>(
      adamw_groups(model_, config_.train.weight_decay),
      torch::optim::AdamWOptions(config_.train.lr).weight_decay(config_.train.weight_decay));
}

void Trainer::restore(const std::string& dir, const std::string& sha256, int64_t step) {
  const RunShape shape{config_.train.max_steps, config_.train.batch_size, data_.train.size()};
  pos_ = load_checkpoint(dir, sha256, step, shape, model_, *optimizer_, dropout_gen_, device_);
  sampler_.seek(pos_.epoch, pos_.cursor);
  last_checkpoint_step_ = pos_.step;
  last_checkpoint_dir_ = dir;
  last_checkpoint_sha_ = sha256;
}

// Summed cross-entropy over the rows whose target is not -100, with label smoothing as PyTorch
// defines it: (1 - e) * (-log p[target]) + e * mean over classes of (-log p). Written out rather
// than through cross_entropy's options so one formula holds on every LibTorch version.
// logits: (N, C) fp32; targets: (N) int64.
torch::Tensor cross_entropy_sum(const torch::Tensor& logits, const torch::Tensor& targets,
                                double smoothing) {
  const auto logp = torch::log_softmax(logits, -1);                              // (N, C)
  const auto keep = targets.ne(-100);                                            // (N)
  auto loss = -logp.gather(-1, targets.clamp_min(0).unsqueeze(-1)).squeeze(-1);  // (N)
  if (smoothing > 0) loss = (1.0 - smoothing) * loss - smoothing * logp.mean(-1);
  return loss.masked_select(keep).sum();
}

torch::Tensor Trainer::loss_sum(const Batch& b) {
  compat::AutocastGuard autocast(device_, autocast_dtype_);
  const double smoothing = config_.train.label_smoothing;
  if (config_.model.task == Task::kClassification) {
    auto logits = model_->class_logits(b.input_ids, b.last_index);  // (B, L)
    return cross_entropy_sum(logits.to(torch::kFloat), b.labels, smoothing);
  }
  // Loss in fp32: log-softmax over a large vocabulary in bf16 is visibly biased.
  const auto head = model_->plain_head_weight();
  if (head.defined())  // chunked: the (B T, V) logits never exist whole
    return model::linear_cross_entropy_sum(
        model_->model->forward(b.input_ids, nullptr).flatten(0, 1), head, b.targets.flatten(),
        smoothing, autocast_dtype_);
  auto logits = model_->lm_logits(b.input_ids);  // (B, T, V)
  return cross_entropy_sum(logits.to(torch::kFloat).flatten(0, 1), b.targets.flatten(), smoothing);
}

double Trainer::train_step(const std::vector<size_t>& indices, int64_t* tokens, double* grad_norm) {
  // Dropout masks are drawn again on a retry: the same masks as without the failure.
  const auto dropout_state = compat::generator_state(dropout_gen_);
  halvings_ = 0;
  while (true) {
    try {
      int64_t counted = 0;
      const double loss = try_step(indices, &counted, grad_norm);
      *tokens += counted;
      return loss;
    } catch (const std::exception& e) {
      if (!compat::is_out_of_memory(e)) throw;
      optimizer_->zero_grad();  // gradients of the micro-batches that did run
      compat::release_cached_memory(device_);
      const auto mem = compat::cuda_memory(device_);
      if (micro_batch_ <= 1) {
        throw RunError("training",
                       "out of memory at step " + std::to_string(pos_.step + 1) +
                           " even with micro-batch 1 (" + e.what() + ")" +
                           (mem.device_total > 0
                                ? "; the device holds " + std::to_string(mem.device_used >> 20) +
                                      " of " + std::to_string(mem.device_total >> 20) + " MiB"
                                : std::string()) +
                           (forecast_note_.empty() ? std::string() : "; " + forecast_note_) +
                           ". Shorten data.max_length, use train.gradient_checkpointing, LoRA or "
                           "bf16, or a larger "
                           "device");
      }
      const int64_t from = micro_batch_;
      micro_batch_ = std::max<int64_t>(1, micro_batch_ / 2);
      ++halvings_;
      compat::set_generator_state(dropout_gen_, dropout_state);
      const int64_t parts = (config_.train.batch_size + micro_batch_ - 1) / micro_batch_;
      observer_.on_log(
          {LogLevel::kWarning, "out of memory at step " + std::to_string(pos_.step + 1) +
                                   " with micro-batch " + std::to_string(from) +
                                   ": running it again with micro-batch " +
                                   std::to_string(micro_batch_) + " (" + std::to_string(parts) +
                                   " micro-batches; the effective batch stays " +
                                   std::to_string(config_.train.batch_size) + ")"});
    }
  }
}

double Trainer::try_step(const std::vector<size_t>& indices, int64_t* tokens, double* grad_norm) {
  const size_t micro = static_cast<size_t>(micro_batch_);
  std::vector<Batch> micro_batches;
  int64_t targets = 0;
  for (size_t i = 0; i < indices.size(); i += micro) {
    std::vector<const TokenizedExample*> part;
    for (size_t j = i; j < std::min(indices.size(), i + micro); ++j)
      part.push_back(&data_.train[indices[j]]);
    micro_batches.push_back(collate(part, pad_id_, device_));
    targets += micro_batches.back().target_count;
    *tokens += micro_batches.back().tokens;
  }
  if (targets == 0) return 0.0;
  // Normalise by the whole batch's target count, so accumulation gives exactly the loss (and
  // gradient) of one big batch whatever the micro-batch split.
  const bool fp16 = autocast_dtype_ == torch::kHalf;
  const double scale = pos_.loss_scale.scale;
  double total = 0.0;
  for (const auto& mb : micro_batches) {
    compat::maybe_inject_out_of_memory(mb.input_ids.size(0));
    auto loss = loss_sum(mb) / static_cast<double>(targets);
    (fp16 ? loss * scale : loss).backward();
    total += loss.item<double>();
  }
  if (fp16) {
    for (auto& p : trainable_)
      if (p.grad().defined()) p.grad().mul_(1.0 / scale);
  }
  const double max_norm = config_.train.grad_clip > 0 ? config_.train.grad_clip
                                                      : std::numeric_limits<double>::infinity();
  *grad_norm = clip_gradients(trainable_, max_norm);
  const bool overflow = !std::isfinite(*grad_norm);
  if (fp16 && pos_.loss_scale.update(overflow)) {
    observer_.on_log({LogLevel::kInfo,
                      std::string(overflow ? "fp16 overflow at step " +
                                                 std::to_string(pos_.step + 1) + " (step skipped); "
                                           : "") +
                          "loss scale now " + std::to_string(pos_.loss_scale.scale)});
  }
  if (compat::inject_nonfinite(pos_.step + 1)) total = std::numeric_limits<double>::quiet_NaN();
  if (overflow || !std::isfinite(total)) {
    optimizer_->zero_grad();  // no update: fp16 lowered its scale, otherwise run() decides
    return total;
  }
  if (!compat::fused_adamw_step(*optimizer_)) optimizer_->step();
  optimizer_->zero_grad();
  return total;
}

MemorySample Trainer::profile_step() {
  model_->train();
  StepMemory memory(model_, *optimizer_, device_);
  const double lr = learning_rate(config_.train, pos_.step + 1) * pos_.lr_scale;
  for (auto& group : optimizer_->param_groups())
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
  const auto indices = sampler_.next(static_cast<size_t>(config_.train.batch_size));
  int64_t tokens = 0;
  double grad_norm = 0.0;
  last_train_loss_ = train_step(indices, &tokens, &grad_norm);
  ++pos_.step;
  return memory.finish();
}

void Trainer::wait_while_paused() {
  if (!control_.pause_requested() || control_.stop_requested()) return;
  observer_.on_state(RunState::kPaused, "paused at step " + std::to_string(pos_.step));
  // A paused run still beats: without it, a pause longer than the stale-heartbeat window would
  // make another machine take the run for dead.
  auto last_beat = Clock::now();
  while (control_.pause_requested() && !control_.stop_requested()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (Clock::now() - last_beat > std::chrono::seconds(5)) {
      sink_.still_alive();
      last_beat = Clock::now();
    }
  }
  if (!control_.stop_requested()) observer_.on_state(RunState::kRunning, "resumed");
}

void Trainer::capture_attention() {
  if (probes_.empty() || config_.probe.attention_every <= 0) return;
  // A 16-bit base meets the fp32 adapters only under autocast.
  std::optional<compat::AutocastGuard> autocast;
  if (base_16bit_) autocast.emplace(device_, autocast_dtype_);
  for (const auto& snapshot : train::capture_attention(model_, probes_, pos_.step, device_))
    observer_.on_attention(snapshot);
}

void Trainer::checkpoint() {
  if (last_checkpoint_step_ == pos_.step) return;  // e.g. a stop right after a scheduled save
  pos_.epoch = sampler_.epoch();
  pos_.cursor = sampler_.cursor();
  const std::string dir = sink_.directory_for(pos_.step);
  const std::string sha = save_checkpoint(dir, model_, *optimizer_, pos_, dropout_gen_);
  last_checkpoint_step_ = pos_.step;
  last_checkpoint_dir_ = dir;
  last_checkpoint_sha_ = sha;
  sink_.saved(pos_.step, dir, sha);
  observer_.on_log({LogLevel::kInfo, "checkpoint saved at step " + std::to_string(pos_.step)});
}

void Trainer::rollback() {
  const TrainSpec& spec = config_.train;
  const int64_t from = pos_.step + 1;
  const double scale = pos_.lr_scale * spec.nonfinite_lr_factor;
  if (last_checkpoint_dir_.empty() || scale < 1e-3)
    throw RunError("training",
                   std::to_string(bad_streak_) + " steps in a row up to step " +
                       std::to_string(from) + " gave a NaN/inf loss or gradient and " +
                       (last_checkpoint_dir_.empty()
                            ? "there is no checkpoint to go back to (train.checkpoint_every)"
                            : "the learning rate is already below 1/1000 of its schedule") +
                       "; try a lower train.lr or enable train.grad_clip");
  restore(last_checkpoint_dir_, last_checkpoint_sha_, last_checkpoint_step_);
  pos_.lr_scale = scale;
  bad_streak_ = 0;
  observer_.on_rollback(pos_.step);
  observer_.on_log({LogLevel::kWarning,
                    "went back from step " + std::to_string(from) + " to the checkpoint at step " +
                        std::to_string(pos_.step) + "; the learning rate is now " +
                        std::to_string(scale) + " times its schedule"});
}

EvalMetrics Trainer::evaluate() {
  EvalMetrics m;
  m.step = pos_.step;
  if (data_.val.empty()) return m;
  torch::NoGradGuard no_grad;
  model_->eval();
  double loss = 0.0;
  int64_t targets = 0, correct = 0;
  const size_t micro = static_cast<size_t>(config_.train.micro_batch_size);
  const bool classify = config_.model.task == Task::kClassification;
  for (size_t i = 0; i < data_.val.size(); i += micro) {
    std::vector<const TokenizedExample*> part;
    for (size_t j = i; j < std::min(data_.val.size(), i + micro); ++j)
      part.push_back(&data_.val[j]);
    const auto b = collate(part, pad_id_, device_);
    if (classify) {
      compat::AutocastGuard autocast(device_, autocast_dtype_);
      auto logits = model_->class_logits(b.input_ids, b.last_index).to(torch::kFloat);
      loss += cross_entropy_sum(logits, b.labels, 0.0).item<double>();
      correct += logits.argmax(-1).eq(b.labels).sum().item<int64_t>();
    } else {
      // Validation loss without label smoothing: it is the number users compare across runs.
      compat::AutocastGuard autocast(device_, autocast_dtype_);
      auto logits = model_->lm_logits(b.input_ids).to(torch::kFloat);
      loss += cross_entropy_sum(logits.flatten(0, 1), b.targets.flatten(), 0.0).item<double>();
    }
    targets += b.target_count;
  }
  model_->train();
  m.loss = targets ? loss / double(targets) : 0.0;
  m.perplexity = std::exp(std::min(m.loss, 50.0));
  if (classify) m.accuracy = targets ? double(correct) / double(targets) : 0.0;
  last_eval_ = m;
  observer_.on_eval(m);
  return m;
}

RunStatus Trainer::run() {
  model_->train();
  const auto& spec = config_.train;
  const auto start = Clock::now();
  double ema_step_seconds = 0.0;
  const int64_t first = pos_.step;
  observer_.on_state(RunState::kRunning,
                     pos_.step ? "resumed at step " + std::to_string(pos_.step) : "started");
  // The step-0 evaluation is the "before" every curve is read against.
  if (pos_.step == 0 && spec.eval_every > 0) evaluate();
  if (pos_.step == 0) capture_attention();
  while (pos_.step < spec.max_steps) {
    wait_while_paused();
    if (control_.stop_requested()) {
      checkpoint();
      observer_.on_log(
          {LogLevel::kInfo, "stopped at step " + std::to_string(pos_.step) + "; checkpoint saved"});
      return RunStatus::kStopped;
    }
    const auto t0 = Clock::now();
    StepMemory memory(model_, *optimizer_, device_);  // the sample's peak is this step's
    const double lr = learning_rate(spec, pos_.step + 1) * pos_.lr_scale;
    for (auto& group : optimizer_->param_groups())
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    const auto indices = sampler_.next(static_cast<size_t>(spec.batch_size));
    int64_t tokens = 0;
    double grad_norm = 0.0;
    const double loss = train_step(indices, &tokens, &grad_norm);
    const bool bad =
        !std::isfinite(loss) || (autocast_dtype_ != torch::kHalf && !std::isfinite(grad_norm));
    if (bad) {
      const std::string what = !std::isfinite(loss) ? "the loss" : "the gradient";
      const std::string value =
          std::isnan(std::isfinite(loss) ? grad_norm : loss) ? "NaN" : "infinite";
      if (spec.nonfinite_patience == 0)
        throw RunError("training", what + " became " + value + " at step " +
                                       std::to_string(pos_.step + 1) +
                                       " (try a lower train.lr or enable train.grad_clip)");
      ++bad_streak_;
      ++skipped_steps_;
      observer_.on_log({LogLevel::kWarning,
                        what + " became " + value + " at step " + std::to_string(pos_.step + 1) +
                            ": update skipped (" + std::to_string(bad_streak_) + " of " +
                            std::to_string(spec.nonfinite_patience) + " in a row)"});
      if (bad_streak_ >= spec.nonfinite_patience) {
        rollback();
        continue;
      }
    } else {
      bad_streak_ = 0;
    }
    ++pos_.step;
    compat::synchronize(device_);
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    // Smoothed step time for the ETA; the first step pays one-off allocation costs.
    ema_step_seconds = pos_.step == first + 1 ? seconds : 0.9 * ema_step_seconds + 0.1 * seconds;
    last_train_loss_ = loss;
    StepMetrics m;
    m.step = pos_.step;
    m.max_steps = spec.max_steps;
    m.loss = loss;
    m.lr = lr;
    m.grad_norm = grad_norm;
    m.tokens_per_second = seconds > 0 ? double(tokens) / seconds : 0.0;
    m.elapsed_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    m.eta_seconds = ema_step_seconds * double(spec.max_steps - pos_.step);
    m.epoch = sampler_.epochs_done();
    m.memory = memory.finish();
    m.micro_batch = micro_batch_;
    m.out_of_memory_retries = halvings_;
    m.skipped = bad;
    m.skipped_steps = skipped_steps_;
    m.lr_scale = pos_.lr_scale;
    observer_.on_step(m);
    const bool last = pos_.step == spec.max_steps;
    if ((spec.eval_every > 0 && pos_.step % spec.eval_every == 0) || last) evaluate();
    const int every = config_.probe.attention_every;
    if (every > 0 && (pos_.step % every == 0 || last)) capture_attention();
    if ((spec.checkpoint_every > 0 && pos_.step % spec.checkpoint_every == 0) || last) checkpoint();
  }
  return RunStatus::kCompleted;
}

}  // namespace deeptune::train
