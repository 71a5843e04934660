// Hugging Face model folders as users bring them: config.json, one or sharded *.safetensors (with
// model.safetensors.index.json), tokenizer files. Torch-free: what a folder holds is read from its
// config and the tensor headers alone, never by loading weights.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace deeptune {

// The weight files of a folder and which file holds each tensor: model.safetensors alone, or the
// shards model.safetensors.index.json lists (every shard must exist; every tensor named once).
// Throws InputError naming the file (and the tensor) at fault.
struct WeightFiles {
  std::vector<std::string> files;                  // absolute paths, in name order
  std::map<std::string, std::string> tensor_file;  // tensor name -> path of the file holding it
  uint64_t total_bytes = 0;                        // size of the files on disk
};
WeightFiles hf_weight_files(const std::string& dir);

// Whether `dir` looks like a Hugging Face model folder (has config.json) — cheap, no parsing.
bool is_hf_model_folder(const std::string& dir);

// What a model folder holds, for listings and the Model page.
struct HfModelInfo {
  std::string path;            // the folder (a snapshot folder for cached models)
  std::string name;            // "org/name" for the Hugging Face cache, else the folder's name
  std::string architecture;    // config.json's, e.g. "LlamaForCausalLM"
  std::string dtype;           // the weights' dtype, e.g. "BF16" (the most common one)
  int64_t parameters = 0;      // counted from the tensor headers
  int64_t context_length = 0;  // max_position_embeddings
  int64_t size_bytes = 0;      // weight files on disk
  int64_t vocab_size = 0, hidden_size = 0, layers = 0;
  bool has_tokenizer = false;  // tokenizer.json present
  std::string problem;         // non-empty: why the folder cannot be trained on (listed anyway)
};
// Throws InputError naming the folder when `dir` is not a folder holding a config.json. Anything
// else in the way of training — config.json broken or of an architecture we do not build, weights
// missing, malformed or of other shapes than the config describes — is the InputError's text in
// `problem`, with what could be read filled in.
HfModelInfo inspect_hf_model(const std::string& dir);

// The Hugging Face hub cache, looked for as huggingface_hub does: $HF_HUB_CACHE, else
// $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
std::string hf_hub_dir();
// The models of a hub cache (models--ORG--NAME/snapshots/REV, the revision refs/main names when
// present, else the newest), each inspected; folders that fail carry their problem. Sorted by
// name. An absent cache gives an empty list.
std::vector<HfModelInfo> cached_hf_models(const std::string& hub_dir = hf_hub_dir());

}  // namespace deeptune
