// JSON from the user (config files, dataset rows, documents stored in a project) parsed so that
// hostile text can only ever produce an InputError naming the file and line: nesting is bounded
// (deep values would exhaust the stack wherever a value is copied, compared or printed), numbers a
// double cannot hold and raw NUL bytes are refused, and syntax errors get a line and a column.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace deeptune {

// Deeper nesting is refused. No configuration or dataset row comes close; 512 levels of
// recursion over a value take well under 1 MB of stack.
inline constexpr size_t kMaxJsonDepth = 512;

// Parses `text`, whose first byte is on line `first_line` of `where` (a file path or a name such
// as "run base"). Throws InputError("where:LINE", ...) for a syntax error ("invalid JSON at column
// C: ..."; "is the file truncated?" when the text ends inside a value), nesting deeper than
// kMaxJsonDepth, a number out of a double's range (1e400) and a raw NUL byte.
nlohmann::json parse_json(std::string_view text, const std::string& where, size_t first_line = 1);

// The same, keeping object keys in document order (dataset columns follow the file).
// `truncated_hint` is what the message suggests when the text ends inside a value.
nlohmann::ordered_json parse_ordered_json(
    std::string_view text, const std::string& where, size_t first_line = 1,
    std::string_view truncated_hint = "is the file truncated?");

// require_regular_file(path) (a folder, FIFO or device is refused before it is opened), then
// reads the file and parses it with parse_json. Throws InputError naming the path.
nlohmann::json read_json_file(const std::string& path);

// read_json_file, and the top level must be an object:
// InputError(path, "the top level must be a JSON object, found an array").
nlohmann::json read_json_object_file(const std::string& path);

// "an object", "an array", "a string", "a number", "a boolean", "null": for messages that say what
// was found instead of what was expected.
std::string json_type_phrase(const nlohmann::json& value);
std::string json_type_phrase(const nlohmann::ordered_json& value);

}  // namespace deeptune
