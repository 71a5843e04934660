// Small text helpers shared by the whole engine (and usable from the Qt layers: no LibTorch):
// prefixes, strict UTF-8 validation, and byte offsets turned into the line and column users see.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace deeptune {

inline bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

inline bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The first offence against strict UTF-8 in a byte string.
struct InvalidUtf8 {
  size_t offset = 0;        // of the sequence's first byte
  const char* reason = "";  // "an overlong encoding", "an encoded UTF-16 surrogate", ...
};

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF, no sequence
// cut short (also not by the end of `s`). Nothing when all of `s` is valid.
std::optional<InvalidUtf8> find_invalid_utf8(std::string_view s);

inline bool is_valid_utf8(std::string_view s) {
  return !find_invalid_utf8(s);
}

// 1-based line and byte column of `offset` in `text`, whose first byte is on line `first_line`.
// Lines end at "\n" (a "\r" before it counts as a column). An offset past the end is clamped.
struct TextPosition {
  size_t line = 1;
  size_t column = 1;
};
TextPosition position_of(std::string_view text, size_t offset, size_t first_line = 1);

}  // namespace deeptune
