// Datasets: readers for JSONL, JSON (array of objects), CSV (header row, quoted fields) and plain
// text; field mapping onto training examples; deterministic train/validation split; statistics.
// Every reader error names the file and the line (or array index) at fault.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "deeptune/config.h"
#include "deeptune/tokenizer.h"

namespace deeptune {

enum class DataFormat { kJsonl, kJson, kCsv, kText };
std::string to_string(DataFormat f);                       // "jsonl", "json", "csv", "txt"
DataFormat data_format_from_string(const std::string& s);  // throws InputError naming the value
// From the extension (.jsonl/.ndjson, .json, .csv/.tsv?, .txt/.text/.md), else by sniffing the
// first bytes. Throws InputError when the file cannot be opened.
DataFormat detect_format(const std::string& path);

// A dataset as read: named columns, rows of cell strings (same width as columns). Non-string JSON
// scalars become their JSON text (7 -> "7", true -> "true"); null becomes "". Plain text gives
// one column "text" with one row per non-empty line. A JSON list of objects (chat messages) becomes
// its compact JSON text.
struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  std::vector<size_t> source_lines;  // 1-based line (JSONL/CSV/TXT) or array index (JSON) per row
  bool source_lines_are_items = false;  // JSON: messages then say "<path>: item N", not "<path>:N"
};

// Reads the whole file. Throws InputError("<path>:<line>", "...") on: missing/unreadable file,
// empty file (no rows), invalid UTF-8 (names the line), a JSONL line that is not a JSON object,
// JSON that is not an array of objects, nested arrays/objects as cell values (except a list of
// objects: chat messages), CSV unterminated quote (truncated file), CSV row with a different
// number of fields than the header.
Table read_table(const std::string& path, DataFormat format);

enum class MappingKind { kText, kPromptResponse, kTextLabel, kMessages };

// Which columns feed the model.
struct FieldMapping {
  std::string text;      // kText and kTextLabel
  std::string prompt;    // kPromptResponse
  std::string response;  // kPromptResponse (loss is taken on the response only)
  std::string label;     // kTextLabel
  std::string messages;  // kMessages: a list of {role, content} (loss on assistant turns only)

  // kTextLabel when text and label are set, kPromptResponse when prompt and response are set,
  // kText when only text is set, kMessages when only messages is set; anything else throws
  // InputError("field mapping", ...).
  MappingKind kind() const;
  nlohmann::json to_json() const;
  static FieldMapping from_json(const nlohmann::json& j);
};

// A good default from column names: messages (also conversations), prompt/response (also
// instruction/input/output, question/answer), text+label (also sentence/content +
// label/class/category), else text (else the first column). Throws InputError if there are no
// columns.
FieldMapping guess_mapping(const std::vector<std::string>& columns);

// One turn of a conversation; role is "system", "user" or "assistant" (ShareGPT's human and gpt
// are read as user and assistant).
struct ChatMessage {
  std::string role;
  std::string content;
};

struct Example {
  std::string text;                   // kText, kTextLabel
  std::string prompt;                 // kPromptResponse
  std::string response;               // kPromptResponse
  std::string label;                  // kTextLabel
  std::vector<ChatMessage> messages;  // kMessages
  size_t source_line = 0;
};

// Applies the mapping. Throws InputError("<path>", "column 'x' not found; columns are: a, b") when
// a mapped column is absent, and InputError("<path>:<line>", ...) when a row's mapped text is
// empty or its messages are malformed (not a JSON list, a message without role or content, an
// unknown role, a system message after the first, no assistant turn).
std::vector<Example> map_examples(const Table& table, const FieldMapping& mapping,
                                  const std::string& path);

// Deterministic split: the same (n, fraction, seed) always gives the same indices, on every
// platform (own PRNG, not std::shuffle). val gets round(n * fraction) rows, at least 1 when
// fraction > 0 and n >= 2; both lists are sorted ascending.
struct Split {
  std::vector<size_t> train;
  std::vector<size_t> val;
};
Split split_indices(size_t n, double val_fraction, uint64_t seed);

struct Histogram {
  std::vector<double> edges;  // bin edges, size = counts.size() + 1
  std::vector<size_t> counts;
};

struct DatasetStats {
  size_t rows = 0;
  size_t train_rows = 0;
  size_t val_rows = 0;
  Histogram token_lengths;  // of full examples (prompt+response or text), before truncation
  size_t min_tokens = 0, max_tokens = 0;
  double mean_tokens = 0.0;
  size_t truncated = 0;                        // examples longer than max_length
  std::map<std::string, size_t> label_counts;  // kTextLabel only
  // Distance between train and validation distributions: total-variation distance of the
  // token-length histograms (same bins) and, for labels, of the label shares. In [0, 1].
  double length_drift = 0.0;
  double label_drift = 0.0;
  // The two distributions the drift compares: per length bin (token_lengths' bins) and per label.
  std::vector<size_t> train_length_counts, val_length_counts;
  std::map<std::string, size_t> train_label_counts, val_label_counts;
  nlohmann::json to_json() const;
  // Reads to_json()'s document; keys missing from files written by older versions stay empty.
  // A value of the wrong type (a damaged project file) throws InputError("dataset statistics:
  // KEY", ...).
  static DatasetStats from_json(const nlohmann::json& j);
};

// The drift above which train and validation look different rather than merely sampled: the
// larger of 0.1 and twice the total-variation distance a random split of `val_rows` rows over
// `categories` occupied bins shows by chance (about sqrt(k / (2 pi m))), so small validation sets
// are not flagged for noise.
double drift_threshold(size_t val_rows, size_t categories);
// Token counts include the specials the trainer adds (BOS, and EOS for causal LM); messages are
// counted as rendered in the chat family `chat` resolves to with this tokenizer (InputError when
// it cannot be resolved, see data.chat_template).
DatasetStats compute_stats(const std::vector<Example>& examples, const Split& split,
                           const Tokenizer& tokenizer, int max_length, int bins = 20,
                           ChatTemplate chat = ChatTemplate::kAuto);

// Hex SHA-256 of a file's bytes (dataset identity recorded with each run).
std::string sha256_file(const std::string& path);
std::string sha256_bytes(const void* data, size_t size);

}  // namespace deeptune
