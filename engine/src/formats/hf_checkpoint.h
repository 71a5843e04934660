// Hugging Face checkpoint folders for our models: config.json + model.safetensors, plus
// deeptune_tokenizer.json describing the tokenizer of models built from scratch.
#pragma once

#include <memory>
#include <string>

#include "deeptune/tokenizer.h"
#include "model/llama.h"

namespace deeptune::hf {

// Writes the base weights (LoRA adapters excluded; merged into the weights if merged) in fp32.
void save(const std::string& dir, model::Transformer& m, const Tokenizer& tokenizer);
model::LlamaConfig read_config(const std::string& dir);
// Strict: every base parameter must be present with its shape; unknown tensors are refused.
// Throws InputError("<file>: tensor '<name>'", ...).
void load_weights(model::Transformer& m, const std::string& dir);
std::unique_ptr<Tokenizer> read_tokenizer(const std::string& dir);

}  // namespace deeptune::hf
