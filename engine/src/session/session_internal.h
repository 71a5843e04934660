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

}  // namespace deeptune::detail
