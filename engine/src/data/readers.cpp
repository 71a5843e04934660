// Dataset readers: JSONL, JSON (array of objects), CSV (RFC 4180) and plain text into a Table.
// Strict about encoding and structure, so a bad file fails here with its line named instead of
// turning into silently wrong training examples.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/enum_names.h"
#include "deeptune/data.h"
#include "deeptune/error.h"
#include "text_util.h"

namespace deeptune {
namespace {

// Shared with the row cursor, which must accept and reject the same bytes.
using namespace text_util;

std::string read_all(const std::string& path) {
  std::ifstream in = open_or_throw(path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) throw InputError(path, "read error");
  return bytes.str();
}

// Calls f(line_number, line) for each line, without its "\n" or "\r\n".
template <typename F>
void for_each_line(std::string_view s, F&& f) {
  size_t line = 1;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view text = s.substr(start, end - start);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    f(line, text);
    start = end + 1;
    ++line;
  }
}

// Builds a table from JSON objects: columns are the union of keys in first-seen order, and a
// key missing from a row leaves an empty cell (map_examples reports it if the column is mapped).
class ObjectRows {
 public:
  void add(const OrderedJson& object, size_t source, const std::string& where) {
    std::vector<std::string> row(table_.columns.size());
    for (const auto& item : object.items()) {
      const auto [it, inserted] = column_index_.emplace(item.key(), table_.columns.size());
      if (inserted) {
        table_.columns.push_back(item.key());
        row.resize(table_.columns.size());
      }
      row[it->second] = cell_text(item.value(), where, item.key());
    }
    table_.rows.push_back(std::move(row));
    table_.source_lines.push_back(source);
  }

  Table finish() {
    for (auto& row : table_.rows) row.resize(table_.columns.size());
    return std::move(table_);
  }

 private:
  Table table_;
  std::unordered_map<std::string, size_t> column_index_;
};

Table read_jsonl(std::string_view bytes, const std::string& path) {
  ObjectRows rows;
  bool any = false;
  for_each_line(bytes, [&](size_t line, std::string_view text) {
    if (is_blank(text)) return;
    const OrderedJson value = parse_jsonl_object(text, path, line);
    rows.add(value, line, at_line(path, line));
    any = true;
  });
  if (!any) throw InputError(path, "no data rows: the file has only blank lines");
  Table table = rows.finish();
  if (table.columns.empty()) throw InputError(path, "no columns: every object is empty");
  return table;
}

Table read_json(std::string_view bytes, const std::string& path) {
  const OrderedJson document = parse_ordered_json(bytes, path);
  if (!document.is_array())
    throw InputError(path, "the top level must be an array of objects, found " +
                               json_type_phrase(document) +
                               " (one object per line is JSON Lines: use the .jsonl extension)");
  if (document.empty()) throw InputError(path, "no data rows: the array is empty");
  ObjectRows rows;
  for (size_t i = 0; i < document.size(); ++i) {
    const std::string where = at_item(path, i + 1);
    if (!document[i].is_object())
      throw InputError(where, "expected an object, found " + json_type_phrase(document[i]));
    rows.add(document[i], i + 1, where);
  }
  Table table = rows.finish();
  table.source_lines_are_items = true;
  if (table.columns.empty()) throw InputError(path, "no columns: every object is empty");
  return table;
}

// RFC 4180 as parse_csv_record reads it; blank lines skipped.
Table read_csv(std::string_view s, const std::string& path, char delimiter) {
  std::vector<CsvRecord> records;
  std::vector<size_t> record_lines;
  size_t line = 1;
  size_t i = 0;
  while (i < s.size()) {
    const size_t record_line = line;
    CsvRecord record = parse_csv_record(s, i, line, path, delimiter);
    if (record.blank()) continue;
    records.push_back(std::move(record));
    record_lines.push_back(record_line);
  }
  if (records.empty()) throw InputError(path, "no header row: the file has only blank lines");

  Table table;
  table.columns = csv_header_columns(records[0].fields, at_line(path, record_lines[0]));
  for (size_t r = 1; r < records.size(); ++r) {
    check_csv_row(records[r], table.columns.size(), at_line(path, record_lines[r]));
    table.rows.push_back(std::move(records[r].fields));
    table.source_lines.push_back(record_lines[r]);
  }
  if (table.rows.empty()) throw InputError(path, "no data rows: the file has only a header row");
  return table;
}

Table read_text(std::string_view bytes, const std::string& path) {
  Table table;
  table.columns = {"text"};
  for_each_line(bytes, [&](size_t line, std::string_view text) {
    if (is_blank(text)) return;
    table.rows.push_back({std::string(text)});
    table.source_lines.push_back(line);
  });
  if (table.rows.empty()) throw InputError(path, "no data rows: the file has only blank lines");
  return table;
}

// A first line that reads like a CSV header: at least two short names made of word characters,
// and a next line with at least as many delimiters (quoted commas may add more, never fewer).
bool looks_like_csv(std::string_view head) {
  std::vector<std::string_view> lines;
  for_each_line(head, [&](size_t, std::string_view text) {
    if (lines.size() < 2 && !is_blank(text)) lines.push_back(text);
  });
  if (lines.empty()) return false;
  const auto commas = [](std::string_view line) {
    return std::count(line.begin(), line.end(), ',');
  };
  if (commas(lines[0]) == 0) return false;
  std::string_view rest = lines[0];
  for (;;) {
    const size_t comma = rest.find(',');
    std::string_view name = trim(rest.substr(0, comma));
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"')
      name = name.substr(1, name.size() - 2);
    if (name.size() > 64) return false;
    for (unsigned char c : name)
      if (!(std::isalnum(c) || c == '_' || c == '-' || c == ' ' || c >= 0x80)) return false;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return lines.size() < 2 || commas(lines[1]) >= commas(lines[0]);
}

constexpr EnumName<DataFormat> kFormatNames[] = {{DataFormat::kJsonl, "jsonl"},
                                                 {DataFormat::kJson, "json"},
                                                 {DataFormat::kCsv, "csv"},
                                                 {DataFormat::kText, "txt"}};

}  // namespace

std::string to_string(DataFormat f) {
  return name_of(kFormatNames, f);
}

DataFormat data_format_from_string(const std::string& s) {
  if (const auto format = value_of(kFormatNames, s)) return *format;
  throw InputError("data format",
                   "unknown format '" + s + "'; expected " + names_text(kFormatNames));
}

DataFormat detect_format(const std::string& path) {
  std::ifstream in = open_or_throw(path);
  const std::string ext = lowercase_extension(path);
  if (ext == ".jsonl" || ext == ".ndjson") return DataFormat::kJsonl;
  if (ext == ".json") return DataFormat::kJson;
  if (ext == ".csv" || ext == ".tsv") return DataFormat::kCsv;
  if (ext == ".txt" || ext == ".text" || ext == ".md") return DataFormat::kText;

  // 64 KiB holds the first lines of any sensible dataset.
  std::string head(64 * 1024, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  std::string_view view = head;
  if (starts_with(view, kUtf8Bom)) view.remove_prefix(kUtf8Bom.size());
  const size_t first = view.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && view[first] == '{') return DataFormat::kJsonl;
  if (first != std::string_view::npos && view[first] == '[') return DataFormat::kJson;
  return looks_like_csv(view) ? DataFormat::kCsv : DataFormat::kText;
}

Table read_table(const std::string& path, DataFormat format) {
  std::string bytes = read_all(path);
  if (bytes.empty()) throw InputError(path, "the file is empty");
  reject_utf16(bytes, path);
  std::string_view content = bytes;
  if (starts_with(content, kUtf8Bom)) content.remove_prefix(kUtf8Bom.size());
  validate_text(content, path);
  switch (format) {
    case DataFormat::kJsonl:
      return read_jsonl(content, path);
    case DataFormat::kJson:
      return read_json(content, path);
    case DataFormat::kCsv:
      return read_csv(content, path, csv_delimiter(path));
    case DataFormat::kText:
      return read_text(content, path);
  }
  throw InputError(path, "unknown data format");
}

}  // namespace deeptune
