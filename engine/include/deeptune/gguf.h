// GGUF v3 (ggml's single-file model format): a strict memory-mapped reader and a streaming writer,
// torch-free. Covers the value types of the spec and the tensor types F32, F16, Q8_0 and BF16 only.
// Layout and checks: shared/FORMATS.md, "GGUF v3". Shapes in this API are in PyTorch order
// ([out, in]); the file stores them reversed (fastest-varying first).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "deeptune/files.h"

namespace deeptune::gguf {

enum class ValueType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};
std::string to_string(ValueType t);  // "u32", "string", "array", ...

enum class TensorType : uint32_t { kF32 = 0, kF16 = 1, kQ8_0 = 8, kBF16 = 30 };
std::string to_string(TensorType t);  // "F32", "F16", "Q8_0", "BF16"

// Elements per block (32 for Q8_0, else 1) and bytes per block (34 for Q8_0).
uint64_t block_elements(TensorType t);
uint64_t block_bytes(TensorType t);
// Bytes of a tensor of `numel` elements; false when numel is not a whole number of blocks or the
// product overflows 64 bits.
bool tensor_byte_size(TensorType t, uint64_t numel, uint64_t* bytes);

constexpr uint32_t kDefaultAlignment = 32;
constexpr size_t kMaxTensorNameBytes = 63;  // names are < 64 bytes (ggml's GGML_MAX_NAME)
constexpr size_t kMaxDims = 4;

// One metadata value. Scalars keep integers in `u` / `i` and floats in `f` (f32 widened exactly);
// an array holds items of one element type (never arrays).
struct Value {
  ValueType type = ValueType::kU8;
  ValueType element_type = ValueType::kU8;  // for kArray
  uint64_t u = 0;                           // kU8, kU16, kU32, kU64
  int64_t i = 0;                            // kI8, kI16, kI32, kI64
  double f = 0;                             // kF32, kF64
  bool b = false;                           // kBool
  std::string s;                            // kString
  std::vector<Value> items;                 // kArray

  static Value u8(uint8_t v);
  static Value i8(int8_t v);
  static Value u16(uint16_t v);
  static Value i16(int16_t v);
  static Value u32(uint32_t v);
  static Value i32(int32_t v);
  static Value f32(float v);
  static Value boolean(bool v);
  static Value string(std::string v);
  static Value u64(uint64_t v);
  static Value i64(int64_t v);
  static Value f64(double v);
  // Every item must have type `element_type`, which must not be kArray.
  static Value array(ValueType element_type, std::vector<Value> items);
  static Value strings(const std::vector<std::string>& v);
};
bool operator==(const Value& a, const Value& b);
inline bool operator!=(const Value& a, const Value& b) {
  return !(a == b);
}

struct TensorInfo {
  std::string name;
  std::vector<int64_t> shape;  // PyTorch order: [out, in]
  TensorType type = TensorType::kF32;
  uint64_t offset = 0;  // from the start of the data region
  uint64_t bytes = 0;   // the type's block math, unpadded
  uint64_t numel() const;
};

// An opened file; copies share the bytes (a mapping or a vector).
class GgufFile {
 public:
  // Throw InputError("<path>", ...), InputError("<path>: key '<k>'", ...) or
  // InputError("<path>: tensor '<name>'", ...) for every violation of the format.
  static GgufFile map(const std::string& path);
  static GgufFile parse(std::vector<uint8_t> bytes, const std::string& origin);

  uint32_t version() const { return 3; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_start() const { return data_start_; }  // file offset of the data region
  const std::string& origin() const { return origin_; }

  const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }
  bool contains(const std::string& key) const;
  const Value& value(const std::string& key) const;  // InputError naming the key when absent
  // Typed getters: InputError naming the key when absent or of another type.
  uint8_t get_u8(const std::string& key) const;
  int8_t get_i8(const std::string& key) const;
  uint16_t get_u16(const std::string& key) const;
  int16_t get_i16(const std::string& key) const;
  uint32_t get_u32(const std::string& key) const;
  int32_t get_i32(const std::string& key) const;
  float get_f32(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  const std::string& get_string(const std::string& key) const;
  uint64_t get_u64(const std::string& key) const;
  int64_t get_i64(const std::string& key) const;
  double get_f64(const std::string& key) const;
  const std::vector<Value>& get_array(const std::string& key, ValueType element_type) const;
  std::vector<std::string> get_strings(const std::string& key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // in file order
  bool has_tensor(const std::string& name) const;
  const TensorInfo& tensor(const std::string& name) const;   // InputError when absent
  const uint8_t* data(const TensorInfo& t) const;            // t.bytes bytes
  std::vector<float> dequantize(const TensorInfo& t) const;  // numel values, row-major

 private:
  static GgufFile parse_view(std::shared_ptr<const void> owner, const uint8_t* bytes, uint64_t size,
                             const std::string& origin);
  const Value& typed(const std::string& key, ValueType type) const;
  std::string origin_;
  std::shared_ptr<const void> owner_;
  const uint8_t* bytes_ = nullptr;
  uint64_t size_ = 0;
  uint32_t alignment_ = kDefaultAlignment;
  uint64_t data_start_ = 0;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::map<std::string, size_t> key_index_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> tensor_index_;
};

// Streams a model to disk. Declare every KV and tensor, call write_header() (the total file size
// is known from then on), feed each tensor's fp32 values in declaration order, then finish().
// Memory: one chunk of 2^20 converted values, whatever the tensor's size. Writes go to
// "<path>.tmp-<pid>-<n>"; finish() fsyncs and renames it into place; a writer destroyed (or killed)
// before finish() leaves nothing under `path` (the destructor removes its temp file). Declaration
// errors are InputError naming the key or tensor; I/O errors RunError (DiskFullError when the disk
// is full).
class GgufWriter {
 public:
  // (bytes written so far, total bytes of the file); called after the header, after every 2^20
  // values of a larger tensor, and after each tensor (the last call: written == total).
  using Progress = std::function<void(uint64_t written, uint64_t total)>;

  explicit GgufWriter(std::string path);
  ~GgufWriter();
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;

  // "general.alignment" sets the alignment; it must be a u32 power of two.
  void add_metadata(const std::string& key, Value value);
  // shape in PyTorch order, 1 to 4 dims, each > 0; Q8_0 needs the last (row) dim % 32 == 0.
  void add_tensor(const std::string& name, std::vector<int64_t> shape, TensorType type);
  void set_progress(Progress progress) { progress_ = std::move(progress); }

  uint64_t write_header();  // returns the total file size
  uint64_t total_bytes() const { return total_; }
  // The next declared tensor's values, row-major: count must equal its numel. Q8_0 refuses
  // non-finite values and |x| beyond fp16's range times 127; a refused call writes nothing, so the
  // same tensor can be fed again.
  void write_tensor(const float* values, size_t count);
  void finish();

 private:
  void write_bytes(const void* data, size_t size);
  void report();
  std::string path_;
  std::unique_ptr<AtomicFile> file_;  // from write_header() on
  bool finished_ = false;
  uint32_t alignment_ = kDefaultAlignment;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<TensorInfo> tensors_;
  size_t next_tensor_ = 0;
  uint64_t written_ = 0;
  uint64_t total_ = 0;
  Progress progress_;
};

// Conversions: round to nearest, ties to even; NaN stays NaN (quiet), ±Inf stays ±Inf; fp32
// values beyond a format's range become ±Inf.
uint16_t fp32_to_fp16(float f);
float fp16_to_fp32(uint16_t h);
uint16_t fp32_to_bf16(float f);
float bf16_to_fp32(uint16_t b);

// Q8_0 of one row of n values (n % 32 == 0) into n / 32 * 34 bytes: per block an fp16 scale
// d = max|x| / 127 then 32 int8 q = round(x / d); d = 0 gives q = 0. Returns false (output
// unspecified) when a value is non-finite or so large that d overflows fp16.
bool quantize_q8_0_row(const float* x, size_t n, uint8_t* out);
void dequantize_q8_0_row(const uint8_t* in, size_t n, float* out);
// Largest |x - x̂| the round trip of this block of 32 may show: d/2 from rounding q, plus
// 127 × |d - fp16(d)| from storing the scale in fp16, plus a few float ulps of each (x * (1/d)
// rounded in float can land past the half-way point; seen once in a 1.1B model's 34M blocks).
float q8_0_block_error_bound(const float* block);

}  // namespace deeptune::gguf
