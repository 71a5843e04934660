// Unicode helpers of the Hugging Face tokenizer: code points in UTF-8, invalid input replaced as
// Python does, the character classes `tokenizers` tests with (Rust's char::is_whitespace,
// char::is_numeric, regex \w) and the normalisation forms (utf8proc).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace deeptune::tok {

// The code point at s[i] (valid UTF-8 assumed) and its length in bytes.
struct CodePoint {
  char32_t value = 0;
  int length = 1;
};
CodePoint decode_at(std::string_view s, size_t i);
void append_utf8(std::string& out, char32_t c);
inline size_t utf8_length(unsigned char lead) {
  return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

// `s` as valid UTF-8: each maximal invalid subpart (Unicode's "substitution of maximal subparts",
// which Python's errors="replace" and Rust's from_utf8_lossy follow) becomes U+FFFD. Returns
// false, leaving `out` untouched, when `s` is already valid.
bool replace_invalid_utf8(std::string_view s, std::string& out);
std::string to_valid_utf8(std::string_view s);

bool is_white_space(char32_t c);  // Unicode White_Space (Rust char::is_whitespace, regex \s)
bool is_numeric(char32_t c);      // categories Nd, Nl, No (Rust char::is_numeric)
bool is_word_char(char32_t c);    // regex \w: alphabetic, marks, Nd, Pc, joiners

enum class NormalForm { kNfc, kNfd, kNfkc, kNfkd };
std::string normalize(std::string_view s, NormalForm form);
std::string to_lower(std::string_view s);  // char-wise full lowercase, as Rust's char::to_lowercase

}  // namespace deeptune::tok
