// forecast_memory (session.h): the shape a config builds, the device it would train on, and the
// step forecast of train/forecast.h at each micro-batch that divides the batch.
#include <torch/torch.h>

#include <fstream>
#include <sstream>

#include "core/splitmix64.h"
#include "deeptune/error.h"
#include "deeptune/session.h"
#include "deeptune/text.h"
#include "lora/lora.h"
#include "session/session_internal.h"
#include "torch/compat.h"
#include "train/forecast.h"
#include "train/trainer.h"

namespace deeptune {
namespace {

// What the process holds on a CUDA device outside the caching allocator: context, loaded
// kernels, cuBLAS handles. Measured on the H200 (PyTorch 2.11, CUDA 13): device used minus
// reserved after a few steps, 773-785 MiB over six configurations of 0.4M to 1.1B parameters.
constexpr int64_t kCudaOutsideTorch = int64_t(775) << 20;
// cuBLAS's workspaces, which LibTorch 2.x takes from the caching allocator and keeps: 32 MiB per
// handle on Hopper, one handle for the forward's thread and one for autograd's backward thread.
// On the H200 every LoRA configuration's measured peak was 63-64 MiB above the activations'
// forecast before they were counted.
constexpr int64_t kCudaBlasWorkspaces = int64_t(2 * 32) << 20;
// The caching allocator reserves more than it hands out (blocks rounded to 2 MiB segments,
// fragmentation): on the H200 run above, reserved was 9% above the step's peak.
constexpr double kCudaCacheShare = 0.09;
// Below this share of the free memory left spare, a fit is only "tight".
constexpr double kSpareShare = 0.10;

// MemAvailable and MemTotal from /proc/meminfo, in bytes (0 when unreadable).
void host_memory(int64_t* available, int64_t* total) {
  *available = *total = 0;
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  int64_t kib = 0;
  while (in >> key >> kib) {
    std::getline(in, unit);
    if (key == "MemAvailable:") *available = kib * 1024;
    if (key == "MemTotal:") *total = kib * 1024;
  }
}

MemoryFit fit_of(int64_t need, int64_t available) {
  if (available <= 0) return MemoryFit::kFits;  // unknown: say nothing alarming
  if (double(need) <= double(available) * (1.0 - kSpareShare)) return MemoryFit::kFits;
  return need <= available ? MemoryFit::kTight : MemoryFit::kWontFit;
}

}  // namespace

std::string to_string(MemoryFit f) {
  switch (f) {
    case MemoryFit::kFits:
      return "fits";
    case MemoryFit::kTight:
      return "tight";
    case MemoryFit::kWontFit:
      return "will not fit";
  }
  return "?";
}

int64_t MemoryForecast::category(const std::string& name) const {
  for (const auto& [n, bytes] : categories)
    if (n == name) return bytes;
  return 0;
}

namespace detail {

MemoryForecast forecast_for(const model::LlamaConfig& model, const RunConfig& config) {
  train::ForecastInput in;
  in.model = model;
  in.train = config.train;
  in.lora = config.lora;
  in.adapted = lora::plan(in.model, config.lora, config.train.mode).adapted_modules;
  in.sequence = config.data.max_length;

  const bool cuda = config.device == DeviceChoice::kCuda ||
                    (config.device == DeviceChoice::kAuto && compat::cuda_available());
  const torch::Device device = cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  MemoryForecast f;
  f.cuda = cuda;
  f.device = cuda && compat::cuda_available() ? compat::device_name(device)
                                              : std::string(cuda ? "cuda (not available)" : "cpu");
  in.cuda = cuda;
  in.fused_attention = cuda && compat::fused_attention(device);
  in.mean_keeps_input = compat::mean_keeps_input();
  in.grouped_attention = cuda && compat::grouped_attention(device);
  in.gradients_freed = compat::zero_grad_frees();
  if (cuda) {
    const auto mem = compat::cuda_memory(device);
    f.total_bytes = mem.device_total;
    f.available_bytes = mem.device_total - mem.device_used;
  } else {
    host_memory(&f.available_bytes, &f.total_bytes);
  }

  auto at = [&](int64_t micro, MemoryForecast* out) {
    in.micro_batch = micro;
    const auto b = train::forecast_step(in);
    out->micro_batch = micro;
    out->sequence = in.sequence;
    out->peak_bytes = b.peak();
    out->categories = {{"base_weights", b.base_weights},
                       {"trainable_weights", b.trainable_weights},
                       {"gradients", b.gradients},
                       {"optimizer_state", b.optimizer_state},
                       {"activations", b.activations()}};
    out->device_bytes = b.peak();
    if (cuda && compat::blas_workspaces_in_allocator()) {
      // Counted with the activations, as the trainer's measured sample counts them (allocated,
      // in no category of its own).
      for (auto& [name, bytes] : out->categories)
        if (name == "activations") bytes += kCudaBlasWorkspaces;
      out->peak_bytes += kCudaBlasWorkspaces;
      out->device_bytes += kCudaBlasWorkspaces;
    }
    if (cuda) {
      const auto cache = static_cast<int64_t>(double(b.peak()) * kCudaCacheShare);
      out->categories.emplace_back("allocator_cache", cache);
      out->categories.emplace_back("outside_torch", kCudaOutsideTorch);
      out->device_bytes += cache + kCudaOutsideTorch;
    }
    out->fit = fit_of(out->device_bytes, out->available_bytes);
  };
  // The largest divisor of the batch whose step fits with room to spare.
  const int64_t batch = config.train.batch_size;
  for (int64_t m = 1; m <= batch; ++m) {
    if (batch % m) continue;
    MemoryForecast probe = f;
    at(m, &probe);
    if (probe.fit != MemoryFit::kFits) break;  // the peak grows with the micro-batch
    f.max_micro_batch = m;
  }
  const int64_t micro = config.train.micro_batch_size == kAutoMicroBatch
                            ? std::max<int64_t>(1, f.max_micro_batch)
                            : config.train.micro_batch_size;
  at(micro, &f);
  return f;
}

}  // namespace detail

MemoryForecast forecast_memory(const RunConfig& config, const std::string& project_path,
                               int num_labels) {
  std::vector<std::string> labels;
  for (int i = 0; i < num_labels; ++i) labels.push_back("class" + std::to_string(i));
  std::unique_ptr<ProjectStore> store;
  if (starts_with(config.model.source, detail::kRunPrefix)) {
    if (project_path.empty())
      throw InputError("model.source", "a run:NAME source needs the project it belongs to");
    store = ProjectStore::open(project_path);
  }
  return detail::forecast_for(detail::model_config(store.get(), config, std::nullopt, labels),
                              config);
}

namespace detail {

train::EncodedData random_rows(const RunConfig& c, int64_t vocab, int64_t rows,
                               const std::vector<std::string>& labels) {
  train::EncodedData data;
  data.labels = labels;
  SplitMix64 rng(c.seed);
  for (int64_t i = 0; i < rows; ++i) {
    train::TokenizedExample e;
    e.ids.resize(size_t(c.data.max_length));
    for (auto& id : e.ids) id = static_cast<int32_t>(rng.below(uint64_t(vocab)));
    e.target.assign(e.ids.size(), 1);
    e.target[0] = 0;
    if (!labels.empty()) e.label = int32_t(i % int64_t(labels.size()));
    data.train.push_back(std::move(e));
  }
  return data;
}

torch::Device training_device(const RunConfig& c) {
  const bool cuda = c.device == DeviceChoice::kCuda ||
                    (c.device == DeviceChoice::kAuto && compat::cuda_available());
  if (cuda && !compat::cuda_available())
    throw InputError("device", "cuda was requested but no CUDA device is available");
  return cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
}

}  // namespace detail

MemorySample measure_step_memory(const RunConfig& config, const std::string& project_path,
                                 int steps, int num_labels) {
  if (steps < 1) throw InputError("--steps", "measure at least one step");
  RunConfig c = config;
  std::vector<std::string> labels;
  if (c.model.task == Task::kClassification)
    for (int i = 0; i < std::max(2, num_labels); ++i) labels.push_back("class" + std::to_string(i));
  auto store = ProjectStore::open(project_path);
  const torch::Device device = detail::training_device(c);
  std::string origin;
  auto model = detail::build_start_model(*store, c, std::nullopt, labels, &origin);
  detail::adapt(model, c);
  train::place_for_training(model, c, device);
  if (c.train.micro_batch_size == kAutoMicroBatch)
    c.train.micro_batch_size =
        int(std::max<int64_t>(1, detail::forecast_for(model->config(), c).max_micro_batch));
  // Rows of max_length tokens drawn from the whole vocabulary, every position after the first
  // predicted (classification: a label each).
  auto data = detail::random_rows(c, model->config().vocab_size,
                                  int64_t(c.train.batch_size) * steps, labels);
  RunObserver quiet;
  RunControl control;
  detail::DiscardingSink sink;
  train::Trainer trainer(c, model, std::move(data), device, model->config().pad_token_id, quiet,
                         control, sink);
  MemorySample last;
  for (int i = 0; i < steps; ++i) last = trainer.profile_step();
  return last;
}

}  // namespace deeptune
