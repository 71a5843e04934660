// What the run session, generation and the exporters share (private to the engine): where a run's
// files live, its verified artifacts, and the one way to load a run's model.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "deeptune/config.h"
#include "deeptune/session.h"
#include "deeptune/store.h"
#include "deeptune/tokenizer.h"
#include "model/llama.h"
#include "train/batches.h"
#include "train/trainer.h"

namespace deeptune::detail {

inline constexpr const char* kPresetPrefix = "preset:";
inline constexpr const char* kRunPrefix = "run:";

// A model.source that is neither a preset nor a run names a Hugging Face model folder.
bool is_folder_source(const RunConfig& c);
// The folder an HF source names, as stored (create_run makes it absolute).
std::string source_folder(const RunConfig& c);

// The base a run trains on, as its base artifact records it: a folder of its own (presets and
// run:NAME sources write their start model there) or a reference to a Hugging Face folder
// (base_ref.json: the folder, its files' sizes, times and SHA-256, the labels of a classifier).
// Referenced files are checked: unchanged size, time and inode, or else the same SHA-256 (a
// changed base is refused, naming the file).
struct BaseLocation {
  std::string dir;
  bool reference = false;
  std::vector<std::string> labels;  // reference: the classification labels of the run
};
BaseLocation verified_base(const ProjectStore& store, const RunRecord& run);
// Hashes a folder's model files and writes <run folder>/base_ref.json durably; returns the
// artifact to record (its SHA-256 is the reference file's).
ArtifactRecord write_base_reference(const ProjectStore& store, int64_t run_id,
                                    const std::string& model_dir,
                                    const std::vector<std::string>& labels);
inline constexpr const char* kBaseReferenceFile = "base_ref.json";

// <project folder>/<project stem>.runs: every run's folder lives inside; exports never do.
std::string runs_root(const ProjectStore& store);
// runs_root()/run-<id>: base model, checkpoints.
std::string runs_folder(const ProjectStore& store, int64_t run_id);

// The config a run stored, parsed and validated; InputError naming the run when the stored JSON
// is malformed.
RunConfig run_config(const RunRecord& run);

// The run's artifact of `kind` with the highest step (newest row on ties); its files are not
// looked at. Never falls back to an older one.
std::optional<ArtifactRecord> newest_artifact(const ProjectStore& store, int64_t run_id,
                                              const std::string& kind);
// The newest checkpoint, whose folder must exist: InputError when the run has none ("train it
// first") or when the folder the project recorded is missing (no silent fallback to an older one).
ArtifactRecord newest_checkpoint(const ProjectStore& store, const RunRecord& run);

// Attaches LoRA (LoRA mode; A drawn from the run's seed) and freezes what must not train.
void adapt(model::Transformer& m, const RunConfig& c);

// The base model a run trains on, as its base artifact holds it (model.safetensors verified
// against the recorded SHA-256), adapted per `c`; trainable weights as initialised.
model::Transformer load_base(const ProjectStore& store, const RunRecord& run, const RunConfig& c);
std::unique_ptr<Tokenizer> load_tokenizer(const ProjectStore& store, const RunRecord& run);

// A PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors) attached to `m`,
// with a classifier's saved head; InputError naming the file for anything that does not fit.
void apply_peft_adapter(model::Transformer& m, const std::string& dir);

// A run's model as of its newest checkpoint (verified): base + trained weights, adapters unmerged.
struct TrainedModel {
  model::Transformer model{nullptr};
  std::unique_ptr<Tokenizer> tokenizer;
  ArtifactRecord checkpoint;
  RunConfig config;
};
// With `at_or_before`: the newest checkpoint at or before that step instead (the newest of all
// when none is that early).
TrainedModel load_trained(const ProjectStore& store, const RunRecord& run,
                          std::optional<int64_t> at_or_before = std::nullopt);

// The run a "run:NAME" source starts from: by the id recorded when the run was created (so a
// rename does not break it), or by name for a run not yet created. InputError when it is gone or
// has no checkpoint.
RunRecord parent_run(const ProjectStore& store, const RunConfig& c,
                     const std::optional<int64_t>& parent_id);

// The model config a RunConfig starts from, without building it: a preset's (vocabulary from the
// tokenizer) or the parent run's base config, with the run's attention and labels applied.
// The memory forecast (session.h) of `config` on a model of this shape.
MemoryForecast forecast_for(const model::LlamaConfig& model, const RunConfig& config);

model::LlamaConfig model_config(const ProjectStore* store, const RunConfig& c,
                                const std::optional<int64_t>& parent_id,
                                const std::vector<std::string>& labels);

// The tokenizer a new run starts with: the parent run's, or the byte tokenizer of presets.
std::unique_ptr<Tokenizer> start_tokenizer(const ProjectStore& store, const RunConfig& c,
                                           const std::optional<int64_t>& parent_id);
// The model a new run starts from: a preset initialised from the seed, or the parent run's final
// weights merged (parameters the parent lacks, such as a classification head, from the seed).
// `origin` receives a sentence for the run's log.
model::Transformer build_start_model(const ProjectStore& store, const RunConfig& c,
                                     const std::optional<int64_t>& parent_id,
                                     const std::vector<std::string>& labels, std::string* origin);

// Rows of c.data.max_length tokens drawn from the seed over the whole vocabulary, every position
// after the first a target (classification: labels in turn): what measurements train on.
train::EncodedData random_rows(const RunConfig& c, int64_t vocab, int64_t rows,
                               const std::vector<std::string>& labels);
// The device a config trains on; InputError when it asks for CUDA and there is none.
torch::Device training_device(const RunConfig& c);
// Checkpoints of a measurement go nowhere.
class DiscardingSink : public train::CheckpointSink {
 public:
  std::string directory_for(int64_t) override { return {}; }
  void saved(int64_t, const std::string&, const std::string&) override {}
};

}  // namespace deeptune::detail
