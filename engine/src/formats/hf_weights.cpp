// Which files of a Hugging Face model folder hold its weights (see deeptune/hf_models.h): one
// model.safetensors, or the shards model.safetensors.index.json maps each tensor to.
#include <algorithm>
#include <filesystem>

#include "deeptune/error.h"
#include "deeptune/files.h"
#include "deeptune/hf_models.h"
#include "deeptune/json_input.h"
#include "deeptune/safetensors.h"

namespace fs = std::filesystem;

namespace deeptune {
namespace {

uint64_t size_of(const std::string& path) {
  std::error_code ec;
  const auto n = fs::file_size(path, ec);  // follows the cache's symlinks into blobs/
  if (ec) throw InputError(path, "cannot be read: " + ec.message());
  return n;
}

// A shard name from the index must name a file inside the folder: no paths, no way out.
bool plain_file_name(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos &&
         name.find('\\') == std::string::npos && name != "." && name != "..";
}

}  // namespace

bool is_hf_model_folder(const std::string& dir) {
  std::error_code ec;
  return fs::is_regular_file(fs::path(dir) / "config.json", ec);
}

WeightFiles hf_weight_files(const std::string& dir) {
  WeightFiles w;
  const fs::path folder(dir);
  const std::string index = (folder / "model.safetensors.index.json").string();
  const std::string single = (folder / "model.safetensors").string();
  std::error_code ec;
  if (fs::exists(index, ec)) {
    const auto doc = read_json_object_file(index);
    const auto map = doc.find("weight_map");
    if (map == doc.end() || !map->is_object() || map->empty())
      throw InputError(index, "'weight_map' must be an object naming the file of each tensor");
    for (const auto& [tensor, file] : map->items()) {
      if (!file.is_string() || !plain_file_name(file.get<std::string>()))
        throw InputError(index + ": weight_map['" + tensor + "']",
                         "must be the name of a file in the model folder");
      const std::string path = (folder / file.get<std::string>()).string();
      w.tensor_file[tensor] = path;
    }
    for (const auto& [tensor, path] : w.tensor_file) {
      (void)tensor;
      if (std::find(w.files.begin(), w.files.end(), path) != w.files.end()) continue;
      require_regular_file(path);  // a missing shard is named, not discovered mid-load
      w.files.push_back(path);
    }
    std::sort(w.files.begin(), w.files.end());
  } else if (fs::exists(single, ec)) {
    require_regular_file(single);
    w.files.push_back(single);
    const auto file = SafetensorsFile::map(single);  // header only: no weight page is read
    for (const auto& t : file.tensors()) w.tensor_file[t.name] = single;
  } else {
    std::string hint;
    for (const char* legacy : {"pytorch_model.bin", "pytorch_model.bin.index.json"})
      if (fs::exists(folder / legacy, ec))
        hint = "; it holds " + std::string(legacy) +
               " (PyTorch pickle), which we do not load: save the model with safetensors "
               "(transformers: save_pretrained(..., safe_serialization=True))";
    throw InputError(dir, "no model.safetensors or model.safetensors.index.json" + hint);
  }
  for (const auto& f : w.files) w.total_bytes += size_of(f);
  return w;
}

}  // namespace deeptune
