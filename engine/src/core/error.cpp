// Error formatting: "<where>: <message>" so every message names what is at fault.
#include "deeptune/error.h"

namespace deeptune {
namespace {
std::string compose(const std::string& where, const std::string& message) {
  return where.empty() ? message : where + ": " + message;
}
}  // namespace

Error::Error(ErrorKind kind, std::string where, std::string message)
    : std::runtime_error(compose(where, message)),
      kind_(kind),
      where_(std::move(where)),
      message_(std::move(message)) {}

}  // namespace deeptune
