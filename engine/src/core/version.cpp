#include "deeptune/version.h"

#include "deeptune_version_info.h"

namespace deeptune {
std::string engine_version() {
  return DEEPTUNE_VERSION_STRING;
}
}  // namespace deeptune
