// LoRA on a Transformer: target matching as PEFT does it, attaching adapters, merge/unmerge,
// choosing what trains, and counting parameters.
#pragma once

#include <string>
#include <vector>

#include "deeptune/config.h"
#include "model/llama.h"

namespace deeptune::lora {

// PEFT's rule for a list of target names: the module's full name equals an entry or ends with
// "." + entry.
bool target_matches(const std::string& module_name, const std::vector<std::string>& targets);

// alpha / r, or alpha / sqrt(r) with rsLoRA.
double scale_for(const LoraSpec& spec);

// Attaches adapters to every matching linear layer (never the classification head, which trains
// whole), A drawn from a CPU generator seeded with `init_seed`. Returns the adapted module names.
// Throws InputError("lora.targets", ...) naming the available module names when a target matches
// nothing.
std::vector<std::string> apply(model::Transformer& m, const LoraSpec& spec, uint64_t init_seed);

// Training-mode dropout of every adapter draws its masks from `gen`.
void set_dropout_generator(model::Transformer& m, const torch::Generator& gen);

// Freezes what must not train: LoRA mode trains the adapters (and a classification head);
// full mode trains everything.
void set_trainable(model::Transformer& m, TrainMode mode);

void merge(model::Transformer& m);
void unmerge(model::Transformer& m);

struct ParameterCount {
  int64_t total = 0;      // every parameter, adapters included (as PEFT counts)
  int64_t trainable = 0;  // requires_grad
  double trainable_share() const { return total ? double(trainable) / double(total) : 0.0; }
};
ParameterCount count_parameters(model::Transformer& m);

// Distinct last components of the linear layers' names ("q_proj", ..., "lm_head"), in model order:
// what a user can choose as targets.
std::vector<std::string> target_choices(model::Transformer& m);

// What `apply` + `set_trainable` would do to a model of this config, computed from shapes alone
// (no model is built): the counts, the adapted module names and the target choices. Throws the
// same InputError as `apply` for a target that matches nothing.
struct Plan {
  ParameterCount count;
  std::vector<std::string> adapted_modules;
  std::vector<std::string> target_choices;
};
Plan plan(const model::LlamaConfig& config, const LoraSpec& spec, TrainMode mode);

}  // namespace deeptune::lora
