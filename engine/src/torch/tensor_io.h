// LibTorch tensors <-> safetensors files (the torch-free reader/writer lives in formats/).
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "deeptune/safetensors.h"

namespace deeptune::tensor_io {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

DType to_dtype(torch::ScalarType t);        // throws RunError for unsupported types
torch::ScalarType to_scalar_type(DType d);  // throws InputError for unsupported types

// Copies to CPU and writes in the given order (atomic replace).
void save(const std::string& path, const NamedTensors& tensors,
          std::map<std::string, std::string> metadata = {});
// The bytes `save` would write (to hash them before writing).
std::vector<uint8_t> serialize(const NamedTensors& tensors,
                               std::map<std::string, std::string> metadata = {});
// Every tensor of the file as a CPU tensor owning its memory.
std::map<std::string, torch::Tensor> load(const std::string& path);
torch::Tensor to_tensor(const SafetensorsFile& file, const TensorInfo& info);

}  // namespace deeptune::tensor_io
