// LLaMA-family decoder (see llama.h). Numerics follow transformers' modeling_llama so that a
// checkpoint gives the same logits there and here.
#include "model/llama.h"

#include <cmath>

#include "deeptune/error.h"
#include "deeptune/text.h"
#include "torch/compat.h"

namespace deeptune::model {

// ---- config -----------------------------------------------------------------------------------

nlohmann::json LlamaConfig::to_hf_json() const {
  nlohmann::json j;
  const bool cls = num_labels() > 0;
  j["architectures"] = {cls ? "LlamaForSequenceClassification" : "LlamaForCausalLM"};
  j["model_type"] = "llama";
  j["vocab_size"] = vocab_size;
  j["hidden_size"] = hidden_size;
  j["intermediate_size"] = intermediate_size;
  j["num_hidden_layers"] = num_hidden_layers;
  j["num_attention_heads"] = num_attention_heads;
  j["num_key_value_heads"] = num_key_value_heads;
  j["head_dim"] = head_dim;
  j["max_position_embeddings"] = max_position_embeddings;
  j["rms_norm_eps"] = rms_norm_eps;
  j["rope_theta"] = rope_theta;
  j["rope_scaling"] = nullptr;
  j["hidden_act"] = "silu";
  j["attention_bias"] = attention_bias;
  j["attention_dropout"] = 0.0;
  j["mlp_bias"] = false;
  j["tie_word_embeddings"] = tie_word_embeddings;
  j["bos_token_id"] = bos_token_id;
  j["eos_token_id"] = eos_token_id;
  j["pad_token_id"] = pad_token_id;
  j["initializer_range"] = initializer_range;
  j["torch_dtype"] = "float32";
  j["use_cache"] = true;
  if (cls) {
    nlohmann::json id2label = nlohmann::json::object(), label2id = nlohmann::json::object();
    for (size_t i = 0; i < labels.size(); ++i) {
      id2label[std::to_string(i)] = labels[i];
      label2id[labels[i]] = i;
    }
    j["id2label"] = id2label;
    j["label2id"] = label2id;
  }
  // Our extension keys; transformers keeps unknown keys and ignores them.
  j["deeptune_attention"] = {{"kind", to_string(attention_kind)},
                             {"temperature", attention_temperature}};
  return j;
}

namespace {
template <typename T>
T read_key(const nlohmann::json& j, const char* key, const std::string& origin, T fallback,
           bool required) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) throw InputError(origin, std::string("missing key '") + key + "'");
    return fallback;
  }
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw InputError(origin, std::string("key '") + key + "' has the wrong type");
  }
}
int64_t first_id(const nlohmann::json& j, const char* key, int64_t fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (it->is_array()) return it->empty() ? fallback : (*it)[0].get<int64_t>();
  return it->get<int64_t>();
}
}  // namespace

LlamaConfig LlamaConfig::from_hf_json(const nlohmann::json& j, const std::string& origin) {
  if (!j.is_object()) throw InputError(origin, "config.json must hold a JSON object");
  LlamaConfig c;
  c.vocab_size = read_key<int64_t>(j, "vocab_size", origin, 0, true);
  c.hidden_size = read_key<int64_t>(j, "hidden_size", origin, 0, true);
  c.intermediate_size = read_key<int64_t>(j, "intermediate_size", origin, 0, true);
  c.num_hidden_layers = read_key<int64_t>(j, "num_hidden_layers", origin, 0, true);
  c.num_attention_heads = read_key<int64_t>(j, "num_attention_heads", origin, 0, true);
  c.num_key_value_heads =
      read_key<int64_t>(j, "num_key_value_heads", origin, c.num_attention_heads, false);
  c.head_dim =
      read_key<int64_t>(j, "head_dim", origin,
                        c.num_attention_heads ? c.hidden_size / c.num_attention_heads : 0, false);
  c.max_position_embeddings = read_key<int64_t>(j, "max_position_embeddings", origin, 2048, false);
  c.rms_norm_eps = read_key<double>(j, "rms_norm_eps", origin, 1e-6, false);
  double theta = read_key<double>(j, "rope_theta", origin, 10000.0, false);
  if (auto rp = j.find("rope_parameters"); rp != j.end() && rp->is_object())
    theta = rp->value("rope_theta", theta);
  c.rope_theta = theta;
  c.tie_word_embeddings = read_key<bool>(j, "tie_word_embeddings", origin, false, false);
  c.attention_bias = read_key<bool>(j, "attention_bias", origin, false, false);
  c.initializer_range = read_key<double>(j, "initializer_range", origin, 0.02, false);
  c.bos_token_id = first_id(j, "bos_token_id", -1);
  c.eos_token_id = first_id(j, "eos_token_id", -1);
  c.pad_token_id = first_id(j, "pad_token_id", -1);
  if (auto l = j.find("id2label"); l != j.end() && l->is_object() &&
                                   read_key<nlohmann::json>(j, "architectures", origin, {}, false)
                                           .dump()
                                           .find("SequenceClassification") != std::string::npos) {
    c.labels.resize(l->size());
    for (auto it = l->begin(); it != l->end(); ++it) {
      // Keys are "0".."n-1"; anything else (a word, "-1", a huge number) is refused by name.
      const std::string& key = it.key();
      const bool decimal = !key.empty() && key.size() <= 9 &&
                           key.find_first_not_of("0123456789") == std::string::npos;
      const size_t idx = decimal ? std::stoul(key) : c.labels.size();
      if (idx >= c.labels.size())
        throw InputError(origin, "id2label key '" + key + "' is not an index 0.." +
                                     std::to_string(c.labels.size() - 1));
      if (!it.value().is_string())
        throw InputError(origin, "id2label['" + key + "'] must be a string");
      c.labels[idx] = it.value().get<std::string>();
    }
  }
  if (auto a = j.find("deeptune_attention"); a != j.end() && a->is_object()) {
    const std::string kind = a->value("kind", std::string("standard"));
    c.attention_kind =
        kind == "temperature" ? AttentionKind::kTemperature : AttentionKind::kStandard;
    c.attention_temperature = a->value("temperature", 1.0);
  }
  c.validate(origin);
  return c;
}

void LlamaConfig::validate(const std::string& origin) const {
  auto positive = [&](int64_t v, const char* key) {
    if (v <= 0) throw InputError(origin, std::string(key) + " must be positive");
  };
  positive(vocab_size, "vocab_size");
  positive(hidden_size, "hidden_size");
  positive(intermediate_size, "intermediate_size");
  positive(num_hidden_layers, "num_hidden_layers");
  positive(num_attention_heads, "num_attention_heads");
  positive(num_key_value_heads, "num_key_value_heads");
  positive(head_dim, "head_dim");
  if (num_attention_heads % num_key_value_heads != 0)
    throw InputError(origin, "num_attention_heads must be a multiple of num_key_value_heads");
  if (head_dim % 2 != 0) throw InputError(origin, "head_dim must be even for RoPE");
}

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
  if (has_lora() && !merged_) y = y + lora_B(lora_A(dropout(x))) * scale_;
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
  o_proj = register_module("o_proj", LoraLinear(nh_ * hd_, c.hidden_size, false));
  // The seed's "dynamic attention": softmax(q k^T / (sqrt(d) * T)); T < 1 sharpens, T > 1 flattens.
  const double temperature =
      c.attention_kind == AttentionKind::kTemperature ? c.attention_temperature : 1.0;
  scale_ = 1.0 / (std::sqrt(static_cast<double>(hd_)) * temperature);
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& cos,
                                     const torch::Tensor& sin, AttentionCapture* capture) {
  const int64_t b = x.size(0), t = x.size(1);
  auto q = q_proj(x).view({b, t, nh_, hd_}).transpose(1, 2);   // (B, nh, T, hd)
  auto k = k_proj(x).view({b, t, nkv_, hd_}).transpose(1, 2);  // (B, nkv, T, hd)
  auto v = v_proj(x).view({b, t, nkv_, hd_}).transpose(1, 2);  // (B, nkv, T, hd)
  q = apply_rope(q, cos, sin);
  k = apply_rope(k, cos, sin);
  if (nkv_ != nh_) {  // query head j reads kv head j / (nh / nkv)
    k = k.repeat_interleave(nh_ / nkv_, 1);
    v = v.repeat_interleave(nh_ / nkv_, 1);
  }
  if (v.scalar_type() != q.scalar_type()) v = v.to(q.scalar_type());
  if (k.scalar_type() != q.scalar_type()) k = k.to(q.scalar_type());
  torch::Tensor out;
  if (capture && capture->enabled) {
    torch::Tensor w;
    out = compat::attention_reference(q, k, v, scale_, /*causal=*/true, &w);
    capture->weights.push_back(w.detach());
  } else {
    out = compat::attention(q, k, v, scale_, /*causal=*/true);
  }
  out = out.transpose(1, 2).contiguous().view({b, t, nh_ * hd_});  // (B, T, nh*hd)
  return o_proj(out);
}

MlpImpl::MlpImpl(const LlamaConfig& c) {
  gate_proj = register_module("gate_proj", LoraLinear(c.hidden_size, c.intermediate_size, false));
  up_proj = register_module("up_proj", LoraLinear(c.hidden_size, c.intermediate_size, false));
  down_proj = register_module("down_proj", LoraLinear(c.intermediate_size, c.hidden_size, false));
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
  return down_proj(torch::silu(gate_proj(x)) * up_proj(x));
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
  auto h = x + self_attn(input_layernorm(x), cos, sin, capture);
  return h + mlp(post_attention_layernorm(h));
}

LlamaModelImpl::LlamaModelImpl(const LlamaConfig& c)
    : head_dim_(c.head_dim), rope_theta_(c.rope_theta) {
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
  auto inv_freq = 1.0 / torch::pow(rope_theta_, torch::arange(0, head_dim_, 2, opts) / head_dim_);
  auto freqs = torch::outer(torch::arange(t, opts), inv_freq);  // (T, hd/2)
  auto emb = torch::cat({freqs, freqs}, -1);                    // (T, hd)
  auto cos = emb.cos().to(h.scalar_type()), sin = emb.sin().to(h.scalar_type());
  for (const auto& layer : *layers)
    h = layer->as<DecoderLayerImpl>()->forward(h, cos, sin, capture);
  return norm(h);
}

TransformerImpl::TransformerImpl(const LlamaConfig& c) : config_(c) {
  c.validate("model config");
  model = register_module("model", LlamaModel(c));
  if (c.num_labels() > 0)
    score = register_module("score", LoraLinear(c.hidden_size, c.num_labels(), false));
  else if (!c.tie_word_embeddings)
    lm_head = register_module("lm_head", LoraLinear(c.hidden_size, c.vocab_size, false));
}

torch::Tensor TransformerImpl::lm_logits(const torch::Tensor& input_ids,
                                         AttentionCapture* capture) {
  auto h = model(input_ids, capture);
  if (lm_head) return lm_head(h);
  return torch::nn::functional::linear(h, model->embed_tokens->weight);  // tied
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
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed);
  const double std = m->config().initializer_range;
  for (auto& p : m->named_parameters()) {
    const std::string& name = p.key();
    if (name.find("lora_") != std::string::npos) continue;
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
  if (pad >= 0 && pad < m->config().vocab_size) m->model->embed_tokens->weight[pad].zero_();
}

std::vector<LinearShape> linear_shapes(const LlamaConfig& c) {
  std::vector<LinearShape> out;
  const int64_t h = c.hidden_size, q = c.num_attention_heads * c.head_dim,
                kv = c.num_key_value_heads * c.head_dim;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string layer = "model.layers." + std::to_string(i) + ".";
    out.push_back({layer + "self_attn.q_proj", h, q});
    out.push_back({layer + "self_attn.k_proj", h, kv});
    out.push_back({layer + "self_attn.v_proj", h, kv});
    out.push_back({layer + "self_attn.o_proj", q, h});
    out.push_back({layer + "mlp.gate_proj", h, c.intermediate_size});
    out.push_back({layer + "mlp.up_proj", h, c.intermediate_size});
    out.push_back({layer + "mlp.down_proj", c.intermediate_size, h});
  }
  if (c.num_labels() > 0)
    out.push_back({"score", h, c.num_labels()});
  else if (!c.tie_word_embeddings)
    out.push_back({"lm_head", h, c.vocab_size});
  return out;
}

std::vector<ParameterShape> parameter_shapes(const LlamaConfig& c) {
  // Module order of TransformerImpl: embeddings, per layer (norms around attention and MLP),
  // final norm, head. tst_lora checks this list against a built model for every preset.
  std::vector<ParameterShape> out{{"model.embed_tokens.weight", {c.vocab_size, c.hidden_size}}};
  const auto linears = linear_shapes(c);
  auto linear = [&](const LinearShape& l) {
    out.push_back({l.name + ".weight", {l.out_features, l.in_features}});
    const bool biased =
        c.attention_bias &&
        (ends_with(l.name, "q_proj") || ends_with(l.name, "k_proj") || ends_with(l.name, "v_proj"));
    if (biased) out.push_back({l.name + ".bias", {l.out_features}});
  };
  size_t next = 0;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string layer = "model.layers." + std::to_string(i) + ".";
    out.push_back({layer + "input_layernorm.weight", {c.hidden_size}});
    for (int k = 0; k < 4; ++k) linear(linears[next++]);  // q, k, v, o
    out.push_back({layer + "post_attention_layernorm.weight", {c.hidden_size}});
    for (int k = 0; k < 3; ++k) linear(linears[next++]);  // gate, up, down
  }
  out.push_back({"model.norm.weight", {c.hidden_size}});
  for (; next < linears.size(); ++next) linear(linears[next]);  // lm_head or score
  return out;
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
