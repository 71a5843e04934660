// Bridges torch tensors and the torch-free safetensors reader/writer.
#include "torch/tensor_io.h"

#include "deeptune/error.h"

namespace deeptune::tensor_io {

DType to_dtype(torch::ScalarType t) {
  switch (t) {
    case torch::kBool:
      return DType::kBool;
    case torch::kByte:
      return DType::kU8;
    case torch::kChar:
      return DType::kI8;
    case torch::kShort:
      return DType::kI16;
    case torch::kInt:
      return DType::kI32;
    case torch::kLong:
      return DType::kI64;
    case torch::kHalf:
      return DType::kF16;
    case torch::kBFloat16:
      return DType::kBF16;
    case torch::kFloat:
      return DType::kF32;
    case torch::kDouble:
      return DType::kF64;
    default:
      throw RunError("safetensors",
                     std::string("cannot store tensors of type ") + c10::toString(t));
  }
}

torch::ScalarType to_scalar_type(DType d) {
  switch (d) {
    case DType::kBool:
      return torch::kBool;
    case DType::kU8:
      return torch::kByte;
    case DType::kI8:
      return torch::kChar;
    case DType::kI16:
      return torch::kShort;
    case DType::kI32:
      return torch::kInt;
    case DType::kI64:
      return torch::kLong;
    case DType::kF16:
      return torch::kHalf;
    case DType::kBF16:
      return torch::kBFloat16;
    case DType::kF32:
      return torch::kFloat;
    case DType::kF64:
      return torch::kDouble;
    default:
      throw InputError("safetensors", "tensor type " + to_string(d) + " is not supported here");
  }
}

namespace {
// Calls f(views) with CPU, contiguous copies of `tensors` kept alive for the call.
template <typename F>
auto with_views(const NamedTensors& tensors, F&& f) {
  std::vector<torch::Tensor> keep;  // owns the CPU copies while the views point at them
  std::vector<TensorView> views;
  keep.reserve(tensors.size());
  views.reserve(tensors.size());
  for (const auto& [name, t] : tensors) {
    keep.push_back(t.detach().to(torch::kCPU).contiguous());
    const auto& c = keep.back();
    views.push_back({name, to_dtype(c.scalar_type()),
                     std::vector<int64_t>(c.sizes().begin(), c.sizes().end()), c.data_ptr()});
  }
  return f(views);
}
}  // namespace

void save(const std::string& path, const NamedTensors& tensors,
          std::map<std::string, std::string> metadata) {
  with_views(tensors, [&](const std::vector<TensorView>& views) {
    write_safetensors(path, views, std::move(metadata));
    return 0;
  });
}

std::vector<uint8_t> serialize(const NamedTensors& tensors,
                               std::map<std::string, std::string> metadata) {
  return with_views(tensors, [&](const std::vector<TensorView>& views) {
    return serialize_safetensors(views, std::move(metadata));
  });
}

torch::Tensor to_tensor(const SafetensorsFile& file, const TensorInfo& info) {
  const auto type = to_scalar_type(info.dtype);
  auto t = torch::empty(info.shape, torch::TensorOptions().dtype(type));
  if (info.end > info.begin) std::memcpy(t.data_ptr(), file.data(info), info.end - info.begin);
  return t;
}

std::map<std::string, torch::Tensor> load(const std::string& path) {
  const auto file = SafetensorsFile::read(path);
  std::map<std::string, torch::Tensor> out;
  for (const auto& info : file.tensors()) out.emplace(info.name, to_tensor(file, info));
  return out;
}

}  // namespace deeptune::tensor_io
