// Versions recorded with every run so it can be reproduced.
#pragma once

#include <string>

namespace deeptune {

std::string engine_version();  // e.g. "0.1.0"
std::string
torch_version();  // LibTorch the engine was built against, e.g. "1.13.1"; defined in dt_torch

}  // namespace deeptune
