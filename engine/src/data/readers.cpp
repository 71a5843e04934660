// Dataset readers: JSONL, JSON (array of objects), CSV (RFC 4180) and plain text into a Table.
// Strict about encoding and structure, so a bad file fails here with its line named instead of
// turning into silently wrong training examples.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>

#include "deeptune/data.h"
#include "deeptune/error.h"

namespace deeptune {
namespace {

// Keeps object keys in file order, so the columns of a JSON/JSONL table follow the file.
using OrderedJson = nlohmann::ordered_json;

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
constexpr std::string_view kUtf16LeBom = "\xFF\xFE";
constexpr std::string_view kUtf16BeBom = "\xFE\xFF";

std::string at_line(const std::string& path, size_t line) {
  return path + ":" + std::to_string(line);
}

std::string at_item(const std::string& path, size_t item) {
  return path + ": item " + std::to_string(item);
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lowercase_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

// Opens for binary reading; a directory counts as "cannot open" (ifstream would accept it).
std::ifstream open_or_throw(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InputError(path, "cannot open file: it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open file");
  return in;
}

std::string read_all(const std::string& path) {
  std::ifstream in = open_or_throw(path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) throw InputError(path, "read error");
  return bytes.str();
}

void reject_utf16(std::string_view bytes, const std::string& path) {
  if (starts_with(bytes, kUtf16LeBom) || starts_with(bytes, kUtf16BeBom))
    throw InputError(path,
                     "the file is UTF-16 encoded (it starts with a UTF-16 byte-order mark); "
                     "save it as UTF-8");
  // Without a byte-order mark, UTF-16 text that starts with an ASCII character has exactly
  // one zero byte among its first two.
  if (bytes.size() >= 2 && (bytes[0] == '\0') != (bytes[1] == '\0'))
    throw InputError(path,
                     "the file looks UTF-16 encoded (zero bytes between characters); "
                     "save it as UTF-8");
}

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF, no
// truncated sequences. Names the line and byte column of the first offence.
void validate_utf8(std::string_view s, const std::string& path) {
  size_t line = 1;
  size_t line_start = 0;
  size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<unsigned char>(s[i]);
    if (lead < 0x80) {
      if (lead == '\n') {
        ++line;
        line_start = i + 1;
      }
      ++i;
      continue;
    }
    // Allowed range of the second byte; narrowed for the leads where the full range would allow
    // an overlong form (E0, F0), a surrogate (ED) or a code point above U+10FFFF (F4).
    size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;
    const char* problem = nullptr;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;
      if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) low = 0x90;
      if (lead == 0xF4) high = 0x8F;
    } else if (lead < 0xC0) {
      problem = "a continuation byte without a lead byte";
    } else if (lead < 0xC2) {
      problem = "an overlong encoding";
    } else {
      problem = "a byte that never occurs in UTF-8";
    }
    for (size_t k = 1; problem == nullptr && k < length; ++k) {
      if (i + k >= s.size()) {
        problem = "a multi-byte sequence cut off by the end of the file";
        break;
      }
      const auto c = static_cast<unsigned char>(s[i + k]);
      const bool continuation = c >= 0x80 && c <= 0xBF;
      if (k == 1 && continuation && (c < low || c > high)) {
        problem = lead == 0xED   ? "an encoded UTF-16 surrogate"
                  : lead == 0xF4 ? "a code point above U+10FFFF"
                                 : "an overlong encoding";
      } else if (!continuation) {
        problem = "an incomplete multi-byte sequence";
      }
    }
    if (problem != nullptr) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", lead);
      throw InputError(at_line(path, line),
                       "invalid UTF-8 at column " + std::to_string(i - line_start + 1) + " (byte " +
                           hex + ", " + problem +
                           "); save the file as UTF-8 (it may be Latin-1 or Windows-1252)");
    }
    i += length;
  }
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

// The reason part of nlohmann's message, without its own "line 1, column N" (wrong for JSONL,
// where every line is parsed on its own).
std::string parse_reason(const nlohmann::json::parse_error& e) {
  const std::string what = e.what();
  const size_t at = what.find("syntax error");
  return at == std::string::npos ? what : what.substr(at);
}

// "an object", "a number", ...: for messages that say what was found instead.
std::string a_type_name(const OrderedJson& value) {
  if (value.is_null()) return "null";
  const std::string name = value.type_name();
  return (value.is_array() || value.is_object() ? "an " : "a ") + name;
}

std::string cell_text(const OrderedJson& value, const std::string& where, const std::string& key) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  if (value.is_structured())
    throw InputError(where, "the value of '" + key + "' is " + a_type_name(value) +
                                "; cells must be strings, numbers, booleans or null");
  return value.dump();
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
    const std::string where = at_line(path, line);
    OrderedJson value;
    try {
      value = OrderedJson::parse(text.begin(), text.end());
    } catch (const nlohmann::json::parse_error& e) {
      std::string message =
          "invalid JSON at column " + std::to_string(e.byte) + ": " + parse_reason(e);
      // The parser ran off the end of the line: a cut-off file, or one object spread over lines.
      if (e.byte > text.size())
        message += " (each line must hold one complete JSON object; is the file truncated?)";
      throw InputError(where, message);
    }
    if (!value.is_object())
      throw InputError(where, "expected a JSON object, found " + a_type_name(value));
    rows.add(value, line, where);
    any = true;
  });
  if (!any) throw InputError(path, "no data rows: the file has only blank lines");
  Table table = rows.finish();
  if (table.columns.empty()) throw InputError(path, "no columns: every object is empty");
  return table;
}

Table read_json(std::string_view bytes, const std::string& path) {
  OrderedJson document;
  try {
    document = OrderedJson::parse(bytes.begin(), bytes.end());
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based and may point one past the end (truncated file): name the last line
    // that holds anything, not the empty one after the final newline.
    const size_t last = bytes.find_last_not_of(" \t\r\n");
    const size_t pos =
        std::min<size_t>(e.byte > 0 ? e.byte - 1 : 0, last == std::string_view::npos ? 0 : last);
    const size_t line = 1 + std::count(bytes.begin(), bytes.begin() + pos, '\n');
    std::string message = "invalid JSON: " + parse_reason(e);
    if (e.byte > bytes.size()) message += " (is the file truncated?)";
    throw InputError(at_line(path, line), message);
  }
  if (!document.is_array())
    throw InputError(path, "the top level must be an array of objects, found " +
                               a_type_name(document) +
                               " (one object per line is JSON Lines: use the .jsonl extension)");
  if (document.empty()) throw InputError(path, "no data rows: the array is empty");
  ObjectRows rows;
  for (size_t i = 0; i < document.size(); ++i) {
    const std::string where = at_item(path, i + 1);
    if (!document[i].is_object())
      throw InputError(where, "expected an object, found " + a_type_name(document[i]));
    rows.add(document[i], i + 1, where);
  }
  Table table = rows.finish();
  table.source_lines_are_items = true;
  if (table.columns.empty()) throw InputError(path, "no columns: every object is empty");
  return table;
}

// RFC 4180 with the usual liberties: LF or CRLF line ends (a lone CR too), blank lines skipped,
// a stray quote inside an unquoted field kept as text (12" pipe). CRLF inside a quoted field
// becomes "\n" so text does not depend on the platform that wrote the file.
Table read_csv(std::string_view s, const std::string& path, char delimiter) {
  std::vector<std::vector<std::string>> records;
  std::vector<size_t> record_lines;
  size_t line = 1;
  size_t i = 0;
  const auto at_line_end = [&](size_t k) {
    return k >= s.size() || s[k] == delimiter || s[k] == '\n' || s[k] == '\r';
  };
  while (i < s.size()) {
    const size_t record_line = line;
    std::vector<std::string> record;
    bool quoted = false;
    for (;;) {
      std::string field;
      if (i < s.size() && s[i] == '"') {
        quoted = true;
        const size_t quote_line = line;
        for (++i;; ++i) {
          if (i >= s.size())
            throw InputError(at_line(path, quote_line),
                             "unterminated quoted field starting at line " +
                                 std::to_string(quote_line) + " (is the file truncated?)");
          if (s[i] == '"') {
            if (i + 1 < s.size() && s[i + 1] == '"') {
              field += '"';
              ++i;
              continue;
            }
            ++i;
            break;
          }
          if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') continue;
          if (s[i] == '\n') ++line;
          field += s[i];
        }
        if (!at_line_end(i))
          throw InputError(at_line(path, line),
                           "unexpected text after the closing quote of field " +
                               std::to_string(record.size() + 1) +
                               " (a quote inside a quoted field is written \"\")");
      } else {
        const size_t start = i;
        while (!at_line_end(i)) ++i;
        field.assign(s.substr(start, i - start));
      }
      record.push_back(std::move(field));
      if (i < s.size() && s[i] == delimiter) {
        ++i;
        continue;
      }
      if (i < s.size()) {
        if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
        ++i;
        ++line;
      }
      break;
    }
    if (record.size() == 1 && !quoted && is_blank(record[0])) continue;
    records.push_back(std::move(record));
    record_lines.push_back(record_line);
  }
  if (records.empty()) throw InputError(path, "no header row: the file has only blank lines");

  Table table;
  std::unordered_map<std::string, size_t> seen;
  for (size_t c = 0; c < records[0].size(); ++c) {
    // Spreadsheets and pandas write an unnamed index column; give it a name rather than failing.
    std::string name(trim(records[0][c]));
    if (name.empty()) name = "column_" + std::to_string(c + 1);
    if (!seen.emplace(name, c).second)
      throw InputError(at_line(path, record_lines[0]), "duplicate column name '" + name + "'");
    table.columns.push_back(std::move(name));
  }
  for (size_t r = 1; r < records.size(); ++r) {
    if (records[r].size() != table.columns.size())
      throw InputError(at_line(path, record_lines[r]),
                       "row has " + std::to_string(records[r].size()) +
                           " fields but the header has " + std::to_string(table.columns.size()));
    table.rows.push_back(std::move(records[r]));
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

}  // namespace

std::string to_string(DataFormat f) {
  switch (f) {
    case DataFormat::kJsonl:
      return "jsonl";
    case DataFormat::kJson:
      return "json";
    case DataFormat::kCsv:
      return "csv";
    case DataFormat::kText:
      return "txt";
  }
  return "txt";
}

DataFormat data_format_from_string(const std::string& s) {
  for (DataFormat f : {DataFormat::kJsonl, DataFormat::kJson, DataFormat::kCsv, DataFormat::kText})
    if (to_string(f) == s) return f;
  throw InputError("data format", "unknown format '" + s + "'; expected jsonl, json, csv or txt");
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
  validate_utf8(content, path);
  switch (format) {
    case DataFormat::kJsonl:
      return read_jsonl(content, path);
    case DataFormat::kJson:
      return read_json(content, path);
    case DataFormat::kCsv:
      return read_csv(content, path, lowercase_extension(path) == ".tsv" ? '\t' : ',');
    case DataFormat::kText:
      return read_text(content, path);
  }
  throw InputError(path, "unknown data format");
}

}  // namespace deeptune
