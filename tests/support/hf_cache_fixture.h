// Fake Hugging Face model folders and hub caches for the engine and GUI suites: a tiny LLaMA
// config.json, its tensors written with write_safetensors (one file, or shards with an index), and
// a hub layout models--ORG--NAME/{refs/main, snapshots/REV → ../../blobs/…} as huggingface_hub
// leaves it. The tensor list is written out here by hand (not taken from the engine's
// parameter_shapes) so the suites check the engine against an independent count.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "deeptune/safetensors.h"

namespace deeptune::test {

// Dimensions of a LLaMA small enough to write in a millisecond (H 8, nh 2, nkv 1, hd 4).
struct TinyLlama {
  int64_t vocab = 32, hidden = 8, intermediate = 16, layers = 2, heads = 2, kv_heads = 1;
  int64_t context = 64;
  std::string architecture = "LlamaForCausalLM";
  std::string model_type = "llama";

  int64_t head_dim() const { return hidden / heads; }
  // embed + per layer (2 norms, q, k, v, o, gate, up, down) + final norm + lm_head (untied).
  int64_t parameters() const {
    const int64_t hd = head_dim();
    const int64_t layer = 2 * hidden + heads * hd * hidden + 2 * kv_heads * hd * hidden +
                          hidden * heads * hd + 3 * intermediate * hidden;
    return 2 * vocab * hidden + layers * layer + hidden;
  }
  nlohmann::json config() const {
    return {{"architectures", {architecture}},
            {"model_type", model_type},
            {"vocab_size", vocab},
            {"hidden_size", hidden},
            {"intermediate_size", intermediate},
            {"num_hidden_layers", layers},
            {"num_attention_heads", heads},
            {"num_key_value_heads", kv_heads},
            {"max_position_embeddings", context},
            {"rms_norm_eps", 1e-5},
            {"rope_theta", 10000.0},
            {"hidden_act", "silu"},
            {"tie_word_embeddings", false},
            {"torch_dtype", "bfloat16"}};
  }
};

struct FixtureTensor {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;  // zeros: only the headers matter to the listing
};

// Matrices in BF16, norms in F32 (as checkpoints that keep norms in full precision do).
inline std::vector<FixtureTensor> tiny_tensors(const TinyLlama& m) {
  std::vector<FixtureTensor> out;
  auto add = [&out](std::string name, DType dtype, std::vector<int64_t> shape) {
    size_t numel = 1;
    for (int64_t d : shape) numel *= static_cast<size_t>(d);
    out.push_back({std::move(name), dtype, std::move(shape),
                   std::vector<uint8_t>(numel * dtype_size(dtype), 0)});
  };
  const int64_t q = m.heads * m.head_dim(), kv = m.kv_heads * m.head_dim();
  add("model.embed_tokens.weight", DType::kBF16, {m.vocab, m.hidden});
  for (int64_t i = 0; i < m.layers; ++i) {
    const std::string l = "model.layers." + std::to_string(i) + ".";
    add(l + "input_layernorm.weight", DType::kF32, {m.hidden});
    add(l + "self_attn.q_proj.weight", DType::kBF16, {q, m.hidden});
    add(l + "self_attn.k_proj.weight", DType::kBF16, {kv, m.hidden});
    add(l + "self_attn.v_proj.weight", DType::kBF16, {kv, m.hidden});
    add(l + "self_attn.o_proj.weight", DType::kBF16, {m.hidden, q});
    add(l + "post_attention_layernorm.weight", DType::kF32, {m.hidden});
    add(l + "mlp.gate_proj.weight", DType::kBF16, {m.intermediate, m.hidden});
    add(l + "mlp.up_proj.weight", DType::kBF16, {m.intermediate, m.hidden});
    add(l + "mlp.down_proj.weight", DType::kBF16, {m.hidden, m.intermediate});
  }
  add("model.norm.weight", DType::kF32, {m.hidden});
  add("lm_head.weight", DType::kBF16, {m.vocab, m.hidden});
  return out;
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

inline int64_t file_size(const std::filesystem::path& path) {
  return static_cast<int64_t>(std::filesystem::file_size(path));
}

// config.json, tokenizer.json and the weights: model.safetensors, or `shards` files
// model-0000i-of-0000K.safetensors with model.safetensors.index.json.
inline void write_model_folder(const std::filesystem::path& dir, const TinyLlama& m,
                               int shards = 1) {
  std::filesystem::create_directories(dir);
  write_text(dir / "config.json", m.config().dump(2));
  write_text(dir / "tokenizer.json", R"({"model":{"type":"BPE","vocab":{},"merges":[]}})");
  const auto tensors = tiny_tensors(m);
  if (shards <= 1) {
    std::vector<TensorView> views;
    for (const auto& t : tensors) views.push_back({t.name, t.dtype, t.shape, t.bytes.data()});
    write_safetensors((dir / "model.safetensors").string(), views);
    return;
  }
  nlohmann::json weight_map = nlohmann::json::object();
  for (int s = 0; s < shards; ++s) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", s + 1, shards);
    std::vector<TensorView> views;
    for (size_t i = static_cast<size_t>(s); i < tensors.size(); i += static_cast<size_t>(shards)) {
      const auto& t = tensors[i];
      views.push_back({t.name, t.dtype, t.shape, t.bytes.data()});
      weight_map[t.name] = name;
    }
    write_safetensors((dir / name).string(), views);
  }
  write_text(dir / "model.safetensors.index.json",
             nlohmann::json{{"metadata", {{"total_size", 0}}}, {"weight_map", weight_map}}.dump(2));
}

// Moves the files of `staged` into the hub cache as huggingface_hub stores repository `repo`
// ("org/name") at revision `rev`: each file becomes a blob, the snapshot holds relative symlinks
// to them; refs/main names `rev` when `main`.
inline std::filesystem::path cache_model(const std::filesystem::path& hub, const std::string& repo,
                                         const std::string& rev,
                                         const std::filesystem::path& staged, bool main = true) {
  std::string folder = "models--";
  for (char c : repo) folder += c == '/' ? std::string("--") : std::string(1, c);
  const auto root = hub / folder;
  const auto snapshot = root / "snapshots" / rev;
  std::filesystem::create_directories(root / "blobs");
  std::filesystem::create_directories(snapshot);
  for (const auto& e : std::filesystem::directory_iterator(staged)) {
    const std::string blob = rev + "-" + e.path().filename().string();  // stands in for a hash
    std::filesystem::rename(e.path(), root / "blobs" / blob);
    const std::string target = "../../blobs/" + blob;
    if (::symlink(target.c_str(), (snapshot / e.path().filename()).c_str()) != 0) return {};
  }
  if (main) write_text(root / "refs" / "main", rev);
  return snapshot;
}

}  // namespace deeptune::test
