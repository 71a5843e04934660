// Preset shapes. Head dim stays a multiple of 32 and kv heads divide the heads (GQA), as in the
// LLaMA family, so every preset exercises the same code paths as a real checkpoint.
#include "model/presets.h"

#include "deeptune/error.h"

namespace deeptune::model {
namespace {
LlamaConfig shape(int64_t hidden, int64_t inter, int64_t layers, int64_t heads, int64_t kv,
                  int64_t max_pos, int64_t vocab) {
  LlamaConfig c;
  c.hidden_size = hidden;
  c.intermediate_size = inter;
  c.num_hidden_layers = layers;
  c.num_attention_heads = heads;
  c.num_key_value_heads = kv;
  c.head_dim = hidden / heads;
  c.max_position_embeddings = max_pos;
  c.vocab_size = vocab;
  return c;
}
}  // namespace

const std::vector<Preset>& presets() {
  static const std::vector<Preset> table = {
      {"tiny", "~0.4M parameters: 2 layers, hidden 128 — trains in seconds on a CPU",
       shape(128, 344, 2, 4, 2, 512, 259)},
      {"small", "~3M parameters: 4 layers, hidden 256", shape(256, 688, 4, 8, 4, 1024, 259)},
      {"medium", "~25M parameters: 8 layers, hidden 512", shape(512, 1376, 8, 8, 4, 2048, 259)},
      {"tinyllama-1.1b", "TinyLlama-1.1B's shape: 22 layers, hidden 2048, 32 heads / 4 kv heads",
       shape(2048, 5632, 22, 32, 4, 2048, 32000)},
  };
  return table;
}

const Preset& find_preset(const std::string& name) {
  std::string known;
  for (const auto& p : presets()) {
    if (p.name == name) return p;
    known += (known.empty() ? "" : ", ") + p.name;
  }
  throw InputError("model.source", "unknown preset '" + name + "'; known presets: " + known);
}

}  // namespace deeptune::model
