// Chunked head + cross-entropy (see linear_cross_entropy.h).
#include "model/linear_cross_entropy.h"

#include <algorithm>

namespace deeptune::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class LinearCrossEntropy : public torch::autograd::Function<LinearCrossEntropy> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& h,
                               const torch::Tensor& weight, const torch::Tensor& targets,
                               double smoothing, int64_t compute, int64_t chunk_rows) {
    const auto cd = static_cast<torch::ScalarType>(compute);
    const bool want_h = h.requires_grad(), want_w = weight.requires_grad();
    const auto hc = h.to(cd);
    const auto w = weight.to(cd);
    const int64_t n = hc.size(0), v = w.size(0);
    const int64_t chunk = chunk_rows > 0 ? chunk_rows : cross_entropy_chunk_rows(v, n);
    auto loss = torch::zeros({}, h.options().dtype(torch::kFloat));
    torch::Tensor grad_h, grad_w;
    if (want_h) grad_h = torch::empty_like(hc);
    if (want_w) grad_w = torch::zeros(weight.sizes(), weight.options().dtype(torch::kFloat));
    for (int64_t start = 0; start < n; start += chunk) {
      const int64_t rows = std::min(chunk, n - start);
      const auto x = hc.narrow(0, start, rows);
      const auto t = targets.narrow(0, start, rows);
      auto logits = torch::mm(x, w.t()).to(torch::kFloat);  // (rows, V)
      const auto keep = t.ne(-100);
      const auto index = t.clamp_min(0).unsqueeze(-1);
      auto row = -logits.gather(-1, index).squeeze(-1);
      if (smoothing > 0) row = (1.0 - smoothing) * row - smoothing * logits.mean(-1);
      // log-sum-exp and softmax in place (logsumexp() would allocate a shifted copy)
      const auto shift = logits.amax(-1, /*keepdim=*/true);  // (rows, 1)
      auto e = logits.sub_(shift).exp_();
      const auto sum = e.sum(-1, /*keepdim=*/true);
      row += sum.log().add_(shift).squeeze(-1);
      loss += row.masked_select(keep).sum();
      if (!want_h && !want_w) continue;
      // d loss / d logits = softmax - (1 - e) onehot - e / V, zero on skipped rows; in place.
      auto g = e.div_(sum);
      g.scatter_add_(-1, index, torch::full({rows, 1}, -(1.0 - smoothing), g.options()));
      if (smoothing > 0) g.sub_(smoothing / double(v));
      g.mul_(keep.unsqueeze(-1));
      const auto gc = g.to(cd);
      if (want_h) {
        auto out = grad_h.narrow(0, start, rows);
        torch::mm_out(out, gc, w);
      }
      if (want_w) grad_w.add_(torch::mm(gc.t(), x));
    }
    ctx->save_for_backward({grad_h, grad_w});
    ctx->saved_data["h_dtype"] = static_cast<int64_t>(h.scalar_type());
    ctx->saved_data["w_dtype"] = static_cast<int64_t>(weight.scalar_type());
    return loss;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto& go = grad_outputs[0];
    torch::Tensor dh, dw;
    // Scaled in fp32, as the plain path scales the logits' gradient before casting it.
    if (saved[0].defined())
      dh = (saved[0].to(torch::kFloat) * go)
               .to(static_cast<torch::ScalarType>(ctx->saved_data["h_dtype"].toInt()));
    if (saved[1].defined())
      dw = (saved[1] * go).to(static_cast<torch::ScalarType>(ctx->saved_data["w_dtype"].toInt()));
    return {dh, dw, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor linear_cross_entropy_sum(const torch::Tensor& h, const torch::Tensor& weight,
                                       const torch::Tensor& targets, double smoothing,
                                       torch::ScalarType compute, int64_t chunk_rows) {
  TORCH_CHECK(h.dim() == 2 && weight.dim() == 2 && h.size(1) == weight.size(1),
              "linear_cross_entropy_sum: h (N, H) and weight (V, H) expected");
  TORCH_CHECK(targets.dim() == 1 && targets.size(0) == h.size(0),
              "linear_cross_entropy_sum: one target per row expected");
  return LinearCrossEntropy::apply(h, weight, targets, smoothing, static_cast<int64_t>(compute),
                                   chunk_rows);
}

}  // namespace deeptune::model
