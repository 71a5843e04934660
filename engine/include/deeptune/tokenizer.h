// Tokenizers turn text into ids. ByteTokenizer serves models built from scratch: one id per UTF-8
// byte plus three special tokens. (Hugging Face tokenizer.json BPE arrives with the HF-models
// issue.)
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
  virtual std::vector<int32_t> encode(std::string_view text) const = 0;   // no specials added
  virtual std::string decode(const std::vector<int32_t>& ids) const = 0;  // specials dropped
  virtual int32_t vocab_size() const = 0;
  virtual int32_t bos_id() const = 0;
  virtual int32_t eos_id() const = 0;
  virtual int32_t pad_id() const = 0;
  virtual std::string kind() const = 0;         // "byte", ...
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
  int32_t vocab_size() const override { return kVocab; }
  int32_t bos_id() const override { return kBos; }
  int32_t eos_id() const override { return kEos; }
  int32_t pad_id() const override { return kPad; }
  std::string kind() const override { return "byte"; }
  nlohmann::json describe() const override;
};

// Rebuilds a tokenizer from describe(); throws InputError for an unknown kind.
std::unique_ptr<Tokenizer> make_tokenizer(const nlohmann::json& description);

}  // namespace deeptune
