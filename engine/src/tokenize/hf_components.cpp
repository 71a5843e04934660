// Normalizers, pre-tokenizers, decoders and post-processors of tokenizer.json (see
// hf_components.h). Each stage follows the `tokenizers` crate's behaviour, including its corner
// cases (which are pointed out where they are not obvious).
#include "tokenize/hf_components.h"

#include <algorithm>
#include <array>

#include "deeptune/text.h"
#include "tokenize/unicode.h"

namespace deeptune::tok {

namespace {

// The byte-level alphabet (GPT-2): printable bytes stand for themselves, the 68 others, in
// order, for U+0100, U+0101, …
std::array<std::string, 256> make_byte_level_table() {
  std::array<std::string, 256> t;
  char32_t next = 256;
  for (int c = 0; c < 256; ++c) {
    const bool kept = (c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE);
    append_utf8(t[c], kept ? static_cast<char32_t>(c) : next++);
  }
  return t;
}
const std::array<std::string, 256> kByteLevelTable = make_byte_level_table();

constexpr const char* kNormalizers =
    "NFC, NFD, NFKC, NFKD, Lowercase, Strip, Prepend, Replace, Sequence";
constexpr const char* kPreTokenizers = "Split, ByteLevel, Digits, Metaspace, Sequence";
constexpr const char* kDecoders =
    "ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence";
constexpr const char* kPostProcessors =
    "TemplateProcessing, ByteLevel, BertProcessing, RobertaProcessing, Sequence";

// GPT-2's pre-tokenizer regex (ByteLevel with use_regex).
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// {"String": "…"} or {"Regex": "…"}.
Pattern read_pattern(const JsonAt& json) {
  json.require_object();
  if (const auto s = json.find("String")) return Pattern::literal(s->string());
  if (const auto r = json.find("Regex")) {
    try {
      return Pattern::regex(r->string());
    } catch (const std::invalid_argument& e) {
      r->fail(std::string("invalid regex: ") + e.what());
    }
  }
  json.fail("must be {\"String\": …} or {\"Regex\": …}");
}

// A single character, as tokenizers' `char` fields.
char32_t read_char(const JsonAt& json) {
  const std::string s = json.string();
  if (s.empty() || !is_valid_utf8(s) || decode_at(s, 0).length != static_cast<int>(s.size()))
    json.fail("must be a single character, found \"" + s + "\"");
  return decode_at(s, 0).value;
}

std::string utf8_of(char32_t c) {
  std::string s;
  append_utf8(s, c);
  return s;
}

std::string replace_all(const std::string& text, const Pattern& pattern, const std::string& by,
                        std::vector<Span>& spans) {
  pattern.find_matches(text, spans);
  std::string out;
  out.reserve(text.size());
  for (const Span& s : spans) {
    if (s.is_match)
      out += by;
    else
      out.append(text, s.begin, s.end - s.begin);
  }
  return out;
}

// tokenizers' Pattern for a character predicate: every matching character is a match of its own.
template <typename Predicate>
void find_char_matches(std::string_view text, Predicate matches, std::vector<Span>& out) {
  out.clear();
  if (text.empty()) {
    out.push_back({0, 0, false});
    return;
  }
  size_t last = 0;
  for (size_t i = 0; i < text.size();) {
    const CodePoint cp = decode_at(text, i);
    if (matches(cp.value)) {
      if (last < i) out.push_back({last, i, false});
      out.push_back({i, i + cp.length, true});
      last = i + cp.length;
    }
    i += cp.length;
  }
  if (last < text.size()) out.push_back({last, text.size(), false});
}

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

SplitBehavior read_behavior(const JsonAt& json) {
  const std::string b = json.string();
  if (b == "Removed") return SplitBehavior::kRemoved;
  if (b == "Isolated") return SplitBehavior::kIsolated;
  if (b == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (b == "Contiguous") return SplitBehavior::kContiguous;
  json.fail("unknown split behaviour '" + b +
            "' (supported: Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous)");
}

// tokenizers' NormalizedString::split: spans → the pieces kept, per behaviour; empty pieces are
// dropped (PreTokenizedString::split does so). Spans are merged in place: this runs once per
// pre-token.
void split_piece(const Piece& piece, std::vector<Span>& s, SplitBehavior behavior,
                 std::vector<Piece>& out) {
  size_t n = 0;  // spans kept so far, compacted to the front (to the back for MergedWithNext)
  switch (behavior) {
    case SplitBehavior::kIsolated:
      n = s.size();
      break;
    case SplitBehavior::kRemoved:
      for (const Span& x : s)
        if (!x.is_match) s[n++] = x;
      break;
    case SplitBehavior::kContiguous: {
      bool previous = false;
      for (size_t i = 0; i < s.size(); ++i) {
        const Span x = s[i];
        if (x.is_match == previous && n > 0)
          s[n - 1].end = x.end;
        else
          s[n++] = x;
        previous = x.is_match;
      }
      break;
    }
    case SplitBehavior::kMergedWithPrevious: {
      bool previous = false;
      for (size_t i = 0; i < s.size(); ++i) {
        const Span x = s[i];
        if (x.is_match && !previous && n > 0)
          s[n - 1].end = x.end;
        else
          s[n++] = x;
        previous = x.is_match;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      bool previous = false;
      size_t back = s.size();  // kept spans live in s[back, size)
      for (size_t i = s.size(); i-- > 0;) {
        const Span x = s[i];
        if (x.is_match && !previous && back < s.size())
          s[back].begin = x.begin;
        else
          s[--back] = x;
        previous = x.is_match;
      }
      s.erase(s.begin(), s.begin() + back);
      n = s.size();
      break;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    const Span& x = s[i];
    if (x.begin == x.end) continue;
    out.push_back({piece.text.substr(x.begin, x.end - x.begin), piece.at_origin && x.begin == 0});
  }
}

// Reused per thread: pre-tokenizing must not allocate per pre-token.
std::vector<Span>& span_buffer() {
  thread_local std::vector<Span> spans;
  return spans;
}

// ---- normalizers ------------------------------------------------------------------------------

class UnicodeNormalizer final : public Normalizer {
 public:
  explicit UnicodeNormalizer(NormalForm form) : form_(form) {}
  void apply(std::string& text) const override { text = normalize(text, form_); }

 private:
  NormalForm form_;
};

class LowercaseNormalizer final : public Normalizer {
 public:
  void apply(std::string& text) const override { text = to_lower(text); }
};

class StripNormalizer final : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  void apply(std::string& text) const override {
    size_t begin = 0, end = text.size();
    if (left_) {
      while (begin < end) {
        const CodePoint cp = decode_at(text, begin);
        if (!is_white_space(cp.value)) break;
        begin += cp.length;
      }
    }
    if (right_) {
      while (end > begin) {
        size_t start = end - 1;
        while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
        if (!is_white_space(decode_at(text, start).value)) break;
        end = start;
      }
    }
    text = text.substr(begin, end - begin);
  }

 private:
  bool left_, right_;
};

class PrependNormalizer final : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  void apply(std::string& text) const override {
    if (!text.empty()) text.insert(0, prefix_);
  }

 private:
  std::string prefix_;
};

class ReplaceNormalizer final : public Normalizer {
 public:
  ReplaceNormalizer(Pattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void apply(std::string& text) const override {
    std::vector<Span> spans;
    text = replace_all(text, pattern_, content_, spans);
  }

 private:
  Pattern pattern_;
  std::string content_;
};

class SequenceNormalizer final : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> parts)
      : parts_(std::move(parts)) {}
  void apply(std::string& text) const override {
    for (const auto& p : parts_) p->apply(text);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> parts_;
};

// ---- pre-tokenizers ---------------------------------------------------------------------------

class SplitPreTokenizer final : public PreTokenizer {
 public:
  SplitPreTokenizer(Pattern pattern, SplitBehavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  void apply(std::vector<Piece>& pieces, std::vector<Piece>& scratch) const override {
    scratch.clear();
    std::vector<Span>& spans = span_buffer();
    for (const Piece& p : pieces) {
      pattern_.find_matches(p.text, spans);
      if (invert_)
        for (Span& s : spans) s.is_match = !s.is_match;
      split_piece(p, spans, behavior_, scratch);
    }
    pieces.swap(scratch);
  }

 private:
  Pattern pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

class ByteLevelPreTokenizer final : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space) {
    if (use_regex) gpt2_ = std::make_unique<Pattern>(Pattern::regex(kGpt2Pattern));
  }
  void apply(std::vector<Piece>& pieces, std::vector<Piece>& scratch) const override {
    if (add_prefix_space_ || gpt2_) {
      scratch.clear();
      std::vector<Span>& spans = span_buffer();
      for (Piece& p : pieces) {
        if (add_prefix_space_ && (p.text.empty() || p.text[0] != ' ')) p.text.insert(0, " ");
        if (gpt2_) {
          gpt2_->find_matches(p.text, spans);
          split_piece(p, spans, SplitBehavior::kIsolated, scratch);
        } else if (!p.text.empty()) {
          scratch.push_back(std::move(p));
        }
      }
      pieces.swap(scratch);
    }
    std::string mapped;
    for (Piece& p : pieces) {
      mapped.clear();
      for (unsigned char b : p.text) {
        const std::string& c = kByteLevelTable[b];
        mapped.append(c.data(), c.size());
      }
      p.text.assign(mapped);
    }
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Pattern> gpt2_;
};

class DigitsPreTokenizer final : public PreTokenizer {
 public:
  explicit DigitsPreTokenizer(bool individual) : individual_(individual) {}
  void apply(std::vector<Piece>& pieces, std::vector<Piece>& scratch) const override {
    scratch.clear();
    std::vector<Span>& spans = span_buffer();
    for (const Piece& p : pieces) {
      find_char_matches(p.text, is_numeric, spans);
      split_piece(p, spans, individual_ ? SplitBehavior::kIsolated : SplitBehavior::kContiguous,
                  scratch);
    }
    pieces.swap(scratch);
  }

 private:
  bool individual_;
};

enum class PrependScheme { kAlways, kFirst, kNever };

class MetaspacePreTokenizer final : public PreTokenizer {
 public:
  MetaspacePreTokenizer(char32_t replacement, PrependScheme scheme, bool split)
      : replacement_(replacement), rep_(utf8_of(replacement)), scheme_(scheme), split_(split) {}
  void apply(std::vector<Piece>& pieces, std::vector<Piece>& scratch) const override {
    scratch.clear();
    std::vector<Span>& spans = span_buffer();
    for (Piece& p : pieces) {
      if (p.text.find(' ') != std::string::npos) p.text = replace_all(p.text, space_, rep_, spans);
      const bool starts = p.text.compare(0, rep_.size(), rep_) == 0;
      if (!starts &&
          (scheme_ == PrependScheme::kAlways || (scheme_ == PrependScheme::kFirst && p.at_origin)))
        p.text.insert(0, rep_);
      if (split_) {
        find_char_matches(
            p.text, [this](char32_t c) { return c == replacement_; }, spans);
        split_piece(p, spans, SplitBehavior::kMergedWithNext, scratch);
      } else if (!p.text.empty()) {
        scratch.push_back(std::move(p));
      }
    }
    pieces.swap(scratch);
  }

 private:
  char32_t replacement_;
  std::string rep_;
  PrependScheme scheme_;
  bool split_;
  Pattern space_ = Pattern::literal(" ");
};

class SequencePreTokenizer final : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> parts)
      : parts_(std::move(parts)) {}
  void apply(std::vector<Piece>& pieces, std::vector<Piece>& scratch) const override {
    for (const auto& p : parts_) p->apply(pieces, scratch);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

// ---- decoders ---------------------------------------------------------------------------------

// Byte-level char back to its byte; -1 for characters outside the alphabet.
int byte_of_char(char32_t c) {
  static const std::array<int, 0x144> table = [] {
    std::array<int, 0x144> t;
    t.fill(-1);
    for (int b = 0; b < 256; ++b) t[decode_at(byte_level_char(b), 0).value] = b;
    return t;
  }();
  return c < table.size() ? table[c] : -1;
}

class ByteLevelDecoder final : public Decoder {
 public:
  void apply(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const std::string& t : tokens) {
      const size_t mark = bytes.size();
      bool all = true;
      for (size_t i = 0; i < t.size() && all;) {
        const CodePoint cp = decode_at(t, i);
        const int b = byte_of_char(cp.value);
        if (b < 0)
          all = false;
        else
          bytes.push_back(static_cast<char>(b));
        i += cp.length;
      }
      if (!all) {  // a token outside the alphabet (an added token) stands for its own bytes
        bytes.resize(mark);
        bytes += t;
      }
    }
    tokens.assign(1, to_valid_utf8(bytes));
  }
};

class MetaspaceDecoder final : public Decoder {
 public:
  MetaspaceDecoder(char32_t replacement, PrependScheme scheme)
      : replacement_(replacement), scheme_(scheme) {}
  void apply(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      const std::string& t = tokens[i];
      std::string out;
      out.reserve(t.size());
      for (size_t k = 0; k < t.size();) {
        const CodePoint cp = decode_at(t, k);
        if (cp.value == replacement_) {
          // tokenizers drops every replacement character of the first token, not only a leading one
          if (!(i == 0 && scheme_ != PrependScheme::kNever)) out.push_back(' ');
        } else {
          out.append(t, k, cp.length);
        }
        k += cp.length;
      }
      tokens[i].swap(out);
    }
  }

 private:
  char32_t replacement_;
  PrependScheme scheme_;
};

class ReplaceDecoder final : public Decoder {
 public:
  ReplaceDecoder(Pattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void apply(std::vector<std::string>& tokens) const override {
    std::vector<Span> spans;
    for (std::string& t : tokens) t = replace_all(t, pattern_, content_, spans);
  }

 private:
  Pattern pattern_;
  std::string content_;
};

class ByteFallbackDecoder final : public Decoder {
 public:
  void apply(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    std::string pending;
    const auto flush = [&] {
      if (pending.empty()) return;
      if (is_valid_utf8(pending)) {
        out.push_back(pending);
      } else {
        for (size_t i = 0; i < pending.size(); ++i) out.emplace_back("\xEF\xBF\xBD");
      }
      pending.clear();
    };
    for (std::string& t : tokens) {
      int byte = -1;
      if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
        const auto hex = [](char c) {
          if (c >= '0' && c <= '9') return c - '0';
          if (c >= 'A' && c <= 'F') return c - 'A' + 10;
          if (c >= 'a' && c <= 'f') return c - 'a' + 10;
          return -1;
        };
        const int hi = hex(t[3]), lo = hex(t[4]);
        if (hi >= 0 && lo >= 0) byte = hi * 16 + lo;
      }
      if (byte >= 0) {
        pending.push_back(static_cast<char>(byte));
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    tokens.swap(out);
  }
};

class FuseDecoder final : public Decoder {
 public:
  void apply(std::vector<std::string>& tokens) const override {
    std::string all;
    for (const std::string& t : tokens) all += t;
    tokens.assign(1, std::move(all));
  }
};

class StripDecoder final : public Decoder {
 public:
  StripDecoder(char32_t content, size_t start, size_t stop)
      : content_(content), start_(start), stop_(stop) {}
  void apply(std::vector<std::string>& tokens) const override {
    for (std::string& t : tokens) {
      std::vector<std::pair<size_t, CodePoint>> chars;
      for (size_t i = 0; i < t.size();) {
        const CodePoint cp = decode_at(t, i);
        chars.push_back({i, cp});
        i += cp.length;
      }
      size_t start_cut = 0;
      for (size_t i = 0; i < std::min(start_, chars.size()); ++i) {
        if (chars[i].second.value != content_) break;
        start_cut = i + 1;
      }
      size_t stop_cut = chars.size();
      for (size_t i = 0; i < std::min(stop_, chars.size()); ++i) {
        const size_t index = chars.size() - i - 1;
        if (chars[index].second.value != content_) break;
        stop_cut = index;
      }
      if (stop_cut <= start_cut) {
        t.clear();
        continue;
      }
      const size_t begin = start_cut < chars.size() ? chars[start_cut].first : t.size();
      const size_t end = stop_cut < chars.size() ? chars[stop_cut].first : t.size();
      t = t.substr(begin, end - begin);
    }
  }

 private:
  char32_t content_;
  size_t start_, stop_;
};

class SequenceDecoder final : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> parts)
      : parts_(std::move(parts)) {}
  void apply(std::vector<std::string>& tokens) const override {
    for (const auto& p : parts_) p->apply(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> parts_;
};

PrependScheme read_prepend_scheme(const JsonAt& json) {
  PrependScheme scheme = PrependScheme::kAlways;
  if (const auto s = json.find("prepend_scheme")) {
    const std::string v = s->string();
    if (v == "always")
      scheme = PrependScheme::kAlways;
    else if (v == "first")
      scheme = PrependScheme::kFirst;
    else if (v == "never")
      scheme = PrependScheme::kNever;
    else
      s->fail("unknown prepend_scheme '" + v + "' (supported: always, first, never)");
  }
  // Files written before prepend_scheme existed say add_prefix_space.
  if (const auto a = json.find("add_prefix_space"))
    if (!a->boolean()) scheme = PrependScheme::kNever;
  return scheme;
}

std::string type_of(const JsonAt& json) {
  return json["type"].string();
}

}  // namespace

const std::string& byte_level_char(unsigned char b) {
  return kByteLevelTable[b];
}

std::unique_ptr<Normalizer> make_normalizer(const JsonAt& json) {
  if (json.is_null()) return nullptr;
  const std::string type = type_of(json);
  if (type == "NFC") return std::make_unique<UnicodeNormalizer>(NormalForm::kNfc);
  if (type == "NFD") return std::make_unique<UnicodeNormalizer>(NormalForm::kNfd);
  if (type == "NFKC") return std::make_unique<UnicodeNormalizer>(NormalForm::kNfkc);
  if (type == "NFKD") return std::make_unique<UnicodeNormalizer>(NormalForm::kNfkd);
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "Strip")
    return std::make_unique<StripNormalizer>(json.boolean_or("strip_left", false),
                                             json.boolean_or("strip_right", false));
  if (type == "Prepend") return std::make_unique<PrependNormalizer>(json["prepend"].string());
  if (type == "Replace")
    return std::make_unique<ReplaceNormalizer>(read_pattern(json["pattern"]),
                                               json["content"].string());
  if (type == "Sequence") {
    const JsonAt list = json["normalizers"];
    std::vector<std::unique_ptr<Normalizer>> parts;
    for (size_t i = 0; i < list.require_array().size(); ++i)
      if (auto n = make_normalizer(list.at(i))) parts.push_back(std::move(n));
    return std::make_unique<SequenceNormalizer>(std::move(parts));
  }
  json["type"].fail("unsupported normalizer '" + type + "' (supported: " + kNormalizers + ")");
}

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const JsonAt& json) {
  if (json.is_null()) return nullptr;
  const std::string type = type_of(json);
  if (type == "Split")
    return std::make_unique<SplitPreTokenizer>(read_pattern(json["pattern"]),
                                               read_behavior(json["behavior"]),
                                               json.boolean_or("invert", false));
  if (type == "ByteLevel")
    return std::make_unique<ByteLevelPreTokenizer>(json.boolean_or("add_prefix_space", true),
                                                   json.boolean_or("use_regex", true));
  if (type == "Digits")
    return std::make_unique<DigitsPreTokenizer>(json.boolean_or("individual_digits", false));
  if (type == "Metaspace")
    return std::make_unique<MetaspacePreTokenizer>(
        read_char(json["replacement"]), read_prepend_scheme(json), json.boolean_or("split", true));
  if (type == "Sequence") {
    const JsonAt list = json["pretokenizers"];
    std::vector<std::unique_ptr<PreTokenizer>> parts;
    for (size_t i = 0; i < list.require_array().size(); ++i)
      if (auto p = make_pre_tokenizer(list.at(i))) parts.push_back(std::move(p));
    return std::make_unique<SequencePreTokenizer>(std::move(parts));
  }
  json["type"].fail("unsupported pre-tokenizer '" + type + "' (supported: " + kPreTokenizers + ")");
}

std::unique_ptr<Decoder> make_decoder(const JsonAt& json) {
  if (json.is_null()) return nullptr;
  const std::string type = type_of(json);
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Metaspace")
    return std::make_unique<MetaspaceDecoder>(read_char(json["replacement"]),
                                              read_prepend_scheme(json));
  if (type == "Replace")
    return std::make_unique<ReplaceDecoder>(read_pattern(json["pattern"]),
                                            json["content"].string());
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip")
    return std::make_unique<StripDecoder>(read_char(json["content"]),
                                          json["start"].integer(0, 1 << 20),
                                          json["stop"].integer(0, 1 << 20));
  if (type == "Sequence") {
    const JsonAt list = json["decoders"];
    std::vector<std::unique_ptr<Decoder>> parts;
    for (size_t i = 0; i < list.require_array().size(); ++i)
      if (auto d = make_decoder(list.at(i))) parts.push_back(std::move(d));
    return std::make_unique<SequenceDecoder>(std::move(parts));
  }
  json["type"].fail("unsupported decoder '" + type + "' (supported: " + kDecoders + ")");
}

SpecialsAround read_post_processor(const JsonAt& json, int64_t vocab_size) {
  SpecialsAround around;
  if (json.is_null()) return around;
  const std::string type = type_of(json);
  const auto read_id = [&](const JsonAt& at) {
    return static_cast<int32_t>(at.integer(0, vocab_size - 1));
  };
  if (type == "ByteLevel") return around;
  if (type == "TemplateProcessing") {
    const JsonAt single = json["single"];
    const JsonAt specials = json["special_tokens"];
    specials.require_object();
    bool seen_a = false;
    for (size_t i = 0; i < single.require_array().size(); ++i) {
      const JsonAt item = single.at(i);
      if (const auto seq = item.find("Sequence")) {
        const std::string id = (*seq)["id"].string();
        if (id != "A" || seen_a)
          (*seq)["id"].fail("a single-sequence template holds $A once (found '" + id + "')");
        seen_a = true;
      } else if (const auto tok = item.find("SpecialToken")) {
        const std::string name = (*tok)["id"].string();
        const auto entry = specials.find(name.c_str());
        if (!entry) (*tok)["id"].fail("names '" + name + "', which special_tokens does not define");
        const JsonAt ids = (*entry)["ids"];
        for (size_t k = 0; k < ids.require_array().size(); ++k)
          (seen_a ? around.after : around.before).push_back(read_id(ids.at(k)));
      } else {
        item.fail("must be {\"Sequence\": …} or {\"SpecialToken\": …}");
      }
    }
    if (!seen_a) single.fail("the template has no $A");
    return around;
  }
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    around.before.push_back(read_id(json["cls"].at(1)));
    around.after.push_back(read_id(json["sep"].at(1)));
    return around;
  }
  if (type == "Sequence") {
    const JsonAt list = json["processors"];
    for (size_t i = 0; i < list.require_array().size(); ++i) {
      const SpecialsAround inner = read_post_processor(list.at(i), vocab_size);
      around.before.insert(around.before.begin(), inner.before.begin(), inner.before.end());
      around.after.insert(around.after.end(), inner.after.begin(), inner.after.end());
    }
    return around;
  }
  json["type"].fail("unsupported post-processor '" + type + "' (supported: " + kPostProcessors +
                    ")");
}

}  // namespace deeptune::tok
