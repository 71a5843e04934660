// Enum <-> string through one table of (value, name) pairs per enum: both directions and the list
// of valid names for messages come from the same rows, so adding a value is one line and no
// switch can fall out of step with a parser.
#pragma once

#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deeptune {

template <typename E>
struct EnumName {
  E value;
  const char* name;
};

// `table` is any range of EnumName<E> (a std::array or a built-in array of them).
template <typename Table, typename E>
const char* name_of(const Table& table, E value) {
  for (const auto& entry : table)
    if (entry.value == value) return entry.name;
  return "?";  // unreachable for a value listed in the table
}

template <typename Table>
auto value_of(const Table& table, std::string_view name)
    -> std::optional<decltype(std::begin(table)->value)> {
  for (const auto& entry : table)
    if (name == entry.name) return entry.value;
  return std::nullopt;
}

template <typename Table>
std::vector<std::string> names_of(const Table& table) {
  std::vector<std::string> names;
  for (const auto& entry : table) names.emplace_back(entry.name);
  return names;
}

// "a, b or c", for messages that list what is accepted.
template <typename Table>
std::string names_text(const Table& table, const char* last_separator = " or ") {
  const std::vector<std::string> names = names_of(table);
  std::string text;
  for (size_t i = 0; i < names.size(); ++i)
    text += (i == 0 ? "" : i + 1 == names.size() ? last_separator : ", ") + names[i];
  return text;
}

}  // namespace deeptune
