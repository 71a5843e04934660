// JSON input that fails as InputError with a line, never with a crash or a raw parser message
// (see deeptune/json_input.h).
#include "deeptune/json_input.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "deeptune/error.h"
#include "deeptune/files.h"
#include "deeptune/text.h"

namespace deeptune {
namespace {

std::string at(const std::string& where, size_t line) {
  return where + ":" + std::to_string(line);
}

// Offset of the first byte outside string literals for which `stop(offset)` holds, or npos.
// Strings are skipped the way the lexer reads them, so on any valid prefix the structure seen
// here is the parser's own.
template <typename Stop>
size_t find_outside_strings(std::string_view text, Stop stop) {
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (stop(i)) {
      return i;
    }
  }
  return std::string_view::npos;
}

// Offset of the bracket that opens level kMaxJsonDepth + 1, or npos: a text that passes never
// makes the parser (or the recursive copy, compare and dump of the value) go deeper.
size_t too_deep_at(std::string_view text) {
  size_t depth = 0;
  return find_outside_strings(text, [&](size_t i) {
    const char c = text[i];
    if (c == '[' || c == '{') return ++depth > kMaxJsonDepth;
    if ((c == ']' || c == '}') && depth > 0) --depth;
    return false;
  });
}

// Offset of the first number token spelled `token`, or npos. nlohmann reports an overflowing
// number without its position; the first token spelled so is the one it stopped at, since an
// earlier one would have overflowed first.
size_t number_token_at(std::string_view text, std::string_view token) {
  const auto in_number = [](char c) {
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
  };
  return find_outside_strings(text, [&](size_t i) {
    if (!in_number(text[i]) || (i > 0 && in_number(text[i - 1]))) return false;
    size_t end = i;
    while (end < text.size() && in_number(text[end])) ++end;
    return text.substr(i, end - i) == token;
  });
}

// The reason part of nlohmann's message, without its own "line 1, column N" (wrong when the text
// is one line of a larger file).
std::string parse_reason(const nlohmann::json::exception& e) {
  const std::string what = e.what();
  const size_t reason = what.find("syntax error");
  return reason == std::string::npos ? what : what.substr(reason);
}

template <typename Json>
Json parse_bounded(std::string_view text, const std::string& where, size_t first_line,
                   std::string_view truncated_hint) {
  const auto fail_at = [&](size_t offset, const std::string& message) {
    const TextPosition p = position_of(text, offset, first_line);
    return InputError(at(where, p.line), message + " at column " + std::to_string(p.column));
  };
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    throw InputError(where, "no JSON value: the text is empty");
  // nlohmann's lexer takes a NUL byte for the end of the input and would accept "{}\0anything".
  if (const size_t nul = text.find('\0'); nul != std::string_view::npos)
    throw fail_at(nul, "a NUL byte (not allowed in JSON text; is the file UTF-16?)");
  if (const size_t deep = too_deep_at(text); deep != std::string_view::npos)
    throw fail_at(deep, "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based and points one past the end when the text stops inside a value: then
    // name the last line that holds anything, not the empty one after a final newline.
    if (e.byte > text.size()) {
      const size_t last = text.find_last_not_of(" \t\r\n");
      const TextPosition p = position_of(text, last, first_line);
      throw InputError(at(where, p.line), "invalid JSON: " + parse_reason(e) + " (" +
                                              std::string(truncated_hint) + ")");
    }
    const size_t offset = e.byte > 0 ? e.byte - 1 : 0;
    const TextPosition p = position_of(text, offset, first_line);
    throw InputError(at(where, p.line),
                     "invalid JSON at column " + std::to_string(p.column) + ": " + parse_reason(e));
  } catch (const nlohmann::json::out_of_range& e) {
    // 406: "number overflow parsing '1e400'", the only range error a parse raises.
    const std::string what = e.what();
    const size_t open = what.find('\'');
    const size_t close = what.rfind('\'');
    if (open == std::string::npos || close <= open) throw InputError(where, what);
    const std::string token = what.substr(open + 1, close - open - 1);
    const size_t offset = number_token_at(text, token);
    const std::string message =
        "the number " + token + " is out of range (a double holds up to about 1.8e308)";
    if (offset == std::string_view::npos) throw InputError(where, message);
    throw fail_at(offset, message);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(where, std::string("invalid JSON: ") + e.what());
  }
}

template <typename Json>
std::string type_phrase(const Json& value) {
  if (value.is_null()) return "null";
  const std::string name = value.type_name();
  return (value.is_array() || value.is_object() ? "an " : "a ") + name;
}

}  // namespace

nlohmann::json parse_json(std::string_view text, const std::string& where, size_t first_line) {
  return parse_bounded<nlohmann::json>(text, where, first_line, "is the file truncated?");
}

nlohmann::ordered_json parse_ordered_json(std::string_view text, const std::string& where,
                                          size_t first_line, std::string_view truncated_hint) {
  return parse_bounded<nlohmann::ordered_json>(text, where, first_line, truncated_hint);
}

nlohmann::json read_json_file(const std::string& path) {
  require_regular_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, std::string("cannot be read: ") + std::strerror(errno));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) throw InputError(path, "read error");
  return parse_json(bytes.str(), path);
}

nlohmann::json read_json_object_file(const std::string& path) {
  nlohmann::json value = read_json_file(path);
  if (!value.is_object())
    throw InputError(path, "the top level must be a JSON object, found " + json_type_phrase(value));
  return value;
}

std::string json_type_phrase(const nlohmann::json& value) {
  return type_phrase(value);
}

std::string json_type_phrase(const nlohmann::ordered_json& value) {
  return type_phrase(value);
}

}  // namespace deeptune
