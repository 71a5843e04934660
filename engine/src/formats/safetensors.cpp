// safetensors: strict reader (every check of shared/FORMATS.md, naming the tensor at fault) and an
// atomic writer whose bytes match what huggingface/safetensors writes for the same tensor order.
#include "deeptune/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "deeptune/error.h"
#include "deeptune/files.h"
#include "deeptune/text.h"

namespace deeptune {
namespace {

using nlohmann::json;

// The reference reader refuses larger headers: one that big is corruption, not a model.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
// Data starts at a multiple of 8 so every dtype can be read in place without misaligned loads.
constexpr size_t kAlignment = 8;
const char* const kMetadataKey = "__metadata__";

struct DTypeEntry {
  DType dtype;
  const char* name;
  size_t size;
};

constexpr DTypeEntry kDTypes[] = {
    {DType::kBool, "BOOL", 1}, {DType::kU8, "U8", 1},          {DType::kI8, "I8", 1},
    {DType::kI16, "I16", 2},   {DType::kU16, "U16", 2},        {DType::kI32, "I32", 4},
    {DType::kU32, "U32", 4},   {DType::kI64, "I64", 8},        {DType::kU64, "U64", 8},
    {DType::kF16, "F16", 2},   {DType::kBF16, "BF16", 2},      {DType::kF32, "F32", 4},
    {DType::kF64, "F64", 8},   {DType::kF8E4M3, "F8_E4M3", 1}, {DType::kF8E5M2, "F8_E5M2", 1},
};

const DTypeEntry& entry_of(DType d) {
  for (const auto& e : kDTypes) {
    if (e.dtype == d) return e;
  }
  return kDTypes[0];  // unreachable: every enumerator is in the table
}

std::string tensor_where(const std::string& origin, const std::string& name) {
  const std::string tensor = "tensor '" + name + "'";
  return origin.empty() ? tensor : origin + ": " + tensor;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

std::string json_type(const json& v) {
  return v.type_name();
}

// a * b, or false when it does not fit in 64 bits.
bool checked_mul(uint64_t a, uint64_t b, uint64_t* out) {
  if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a) return false;
  *out = a * b;
  return true;
}

// Element count and byte size of a tensor, or false on 64-bit overflow.
bool byte_size(const std::vector<int64_t>& shape, DType dtype, uint64_t* numel, uint64_t* bytes) {
  uint64_t n = 1;
  for (int64_t dim : shape) {
    if (!checked_mul(n, static_cast<uint64_t>(dim), &n)) return false;
  }
  *numel = n;
  return checked_mul(n, dtype_size(dtype), bytes);
}

// nlohmann's parser keeps the last of two equal keys without a word; the reference reader rejects
// such a header, so the keys of every object are collected during the parse.
struct DuplicateFinder {
  std::vector<std::set<std::string>> open_objects;  // keys seen so far, innermost object last
  std::string top_key;                              // entry currently being parsed
  bool found = false;
  std::string key;    // the repeated key
  std::string entry;  // top-level entry holding it; empty when `key` itself is top-level

  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        open_objects.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case json::parse_event_t::key: {
        const std::string k = parsed.get<std::string>();
        if (open_objects.size() == 1) top_key = k;
        if (!open_objects.empty() && !open_objects.back().insert(k).second && !found) {
          found = true;
          key = k;
          entry = open_objects.size() == 1 ? "" : top_key;
        }
        break;
      }
      default:
        break;
    }
    return true;
  }
};

// A non-negative JSON integer, or false.
bool as_u64(const json& v, uint64_t* out) {
  if (v.is_number_unsigned()) {
    *out = v.get<uint64_t>();
    return true;
  }
  if (v.is_number_integer() && v.get<int64_t>() >= 0) {
    *out = static_cast<uint64_t>(v.get<int64_t>());
    return true;
  }
  return false;
}

TensorInfo parse_entry(const std::string& name, const json& entry, const std::string& origin) {
  const std::string where = tensor_where(origin, name);
  if (!entry.is_object()) {
    throw InputError(where, "entry must be an object with dtype, shape and data_offsets, got " +
                                json_type(entry));
  }
  static const char* const kFields[] = {"dtype", "shape", "data_offsets"};
  for (const auto& [key, value] : entry.items()) {
    (void)value;
    if (std::find_if(std::begin(kFields), std::end(kFields),
                     [&](const char* f) { return key == f; }) == std::end(kFields)) {
      throw InputError(where, "unexpected key '" + key +
                                  "' (an entry holds exactly dtype, shape and data_offsets)");
    }
  }
  for (const char* field : kFields) {
    if (!entry.contains(field)) throw InputError(where, std::string("missing '") + field + "'");
  }

  TensorInfo info;
  info.name = name;
  const json& dtype = entry["dtype"];
  if (!dtype.is_string())
    throw InputError(where, "dtype must be a string, got " + json_type(dtype));
  if (!dtype_from_string(dtype.get<std::string>(), &info.dtype)) {
    throw InputError(where, "unknown dtype '" + dtype.get<std::string>() + "'");
  }

  const json& shape = entry["shape"];
  if (!shape.is_array()) throw InputError(where, "shape must be a list, got " + json_type(shape));
  for (const json& dim : shape) {
    uint64_t d = 0;
    if (!dim.is_number_integer()) {
      throw InputError(where, "shape entries must be integers, got " + dim.dump());
    }
    if (!as_u64(dim, &d)) throw InputError(where, "shape has a negative dimension " + dim.dump());
    if (d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      throw InputError(where, "shape dimension " + dim.dump() + " is too large");
    }
    info.shape.push_back(static_cast<int64_t>(d));
  }

  const json& offsets = entry["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 || !as_u64(offsets[0], &info.begin) ||
      !as_u64(offsets[1], &info.end)) {
    throw InputError(where, "data_offsets must be two non-negative integers [begin, end], got " +
                                offsets.dump());
  }
  if (info.end < info.begin) {
    throw InputError(where, "data_offsets " + offsets.dump() + " end before they begin");
  }

  uint64_t numel = 0, bytes = 0;
  if (!byte_size(info.shape, info.dtype, &numel, &bytes) ||
      numel > std::numeric_limits<size_t>::max()) {
    throw InputError(where, "shape " + shape_text(info.shape) + " of " + to_string(info.dtype) +
                                " overflows a 64-bit byte count");
  }
  if (info.end - info.begin != bytes) {
    throw InputError(where, "data_offsets " + offsets.dump() + " span " +
                                std::to_string(info.end - info.begin) + " bytes but " +
                                to_string(info.dtype) + " " + shape_text(info.shape) + " needs " +
                                std::to_string(bytes));
  }
  return info;
}

std::map<std::string, std::string> parse_metadata(const json& v, const std::string& origin) {
  if (!v.is_object()) {
    throw InputError(origin,
                     "__metadata__ must be an object of string to string, got " + json_type(v));
  }
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : v.items()) {
    if (!value.is_string()) {
      throw InputError(
          origin, "__metadata__ value of '" + key + "' must be a string, got " + json_type(value));
    }
    out[key] = value.get<std::string>();
  }
  return out;
}

// The length prefix and JSON header for `tensors` (their data is not read), with each tensor's
// byte size in `sizes`. Checks names, shapes and metadata.
std::vector<uint8_t> header_bytes(const std::vector<TensorView>& tensors,
                                  std::map<std::string, std::string> metadata,
                                  const std::string& origin, std::vector<uint64_t>* sizes) {
  // transformers refuses to load a checkpoint whose format is not "pt".
  metadata.emplace("format", "pt");

  auto is_utf8 = [](const std::string& s) { return is_valid_utf8(s); };
  for (const auto& [key, value] : metadata) {
    if (!is_utf8(key) || !is_utf8(value)) {
      throw InputError(origin, "metadata entry '" + key + "' is not valid UTF-8");
    }
  }

  std::set<std::string> names;
  std::string header = "{\"" + std::string(kMetadataKey) + "\":" + json(metadata).dump();
  uint64_t offset = 0;
  for (const TensorView& t : tensors) {
    const std::string where = tensor_where(origin, t.name);
    if (t.name == kMetadataKey) throw InputError(where, "the name is reserved for metadata");
    if (!names.insert(t.name).second) throw InputError(where, "duplicate tensor name");
    if (!is_utf8(t.name)) throw InputError(where, "the name is not valid UTF-8");
    for (int64_t dim : t.shape) {
      if (dim < 0) throw InputError(where, "shape " + shape_text(t.shape) + " has a negative dim");
    }
    uint64_t numel = 0, bytes = 0;
    if (!byte_size(t.shape, t.dtype, &numel, &bytes)) {
      throw InputError(where, "shape " + shape_text(t.shape) + " overflows a 64-bit byte count");
    }
    // Same layout as the reference writer: compact JSON, keys dtype, shape, data_offsets.
    header += "," + json(t.name).dump() + ":{\"dtype\":\"" + to_string(t.dtype) +
              "\",\"shape\":" + json(t.shape).dump() + ",\"data_offsets\":[" +
              std::to_string(offset) + "," + std::to_string(offset + bytes) + "]}";
    offset += bytes;
    sizes->push_back(bytes);
  }
  header += "}";
  header.append((kAlignment - header.size() % kAlignment) % kAlignment, ' ');
  if (header.size() > kMaxHeaderBytes) {
    throw InputError(origin, "header of " + std::to_string(header.size()) +
                                 " bytes exceeds the 100 MB that readers accept");
  }
  std::vector<uint8_t> out;
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(n >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  return out;
}

std::vector<uint8_t> serialize(const std::vector<TensorView>& tensors,
                               std::map<std::string, std::string> metadata,
                               const std::string& origin) {
  std::vector<uint64_t> sizes;
  std::vector<uint8_t> out = header_bytes(tensors, std::move(metadata), origin, &sizes);
  for (size_t i = 0; i < tensors.size(); ++i)
    if (sizes[i] > 0 && tensors[i].data == nullptr)
      throw InputError(tensor_where(origin, tensors[i].name), "no data for a non-empty tensor");
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto* p = static_cast<const uint8_t*>(tensors[i].data);
    if (sizes[i] > 0) out.insert(out.end(), p, p + sizes[i]);
  }
  return out;
}

}  // namespace

std::string to_string(DType d) {
  return entry_of(d).name;
}

size_t dtype_size(DType d) {
  return entry_of(d).size;
}

bool dtype_from_string(const std::string& s, DType* out) {
  for (const auto& e : kDTypes) {
    if (s == e.name) {
      *out = e.dtype;
      return true;
    }
  }
  return false;
}

size_t TensorInfo::numel() const {
  size_t n = 1;
  for (int64_t dim : shape) n *= static_cast<size_t>(dim);
  return n;
}

SafetensorsFile SafetensorsFile::read(const std::string& path) {
  return parse(read_file_bytes(path), path);
}

SafetensorsFile SafetensorsFile::parse(std::vector<uint8_t> bytes, const std::string& origin) {
  auto owner = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  return parse_view(owner, owner->data(), owner->size(), origin);
}

SafetensorsFile SafetensorsFile::map(const std::string& path) {
  MappedFile m = map_file(path);
  if (m.size == 0) return parse(std::vector<uint8_t>(), path);  // the same message as a read
  return parse_view(std::move(m.owner), m.data, m.size, path);
}

SafetensorsFile SafetensorsFile::parse_view(std::shared_ptr<const void> owner, const uint8_t* bytes,
                                            uint64_t file_size, const std::string& origin) {
  if (file_size < 8) {
    throw InputError(origin, "file is " + std::to_string(file_size) +
                                 " bytes, too short for the 8-byte header length");
  }
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  if (n > kMaxHeaderBytes) {
    throw InputError(origin, "header length " + std::to_string(n) +
                                 " exceeds the 100 MB limit (not a safetensors file?)");
  }
  if (8 + n > file_size) {
    throw InputError(origin, "header length " + std::to_string(n) +
                                 " runs past the end of the file (" + std::to_string(file_size) +
                                 " bytes)");
  }
  const uint8_t* header = bytes + 8;
  if (const auto bad = find_invalid_utf8(
          std::string_view(reinterpret_cast<const char*>(header), static_cast<size_t>(n)))) {
    throw InputError(origin, "header is not valid UTF-8 (byte " + std::to_string(bad->offset) +
                                 ": " + bad->reason + ")");
  }

  // JSON never holds a raw NUL, but nlohmann's lexer takes one as the end of input and would
  // accept "{}\0garbage"; the reference reader refuses it, so do we.
  if (const void* nul = std::memchr(header, 0, n)) {
    throw InputError(origin, "header is not valid JSON: NUL byte at offset " +
                                 std::to_string(static_cast<const uint8_t*>(nul) - header));
  }

  DuplicateFinder duplicates;
  json doc;
  try {
    doc = json::parse(header, header + n, std::ref(duplicates));
  } catch (const json::parse_error& e) {
    throw InputError(origin, std::string("header is not valid JSON: ") + e.what());
  }
  if (!doc.is_object()) throw InputError(origin, "header is not a JSON object");
  if (duplicates.found) {
    if (duplicates.entry.empty() && duplicates.key == kMetadataKey) {
      throw InputError(origin, "__metadata__ appears more than once");
    }
    if (duplicates.entry.empty()) {
      throw InputError(tensor_where(origin, duplicates.key), "name appears more than once");
    }
    const std::string where =
        duplicates.entry == kMetadataKey ? origin : tensor_where(origin, duplicates.entry);
    const std::string scope = duplicates.entry == kMetadataKey ? "__metadata__ key '" : "key '";
    throw InputError(where, scope + duplicates.key + "' appears more than once");
  }

  SafetensorsFile file;
  file.origin_ = origin;
  for (const auto& [name, value] : doc.items()) {
    if (name == kMetadataKey) {
      file.metadata_ = parse_metadata(value, origin);
    } else {
      file.tensors_.push_back(parse_entry(name, value, origin));
    }
  }

  // Offsets must tile the data buffer exactly: sorted, from 0, no gap, no overlap.
  std::stable_sort(file.tensors_.begin(), file.tensors_.end(),
                   [](const TensorInfo& a, const TensorInfo& b) {
                     return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
                   });
  const uint64_t data_size = file_size - 8 - n;
  uint64_t covered = 0;
  const TensorInfo* previous = nullptr;
  for (const TensorInfo& t : file.tensors_) {
    const std::string where = tensor_where(origin, t.name);
    if (t.begin > covered) {
      throw InputError(
          where, "gap of " + std::to_string(t.begin - covered) +
                     " bytes before this tensor: it starts at " + std::to_string(t.begin) +
                     " but " + (previous ? "tensor '" + previous->name + "' ends" : "data starts") +
                     " at " + std::to_string(covered));
    }
    if (t.begin < covered) {
      throw InputError(where, "data_offsets start at " + std::to_string(t.begin) +
                                  ", overlapping tensor '" + previous->name + "' which ends at " +
                                  std::to_string(covered));
    }
    if (t.end > data_size) {
      throw InputError(where, "data_offsets end at " + std::to_string(t.end) +
                                  ", past the end of the data buffer (" +
                                  std::to_string(data_size) + " bytes)");
    }
    covered = t.end;
    previous = &t;
  }
  if (covered != data_size) {
    throw InputError(origin, "the tensors cover " + std::to_string(covered) +
                                 " bytes of data but the file holds " + std::to_string(data_size) +
                                 " after the header (trailing bytes)");
  }

  for (size_t i = 0; i < file.tensors_.size(); ++i) file.index_[file.tensors_[i].name] = i;
  file.data_start_ = static_cast<size_t>(8 + n);
  file.owner_ = std::move(owner);
  file.bytes_ = bytes;
  file.size_ = file_size;
  return file;
}

bool SafetensorsFile::contains(const std::string& name) const {
  return index_.count(name) != 0;
}

const TensorInfo& SafetensorsFile::info(const std::string& name) const {
  const auto it = index_.find(name);
  if (it == index_.end()) throw InputError(tensor_where(origin_, name), "not found in the file");
  return tensors_[it->second];
}

const uint8_t* SafetensorsFile::data(const TensorInfo& t) const {
  return bytes_ + data_start_ + t.begin;
}

void write_safetensors(const std::string& path, const std::vector<TensorView>& tensors,
                       std::map<std::string, std::string> metadata) {
  const auto bytes = serialize(tensors, std::move(metadata), path);
  write_file_atomic(path, bytes.data(), bytes.size());
}

std::vector<uint8_t> serialize_safetensors(const std::vector<TensorView>& tensors,
                                           std::map<std::string, std::string> metadata) {
  return serialize(tensors, std::move(metadata), "");
}

SafetensorsWriter::SafetensorsWriter(std::string path, std::map<std::string, std::string> metadata)
    : path_(std::move(path)), metadata_(std::move(metadata)) {}

SafetensorsWriter::~SafetensorsWriter() = default;

void SafetensorsWriter::add_tensor(std::string name, DType dtype, std::vector<int64_t> shape) {
  if (file_) throw InputError(path_, "tensor declared after the header was written");
  tensors_.push_back({std::move(name), dtype, std::move(shape), nullptr});
}

uint64_t SafetensorsWriter::write_header() {
  if (file_) throw InputError(path_, "the header was already written");
  sizes_.clear();
  const auto header = header_bytes(tensors_, metadata_, path_, &sizes_);
  total_ = header.size();
  for (uint64_t n : sizes_) total_ += n;
  file_ = std::make_unique<AtomicFile>(path_);
  file_->write(header.data(), header.size());
  return total_;
}

void SafetensorsWriter::write_tensor(const void* data, size_t bytes) {
  if (!file_) throw InputError(path_, "tensor data written before the header");
  if (next_ >= tensors_.size())
    throw InputError(path_, "more tensor data than the " + std::to_string(tensors_.size()) +
                                " declared tensors");
  const std::string where = tensor_where(path_, tensors_[next_].name);
  if (bytes != sizes_[next_])
    throw InputError(where, "got " + std::to_string(bytes) + " bytes, its shape needs " +
                                std::to_string(sizes_[next_]));
  file_->write(data, bytes);
  ++next_;
}

void SafetensorsWriter::finish() {
  if (!file_) throw InputError(path_, "finish() before the header was written");
  if (next_ != tensors_.size())
    throw InputError(tensor_where(path_, tensors_[next_].name),
                     "finish() before this tensor's data was written");
  file_->commit();
}

uint64_t SafetensorsWriter::written() const {
  return file_ ? file_->written() : 0;
}

}  // namespace deeptune
