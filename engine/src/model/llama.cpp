// LLaMA-family decoder (see llama.h). Numerics follow transformers' modeling_llama so that a
// checkpoint gives the same logits there and here.
#include "model/llama.h"

#include <cmath>
#include <set>

#include "deeptune/error.h"
#include "deeptune/text.h"
#include "torch/compat.h"

namespace deeptune::model {

// ---- LoRA-capable linear ----------------------------------------------------------------------

PlainLinearImpl::PlainLinearImpl(int64_t in, int64_t out) {
  weight = register_parameter("weight", torch::empty({out, in}));
}

torch::Tensor PlainLinearImpl::forward(const torch::Tensor& x) {
  return torch::nn::functional::linear(x, weight);
}

LoraLinearImpl::LoraLinearImpl(int64_t in, int64_t out, bool with_bias)
    : in_features(in), out_features(out) {
  weight = register_parameter("weight", torch::empty({out, in}));
  if (with_bias) bias = register_parameter("bias", torch::zeros({out}));
}

void LoraLinearImpl::attach_lora(int64_t r, double scale, double dropout, torch::Generator& gen) {
  TORCH_CHECK(!has_lora(), "LoRA already attached");
  lora_A = register_module("lora_A", PlainLinear(in_features, r));
  lora_B = register_module("lora_B", PlainLinear(r, out_features));
  {
    // kaiming_uniform_(a = sqrt(5)): gain sqrt(2 / (1 + a^2)) times sqrt(3 / fan_in) is
    // 1 / sqrt(fan_in); drawn here from `gen` because kaiming_uniform_ takes no generator.
    torch::NoGradGuard no_grad;
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    lora_A->weight.uniform_(-bound, bound, gen);
    lora_B->weight.zero_();
  }
  // LoRA weights stay fp32 whatever the base holds: they are the ones being optimised.
  lora_A->to(weight.device(), torch::kFloat);
  lora_B->to(weight.device(), torch::kFloat);
  scale_ = scale;
  dropout_ = dropout;
}

torch::Tensor LoraLinearImpl::dropout(const torch::Tensor& x) {
  if (!is_training() || dropout_ <= 0.0) return x;
  TORCH_CHECK(dropout_gen_.has_value(),
              "LoRA dropout in training needs a generator (set_dropout_generator)");
  // Inverted dropout as torch::dropout computes it, with the mask drawn from our generator.
  const double keep = 1.0 - dropout_;
  const auto mask = torch::empty_like(x).bernoulli_(keep, *dropout_gen_);
  return x * mask / keep;
}

torch::Tensor LoraLinearImpl::forward(const torch::Tensor& x) {
  auto y = torch::nn::functional::linear(x, weight, bias);
  if (has_lora() && !merged_ && enabled_) y = y + lora_B(lora_A(dropout(x))) * scale_;
  return y;
}

torch::Tensor LoraLinearImpl::delta_weight() const {
  return torch::matmul(lora_B->weight.to(torch::kFloat), lora_A->weight.to(torch::kFloat)) * scale_;
}

void LoraLinearImpl::merge() {
  if (!has_lora() || merged_) return;
  torch::NoGradGuard no_grad;
  weight.copy_((weight.to(torch::kFloat) + delta_weight()).to(weight.scalar_type()));
  merged_ = true;
}

void LoraLinearImpl::unmerge() {
  if (!has_lora() || !merged_) return;
  torch::NoGradGuard no_grad;
  weight.copy_((weight.to(torch::kFloat) - delta_weight()).to(weight.scalar_type()));
  merged_ = false;
}

// ---- blocks -----------------------------------------------------------------------------------

RMSNormImpl::RMSNormImpl(int64_t dim, double e) : eps(e) {
  weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  // Statistics in fp32 (as transformers does): bf16 squares lose the small components.
  const auto dtype = x.scalar_type();
  auto xf = x.to(torch::kFloat);
  xf = xf * torch::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * xf.to(dtype);
}

namespace {
// Whether `mode` applies now: the module trains and gradients are being recorded.
bool recomputing(const RecomputeSettings* r, GradientCheckpointing mode,
                 const torch::nn::Module& m) {
  return r && r->mode == mode && m.is_training() && torch::GradMode::is_enabled();
}

// A norm that keeps only its input for backward (selective recomputation).
torch::Tensor norm_of(RMSNorm& norm, const torch::Tensor& x, const RecomputeSettings* r,
                      const torch::nn::Module& owner) {
  if (!recomputing(r, GradientCheckpointing::kSelective, owner)) return norm(x);
  return recompute([norm](const std::vector<torch::Tensor>& in) mutable { return norm(in[0]); },
                   {x}, *r);
}

torch::Tensor rotate_half(const torch::Tensor& x) {  // (..., hd): [x1, x2] -> [-x2, x1]
  const int64_t half = x.size(-1) / 2;
  return torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}
torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos,
                         const torch::Tensor& sin) {
  return x * cos + rotate_half(x) * sin;  // x: (B, n, T, hd); cos/sin: (T, hd) broadcast
}
}  // namespace

AttentionImpl::AttentionImpl(const LlamaConfig& c)
    : nh_(c.num_attention_heads), nkv_(c.num_key_value_heads), hd_(c.head_dim) {
  q_proj = register_module("q_proj", LoraLinear(c.hidden_size, nh_ * hd_, c.attention_bias));
  k_proj = register_module("k_proj", LoraLinear(c.hidden_size, nkv_ * hd_, c.attention_bias));
  v_proj = register_module("v_proj", LoraLinear(c.hidden_size, nkv_ * hd_, c.attention_bias));
  o_proj = register_module("o_proj", LoraLinear(nh_ * hd_, c.hidden_size, c.o_proj_bias));
  if (c.qk_norm) {  // Qwen3: RMSNorm over each head's hd features, weights shared by the heads
    q_norm = register_module("q_norm", RMSNorm(hd_, c.rms_norm_eps));
    k_norm = register_module("k_norm", RMSNorm(hd_, c.rms_norm_eps));
  }
  // The seed's "dynamic attention": softmax(q k^T / (sqrt(d) * T)); T < 1 sharpens, T > 1 flattens.
  const double temperature =
      c.attention_kind == AttentionKind::kTemperature ? c.attention_temperature : 1.0;
  scale_ = 1.0 / (std::sqrt(static_cast<double>(hd_)) * temperature);
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& cos,
                                     const torch::Tensor& sin, AttentionCapture* capture) {
  const int64_t b = x.size(0), t = x.size(1);
  auto q = q_proj(x).view({b, t, nh_, hd_});   // (B, T, nh, hd)
  auto k = k_proj(x).view({b, t, nkv_, hd_});  // (B, T, nkv, hd)
  if (q_norm) {
    q = q_norm(q);
    k = k_norm(k);
  }
  q = q.transpose(1, 2);                                       // (B, nh, T, hd)
  k = k.transpose(1, 2);                                       // (B, nkv, T, hd)
  auto v = v_proj(x).view({b, t, nkv_, hd_}).transpose(1, 2);  // (B, nkv, T, hd)
  q = apply_rope(q, cos, sin);
  k = apply_rope(k, cos, sin);
  // Grouped-query attention: k and v keep their nkv heads; attention() reads them grouped.
  if (v.scalar_type() != q.scalar_type()) v = v.to(q.scalar_type());
  if (k.scalar_type() != q.scalar_type()) k = k.to(q.scalar_type());
  torch::Tensor out;
  if (capture && capture->enabled) {
    torch::Tensor w;
    out = compat::attention_reference(q, k, v, scale_, /*causal=*/true, &w);
    capture->weights.push_back(w.detach());
  } else if (recomputing(recompute, GradientCheckpointing::kSelective, *this) &&
             !compat::fused_attention(q.device())) {
    // The scores and their softmax (T x T per head) are recomputed; the fused kernel already
    // keeps neither.
    const double scale = scale_;
    out = model::recompute(
        [scale](const std::vector<torch::Tensor>& in) {
          return compat::attention(in[0], in[1], in[2], scale, /*causal=*/true);
        },
        {q, k, v}, *recompute);
  } else {
    out = compat::attention(q, k, v, scale_, /*causal=*/true);
  }
  out = out.transpose(1, 2).contiguous().view({b, t, nh_ * hd_});  // (B, T, nh*hd)
  return o_proj(out);
}

MlpImpl::MlpImpl(const LlamaConfig& c) {
  gate_proj =
      register_module("gate_proj", LoraLinear(c.hidden_size, c.intermediate_size, c.mlp_bias));
  up_proj = register_module("up_proj", LoraLinear(c.hidden_size, c.intermediate_size, c.mlp_bias));
  down_proj =
      register_module("down_proj", LoraLinear(c.intermediate_size, c.hidden_size, c.mlp_bias));
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
  const auto up = up_proj(x);  // first, as before: dropout draws its masks in this order
  const auto gate = gate_proj(x);
  if (recomputing(recompute, GradientCheckpointing::kSelective, *this)) {
    const auto act = model::recompute(
        [](const std::vector<torch::Tensor>& in) { return torch::silu(in[0]) * in[1]; }, {gate, up},
        *recompute);
    return down_proj(act);
  }
  return down_proj(torch::silu(gate) * up);
}

DecoderLayerImpl::DecoderLayerImpl(const LlamaConfig& c) {
  input_layernorm = register_module("input_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
  self_attn = register_module("self_attn", Attention(c));
  post_attention_layernorm =
      register_module("post_attention_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
  mlp = register_module("mlp", Mlp(c));
}

torch::Tensor DecoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& cos,
                                        const torch::Tensor& sin, AttentionCapture* capture) {
  auto h = x + self_attn(norm_of(input_layernorm, x, recompute, *this), cos, sin, capture);
  return h + mlp(norm_of(post_attention_layernorm, h, recompute, *this));
}

torch::Tensor rope_inv_freq(const LlamaConfig& c, const torch::Device& device,
                            double* attention_factor) {
  // Follows transformers' rope initialisers (modeling_rope_utils) formula by formula, in fp32.
  auto opts = torch::TensorOptions().dtype(torch::kFloat).device(device);
  const int64_t dim = c.head_dim;
  const double base = c.rope_theta;
  const RopeScaling& r = c.rope_scaling;
  *attention_factor = 1.0;
  auto pos_freqs = torch::pow(base, torch::arange(0, dim, 2, opts) / double(dim));  // (hd/2)
  auto inv_freq = 1.0 / pos_freqs;
  switch (r.type) {
    case RopeType::kDefault:
      return inv_freq;
    case RopeType::kLinear:
      return inv_freq / r.factor;
    case RopeType::kLlama3: {
      // Long wavelengths are slowed by `factor`, short ones kept, the band between interpolated.
      const double old_len = double(r.original_max_position_embeddings);
      const double low_wavelen = old_len / r.low_freq_factor;
      const double high_wavelen = old_len / r.high_freq_factor;
      auto wavelen = 2.0 * M_PI / inv_freq;
      auto scaled = torch::where(wavelen > low_wavelen, inv_freq / r.factor, inv_freq);
      auto smooth =
          (old_len / wavelen - r.low_freq_factor) / (r.high_freq_factor - r.low_freq_factor);
      auto smoothed = (1 - smooth) * scaled / r.factor + smooth * scaled;
      auto medium = (wavelen >= high_wavelen).logical_and(wavelen <= low_wavelen);
      return torch::where(medium, smoothed, scaled);
    }
    case RopeType::kYarn: {
      // As transformers 5: the `factor` key; only without one, the ratio of the context lengths
      // (DeepSeek-V3 style configs).
      const double original = r.original_max_position_embeddings > 0
                                  ? double(r.original_max_position_embeddings)
                                  : double(c.max_position_embeddings);
      const double factor = r.factor > 0 ? r.factor : double(c.max_position_embeddings) / original;
      auto get_mscale = [](double scale, double mscale) {
        return scale <= 1.0 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0;
      };
      if (r.attention_factor) {
        *attention_factor = *r.attention_factor;
      } else if (r.mscale && r.mscale_all_dim && *r.mscale && *r.mscale_all_dim) {
        *attention_factor = get_mscale(factor, *r.mscale) / get_mscale(factor, *r.mscale_all_dim);
      } else {
        *attention_factor = get_mscale(factor, 1.0);
      }
      // The dimensions whose wavelength fits beta_fast..beta_slow rotations in the original
      // context are blended between extrapolation (kept) and interpolation (divided by factor).
      auto correction_dim = [&](double rotations) {
        return (dim * std::log(original / (rotations * 2.0 * M_PI))) / (2.0 * std::log(base));
      };
      double low = correction_dim(r.beta_fast), high = correction_dim(r.beta_slow);
      if (r.truncate) {
        low = std::floor(low);
        high = std::ceil(high);
      }
      low = std::max(low, 0.0);
      high = std::min(high, double(dim - 1));
      if (low == high) high += 0.001;
      auto ramp = ((torch::arange(dim / 2, opts) - low) / (high - low)).clamp(0, 1);
      auto extrapolation = 1.0 - ramp;
      auto interpolated = 1.0 / (factor * pos_freqs);
      return interpolated * (1 - extrapolation) + inv_freq * extrapolation;
    }
  }
  return inv_freq;
}

LlamaModelImpl::LlamaModelImpl(const LlamaConfig& c) : config_(c) {
  // An explicit (uninitialised) weight keeps Embedding from drawing its own init.
  embed_tokens = register_module(
      "embed_tokens",
      torch::nn::Embedding(torch::nn::EmbeddingOptions(c.vocab_size, c.hidden_size)
                               ._weight(torch::empty({c.vocab_size, c.hidden_size}))));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layers->push_back(DecoderLayer(c));
  norm = register_module("norm", RMSNorm(c.hidden_size, c.rms_norm_eps));
}

torch::Tensor LlamaModelImpl::forward(const torch::Tensor& input_ids, AttentionCapture* capture) {
  auto h = embed_tokens(input_ids);  // (B, T, H)
  const int64_t t = input_ids.size(1);
  // RoPE tables in fp32, then cast to the activations' dtype (transformers does the same).
  auto opts = torch::TensorOptions().dtype(torch::kFloat).device(input_ids.device());
  double attention_factor = 1.0;
  auto inv_freq = rope_inv_freq(config_, input_ids.device(), &attention_factor);  // (hd/2)
  auto freqs = torch::outer(torch::arange(t, opts), inv_freq);                    // (T, hd/2)
  auto emb = torch::cat({freqs, freqs}, -1);                                      // (T, hd)
  auto cos = (emb.cos() * attention_factor).to(h.scalar_type());
  auto sin = (emb.sin() * attention_factor).to(h.scalar_type());
  const bool capturing = capture && capture->enabled;
  for (const auto& item : *layers) {
    auto layer = std::dynamic_pointer_cast<DecoderLayerImpl>(item);
    if (!capturing && recomputing(recompute, GradientCheckpointing::kFull, *this)) {
      // Each layer keeps only its input; backward runs it again.
      h = model::recompute(
          [layer, cos, sin](const std::vector<torch::Tensor>& in) {
            return layer->forward(in[0], cos, sin, nullptr);
          },
          {h}, *recompute);
    } else {
      h = layer->forward(h, cos, sin, capture);
    }
  }
  return norm_of(norm, h, recompute, *this);
}

TransformerImpl::TransformerImpl(const LlamaConfig& c) : config_(c) {
  c.validate("model config");
  model = register_module("model", LlamaModel(c));
  if (c.num_labels() > 0)
    score = register_module("score", LoraLinear(c.hidden_size, c.num_labels(), false));
  else if (!c.tie_word_embeddings)
    lm_head = register_module("lm_head", LoraLinear(c.hidden_size, c.vocab_size, false));
}

void TransformerImpl::set_recompute(const RecomputeSettings& settings) {
  *recompute_ = settings;
  const RecomputeSettings* r = recompute_.get();
  model->recompute = r;
  for (const auto& item : *model->layers) {
    auto* layer = item->as<DecoderLayerImpl>();
    layer->recompute = r;
    layer->self_attn->recompute = r;
    layer->mlp->recompute = r;
  }
}

torch::Tensor TransformerImpl::lm_logits(const torch::Tensor& input_ids,
                                         AttentionCapture* capture) {
  auto h = model(input_ids, capture);
  if (lm_head) return lm_head(h);
  return torch::nn::functional::linear(h, model->embed_tokens->weight);  // tied
}

torch::Tensor TransformerImpl::plain_head_weight() {
  if (score) return {};
  if (!lm_head) return model->embed_tokens->weight;
  if (lm_head->has_lora() || lm_head->bias.defined()) return {};
  return lm_head->weight;
}

torch::Tensor TransformerImpl::class_logits(const torch::Tensor& input_ids,
                                            const torch::Tensor& last_index,
                                            AttentionCapture* capture) {
  TORCH_CHECK(score, "class_logits on a model without a classification head");
  auto h = model(input_ids, capture);  // (B, T, H)
  auto rows =
      torch::arange(h.size(0), torch::TensorOptions().dtype(torch::kLong).device(h.device()));
  return score(h.index({rows, last_index}));  // (B, num_labels)
}

void init_weights(Transformer& m, uint64_t seed) {
  std::vector<std::string> names;
  for (const auto& p : m->named_parameters()) names.push_back(p.key());
  init_parameters(m, names, seed);
}

void init_parameters(Transformer& m, const std::vector<std::string>& wanted, uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed);
  const double std = m->config().initializer_range;
  const std::set<std::string> chosen(wanted.begin(), wanted.end());
  for (auto& p : m->named_parameters()) {
    const std::string& name = p.key();
    if (name.find("lora_") != std::string::npos || !chosen.count(name)) continue;
    if (ends_with(name, "norm.weight")) {
      p.value().fill_(1.0);
    } else if (ends_with(name, "bias")) {
      p.value().zero_();
    } else {
      // Drawn on the CPU and copied, so the values do not depend on where the model lives.
      auto values = torch::empty(p.value().sizes(), torch::kFloat);
      values.normal_(0.0, std, gen);
      p.value().copy_(values);
    }
  }
  const int64_t pad = m->config().pad_token_id;
  if (chosen.count("model.embed_tokens.weight") && pad >= 0 && pad < m->config().vocab_size)
    m->model->embed_tokens->weight[pad].zero_();
}

std::vector<std::pair<std::string, LoraLinear>> linear_modules(Transformer& m) {
  std::vector<std::pair<std::string, LoraLinear>> out;
  for (auto& item : m->named_modules("", /*include_self=*/false)) {
    if (auto lin = std::dynamic_pointer_cast<LoraLinearImpl>(item.value()))
      out.emplace_back(item.key(), LoraLinear(lin));
  }
  return out;
}

}  // namespace deeptune::model
