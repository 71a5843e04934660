// The shape and numerics of a LLaMA-family model as a Hugging Face config.json describes it, and
// the parameters it builds — torch-free, so model summaries, the Hugging Face cache listing and
// memory forecasts read a checkpoint's shape without LibTorch. The supported architectures live in
// one table (kArchitectures in llama_config.cpp): Llama, Mistral, Qwen2 (q/k/v biases) and Qwen3
// (per-head q/k RMSNorm). Dimension names: H hidden, nh/nkv query/key-value heads, hd head dim,
// V vocabulary, I MLP width.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "deeptune/config.h"

namespace deeptune::model {

// How RoPE frequencies are stretched for contexts longer than the model was trained on
// (transformers' rope_scaling / rope_parameters).
enum class RopeType { kDefault, kLinear, kLlama3, kYarn };
std::string to_string(RopeType t);

struct RopeScaling {
  RopeType type = RopeType::kDefault;
  double factor = 1.0;
  // llama3
  double low_freq_factor = 1.0, high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 0;  // llama3, yarn (0: max_position_embeddings)
  // yarn
  double beta_fast = 32.0, beta_slow = 1.0;
  std::optional<double> attention_factor, mscale, mscale_all_dim;
  bool truncate = true;
};

struct LlamaConfig {
  // The architecture as config.json names it (one of supported_architectures()).
  std::string architecture = "LlamaForCausalLM";
  int64_t vocab_size = 259;
  int64_t hidden_size = 128;
  int64_t intermediate_size = 344;
  int64_t num_hidden_layers = 2;
  int64_t num_attention_heads = 4;
  int64_t num_key_value_heads = 2;
  int64_t head_dim = 32;
  int64_t max_position_embeddings = 512;
  double rms_norm_eps = 1e-5;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // biases on q/k/v (Qwen2; Llama's attention_bias also sets o)
  bool o_proj_bias = false;     // bias on o_proj (Llama/Qwen3 attention_bias)
  bool mlp_bias = false;        // biases on gate/up/down (Llama mlp_bias)
  bool qk_norm = false;         // RMSNorm over each head of q and k before RoPE (Qwen3)
  // Attention sees at most this many previous tokens (Mistral v0.1, Qwen2 with use_sliding_window);
  // 0 = unlimited. We train within it: sequences longer than the window are refused.
  int64_t sliding_window = 0;
  int64_t bos_token_id = 257, eos_token_id = 258, pad_token_id = 256;
  double initializer_range = 0.02;
  std::string torch_dtype = "float32";  // the dtype the checkpoint's weights are stored in
  // Not part of a HF config: how attention is normalised, and the classification head.
  AttentionKind attention_kind = AttentionKind::kStandard;
  double attention_temperature = 1.0;
  std::vector<std::string> labels;  // non-empty -> sequence classification with these classes
  // The config.json this was read from (empty for presets): keys we do not model (sliding
  // windows, generation defaults, quantisation notes) are written back unchanged on export.
  nlohmann::json source;

  int64_t num_labels() const { return static_cast<int64_t>(labels.size()); }
  // "llama", "mistral", "qwen2", "qwen3": transformers' model_type of the architecture.
  std::string model_type() const;
  // config.json as transformers reads it for this architecture (…ForCausalLM, or
  // …ForSequenceClassification with labels), starting from `source` when there is one.
  nlohmann::json to_hf_json() const;
  // Reads the keys listed in FORMATS.md; throws InputError naming `origin` and the key, and for an
  // architecture we do not build, naming it and listing the supported ones.
  static LlamaConfig from_hf_json(const nlohmann::json& j, const std::string& origin);
  void validate(const std::string& origin) const;
};

// The causal-LM architectures (config.json "architectures") we build, in a fixed order.
std::vector<std::string> supported_architectures();

// Name and shape of every base parameter the config builds, in module order, without building it
// (no memory, no random numbers): what parameter counts and LoRA plans are computed from, and
// what a checkpoint's tensors are checked against.
struct ParameterShape {
  std::string name;
  std::vector<int64_t> shape;
};
std::vector<ParameterShape> parameter_shapes(const LlamaConfig& c);
// The linear layers the config builds, by full name with (in, out), in module order.
struct LinearShape {
  std::string name;
  int64_t in_features = 0, out_features = 0;
};
std::vector<LinearShape> linear_shapes(const LlamaConfig& c);

}  // namespace deeptune::model
