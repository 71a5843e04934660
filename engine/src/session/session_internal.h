// Helpers shared by the run session and the exporters (private to the engine).
#pragma once

#include <optional>
#include <string>

#include "deeptune/config.h"
#include "deeptune/store.h"
#include "model/llama.h"

namespace deeptune::detail {

// <project folder>/<project stem>.runs/run-<id>: base model, checkpoints.
std::string runs_folder(const ProjectStore& store, int64_t run_id);
// The newest artifact of a kind whose files still exist.
std::optional<ArtifactRecord> latest_artifact(const ProjectStore& store, int64_t run_id,
                                              const std::string& kind);
// Attaches LoRA (LoRA mode) and freezes what must not train.
void adapt(model::Transformer& m, const RunConfig& c);
// A run's model as of its latest checkpoint: base weights + trained weights (adapters unmerged).
// Throws InputError when the run has no checkpoint. `checkpoint_dir` receives the folder used.
model::Transformer load_run_model(const ProjectStore& store, const RunRecord& run,
                                  const RunConfig& c, std::string* checkpoint_dir);

}  // namespace deeptune::detail
