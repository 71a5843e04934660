// Private helpers shared by the whole-file readers (readers.cpp) and the row cursor
// (row_cursor.cpp), so both accept and reject exactly the same bytes with the same messages.
#pragma once

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "deeptune/error.h"
#include "deeptune/files.h"
#include "deeptune/json_input.h"
#include "deeptune/text.h"

namespace deeptune::text_util {

// Keeps object keys in file order, so the columns of a JSON/JSONL table follow the file.
using OrderedJson = nlohmann::ordered_json;

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
constexpr std::string_view kUtf16LeBom = "\xFF\xFE";
constexpr std::string_view kUtf16BeBom = "\xFE\xFF";

inline std::string at_line(const std::string& path, size_t line) {
  return path + ":" + std::to_string(line);
}

inline std::string at_item(const std::string& path, size_t item) {
  return path + ": item " + std::to_string(item);
}

inline bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

inline std::string lowercase_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

// Opens for binary reading. Anything but a regular file is refused first: ifstream accepts a
// folder, and opening a FIFO blocks until a writer appears.
inline std::ifstream open_or_throw(const std::string& path) {
  require_regular_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, std::string("cannot open file: ") + std::strerror(errno));
  return in;
}

// `bytes` is the start of the file; two bytes are enough to tell.
inline void reject_utf16(std::string_view bytes, const std::string& path) {
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

// Text a dataset may hold: strict UTF-8 (see find_invalid_utf8) and no NUL byte, which no text
// field needs and which C strings downstream (tokenizers, SQLite text, the GUI) would cut at.
// Names the line and byte column of the first offence; `s` starts at the beginning of line
// `first_line` (the row cursor checks one record at a time).
inline void validate_text(std::string_view s, const std::string& path, size_t first_line = 1) {
  const std::optional<InvalidUtf8> bad = find_invalid_utf8(s);
  const size_t nul = s.substr(0, bad ? bad->offset : s.size()).find('\0');
  if (nul != std::string_view::npos) {
    const TextPosition p = position_of(s, nul, first_line);
    throw InputError(at_line(path, p.line),
                     "a NUL byte at column " + std::to_string(p.column) +
                         "; text cannot contain one (is the file UTF-16 or binary?)");
  }
  if (!bad) return;
  const TextPosition p = position_of(s, bad->offset, first_line);
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(s[bad->offset]));
  throw InputError(at_line(path, p.line),
                   "invalid UTF-8 at column " + std::to_string(p.column) + " (byte " + hex + ", " +
                       bad->reason +
                       "); save the file as UTF-8 (it may be Latin-1 or Windows-1252)");
}

// A cell or column name with a NUL character ("\u0000" in JSON): refused like a raw NUL byte.
inline void reject_nul_character(const std::string& text, const std::string& where,
                                 const std::string& what) {
  if (text.find('\0') != std::string::npos)
    throw InputError(where, what + " contains a NUL character (\\u0000); text cannot contain one");
}

inline std::string cell_text(const OrderedJson& value, const std::string& where,
                             const std::string& key) {
  reject_nul_character(key, where, "a key");
  if (value.is_string()) {
    std::string text = value.get<std::string>();
    reject_nul_character(text, where, "the value of '" + key + "'");
    return text;
  }
  if (value.is_null()) return "";
  // A list of objects is a conversation (chat messages): kept as its compact JSON text, which
  // map_examples reads back and checks. Any other nested value has no place in a cell.
  const bool objects =
      value.is_array() && !value.empty() &&
      std::all_of(value.begin(), value.end(), [](const auto& v) { return v.is_object(); });
  if (value.is_structured() && !objects)
    throw InputError(where, "the value of '" + key + "' is " + json_type_phrase(value) +
                                "; cells must be strings, numbers, booleans, null or a list of "
                                "chat messages ({\"role\", \"content\"} objects)");
  return value.dump();  // escapes a NUL character; parse_messages refuses it
}

// One non-blank JSONL line (without its line end) as a JSON object.
inline OrderedJson parse_jsonl_object(std::string_view text, const std::string& path, size_t line) {
  // The parser ran off the end of the line: a cut-off file, or one object spread over lines.
  OrderedJson value = parse_ordered_json(
      text, path, line, "each line must hold one complete JSON object; is the file truncated?");
  if (!value.is_object())
    throw InputError(at_line(path, line),
                     "expected a JSON object, found " + json_type_phrase(value));
  return value;
}

// ".tsv" files are tab-separated; every other CSV is comma-separated.
inline char csv_delimiter(const std::string& path) {
  return lowercase_extension(path) == ".tsv" ? '\t' : ',';
}

struct CsvRecord {
  std::vector<std::string> fields;
  bool quoted = false;  // some field was quoted: then even a single empty field is a row
  // Ended by a line break, or by the closing quote of its last field at the end of the file. An
  // unquoted last field that runs into the end of the file may be a row cut off mid-field (a
  // label "techn" instead of "technical"), which no reader can tell from a whole one.
  bool complete = false;

  // A line with nothing but spaces: read_table skips it.
  bool blank() const { return fields.size() == 1 && !quoted && is_blank(fields[0]); }
};

// Reads the record at s[i] and leaves i after its line end, `line` counting the lines it spans.
// RFC 4180 with the usual liberties: LF or CRLF line ends (a lone CR too), a stray quote inside
// an unquoted field kept as text (12" pipe). CRLF inside a quoted field becomes "\n" so text does
// not depend on the platform that wrote the file. The end of `s` is taken for the end of the file.
inline CsvRecord parse_csv_record(std::string_view s, size_t& i, size_t& line,
                                  const std::string& path, char delimiter) {
  const auto at_line_end = [&](size_t k) {
    return k >= s.size() || s[k] == delimiter || s[k] == '\n' || s[k] == '\r';
  };
  CsvRecord record;
  for (;;) {
    std::string field;
    const bool field_quoted = i < s.size() && s[i] == '"';
    if (field_quoted) {
      record.quoted = true;
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
                             std::to_string(record.fields.size() + 1) +
                             " (a quote inside a quoted field is written \"\")");
    } else {
      const size_t start = i;
      while (!at_line_end(i)) ++i;
      field.assign(s.substr(start, i - start));
    }
    record.fields.push_back(std::move(field));
    if (i < s.size() && s[i] == delimiter) {
      ++i;
      continue;
    }
    record.complete = i < s.size() || field_quoted;
    if (i < s.size()) {
      if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
      ++i;
      ++line;
    }
    return record;
  }
}

// Column names from the header record; `where` is "<path>:<line>" of the header.
inline std::vector<std::string> csv_header_columns(const std::vector<std::string>& header,
                                                   const std::string& where) {
  std::vector<std::string> columns;
  std::unordered_map<std::string, size_t> seen;
  for (size_t c = 0; c < header.size(); ++c) {
    // Spreadsheets and pandas write an unnamed index column; give it a name rather than failing.
    std::string name(trim(header[c]));
    if (name.empty()) name = "column_" + std::to_string(c + 1);
    if (!seen.emplace(name, c).second)
      throw InputError(where, "duplicate column name '" + name + "'");
    columns.push_back(std::move(name));
  }
  return columns;
}

// Throws unless `record` (a data row; `where` is "<path>:<line>") is a whole row of the table.
inline void check_csv_row(const CsvRecord& record, size_t columns, const std::string& where) {
  const char* cut_off = " (the file ends inside this row: is it truncated?)";
  if (record.fields.size() != columns)
    throw InputError(where, "row has " + std::to_string(record.fields.size()) +
                                " fields but the header has " + std::to_string(columns) +
                                (record.complete ? "" : cut_off));
  if (!record.complete)
    throw InputError(where,
                     "the file ends inside this row, without a line break after its last field, so "
                     "it may have been cut off; if the row is whole, end the file with a line "
                     "break");
}

}  // namespace deeptune::text_util
