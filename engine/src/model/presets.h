// Named model sizes for models built from scratch ("preset:NAME"), from a few hundred thousand
// parameters (trains in seconds on a laptop CPU) up to TinyLlama-1.1B's shape.
#pragma once

#include <string>
#include <vector>

#include "model/llama.h"

namespace deeptune::model {

struct Preset {
  std::string name;
  std::string description;
  LlamaConfig config;  // vocabulary and special ids are replaced by the tokenizer's
};

const std::vector<Preset>& presets();
// Throws InputError("model.source", ...) listing the known names when `name` is unknown.
const Preset& find_preset(const std::string& name);

}  // namespace deeptune::model
