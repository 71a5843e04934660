// Literal and PCRE2 patterns for tokenizer.json (see pattern.h).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenize/pattern.h"

#include <pcre2.h>

#include <stdexcept>

#include "deeptune/error.h"
#include "tokenize/unicode.h"

namespace deeptune::tok {

struct Pattern::Compiled {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Compiled() { pcre2_code_free(code); }
};

namespace {

// One match-data block per thread, holding the whole match only (no group is ever read), so that
// matching allocates nothing and a const tokenizer can be shared between threads.
struct MatchData {
  pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
  ~MatchData() { pcre2_match_data_free(data); }
};

pcre2_match_data* thread_match_data() {
  thread_local MatchData m;
  return m.data;
}

}  // namespace

Pattern::Pattern(Pattern&&) noexcept = default;
Pattern& Pattern::operator=(Pattern&&) noexcept = default;
Pattern::~Pattern() = default;

Pattern Pattern::literal(std::string text) {
  Pattern p;
  p.literal_ = std::move(text);
  return p;
}

namespace {

// Oniguruma's Unicode classes, which tokenizers' regexes are written for, spelled for PCRE2:
// \w is Letter | Mark | Number | Connector_Punctuation (PCRE2's UCP \w has no marks and only the
// underscore of Pc), \s is White_Space (PCRE2's lacks U+0085).
constexpr const char* kWordSet = "\\p{L}\\p{M}\\p{N}\\p{Pc}";
constexpr const char* kSpaceSet = "\\x{9}-\\x{d}\\x{85}\\p{Z}";

// `expression` with \w \W \s \S replaced by those sets (\W and \S inside a bracket class are left
// to PCRE2: a negated set cannot be spelled there).
std::string oniguruma_classes(const std::string& expression) {
  std::string out;
  out.reserve(expression.size() + 32);
  bool in_class = false;
  size_t class_start = 0;  // offset in `expression` just after '[' or '[^'
  for (size_t i = 0; i < expression.size(); ++i) {
    const char c = expression[i];
    if (c == '\\' && i + 1 < expression.size()) {
      const char e = expression[i + 1];
      const char* set = e == 'w' || e == 'W'   ? kWordSet
                        : e == 's' || e == 'S' ? kSpaceSet
                                               : nullptr;
      const bool negated = e == 'W' || e == 'S';
      if (set && !in_class) {
        out += negated ? "[^" : "[";
        out += set;
        out += ']';
      } else if (set && !negated) {
        out += set;
      } else {
        out += c;
        out += e;
      }
      ++i;
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      if (i + 1 < expression.size() && expression[i + 1] == '^') out += expression[++i];
      class_start = i + 1;
      continue;
    }
    if (in_class && c == '[' && i + 1 < expression.size() && expression[i + 1] == ':') {
      const size_t end = expression.find(":]", i + 2);  // a POSIX class such as [:alpha:]
      if (end != std::string::npos) {
        out.append(expression, i, end + 2 - i);
        i = end + 1;
        continue;
      }
    }
    if (in_class && c == ']' && i != class_start) in_class = false;
    out += c;
  }
  return out;
}

pcre2_code* compile(const std::string& expression, int& error, PCRE2_SIZE& offset) {
  return pcre2_compile(reinterpret_cast<PCRE2_SPTR>(expression.data()), expression.size(),
                       PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE, &error, &offset, nullptr);
}

}  // namespace

Pattern Pattern::regex(const std::string& expression) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  // The original is compiled first so that an error's offset refers to what the file says.
  pcre2_code* code = compile(expression, error, offset);
  if (code) {
    pcre2_code_free(code);
    code = compile(oniguruma_classes(expression), error, offset);
  }
  if (!code) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    throw std::invalid_argument(std::string(reinterpret_cast<const char*>(message)) +
                                " at offset " + std::to_string(offset));
  }
  Pattern p;
  p.compiled_ = std::make_unique<Compiled>();
  p.compiled_->code = code;
  p.compiled_->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  return p;
}

void Pattern::find_matches(std::string_view subject, std::vector<Span>& out) const {
  out.clear();
  if (subject.empty()) {
    out.push_back({0, 0, false});
    return;
  }
  size_t prev = 0;
  const auto add_match = [&](size_t begin, size_t end) {
    if (prev != begin) out.push_back({prev, begin, false});
    out.push_back({begin, end, true});
    prev = end;
  };
  if (!compiled_) {
    if (!literal_.empty()) {
      for (size_t at = subject.find(literal_); at != std::string_view::npos;
           at = subject.find(literal_, at + literal_.size()))
        add_match(at, at + literal_.size());
    }
  } else {
    pcre2_match_data* data = thread_match_data();
    const auto* s = reinterpret_cast<PCRE2_SPTR>(subject.data());
    size_t start = 0;
    bool have_last = false;
    size_t last_end = 0;
    // Oniguruma's find_iter: an empty match is reported (then the search moves on one character)
    // unless it sits right where the previous match ended.
    while (start <= subject.size()) {
      int rc =
          pcre2_match(compiled_->code, s, subject.size(), start, PCRE2_NO_UTF_CHECK, data, nullptr);
      if (rc == PCRE2_ERROR_JIT_STACKLIMIT)  // very long runs: the interpreter has no such limit
        rc = pcre2_match(compiled_->code, s, subject.size(), start,
                         PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, data, nullptr);
      if (rc == PCRE2_ERROR_NOMATCH) break;
      if (rc < 0) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(rc, message, sizeof message);
        // PCRE2's match limit (10 million steps from one start position): pathological text.
        throw InputError("text to tokenize", std::string("a tokenizer regex gave up: ") +
                                                 reinterpret_cast<const char*>(message));
      }
      const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data);
      const size_t begin = ovector[0], end = ovector[1];
      if (begin == end) {
        const size_t step =
            end < subject.size() ? utf8_length(static_cast<unsigned char>(subject[end])) : 1;
        if (!(have_last && last_end == end)) add_match(begin, end);
        start = end + step;
      } else {
        add_match(begin, end);
        start = end;
      }
      have_last = true;
      last_end = end;
    }
  }
  if (prev != subject.size()) out.push_back({prev, subject.size(), false});
}

}  // namespace deeptune::tok
