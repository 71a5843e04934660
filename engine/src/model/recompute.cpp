// Activation recomputation (see recompute.h), as a custom autograd function whose backward runs
// the wrapped forward again with gradients enabled and calls backward on it (a re-entrant
// backward: the gradients of the parameters inside accumulate where they always do).
#include "model/recompute.h"

#include <torch/csrc/autograd/custom_function.h>

#include "torch/compat.h"

namespace deeptune::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// What backward needs beside the inputs: the function, the settings and the dropout generator's
// state before the forward. Held by the graph (a capsule in the context), so it lives exactly as
// long as the graph that may run backward.
struct Recomputation : torch::CustomClassHolder {
  RecomputeFn fn;
  RecomputeSettings settings;
  torch::Tensor gen_state;
};

class RecomputeFunction : public torch::autograd::Function<RecomputeFunction> {
 public:
  // `anchor` requires grad, so backward runs even when no input does (the first layer's input in
  // LoRA mode): the parameters inside still need their gradients.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& anchor,
                               const torch::Tensor& a, const c10::optional<torch::Tensor>& b,
                               const c10::optional<torch::Tensor>& c,
                               c10::intrusive_ptr<Recomputation> r) {
    (void)anchor;
    if (r->settings.dropout_gen) r->gen_state = compat::generator_state(*r->settings.dropout_gen);
    std::vector<torch::Tensor> inputs{a};
    if (b) inputs.push_back(*b);
    if (c) inputs.push_back(*c);
    auto out = r->fn(inputs);  // no graph is recorded inside an autograd function's forward
    ctx->save_for_backward(inputs);
    ctx->saved_data["recomputation"] = c10::IValue::make_capsule(r);
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto r = c10::static_intrusive_pointer_cast<Recomputation>(
        ctx->saved_data["recomputation"].toCapsule());
    const auto saved = ctx->get_saved_variables();
    std::vector<torch::Tensor> inputs;  // leaves of the recomputed graph
    for (const auto& t : saved) {
      auto leaf = t.detach();
      leaf.requires_grad_(t.requires_grad());
      inputs.push_back(leaf);
    }
    auto& gen = r->settings.dropout_gen;
    torch::Tensor after;
    if (gen) {
      after = compat::generator_state(*gen);
      compat::set_generator_state(*gen, r->gen_state);
    }
    torch::Tensor out;
    {
      torch::AutoGradMode grad_mode(true);
      compat::AutocastGuard autocast(r->settings.device, r->settings.autocast);
      out = r->fn(inputs);
    }
    if (gen) compat::set_generator_state(*gen, after);
    if (out.requires_grad()) torch::autograd::backward({out}, {grads.at(0)});
    // One gradient per forward argument: the anchor, the inputs, absent ones and the capsule.
    variable_list result(5);
    for (size_t i = 0; i < inputs.size(); ++i)
      if (inputs[i].requires_grad()) result[i + 1] = inputs[i].grad();
    return result;
  }
};

}  // namespace

torch::Tensor recompute(const RecomputeFn& fn, const std::vector<torch::Tensor>& inputs,
                        const RecomputeSettings& settings) {
  TORCH_CHECK(!inputs.empty() && inputs.size() <= 3, "recompute takes one to three inputs");
  if (!torch::GradMode::is_enabled()) return fn(inputs);
  auto r = c10::make_intrusive<Recomputation>();
  r->fn = fn;
  r->settings = settings;
  const auto anchor =
      torch::zeros({}, torch::TensorOptions().device(inputs[0].device()).requires_grad(true));
  const auto optional = [&](size_t i) {
    return i < inputs.size() ? c10::optional<torch::Tensor>(inputs[i]) : c10::nullopt;
  };
  return RecomputeFunction::apply(anchor, inputs[0], optional(1), optional(2), r);
}

}  // namespace deeptune::model
