// Typed access to a tokenizer.json value that names the file and the key at fault
// ("…/tokenizer.json: model.merges[12]: …") instead of letting nlohmann throw.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "deeptune/error.h"
#include "deeptune/json_input.h"

namespace deeptune::tok {

class JsonAt {
 public:
  JsonAt(const nlohmann::json& value, std::string file, std::string key)
      : value_(&value), file_(std::move(file)), key_(std::move(key)) {}

  const nlohmann::json& value() const { return *value_; }
  const std::string& file() const { return file_; }
  const std::string& key() const { return key_; }

  [[noreturn]] void fail(const std::string& message) const {
    throw InputError(key_.empty() ? file_ : file_ + ": " + key_, message);
  }
  // The member, which must be there (null counts as there).
  JsonAt operator[](const char* name) const {
    const auto& object = require_object();
    const auto it = object.find(name);
    if (it == object.end()) child_name(name).fail("is missing");
    return JsonAt(*it, file_, child_key(name));
  }
  // The member, or nothing when absent or null.
  std::optional<JsonAt> find(const char* name) const {
    const auto& object = require_object();
    const auto it = object.find(name);
    if (it == object.end() || it->is_null()) return std::nullopt;
    return JsonAt(*it, file_, child_key(name));
  }
  JsonAt at(size_t i) const {
    if (require_array().size() <= i)
      fail("must have at least " + std::to_string(i + 1) + " elements");
    return JsonAt((*value_)[i], file_, key_ + "[" + std::to_string(i) + "]");
  }
  bool is_null() const { return value_->is_null(); }

  const nlohmann::json& require_object() const {
    if (!value_->is_object()) fail("must be an object, found " + json_type_phrase(*value_));
    return *value_;
  }
  const nlohmann::json& require_array() const {
    if (!value_->is_array()) fail("must be an array, found " + json_type_phrase(*value_));
    return *value_;
  }
  std::string string() const {
    if (!value_->is_string()) fail("must be a string, found " + json_type_phrase(*value_));
    return value_->get<std::string>();
  }
  bool boolean() const {
    if (!value_->is_boolean()) fail("must be true or false, found " + json_type_phrase(*value_));
    return value_->get<bool>();
  }
  // An integer in [lo, hi].
  int64_t integer(int64_t lo, int64_t hi) const {
    if (!value_->is_number_integer())
      fail("must be an integer, found " + json_type_phrase(*value_));
    const bool is_unsigned = value_->is_number_unsigned();
    const auto u = is_unsigned ? value_->get<uint64_t>() : 0;
    const auto v = is_unsigned ? static_cast<int64_t>(u > uint64_t(INT64_MAX) ? INT64_MAX : u)
                               : value_->get<int64_t>();
    if (v < lo || v > hi)
      fail("is out of range: " + std::to_string(v) + " (expected " + std::to_string(lo) + "…" +
           std::to_string(hi) + ")");
    return v;
  }
  // A string member with a default when absent or null.
  std::string string_or(const char* name, const std::string& fallback) const {
    const auto m = find(name);
    return m ? m->string() : fallback;
  }
  bool boolean_or(const char* name, bool fallback) const {
    const auto m = find(name);
    return m ? m->boolean() : fallback;
  }

 private:
  std::string child_key(const char* name) const {
    return key_.empty() ? std::string(name) : key_ + "." + name;
  }
  JsonAt child_name(const char* name) const { return JsonAt(*value_, file_, child_key(name)); }

  const nlohmann::json* value_;
  std::string file_;
  std::string key_;
};

}  // namespace deeptune::tok
