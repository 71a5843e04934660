// LLaMA-family decoder with Hugging Face parameter names (model.layers.N.self_attn.q_proj.weight,
// ...), so checkpoints and adapters map 1:1 onto transformers/PEFT. RMSNorm in fp32, half-split
// RoPE (rotate_half), SwiGLU MLP, grouped-query attention, optional classification head `score`.
// Dimension names: B batch, T sequence, H hidden, nh/nkv query/key-value heads, hd head dim,
// V vocabulary, I MLP width.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "model/llama_config.h"
#include "model/recompute.h"

namespace deeptune::model {

// Building a module never draws random numbers: parameters are allocated uninitialised and
// filled by init_weights / attach_lora from a generator the caller owns, or loaded from a file.
// (LibTorch's own Linear and Embedding initialise from the process-wide generator, which the
// trainer's dropout also draws from; a model built on another thread would shift a live run.)

// y = x W^T, weight (out, in) with no initialisation and no bias: the LoRA factors.
class PlainLinearImpl : public torch::nn::Module {
 public:
  PlainLinearImpl(int64_t in_features, int64_t out_features);
  torch::Tensor forward(const torch::Tensor& x);  // (..., in) -> (..., out)
  torch::Tensor weight;
};
TORCH_MODULE(PlainLinear);

// Linear layer with the weight named as HF names it, plus an optional LoRA branch whose
// parameters are named lora_A.weight (r, in) and lora_B.weight (out, r) as PEFT saves them.
class LoraLinearImpl : public torch::nn::Module {
 public:
  LoraLinearImpl(int64_t in_features, int64_t out_features, bool bias);
  torch::Tensor forward(const torch::Tensor& x);  // (..., in) -> (..., out)

  // A kaiming-uniform (a = sqrt(5), as PEFT) drawn from `gen`, B zero: the adapter starts as the
  // identity.
  void attach_lora(int64_t r, double scale, double dropout, torch::Generator& gen);
  bool has_lora() const { return !lora_A.is_empty(); }
  bool merged() const { return merged_; }
  // Switched off, forward() leaves the adapter out (the base model's output); merged weights
  // cannot be switched off.
  void set_lora_enabled(bool enabled) { enabled_ = enabled; }
  double lora_scale() const { return scale_; }
  double lora_dropout() const { return dropout_; }
  void merge();    // W += s * B A, computed in fp32
  void unmerge();  // W -= s * B A
  // Where training-mode dropout draws its masks (a generator on the activations' device); unset,
  // dropout refuses to run rather than fall back to the process-wide generator.
  void set_dropout_generator(const torch::Generator& gen) { dropout_gen_ = gen; }

  int64_t in_features, out_features;
  torch::Tensor weight;  // (out, in)
  torch::Tensor bias;    // (out) or undefined
  PlainLinear lora_A{nullptr}, lora_B{nullptr};

 private:
  torch::Tensor delta_weight() const;  // s * B A in fp32, (out, in)
  torch::Tensor dropout(const torch::Tensor& x);
  double scale_ = 0.0;
  double dropout_ = 0.0;
  bool merged_ = false;
  bool enabled_ = true;
  c10::optional<torch::Generator> dropout_gen_;
};
TORCH_MODULE(LoraLinear);

class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int64_t dim, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;
  double eps;
};
TORCH_MODULE(RMSNorm);

// Optional capture of attention weights (for the probe sample); set by the caller.
struct AttentionCapture {
  bool enabled = false;
  std::vector<torch::Tensor> weights;  // per layer: (B, nh, T, T), detached
};

class AttentionImpl : public torch::nn::Module {
 public:
  explicit AttentionImpl(const LlamaConfig& c);
  // x: (B, T, H); cos/sin: (T, hd) -> (B, T, H)
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        AttentionCapture* capture);
  LoraLinear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
  RMSNorm q_norm{nullptr}, k_norm{nullptr};      // Qwen3 (qk_norm) only
  const RecomputeSettings* recompute = nullptr;  // set by TransformerImpl::set_recompute

 private:
  int64_t nh_, nkv_, hd_;
  double scale_;
};
TORCH_MODULE(Attention);

class MlpImpl : public torch::nn::Module {
 public:
  explicit MlpImpl(const LlamaConfig& c);
  torch::Tensor forward(const torch::Tensor& x);  // down(silu(gate x) * up x)
  LoraLinear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
  const RecomputeSettings* recompute = nullptr;
};
TORCH_MODULE(Mlp);

class DecoderLayerImpl : public torch::nn::Module {
 public:
  explicit DecoderLayerImpl(const LlamaConfig& c);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        AttentionCapture* capture);
  RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
  Attention self_attn{nullptr};
  Mlp mlp{nullptr};
  const RecomputeSettings* recompute = nullptr;
};
TORCH_MODULE(DecoderLayer);

class LlamaModelImpl : public torch::nn::Module {
 public:
  explicit LlamaModelImpl(const LlamaConfig& c);
  torch::Tensor forward(const torch::Tensor& input_ids,
                        AttentionCapture* capture);  // (B,T)->(B,T,H)
  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  RMSNorm norm{nullptr};
  const RecomputeSettings* recompute = nullptr;

 private:
  LlamaConfig config_;
};
TORCH_MODULE(LlamaModel);

// RoPE inverse frequencies (hd/2) in fp32 for the config's rope_theta and rope_scaling, and the
// factor yarn scales cos/sin by (1 otherwise).
torch::Tensor rope_inv_freq(const LlamaConfig& c, const torch::Device& device,
                            double* attention_factor);

// The whole network: `model` + `lm_head` (causal LM) or + `score` (classification).
class TransformerImpl : public torch::nn::Module {
 public:
  explicit TransformerImpl(const LlamaConfig& c);
  const LlamaConfig& config() const { return config_; }
  // For exporters that rewrite weights (e.g. folding temperature into q_proj); layers built from
  // the old values keep them.
  LlamaConfig& mutable_config() { return config_; }

  // (B, T) -> (B, T, V) logits of the next token.
  torch::Tensor lm_logits(const torch::Tensor& input_ids, AttentionCapture* capture = nullptr);
  // The language-model head's weight (V, H) — lm_head's, or the embedding's when tied — when the
  // head is a plain product (no adapter on it): what the chunked loss multiplies by itself.
  // Undefined otherwise.
  torch::Tensor plain_head_weight();
  // (B, T) and the index of each row's last real token (B) -> (B, num_labels) class logits.
  torch::Tensor class_logits(const torch::Tensor& input_ids, const torch::Tensor& last_index,
                             AttentionCapture* capture = nullptr);

  LlamaModel model{nullptr};
  LoraLinear lm_head{nullptr};  // absent when tied or classifying
  LoraLinear score{nullptr};    // classification head (num_labels, H), no bias

  // What backward recomputes while training (train.gradient_checkpointing); kOff by default.
  void set_recompute(const RecomputeSettings& settings);
  const RecomputeSettings& recompute() const { return *recompute_; }

 private:
  LlamaConfig config_;
  std::shared_ptr<RecomputeSettings> recompute_ = std::make_shared<RecomputeSettings>();
};
TORCH_MODULE(Transformer);

// Initialises weights as transformers does (normal(0, initializer_range), norms at one), drawing
// from a CPU generator of its own seeded with `seed` — so a seed fully determines a preset model,
// whatever else the process draws.
void init_weights(Transformer& m, uint64_t seed);
// The same rule for the named parameters only, drawn in module order from a generator of their
// own: what a pretrained base lacks (a classification head) gets the same values on every load.
void init_parameters(Transformer& m, const std::vector<std::string>& names, uint64_t seed);

// Every LoraLinear by its full name (e.g. "model.layers.0.self_attn.q_proj"), in module order.
std::vector<std::pair<std::string, LoraLinear>> linear_modules(Transformer& m);

}  // namespace deeptune::model
