// Exports of a run's latest checkpoint: a PEFT LoRA adapter (adapter_config.json +
// adapter_model.safetensors, keys "base_model.model.<module>.lora_A.weight" as PEFT saves them)
// or a merged Hugging Face checkpoint. Temperature attention is not a transformers feature, so it
// is folded into q_proj (scores / (sqrt(d) T) == ((q / T) . k) / sqrt(d); RoPE is linear) and the
// exported files then give the same numbers in transformers.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>

#include "core/enum_names.h"
#include "deeptune/data.h"
#include "deeptune/error.h"
#include "deeptune/files.h"
#include "deeptune/gguf.h"
#include "deeptune/session.h"
#include "deeptune/text.h"
#include "formats/gguf_export.h"
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
                                                        {ExportFormat::kHfMerged, "hf"},
                                                        {ExportFormat::kGguf, "gguf"}};
  if (const auto format = value_of(kFormats, s)) return *format;
  throw InputError("--format", "unknown export format '" + s + "'; choose " + names_text(kFormats));
}

namespace {
constexpr EnumName<GgufQuant> kQuants[] = {{GgufQuant::kF32, "F32"},
                                           {GgufQuant::kF16, "F16"},
                                           {GgufQuant::kBF16, "BF16"},
                                           {GgufQuant::kQ8_0, "Q8_0"}};
}  // namespace

GgufQuant gguf_quant_from_string(const std::string& s) {
  std::string upper = s;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (const auto q = value_of(kQuants, upper)) return *q;
  throw InputError("--quant", "unknown GGUF type '" + s + "'; choose " + names_text(kQuants));
}

std::string to_string(GgufQuant q) {
  return name_of(kQuants, q);
}

namespace {

// Prompts every export check runs: prose, a question, code, and non-Latin text (byte fallback,
// multi-byte merges).
const std::vector<std::string>& probe_prompts() {
  static const std::vector<std::string> prompts = {
      "The quick brown fox jumps over the lazy dog.",
      "Question: What is the capital of France?\nAnswer:",
      "def fibonacci(n):\n    if n < 2:\n        return n",
      "\xE6\x9C\xBA\xE5\x99\xA8\xE5\xAD\xA6\xE4\xB9\xA0\xE6\x98\xAF\xE4\xBA\xBA\xE5\xB7\xA5\xE6\x99"
      "\xBA\xE8\x83\xBD\xE7\x9A\x84\xE4\xB8\x80\xE4\xB8\xAA\xE5\x88\x86\xE6\x94\xAF\xE3\x80\x82"};
  return prompts;
}

// What the model predicts for a probe: next-token logits at every position (T, V), or a
// classifier's class logits for the whole text (1, L). fp32, CPU.
torch::Tensor probe_logits(model::Transformer& m, const std::vector<int32_t>& ids) {
  torch::NoGradGuard no_grad;
  const auto device = m->parameters().front().device();
  const auto input = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong)
                         .unsqueeze(0)
                         .to(device);
  if (m->config().num_labels() > 0) {
    const auto last =
        torch::tensor({static_cast<int64_t>(ids.size()) - 1}, torch::kLong).to(device);
    return m->class_logits(input, last).to(torch::kCPU, torch::kFloat);
  }
  return m->lm_logits(input).squeeze(0).to(torch::kCPU, torch::kFloat);
}

std::vector<std::vector<int32_t>> probe_ids(const Tokenizer& tok) {
  std::vector<std::vector<int32_t>> out;
  for (const auto& p : probe_prompts()) {
    std::vector<int32_t> ids;
    if (tok.adds_bos() && tok.bos_id() >= 0) ids.push_back(tok.bos_id());
    for (int32_t id : tok.encode(p)) ids.push_back(id);
    out.push_back(std::move(ids));
  }
  return out;
}

// How close a reloaded export must come to the model it was written from, both computed in
// fp32. Exact formats: float rounding (1e-4). F16 weights: 1e-2 in the logits. BF16 and Q8_0 round
// more (their errors grow with the logits' scale): within 5% of the reference logits' mean range
// (max - min per position) — a wrong layout, RoPE or vocabulary moves logits by about their whole
// range. The most likely next token must agree at 99% (exact), 95% (F16) or 90% of the positions:
// rounding swaps near-tied tokens (often, in barely trained models), a broken export most of them.
void set_thresholds(ExportCheck* check, const std::string& stored_as,
                    const std::vector<torch::Tensor>& reference) {
  double range = 0.0;
  int64_t rows = 0;
  for (const auto& r : reference) {
    range += (std::get<0>(r.max(-1)) - std::get<0>(r.min(-1))).sum().item<double>();
    rows += r.size(0);
  }
  range = rows ? range / double(rows) : 0.0;
  check->min_top1 = 0.95;
  if (stored_as == "F32") {
    check->tolerance = 1e-4;
    check->min_top1 = 0.99;
  } else if (stored_as == "F16") {
    check->tolerance = 1e-2;
  } else {
    check->tolerance = 0.05 * range;
    check->min_top1 = 0.90;
  }
}

// `after_probe(i)` after each probe (progress; it may throw to cancel).
void compare_probes(ExportCheck* check, const std::vector<torch::Tensor>& reference,
                    model::Transformer& reloaded, const std::vector<std::vector<int32_t>>& ids,
                    const std::function<void(size_t)>& after_probe) {
  int64_t positions = 0, agree = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    if (i > 0) after_probe(i);
    const auto got = probe_logits(reloaded, ids[i]);
    auto& p = check->probes[i];
    p.positions = reference[i].size(0);
    p.max_abs_diff = (got - reference[i]).abs().max().item<double>();
    const int64_t same = got.argmax(-1).eq(reference[i].argmax(-1)).sum().item<int64_t>();
    p.top1_agreement = double(same) / double(p.positions);
    check->max_abs_diff = std::max(check->max_abs_diff, p.max_abs_diff);
    positions += p.positions;
    agree += same;
  }
  check->top1_agreement = positions ? double(agree) / double(positions) : 0.0;
  char line[160];
  if (!(check->max_abs_diff <= check->tolerance)) {
    std::snprintf(line, sizeof line, "logits differ by up to %.3g, more than the %.3g allowed",
                  check->max_abs_diff, check->tolerance);
    check->failures.push_back(line);
  }
  if (check->top1_agreement < check->min_top1) {
    std::snprintf(line, sizeof line,
                  "the most likely next token agrees at %.1f%% of positions, under the %.0f%% "
                  "required",
                  100 * check->top1_agreement, 100 * check->min_top1);
    check->failures.push_back(line);
  }
}

std::string dtype_tag(const std::string& torch_dtype) {
  return torch_dtype == "bfloat16" ? "BF16" : torch_dtype == "float16" ? "F16" : "F32";
}

// Reports progress to the caller and turns a refusal into the cancel exception.
struct ProgressSink {
  const ExportOptions& options;
  std::string stage = "writing";
  std::string file;
  void operator()(uint64_t done, uint64_t total) const {
    if (!options.on_progress) return;
    ExportProgress p{stage, file, done, total};
    if (!options.on_progress(p)) throw InputError("export", "cancelled");
  }
};

}  // namespace

ExportResult export_run(const std::string& project_path, const std::string& run_name,
                        const ExportOptions& options, const std::string& out) {
  auto store = ProjectStore::open(project_path);
  const auto run = store->find_run(run_name);
  if (!run) throw InputError(project_path, "no run named '" + run_name + "'");
  const RunConfig c = detail::run_config(*run);
  const ExportFormat format = options.format;
  if (format == ExportFormat::kPeft && c.train.mode != TrainMode::kLora)
    throw InputError(run->name,
                     "trained all weights (train.mode = full): export it with --format hf");
  if (format == ExportFormat::kGguf && c.model.task == Task::kClassification)
    throw InputError(run->name,
                     "is a classifier, which llama.cpp does not run from GGUF; export "
                     "it as peft or hf");
  // GGUF goes to one file: the path given when it ends in .gguf, else RUN-QUANT.gguf in the folder.
  fs::path out_dir(out), gguf_path;
  if (format == ExportFormat::kGguf) {
    if (ends_with(out, ".gguf")) {
      gguf_path = fs::absolute(out);
      out_dir = gguf_path.parent_path();
    } else {
      gguf_path = out_dir / (run->name + "-" + to_string(options.quant) + ".gguf");
    }
  }
  check_output_folder(*store, out_dir);
  // The newest checkpoint or nothing, every file checked against the hashes the run recorded.
  auto trained = detail::load_trained(*store, *run);
  auto& m = trained.model;
  const auto& tok = trained.tokenizer;
  const bool temperature = m->config().attention_kind == AttentionKind::kTemperature &&
                           m->config().attention_temperature != 1.0;
  if (temperature) fold_temperature(m);
  if (format == ExportFormat::kGguf) gguf_export::architecture_of(m->config());  // refuse early
  const std::string base_dtype = m->config().torch_dtype;

  ExportResult result;
  ExportCheck& check = result.check;
  std::vector<torch::Tensor> reference;
  const auto ids = probe_ids(*tok);
  if (options.check) {
    // The check computes in fp32 on the CPU: the model as trained, adapters unmerged.
    check.ran = true;
    m->to(torch::kCPU, torch::kFloat);
    m->eval();
    for (size_t i = 0; i < ids.size(); ++i) {
      reference.push_back(probe_logits(m, ids[i]));
      check.probes.push_back({probe_prompts()[i], 0, 0.0, 0.0});
    }
  }

  fs::create_directories(out_dir);
  remove_stale_temporaries(out_dir.string(), /*with_partials=*/false);  // an export killed midway
  ProgressSink sink{options, "writing", ""};
  std::vector<std::string>& files = result.files;
  const detail::BaseLocation base = detail::verified_base(*store, *run);
  std::string reload_base;  // peft: the base folder the check loads the adapter onto
  std::string stored_as = "F32";
  std::string hashed;  // the file the artifact's hash covers

  if (format == ExportFormat::kGguf) {
    lora::merge(m);
    gguf_export::Provenance p;
    p.name = run->name;
    p.run = run->name;
    p.step = trained.checkpoint.step;
    p.base_model = base.reference ? hub_model_id(base.dir) : c.model.source;
    if (p.base_model.empty()) p.base_model = fs::path(base.dir).filename().string();
    if (c.train.mode == TrainMode::kLora)
      p.lora = {{"r", c.lora.r},
                {"alpha", c.lora.alpha},
                {"targets", c.lora.targets},
                {"rslora", c.lora.rslora}};
    sink.file = gguf_path.string();
    gguf_export::write_model(gguf_path.string(), m, *tok, p, options.quant,
                             [&](uint64_t done, uint64_t total) { sink(done, total); });
    files.push_back(gguf_path.string());
    hashed = gguf_path.string();
    stored_as = to_string(options.quant);
  } else if (format == ExportFormat::kHfMerged) {
    lora::merge(m);
    const fs::path weights = out_dir / "model.safetensors";
    sink.file = weights.string();
    auto progress = [&](uint64_t done, uint64_t total) { sink(done, total); };
    if (base.reference) {
      // As the base came: its dtype, its tokenizer files, its generation defaults.
      hf::save(out_dir.string(), m, *tok, base_dtype, progress);
      stored_as = dtype_tag(base_dtype);
      files = {(out_dir / "config.json").string(), weights.string()};
      std::error_code ec;
      fs::remove(out_dir / "deeptune_tokenizer.json", ec);
      for (const char* name : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                               "generation_config.json"}) {
        const fs::path from = fs::path(base.dir) / name;
        if (!fs::exists(from, ec)) continue;
        const auto bytes = read_file_bytes(from.string());
        write_file_atomic((out_dir / name).string(), bytes.data(), bytes.size());
        files.push_back((out_dir / name).string());
      }
    } else {
      hf::save(out_dir.string(), m, *tok, "float32", progress);
      files = {(out_dir / "config.json").string(), weights.string(),
               (out_dir / "deeptune_tokenizer.json").string()};
    }
    hashed = weights.string();
  } else {
    // The adapter refers to its base by name: a model of the Hugging Face cache by its hub id
    // (so from_pretrained finds it on any machine that has it), any other folder by its path. A
    // folded (temperature) base is written beside the adapter.
    std::string base_path = fs::absolute(base.dir).string();
    reload_base = base.dir;
    if (base.reference) {
      const std::string cached = hub_model_id(base.dir);
      if (!cached.empty()) base_path = cached;
    }
    if (temperature) {
      // Save the folded base weights without the adapters merged in.
      const fs::path base_out = out_dir / "base_model";
      sink.file = (base_out / "model.safetensors").string();
      hf::save(base_out.string(), m, *tok, "float32",
               [&](uint64_t done, uint64_t total) { sink(done, total); });
      base_path = fs::absolute(base_out).string();
      reload_base = base_out.string();
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
    const fs::path weights = out_dir / "adapter_model.safetensors";
    sink.file = weights.string();
    tensor_io::save(weights.string(), tensors);
    sink(fs::file_size(weights), fs::file_size(weights));
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
    write_text(out_dir / "adapter_config.json", cfg.dump(2) + "\n");
    files.push_back((out_dir / "adapter_config.json").string());
    files.push_back(weights.string());
    hashed = weights.string();
  }
  std::error_code ec;
  for (const auto& f : files) result.bytes_written += fs::file_size(f, ec);

  if (options.check) {
    sink.stage = "checking";
    set_thresholds(&check, stored_as, reference);
    model::Transformer reloaded{nullptr};
    if (format == ExportFormat::kGguf) {
      sink.file = gguf_path.string();
      const auto file = gguf::GgufFile::map(gguf_path.string());
      const auto expected = m->config();
      gguf_export::check_weights(file, m, &check);
      gguf_export::check_tokenizer(file, *tok, &check);
      m = model::Transformer(nullptr);  // one model in memory at a time
      const auto config = gguf_export::read_config(file, expected, &check.failures);
      reloaded = gguf_export::read_model(file, config);
    } else {
      const auto labels = m->config().labels;
      m = model::Transformer(nullptr);
      const std::string dir = format == ExportFormat::kHfMerged ? out_dir.string() : reload_base;
      sink.file = dir;
      auto config = hf::read_config(dir);
      if (format == ExportFormat::kPeft) config.labels = labels;  // the head comes with the adapter
      reloaded = model::Transformer(config);
      const auto missing = hf::load_pretrained(reloaded, dir);
      if (format == ExportFormat::kPeft)
        detail::apply_peft_adapter(reloaded, out_dir.string());
      else if (!missing.empty())
        check.failures.push_back("the exported folder lacks " + missing.front());
    }
    // Checking progress: the share of the probes run, in bytes of what was written.
    const uint64_t total = result.bytes_written;
    sink(0, total);
    reloaded->to(torch::kFloat);
    reloaded->eval();
    compare_probes(&check, reference, reloaded, ids,
                   [&](size_t done) { sink(total * done / reference.size(), total); });
    sink(total, total);
    check.passed = check.failures.empty();
  }

  if (!options.check || check.passed) {
    ArtifactRecord a;
    a.run_id = run->id;
    a.kind = format == ExportFormat::kPeft       ? "export_peft"
             : format == ExportFormat::kHfMerged ? "export_hf"
                                                 : "export_gguf";
    a.path = store->relativize(
        fs::absolute(format == ExportFormat::kGguf ? gguf_path : out_dir).string());
    a.sha256 = sha256_file(hashed);
    a.step = trained.checkpoint.step;
    store->add_artifact(a);
  }
  return result;
}

}  // namespace deeptune
