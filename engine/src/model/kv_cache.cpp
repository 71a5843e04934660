// Incremental decoding (see kv_cache.h). Mirrors LlamaModelImpl / AttentionImpl::forward step by
// step, with the keys and values of earlier positions read from the cache: the numerics must stay
// those of lm_logits, which the interoperability checks hold to transformers.
#include "model/kv_cache.h"

#include <cmath>

#include "torch/compat.h"

namespace deeptune::model {
namespace {

torch::Tensor rotate_half(const torch::Tensor& x) {  // (..., hd): [x1, x2] -> [-x2, x1]
  const int64_t half = x.size(-1) / 2;
  return torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

// Softmax scale as AttentionImpl sets it: 1 / (sqrt(hd) * T), T the seed's attention temperature.
double attention_scale(const LlamaConfig& c) {
  const double temperature =
      c.attention_kind == AttentionKind::kTemperature ? c.attention_temperature : 1.0;
  return 1.0 / (std::sqrt(static_cast<double>(c.head_dim)) * temperature);
}

// x: (B, n, H); cos/sin: (n, hd); layer_k/layer_v: (B, nkv, S, hd) or undefined -> (B, n, H).
torch::Tensor attention_cached(AttentionImpl& a, const LlamaConfig& c, const torch::Tensor& x,
                               const torch::Tensor& cos, const torch::Tensor& sin,
                               torch::Tensor& layer_k, torch::Tensor& layer_v) {
  const int64_t b = x.size(0), n = x.size(1);
  const int64_t nh = c.num_attention_heads, nkv = c.num_key_value_heads, hd = c.head_dim;
  auto q = a.q_proj(x).view({b, n, nh, hd});   // (B, n, nh, hd)
  auto k = a.k_proj(x).view({b, n, nkv, hd});  // (B, n, nkv, hd)
  if (a.q_norm) {
    q = a.q_norm(q);
    k = a.k_norm(k);
  }
  q = q.transpose(1, 2);                                       // (B, nh, n, hd)
  k = k.transpose(1, 2);                                       // (B, nkv, n, hd)
  auto v = a.v_proj(x).view({b, n, nkv, hd}).transpose(1, 2);  // (B, nkv, n, hd)
  q = q * cos + rotate_half(q) * sin;
  k = k * cos + rotate_half(k) * sin;
  layer_k = layer_k.defined() ? torch::cat({layer_k, k}, 2) : k.contiguous();  // (B, nkv, S+n, hd)
  layer_v = layer_v.defined() ? torch::cat({layer_v, v}, 2) : v.contiguous();
  k = layer_k;
  v = layer_v;
  // Grouped-query attention: attention() reads k and v of nkv heads grouped.
  if (v.scalar_type() != q.scalar_type()) v = v.to(q.scalar_type());
  if (k.scalar_type() != q.scalar_type()) k = k.to(q.scalar_type());
  // Causal with the mask aligned bottom-right: query i (position S+i) sees keys 0..S+i. For a
  // single new token that is every key.
  auto out = compat::attention(q, k, v, attention_scale(c), /*causal=*/n > 1);
  out = out.transpose(1, 2).contiguous().view({b, n, nh * hd});  // (B, n, nh*hd)
  return a.o_proj(out);
}

}  // namespace

torch::Tensor lm_logits_cached(Transformer& m, const torch::Tensor& ids, KvCache& cache) {
  const LlamaConfig& c = m->config();
  auto& model = *m->model;
  const int64_t layers = c.num_hidden_layers;
  if (cache.k.empty()) {
    cache.k.assign(static_cast<size_t>(layers), torch::Tensor());
    cache.v.assign(static_cast<size_t>(layers), torch::Tensor());
    cache.inv_freq = rope_inv_freq(c, ids.device(), &cache.attention_factor);
  }
  const int64_t start = cache.length(), n = ids.size(1);
  auto h = model.embed_tokens(ids);  // (B, n, H)
  // RoPE for positions [start, start + n): the same fp32 outer product as the full forward's
  // (element by element, so the same values), then cast to the activations' dtype.
  auto opts = torch::TensorOptions().dtype(torch::kFloat).device(ids.device());
  auto freqs = torch::outer(torch::arange(start, start + n, opts), cache.inv_freq);  // (n, hd/2)
  auto emb = torch::cat({freqs, freqs}, -1);                                         // (n, hd)
  auto cos = (emb.cos() * cache.attention_factor).to(h.scalar_type());
  auto sin = (emb.sin() * cache.attention_factor).to(h.scalar_type());
  for (int64_t i = 0; i < layers; ++i) {
    auto& layer = *model.layers[static_cast<size_t>(i)]->as<DecoderLayerImpl>();
    h = h + attention_cached(*layer.self_attn, c, layer.input_layernorm(h), cos, sin,
                             cache.k[static_cast<size_t>(i)], cache.v[static_cast<size_t>(i)]);
    h = h + layer.mlp(layer.post_attention_layernorm(h));
  }
  h = model.norm(h);
  if (m->lm_head) return m->lm_head(h);
  return torch::nn::functional::linear(h, model.embed_tokens->weight);  // tied
}

}  // namespace deeptune::model
