// The training step's speed without a project (see bench_training in session.h): what
// deeptune-cli bench prints and bench/gpu_bench.sh compares with transformers + PEFT.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "deeptune/error.h"
#include "deeptune/session.h"
#include "deeptune/text.h"
#include "formats/hf_checkpoint.h"
#include "lora/lora.h"
#include "session/session_internal.h"
#include "torch/compat.h"

namespace deeptune {
namespace {
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Whether a model folder ships weights (a folder of config.json alone is drawn from the seed).
bool has_weights(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (ends_with(e.path().filename().string(), ".safetensors")) return true;
  return false;
}

// transformers' initialisation (normal(0, initializer_range), norms one) drawn on `device`: an 8B
// model drawn on the CPU would take minutes. The values differ from init_weights', which draws on
// the CPU so that they never depend on the device.
void init_on_device(model::Transformer& m, uint64_t seed, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  auto gen = compat::make_generator(device, seed);
  const double std = m->config().initializer_range;
  for (auto& p : m->named_parameters()) {
    if (p.key().find("lora_") != std::string::npos) continue;
    if (ends_with(p.key(), "norm.weight"))
      p.value().fill_(1.0);
    else if (ends_with(p.key(), "bias"))
      p.value().zero_();
    else
      p.value().normal_(0.0, std, gen);
  }
}

// The H200's dense bf16 matrix throughput as measured on the lent machine (issue 12: about
// 790 TFLOP/s); other devices' peaks are not known here.
double dense_bf16_peak(const std::string& device_name) {
  return device_name.find("H200") != std::string::npos ? 790e12 : 0.0;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

double training_step_flops(const RunConfig& config, int64_t batch, int64_t seq) {
  std::vector<std::string> labels;
  if (config.model.task == Task::kClassification) labels = {"a", "b"};
  const auto m = detail::model_config(nullptr, config, std::nullopt, labels);
  const bool full = config.train.mode == TrainMode::kFull;
  const auto plan = lora::plan(m, config.lora, config.train.mode);
  auto adapted = [&](const std::string& name) {
    return std::find(plan.adapted_modules.begin(), plan.adapted_modules.end(), name) !=
           plan.adapted_modules.end();
  };
  const int64_t r = config.lora.r;
  // Per token: a linear's forward is 2 in out; backward its input gradient (2 in out) and, when
  // the weight trains, the weight's (2 in out). An adapter adds 2 r (in + out) three times over.
  double forward = 0, backward = 0;
  auto linear = [&](const std::string& name, int64_t in, int64_t out) {
    const double f = 2.0 * double(in) * double(out);
    forward += f;
    backward += full ? 2 * f : f;
    if (!full && adapted(name)) {
      const double a = 2.0 * double(r) * double(in + out);
      forward += a;
      backward += 2 * a;
    }
  };
  const int64_t h = m.hidden_size, q = m.num_attention_heads * m.head_dim,
                kv = m.num_key_value_heads * m.head_dim, i = m.intermediate_size;
  double layers_forward = 0;
  for (int64_t l = 0; l < m.num_hidden_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    const double before = forward;
    linear(p + "self_attn.q_proj", h, q);
    linear(p + "self_attn.k_proj", h, kv);
    linear(p + "self_attn.v_proj", h, kv);
    linear(p + "self_attn.o_proj", q, h);
    linear(p + "mlp.gate_proj", h, i);
    linear(p + "mlp.up_proj", h, i);
    linear(p + "mlp.down_proj", i, h);
    // Scores and weighted values, 2 x 2 q T per token, half of them masked (causal); backward
    // twice that.
    const double attention = 2.0 * double(q) * double(seq);
    forward += attention;
    backward += 2 * attention;
    layers_forward += forward - before;
  }
  if (m.num_labels() > 0)
    linear("score", h, m.num_labels());
  else
    linear("lm_head", h, m.vocab_size);
  double per_token = forward + backward;
  // Full recomputation runs every layer's forward again during backward.
  if (config.train.gradient_checkpointing == GradientCheckpointing::kFull)
    per_token += layers_forward;
  return per_token * double(batch) * double(seq);
}

BenchResult bench_training(const RunConfig& config, const BenchOptions& o) {
  const auto start = Clock::now();
  if (o.batch < 1 || o.seq < 2) throw InputError("--batch", "needs a batch >= 1 of >= 2 tokens");
  if (o.steps < 1 || o.warmup < 0) throw InputError("--steps", "time at least one step");
  if (starts_with(config.model.source, detail::kRunPrefix))
    throw InputError("--model", "bench takes a preset or a Hugging Face folder, not a run");
  RunConfig c = config;
  c.data.max_length = o.seq;
  c.train.batch_size = o.batch;
  if (c.train.micro_batch_size == kAutoMicroBatch || c.train.micro_batch_size > o.batch)
    c.train.micro_batch_size = o.batch;
  c.train.max_steps = o.warmup + o.steps + (o.profile_path.empty() ? 0 : o.profile_steps);
  c.train.warmup_steps = 0;
  c.train.eval_every = 0;
  c.probe.attention_every = 0;
  std::vector<std::string> labels;
  if (c.model.task == Task::kClassification) labels = {"class0", "class1"};

  BenchResult r;
  const torch::Device device = detail::training_device(c);
  r.device = compat::device_name(device);
  const auto shape = detail::model_config(nullptr, c, std::nullopt, labels);
  model::Transformer model(shape);
  if (detail::is_folder_source(c) && has_weights(detail::source_folder(c))) {
    const auto missing = hf::load_pretrained(model, detail::source_folder(c));
    model::init_parameters(model, missing, c.seed);
    r.model = c.model.source + " (weights read)";
    detail::adapt(model, c);
    train::place_for_training(model, c, device);
  } else if (detail::is_folder_source(c)) {
    // Placed first, uninitialised, then drawn where it lives (the adapters are drawn already).
    detail::adapt(model, c);
    train::place_for_training(model, c, device);
    init_on_device(model, c.seed, device);
    r.model =
        c.model.source + " (config only: weights drawn from seed " + std::to_string(c.seed) + ")";
  } else {
    model::init_weights(model, c.seed);
    r.model = c.model.source + " (initialised from seed " + std::to_string(c.seed) + ")";
    detail::adapt(model, c);
    train::place_for_training(model, c, device);
  }
  const auto count = lora::count_parameters(model);
  r.parameters = count.total;
  r.trainable = count.trainable;

  auto data =
      detail::random_rows(c, shape.vocab_size, int64_t(o.batch) * c.train.max_steps, labels);
  RunObserver quiet;
  RunControl control;
  detail::DiscardingSink sink;
  train::Trainer trainer(c, model, std::move(data), device, int32_t(shape.pad_token_id), quiet,
                         control, sink);
  compat::synchronize(device);
  r.setup_seconds = seconds_since(start);
  for (int s = 0; s < o.warmup + o.steps; ++s) {
    compat::synchronize(device);
    const auto t = Clock::now();
    const MemorySample memory = trainer.profile_step();
    compat::synchronize(device);
    const double ms = 1e3 * seconds_since(t);
    if (s == 0) r.first_step_seconds = seconds_since(start);
    if (s >= o.warmup) r.step_ms.push_back(ms);
    r.losses.push_back(trainer.last_train_loss());
    r.peak_bytes = std::max(r.peak_bytes, memory.peak_allocated);
    r.reserved_bytes = std::max(r.reserved_bytes, memory.reserved);
    r.device_used_bytes = memory.device_used;
  }
  if (!o.profile_path.empty()) {
    compat::synchronize(device);
    compat::start_profiler(device.is_cuda());
    for (int s = 0; s < o.profile_steps; ++s) trainer.profile_step();
    compat::synchronize(device);
    compat::save_profile(o.profile_path);
  }
  r.median_step_ms = median(r.step_ms);
  r.tokens_per_second = double(o.batch * o.seq) / (r.median_step_ms / 1e3);
  r.flops_per_step = training_step_flops(c, o.batch, o.seq);
  const double peak = dense_bf16_peak(r.device);
  if (peak > 0) r.mfu = r.flops_per_step / (r.median_step_ms / 1e3) / peak;
  return r;
}

}  // namespace deeptune
