// Private helpers shared by the whole-file readers (readers.cpp) and the row cursor
// (row_cursor.cpp), so both accept and reject exactly the same bytes with the same messages.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "deeptune/error.h"

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

inline bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
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

// Opens for binary reading; a directory counts as "cannot open" (ifstream would accept it).
inline std::ifstream open_or_throw(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InputError(path, "cannot open file: it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open file");
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

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF, no
// truncated sequences. Names the line and byte column of the first offence; `s` starts at the
// beginning of line `first_line` (the row cursor validates one record at a time), and its end is
// taken for the end of the file.
inline void validate_utf8(std::string_view s, const std::string& path, size_t first_line = 1) {
  size_t line = first_line;
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

// The reason part of nlohmann's message, without its own "line 1, column N" (wrong for JSONL,
// where every line is parsed on its own).
inline std::string parse_reason(const nlohmann::json::parse_error& e) {
  const std::string what = e.what();
  const size_t at = what.find("syntax error");
  return at == std::string::npos ? what : what.substr(at);
}

// "an object", "a number", ...: for messages that say what was found instead.
inline std::string a_type_name(const OrderedJson& value) {
  if (value.is_null()) return "null";
  const std::string name = value.type_name();
  return (value.is_array() || value.is_object() ? "an " : "a ") + name;
}

inline std::string cell_text(const OrderedJson& value, const std::string& where,
                             const std::string& key) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  if (value.is_structured())
    throw InputError(where, "the value of '" + key + "' is " + a_type_name(value) +
                                "; cells must be strings, numbers, booleans or null");
  return value.dump();
}

// One non-blank JSONL line (without its line end) as a JSON object; `where` is "<path>:<line>".
inline OrderedJson parse_jsonl_object(std::string_view text, const std::string& where) {
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
  return value;
}

// ".tsv" files are tab-separated; every other CSV is comma-separated.
inline char csv_delimiter(const std::string& path) {
  return lowercase_extension(path) == ".tsv" ? '\t' : ',';
}

struct CsvRecord {
  std::vector<std::string> fields;
  bool quoted = false;  // some field was quoted: then even a single empty field is a row

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
    if (i < s.size() && s[i] == '"') {
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

inline std::string csv_width_mismatch(size_t fields, size_t columns) {
  return "row has " + std::to_string(fields) + " fields but the header has " +
         std::to_string(columns);
}

}  // namespace deeptune::text_util
