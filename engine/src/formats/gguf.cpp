// GGUF v3: strict reader (every check of shared/FORMATS.md, naming the key or tensor at fault) and
// a streaming writer converting fp32 input to F32/F16/BF16/Q8_0 one tensor at a time.
#include "deeptune/gguf.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

#include "deeptune/error.h"
#include "deeptune/files.h"

namespace deeptune::gguf {
namespace {

constexpr char kMagic[4] = {'G', 'G', 'U', 'F'};
constexpr uint32_t kVersion = 3;
const char* const kAlignmentKey = "general.alignment";
constexpr uint64_t kQ8Block = 32;
constexpr uint64_t kQ8BlockBytes = 2 + kQ8Block;  // fp16 scale + 32 int8
// fp16's largest finite value; a Q8_0 scale above it would be stored as Inf.
constexpr float kFp16Max = 65504.0f;
// Elements converted per write: 4 MiB of fp32 input, a whole number of Q8_0 blocks.
constexpr size_t kChunkElements = size_t(1) << 20;

struct ValueTypeEntry {
  ValueType type;
  const char* name;
  uint64_t size;  // bytes of a scalar; strings and arrays take at least 8 (their length)
};
constexpr ValueTypeEntry kValueTypes[] = {
    {ValueType::kU8, "u8", 1},         {ValueType::kI8, "i8", 1},
    {ValueType::kU16, "u16", 2},       {ValueType::kI16, "i16", 2},
    {ValueType::kU32, "u32", 4},       {ValueType::kI32, "i32", 4},
    {ValueType::kF32, "f32", 4},       {ValueType::kBool, "bool", 1},
    {ValueType::kString, "string", 8}, {ValueType::kArray, "array", 12},
    {ValueType::kU64, "u64", 8},       {ValueType::kI64, "i64", 8},
    {ValueType::kF64, "f64", 8},
};

const ValueTypeEntry* value_entry(uint32_t raw) {
  for (const auto& e : kValueTypes) {
    if (static_cast<uint32_t>(e.type) == raw) return &e;
  }
  return nullptr;
}

bool known_tensor_type(uint32_t raw) {
  return raw == 0 || raw == 1 || raw == 8 || raw == 30;
}

std::string key_where(const std::string& origin, const std::string& key) {
  return origin + ": key '" + key + "'";
}
std::string tensor_where(const std::string& origin, const std::string& name) {
  return origin + ": tensor '" + name + "'";
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

bool checked_mul(uint64_t a, uint64_t b, uint64_t* out) {
  if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a) return false;
  *out = a * b;
  return true;
}

uint64_t align_up(uint64_t n, uint64_t alignment) {
  return (n + alignment - 1) / alignment * alignment;
}

bool is_power_of_two(uint64_t n) {
  return n != 0 && (n & (n - 1)) == 0;
}

// Bounds-checked little-endian reads over the mapped bytes; `where` names what is being read so
// that a truncated file says which section it ended in.
class Cursor {
 public:
  Cursor(const uint8_t* bytes, uint64_t size, std::string origin)
      : bytes_(bytes), size_(size), origin_(std::move(origin)) {}

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }

  const uint8_t* take(uint64_t n, const std::string& where, const std::string& what) {
    if (n > remaining()) {
      throw InputError(where, "file ends while reading " + what + " (at byte " +
                                  std::to_string(pos_) + " of " + std::to_string(size_) + ")");
    }
    const uint8_t* p = bytes_ + pos_;
    pos_ += n;
    return p;
  }
  template <typename T>
  T read(const std::string& where, const std::string& what) {
    T v;
    std::memcpy(&v, take(sizeof(T), where, what), sizeof(T));  // little-endian hosts only
    return v;
  }
  std::string string(const std::string& where, const std::string& what) {
    const auto n = read<uint64_t>(where, what + " length");
    if (n > remaining()) {
      throw InputError(where, what + " of " + std::to_string(n) +
                                  " bytes runs past the end of the file (" +
                                  std::to_string(remaining()) + " bytes left)");
    }
    const uint8_t* p = take(n, where, what);
    return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
  }

 private:
  const uint8_t* bytes_;
  uint64_t size_;
  uint64_t pos_ = 0;
  std::string origin_;
};

Value read_scalar(Cursor& c, ValueType type, const std::string& where) {
  Value v;
  v.type = type;
  switch (type) {
    case ValueType::kU8:
      v.u = c.read<uint8_t>(where, "a u8 value");
      break;
    case ValueType::kI8:
      v.i = c.read<int8_t>(where, "an i8 value");
      break;
    case ValueType::kU16:
      v.u = c.read<uint16_t>(where, "a u16 value");
      break;
    case ValueType::kI16:
      v.i = c.read<int16_t>(where, "an i16 value");
      break;
    case ValueType::kU32:
      v.u = c.read<uint32_t>(where, "a u32 value");
      break;
    case ValueType::kI32:
      v.i = c.read<int32_t>(where, "an i32 value");
      break;
    case ValueType::kF32:
      v.f = c.read<float>(where, "an f32 value");
      break;
    case ValueType::kBool: {
      const auto b = c.read<uint8_t>(where, "a bool value");
      if (b > 1) throw InputError(where, "bool value " + std::to_string(b) + " is neither 0 nor 1");
      v.b = b == 1;
      break;
    }
    case ValueType::kString:
      v.s = c.string(where, "a string value");
      break;
    case ValueType::kU64:
      v.u = c.read<uint64_t>(where, "a u64 value");
      break;
    case ValueType::kI64:
      v.i = c.read<int64_t>(where, "an i64 value");
      break;
    case ValueType::kF64:
      v.f = c.read<double>(where, "an f64 value");
      break;
    case ValueType::kArray:
      break;  // handled by the caller
  }
  return v;
}

Value read_value(Cursor& c, uint32_t raw_type, const std::string& where) {
  const ValueTypeEntry* entry = value_entry(raw_type);
  if (!entry) throw InputError(where, "unknown value type " + std::to_string(raw_type));
  if (entry->type != ValueType::kArray) return read_scalar(c, entry->type, where);

  const auto raw_element = c.read<uint32_t>(where, "the array element type");
  const ValueTypeEntry* element = value_entry(raw_element);
  if (!element) {
    throw InputError(where, "unknown array element type " + std::to_string(raw_element));
  }
  if (element->type == ValueType::kArray) throw InputError(where, "nested arrays are not allowed");
  const auto count = c.read<uint64_t>(where, "the array length");
  // Every element takes at least `size` bytes, so a longer array cannot fit in what is left.
  if (count > c.remaining() / element->size) {
    throw InputError(where, "array of " + std::to_string(count) + " " + element->name +
                                " values runs past the end of the file (" +
                                std::to_string(c.remaining()) + " bytes left)");
  }
  Value v;
  v.type = ValueType::kArray;
  v.element_type = element->type;
  v.items.reserve(static_cast<size_t>(count));
  for (uint64_t k = 0; k < count; ++k) v.items.push_back(read_scalar(c, element->type, where));
  return v;
}

void append(std::vector<uint8_t>& out, const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  out.insert(out.end(), b, b + n);
}
template <typename T>
void append_le(std::vector<uint8_t>& out, T v) {
  append(out, &v, sizeof(T));  // little-endian hosts only
}
void append_string(std::vector<uint8_t>& out, const std::string& s) {
  append_le<uint64_t>(out, s.size());
  append(out, s.data(), s.size());
}

void append_scalar(std::vector<uint8_t>& out, const Value& v) {
  switch (v.type) {
    case ValueType::kU8:
      append_le(out, static_cast<uint8_t>(v.u));
      break;
    case ValueType::kI8:
      append_le(out, static_cast<int8_t>(v.i));
      break;
    case ValueType::kU16:
      append_le(out, static_cast<uint16_t>(v.u));
      break;
    case ValueType::kI16:
      append_le(out, static_cast<int16_t>(v.i));
      break;
    case ValueType::kU32:
      append_le(out, static_cast<uint32_t>(v.u));
      break;
    case ValueType::kI32:
      append_le(out, static_cast<int32_t>(v.i));
      break;
    case ValueType::kF32:
      append_le(out, static_cast<float>(v.f));
      break;
    case ValueType::kBool:
      append_le(out, static_cast<uint8_t>(v.b ? 1 : 0));
      break;
    case ValueType::kString:
      append_string(out, v.s);
      break;
    case ValueType::kU64:
      append_le(out, v.u);
      break;
    case ValueType::kI64:
      append_le(out, v.i);
      break;
    case ValueType::kF64:
      append_le(out, v.f);
      break;
    case ValueType::kArray:
      append_le(out, static_cast<uint32_t>(v.element_type));
      append_le<uint64_t>(out, v.items.size());
      for (const Value& item : v.items) append_scalar(out, item);
      break;
  }
}

}  // namespace

// --- types ------------------------------------------------------------------------------------

std::string to_string(ValueType t) {
  const ValueTypeEntry* e = value_entry(static_cast<uint32_t>(t));
  return e ? e->name : "type " + std::to_string(static_cast<uint32_t>(t));
}

std::string to_string(TensorType t) {
  switch (t) {
    case TensorType::kF32:
      return "F32";
    case TensorType::kF16:
      return "F16";
    case TensorType::kQ8_0:
      return "Q8_0";
    case TensorType::kBF16:
      return "BF16";
  }
  return "type " + std::to_string(static_cast<uint32_t>(t));
}

uint64_t block_elements(TensorType t) {
  return t == TensorType::kQ8_0 ? kQ8Block : 1;
}

uint64_t block_bytes(TensorType t) {
  switch (t) {
    case TensorType::kF32:
      return 4;
    case TensorType::kF16:
    case TensorType::kBF16:
      return 2;
    case TensorType::kQ8_0:
      return kQ8BlockBytes;
  }
  return 0;
}

bool tensor_byte_size(TensorType t, uint64_t numel, uint64_t* bytes) {
  if (numel % block_elements(t) != 0) return false;
  return checked_mul(numel / block_elements(t), block_bytes(t), bytes);
}

uint64_t TensorInfo::numel() const {
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  return n;
}

Value Value::u8(uint8_t v) {
  Value x;
  x.type = ValueType::kU8;
  x.u = v;
  return x;
}
Value Value::i8(int8_t v) {
  Value x;
  x.type = ValueType::kI8;
  x.i = v;
  return x;
}
Value Value::u16(uint16_t v) {
  Value x;
  x.type = ValueType::kU16;
  x.u = v;
  return x;
}
Value Value::i16(int16_t v) {
  Value x;
  x.type = ValueType::kI16;
  x.i = v;
  return x;
}
Value Value::u32(uint32_t v) {
  Value x;
  x.type = ValueType::kU32;
  x.u = v;
  return x;
}
Value Value::i32(int32_t v) {
  Value x;
  x.type = ValueType::kI32;
  x.i = v;
  return x;
}
Value Value::f32(float v) {
  Value x;
  x.type = ValueType::kF32;
  x.f = v;
  return x;
}
Value Value::boolean(bool v) {
  Value x;
  x.type = ValueType::kBool;
  x.b = v;
  return x;
}
Value Value::string(std::string v) {
  Value x;
  x.type = ValueType::kString;
  x.s = std::move(v);
  return x;
}
Value Value::u64(uint64_t v) {
  Value x;
  x.type = ValueType::kU64;
  x.u = v;
  return x;
}
Value Value::i64(int64_t v) {
  Value x;
  x.type = ValueType::kI64;
  x.i = v;
  return x;
}
Value Value::f64(double v) {
  Value x;
  x.type = ValueType::kF64;
  x.f = v;
  return x;
}
Value Value::array(ValueType element_type, std::vector<Value> items) {
  Value x;
  x.type = ValueType::kArray;
  x.element_type = element_type;
  x.items = std::move(items);
  return x;
}
Value Value::strings(const std::vector<std::string>& v) {
  std::vector<Value> items;
  items.reserve(v.size());
  for (const auto& s : v) items.push_back(string(s));
  return array(ValueType::kString, std::move(items));
}

bool operator==(const Value& a, const Value& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case ValueType::kU8:
    case ValueType::kU16:
    case ValueType::kU32:
    case ValueType::kU64:
      return a.u == b.u;
    case ValueType::kI8:
    case ValueType::kI16:
    case ValueType::kI32:
    case ValueType::kI64:
      return a.i == b.i;
    case ValueType::kF32:
    case ValueType::kF64:
      // Bitwise, so NaN equals the NaN it was written as.
      return std::memcmp(&a.f, &b.f, sizeof(double)) == 0;
    case ValueType::kBool:
      return a.b == b.b;
    case ValueType::kString:
      return a.s == b.s;
    case ValueType::kArray:
      return a.element_type == b.element_type && a.items == b.items;
  }
  return false;
}

// --- conversions ------------------------------------------------------------------------------

uint16_t fp32_to_fp16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const auto sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t ax = x & 0x7FFFFFFFu;
  if (ax >= 0x7F800000u) {
    if (ax == 0x7F800000u) return sign | 0x7C00u;
    return static_cast<uint16_t>(sign | 0x7E00u | ((ax >> 13) & 0x3FFu));  // quiet NaN
  }
  // 65520 is the midpoint between 65504 (odd mantissa) and 2^16: ties go to even, i.e. Inf.
  if (ax >= 0x477FF000u) return sign | 0x7C00u;
  if (ax < 0x38800000u) {
    // Below 2^-14: fp16 subnormal, a multiple of 2^-24. Scaling by 2^24 is exact in fp32, and
    // nearbyint rounds ties to even under the default rounding mode.
    float a;
    std::memcpy(&a, &ax, 4);
    const auto m = static_cast<uint32_t>(std::nearbyint(a * 16777216.0f));
    return static_cast<uint16_t>(sign | m);  // m == 0x400 is the smallest normal: still right
  }
  const uint32_t exponent = (ax >> 23) - 127 + 15;
  const uint32_t mantissa = ax & 0x7FFFFFu;
  uint32_t h = (exponent << 10) | (mantissa >> 13);
  const uint32_t rest = mantissa & 0x1FFFu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // a carry moves into the exponent
  return static_cast<uint16_t>(sign | h);
}

float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu;
  const uint32_t mantissa = h & 0x3FFu;
  uint32_t x;
  if (exponent == 0) {
    const float v = static_cast<float>(mantissa) * (1.0f / 16777216.0f);  // exact
    return sign ? -v : v;
  }
  if (exponent == 31) {
    x = sign | 0x7F800000u | (mantissa << 13);
  } else {
    x = sign | ((exponent - 15 + 127) << 23) | (mantissa << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

uint16_t fp32_to_bf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  // Adding 0x7FFF plus the kept lsb rounds ties to even; overflow carries into Inf.
  return static_cast<uint16_t>((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

float bf16_to_fp32(uint16_t b) {
  const uint32_t x = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

bool quantize_q8_0_row(const float* x, size_t n, uint8_t* out) {
  for (size_t b = 0; b < n / kQ8Block; ++b) {
    const float* block = x + b * kQ8Block;
    uint8_t* dst = out + b * kQ8BlockBytes;
    float amax = 0;
    for (size_t k = 0; k < kQ8Block; ++k) {
      if (!std::isfinite(block[k])) return false;
      amax = std::max(amax, std::fabs(block[k]));
    }
    const float d = amax / 127.0f;
    if (d > kFp16Max) return false;
    const float inverse = d != 0 ? 1.0f / d : 0.0f;
    const uint16_t d16 = fp32_to_fp16(d);
    std::memcpy(dst, &d16, 2);
    for (size_t k = 0; k < kQ8Block; ++k) {
      // |x / d| <= 127 up to one ulp; the clamp keeps that ulp from wrapping an int8.
      const float r = std::round(block[k] * inverse);
      dst[2 + k] = static_cast<uint8_t>(static_cast<int8_t>(std::clamp(r, -127.0f, 127.0f)));
    }
  }
  return true;
}

void dequantize_q8_0_row(const uint8_t* in, size_t n, float* out) {
  for (size_t b = 0; b < n / kQ8Block; ++b) {
    const uint8_t* src = in + b * kQ8BlockBytes;
    uint16_t d16;
    std::memcpy(&d16, src, 2);
    const float d = fp16_to_fp32(d16);
    for (size_t k = 0; k < kQ8Block; ++k) {
      out[b * kQ8Block + k] = d * static_cast<float>(static_cast<int8_t>(src[2 + k]));
    }
  }
}

float q8_0_block_error_bound(const float* block) {
  float amax = 0;
  for (size_t k = 0; k < kQ8Block; ++k) amax = std::max(amax, std::fabs(block[k]));
  const float d = amax / 127.0f;
  // Rounding x * (1 / d) in float can land one ulp over the half-way point, and the product d * q
  // is rounded once more: a few ulps of slack on each term.
  return d / 2 * (1 + 1e-5f) + 127.0f * std::fabs(d - fp16_to_fp32(fp32_to_fp16(d))) + amax * 1e-6f;
}

// --- reader -----------------------------------------------------------------------------------

GgufFile GgufFile::parse(std::vector<uint8_t> bytes, const std::string& origin) {
  auto owner = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  return parse_view(owner, owner->data(), owner->size(), origin);
}

GgufFile GgufFile::map(const std::string& path) {
  MappedFile m = map_file(path);
  if (m.size == 0) return parse(std::vector<uint8_t>(), path);  // the same message as a read
  return parse_view(std::move(m.owner), m.data, m.size, path);
}

GgufFile GgufFile::parse_view(std::shared_ptr<const void> owner, const uint8_t* bytes,
                              uint64_t size, const std::string& origin) {
  Cursor c(bytes, size, origin);
  const uint8_t* magic = c.take(4, origin, "the magic");
  if (std::memcmp(magic, kMagic, 4) != 0) throw InputError(origin, "not a GGUF file (bad magic)");
  const auto version = c.read<uint32_t>(origin, "the version");
  if (version != kVersion) {
    throw InputError(
        origin, "GGUF version " + std::to_string(version) + " is not supported (only version 3)");
  }
  const auto tensor_count = c.read<uint64_t>(origin, "the tensor count");
  const auto kv_count = c.read<uint64_t>(origin, "the metadata count");
  // A KV takes at least 13 bytes (key length, type, one-byte value), a tensor info at least 32.
  if (kv_count > c.remaining() / 13) {
    throw InputError(
        origin, "metadata count " + std::to_string(kv_count) + " is larger than the file can hold");
  }
  if (tensor_count > c.remaining() / 32) {
    throw InputError(origin, "tensor count " + std::to_string(tensor_count) +
                                 " is larger than the file can hold");
  }

  GgufFile file;
  file.origin_ = origin;
  file.owner_ = std::move(owner);
  file.bytes_ = bytes;
  file.size_ = size;

  for (uint64_t k = 0; k < kv_count; ++k) {
    const std::string key = c.string(origin, "metadata key #" + std::to_string(k));
    const std::string where = key_where(origin, key);
    if (key.empty()) throw InputError(where, "metadata key is empty");
    if (file.key_index_.count(key)) throw InputError(where, "key appears more than once");
    const auto raw_type = c.read<uint32_t>(where, "the value type");
    Value v = read_value(c, raw_type, where);
    if (key == kAlignmentKey) {
      if (v.type != ValueType::kU32) {
        throw InputError(where, "must be a u32, got " + to_string(v.type));
      }
      if (!is_power_of_two(v.u)) {
        throw InputError(where, "alignment " + std::to_string(v.u) + " is not a power of two");
      }
      file.alignment_ = static_cast<uint32_t>(v.u);
    }
    file.key_index_[key] = file.metadata_.size();
    file.metadata_.emplace_back(key, std::move(v));
  }

  for (uint64_t k = 0; k < tensor_count; ++k) {
    TensorInfo t;
    t.name = c.string(origin, "tensor name #" + std::to_string(k));
    const std::string where = tensor_where(origin, t.name);
    if (t.name.empty()) throw InputError(where, "tensor name is empty");
    if (t.name.size() > kMaxTensorNameBytes) {
      throw InputError(
          where, "name of " + std::to_string(t.name.size()) + " bytes is too long (at most 63)");
    }
    if (file.tensor_index_.count(t.name)) throw InputError(where, "name appears more than once");
    const auto n_dims = c.read<uint32_t>(where, "the dimension count");
    if (n_dims == 0 || n_dims > kMaxDims) {
      throw InputError(where, "dimension count " + std::to_string(n_dims) + " is not 1 to 4");
    }
    std::vector<uint64_t> dims(n_dims);
    uint64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      dims[d] = c.read<uint64_t>(where, "the dimensions");
      if (dims[d] == 0 || dims[d] > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        throw InputError(where, "dimension " + std::to_string(d) + " is " +
                                    std::to_string(dims[d]) + " (must be > 0)");
      }
      if (!checked_mul(numel, dims[d], &numel)) {
        throw InputError(where, "dimensions overflow a 64-bit element count");
      }
    }
    for (auto it = dims.rbegin(); it != dims.rend(); ++it)
      t.shape.push_back(static_cast<int64_t>(*it));
    const auto raw_type = c.read<uint32_t>(where, "the tensor type");
    if (!known_tensor_type(raw_type)) {
      throw InputError(where, "unknown or unsupported tensor type " + std::to_string(raw_type) +
                                  " (supported: F32 0, F16 1, Q8_0 8, BF16 30)");
    }
    t.type = static_cast<TensorType>(raw_type);
    if (dims[0] % block_elements(t.type) != 0) {
      throw InputError(where, "row length " + std::to_string(dims[0]) + " is not a multiple of " +
                                  to_string(t.type) + "'s block of " +
                                  std::to_string(block_elements(t.type)));
    }
    if (!tensor_byte_size(t.type, numel, &t.bytes)) {
      throw InputError(where, "shape " + shape_text(t.shape) + " overflows a 64-bit byte count");
    }
    t.offset = c.read<uint64_t>(where, "the data offset");
    file.tensor_index_[t.name] = file.tensors_.size();
    file.tensors_.push_back(std::move(t));
  }

  const uint64_t data_start = align_up(c.pos(), file.alignment_);
  if (data_start > size) {
    throw InputError(origin, "file ends in the padding before the data (" + std::to_string(size) +
                                 " bytes, data would start at " + std::to_string(data_start) + ")");
  }
  file.data_start_ = data_start;
  const uint64_t data_size = size - data_start;

  // Offsets must be the running sum of the sizes, each padded to the alignment.
  uint64_t expected = 0;
  uint64_t end = 0;
  const TensorInfo* previous = nullptr;
  for (const TensorInfo& t : file.tensors_) {
    const std::string where = tensor_where(origin, t.name);
    if (t.offset % file.alignment_ != 0) {
      throw InputError(where, "data offset " + std::to_string(t.offset) +
                                  " is not a multiple of the alignment " +
                                  std::to_string(file.alignment_));
    }
    if (t.offset < expected) {
      throw InputError(where, "data at offset " + std::to_string(t.offset) + " overlaps tensor '" +
                                  previous->name + "' (which ends at " + std::to_string(end) + ")");
    }
    if (t.offset != expected) {
      throw InputError(where, "data offset " + std::to_string(t.offset) +
                                  " leaves a gap (expected " + std::to_string(expected) + ")");
    }
    if (t.bytes > data_size || t.offset > data_size - t.bytes) {
      throw InputError(where, "data [" + std::to_string(t.offset) + ", +" +
                                  std::to_string(t.bytes) + ") runs past the end of the file (" +
                                  std::to_string(data_size) + " data bytes)");
    }
    end = t.offset + t.bytes;
    expected = align_up(end, file.alignment_);
    previous = &t;
  }
  // The last tensor may or may not be padded; anything beyond that is not GGUF.
  if (data_size > expected) {
    throw InputError(origin, "data region of " + std::to_string(data_size) +
                                 " bytes is longer than its tensors (" + std::to_string(expected) +
                                 " bytes with padding)");
  }
  return file;
}

bool GgufFile::contains(const std::string& key) const {
  return key_index_.count(key) != 0;
}

const Value& GgufFile::value(const std::string& key) const {
  const auto it = key_index_.find(key);
  if (it == key_index_.end()) throw InputError(key_where(origin_, key), "key is missing");
  return metadata_[it->second].second;
}

const Value& GgufFile::typed(const std::string& key, ValueType type) const {
  const Value& v = value(key);
  if (v.type != type) {
    throw InputError(key_where(origin_, key),
                     "is a " + to_string(v.type) + ", expected a " + to_string(type));
  }
  return v;
}

uint8_t GgufFile::get_u8(const std::string& key) const {
  return static_cast<uint8_t>(typed(key, ValueType::kU8).u);
}
int8_t GgufFile::get_i8(const std::string& key) const {
  return static_cast<int8_t>(typed(key, ValueType::kI8).i);
}
uint16_t GgufFile::get_u16(const std::string& key) const {
  return static_cast<uint16_t>(typed(key, ValueType::kU16).u);
}
int16_t GgufFile::get_i16(const std::string& key) const {
  return static_cast<int16_t>(typed(key, ValueType::kI16).i);
}
uint32_t GgufFile::get_u32(const std::string& key) const {
  return static_cast<uint32_t>(typed(key, ValueType::kU32).u);
}
int32_t GgufFile::get_i32(const std::string& key) const {
  return static_cast<int32_t>(typed(key, ValueType::kI32).i);
}
float GgufFile::get_f32(const std::string& key) const {
  return static_cast<float>(typed(key, ValueType::kF32).f);
}
bool GgufFile::get_bool(const std::string& key) const {
  return typed(key, ValueType::kBool).b;
}
const std::string& GgufFile::get_string(const std::string& key) const {
  return typed(key, ValueType::kString).s;
}
uint64_t GgufFile::get_u64(const std::string& key) const {
  return typed(key, ValueType::kU64).u;
}
int64_t GgufFile::get_i64(const std::string& key) const {
  return typed(key, ValueType::kI64).i;
}
double GgufFile::get_f64(const std::string& key) const {
  return typed(key, ValueType::kF64).f;
}
const std::vector<Value>& GgufFile::get_array(const std::string& key,
                                              ValueType element_type) const {
  const Value& v = typed(key, ValueType::kArray);
  if (v.element_type != element_type) {
    throw InputError(key_where(origin_, key), "is an array of " + to_string(v.element_type) +
                                                  ", expected an array of " +
                                                  to_string(element_type));
  }
  return v.items;
}
std::vector<std::string> GgufFile::get_strings(const std::string& key) const {
  std::vector<std::string> out;
  for (const Value& v : get_array(key, ValueType::kString)) out.push_back(v.s);
  return out;
}

bool GgufFile::has_tensor(const std::string& name) const {
  return tensor_index_.count(name) != 0;
}

const TensorInfo& GgufFile::tensor(const std::string& name) const {
  const auto it = tensor_index_.find(name);
  if (it == tensor_index_.end()) throw InputError(tensor_where(origin_, name), "tensor is missing");
  return tensors_[it->second];
}

const uint8_t* GgufFile::data(const TensorInfo& t) const {
  return bytes_ + data_start_ + t.offset;
}

std::vector<float> GgufFile::dequantize(const TensorInfo& t) const {
  const uint8_t* p = data(t);
  const uint64_t n = t.numel();
  std::vector<float> out(static_cast<size_t>(n));
  switch (t.type) {
    case TensorType::kF32:
      std::memcpy(out.data(), p, n * 4);
      break;
    case TensorType::kF16:
    case TensorType::kBF16:
      for (uint64_t k = 0; k < n; ++k) {
        uint16_t h;
        std::memcpy(&h, p + 2 * k, 2);
        out[k] = t.type == TensorType::kF16 ? fp16_to_fp32(h) : bf16_to_fp32(h);
      }
      break;
    case TensorType::kQ8_0:
      dequantize_q8_0_row(p, n, out.data());
      break;
  }
  return out;
}

// --- writer -----------------------------------------------------------------------------------

GgufWriter::GgufWriter(std::string path) : path_(std::move(path)) {}

GgufWriter::~GgufWriter() = default;

void GgufWriter::add_metadata(const std::string& key, Value value) {
  const std::string where = key_where(path_, key);
  if (file_) throw InputError(where, "metadata added after the header was written");
  if (key.empty()) throw InputError(where, "metadata key is empty");
  for (const auto& kv : metadata_) {
    if (kv.first == key) throw InputError(where, "key appears more than once");
  }
  if (value.type == ValueType::kArray) {
    if (value.element_type == ValueType::kArray) {
      throw InputError(where, "nested arrays are not allowed");
    }
    for (const Value& item : value.items) {
      if (item.type != value.element_type) {
        throw InputError(where, "array of " + to_string(value.element_type) + " holds a " +
                                    to_string(item.type));
      }
    }
  }
  if (key == kAlignmentKey) {
    if (value.type != ValueType::kU32) {
      throw InputError(where, "must be a u32, got " + to_string(value.type));
    }
    if (!is_power_of_two(value.u)) {
      throw InputError(where, "alignment " + std::to_string(value.u) + " is not a power of two");
    }
    alignment_ = static_cast<uint32_t>(value.u);
  }
  metadata_.emplace_back(key, std::move(value));
}

void GgufWriter::add_tensor(const std::string& name, std::vector<int64_t> shape, TensorType type) {
  const std::string where = tensor_where(path_, name);
  if (file_) throw InputError(where, "tensor declared after the header was written");
  if (name.empty()) throw InputError(where, "tensor name is empty");
  if (name.size() > kMaxTensorNameBytes) {
    throw InputError(where,
                     "name of " + std::to_string(name.size()) + " bytes is too long (at most 63)");
  }
  for (const TensorInfo& t : tensors_) {
    if (t.name == name) throw InputError(where, "name appears more than once");
  }
  if (shape.empty() || shape.size() > kMaxDims) {
    throw InputError(where, "shape " + shape_text(shape) + " must have 1 to 4 dimensions");
  }
  uint64_t numel = 1;
  for (int64_t d : shape) {
    if (d <= 0) throw InputError(where, "shape " + shape_text(shape) + " has a dimension <= 0");
    if (!checked_mul(numel, static_cast<uint64_t>(d), &numel)) {
      throw InputError(where, "shape " + shape_text(shape) + " overflows 64 bits");
    }
  }
  if (!known_tensor_type(static_cast<uint32_t>(type))) {
    throw InputError(where,
                     "unsupported tensor type " + std::to_string(static_cast<uint32_t>(type)));
  }
  if (static_cast<uint64_t>(shape.back()) % block_elements(type) != 0) {
    throw InputError(where, "row length " + std::to_string(shape.back()) + " of shape " +
                                shape_text(shape) + " is not a multiple of " + to_string(type) +
                                "'s block of " + std::to_string(block_elements(type)));
  }
  TensorInfo t;
  t.name = name;
  t.shape = std::move(shape);
  t.type = type;
  if (!tensor_byte_size(type, numel, &t.bytes)) {
    throw InputError(where, "shape " + shape_text(t.shape) + " overflows a 64-bit byte count");
  }
  tensors_.push_back(std::move(t));
}

uint64_t GgufWriter::write_header() {
  if (file_ || finished_) throw InputError(path_, "the header was already written");
  std::vector<uint8_t> header;
  append(header, kMagic, 4);
  append_le<uint32_t>(header, kVersion);
  append_le<uint64_t>(header, tensors_.size());
  append_le<uint64_t>(header, metadata_.size());
  for (const auto& [key, value] : metadata_) {
    append_string(header, key);
    append_le(header, static_cast<uint32_t>(value.type));
    append_scalar(header, value);
  }
  uint64_t offset = 0;
  for (TensorInfo& t : tensors_) {
    append_string(header, t.name);
    append_le<uint32_t>(header, static_cast<uint32_t>(t.shape.size()));
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) {
      append_le<uint64_t>(header, static_cast<uint64_t>(*it));
    }
    append_le(header, static_cast<uint32_t>(t.type));
    t.offset = offset;
    append_le<uint64_t>(header, offset);
    offset = align_up(offset + t.bytes, alignment_);
  }
  header.resize(align_up(header.size(), alignment_), 0);
  total_ = header.size() + offset;

  file_ = std::make_unique<AtomicFile>(path_);
  write_bytes(header.data(), header.size());
  report();
  return total_;
}

void GgufWriter::write_tensor(const float* values, size_t count) {
  if (!file_) throw InputError(path_, "tensor data written before the header");
  if (next_tensor_ >= tensors_.size()) {
    throw InputError(path_, "more tensor data than the " + std::to_string(tensors_.size()) +
                                " declared tensors");
  }
  const TensorInfo& t = tensors_[next_tensor_];
  const std::string where = tensor_where(path_, t.name);
  if (count != t.numel()) {
    throw InputError(where, "got " + std::to_string(count) + " values for shape " +
                                shape_text(t.shape) + " (" + std::to_string(t.numel()) + ")");
  }
  if (t.type == TensorType::kQ8_0) {
    // Checked before any byte is written, so a refused tensor leaves the writer usable. The test
    // is quantize_q8_0_row's own: the block scale max|x| / 127 must fit in fp16.
    for (size_t k = 0; k < count; ++k) {
      if (!std::isfinite(values[k]) || std::fabs(values[k]) / 127.0f > kFp16Max) {
        throw InputError(where, "value " + std::to_string(values[k]) + " at index " +
                                    std::to_string(k) +
                                    " has no Q8_0 encoding (non-finite, or |x| > 127 × 65504)");
      }
    }
  }
  // Converted and written a chunk at a time: memory stays at one chunk whatever the tensor's
  // size, and progress moves within a large tensor. The chunk is a whole number of Q8_0 blocks.
  const size_t element_bytes = t.type == TensorType::kF32 ? 4 : 2;
  std::vector<uint8_t> out;
  for (size_t begin = 0; begin < count; begin += kChunkElements) {
    const size_t n = std::min(kChunkElements, count - begin);
    const float* x = values + begin;
    switch (t.type) {
      case TensorType::kF32:
        out.resize(n * element_bytes);
        std::memcpy(out.data(), x, n * 4);
        break;
      case TensorType::kF16:
      case TensorType::kBF16:
        out.resize(n * element_bytes);
        for (size_t k = 0; k < n; ++k) {
          const uint16_t h = t.type == TensorType::kF16 ? fp32_to_fp16(x[k]) : fp32_to_bf16(x[k]);
          std::memcpy(out.data() + 2 * k, &h, 2);
        }
        break;
      case TensorType::kQ8_0:
        out.resize(n / kQ8Block * kQ8BlockBytes);
        quantize_q8_0_row(x, n, out.data());  // cannot fail: checked above
        break;
    }
    write_bytes(out.data(), out.size());
    if (begin + n < count) report();
  }
  const std::vector<uint8_t> padding(static_cast<size_t>(align_up(t.bytes, alignment_) - t.bytes),
                                     0);
  write_bytes(padding.data(), padding.size());
  ++next_tensor_;
  report();
}

void GgufWriter::finish() {
  if (!file_ || finished_) throw InputError(path_, "finish() before the header was written");
  if (next_tensor_ != tensors_.size()) {
    throw InputError(tensor_where(path_, tensors_[next_tensor_].name),
                     "finish() before this tensor's data was written");
  }
  file_->commit();
  finished_ = true;
}

void GgufWriter::write_bytes(const void* data, size_t size) {
  file_->write(data, size);
  written_ += size;
}

void GgufWriter::report() {
  if (progress_) progress_(written_, total_);
}

}  // namespace deeptune::gguf
