// HF checkpoint folders (see hf_checkpoint.h). Sharded files and tokenizer.json come with the
// Hugging Face models issue; this writes and reads what our own runs produce.
#include "formats/hf_checkpoint.h"

#include <filesystem>
#include <fstream>
#include <set>

#include "deeptune/data.h"
#include "deeptune/error.h"
#include "deeptune/files.h"
#include "deeptune/json_input.h"
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

std::string save(const std::string& dir, model::Transformer& m, const Tokenizer& tokenizer) {
  fs::create_directories(dir);
  write_json((fs::path(dir) / "config.json").string(), m->config().to_hf_json());
  write_json((fs::path(dir) / "deeptune_tokenizer.json").string(), tokenizer.describe());
  tensor_io::NamedTensors tensors;
  for (const auto& p : m->named_parameters())
    if (is_base_parameter(p.key())) tensors.emplace_back(p.key(), p.value().to(torch::kFloat));
  const auto bytes = tensor_io::serialize(tensors);
  write_file_atomic((fs::path(dir) / "model.safetensors").string(), bytes.data(), bytes.size());
  return sha256_bytes(bytes.data(), bytes.size());
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

}  // namespace deeptune::hf
