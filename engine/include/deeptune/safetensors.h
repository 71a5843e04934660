// safetensors: a strict reader and a writer, torch-free (tensors are byte spans + dtype + shape).
// Layout (huggingface/safetensors): u64 LE header length N, N bytes of JSON, then the data buffer.
// The reader performs every check listed in shared/FORMATS.md and names the tensor at fault.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "deeptune/files.h"

namespace deeptune {

enum class DType {
  kBool,
  kU8,
  kI8,
  kI16,
  kU16,
  kI32,
  kU32,
  kI64,
  kU64,
  kF16,
  kBF16,
  kF32,
  kF64,
  kF8E4M3,
  kF8E5M2
};
std::string to_string(DType d);  // "F32", "BF16", ...
size_t dtype_size(DType d);      // bytes per element
bool dtype_from_string(const std::string& s, DType* out);

struct TensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // offsets into the data buffer
  size_t numel() const;
};

// An opened file: read into memory (adapters, checkpoints) or memory-mapped (base models of many
// gigabytes: only the pages a caller touches are read, and the page cache is shared). Tensors are
// in file order of their offsets. Copies share the bytes.
class SafetensorsFile {
 public:
  // Throws InputError("<path>", "<problem>") or InputError("<path>: tensor '<name>'", ...).
  static SafetensorsFile read(const std::string& path);
  static SafetensorsFile parse(std::vector<uint8_t> bytes, const std::string& origin);
  // Maps the file read-only; the header is validated exactly as parse() does, reading only the
  // header's pages. The file must not be truncated while mapped (files we map are checked
  // against their recorded hashes before use).
  static SafetensorsFile map(const std::string& path);

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  bool contains(const std::string& name) const;
  const TensorInfo& info(const std::string& name) const;  // throws InputError if absent
  const uint8_t* data(const TensorInfo& t) const;         // pointer to its bytes
  const std::string& origin() const { return origin_; }

 private:
  static SafetensorsFile parse_view(std::shared_ptr<const void> owner, const uint8_t* bytes,
                                    uint64_t size, const std::string& origin);
  std::string origin_;
  std::shared_ptr<const void> owner_;  // keeps the bytes alive: a vector or a mapping
  const uint8_t* bytes_ = nullptr;
  uint64_t size_ = 0;
  size_t data_start_ = 0;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const void* data = nullptr;  // numel * dtype_size bytes, little-endian, row-major
};

// Writes atomically (temp file + rename). Header starts with '{', padded with spaces so the data
// starts 8-byte aligned; tensors packed in the given order with no gaps; metadata gets
// "format": "pt" unless the caller sets it. Throws InputError for duplicate names, RunError on I/O.
void write_safetensors(const std::string& path, const std::vector<TensorView>& tensors,
                       std::map<std::string, std::string> metadata = {});
std::vector<uint8_t> serialize_safetensors(const std::vector<TensorView>& tensors,
                                           std::map<std::string, std::string> metadata = {});

// A safetensors file written a tensor at a time, so that a model is never held twice in memory:
// declare every tensor, write_header(), then each tensor's bytes in the declared order, then
// finish() (durable, atomic: until then the file is a temp file beside `path`, removed when the
// writer is destroyed unfinished). Layout and checks as write_safetensors.
class SafetensorsWriter {
 public:
  explicit SafetensorsWriter(std::string path, std::map<std::string, std::string> metadata = {});
  ~SafetensorsWriter();
  SafetensorsWriter(const SafetensorsWriter&) = delete;
  SafetensorsWriter& operator=(const SafetensorsWriter&) = delete;

  void add_tensor(std::string name, DType dtype, std::vector<int64_t> shape);
  uint64_t write_header();  // the size the file will have
  void write_tensor(const void* data, size_t bytes);
  void finish();
  uint64_t written() const;

 private:
  std::string path_;
  std::map<std::string, std::string> metadata_;
  std::vector<TensorView> tensors_;
  std::vector<uint64_t> sizes_;
  size_t next_ = 0;
  uint64_t total_ = 0;
  std::unique_ptr<AtomicFile> file_;
};

}  // namespace deeptune
