// Hugging Face checkpoint folders for our models: config.json + model.safetensors, plus
// deeptune_tokenizer.json describing the tokenizer of models built from scratch.
#pragma once

#include <memory>
#include <string>

#include "deeptune/tokenizer.h"
#include "model/llama.h"

namespace deeptune::hf {

// Writes the base weights (LoRA adapters excluded; merged into the weights if merged) in fp32,
// each file durably and atomically. Returns the SHA-256 of model.safetensors.
std::string save(const std::string& dir, model::Transformer& m, const Tokenizer& tokenizer);
model::LlamaConfig read_config(const std::string& dir);
// Strict: every base parameter must be present with its shape; unknown tensors are refused.
// When `sha256` is not empty, model.safetensors must hash to it (checked on the bytes as read):
// a changed base is refused, naming the file. Throws InputError("<file>: tensor '<name>'", ...).
void load_weights(model::Transformer& m, const std::string& dir, const std::string& sha256 = "");
std::unique_ptr<Tokenizer> read_tokenizer(const std::string& dir);

}  // namespace deeptune::hf
