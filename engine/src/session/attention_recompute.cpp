// A probe's attention recomputed from a run's checkpoint (see compute_attention in session.h):
// what the stored snapshots cannot give — the full map of a long probe, and the same probe with
// the adapters switched off.
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "deeptune/session.h"
#include "session/session_internal.h"
#include "torch/compat.h"
#include "train/attention_capture.h"

namespace deeptune {

std::vector<AttentionMapRecord> to_map_records(const AttentionSnapshot& a, int64_t run_id) {
  std::vector<AttentionMapRecord> out;
  for (int layer = 0; layer < a.layers; ++layer) {
    AttentionMapRecord m;
    m.run_id = run_id;
    m.probe = a.probe;
    m.step = a.step;
    m.layer = layer;
    m.heads = a.heads;
    m.length = a.length;
    m.size = a.size;
    m.codec = kMapsCodec;
    m.data = a.packed.at(size_t(layer));
    nlohmann::json stats = nlohmann::json::array();
    for (const HeadStats& h : a.stats.at(size_t(layer)))
      stats.push_back({h.entropy, h.sink, h.previous, h.max});
    m.stats_json = stats.dump();
    if (size_t(layer) < a.previews.size()) {
      m.preview_size = a.preview_size;
      m.preview = a.previews[size_t(layer)];
    }
    out.push_back(std::move(m));
  }
  return out;
}

ComputedAttention compute_attention(const std::string& project_path, const std::string& run_name,
                                    int probe, bool tuned, int max_side,
                                    std::optional<int64_t> step) {
  if (max_side < 0) throw InputError("max_side", "must be 0 (the full map) or positive");
  auto store = ProjectStore::open(project_path);
  const auto run = store->find_run(run_name);
  if (!run) throw InputError(project_path, "no run named '" + run_name + "'");
  const auto probes = store->attention_probes(run->id);
  if (probe < 0 || size_t(probe) >= probes.size())
    throw InputError(run->name, "has no attention probe " + std::to_string(probe) + " (it has " +
                                    std::to_string(probes.size()) + ")");
  const AttentionProbeRecord& record = probes[size_t(probe)];
  if (record.ids.empty())
    throw InputError(run->name, "probe " + std::to_string(probe) +
                                    " was recorded without its token ids (by an older version); "
                                    "train a new run to recompute its attention");

  auto trained = detail::load_trained(*store, *run, step);
  const bool lora = trained.config.train.mode == TrainMode::kLora;
  model::Transformer m = trained.model;
  if (!tuned) {
    if (lora) {
      for (auto& [name, layer] : model::linear_modules(m)) layer->set_lora_enabled(false);
    } else {
      m = detail::load_base(*store, *run, trained.config);  // the weights the run started from
    }
  }
  const bool cuda = trained.config.device != DeviceChoice::kCpu && compat::cuda_available();
  const torch::Device device = cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  m->to(device);  // fp32: the maps are compared with each other, not timed

  const int64_t vocab = m->config().vocab_size;
  for (int32_t id : record.ids)
    if (id >= vocab)
      throw InputError(run->name, "probe " + std::to_string(probe) + " holds token id " +
                                      std::to_string(id) + ", outside the model's vocabulary of " +
                                      std::to_string(vocab));
  auto snapshots =
      train::capture_attention(m, {record.ids}, trained.checkpoint.step, device, max_side);
  ComputedAttention out;
  out.snapshot = std::move(snapshots.at(0));
  out.snapshot.probe = probe;
  out.tokens = record.tokens;
  out.description = "run '" + run->name + "' at step " + std::to_string(trained.checkpoint.step) +
                    ", " +
                    (tuned ? std::string(lora ? "adapters on" : "fine-tuned weights")
                           : std::string(lora ? "adapters off" : "weights before fine-tuning"));
  return out;
}

}  // namespace deeptune
