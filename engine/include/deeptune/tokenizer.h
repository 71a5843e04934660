// Tokenizers turn text into ids. ByteTokenizer serves models built from scratch: one id per UTF-8
// byte plus three special tokens. HfTokenizer reads a Hugging Face tokenizer.json folder (BPE,
// byte-level as Llama 3 / Qwen2 / DeepSeek ship it, or SentencePiece-style with byte fallback as
// Llama 2 / Mistral do) and encodes and decodes exactly as the `tokenizers` library does.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace deeptune {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // The text's ids, nothing added. Added and special tokens spelled out in the text are matched
  // ("<|im_end|>" becomes its id), as Hugging Face does by default. Invalid UTF-8 never fails: each
  // invalid sequence counts as U+FFFD, as Python's bytes.decode("utf-8", "replace") has it.
  virtual std::vector<int32_t> encode(std::string_view text) const = 0;
  // What a model is trained on: encode() plus BOS/EOS where the tokenizer adds them (Hugging Face
  // encode(add_special_tokens=True)). ByteTokenizer: BOS + text.
  virtual std::vector<int32_t> encode_with_specials(std::string_view text) const;
  // Special tokens are dropped; ids out of range are skipped (Hugging Face
  // decode(skip_special_tokens=True)).
  virtual std::string decode(const std::vector<int32_t>& ids) const = 0;
  // The vocabulary's spelling of one id ("Ġthe", "<0x0A>", "▁the", "<|im_end|>"); empty when out
  // of range. For labels in the attention view and for tests, not for decoding text.
  virtual std::string token_text(int32_t id) const = 0;
  // The id spelled `token` in the vocabulary (added tokens included), -1 when absent.
  virtual int32_t token_id(std::string_view token) const = 0;
  // Whether encode_with_specials() starts with BOS (a training example starts with it).
  virtual bool adds_bos() const = 0;
  // The Jinja chat template shipped with the tokenizer; empty when none.
  virtual std::string chat_template() const { return {}; }
  virtual int32_t vocab_size() const = 0;
  virtual int32_t bos_id() const = 0;           // -1: the tokenizer has none
  virtual int32_t eos_id() const = 0;           // -1: the tokenizer has none
  virtual int32_t pad_id() const = 0;           // never -1 (see HfTokenizer::pad_id)
  virtual std::string kind() const = 0;         // "byte", "hf"
  virtual nlohmann::json describe() const = 0;  // enough to rebuild it (stored with checkpoints)
};

// Ids 0..255 are the bytes themselves; 256 <pad>, 257 <bos>, 258 <eos>. Vocabulary size 259.
class ByteTokenizer final : public Tokenizer {
 public:
  static constexpr int32_t kPad = 256;
  static constexpr int32_t kBos = 257;
  static constexpr int32_t kEos = 258;
  static constexpr int32_t kVocab = 259;

  std::vector<int32_t> encode(std::string_view text) const override;
  std::string decode(const std::vector<int32_t>& ids) const override;
  // Printable ASCII as itself, other bytes "<0xXX>", then "<pad>", "<bos>", "<eos>".
  std::string token_text(int32_t id) const override;
  int32_t token_id(std::string_view token) const override;
  bool adds_bos() const override { return true; }
  int32_t vocab_size() const override { return kVocab; }
  int32_t bos_id() const override { return kBos; }
  int32_t eos_id() const override { return kEos; }
  int32_t pad_id() const override { return kPad; }
  std::string kind() const override { return "byte"; }
  nlohmann::json describe() const override;
};

// One piece of an encoding: the id and the text the `tokenizers` library reports for it
// (Encoding.tokens: the vocabulary spelling, except an added token matched with lstrip/rstrip,
// which carries the whitespace it swallowed).
struct TokenPiece {
  int32_t id = -1;
  std::string text;
};

// A Hugging Face tokenizer folder. Build it with load_hf_tokenizer().
//
// What is supported (anything else is refused at load with an InputError naming it):
//  model       BPE (merges as "a b" strings or ["a","b"] pairs; ignore_merges, byte_fallback,
//              unk_token, fuse_unk, continuing_subword_prefix, end_of_word_suffix; dropout null/0)
//  normalizer  NFC, NFD, NFKC, NFKD, Lowercase, Strip, Prepend, Replace, Sequence
//  pre-tokenizer Split, ByteLevel, Digits, Metaspace, Sequence
//  post-processor TemplateProcessing, ByteLevel, BertProcessing, RobertaProcessing, Sequence
//  decoder     ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence (none: the
//              tokens joined by spaces, as tokenizers does)
// Regexes (Split, Replace) run on PCRE2 with Oniguruma's meaning of \w, \s and $ (tokenizers runs
// them on Oniguruma).
//
// Ids: bos/eos/pad come from tokenizer_config.json, then special_tokens_map.json, then
// config.json / generation_config.json (bos_token_id, eos_token_id, pad_token_id); bos (eos) also
// from the post-processor's single template when it starts (ends) with a special token. pad_id()
// falls back to eos_id(), then 0, so that padding always has an id (it is masked out of the loss
// anyway). add_bos_token / add_eos_token in tokenizer_config.json override the post-processor
// for a token that the config files name (transformers rebuilds the template from them).
class HfTokenizer final : public Tokenizer {
 public:
  struct Impl;
  explicit HfTokenizer(std::unique_ptr<Impl> impl);
  ~HfTokenizer() override;

  std::vector<int32_t> encode(std::string_view text) const override;
  std::vector<int32_t> encode_with_specials(std::string_view text) const override;
  // encode() with the token strings Hugging Face reports (Encoding.tokens).
  std::vector<TokenPiece> encode_pieces(std::string_view text) const;
  std::string decode(const std::vector<int32_t>& ids) const override;
  // Hugging Face decode(ids, skip_special_tokens=false).
  std::string decode_keeping_specials(const std::vector<int32_t>& ids) const;
  std::string token_text(int32_t id) const override;
  int32_t token_id(std::string_view token) const override;
  bool adds_bos() const override;
  std::string chat_template() const override;
  int32_t vocab_size() const override;
  int32_t bos_id() const override;
  int32_t eos_id() const override;
  int32_t pad_id() const override;
  bool is_special(int32_t id) const;
  std::string kind() const override { return "hf"; }
  nlohmann::json describe() const override;  // {"kind": "hf", "dir": ...}

 private:
  std::unique_ptr<Impl> impl_;
};

// Reads dir/tokenizer.json and, when present, tokenizer_config.json, special_tokens_map.json,
// chat_template.jinja, config.json and generation_config.json. Throws InputError naming the file
// and the key at fault for anything malformed or unsupported.
std::unique_ptr<HfTokenizer> load_hf_tokenizer(const std::string& dir);

// Rebuilds a tokenizer from describe() ("byte", or "hf" from its folder); throws InputError for an
// unknown kind.
std::unique_ptr<Tokenizer> make_tokenizer(const nlohmann::json& description);

}  // namespace deeptune
