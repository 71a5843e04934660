// One-off computations on a model named on the command line (deeptune-cli tokenize / logits): a
// Hugging Face folder, optionally with a PEFT adapter, or a project's run. The logits file is how
// our forward pass is compared with other implementations.
#include <torch/torch.h>

#include <filesystem>
#include <set>

#include "deeptune/error.h"
#include "deeptune/hf_models.h"
#include "deeptune/json_input.h"
#include "deeptune/safetensors.h"
#include "deeptune/session.h"
#include "deeptune/text.h"
#include "formats/hf_checkpoint.h"
#include "session/session_internal.h"
#include "torch/tensor_io.h"

namespace fs = std::filesystem;

namespace deeptune {
namespace {

// "PROJECT:RUN" when the part before the last ':' is an existing file; else a folder path.
bool split_project_run(const std::string& model, std::string* project, std::string* run) {
  const auto colon = model.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  std::error_code ec;
  if (!fs::is_regular_file(model.substr(0, colon), ec)) return false;
  *project = model.substr(0, colon);
  *run = model.substr(colon + 1);
  return true;
}

std::string model_folder(const std::string& model) {
  if (!is_hf_model_folder(model))
    throw InputError(model,
                     "is neither a Hugging Face model folder (no config.json) nor PROJECT:RUN");
  return model;
}

}  // namespace

namespace detail {

void apply_peft_adapter(model::Transformer& m, const std::string& dir) {
  const std::string config_path = (fs::path(dir) / "adapter_config.json").string();
  const std::string weights_path = (fs::path(dir) / "adapter_model.safetensors").string();
  const auto cfg = read_json_object_file(config_path);
  int64_t r = 0;
  double alpha = 0;
  bool rslora = false;
  std::vector<std::string> targets;
  try {
    if (cfg.value("peft_type", std::string("LORA")) != "LORA")
      throw InputError(config_path, "peft_type must be LORA");
    r = cfg.at("r").get<int64_t>();
    alpha = cfg.at("lora_alpha").get<double>();
    rslora = cfg.value("use_rslora", false);
    if (!cfg.at("target_modules").is_array())
      throw InputError(config_path, "target_modules must be a list of module names");
    targets = cfg.at("target_modules").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(config_path, e.what());
  }
  if (r <= 0) throw InputError(config_path, "r must be positive");
  const double scale = rslora ? alpha / std::sqrt(double(r)) : alpha / double(r);
  const auto file = SafetensorsFile::read(weights_path);
  std::set<std::string> used;
  auto tensor = [&](const std::string& key, const torch::Tensor& into) {
    const std::string where = weights_path + ": tensor '" + key + "'";
    if (!file.contains(key)) throw InputError(where, "is missing");
    const auto& info = file.info(key);
    if (std::vector<int64_t>(into.sizes().begin(), into.sizes().end()) != info.shape)
      throw InputError(where, "has shape " + c10::str(info.shape) + ", the model expects " +
                                  c10::str(into.sizes()));
    torch::NoGradGuard no_grad;
    into.copy_(tensor_io::to_tensor(file, info));
    used.insert(key);
  };
  auto gen = at::detail::createCPUGenerator(0);  // overwritten below: the values do not matter
  for (auto& [name, layer] : model::linear_modules(m)) {
    bool match = false;
    for (const auto& t : targets) match = match || name == t || ends_with(name, "." + t);
    if (!match) continue;
    layer->attach_lora(r, scale, 0.0, gen);
    tensor("base_model.model." + name + ".lora_A.weight", layer->lora_A->weight);
    tensor("base_model.model." + name + ".lora_B.weight", layer->lora_B->weight);
  }
  // A classifier's head, saved whole (modules_to_save).
  if (m->score && file.contains("base_model.model.score.weight"))
    tensor("base_model.model.score.weight", m->score->weight);
  for (const auto& info : file.tensors())
    if (!used.count(info.name))
      throw InputError(weights_path + ": tensor '" + info.name + "'",
                       "matches no adapted module of the model (target_modules in "
                       "adapter_config.json)");
}

}  // namespace detail

std::unique_ptr<Tokenizer> model_tokenizer(const std::string& model) {
  std::string project, run;
  if (split_project_run(model, &project, &run)) {
    auto store = ProjectStore::open(project);
    const auto r = store->find_run(run);
    if (!r) throw InputError(project, "no run named '" + run + "'");
    return detail::load_tokenizer(*store, *r);
  }
  return load_hf_tokenizer(model_folder(model));
}

void write_logits(const std::string& model, const std::vector<int32_t>& tokens,
                  const std::string& adapter_dir, const std::string& out_path) {
  if (tokens.empty()) throw InputError("--tokens", "give at least one token id");
  std::string project, run;
  model::Transformer m{nullptr};
  if (split_project_run(model, &project, &run)) {
    if (!adapter_dir.empty())
      throw InputError("--adapter", "a run brings its own adapter; give a model folder instead");
    auto store = ProjectStore::open(project);
    const auto r = store->find_run(run);
    if (!r) throw InputError(project, "no run named '" + run + "'");
    m = detail::load_trained(*store, *r).model;
  } else {
    const std::string dir = model_folder(model);
    m = model::Transformer(hf::read_config(dir));
    const auto missing = hf::load_pretrained(m, dir);
    if (!missing.empty())
      throw InputError(dir, "has no tensor '" + missing.front() + "'; a causal LM is needed");
    if (!adapter_dir.empty()) detail::apply_peft_adapter(m, adapter_dir);
  }
  if (m->config().num_labels() > 0)
    throw InputError(model, "is a classifier; logits of the next token need a causal LM");
  const int64_t vocab = m->config().vocab_size;
  for (int32_t id : tokens)
    if (id < 0 || id >= vocab)
      throw InputError("--tokens", "id " + std::to_string(id) + " is outside the vocabulary (0.." +
                                       std::to_string(vocab - 1) + ")");
  m->to(torch::kCPU, torch::kFloat);
  m->eval();
  torch::NoGradGuard no_grad;
  std::vector<int64_t> ids(tokens.begin(), tokens.end());
  const auto input = torch::tensor(ids, torch::kLong).unsqueeze(0);  // (1, T)
  const auto logits = m->lm_logits(input).squeeze(0).contiguous();   // (T, V)
  tensor_io::save(out_path, {{"logits", logits}});
}

}  // namespace deeptune
