// Byte-level tokenizer for models built from scratch: lossless on any UTF-8 (or binary) text.
// Also the Tokenizer defaults and make_tokenizer.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "deeptune/error.h"
#include "deeptune/tokenizer.h"

namespace deeptune {

std::vector<int32_t> Tokenizer::encode_with_specials(std::string_view text) const {
  std::vector<int32_t> ids;
  if (adds_bos() && bos_id() >= 0) ids.push_back(bos_id());
  const std::vector<int32_t> body = encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  return ids;
}

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

std::string ByteTokenizer::token_text(int32_t id) const {
  if (id == kPad) return "<pad>";
  if (id == kBos) return "<bos>";
  if (id == kEos) return "<eos>";
  if (id < 0 || id >= 256) return {};
  if (id >= 0x21 && id <= 0x7E) return std::string(1, static_cast<char>(id));
  char name[8];
  std::snprintf(name, sizeof name, "<0x%02X>", static_cast<unsigned>(id));
  return name;
}

int32_t ByteTokenizer::token_id(std::string_view token) const {
  for (int32_t id = 0; id < kVocab; ++id)
    if (token_text(id) == token) return id;
  return -1;
}

nlohmann::json ByteTokenizer::describe() const {
  return {{"kind", "byte"},
          {"vocab_size", kVocab},
          {"pad_id", kPad},
          {"bos_id", kBos},
          {"eos_id", kEos}};
}

std::unique_ptr<Tokenizer> make_tokenizer(const nlohmann::json& description) {
  const std::string kind =
      description.is_object() && description.contains("kind") && description["kind"].is_string()
          ? description["kind"].get<std::string>()
          : std::string();
  if (kind == "byte") return std::make_unique<ByteTokenizer>();
  if (kind == "hf") {
    if (!description.contains("dir") || !description["dir"].is_string())
      throw InputError("tokenizer", "an \"hf\" tokenizer description needs its \"dir\"");
    return load_hf_tokenizer(description["dir"].get<std::string>());
  }
  throw InputError("tokenizer", "unknown tokenizer kind '" + kind + "'");
}

}  // namespace deeptune
