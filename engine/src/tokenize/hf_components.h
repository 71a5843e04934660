// The pipeline stages of tokenizer.json — normalizers, pre-tokenizers, decoders — built from
// their JSON and applied as the `tokenizers` library applies them. Offsets are not tracked (no
// caller needs them); the one place tokenizers looks at them, Metaspace's prepend_scheme "first",
// is served by Piece::at_origin.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenize/hf_json.h"
#include "tokenize/pattern.h"

namespace deeptune::tok {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void apply(std::string& text) const = 0;
};
// Null JSON gives nullptr.
std::unique_ptr<Normalizer> make_normalizer(const JsonAt& json);

// One pre-token; at_origin: it begins where the input text begins (tokenizers:
// offsets_original().0 == 0).
struct Piece {
  std::string text;
  bool at_origin = false;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces `pieces` by their splits (empty ones dropped); `scratch` is reused storage.
  virtual void apply(std::vector<Piece>& pieces, std::vector<Piece>& scratch) const = 0;
};
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const JsonAt& json);

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void apply(std::vector<std::string>& tokens) const = 0;  // tokenizers' decode_chain
};
std::unique_ptr<Decoder> make_decoder(const JsonAt& json);

// What the post-processor puts around a single sequence when special tokens are requested.
struct SpecialsAround {
  std::vector<int32_t> before;
  std::vector<int32_t> after;
};
// `vocab_size` bounds the ids it may name.
SpecialsAround read_post_processor(const JsonAt& json, int64_t vocab_size);

// The byte-level alphabet: byte b is spelled byte_level_char(b) (UTF-8 of one code point).
const std::string& byte_level_char(unsigned char b);

}  // namespace deeptune::tok
