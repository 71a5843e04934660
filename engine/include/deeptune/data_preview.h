// The Data page's view of a registered dataset under the model a config starts from: token
// counts with that model's tokenizer (histogram, share cut at data.max_length) and one example
// exactly as the trainer will feed it, with the tokens its loss covers. Torch-free header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "deeptune/config.h"
#include "deeptune/data.h"

namespace deeptune {

struct TokenStats {
  DatasetStats stats;            // token_lengths, min/max/mean, truncated (at max_length)
  int max_length = 0;            // config.data.max_length
  double truncated_share = 0.0;  // stats.truncated / stats.rows, in [0, 1]
  std::string tokenizer;         // kind of the model's tokenizer ("byte", "hf")
  std::string chat_family;       // messages datasets: the family used ("ChatML (Qwen)"), else ""
  std::string chat_note;         // how that family was chosen (as the run log will say it)
};

// `dataset` names a dataset registered in the project; the split, tokenizer, max_length and
// chat family are `config`'s. Throws InputError naming the dataset, file:line or key at fault.
TokenStats dataset_token_stats(const std::string& project_path, const std::string& dataset,
                               const RunConfig& config, int bins = 20);

struct ExamplePreview {
  size_t row = 0;                   // 0-based row of the dataset
  size_t rows = 0;                  // rows in the dataset
  size_t source_line = 0;           // its line (or JSON item) in the file
  bool validation = false;          // held out for validation by the config's split
  std::vector<int32_t> ids;         // what the model sees, after truncation
  std::vector<std::string> tokens;  // each id's text (specials spelled out, e.g. "<|im_end|>")
  std::vector<uint8_t> loss_mask;   // 1 where the token is a prediction target
  size_t full_length = 0;           // tokens before truncation
  bool truncated = false;           // full_length > max_length
  std::string label;                // classification: the class the loss is taken on
  std::string chat_family;          // as in TokenStats
  std::string chat_note;
};

// Row `row` (0-based) of `dataset`. Throws InputError("row", ...) when out of range.
ExamplePreview preview_example(const std::string& project_path, const std::string& dataset,
                               const RunConfig& config, size_t row);

}  // namespace deeptune
