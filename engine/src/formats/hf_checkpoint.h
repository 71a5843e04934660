// Hugging Face checkpoint folders for our models: config.json + model.safetensors, plus
// deeptune_tokenizer.json describing the tokenizer of models built from scratch.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "deeptune/tokenizer.h"
#include "model/llama.h"

namespace deeptune::hf {

// Writes the base weights (LoRA adapters excluded; merged into the weights if merged) in fp32,
// each file durably and atomically. Returns the SHA-256 of model.safetensors.
// `torch_dtype` ("float32", "bfloat16", "float16") is the dtype the weights are written in.
// The weights go out a tensor at a time (no second copy of the model); `progress` hears the bytes
// of model.safetensors written so far and its size after the header and after each tensor.
using SaveProgress = std::function<void(uint64_t written, uint64_t total)>;
std::string save(const std::string& dir, model::Transformer& m, const Tokenizer& tokenizer,
                 const std::string& torch_dtype = "float32", const SaveProgress& progress = {});
model::LlamaConfig read_config(const std::string& dir);
// Strict: every base parameter must be present with its shape; unknown tensors are refused.
// When `sha256` is not empty, model.safetensors must hash to it (checked on the bytes as read):
// a changed base is refused, naming the file. Throws InputError("<file>: tensor '<name>'", ...).
void load_weights(model::Transformer& m, const std::string& dir, const std::string& sha256 = "");
std::unique_ptr<Tokenizer> read_tokenizer(const std::string& dir);

// A Hugging Face model folder's weights (one or sharded safetensors, memory-mapped) into `m`, built
// from the folder's config.json: each tensor converted on the way into the parameter's dtype and
// device, one at a time, so loading needs no second copy of the model. Every base parameter of
// `m` must be in the files with its shape, except `score.*` (a classification head the base does
// not have); a tensor `m` has no parameter for is refused, naming the file and the tensor.
// Returns the names of the parameters the files did not provide (left as they were).
std::vector<std::string> load_pretrained(model::Transformer& m, const std::string& dir);

}  // namespace deeptune::hf
