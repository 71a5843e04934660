// Tables become training examples: field mapping, a train/validation split that is identical on
// every platform, and the statistics the Data page shows (lengths, label balance, drift).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <initializer_list>
#include <numeric>
#include <sstream>
#include <string_view>

#include "core/splitmix64.h"
#include "data/example_tokens.h"
#include "deeptune/data.h"
#include "deeptune/error.h"
#include "text_util.h"
#include "tokenize/chat_template.h"

namespace deeptune {
namespace {

using text_util::is_blank;

constexpr const char* kMappingWhere = "field mapping";

std::string at_source(const std::string& path, const Table& table, size_t row) {
  const size_t source = row < table.source_lines.size() ? table.source_lines[row] : row + 1;
  return table.source_lines_are_items ? path + ": item " + std::to_string(source)
                                      : path + ":" + std::to_string(source);
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? separator : "") + items[i];
  return out;
}

// The first column (in the order of `names`, case-insensitively) that exists; "" when none does.
std::string find_column(const std::vector<std::string>& columns,
                        std::initializer_list<const char*> names) {
  for (const char* name : names)
    for (const std::string& column : columns)
      if (lowercase(column) == name) return column;
  return "";
}

// Total-variation distance between two count vectors over the same categories, as shares.
double total_variation(const std::vector<size_t>& p, const std::vector<size_t>& q) {
  const double p_total = std::accumulate(p.begin(), p.end(), 0.0);
  const double q_total = std::accumulate(q.begin(), q.end(), 0.0);
  if (p_total == 0.0 || q_total == 0.0) return 0.0;
  double sum = 0.0;
  for (size_t i = 0; i < p.size(); ++i) sum += std::abs(p[i] / p_total - q[i] / q_total);
  return 0.5 * sum;
}

// A messages cell: the JSON text of a list (JSON/JSONL readers write lists so; a CSV cell may
// hold the same text).
std::vector<ChatMessage> messages_of(const std::string& cell, const std::string& where,
                                     const std::string& column) {
  const nlohmann::json value = nlohmann::json::parse(cell, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded())
    throw InputError(where, "column '" + column +
                                "' must hold a list of {\"role\", \"content\"} messages; found "
                                "text that is not JSON");
  return chat::parse_messages(value, where);
}

}  // namespace

MappingKind FieldMapping::kind() const {
  const bool t = !text.empty(), p = !prompt.empty(), r = !response.empty(), l = !label.empty(),
             m = !messages.empty();
  if (t && l && !p && !r && !m) return MappingKind::kTextLabel;
  if (p && r && !t && !l && !m) return MappingKind::kPromptResponse;
  if (t && !p && !r && !l && !m) return MappingKind::kText;
  if (m && !t && !p && !r && !l) return MappingKind::kMessages;
  std::vector<std::string> set;
  if (t) set.push_back("text");
  if (p) set.push_back("prompt");
  if (r) set.push_back("response");
  if (l) set.push_back("label");
  if (m) set.push_back("messages");
  throw InputError(kMappingWhere,
                   "map text alone, text and label, prompt and response, or messages alone "
                   "(mapped now: " +
                       (set.empty() ? std::string("nothing") : join(set, ", ")) + ")");
}

nlohmann::json FieldMapping::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  if (!text.empty()) j["text"] = text;
  if (!prompt.empty()) j["prompt"] = prompt;
  if (!response.empty()) j["response"] = response;
  if (!label.empty()) j["label"] = label;
  if (!messages.empty()) j["messages"] = messages;
  return j;
}

FieldMapping FieldMapping::from_json(const nlohmann::json& j) {
  if (!j.is_object())
    throw InputError(kMappingWhere, std::string("expected an object, found ") + j.type_name());
  FieldMapping mapping;
  for (const auto& item : j.items()) {
    std::string* target = item.key() == "text"       ? &mapping.text
                          : item.key() == "prompt"   ? &mapping.prompt
                          : item.key() == "response" ? &mapping.response
                          : item.key() == "label"    ? &mapping.label
                          : item.key() == "messages" ? &mapping.messages
                                                     : nullptr;
    if (target == nullptr)
      throw InputError(kMappingWhere, "unknown key '" + item.key() +
                                          "'; expected text, prompt, response, label or messages");
    if (!item.value().is_string())
      throw InputError(kMappingWhere, "'" + item.key() + "' must be a column name (a string)");
    *target = item.value().get<std::string>();
  }
  return mapping;
}

FieldMapping guess_mapping(const std::vector<std::string>& columns) {
  if (columns.empty()) throw InputError(kMappingWhere, "the dataset has no columns");
  FieldMapping mapping;
  // A conversation column says more about the data than any other.
  mapping.messages = find_column(columns, {"messages", "conversations", "conversation"});
  if (!mapping.messages.empty()) return mapping;
  const std::string prompt = find_column(columns, {"prompt", "instruction", "question", "input"});
  const std::string response = find_column(columns, {"response", "output", "answer", "completion"});
  if (!prompt.empty() && !response.empty()) {
    mapping.prompt = prompt;
    mapping.response = response;
    return mapping;
  }
  const std::string text = find_column(columns, {"text", "sentence", "content"});
  const std::string label = find_column(columns, {"label", "class", "category"});
  mapping.text = text.empty() ? columns.front() : text;
  if (!text.empty() && !label.empty()) mapping.label = label;
  return mapping;
}

std::vector<Example> map_examples(const Table& table, const FieldMapping& mapping,
                                  const std::string& path) {
  struct Field {
    const char* role;
    const std::string* column;
    std::string Example::*member;
    size_t index = 0;
  };
  const MappingKind kind = mapping.kind();
  std::vector<Field> fields;
  if (kind == MappingKind::kPromptResponse) {
    fields.push_back({"prompt", &mapping.prompt, &Example::prompt});
    fields.push_back({"response", &mapping.response, &Example::response});
  } else if (kind == MappingKind::kMessages) {
    fields.push_back({"messages", &mapping.messages, nullptr});
  } else {
    fields.push_back({"text", &mapping.text, &Example::text});
    if (kind == MappingKind::kTextLabel)
      fields.push_back({"label", &mapping.label, &Example::label});
  }
  for (Field& field : fields) {
    const auto it = std::find(table.columns.begin(), table.columns.end(), *field.column);
    if (it == table.columns.end())
      throw InputError(path, "column '" + *field.column +
                                 "' not found; columns are: " + join(table.columns, ", "));
    field.index = static_cast<size_t>(it - table.columns.begin());
  }

  std::vector<Example> examples;
  examples.reserve(table.rows.size());
  for (size_t r = 0; r < table.rows.size(); ++r) {
    const std::vector<std::string>& row = table.rows[r];
    Example example;
    example.source_line = r < table.source_lines.size() ? table.source_lines[r] : r + 1;
    for (const Field& field : fields) {
      const std::string& cell = field.index < row.size() ? row[field.index] : std::string();
      if (is_blank(cell))
        throw InputError(at_source(path, table, r),
                         std::string("empty ") + field.role + " (column '" + *field.column + "')");
      if (field.member)
        example.*field.member = cell;
      else
        example.messages = messages_of(cell, at_source(path, table, r), *field.column);
    }
    examples.push_back(std::move(example));
  }
  return examples;
}

Split split_indices(size_t n, double val_fraction, uint64_t seed) {
  if (!(val_fraction >= 0.0 && val_fraction < 1.0)) {
    std::ostringstream value;
    value << val_fraction;
    throw InputError("validation fraction", "must be in [0, 1), got " + value.str());
  }
  size_t val_count = static_cast<size_t>(std::llround(static_cast<double>(n) * val_fraction));
  // Training needs at least one row, so a fraction that rounds to "everything" leaves one behind.
  if (n < 2)
    val_count = 0;
  else if (val_fraction > 0.0)
    val_count = std::clamp<size_t>(val_count, 1, n - 1);

  // The first val_count positions of a seeded permutation form the validation set.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  SplitMix64(seed).shuffle(order);

  Split split;
  split.val.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(val_count));
  split.train.assign(order.begin() + static_cast<std::ptrdiff_t>(val_count), order.end());
  std::sort(split.val.begin(), split.val.end());
  std::sort(split.train.begin(), split.train.end());
  return split;
}

DatasetStats compute_stats(const std::vector<Example>& examples, const Split& split,
                           const Tokenizer& tokenizer, int max_length, int bins,
                           ChatTemplate chat) {
  if (bins < 1) throw InputError("stats", "bins must be at least 1, got " + std::to_string(bins));
  for (const std::vector<size_t>* part : {&split.train, &split.val})
    for (size_t index : *part)
      if (index >= examples.size())
        throw InputError("split", "index " + std::to_string(index) + " is out of range for " +
                                      std::to_string(examples.size()) + " examples");

  DatasetStats stats;
  stats.rows = examples.size();
  stats.train_rows = split.train.size();
  stats.val_rows = split.val.size();
  if (examples.empty()) return stats;

  const bool any_messages = std::any_of(examples.begin(), examples.end(),
                                        [](const Example& e) { return !e.messages.empty(); });
  const chat::ChatFormat format =
      any_messages ? chat::resolve_chat_format(chat, tokenizer.chat_template())
                   : chat::ChatFormat{};
  std::vector<size_t> lengths;
  lengths.reserve(examples.size());
  for (const Example& example : examples)
    lengths.push_back(example_tokens(example, tokenizer, format).ids.size());
  const auto [min_it, max_it] = std::minmax_element(lengths.begin(), lengths.end());
  stats.min_tokens = *min_it;
  stats.max_tokens = *max_it;
  stats.mean_tokens =
      std::accumulate(lengths.begin(), lengths.end(), 0.0) / static_cast<double>(lengths.size());
  if (max_length > 0)
    stats.truncated =
        static_cast<size_t>(std::count_if(lengths.begin(), lengths.end(), [&](size_t length) {
          return length > static_cast<size_t>(max_length);
        }));

  // Equal-width bins over [min, max], the last one closed; integer arithmetic for the bin index
  // so a length on an edge lands in the same bin everywhere.
  const size_t span = stats.max_tokens - stats.min_tokens;
  const size_t bin_count = span == 0 ? 1 : static_cast<size_t>(bins);
  Histogram& histogram = stats.token_lengths;
  for (size_t b = 0; b <= bin_count; ++b)
    histogram.edges.push_back(static_cast<double>(stats.min_tokens) +
                              static_cast<double>(span) * static_cast<double>(b) /
                                  static_cast<double>(bin_count));
  const auto bin_of = [&](size_t length) {
    return span == 0 ? 0 : std::min((length - stats.min_tokens) * bin_count / span, bin_count - 1);
  };
  histogram.counts.assign(bin_count, 0);
  for (size_t length : lengths) ++histogram.counts[bin_of(length)];

  std::vector<size_t> train_bins(bin_count, 0), val_bins(bin_count, 0);
  for (size_t index : split.train) ++train_bins[bin_of(lengths[index])];
  for (size_t index : split.val) ++val_bins[bin_of(lengths[index])];
  stats.length_drift = total_variation(train_bins, val_bins);
  stats.train_length_counts = train_bins;
  stats.val_length_counts = val_bins;

  for (const Example& example : examples)
    if (!example.label.empty()) ++stats.label_counts[example.label];
  if (!stats.label_counts.empty()) {
    std::map<std::string, size_t> slot;
    for (const auto& [label, count] : stats.label_counts) slot.emplace(label, slot.size());
    std::vector<size_t> train_labels(slot.size(), 0), val_labels(slot.size(), 0);
    for (size_t index : split.train)
      if (!examples[index].label.empty()) ++train_labels[slot.at(examples[index].label)];
    for (size_t index : split.val)
      if (!examples[index].label.empty()) ++val_labels[slot.at(examples[index].label)];
    stats.label_drift = total_variation(train_labels, val_labels);
    for (const auto& [label, index] : slot) {
      stats.train_label_counts[label] = train_labels[index];
      stats.val_label_counts[label] = val_labels[index];
    }
  }
  return stats;
}

nlohmann::json DatasetStats::to_json() const {
  return {{"rows", rows},
          {"train_rows", train_rows},
          {"val_rows", val_rows},
          {"token_lengths", {{"edges", token_lengths.edges}, {"counts", token_lengths.counts}}},
          {"min_tokens", min_tokens},
          {"max_tokens", max_tokens},
          {"mean_tokens", mean_tokens},
          {"truncated", truncated},
          {"label_counts", nlohmann::json(label_counts)},
          {"length_drift", length_drift},
          {"label_drift", label_drift},
          {"train_length_counts", train_length_counts},
          {"val_length_counts", val_length_counts},
          {"train_label_counts", nlohmann::json(train_label_counts)},
          {"val_label_counts", nlohmann::json(val_label_counts)}};
}

DatasetStats DatasetStats::from_json(const nlohmann::json& j) {
  DatasetStats s;
  if (!j.is_object()) return s;
  // The document comes back from a project file, which may be damaged: a value of the wrong type
  // is an InputError naming its key, never a raw nlohmann exception.
  const auto get = [](const nlohmann::json& parent, const std::string& key, auto& out) {
    const auto it = parent.find(key.substr(key.rfind('.') + 1));
    if (it == parent.end() || it->is_null()) return;
    try {
      it->get_to(out);
    } catch (const nlohmann::json::exception&) {
      throw InputError("dataset statistics: " + key,
                       "unexpected value " + it->dump().substr(0, 60));
    }
  };
  get(j, "rows", s.rows);
  get(j, "train_rows", s.train_rows);
  get(j, "val_rows", s.val_rows);
  if (const auto lengths = j.find("token_lengths"); lengths != j.end() && !lengths->is_null()) {
    if (!lengths->is_object())
      throw InputError("dataset statistics: token_lengths", "expected an object");
    get(*lengths, "token_lengths.edges", s.token_lengths.edges);
    get(*lengths, "token_lengths.counts", s.token_lengths.counts);
    // Readers index edges by bin: a histogram is n counts between n + 1 edges, or nothing.
    if (s.token_lengths.edges.size() != s.token_lengths.counts.size() + 1 &&
        !(s.token_lengths.edges.empty() && s.token_lengths.counts.empty()))
      throw InputError("dataset statistics: token_lengths",
                       std::to_string(s.token_lengths.counts.size()) + " counts but " +
                           std::to_string(s.token_lengths.edges.size()) + " edges");
  }
  get(j, "min_tokens", s.min_tokens);
  get(j, "max_tokens", s.max_tokens);
  get(j, "mean_tokens", s.mean_tokens);
  get(j, "truncated", s.truncated);
  get(j, "label_counts", s.label_counts);
  get(j, "length_drift", s.length_drift);
  get(j, "label_drift", s.label_drift);
  get(j, "train_length_counts", s.train_length_counts);
  get(j, "val_length_counts", s.val_length_counts);
  get(j, "train_label_counts", s.train_label_counts);
  get(j, "val_label_counts", s.val_label_counts);
  return s;
}

double drift_threshold(size_t val_rows, size_t categories) {
  if (val_rows == 0) return 1.0;  // nothing to compare against
  constexpr double kPi = 3.14159265358979323846;
  const double chance = std::sqrt(static_cast<double>(std::max<size_t>(categories, 1)) /
                                  (2.0 * kPi * static_cast<double>(val_rows)));
  return std::max(0.1, 2.0 * chance);
}

}  // namespace deeptune
