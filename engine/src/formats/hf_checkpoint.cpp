// HF checkpoint folders (see hf_checkpoint.h). Sharded files and tokenizer.json come with the
// Hugging Face models issue; this writes and reads what our own runs produce.
#include "formats/hf_checkpoint.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "deeptune/data.h"
#include "deeptune/error.h"
#include "deeptune/files.h"
#include "deeptune/hf_models.h"
#include "deeptune/json_input.h"
#include "deeptune/text.h"
#include "torch/tensor_io.h"

namespace fs = std::filesystem;

namespace deeptune::hf {
namespace {
void write_json(const std::string& path, const nlohmann::json& j) {
  write_file_atomic(path, j.dump(2) + "\n");
}
bool is_base_parameter(const std::string& name) {
  return name.find("lora_") == std::string::npos;
}
}  // namespace

std::string save(const std::string& dir, model::Transformer& m, const Tokenizer& tokenizer,
                 const std::string& torch_dtype, const SaveProgress& progress) {
  const auto dtype = torch_dtype == "bfloat16"  ? torch::kBFloat16
                     : torch_dtype == "float16" ? torch::kHalf
                                                : torch::kFloat;
  fs::create_directories(dir);
  auto config = m->config();
  config.torch_dtype = dtype == torch::kBFloat16 ? "bfloat16"
                       : dtype == torch::kHalf   ? "float16"
                                                 : "float32";
  write_json((fs::path(dir) / "config.json").string(), config.to_hf_json());
  write_json((fs::path(dir) / "deeptune_tokenizer.json").string(), tokenizer.describe());
  // A tensor at a time: converted, written, released — the model is never held twice.
  const std::string path = (fs::path(dir) / "model.safetensors").string();
  SafetensorsWriter writer(path);
  std::vector<torch::Tensor> params;
  for (const auto& p : m->named_parameters()) {
    if (!is_base_parameter(p.key())) continue;
    writer.add_tensor(p.key(), tensor_io::to_dtype(dtype),
                      std::vector<int64_t>(p.value().sizes().begin(), p.value().sizes().end()));
    params.push_back(p.value());
  }
  const uint64_t total = writer.write_header();
  if (progress) progress(writer.written(), total);
  torch::NoGradGuard no_grad;
  for (const auto& p : params) {
    const auto t = p.to(torch::kCPU, dtype).contiguous();
    writer.write_tensor(t.data_ptr(), static_cast<size_t>(t.numel() * t.element_size()));
    if (progress) progress(writer.written(), total);
  }
  writer.finish();
  return sha256_file(path);
}

model::LlamaConfig read_config(const std::string& dir) {
  const std::string path = (fs::path(dir) / "config.json").string();
  return model::LlamaConfig::from_hf_json(read_json_file(path), path);
}

void load_weights(model::Transformer& m, const std::string& dir, const std::string& sha256) {
  const std::string path = (fs::path(dir) / "model.safetensors").string();
  auto bytes = read_file_bytes(path);
  if (!sha256.empty()) {
    const std::string actual = sha256_bytes(bytes.data(), bytes.size());
    if (actual != sha256)
      throw InputError(path, "changed since the run recorded it (SHA-256 " + actual.substr(0, 12) +
                                 "…, recorded " + sha256.substr(0, 12) +
                                 "…); the run's base model is not the one it trained on");
  }
  const auto file = SafetensorsFile::parse(std::move(bytes), path);
  // Validate everything first: a refused file must leave the model as it was.
  std::vector<std::pair<torch::Tensor, const TensorInfo*>> plan;
  std::set<std::string> known;
  for (auto& p : m->named_parameters()) {
    if (!is_base_parameter(p.key())) continue;
    known.insert(p.key());
    const std::string where = path + ": tensor '" + p.key() + "'";
    if (!file.contains(p.key())) throw InputError(where, "missing from the checkpoint");
    const auto& info = file.info(p.key());
    if (std::vector<int64_t>(p.value().sizes().begin(), p.value().sizes().end()) != info.shape)
      throw InputError(where, "has shape " + c10::str(info.shape) + ", the model expects " +
                                  c10::str(p.value().sizes()));
    plan.emplace_back(p.value(), &info);
  }
  for (const auto& info : file.tensors()) {
    if (info.name.find("rotary_emb.inv_freq") != std::string::npos) continue;  // old HF buffers
    if (!known.count(info.name))
      throw InputError(path + ": tensor '" + info.name + "'", "is not a parameter of this model");
  }
  torch::NoGradGuard no_grad;
  for (auto& [param, info] : plan) param.copy_(tensor_io::to_tensor(file, *info));
}

std::unique_ptr<Tokenizer> read_tokenizer(const std::string& dir) {
  const std::string path = (fs::path(dir) / "deeptune_tokenizer.json").string();
  return make_tokenizer(read_json_file(path));
}

std::vector<std::string> load_pretrained(model::Transformer& m, const std::string& dir) {
  const WeightFiles files = hf_weight_files(dir);
  std::map<std::string, SafetensorsFile> opened;
  for (const auto& f : files.files) opened.emplace(f, SafetensorsFile::map(f));
  const auto& cfg = m->config();
  const std::string arch = cfg.architecture + " with " + (fs::path(dir) / "config.json").string();
  // Every tensor of every file, so a stray one (or a shard the index does not list) is named.
  std::map<std::string, std::pair<const SafetensorsFile*, const TensorInfo*>> available;
  for (const auto& [path, file] : opened) {
    for (const auto& info : file.tensors()) {
      const auto listed = files.tensor_file.find(info.name);
      if (listed == files.tensor_file.end() || listed->second != path)
        throw InputError(path + ": tensor '" + info.name + "'",
                         "is not listed for this file in model.safetensors.index.json");
      available[info.name] = {&file, &info};
    }
  }
  for (const auto& [name, path] : files.tensor_file)
    if (!available.count(name))
      throw InputError(path + ": tensor '" + name + "'",
                       "is listed in model.safetensors.index.json but missing from the file");

  // Validate everything first: a refused folder must leave the model as it was.
  std::vector<std::pair<torch::Tensor, std::pair<const SafetensorsFile*, const TensorInfo*>>> plan;
  std::vector<std::string> missing;
  std::set<std::string> known;
  for (auto& p : m->named_parameters()) {
    if (!is_base_parameter(p.key())) continue;
    known.insert(p.key());
    const auto it = available.find(p.key());
    if (it == available.end()) {
      if (p.key().rfind("score.", 0) == 0) {
        missing.push_back(p.key());
        continue;
      }
      throw InputError(dir + ": tensor '" + p.key() + "'", "is missing; a " + arch + " needs it");
    }
    const auto& [file, info] = it->second;
    const std::string where = file->origin() + ": tensor '" + p.key() + "'";
    if (std::vector<int64_t>(p.value().sizes().begin(), p.value().sizes().end()) != info->shape)
      throw InputError(where, "has shape " + c10::str(info->shape) + ", but config.json implies " +
                                  c10::str(p.value().sizes()));
    if (info->dtype != DType::kF32 && info->dtype != DType::kF16 && info->dtype != DType::kBF16)
      throw InputError(where, "is stored as " + to_string(info->dtype) +
                                  "; base weights must be F32, F16 or BF16");
    plan.push_back({p.value(), it->second});
  }
  for (const auto& [name, where] : available) {
    if (known.count(name) || ends_with(name, "rotary_emb.inv_freq")) continue;
    if (name == "lm_head.weight" && (cfg.tie_word_embeddings || cfg.num_labels() > 0))
      continue;  // a tied (or, classifying, unused) head some writers save anyway
    throw InputError(where.first->origin() + ": tensor '" + name + "'",
                     "is not a parameter of a " + arch);
  }
  torch::NoGradGuard no_grad;
  for (auto& [param, source] : plan) {
    const auto& [file, info] = source;
    // A view of the mapped bytes (no copy); copy_ converts dtype and moves to the device at once.
    const auto view =
        torch::from_blob(const_cast<uint8_t*>(file->data(*info)), info->shape,
                         torch::TensorOptions().dtype(tensor_io::to_scalar_type(info->dtype)));
    param.copy_(view);
  }
  return missing;
}

}  // namespace deeptune::hf
