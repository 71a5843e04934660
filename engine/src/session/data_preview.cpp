// Token statistics and an example preview for the Data page (see deeptune/data_preview.h). The
// tokens come from example_tokens(), the function the trainer's encode() uses, and are cut the
// way encode() cuts them, so the preview is what training sees.
#include "deeptune/data_preview.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>

#include "data/example_tokens.h"
#include "deeptune/error.h"
#include "deeptune/store.h"
#include "deeptune/text.h"
#include "session/session_internal.h"
#include "tokenize/chat_template.h"

namespace deeptune {
namespace {

// A registered dataset read and mapped as a run would read it, with the model's tokenizer.
struct LoadedDataset {
  std::vector<Example> examples;
  MappingKind kind = MappingKind::kText;
  Split split;
  std::unique_ptr<Tokenizer> tokenizer;
  chat::ChatFormat chat;
  bool chat_used = false;
};

LoadedDataset load(const std::string& project_path, const std::string& name,
                   const RunConfig& config) {
  auto store = ProjectStore::open(project_path);
  const auto record = store->find_dataset(name);
  if (!record) throw InputError("data.dataset", "no dataset named '" + name + "' in the project");
  FieldMapping mapping;
  try {
    mapping = FieldMapping::from_json(nlohmann::json::parse(record->mapping_json));
  } catch (const nlohmann::json::exception& e) {
    throw InputError("dataset " + record->name,
                     std::string("stored field mapping is not valid JSON: ") + e.what());
  }
  LoadedDataset d;
  const std::string path = store->resolve(record->path);
  d.examples =
      map_examples(read_table(path, data_format_from_string(record->format)), mapping, path);
  d.kind = mapping.kind();
  d.split = split_indices(d.examples.size(), config.data.val_fraction, config.seed);
  d.tokenizer = detail::start_tokenizer(*store, config, std::nullopt);
  if (d.kind == MappingKind::kMessages) {
    d.chat = chat::resolve_chat_format(config.data.chat_template, d.tokenizer->chat_template());
    d.chat_used = true;
  }
  return d;
}

// A token as people read it: its decoded text (" the" rather than the vocabulary's "Ġthe") when
// that is whole text, else the vocabulary's spelling: specials, which decoding drops ("<bos>",
// "<|im_end|>"), and pieces of a character ("<0xC3>").
std::string token_label(const Tokenizer& tok, int32_t id) {
  constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD: a byte-level piece cut off
  const std::string text = tok.decode({id});
  if (!text.empty() && is_valid_utf8(text) && text.find(kReplacement) == std::string::npos)
    return text;
  const std::string spelled = tok.token_text(id);
  return spelled.empty() ? "<" + std::to_string(id) + ">" : spelled;
}

}  // namespace

TokenStats dataset_token_stats(const std::string& project_path, const std::string& dataset,
                               const RunConfig& config, int bins) {
  const LoadedDataset d = load(project_path, dataset, config);
  TokenStats t;
  t.stats = compute_stats(d.examples, d.split, *d.tokenizer, config.data.max_length, bins,
                          config.data.chat_template);
  t.max_length = config.data.max_length;
  t.truncated_share =
      t.stats.rows ? static_cast<double>(t.stats.truncated) / static_cast<double>(t.stats.rows) : 0;
  t.tokenizer = d.tokenizer->kind();
  if (d.chat_used) {
    t.chat_family = chat::display_name(d.chat.family);
    t.chat_note = d.chat.note;
  }
  return t;
}

ExamplePreview preview_example(const std::string& project_path, const std::string& dataset,
                               const RunConfig& config, size_t row) {
  const LoadedDataset d = load(project_path, dataset, config);
  if (row >= d.examples.size())
    throw InputError("row", "row " + std::to_string(row + 1) + " asked for; the dataset has " +
                                std::to_string(d.examples.size()));
  const Example& e = d.examples[row];
  ExampleTokens x = example_tokens(e, *d.tokenizer, d.chat);
  ExamplePreview p;
  p.row = row;
  p.rows = d.examples.size();
  p.source_line = e.source_line;
  p.validation = std::binary_search(d.split.val.begin(), d.split.val.end(), row);
  p.full_length = x.ids.size();
  // As train::encode: nothing predicts the first token, and the sequence stops at max_length.
  if (!x.trained.empty()) x.trained[0] = 0;
  const size_t keep = std::min(x.ids.size(), static_cast<size_t>(config.data.max_length));
  p.truncated = keep < x.ids.size();
  p.ids.assign(x.ids.begin(), x.ids.begin() + static_cast<std::ptrdiff_t>(keep));
  p.loss_mask.assign(x.trained.begin(), x.trained.begin() + static_cast<std::ptrdiff_t>(keep));
  for (int32_t id : p.ids) p.tokens.push_back(token_label(*d.tokenizer, id));
  if (config.model.task == Task::kClassification) {
    std::fill(p.loss_mask.begin(), p.loss_mask.end(), 0);
    p.label = e.label;
  }
  if (d.chat_used) {
    p.chat_family = chat::display_name(d.chat.family);
    p.chat_note = d.chat.note;
  }
  return p;
}

}  // namespace deeptune
