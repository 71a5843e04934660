// The patterns of tokenizer.json (Split, Replace): a literal string or a regex. Regexes are
// compiled with PCRE2 (UTF, UCP; MULTILINE, because `tokenizers` runs them on Oniguruma, where `$`
// matches before every newline) and JIT-compiled when PCRE2 supports it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace deeptune::tok {

// A stretch of the subject, matched by the pattern or lying between two matches.
struct Span {
  size_t begin = 0;
  size_t end = 0;
  bool is_match = false;
};

class Pattern {
 public:
  // Throws std::invalid_argument with PCRE2's message and the offset of the error.
  static Pattern literal(std::string text);
  static Pattern regex(const std::string& expression);

  Pattern(Pattern&&) noexcept;
  Pattern& operator=(Pattern&&) noexcept;
  ~Pattern();

  // The subject cut into matches and the stretches between them, in order, covering all of it
  // (tokenizers' Pattern::find_matches). Empty subject: one empty non-match. `subject` must be
  // valid UTF-8. Throws InputError if PCRE2 gives up (its match limit) on pathological text.
  void find_matches(std::string_view subject, std::vector<Span>& out) const;

 private:
  struct Compiled;
  Pattern() = default;
  std::string literal_;
  std::unique_ptr<Compiled> compiled_;
};

}  // namespace deeptune::tok
