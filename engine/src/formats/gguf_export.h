// Our models as GGUF files for llama.cpp / Ollama, and back: the tensor names and layouts of
// llama.cpp's `llama`, `qwen2` and `qwen3` architectures (FORMATS.md), the tokenizer as
// llama.cpp's `gpt2` (byte-level BPE) or `llama` (SentencePiece-style) vocabulary, and the checks
// the export runs on what it wrote: the file's metadata read back into a model config, every
// tensor dequantised against the weight it came from, the vocabulary against the tokenizer.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "deeptune/gguf.h"
#include "deeptune/session.h"
#include "deeptune/tokenizer.h"
#include "model/llama.h"

namespace deeptune::gguf_export {

// Where the model came from, for general.* and deeptune.* metadata.
struct Provenance {
  std::string name;        // general.name: the run's name
  std::string base_model;  // the base's hub id or folder name; a preset's name
  std::string run;
  int64_t step = 0;
  nlohmann::json lora;  // {"r", "alpha", "targets", "rslora"}; null for a full fine-tune
};

// llama.cpp's architecture for a config: "llama" (Llama, Mistral), "qwen2", "qwen3". InputError
// for what llama.cpp would not run the same way (classifiers, YaRN RoPE, temperature attention).
std::string architecture_of(const model::LlamaConfig& c);

// Writes `m` (adapters merged; any dtype or device) to `path`: 2-D weights as `quant` (Q8_0 falls
// back to F16 for rows not a multiple of 32, as llama.cpp's converter does), 1-D tensors as F32.
// `progress(written, total)` is called after the header and every few MB; it may throw to cancel
// (the temp file is removed). Returns the file's size.
uint64_t write_model(const std::string& path, model::Transformer& m, const Tokenizer& tok,
                     const Provenance& provenance, GgufQuant quant,
                     const std::function<void(uint64_t, uint64_t)>& progress);

// The model config a GGUF file's metadata and tensors describe, read back as from a stranger's
// file. `expected` supplies only what llama.cpp keeps as a tensor (llama3 RoPE factors, checked
// against rope_freqs.weight) and what GGUF has no key for (the eos id list, max positions).
// Mismatches against `expected` are appended to `failures`.
model::LlamaConfig read_config(const gguf::GgufFile& f, const model::LlamaConfig& expected,
                               std::vector<std::string>* failures);
// A fp32 CPU model with the file's weights, dequantised and with the q/k permutation undone.
model::Transformer read_model(const gguf::GgufFile& f, const model::LlamaConfig& config);

// Every tensor dequantised against `m`'s weight (merged; compared in fp32): max |error| and the
// bound its type guarantees (Q8_0: per block, from q8_0_block_error_bound; F16/BF16: half an ulp
// of the largest value; F32: 0). A tensor over its bound is a failure.
void check_weights(const gguf::GgufFile& f, model::Transformer& m, ExportCheck* check);
// The vocabulary (tokens, types, merges, special ids, chat template) against `tok`.
void check_tokenizer(const gguf::GgufFile& f, const Tokenizer& tok, ExportCheck* check);

}  // namespace deeptune::gguf_export
