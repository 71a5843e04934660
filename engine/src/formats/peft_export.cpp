// Exports of a run's latest checkpoint: a PEFT LoRA adapter (adapter_config.json +
// adapter_model.safetensors, keys "base_model.model.<module>.lora_A.weight" as PEFT saves them)
// or a merged Hugging Face checkpoint. Temperature attention is not a transformers feature, so it
// is folded into q_proj (scores / (sqrt(d) T) == ((q / T) . k) / sqrt(d); RoPE is linear) and the
// exported files then give the same numbers in transformers.
#include <algorithm>
#include <filesystem>

#include "core/enum_names.h"
#include "deeptune/data.h"
#include "deeptune/error.h"
#include "deeptune/files.h"
#include "deeptune/session.h"
#include "deeptune/text.h"
#include "formats/hf_checkpoint.h"
#include "lora/lora.h"
#include "session/session_internal.h"
#include "torch/tensor_io.h"
#include "train/checkpoint.h"

namespace fs = std::filesystem;

namespace deeptune {
namespace {

// Scales every q_proj (weight, bias, LoRA B) by 1/T and marks the attention as standard.
void fold_temperature(model::Transformer& m) {
  const double t = m->config().attention_temperature;
  torch::NoGradGuard no_grad;
  for (auto& [name, layer] : model::linear_modules(m)) {
    if (name.size() < 6 || name.compare(name.size() - 6, 6, "q_proj") != 0) continue;
    layer->weight.div_(t);
    if (layer->bias.defined()) layer->bias.div_(t);
    if (layer->has_lora()) layer->lora_B->weight.div_(t);
  }
  m->mutable_config().attention_kind = AttentionKind::kStandard;
  m->mutable_config().attention_temperature = 1.0;
}

void write_text(const fs::path& path, const std::string& text) {
  write_file_atomic(path.string(), text);
}

// Refuses an output folder inside the project's own run folders (it would overwrite a run's base
// or checkpoints) or one that is a file.
void check_output_folder(const ProjectStore& store, const fs::path& out) {
  std::error_code ec;
  const fs::path target = fs::weakly_canonical(fs::absolute(out), ec);
  const fs::path runs = fs::weakly_canonical(detail::runs_root(store), ec);
  const auto mismatch = std::mismatch(runs.begin(), runs.end(), target.begin(), target.end());
  if (mismatch.first == runs.end())
    throw InputError(out.string(), "is inside the project's run folder " + runs.string() +
                                       ", which holds the runs' own files; export elsewhere");
  if (fs::exists(out, ec) && !fs::is_directory(out, ec))
    throw InputError(out.string(), "exists and is not a folder");
}

// "ORG/NAME" for a snapshot folder of the hub cache (…/models--ORG--NAME/snapshots/REV), else "".
std::string hub_model_id(const std::string& dir) {
  const fs::path snapshot = fs::path(dir).lexically_normal();
  const fs::path repo = snapshot.parent_path().parent_path();
  const std::string name = repo.filename().string();
  if (snapshot.parent_path().filename() != "snapshots" || !starts_with(name, "models--")) return "";
  const std::string id = name.substr(8);
  const auto sep = id.find("--");
  return sep == std::string::npos ? id : id.substr(0, sep) + "/" + id.substr(sep + 2);
}

}  // namespace

ExportFormat export_format_from_string(const std::string& s) {
  static constexpr EnumName<ExportFormat> kFormats[] = {{ExportFormat::kPeft, "peft"},
                                                        {ExportFormat::kHfMerged, "hf"}};
  if (const auto format = value_of(kFormats, s)) return *format;
  throw InputError("--format", "unknown export format '" + s + "'; choose " + names_text(kFormats));
}

std::vector<std::string> export_run(const std::string& project_path, const std::string& run_name,
                                    ExportFormat format, const std::string& out_dir) {
  auto store = ProjectStore::open(project_path);
  const auto run = store->find_run(run_name);
  if (!run) throw InputError(project_path, "no run named '" + run_name + "'");
  const RunConfig c = detail::run_config(*run);
  if (format == ExportFormat::kPeft && c.train.mode != TrainMode::kLora)
    throw InputError(run->name,
                     "trained all weights (train.mode = full): export it with --format hf");
  check_output_folder(*store, out_dir);
  // The newest checkpoint or nothing, every file checked against the hashes the run recorded.
  auto trained = detail::load_trained(*store, *run);
  auto& m = trained.model;
  const auto& tok = trained.tokenizer;
  const bool temperature = m->config().attention_kind == AttentionKind::kTemperature &&
                           m->config().attention_temperature != 1.0;
  if (temperature) fold_temperature(m);
  fs::create_directories(out_dir);
  remove_stale_temporaries(out_dir, /*with_partials=*/false);  // an export killed midway
  const fs::path out(out_dir);
  std::vector<std::string> files;

  const detail::BaseLocation base = detail::verified_base(*store, *run);
  if (format == ExportFormat::kHfMerged) {
    lora::merge(m);
    if (base.reference) {
      // As the base came: its dtype, its tokenizer files, its generation defaults.
      hf::save(out_dir, m, *tok, m->config().torch_dtype);
      files = {(out / "config.json").string(), (out / "model.safetensors").string()};
      std::error_code ec;
      fs::remove(out / "deeptune_tokenizer.json", ec);
      for (const char* name : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                               "generation_config.json"}) {
        const fs::path from = fs::path(base.dir) / name;
        if (!fs::exists(from, ec)) continue;
        const auto bytes = read_file_bytes(from.string());
        write_file_atomic((out / name).string(), bytes.data(), bytes.size());
        files.push_back((out / name).string());
      }
    } else {
      hf::save(out_dir, m, *tok);
      files = {(out / "config.json").string(), (out / "model.safetensors").string(),
               (out / "deeptune_tokenizer.json").string()};
    }
  } else {
    // The adapter refers to its base by name: a model of the Hugging Face cache by its hub id
    // (so from_pretrained finds it on any machine that has it), any other folder by its path. A
    // folded (temperature) base is written beside the adapter.
    std::string base_path = fs::absolute(base.dir).string();
    if (base.reference) {
      const std::string cached = hub_model_id(base.dir);
      if (!cached.empty()) base_path = cached;
    }
    if (temperature) {
      // Save the folded base weights without the adapters merged in.
      const fs::path base_out = out / "base_model";
      hf::save(base_out.string(), m, *tok);
      base_path = fs::absolute(base_out).string();
      files.push_back((base_out / "model.safetensors").string());
    }
    tensor_io::NamedTensors tensors;
    for (const auto& p : m->named_parameters()) {
      const bool adapter = p.key().find("lora_A.weight") != std::string::npos ||
                           p.key().find("lora_B.weight") != std::string::npos;
      const bool head = c.model.task == Task::kClassification && p.key().rfind("score.", 0) == 0;
      if (adapter || head)
        tensors.emplace_back("base_model.model." + p.key(), p.value().to(torch::kFloat));
    }
    tensor_io::save((out / "adapter_model.safetensors").string(), tensors);
    nlohmann::json cfg = {
        {"peft_type", "LORA"},
        {"task_type", c.model.task == Task::kClassification ? "SEQ_CLS" : "CAUSAL_LM"},
        {"base_model_name_or_path", base_path},
        {"r", c.lora.r},
        {"lora_alpha", c.lora.alpha},
        {"lora_dropout", c.lora.dropout},
        {"target_modules", c.lora.targets},
        {"bias", "none"},
        {"fan_in_fan_out", false},
        {"use_rslora", c.lora.rslora},
        {"use_dora", false},
        {"modules_to_save", c.model.task == Task::kClassification ? nlohmann::json::array({"score"})
                                                                  : nlohmann::json(nullptr)},
        {"inference_mode", true},
        {"init_lora_weights", true},
        {"rank_pattern", nlohmann::json::object()},
        {"alpha_pattern", nlohmann::json::object()},
        {"layers_to_transform", nullptr},
        {"layers_pattern", nullptr},
        {"revision", nullptr}};
    write_text(out / "adapter_config.json", cfg.dump(2) + "\n");
    files.push_back((out / "adapter_config.json").string());
    files.push_back((out / "adapter_model.safetensors").string());
  }
  ArtifactRecord a;
  a.run_id = run->id;
  a.kind = format == ExportFormat::kPeft ? "export_peft" : "export_hf";
  a.path = store->relativize(fs::absolute(out).string());
  a.sha256 =
      sha256_file(format == ExportFormat::kPeft ? (out / "adapter_model.safetensors").string()
                                                : (out / "model.safetensors").string());
  a.step = trained.checkpoint.step;
  store->add_artifact(a);
  return files;
}

}  // namespace deeptune
