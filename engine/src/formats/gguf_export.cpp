#include "formats/gguf_export.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>

#include "deeptune/error.h"
#include "deeptune/json_input.h"
#include "deeptune/text.h"
#include "deeptune/version.h"
#include "tokenize/hf_components.h"
#include "tokenize/unicode.h"

namespace fs = std::filesystem;

namespace deeptune::gguf_export {
namespace {

using gguf::TensorType;
using gguf::Value;
using gguf::ValueType;

// llama.cpp's token types (gguf-py constants.py TokenType).
enum TokenType : int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6
};

// --- tensors ---------------------------------------------------------------------------------

// One GGUF tensor and the parameter it holds. `heads` > 0: the rows are permuted per head from
// the half-split RoPE layout to llama.cpp's interleaved one (q with nh heads, k with nkv).
struct Mapping {
  std::string gguf;
  std::string param;
  int64_t heads = 0;
};

std::vector<Mapping> tensor_map(const model::LlamaConfig& c, const std::string& arch,
                                const std::map<std::string, torch::Tensor>& params) {
  const bool permute = arch == "llama";
  std::vector<Mapping> out{{"token_embd.weight", "model.embed_tokens.weight"}};
  auto add = [&](const std::string& gguf, const std::string& param, int64_t heads = 0) {
    if (params.count(param)) out.push_back({gguf, param, permute ? heads : 0});
  };
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string blk = "blk." + std::to_string(i) + ".";
    const std::string layer = "model.layers." + std::to_string(i) + ".";
    add(blk + "attn_norm.weight", layer + "input_layernorm.weight");
    for (const char* w : {"weight", "bias"}) {
      add(blk + "attn_q." + w, layer + "self_attn.q_proj." + w, c.num_attention_heads);
      add(blk + "attn_k." + w, layer + "self_attn.k_proj." + w, c.num_key_value_heads);
      add(blk + "attn_v." + w, layer + "self_attn.v_proj." + w);
      add(blk + "attn_output." + w, layer + "self_attn.o_proj." + w);
    }
    add(blk + "attn_q_norm.weight", layer + "self_attn.q_norm.weight");
    add(blk + "attn_k_norm.weight", layer + "self_attn.k_norm.weight");
    add(blk + "ffn_norm.weight", layer + "post_attention_layernorm.weight");
    for (const char* w : {"weight", "bias"}) {
      add(blk + "ffn_gate." + w, layer + "mlp.gate_proj." + w);
      add(blk + "ffn_up." + w, layer + "mlp.up_proj." + w);
      add(blk + "ffn_down." + w, layer + "mlp.down_proj." + w);
    }
  }
  add("output_norm.weight", "model.norm.weight");
  add("output.weight", "lm_head.weight");
  return out;
}

std::map<std::string, torch::Tensor> base_parameters(model::Transformer& m) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : m->named_parameters())
    if (p.key().find("lora_") == std::string::npos) out.emplace(p.key(), p.value());
  return out;
}

// HF rows [h][half][i] -> GGUF rows [h][i][half] (GGUF row 2i = HF row i, 2i+1 = HF row i + d/2).
torch::Tensor permute_heads(const torch::Tensor& w, int64_t heads) {
  auto shape = w.sizes().vec();
  const int64_t d = shape[0] / heads;
  std::vector<int64_t> view{heads, 2, d / 2};
  view.insert(view.end(), shape.begin() + 1, shape.end());
  return w.reshape(view).transpose(1, 2).reshape(shape).contiguous();
}

torch::Tensor unpermute_heads(const torch::Tensor& w, int64_t heads) {
  auto shape = w.sizes().vec();
  const int64_t d = shape[0] / heads;
  std::vector<int64_t> view{heads, d / 2, 2};
  view.insert(view.end(), shape.begin() + 1, shape.end());
  return w.reshape(view).transpose(1, 2).reshape(shape).contiguous();
}

TensorType tensor_type(GgufQuant q, const std::vector<int64_t>& shape) {
  if (shape.size() < 2) return TensorType::kF32;
  switch (q) {
    case GgufQuant::kF32:
      return TensorType::kF32;
    case GgufQuant::kF16:
      return TensorType::kF16;
    case GgufQuant::kBF16:
      return TensorType::kBF16;
    case GgufQuant::kQ8_0:
      return shape.back() % 32 == 0 ? TensorType::kQ8_0 : TensorType::kF16;
  }
  return TensorType::kF32;
}

uint32_t file_type(GgufQuant q) {  // general.file_type (llama_ftype)
  switch (q) {
    case GgufQuant::kF32:
      return 0;
    case GgufQuant::kF16:
      return 1;
    case GgufQuant::kQ8_0:
      return 7;
    case GgufQuant::kBF16:
      return 32;
  }
  return 0;
}

// llama3 RoPE as llama.cpp keeps it: one divisor per frequency (rope_freqs.weight).
torch::Tensor rope_factors(const model::LlamaConfig& c) {
  model::LlamaConfig plain = c;
  plain.rope_scaling = model::RopeScaling{};
  double unused = 1.0;
  return (model::rope_inv_freq(plain, torch::kCPU, &unused) /
          model::rope_inv_freq(c, torch::kCPU, &unused))
      .to(torch::kFloat)
      .contiguous();
}

// --- vocabulary ------------------------------------------------------------------------------

std::string replace_all(std::string s, const std::string& from, const std::string& to);

struct Vocabulary {
  std::string model;  // "gpt2" or "llama"
  std::string pre;    // gpt2: llama.cpp's name of the pre-tokenizer's regex family
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  std::vector<float> scores;        // llama
  std::vector<std::string> merges;  // gpt2
  bool add_space_prefix = false;    // llama
  std::string note;                 // what a reader should know (unrecognised pre-tokenizer)
};

// The Split regexes of a pre-tokenizer (recursing into Sequence).
void split_patterns(const nlohmann::json& pre, std::vector<std::string>* out, bool* byte_level,
                    bool* metaspace, bool* prepend_space) {
  if (!pre.is_object()) return;
  const std::string type = pre.value("type", std::string());
  if (type == "Sequence" && pre.contains("pretokenizers")) {
    for (const auto& p : pre["pretokenizers"])
      split_patterns(p, out, byte_level, metaspace, prepend_space);
  } else if (type == "Split" && pre.contains("pattern") && pre["pattern"].is_object()) {
    const auto& pat = pre["pattern"];
    if (pat.contains("Regex") && pat["Regex"].is_string()) out->push_back(pat["Regex"]);
  } else if (type == "ByteLevel") {
    *byte_level = true;
  } else if (type == "Metaspace") {
    *metaspace = true;
    const std::string scheme = pre.value("prepend_scheme", std::string("always"));
    if (scheme != "never" && pre.value("add_prefix_space", true)) *prepend_space = true;
  }
}

// llama.cpp's names for the regex families it implements (llama-vocab.cpp), recognised by the
// pieces that tell them apart.
std::string pre_family(const std::vector<std::string>& patterns, bool byte_level) {
  for (const auto& p : patterns) {
    const bool contractions = p.find("(?i:'s|'t|'re|'ve|'m|'ll|'d)") != std::string::npos;
    const bool letters = p.find("[^\\r\\n\\p{L}\\p{N}]?\\p{L}+") != std::string::npos;
    if (contractions && letters && p.find("\\p{N}{1,3}") != std::string::npos) return "llama-bpe";
    if (contractions && letters && p.find("|\\p{N}|") != std::string::npos) return "qwen2";
  }
  if (patterns.empty() && byte_level) return "gpt-2";
  return "";
}

// Whether the normalizer prepends "▁" (Llama 2's tokenizer.json).
bool normalizer_prepends(const nlohmann::json& n) {
  if (!n.is_object()) return false;
  const std::string type = n.value("type", std::string());
  if (type == "Prepend") return n.value("prepend", std::string()) == "\xE2\x96\x81";
  if (type == "Sequence" && n.contains("normalizers"))
    for (const auto& x : n["normalizers"])
      if (normalizer_prepends(x)) return true;
  return false;
}

bool is_byte_token(const std::string& t) {
  return t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' &&
         std::isxdigit(static_cast<unsigned char>(t[3])) &&
         std::isxdigit(static_cast<unsigned char>(t[4]));
}

Vocabulary byte_vocabulary(const Tokenizer& tok) {
  Vocabulary v;
  v.model = "gpt2";
  v.pre = "gpt-2";  // no merges: every byte is its own token whatever the split
  for (int b = 0; b < 256; ++b) {
    v.tokens.push_back(tok::byte_level_char(static_cast<unsigned char>(b)));
    v.types.push_back(kNormal);
  }
  for (int32_t id = 256; id < tok.vocab_size(); ++id) {
    v.tokens.push_back(tok.token_text(id));
    v.types.push_back(kControl);
  }
  return v;
}

Vocabulary hf_vocabulary(const std::string& dir) {
  const std::string path = (fs::path(dir) / "tokenizer.json").string();
  const auto j = read_json_object_file(path);
  Vocabulary v;
  try {
    const auto& model = j.at("model");
    if (model.value("type", std::string()) != "BPE")
      throw InputError(path, "GGUF export supports BPE tokenizers; this one's model is " +
                                 model.value("type", std::string("unnamed")));
    std::vector<std::string> patterns;
    bool byte_level = false, metaspace = false, prepend_space = false;
    split_patterns(j.value("pre_tokenizer", nlohmann::json()), &patterns, &byte_level, &metaspace,
                   &prepend_space);
    const bool decoder_byte_level = j.contains("decoder") && j["decoder"].is_object() &&
                                    j["decoder"].value("type", std::string()) == "ByteLevel";
    if (byte_level || decoder_byte_level) {
      v.model = "gpt2";
      v.pre = pre_family(patterns, byte_level);
      if (v.pre.empty()) {
        v.pre = "default";
        v.note =
            "pre-tokenizer regex not one llama.cpp names; it will split text by its default "
            "(GPT-2) rule, so some texts may tokenize differently there";
      }
    } else if (model.value("byte_fallback", false) || metaspace ||
               normalizer_prepends(j.value("normalizer", nlohmann::json()))) {
      v.model = "llama";
      v.add_space_prefix =
          prepend_space || normalizer_prepends(j.value("normalizer", nlohmann::json()));
    } else {
      throw InputError(path,
                       "GGUF export needs a byte-level BPE or SentencePiece-style BPE "
                       "tokenizer; this one is neither");
    }
    std::map<int64_t, std::pair<std::string, int32_t>> by_id;
    for (const auto& [token, id] : model.at("vocab").items())
      by_id[id.get<int64_t>()] = {token,
                                  v.model == "llama" && is_byte_token(token) ? kByte : kNormal};
    const std::string unk = model.value("unk_token", nlohmann::json()).is_string()
                                ? model["unk_token"].get<std::string>()
                                : std::string();
    for (auto& [id, entry] : by_id)
      if (!unk.empty() && entry.first == unk) entry.second = kUnknown;
    if (j.contains("added_tokens") && j["added_tokens"].is_array())
      for (const auto& a : j["added_tokens"])
        by_id[a.at("id").get<int64_t>()] = {a.at("content").get<std::string>(),
                                            a.value("special", false) ? kControl : kUserDefined};
    const int64_t count = by_id.empty() ? 0 : by_id.rbegin()->first + 1;
    for (int64_t id = 0; id < count; ++id) {
      const auto it = by_id.find(id);
      v.tokens.push_back(it == by_id.end() ? "[PAD" + std::to_string(id) + "]" : it->second.first);
      v.types.push_back(it == by_id.end() ? kUnused : it->second.second);
    }
    std::map<std::string, size_t> rank;  // merged token -> first merge making it
    if (model.contains("merges")) {
      for (const auto& m : model["merges"]) {
        std::string a, b;
        if (m.is_string()) {
          const std::string s = m.get<std::string>();
          const auto space = s.find(' ');
          if (space == std::string::npos) throw InputError(path, "merge '" + s + "' has no space");
          a = s.substr(0, space);
          b = s.substr(space + 1);
        } else {
          a = m.at(0).get<std::string>();
          b = m.at(1).get<std::string>();
        }
        if (a.find(' ') != std::string::npos || b.find(' ') != std::string::npos)
          throw InputError(path, "merge of '" + a + "' and '" + b +
                                     "' holds a space, which GGUF's \"a b\" merges cannot spell");
        v.merges.push_back(a + " " + b);
        rank.emplace(a + b, v.merges.size() - 1);
      }
    }
    if (v.model == "llama") {
      // llama.cpp's SentencePiece tokenizer merges the pair whose token scores highest: the
      // earlier a merge, the higher its token's score, as BPE ranks them.
      for (const auto& t : v.tokens) {
        const auto r = rank.find(t);
        v.scores.push_back(r == rank.end() ? 0.0f : -static_cast<float>(r->second) - 1.0f);
      }
      v.merges.clear();
    }
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path, e.what());
  }
  return v;
}

Vocabulary vocabulary(const Tokenizer& tok, int64_t model_vocab) {
  Vocabulary v;
  if (tok.kind() == "byte") {
    v = byte_vocabulary(tok);
  } else {
    const auto d = tok.describe();
    v = hf_vocabulary(d.at("dir").get<std::string>());
  }
  if (static_cast<int64_t>(v.tokens.size()) > model_vocab)
    throw InputError("tokenizer", "has " + std::to_string(v.tokens.size()) +
                                      " tokens, more than the model's " +
                                      std::to_string(model_vocab) + " embedding rows");
  // Embedding rows without a token (a vocabulary padded to a round size).
  while (static_cast<int64_t>(v.tokens.size()) < model_vocab) {
    v.tokens.push_back("[PAD" + std::to_string(v.tokens.size()) + "]");
    v.types.push_back(kUnused);
    if (v.model == "llama") v.scores.push_back(0.0f);
  }
  return v;
}

// Token ids decoded through a GGUF vocabulary as llama.cpp decodes them (control tokens dropped).
std::string decode_with(const std::vector<std::string>& tokens, const std::vector<int32_t>& types,
                        const std::string& model, bool add_space_prefix,
                        const std::vector<int32_t>& ids) {
  static const std::map<std::string, unsigned char> byte_of = [] {
    std::map<std::string, unsigned char> m;
    for (int b = 0; b < 256; ++b) m[tok::byte_level_char(static_cast<unsigned char>(b))] = b;
    return m;
  }();
  std::string out;
  for (int32_t id : ids) {
    if (id < 0 || id >= static_cast<int32_t>(tokens.size())) continue;
    const std::string& t = tokens[static_cast<size_t>(id)];
    const int32_t type = types[static_cast<size_t>(id)];
    if (type == kControl || type == kUnused) continue;
    if (type == kUserDefined) {
      out += t;
    } else if (model == "gpt2") {
      for (size_t i = 0; i < t.size();) {
        const size_t n = std::max<size_t>(1, tok::utf8_length(static_cast<unsigned char>(t[i])));
        const auto it = byte_of.find(t.substr(i, n));
        out += it != byte_of.end() ? std::string(1, static_cast<char>(it->second)) : t.substr(i, n);
        i += n;
      }
    } else if (type == kByte) {
      out += static_cast<char>(std::stoi(t.substr(3, 2), nullptr, 16));
    } else {
      out += replace_all(t, "\xE2\x96\x81", " ");
    }
  }
  if (model == "llama" && add_space_prefix && !out.empty() && out[0] == ' ') out.erase(0, 1);
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

std::string arch_key(const std::string& arch, const std::string& key) {
  return arch + "." + key;
}

}  // namespace

std::string architecture_of(const model::LlamaConfig& c) {
  if (c.num_labels() > 0)
    throw InputError("gguf",
                     "a classifier has no GGUF form llama.cpp runs; export it as peft or hf");
  if (c.attention_kind == AttentionKind::kTemperature && c.attention_temperature != 1.0)
    throw InputError("gguf", "temperature attention must be folded into q_proj first");
  if (c.rope_scaling.type == model::RopeType::kYarn)
    throw InputError("gguf",
                     "YaRN RoPE scaling is not exported to GGUF yet (llama.cpp computes "
                     "its attention factor differently); export as peft or hf");
  const std::string type = c.model_type();
  if (type == "llama" || type == "mistral") return "llama";
  if (type == "qwen2" || type == "qwen3") return type;
  throw InputError("gguf", "no GGUF architecture for " + c.architecture);
}

uint64_t write_model(const std::string& path, model::Transformer& m, const Tokenizer& tok,
                     const Provenance& provenance, GgufQuant quant,
                     const std::function<void(uint64_t, uint64_t)>& progress) {
  const model::LlamaConfig& c = m->config();
  const std::string arch = architecture_of(c);
  const auto params = base_parameters(m);
  const auto map = tensor_map(c, arch, params);
  const Vocabulary vocab = vocabulary(tok, c.vocab_size);

  gguf::GgufWriter w(path);
  auto u32 = [](int64_t v) { return Value::u32(static_cast<uint32_t>(v)); };
  w.add_metadata("general.architecture", Value::string(arch));
  w.add_metadata("general.type", Value::string("model"));
  w.add_metadata("general.name", Value::string(provenance.name));
  w.add_metadata("general.file_type", Value::u32(file_type(quant)));
  w.add_metadata("general.quantization_version", Value::u32(2));
  w.add_metadata("general.base_model.count", Value::u32(1));
  w.add_metadata("general.base_model.0.name", Value::string(provenance.base_model));
  w.add_metadata("deeptune.version", Value::string(engine_version()));
  w.add_metadata("deeptune.run", Value::string(provenance.run));
  w.add_metadata("deeptune.step", Value::u64(static_cast<uint64_t>(provenance.step)));
  if (provenance.lora.is_object()) {
    w.add_metadata("deeptune.lora.r", u32(provenance.lora.value("r", 0)));
    w.add_metadata("deeptune.lora.alpha", Value::f32(provenance.lora.value("alpha", 0.0f)));
    w.add_metadata("deeptune.lora.rslora", Value::boolean(provenance.lora.value("rslora", false)));
    w.add_metadata("deeptune.lora.targets",
                   Value::strings(provenance.lora.value("targets", std::vector<std::string>{})));
  }
  w.add_metadata(arch_key(arch, "context_length"), u32(c.max_position_embeddings));
  w.add_metadata(arch_key(arch, "embedding_length"), u32(c.hidden_size));
  w.add_metadata(arch_key(arch, "block_count"), u32(c.num_hidden_layers));
  w.add_metadata(arch_key(arch, "feed_forward_length"), u32(c.intermediate_size));
  w.add_metadata(arch_key(arch, "attention.head_count"), u32(c.num_attention_heads));
  w.add_metadata(arch_key(arch, "attention.head_count_kv"), u32(c.num_key_value_heads));
  w.add_metadata(arch_key(arch, "attention.key_length"), u32(c.head_dim));
  w.add_metadata(arch_key(arch, "attention.value_length"), u32(c.head_dim));
  w.add_metadata(arch_key(arch, "rope.dimension_count"), u32(c.head_dim));
  w.add_metadata(arch_key(arch, "rope.freq_base"), Value::f32(static_cast<float>(c.rope_theta)));
  w.add_metadata(arch_key(arch, "attention.layer_norm_rms_epsilon"),
                 Value::f32(static_cast<float>(c.rms_norm_eps)));
  w.add_metadata(arch_key(arch, "vocab_size"), u32(c.vocab_size));
  if (c.rope_scaling.type == model::RopeType::kLinear) {
    w.add_metadata(arch_key(arch, "rope.scaling.type"), Value::string("linear"));
    w.add_metadata(arch_key(arch, "rope.scaling.factor"),
                   Value::f32(static_cast<float>(c.rope_scaling.factor)));
  }

  w.add_metadata("tokenizer.ggml.model", Value::string(vocab.model));
  if (vocab.model == "gpt2") w.add_metadata("tokenizer.ggml.pre", Value::string(vocab.pre));
  w.add_metadata("tokenizer.ggml.tokens", Value::strings(vocab.tokens));
  if (!vocab.scores.empty()) {
    std::vector<Value> scores;
    for (float s : vocab.scores) scores.push_back(Value::f32(s));
    w.add_metadata("tokenizer.ggml.scores", Value::array(ValueType::kF32, std::move(scores)));
  }
  std::vector<Value> types;
  for (int32_t t : vocab.types) types.push_back(Value::i32(t));
  w.add_metadata("tokenizer.ggml.token_type", Value::array(ValueType::kI32, std::move(types)));
  if (vocab.model == "gpt2")
    w.add_metadata("tokenizer.ggml.merges", Value::strings(vocab.merges));
  else
    w.add_metadata("tokenizer.ggml.add_space_prefix", Value::boolean(vocab.add_space_prefix));
  if (tok.bos_id() >= 0) w.add_metadata("tokenizer.ggml.bos_token_id", u32(tok.bos_id()));
  const int32_t eos = tok.eos_id() >= 0 ? tok.eos_id() : static_cast<int32_t>(c.eos_token_id);
  if (eos >= 0) w.add_metadata("tokenizer.ggml.eos_token_id", u32(eos));
  w.add_metadata("tokenizer.ggml.padding_token_id", u32(tok.pad_id()));
  w.add_metadata("tokenizer.ggml.add_bos_token", Value::boolean(tok.adds_bos()));
  w.add_metadata("tokenizer.ggml.add_eos_token", Value::boolean(false));
  if (!tok.chat_template().empty())
    w.add_metadata("tokenizer.chat_template", Value::string(tok.chat_template()));

  for (const auto& t : map) {
    const auto shape = params.at(t.param).sizes().vec();
    w.add_tensor(t.gguf, shape, tensor_type(quant, shape));
  }
  const bool llama3 = c.rope_scaling.type == model::RopeType::kLlama3;
  if (llama3) w.add_tensor("rope_freqs.weight", {c.head_dim / 2}, TensorType::kF32);
  if (progress) w.set_progress(progress);
  const uint64_t total = w.write_header();
  torch::NoGradGuard no_grad;
  for (const auto& t : map) {
    auto x = params.at(t.param).to(torch::kCPU, torch::kFloat);
    if (t.heads > 0) x = permute_heads(x, t.heads);
    x = x.contiguous();
    w.write_tensor(x.data_ptr<float>(), static_cast<size_t>(x.numel()));
  }
  if (llama3) {
    const auto f = rope_factors(c);
    w.write_tensor(f.data_ptr<float>(), static_cast<size_t>(f.numel()));
  }
  w.finish();
  return total;
}

model::LlamaConfig read_config(const gguf::GgufFile& f, const model::LlamaConfig& expected,
                               std::vector<std::string>* failures) {
  const std::string arch = f.get_string("general.architecture");
  static const std::map<std::string, std::string> kArchitectures = {
      {"llama", "LlamaForCausalLM"}, {"qwen2", "Qwen2ForCausalLM"}, {"qwen3", "Qwen3ForCausalLM"}};
  const auto known = kArchitectures.find(arch);
  if (known == kArchitectures.end())
    throw InputError(f.origin() + ": key 'general.architecture'",
                     "'" + arch + "' is not one we read");
  auto key = [&](const std::string& k) { return arch_key(arch, k); };
  nlohmann::json j;
  // Mistral is llama to llama.cpp; read it back as the architecture it came from.
  j["architectures"] = {expected.model_type() == "mistral" && arch == "llama"
                            ? expected.architecture
                            : known->second};
  j["vocab_size"] = f.get_u32(key("vocab_size"));
  j["hidden_size"] = f.get_u32(key("embedding_length"));
  j["intermediate_size"] = f.get_u32(key("feed_forward_length"));
  j["num_hidden_layers"] = f.get_u32(key("block_count"));
  j["num_attention_heads"] = f.get_u32(key("attention.head_count"));
  j["num_key_value_heads"] = f.get_u32(key("attention.head_count_kv"));
  j["head_dim"] = f.contains(key("attention.key_length"))
                      ? f.get_u32(key("attention.key_length"))
                      : j["hidden_size"].get<uint32_t>() / j["num_attention_heads"].get<uint32_t>();
  j["max_position_embeddings"] = f.get_u32(key("context_length"));
  j["rms_norm_eps"] = f.get_f32(key("attention.layer_norm_rms_epsilon"));
  j["rope_theta"] = f.get_f32(key("rope.freq_base"));
  j["tie_word_embeddings"] = !f.has_tensor("output.weight");
  if (arch == "llama") {
    j["attention_bias"] = f.has_tensor("blk.0.attn_q.bias");
    j["mlp_bias"] = f.has_tensor("blk.0.ffn_gate.bias");
  } else if (arch == "qwen3") {
    j["attention_bias"] = f.has_tensor("blk.0.attn_q.bias");
  }
  if (f.contains(key("rope.scaling.type"))) {
    const std::string type = f.get_string(key("rope.scaling.type"));
    if (type != "linear")
      throw InputError(f.origin() + ": key '" + key("rope.scaling.type") + "'",
                       "'" + type + "' is not one we read");
    j["rope_scaling"] = {{"rope_type", "linear"},
                         {"factor", f.get_f32(key("rope.scaling.factor"))}};
  }
  if (f.contains("tokenizer.ggml.bos_token_id"))
    j["bos_token_id"] = f.get_u32("tokenizer.ggml.bos_token_id");
  if (f.contains("tokenizer.ggml.eos_token_id"))
    j["eos_token_id"] = f.get_u32("tokenizer.ggml.eos_token_id");
  auto c = model::LlamaConfig::from_hf_json(j, f.origin());
  if (f.has_tensor("rope_freqs.weight")) {
    // llama3 scaling as divisors of the frequencies: the ones the expected config implies.
    const auto stored = f.dequantize(f.tensor("rope_freqs.weight"));
    const auto want = rope_factors(expected);
    double worst = stored.size() == static_cast<size_t>(want.numel()) ? 0.0 : INFINITY;
    for (size_t i = 0; std::isfinite(worst) && i < stored.size(); ++i)
      worst = std::max(worst, std::fabs(double(stored[i]) - want[int64_t(i)].item<double>()));
    if (worst > 1e-5)
      failures->push_back("rope_freqs.weight differs from the model's llama3 RoPE factors by " +
                          std::to_string(worst));
    c.rope_scaling = expected.rope_scaling;
  }
  c.max_position_embeddings = expected.max_position_embeddings;
  c.sliding_window = expected.sliding_window;
  auto differs = [&](const char* what, double a, double b, double tol = 0.0) {
    if (std::fabs(a - b) > tol)
      failures->push_back(std::string("metadata gives ") + what + " " + std::to_string(a) +
                          ", the model has " + std::to_string(b));
  };
  differs("vocab_size", double(c.vocab_size), double(expected.vocab_size));
  differs("hidden_size", double(c.hidden_size), double(expected.hidden_size));
  differs("intermediate_size", double(c.intermediate_size), double(expected.intermediate_size));
  differs("layers", double(c.num_hidden_layers), double(expected.num_hidden_layers));
  differs("heads", double(c.num_attention_heads), double(expected.num_attention_heads));
  differs("kv heads", double(c.num_key_value_heads), double(expected.num_key_value_heads));
  differs("head_dim", double(c.head_dim), double(expected.head_dim));
  differs("rope_theta", c.rope_theta, expected.rope_theta, expected.rope_theta * 1e-6);
  differs("rms_norm_eps", c.rms_norm_eps, expected.rms_norm_eps, expected.rms_norm_eps * 1e-6);
  differs("tied embeddings", c.tie_word_embeddings, expected.tie_word_embeddings);
  differs("q/k/v biases", c.attention_bias, expected.attention_bias);
  differs("q/k norms", c.qk_norm, expected.qk_norm);
  if (c.rope_scaling.type != expected.rope_scaling.type)
    failures->push_back("metadata gives RoPE scaling " + model::to_string(c.rope_scaling.type) +
                        ", the model has " + model::to_string(expected.rope_scaling.type));
  return c;
}

model::Transformer read_model(const gguf::GgufFile& f, const model::LlamaConfig& config) {
  model::Transformer m(config);
  const std::string arch = architecture_of(config);
  const auto params = base_parameters(m);
  torch::NoGradGuard no_grad;
  size_t used = 0;
  for (const auto& t : tensor_map(config, arch, params)) {
    const auto& info = f.tensor(t.gguf);
    auto& param = params.at(t.param);
    if (info.shape != param.sizes().vec())
      throw InputError(
          f.origin() + ": tensor '" + t.gguf + "'",
          "has shape " + c10::str(info.shape) + ", the config implies " + c10::str(param.sizes()));
    auto values = f.dequantize(info);
    auto x = torch::from_blob(values.data(), info.shape, torch::kFloat);
    if (t.heads > 0) x = unpermute_heads(x, t.heads);
    param.copy_(x);
    ++used;
  }
  const size_t extra = f.has_tensor("rope_freqs.weight") ? 1 : 0;
  if (used + extra != f.tensors().size())
    throw InputError(f.origin(), "holds " + std::to_string(f.tensors().size()) +
                                     " tensors; the architecture reads " +
                                     std::to_string(used + extra));
  return m;
}

void check_weights(const gguf::GgufFile& f, model::Transformer& m, ExportCheck* check) {
  const model::LlamaConfig& c = m->config();
  const std::string arch = architecture_of(c);
  const auto params = base_parameters(m);
  torch::NoGradGuard no_grad;
  for (const auto& t : tensor_map(c, arch, params)) {
    const auto& info = f.tensor(t.gguf);
    auto want = params.at(t.param).to(torch::kCPU, torch::kFloat);
    if (t.heads > 0) want = permute_heads(want, t.heads);
    want = want.contiguous();
    auto got = f.dequantize(info);
    const float* w = want.data_ptr<float>();
    const size_t n = static_cast<size_t>(want.numel());
    double max_error = 0.0, bound = 0.0;
    if (info.type == TensorType::kQ8_0) {
      // Per block: its own bound; the tensor passes when no block exceeds its bound.
      double worst_ratio = 0.0;
      for (size_t b = 0; b + 32 <= n; b += 32) {
        const double block_bound = gguf::q8_0_block_error_bound(w + b);
        double e = 0.0;
        for (size_t k = b; k < b + 32; ++k) e = std::max(e, std::fabs(double(got[k]) - w[k]));
        max_error = std::max(max_error, e);
        bound = std::max(bound, block_bound);
        if (block_bound > 0)
          worst_ratio = std::max(worst_ratio, e / block_bound);
        else if (e > 0)
          worst_ratio = INFINITY;
      }
      if (worst_ratio > 1.0 + 1e-6)
        check->failures.push_back(t.gguf + ": a Q8_0 block is off by more than its bound");
    } else {
      double largest = 0.0;
      for (size_t k = 0; k < n; ++k) {
        max_error = std::max(max_error, std::fabs(double(got[k]) - w[k]));
        largest = std::max(largest, std::fabs(double(w[k])));
      }
      // Half an ulp at the largest value, plus the smallest subnormal's half step.
      bound = info.type == TensorType::kF16 ? largest * std::ldexp(1.0, -11) + std::ldexp(1.0, -25)
              : info.type == TensorType::kBF16 ? largest * std::ldexp(1.0, -8)
                                               : 0.0;
      if (max_error > bound)
        check->failures.push_back(t.gguf + ": dequantised values are off by " +
                                  std::to_string(max_error) + ", more than " +
                                  gguf::to_string(info.type) + " allows (" + std::to_string(bound) +
                                  ")");
    }
    check->tensors.push_back({t.gguf, max_error, bound});
  }
}

void check_tokenizer(const gguf::GgufFile& f, const Tokenizer& tok, ExportCheck* check) {
  const auto vocab_size =
      static_cast<int64_t>(f.get_u32(arch_key(f.get_string("general.architecture"), "vocab_size")));
  const Vocabulary want = vocabulary(tok, vocab_size);
  const auto tokens = f.get_strings("tokenizer.ggml.tokens");
  std::vector<int32_t> types;
  for (const auto& v : f.get_array("tokenizer.ggml.token_type", ValueType::kI32))
    types.push_back(static_cast<int32_t>(v.i));
  const std::string model = f.get_string("tokenizer.ggml.model");
  auto fail = [&](const std::string& s) { check->failures.push_back("tokenizer: " + s); };
  if (model != want.model) fail("model '" + model + "', expected '" + want.model + "'");
  if (static_cast<int64_t>(tokens.size()) != vocab_size || types.size() != tokens.size())
    fail(std::to_string(tokens.size()) + " tokens and " + std::to_string(types.size()) +
         " types for " + std::to_string(vocab_size) + " embedding rows");
  if (tokens != want.tokens) fail("the token list differs from the tokenizer's vocabulary");
  if (types != want.types) fail("token types differ from the tokenizer's added/special tokens");
  size_t merges = 0;
  if (model == "gpt2") {
    const auto m = f.get_strings("tokenizer.ggml.merges");
    merges = m.size();
    if (m != want.merges) fail("merges differ from tokenizer.json's");
  }
  auto id_matches = [&](const char* key, int32_t want_id) {
    const bool has = f.contains(key);
    if (want_id < 0 ? has : (!has || static_cast<int32_t>(f.get_u32(key)) != want_id))
      fail(std::string(key) + " does not name the tokenizer's id " + std::to_string(want_id));
  };
  id_matches("tokenizer.ggml.bos_token_id", tok.bos_id());
  if (tok.eos_id() >= 0) id_matches("tokenizer.ggml.eos_token_id", tok.eos_id());
  if (f.get_bool("tokenizer.ggml.add_bos_token") != tok.adds_bos())
    fail("add_bos_token differs from the tokenizer");
  const std::string templ =
      f.contains("tokenizer.chat_template") ? f.get_string("tokenizer.chat_template") : "";
  if (templ != tok.chat_template()) fail("the chat template differs from the tokenizer's");
  // Decoding through the file's vocabulary gives the tokenizer's text for every probe.
  const bool space = model == "llama" && f.contains("tokenizer.ggml.add_space_prefix") &&
                     f.get_bool("tokenizer.ggml.add_space_prefix");
  size_t decoded = 0;
  for (const auto& probe : check->probes) {
    const auto ids = tok.encode(probe.prompt);
    const std::string got = decode_with(tokens, types, model, space, ids);
    if (got != tok.decode(ids))
      fail("decoding the probe '" + probe.prompt +
           "' through the GGUF "
           "vocabulary gives '" +
           got + "'");
    else
      ++decoded;
  }
  check->tokenizer =
      model + " vocabulary" +
      (model == "gpt2" ? " (pre '" + f.get_string("tokenizer.ggml.pre") + "')" : "") + ": " +
      std::to_string(tokens.size()) + " tokens" +
      (model == "gpt2" ? ", " + std::to_string(merges) + " merges" : "") +
      ", special ids and chat template as the tokenizer's; " + std::to_string(decoded) + "/" +
      std::to_string(check->probes.size()) + " probes decode to the same text" +
      (want.note.empty() ? "" : "; note: " + want.note);
}

}  // namespace deeptune::gguf_export
