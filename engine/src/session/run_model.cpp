// A run's model, loaded one way for training, resuming, generation and export: the base its
// artifact holds (hash verified), LoRA attached from the run's seed, the newest checkpoint's
// weights (hash verified). Also the model a new run starts from, and model summaries computed
// from configs alone (no weights built, no random numbers drawn).
#include <torch/torch.h>

#include <filesystem>

#include "deeptune/error.h"
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

}  // namespace

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
  const auto base = base_artifact(store, run);
  const std::string dir = store.resolve(base.path);
  model::Transformer m(hf::read_config(dir));
  hf::load_weights(m, dir, base.sha256);
  adapt(m, c);
  return m;
}

std::unique_ptr<Tokenizer> load_tokenizer(const ProjectStore& store, const RunRecord& run) {
  return hf::read_tokenizer(store.resolve(base_artifact(store, run).path));
}

TrainedModel load_trained(const ProjectStore& store, const RunRecord& run) {
  TrainedModel t;
  t.config = run_config(run);
  t.checkpoint = newest_checkpoint(store, run);
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
    cfg = hf::read_config(store->resolve(base_artifact(*store, parent).path));
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
  return std::make_unique<ByteTokenizer>();
}

model::Transformer build_start_model(const ProjectStore& store, const RunConfig& c,
                                     const std::optional<int64_t>& parent_id,
                                     const std::vector<std::string>& labels, std::string* origin) {
  model::Transformer m(model_config(&store, c, parent_id, labels));
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
  return s;
}

std::vector<std::pair<std::string, std::string>> model_presets() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& p : model::presets()) out.emplace_back(p.name, p.description);
  return out;
}

}  // namespace deeptune
