// What a Hugging Face model folder holds, and the models of the local hub cache (see
// deeptune/hf_models.h): read from config.json and the safetensors headers only, so listing a
// cache of multi-gigabyte checkpoints touches a few pages per file and builds no model.
#include "deeptune/hf_models.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "deeptune/error.h"
#include "deeptune/json_input.h"
#include "deeptune/safetensors.h"
#include "model/llama_config.h"

namespace fs = std::filesystem;

namespace deeptune {
namespace {

// Hub cache folders of models; datasets--… and spaces--… live beside them.
constexpr const char* kModelPrefix = "models--";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// huggingface_hub expands a leading "~" in its path variables; so do we.
std::string expand_home(const std::string& path) {
  if (path == "~" || path.rfind("~/", 0) == 0) return env("HOME") + path.substr(1);
  return path;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

int64_t int_or_zero(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

// What config.json says before it is validated, so a folder we refuse still shows what it is.
void read_raw_config(const nlohmann::json& j, HfModelInfo* info) {
  const auto archs = j.find("architectures");
  if (archs != j.end() && archs->is_array() && !archs->empty() && archs->front().is_string())
    info->architecture = archs->front().get<std::string>();
  else if (j.contains("model_type") && j["model_type"].is_string())
    info->architecture = j["model_type"].get<std::string>();
  info->context_length = int_or_zero(j, "max_position_embeddings");
  info->vocab_size = int_or_zero(j, "vocab_size");
  info->hidden_size = int_or_zero(j, "hidden_size");
  info->layers = int_or_zero(j, "num_hidden_layers");
}

// Parameters and dtype from the tensor headers of the weight files, checked against the shapes
// the config builds: a folder that cannot be loaded says why here, not when a run starts.
void read_weights(const std::string& dir, const model::LlamaConfig& cfg, HfModelInfo* info) {
  const WeightFiles weights = hf_weight_files(dir);
  info->size_bytes = static_cast<int64_t>(weights.total_bytes);

  std::map<std::string, TensorInfo> tensors;  // name -> header, from the file the index names
  std::map<std::string, std::string> file_of;
  for (const std::string& file : weights.files) {
    const SafetensorsFile f = SafetensorsFile::map(file);  // headers only: no data page is read
    for (const auto& [name, path] : weights.tensor_file) {
      if (path != file) continue;
      if (!f.contains(name))
        throw InputError(file + ": tensor '" + name + "'",
                         "is listed in model.safetensors.index.json but not in this file");
      tensors[name] = f.info(name);
      file_of[name] = file;
    }
  }

  // The weights' dtype is the one holding most parameters: fp32 norms beside bf16 matrices
  // are still a bf16 model.
  std::map<DType, int64_t> per_dtype;
  for (const auto& [name, t] : tensors) {
    const auto n = static_cast<int64_t>(t.numel());
    info->parameters += n;
    per_dtype[t.dtype] += n;
  }
  const auto most =
      std::max_element(per_dtype.begin(), per_dtype.end(),
                       [](const auto& a, const auto& b) { return a.second < b.second; });
  if (most != per_dtype.end()) info->dtype = to_string(most->first);

  for (const auto& p : model::parameter_shapes(cfg)) {
    const auto it = tensors.find(p.name);
    if (it == tensors.end())
      throw InputError(dir, "the weights lack tensor '" + p.name + "' that config.json describes " +
                                shape_text(p.shape));
    if (it->second.shape != p.shape)
      throw InputError(file_of[p.name] + ": tensor '" + p.name + "'",
                       "has shape " + shape_text(it->second.shape) + " but config.json describes " +
                           shape_text(p.shape));
  }
}

// The revision a cached repository's refs/main names, when its snapshot is present; else the
// most recently written snapshot (a download made with an explicit revision has no refs/main).
std::string chosen_snapshot(const fs::path& repo) {
  std::error_code ec;
  const fs::path snapshots = repo / "snapshots";
  const fs::path main_ref = repo / "refs" / "main";
  std::string rev;
  // Only a regular file is opened: a FIFO planted there would block the listing forever.
  std::ifstream ref;
  if (fs::is_regular_file(main_ref, ec)) ref.open(main_ref);
  if (ref && std::getline(ref, rev)) {
    while (!rev.empty() && std::isspace(static_cast<unsigned char>(rev.back()))) rev.pop_back();
    if (!rev.empty() && rev.find('/') == std::string::npos && rev != "." && rev != ".." &&
        fs::is_directory(snapshots / rev, ec))
      return (snapshots / rev).string();
  }
  std::string newest;
  fs::file_time_type newest_time{};
  for (fs::directory_iterator it(snapshots, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_directory(ec)) continue;
    const auto t = fs::last_write_time(it->path(), ec);
    if (ec) continue;
    if (newest.empty() || t > newest_time) {
      newest = it->path().string();
      newest_time = t;
    }
  }
  return newest;
}

// "models--Qwen--Qwen2.5-0.5B" -> "Qwen/Qwen2.5-0.5B" (repository ids cannot contain "--").
std::string repo_name(const std::string& folder) {
  std::string rest = folder.substr(std::string(kModelPrefix).size()), out;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest.compare(i, 2, "--") == 0) {
      out += '/';
      ++i;
    } else {
      out += rest[i];
    }
  }
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

HfModelInfo inspect_hf_model(const std::string& dir) {
  std::error_code ec;
  fs::path folder = fs::absolute(fs::path(dir), ec).lexically_normal();
  if (ec) folder = fs::path(dir);
  if (!folder.has_filename()) folder = folder.parent_path();  // "a/b/" -> "a/b"
  const std::string where = folder.string();
  if (!fs::exists(folder, ec)) throw InputError(where, "does not exist");
  if (!fs::is_directory(folder, ec)) throw InputError(where, "is not a folder");
  const fs::path config = folder / "config.json";
  // A dangling link (a cache blob deleted) is not "no config": reading it names the problem.
  if (fs::symlink_status(config, ec).type() == fs::file_type::not_found)
    throw InputError(where, "is not a Hugging Face model folder: it has no config.json");

  HfModelInfo info;
  info.path = where;
  info.name = folder.filename().string();
  // A hub snapshot (models--ORG--NAME/snapshots/REV) is known by its repository, not its hash.
  const std::string repo = folder.parent_path().parent_path().filename().string();
  if (folder.parent_path().filename() == "snapshots" && repo.rfind(kModelPrefix, 0) == 0 &&
      repo.size() > std::string(kModelPrefix).size())
    info.name = repo_name(repo);
  info.has_tokenizer = fs::is_regular_file(folder / "tokenizer.json", ec);
  try {
    const nlohmann::json raw = read_json_object_file(config.string());
    read_raw_config(raw, &info);
    const auto cfg = model::LlamaConfig::from_hf_json(raw, config.string());
    info.architecture = cfg.architecture;
    info.context_length = cfg.max_position_embeddings;
    info.vocab_size = cfg.vocab_size;
    info.hidden_size = cfg.hidden_size;
    info.layers = cfg.num_hidden_layers;
    read_weights(where, cfg, &info);
  } catch (const std::exception& e) {
    // Our readers throw InputError naming the file; anything else (a parser's own exception on
    // input nobody foresaw) still describes only this folder, not the whole listing.
    info.problem = e.what();
  }
  return info;
}

std::string hf_hub_dir() {
  // The lookup order of huggingface_hub (constants.py), legacy variable included.
  for (const char* var : {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"})
    if (!env(var).empty()) return expand_home(env(var));
  std::string home = expand_home(env("HF_HOME"));
  if (home.empty()) {
    const std::string xdg = expand_home(env("XDG_CACHE_HOME"));
    home = (fs::path(xdg.empty() ? env("HOME") + "/.cache" : xdg) / "huggingface").string();
  }
  return (fs::path(home) / "hub").string();
}

std::vector<HfModelInfo> cached_hf_models(const std::string& hub_dir) {
  std::vector<HfModelInfo> out;
  std::error_code ec;
  for (fs::directory_iterator it(hub_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string folder = it->path().filename().string();
    if (folder.rfind(kModelPrefix, 0) != 0 || folder.size() == std::string(kModelPrefix).size() ||
        !it->is_directory(ec))
      continue;
    const std::string snapshot = chosen_snapshot(it->path());
    HfModelInfo info;
    if (snapshot.empty()) {
      info.path = it->path().string();
      info.problem = (it->path() / "snapshots").string() +
                     ": no snapshot downloaded (is a download still under way?)";
    } else {
      try {
        info = inspect_hf_model(snapshot);
      } catch (const Error& e) {
        info.path = snapshot;
        info.problem = e.what();
      }
    }
    info.name = repo_name(folder);
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(), [](const HfModelInfo& a, const HfModelInfo& b) {
    const std::string la = lower(a.name), lb = lower(b.name);
    return la != lb ? la < lb : a.name < b.name;
  });
  return out;
}

}  // namespace deeptune
