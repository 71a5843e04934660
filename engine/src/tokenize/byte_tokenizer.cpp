// Byte-level tokenizer for models built from scratch: lossless on any UTF-8 (or binary) text.
#include <nlohmann/json.hpp>

#include "deeptune/error.h"
#include "deeptune/tokenizer.h"

namespace deeptune {

std::vector<int32_t> ByteTokenizer::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size());
  for (unsigned char c : text) ids.push_back(static_cast<int32_t>(c));
  return ids;
}

std::string ByteTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  out.reserve(ids.size());
  for (int32_t id : ids)
    if (id >= 0 && id < 256) out.push_back(static_cast<char>(id));
  return out;
}

nlohmann::json ByteTokenizer::describe() const {
  return {{"kind", "byte"},
          {"vocab_size", kVocab},
          {"pad_id", kPad},
          {"bos_id", kBos},
          {"eos_id", kEos}};
}

std::unique_ptr<Tokenizer> make_tokenizer(const nlohmann::json& description) {
  const std::string kind = description.value("kind", std::string());
  if (kind == "byte") return std::make_unique<ByteTokenizer>();
  throw InputError("tokenizer", "unknown tokenizer kind '" + kind + "'");
}

}  // namespace deeptune
