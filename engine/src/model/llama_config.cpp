// config.json of the LLaMA family (see llama_config.h): one table of architectures, a strict reader
// that names the key at fault, and the parameter list a config builds.
#include "model/llama_config.h"

#include <array>

#include "core/enum_names.h"
#include "deeptune/error.h"
#include "deeptune/text.h"

namespace deeptune::model {
namespace {

struct Architecture {
  const char* causal_lm;       // config.json "architectures" entry
  const char* classification;  // its sequence-classification sibling
  const char* model_type;
  bool qkv_bias;            // q/k/v biases whatever attention_bias says (Qwen2)
  bool attention_bias_key;  // attention_bias switches q/k/v/o biases (Llama, Qwen3)
  bool qk_norm;             // per-head RMSNorm on q and k (Qwen3)
};

constexpr std::array<Architecture, 4> kArchitectures{{
    {"LlamaForCausalLM", "LlamaForSequenceClassification", "llama", false, true, false},
    {"MistralForCausalLM", "MistralForSequenceClassification", "mistral", false, false, false},
    {"Qwen2ForCausalLM", "Qwen2ForSequenceClassification", "qwen2", true, false, false},
    {"Qwen3ForCausalLM", "Qwen3ForSequenceClassification", "qwen3", false, true, true},
}};

constexpr EnumName<RopeType> kRopeTypes[] = {{RopeType::kDefault, "default"},
                                             {RopeType::kLinear, "linear"},
                                             {RopeType::kLlama3, "llama3"},
                                             {RopeType::kYarn, "yarn"}};

const Architecture* find_architecture(const std::string& name, bool* classification) {
  for (const auto& a : kArchitectures) {
    if (name == a.causal_lm) {
      *classification = false;
      return &a;
    }
    if (name == a.classification) {
      *classification = true;
      return &a;
    }
  }
  return nullptr;
}

const Architecture& architecture_of(const LlamaConfig& c) {
  bool cls = false;
  if (const auto* a = find_architecture(c.architecture, &cls)) return *a;
  return kArchitectures[0];
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

template <typename T>
T read_key(const nlohmann::json& j, const char* key, const std::string& origin, T fallback,
           bool required) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) throw InputError(origin, std::string("missing key '") + key + "'");
    return fallback;
  }
  // nlohmann converts between numbers freely (3.7 -> 3); a config with a fractional layer count is
  // damaged, not rounded.
  if constexpr (std::is_same_v<T, int64_t>) {
    if (!it->is_number_integer())
      throw InputError(origin, std::string("key '") + key + "' must be an integer");
  } else if constexpr (std::is_same_v<T, double>) {
    if (!it->is_number())
      throw InputError(origin, std::string("key '") + key + "' must be a number");
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean())
      throw InputError(origin, std::string("key '") + key + "' must be true or false");
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string())
      throw InputError(origin, std::string("key '") + key + "' must be a string");
  }
  return it->get<T>();
}

// bos/eos/pad ids: an integer, or a list whose first entry is the one we add (eos lists name every
// token that ends generation; the first is the tokenizer's own).
int64_t first_id(const nlohmann::json& j, const char* key, const std::string& origin) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return -1;
  const nlohmann::json& v = it->is_array() && !it->empty() ? (*it)[0] : *it;
  if (it->is_array() && it->empty()) return -1;
  if (!v.is_number_integer())
    throw InputError(origin, std::string("key '") + key + "' must be a token id or a list of ids");
  return v.get<int64_t>();
}

RopeScaling read_rope(const nlohmann::json& j, const std::string& origin, double* theta) {
  // transformers 4.x: rope_theta + rope_scaling {rope_type|type, factor, ...};
  // transformers 5: rope_parameters {rope_type, rope_theta, factor, ...}. Read both.
  const nlohmann::json* params = nullptr;
  std::string where = origin + ": rope_scaling";
  if (auto it = j.find("rope_scaling"); it != j.end() && !it->is_null()) params = &*it;
  if (auto it = j.find("rope_parameters"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) throw InputError(origin, "key 'rope_parameters' must be an object");
    if (auto t = it->find("rope_theta"); t != it->end()) {
      if (!t->is_number()) throw InputError(origin, "rope_parameters.rope_theta must be a number");
      *theta = t->get<double>();
    }
    if (!params) {
      params = &*it;
      where = origin + ": rope_parameters";
    }
  }
  RopeScaling r;
  if (!params) return r;
  if (!params->is_object()) throw InputError(where, "must be an object or null");
  std::string type = "default";
  for (const char* key : {"rope_type", "type"}) {
    if (auto t = params->find(key); t != params->end() && !t->is_null()) {
      if (!t->is_string()) throw InputError(where, std::string(key) + " must be a string");
      type = t->get<std::string>();
      break;
    }
  }
  const auto known = value_of(kRopeTypes, type);
  if (!known)
    throw InputError(where, "RoPE scaling type '" + type +
                                "' is not supported; supported: " + joined(names_of(kRopeTypes)));
  r.type = *known;
  if (r.type == RopeType::kDefault) return r;
  // yarn without a factor derives it from the context lengths (0 marks that here).
  r.factor = read_key<double>(*params, "factor", where, 0.0, r.type != RopeType::kYarn);
  if (!(r.factor >= 1.0) && !(r.type == RopeType::kYarn && r.factor == 0.0))
    throw InputError(where, "factor must be at least 1");
  r.original_max_position_embeddings = read_key<int64_t>(
      *params, "original_max_position_embeddings", where, 0, r.type == RopeType::kLlama3);
  if (r.type == RopeType::kLlama3) {
    r.low_freq_factor = read_key<double>(*params, "low_freq_factor", where, 1.0, true);
    r.high_freq_factor = read_key<double>(*params, "high_freq_factor", where, 4.0, true);
    if (!(r.high_freq_factor > r.low_freq_factor))
      throw InputError(where, "high_freq_factor must exceed low_freq_factor");
  } else if (r.type == RopeType::kYarn) {
    r.beta_fast = read_key<double>(*params, "beta_fast", where, 32.0, false);
    r.beta_slow = read_key<double>(*params, "beta_slow", where, 1.0, false);
    for (auto [key, slot] :
         {std::pair{"attention_factor", &r.attention_factor}, std::pair{"mscale", &r.mscale},
          std::pair{"mscale_all_dim", &r.mscale_all_dim}}) {
      if (auto it = params->find(key); it != params->end() && !it->is_null()) {
        if (!it->is_number()) throw InputError(where, std::string(key) + " must be a number");
        *slot = it->get<double>();
      }
    }
    r.truncate = read_key<bool>(*params, "truncate", where, true, false);
  }
  return r;
}

nlohmann::json rope_json(const RopeScaling& r) {
  if (r.type == RopeType::kDefault) return nullptr;
  nlohmann::json j{{"rope_type", to_string(r.type)}};
  if (r.factor > 0) j["factor"] = r.factor;
  if (r.original_max_position_embeddings > 0)
    j["original_max_position_embeddings"] = r.original_max_position_embeddings;
  if (r.type == RopeType::kLlama3) {
    j["low_freq_factor"] = r.low_freq_factor;
    j["high_freq_factor"] = r.high_freq_factor;
  } else if (r.type == RopeType::kYarn) {
    j["beta_fast"] = r.beta_fast;
    j["beta_slow"] = r.beta_slow;
    if (r.attention_factor) j["attention_factor"] = *r.attention_factor;
    if (r.mscale) j["mscale"] = *r.mscale;
    if (r.mscale_all_dim) j["mscale_all_dim"] = *r.mscale_all_dim;
    if (!r.truncate) j["truncate"] = false;
  }
  return j;
}

}  // namespace

std::string to_string(RopeType t) {
  return name_of(kRopeTypes, t);
}

std::vector<std::string> supported_architectures() {
  std::vector<std::string> out;
  for (const auto& a : kArchitectures) out.emplace_back(a.causal_lm);
  return out;
}

std::string LlamaConfig::model_type() const {
  return architecture_of(*this).model_type;
}

nlohmann::json LlamaConfig::to_hf_json() const {
  nlohmann::json j = source.is_object() ? source : nlohmann::json::object();
  // Llama's attention_bias also puts a bias on o_proj; q/k/v biases alone are Qwen2's layout.
  const Architecture& arch = attention_bias && !o_proj_bias && model_type() == "llama"
                                 ? kArchitectures[2]
                                 : architecture_of(*this);
  const bool cls = num_labels() > 0;
  j["architectures"] = {cls ? arch.classification : arch.causal_lm};
  j["model_type"] = arch.model_type;
  j["vocab_size"] = vocab_size;
  j["hidden_size"] = hidden_size;
  j["intermediate_size"] = intermediate_size;
  j["num_hidden_layers"] = num_hidden_layers;
  j["num_attention_heads"] = num_attention_heads;
  j["num_key_value_heads"] = num_key_value_heads;
  j["head_dim"] = head_dim;
  j["max_position_embeddings"] = max_position_embeddings;
  j["rms_norm_eps"] = rms_norm_eps;
  j.erase("rope_parameters");  // FORMATS.md: read both, write the legacy top-level keys
  j["rope_theta"] = rope_theta;
  j["rope_scaling"] = rope_json(rope_scaling);
  j["hidden_act"] = "silu";
  if (arch.attention_bias_key) j["attention_bias"] = attention_bias;
  if (std::string(arch.model_type) == "llama") j["mlp_bias"] = mlp_bias;
  if (!j.contains("attention_dropout")) j["attention_dropout"] = 0.0;
  j["tie_word_embeddings"] = tie_word_embeddings;
  // Lists of eos ids (Llama 3 instruct) are kept as the source wrote them.
  if (!(j.contains("bos_token_id") && j["bos_token_id"].is_array()))
    j["bos_token_id"] = bos_token_id >= 0 ? nlohmann::json(bos_token_id) : nlohmann::json(nullptr);
  if (!(j.contains("eos_token_id") && j["eos_token_id"].is_array()))
    j["eos_token_id"] = eos_token_id >= 0 ? nlohmann::json(eos_token_id) : nlohmann::json(nullptr);
  j["pad_token_id"] = pad_token_id >= 0 ? nlohmann::json(pad_token_id) : nlohmann::json(nullptr);
  j["initializer_range"] = initializer_range;
  j.erase("dtype");
  j["torch_dtype"] = torch_dtype;
  if (!j.contains("use_cache")) j["use_cache"] = true;
  j.erase("id2label");
  j.erase("label2id");
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

LlamaConfig LlamaConfig::from_hf_json(const nlohmann::json& j, const std::string& origin) {
  if (!j.is_object()) throw InputError(origin, "config.json must hold a JSON object");
  LlamaConfig c;
  c.source = j;
  // The architecture first: a config of another family is refused by name, not by a missing key.
  bool cls = false;
  const Architecture* arch = nullptr;
  if (auto a = j.find("architectures"); a != j.end() && !a->is_null()) {
    if (!a->is_array() || a->empty() || !(*a)[0].is_string())
      throw InputError(origin, "key 'architectures' must be a list of names");
    const std::string name = (*a)[0].get<std::string>();
    arch = find_architecture(name, &cls);
    if (!arch)
      throw InputError(origin, "architecture '" + name + "' is not supported; supported: " +
                                   joined(supported_architectures()));
  } else {
    const std::string type = read_key<std::string>(j, "model_type", origin, "", true);
    for (const auto& a : kArchitectures)
      if (type == a.model_type) arch = &a;
    if (!arch)
      throw InputError(origin, "model_type '" + type + "' is not supported; supported: " +
                                   joined(supported_architectures()));
  }
  c.architecture = arch->causal_lm;
  c.vocab_size = read_key<int64_t>(j, "vocab_size", origin, 0, true);
  c.hidden_size = read_key<int64_t>(j, "hidden_size", origin, 0, true);
  c.intermediate_size = read_key<int64_t>(j, "intermediate_size", origin, 0, true);
  c.num_hidden_layers = read_key<int64_t>(j, "num_hidden_layers", origin, 0, true);
  c.num_attention_heads = read_key<int64_t>(j, "num_attention_heads", origin, 0, true);
  c.num_key_value_heads =
      read_key<int64_t>(j, "num_key_value_heads", origin, c.num_attention_heads, false);
  c.head_dim = read_key<int64_t>(
      j, "head_dim", origin, c.num_attention_heads > 0 ? c.hidden_size / c.num_attention_heads : 0,
      false);
  c.max_position_embeddings = read_key<int64_t>(j, "max_position_embeddings", origin, 2048, false);
  c.rms_norm_eps = read_key<double>(j, "rms_norm_eps", origin, 1e-6, false);
  c.rope_theta = read_key<double>(j, "rope_theta", origin, 10000.0, false);
  c.rope_scaling = read_rope(j, origin, &c.rope_theta);
  c.tie_word_embeddings = read_key<bool>(j, "tie_word_embeddings", origin, false, false);
  const bool bias_key = read_key<bool>(j, "attention_bias", origin, false, false);
  c.attention_bias = arch->qkv_bias || (arch->attention_bias_key && bias_key);
  c.o_proj_bias = arch->attention_bias_key && bias_key;
  c.mlp_bias = std::string(arch->model_type) == "llama" &&
               read_key<bool>(j, "mlp_bias", origin, false, false);
  c.qk_norm = arch->qk_norm;
  if (const std::string type = arch->model_type; type == "mistral") {
    c.sliding_window = read_key<int64_t>(j, "sliding_window", origin, 0, false);
  } else if (type == "qwen2" || type == "qwen3") {
    if (read_key<bool>(j, "use_sliding_window", origin, false, false))
      c.sliding_window = read_key<int64_t>(j, "sliding_window", origin, 0, false);
  }
  if (const std::string act = read_key<std::string>(j, "hidden_act", origin, "silu", false);
      act != "silu")
    throw InputError(origin,
                     "hidden_act '" + act + "' is not supported (the LLaMA family uses silu)");
  c.initializer_range = read_key<double>(j, "initializer_range", origin, 0.02, false);
  c.bos_token_id = first_id(j, "bos_token_id", origin);
  c.eos_token_id = first_id(j, "eos_token_id", origin);
  c.pad_token_id = first_id(j, "pad_token_id", origin);
  c.torch_dtype = read_key<std::string>(
      j, "torch_dtype", origin, read_key<std::string>(j, "dtype", origin, "float32", false), false);
  if (auto l = j.find("id2label"); cls && l != j.end() && l->is_object()) {
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
  positive(max_position_embeddings, "max_position_embeddings");
  // Sizes a real checkpoint never reaches: a damaged config must not make us allocate terabytes.
  constexpr int64_t kMaxDim = int64_t(1) << 24;
  for (auto [v, key] :
       {std::pair{vocab_size, "vocab_size"}, std::pair{hidden_size, "hidden_size"},
        std::pair{intermediate_size, "intermediate_size"},
        std::pair{num_hidden_layers, "num_hidden_layers"},
        std::pair{num_attention_heads * head_dim, "num_attention_heads × head_dim"}})
    if (v > kMaxDim) throw InputError(origin, std::string(key) + " is implausibly large");
  if (num_attention_heads % num_key_value_heads != 0)
    throw InputError(origin, "num_attention_heads must be a multiple of num_key_value_heads");
  if (head_dim % 2 != 0) throw InputError(origin, "head_dim must be even for RoPE");
  if (!(rms_norm_eps > 0.0)) throw InputError(origin, "rms_norm_eps must be positive");
  if (!(rope_theta > 1.0)) throw InputError(origin, "rope_theta must be greater than 1");
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
  auto linear = [&](const LinearShape& l, bool biased) {
    out.push_back({l.name + ".weight", {l.out_features, l.in_features}});
    if (biased) out.push_back({l.name + ".bias", {l.out_features}});
  };
  size_t next = 0;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string layer = "model.layers." + std::to_string(i) + ".";
    out.push_back({layer + "input_layernorm.weight", {c.hidden_size}});
    for (int k = 0; k < 3; ++k) linear(linears[next++], c.attention_bias);  // q, k, v
    linear(linears[next++], c.o_proj_bias);                                 // o
    if (c.qk_norm) {
      out.push_back({layer + "self_attn.q_norm.weight", {c.head_dim}});
      out.push_back({layer + "self_attn.k_norm.weight", {c.head_dim}});
    }
    out.push_back({layer + "post_attention_layernorm.weight", {c.hidden_size}});
    for (int k = 0; k < 3; ++k) linear(linears[next++], c.mlp_bias);  // gate, up, down
  }
  out.push_back({"model.norm.weight", {c.hidden_size}});
  for (; next < linears.size(); ++next) linear(linears[next], false);  // lm_head or score
  return out;
}

}  // namespace deeptune::model
