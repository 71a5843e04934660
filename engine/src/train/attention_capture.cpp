// Attention capture (see attention_capture.h).
#include "train/attention_capture.h"

namespace deeptune::train {

std::vector<AttentionSnapshot> capture_attention(model::Transformer& m,
                                                 const std::vector<std::vector<int32_t>>& probes,
                                                 int64_t step, const torch::Device& device,
                                                 int64_t max_side) {
  std::vector<AttentionSnapshot> out;
  if (probes.empty()) return out;
  const bool training = m->is_training();
  m->eval();
  torch::NoGradGuard no_grad;
  for (size_t p = 0; p < probes.size(); ++p) {
    const auto& ids = probes[p];
    if (ids.empty()) continue;
    std::vector<int64_t> wide(ids.begin(), ids.end());
    const auto input = torch::tensor(wide, torch::kLong).unsqueeze(0).to(device);  // (1, T)
    model::AttentionCapture capture;
    capture.enabled = true;
    m->model->forward(input, &capture);  // the decoder alone: causal LMs and classifiers alike
    AttentionSnapshot s;
    s.probe = static_cast<int>(p);
    s.step = step;
    s.layers = static_cast<int>(capture.weights.size());
    s.length = static_cast<int>(ids.size());
    for (const auto& layer : capture.weights) {
      const auto w = layer[0].to(torch::kCPU, torch::kFloat).contiguous();  // (nh, T, T)
      s.heads = static_cast<int>(w.size(0));
      const int64_t t = w.size(1);
      std::vector<float> maps;
      std::vector<HeadStats> stats;
      for (int64_t h = 0; h < w.size(0); ++h) {
        const float* head = w[h].data_ptr<float>();
        stats.push_back(head_stats(head, t));
        int64_t n = 0;
        const auto pooled = max_pool(head, t, max_side > 0 ? max_side : t, &n);
        s.size = static_cast<int>(n);
        maps.insert(maps.end(), pooled.begin(), pooled.end());
      }
      int64_t preview = 0;
      s.previews.push_back(pack_preview(maps.data(), s.heads, s.size, kPreviewSide, &preview));
      s.preview_size = static_cast<int>(preview);
      s.packed.push_back(pack_maps(maps));
      s.stats.push_back(std::move(stats));
    }
    out.push_back(std::move(s));
  }
  if (training) m->train();
  return out;
}

}  // namespace deeptune::train
