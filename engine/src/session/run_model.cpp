// A run's model, loaded one way for training, resuming, generation and export: the base its
// artifact holds (hash verified), LoRA attached from the run's seed, the newest checkpoint's
// weights (hash verified). Also the model a new run starts from, and model summaries computed
// from configs alone (no weights built, no random numbers drawn).
#include <sys/stat.h>
#include <torch/torch.h>

#include <filesystem>

#include "deeptune/data.h"
#include "deeptune/error.h"
#include "deeptune/files.h"
#include "deeptune/hf_models.h"
#include "deeptune/json_input.h"
#include "deeptune/session.h"
#include "deeptune/text.h"
#include "formats/hf_checkpoint.h"
#include "lora/lora.h"
#include "model/presets.h"
#include "session/session_internal.h"
#include "train/checkpoint.h"

namespace fs = std::filesystem;

namespace deeptune {
namespace detail {
namespace {

// LoRA's A matrices draw from their own stream of the seed (model init has another).
constexpr uint64_t kLoraInitStream = 0x10a1ULL;

std::string preset_name(const RunConfig& c) {
  if (!starts_with(c.model.source, kPresetPrefix))
    throw InputError("model.source", "'" + c.model.source + "' is not a preset");
  return c.model.source.substr(std::char_traits<char>::length(kPresetPrefix));
}

void apply_run_settings(model::LlamaConfig& cfg, const RunConfig& c,
                        const std::vector<std::string>& labels) {
  cfg.attention_kind = c.attention.kind;
  cfg.attention_temperature = c.attention.temperature;
  cfg.labels = labels;
  if (c.data.max_length > cfg.max_position_embeddings)
    cfg.max_position_embeddings = c.data.max_length;
}

ArtifactRecord base_artifact(const ProjectStore& store, const RunRecord& run) {
  const auto base = newest_artifact(store, run.id, "base_model");
  if (!base) throw InputError(run.name, "the run has no base model yet; train it first");
  return *base;
}

// What identifies a file without reading it: a rewrite or a replaced blob changes one of these.
struct FileStamp {
  uint64_t bytes = 0;
  int64_t mtime_ns = 0;
  uint64_t inode = 0;
};
FileStamp stamp_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw InputError(path, "is missing: the run's base model folder changed since it started");
  return {static_cast<uint64_t>(st.st_size),
          int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
          static_cast<uint64_t>(st.st_ino)};
}

// The files of a model folder a run depends on: config, weights, tokenizer files present.
std::vector<std::string> model_files(const std::string& dir) {
  std::vector<std::string> out{(fs::path(dir) / "config.json").string()};
  for (const char* name : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                           "generation_config.json", "model.safetensors.index.json"}) {
    const auto path = fs::path(dir) / name;
    std::error_code ec;
    if (fs::exists(path, ec)) out.push_back(path.string());
  }
  for (const auto& f : hf_weight_files(dir).files) out.push_back(f);
  return out;
}

}  // namespace

bool is_folder_source(const RunConfig& c) {
  return !starts_with(c.model.source, kPresetPrefix) && !starts_with(c.model.source, kRunPrefix);
}

std::string source_folder(const RunConfig& c) {
  if (!is_folder_source(c))
    throw InputError("model.source", "'" + c.model.source + "' is not a model folder");
  if (!is_hf_model_folder(c.model.source))
    throw InputError(c.model.source, "is not a Hugging Face model folder (no config.json)");
  return c.model.source;
}

ArtifactRecord write_base_reference(const ProjectStore& store, int64_t run_id,
                                    const std::string& model_dir,
                                    const std::vector<std::string>& labels) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& path : model_files(model_dir)) {
    const FileStamp st = stamp_of(path);
    files.push_back({{"name", fs::path(path).filename().string()},
                     {"bytes", st.bytes},
                     {"mtime_ns", st.mtime_ns},
                     {"inode", st.inode},
                     {"sha256", sha256_file(path)}});
  }
  const nlohmann::json ref{{"format", 1},
                           {"dir", fs::absolute(model_dir).lexically_normal().string()},
                           {"labels", labels},
                           {"files", files}};
  const std::string text = ref.dump(2) + "\n";
  const std::string folder = runs_folder(store, run_id);
  fs::create_directories(folder);
  const std::string path = (fs::path(folder) / kBaseReferenceFile).string();
  write_file_atomic(path, text);
  ArtifactRecord a;
  a.run_id = run_id;
  a.kind = "base_model";
  a.path = path;
  a.sha256 = sha256_bytes(text.data(), text.size());
  return a;
}

BaseLocation verified_base(const ProjectStore& store, const RunRecord& run) {
  const auto artifact = base_artifact(store, run);
  const std::string path = store.resolve(artifact.path);
  if (!ends_with(path, kBaseReferenceFile)) return {path, false, {}};
  const auto bytes = read_file_bytes(path);
  const std::string actual = sha256_bytes(bytes.data(), bytes.size());
  if (actual != artifact.sha256)
    throw InputError(path, "changed since the run recorded it (SHA-256 " + actual.substr(0, 12) +
                               "…, recorded " + artifact.sha256.substr(0, 12) + "…)");
  const auto ref =
      parse_json(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path);
  BaseLocation base;
  base.reference = true;
  try {
    base.dir = ref.at("dir").get<std::string>();
    base.labels = ref.at("labels").get<std::vector<std::string>>();
    for (const auto& f : ref.at("files")) {
      const std::string file = (fs::path(base.dir) / f.at("name").get<std::string>()).string();
      const FileStamp st = stamp_of(file);
      if (st.bytes == f.at("bytes").get<uint64_t>() &&
          st.mtime_ns == f.at("mtime_ns").get<int64_t>() &&
          st.inode == f.at("inode").get<uint64_t>())
        continue;
      // Touched or copied: only the bytes decide.
      const std::string sha = sha256_file(file);
      if (sha != f.at("sha256").get<std::string>())
        throw InputError(file, "changed since the run started (SHA-256 " + sha.substr(0, 12) +
                                   "…, recorded " +
                                   f.at("sha256").get<std::string>().substr(0, 12) +
                                   "…); the run's base model is not the one it trained on");
    }
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path, std::string("is not a base reference: ") + e.what());
  }
  return base;
}

std::string runs_root(const ProjectStore& store) {
  const fs::path project(store.path());
  return (fs::path(store.directory()) / (project.stem().string() + ".runs")).string();
}

std::string runs_folder(const ProjectStore& store, int64_t run_id) {
  return (fs::path(runs_root(store)) / ("run-" + std::to_string(run_id))).string();
}

RunConfig run_config(const RunRecord& run) {
  const std::string where = "run " + run.name + ": stored config";
  return RunConfig::from_json(parse_json(run.config_json, where), where);
}

std::optional<ArtifactRecord> newest_artifact(const ProjectStore& store, int64_t run_id,
                                              const std::string& kind) {
  std::optional<ArtifactRecord> best;
  for (auto& a : store.artifacts(run_id))  // ordered by id: on equal steps the newer row wins
    if (a.kind == kind && (!best || a.step >= best->step)) best = std::move(a);
  return best;
}

ArtifactRecord newest_checkpoint(const ProjectStore& store, const RunRecord& run) {
  const auto ckpt = newest_artifact(store, run.id, "checkpoint");
  if (!ckpt) throw InputError(run.name, "the run has no checkpoint yet; train it first");
  const std::string dir = store.resolve(ckpt->path);
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw InputError(dir, "the newest checkpoint of run '" + run.name + "' (step " +
                              std::to_string(ckpt->step) +
                              ") is missing; the project will not silently use an older one");
  return *ckpt;
}

void adapt(model::Transformer& m, const RunConfig& c) {
  if (c.train.mode == TrainMode::kLora) lora::apply(m, c.lora, c.seed ^ kLoraInitStream);
  lora::set_trainable(m, c.train.mode);
}

model::Transformer load_base(const ProjectStore& store, const RunRecord& run, const RunConfig& c) {
  const BaseLocation base = verified_base(store, run);
  if (!base.reference) {
    model::Transformer m(hf::read_config(base.dir));
    hf::load_weights(m, base.dir, base_artifact(store, run).sha256);
    adapt(m, c);
    return m;
  }
  auto cfg = hf::read_config(base.dir);
  apply_run_settings(cfg, c, base.labels);
  model::Transformer m(cfg);
  const auto missing = hf::load_pretrained(m, base.dir);
  model::init_parameters(m, missing, c.seed);
  adapt(m, c);
  return m;
}

std::unique_ptr<Tokenizer> load_tokenizer(const ProjectStore& store, const RunRecord& run) {
  const BaseLocation base = verified_base(store, run);
  return base.reference ? load_hf_tokenizer(base.dir) : hf::read_tokenizer(base.dir);
}

TrainedModel load_trained(const ProjectStore& store, const RunRecord& run,
                          std::optional<int64_t> at_or_before) {
  TrainedModel t;
  t.config = run_config(run);
  t.checkpoint = newest_checkpoint(store, run);
  if (at_or_before && t.checkpoint.step > *at_or_before) {
    // The newest checkpoint at or before the step whose folder is still there (older ones may
    // have been pruned); the newest when there is none.
    std::optional<ArtifactRecord> best;
    for (auto& a : store.artifacts(run.id)) {
      std::error_code ec;
      if (a.kind == "checkpoint" && a.step <= *at_or_before && (!best || a.step >= best->step) &&
          fs::is_directory(store.resolve(a.path), ec))
        best = std::move(a);
    }
    if (best) t.checkpoint = std::move(*best);
  }
  t.model = load_base(store, run, t.config);
  train::load_trainable(store.resolve(t.checkpoint.path), t.checkpoint.sha256, t.model);
  t.tokenizer = load_tokenizer(store, run);
  return t;
}

RunRecord parent_run(const ProjectStore& store, const RunConfig& c,
                     const std::optional<int64_t>& parent_id) {
  const std::string name = c.model.source.substr(std::char_traits<char>::length(kRunPrefix));
  const auto r = parent_id ? store.run(*parent_id) : store.find_run(name);
  if (!r)
    throw InputError("model.source", parent_id ? "the run this one starts from (#" +
                                                     std::to_string(*parent_id) + ", '" + name +
                                                     "') was deleted"
                                               : "no run named '" + name + "' in the project");
  if (r->checkpoint_step < 0 || !newest_artifact(store, r->id, "base_model"))
    throw InputError("model.source", "run '" + r->name + "' has no checkpoint yet; train it first");
  return *r;
}

model::LlamaConfig model_config(const ProjectStore* store, const RunConfig& c,
                                const std::optional<int64_t>& parent_id,
                                const std::vector<std::string>& labels) {
  model::LlamaConfig cfg;
  if (starts_with(c.model.source, kRunPrefix)) {
    if (!store) throw InputError("model.source", "a run:NAME source needs its project");
    const RunRecord parent = parent_run(*store, c, parent_id);
    cfg = hf::read_config(verified_base(*store, parent).dir);
  } else if (is_folder_source(c)) {
    cfg = hf::read_config(source_folder(c));
    if (cfg.sliding_window > 0 && c.data.max_length > cfg.sliding_window)
      throw InputError("data.max_length",
                       std::to_string(c.data.max_length) + " exceeds the model's sliding window (" +
                           std::to_string(cfg.sliding_window) +
                           " tokens), which this engine does not implement; use at most that");
  } else {
    const ByteTokenizer tok;
    cfg = model::find_preset(preset_name(c)).config;
    cfg.vocab_size = std::max<int64_t>(cfg.vocab_size, tok.vocab_size());
    cfg.bos_token_id = tok.bos_id();
    cfg.eos_token_id = tok.eos_id();
    cfg.pad_token_id = tok.pad_id();
  }
  apply_run_settings(cfg, c, labels);
  return cfg;
}

std::unique_ptr<Tokenizer> start_tokenizer(const ProjectStore& store, const RunConfig& c,
                                           const std::optional<int64_t>& parent_id) {
  if (starts_with(c.model.source, kRunPrefix))
    return load_tokenizer(store, parent_run(store, c, parent_id));
  if (is_folder_source(c)) return load_hf_tokenizer(source_folder(c));
  return std::make_unique<ByteTokenizer>();
}

model::Transformer build_start_model(const ProjectStore& store, const RunConfig& c,
                                     const std::optional<int64_t>& parent_id,
                                     const std::vector<std::string>& labels, std::string* origin) {
  model::Transformer m(model_config(&store, c, parent_id, labels));
  if (is_folder_source(c)) {
    // Only what the checkpoint lacks (a classification head) is drawn from the seed, exactly as
    // load_base draws it again on resume.
    const auto missing = hf::load_pretrained(m, source_folder(c));
    model::init_parameters(m, missing, c.seed);
    *origin = "Hugging Face model " + source_folder(c) + " (" + m->config().architecture + ")";
    return m;
  }
  // Every parameter from the seed first: a head the parent lacks (score, lm_head) keeps it.
  model::init_weights(m, c.seed);
  if (!starts_with(c.model.source, kRunPrefix)) {
    *origin = c.model.source + " initialised from seed " + std::to_string(c.seed);
    return m;
  }
  const RunRecord parent = parent_run(store, c, parent_id);
  TrainedModel old = load_trained(store, parent);
  lora::merge(old.model);
  torch::NoGradGuard no_grad;
  const auto src = old.model->named_parameters();
  for (auto& p : m->named_parameters()) {
    const auto* from = src.find(p.key());
    if (from && from->sizes() == p.value().sizes()) p.value().copy_(*from);
  }
  *origin = "run '" + parent.name + "' (#" + std::to_string(parent.id) + ") at step " +
            std::to_string(old.checkpoint.step);
  return m;
}

}  // namespace detail

ModelSummary summarize_model(const RunConfig& config, int num_labels,
                             const std::string& project_path) {
  std::vector<std::string> labels;
  for (int i = 0; i < num_labels; ++i) labels.push_back("class" + std::to_string(i));
  ModelSummary s;
  std::unique_ptr<ProjectStore> store;
  if (starts_with(config.model.source, detail::kRunPrefix)) {
    if (project_path.empty())
      throw InputError("model.source", "a run:NAME source needs the project it belongs to");
    store = ProjectStore::open(project_path);
    s.description = "final weights of " +
                    config.model.source.substr(std::char_traits<char>::length(detail::kRunPrefix));
  } else if (detail::is_folder_source(config)) {
    const auto info = inspect_hf_model(detail::source_folder(config));
    s.description = info.name + " (" + info.architecture + ", " + info.dtype + ")";
  } else {
    s.description = model::find_preset(detail::preset_name(config)).description;
  }
  // Counted from shapes: no model is built (a 1.1B preset would take seconds and 4 GB).
  const auto cfg = detail::model_config(store.get(), config, std::nullopt, labels);
  const auto plan = lora::plan(cfg, config.lora, config.train.mode);
  s.target_choices = plan.target_choices;
  s.adapted_modules = plan.adapted_modules;
  s.total_parameters = plan.count.total;
  s.trainable_parameters = plan.count.trainable;
  s.trainable_share = plan.count.trainable_share();
  s.memory = detail::forecast_for(cfg, config);
  return s;
}

std::vector<std::pair<std::string, std::string>> model_presets() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& p : model::presets()) out.emplace_back(p.name, p.description);
  return out;
}

}  // namespace deeptune
