// Text helpers (see deeptune/text.h): the engine's one UTF-8 validator and line/column mapping.
#include "deeptune/text.h"

#include <algorithm>

namespace deeptune {

std::optional<InvalidUtf8> find_invalid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<unsigned char>(s[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    // Allowed range of the second byte; narrowed for the leads where the full range would allow
    // an overlong form (E0, F0), a surrogate (ED) or a code point above U+10FFFF (F4).
    size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;
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
      return InvalidUtf8{i, "a continuation byte without a lead byte"};
    } else if (lead < 0xC2) {
      return InvalidUtf8{i, "an overlong encoding"};
    } else {
      return InvalidUtf8{i, "a byte that never occurs in UTF-8"};
    }
    for (size_t k = 1; k < length; ++k) {
      if (i + k >= s.size()) return InvalidUtf8{i, "a multi-byte sequence cut off at the end"};
      const auto c = static_cast<unsigned char>(s[i + k]);
      const bool continuation = c >= 0x80 && c <= 0xBF;
      if (!continuation) return InvalidUtf8{i, "an incomplete multi-byte sequence"};
      if (k == 1 && (c < low || c > high))
        return InvalidUtf8{i, lead == 0xED   ? "an encoded UTF-16 surrogate"
                              : lead == 0xF4 ? "a code point above U+10FFFF"
                                             : "an overlong encoding"};
    }
    i += length;
  }
  return std::nullopt;
}

TextPosition position_of(std::string_view text, size_t offset, size_t first_line) {
  const std::string_view before = text.substr(0, std::min(offset, text.size()));
  const size_t line_start = before.rfind('\n');
  TextPosition position;
  position.line = first_line + static_cast<size_t>(std::count(before.begin(), before.end(), '\n'));
  position.column = before.size() - (line_start == std::string_view::npos ? 0 : line_start + 1) + 1;
  return position;
}

}  // namespace deeptune
