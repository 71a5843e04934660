// safetensors: writer/reader round trip (bytes exact), header layout, metadata, and one hand-built
// malformed file per rejection of the strict reader; plus files laid out as Python writes them.
#include <QtTest>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "deeptune/error.h"
#include "deeptune/safetensors.h"
#include "support/test_support.h"

using deeptune::test::q;

using deeptune::DType;
using deeptune::InputError;
using deeptune::RunError;
using deeptune::SafetensorsFile;
using deeptune::TensorView;

namespace {

template <typename Err, typename F>
std::optional<Err> error_of(F&& f) {
  try {
    f();
  } catch (const Err& e) {
    return e;
  }
  return std::nullopt;
}

std::vector<uint8_t> to_vector(const QByteArray& b) {
  return std::vector<uint8_t>(b.begin(), b.end());
}

QByteArray u64_le(uint64_t n) {
  QByteArray out;
  for (int i = 0; i < 8; ++i) out.append(static_cast<char>((n >> (8 * i)) & 0xFF));
  return out;
}

// A file with the given header text (its true length in front) and `data` zero bytes after it.
QByteArray file_with(const QByteArray& header, int data = 0) {
  return u64_le(header.size()) + header + QByteArray(data, '\0');
}

uint64_t header_length(const std::vector<uint8_t>& bytes) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  return n;
}

QByteArray read_all(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return f.readAll();
}

bool write_all(const QString& path, const QByteArray& bytes) {
  QFile f(path);
  return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

struct OwnedTensor {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

// Bytes follow a pattern that differs per tensor, so a swapped or shifted tensor is caught.
OwnedTensor make_tensor(std::string name, DType dtype, std::vector<int64_t> shape, uint8_t salt) {
  size_t numel = 1;
  for (int64_t d : shape) numel *= static_cast<size_t>(d);
  std::vector<uint8_t> bytes(numel * deeptune::dtype_size(dtype));
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(salt + 31 * i);
  return {std::move(name), dtype, std::move(shape), std::move(bytes)};
}

std::vector<TensorView> views_of(const std::vector<OwnedTensor>& tensors) {
  std::vector<TensorView> views;
  for (const auto& t : tensors) views.push_back({t.name, t.dtype, t.shape, t.bytes.data()});
  return views;
}

}  // namespace

class TestSafetensors : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void dtypeTable();
  void roundTrip();
  void headerAlignment_data();
  void headerAlignment();
  void metadata();
  void emptyFile();
  void writerRejectsBadTensors();
  void writeIsAtomicAndReportsIoErrors();
  void readMissingFile();
  void rejectsMalformed_data();
  void rejectsMalformed();
  void acceptsEdgeCases();
  void readsPythonWrittenFile();
  void readsReferenceSerialization();
};

void TestSafetensors::dtypeTable() {
  struct Row {
    DType dtype;
    const char* name;
    size_t size;
  };
  const Row rows[] = {
      {DType::kBool, "BOOL", 1}, {DType::kU8, "U8", 1},          {DType::kI8, "I8", 1},
      {DType::kI16, "I16", 2},   {DType::kU16, "U16", 2},        {DType::kI32, "I32", 4},
      {DType::kU32, "U32", 4},   {DType::kI64, "I64", 8},        {DType::kU64, "U64", 8},
      {DType::kF16, "F16", 2},   {DType::kBF16, "BF16", 2},      {DType::kF32, "F32", 4},
      {DType::kF64, "F64", 8},   {DType::kF8E4M3, "F8_E4M3", 1}, {DType::kF8E5M2, "F8_E5M2", 1}};
  for (const Row& r : rows) {
    QCOMPARE(q(deeptune::to_string(r.dtype)), QString(r.name));
    QCOMPARE(deeptune::dtype_size(r.dtype), r.size);
    DType parsed = DType::kBool;
    QVERIFY(deeptune::dtype_from_string(r.name, &parsed));
    QVERIFY(parsed == r.dtype);
  }
  DType untouched = DType::kI16;
  QVERIFY(!deeptune::dtype_from_string("f32", &untouched));  // names are case-sensitive
  QVERIFY(!deeptune::dtype_from_string("F128", &untouched));
  QVERIFY(untouched == DType::kI16);
}

void TestSafetensors::roundTrip() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  // Given in an order that is neither by name nor by dtype: the writer must keep it.
  const std::vector<OwnedTensor> tensors = {
      make_tensor("model.layers.0.weight", DType::kF32, {2, 3}, 1),
      make_tensor("scale", DType::kBF16, {5}, 2),
      make_tensor("step", DType::kI64, {}, 3),  // rank 0: one element
      make_tensor("empty", DType::kU8, {0, 5}, 4),
      make_tensor("mask", DType::kBool, {3}, 5),
      make_tensor("a.double", DType::kF64, {1, 1, 2}, 6),
      make_tensor("odd", DType::kI8, {7}, 7),
      make_tensor("fp8", DType::kF8E4M3, {3}, 8),
      make_tensor("half", DType::kF16, {2, 1}, 9),
      make_tensor("u32", DType::kU32, {1}, 10),
  };
  const std::string path = dir.filePath("model.safetensors").toStdString();
  deeptune::write_safetensors(path, views_of(tensors));

  const SafetensorsFile file = SafetensorsFile::read(path);
  QCOMPARE(file.origin(), path);
  QCOMPARE(file.tensors().size(), tensors.size());
  uint64_t offset = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& expected = tensors[i];
    const auto& info = file.tensors()[i];  // offset order == the order they were given
    QCOMPARE(q(info.name), q(expected.name));
    QVERIFY(info.dtype == expected.dtype);
    QCOMPARE(info.shape, expected.shape);
    QCOMPARE(info.begin, offset);
    QCOMPARE(info.end - info.begin, uint64_t(expected.bytes.size()));
    QCOMPARE(info.numel() * deeptune::dtype_size(info.dtype), expected.bytes.size());
    offset = info.end;
    QVERIFY(file.contains(expected.name));
    QCOMPARE(&file.info(expected.name), &info);
    const uint8_t* data = file.data(info);
    QVERIFY(std::equal(expected.bytes.begin(), expected.bytes.end(), data));
  }
  QCOMPARE(file.info("step").numel(), size_t{1});
  QCOMPARE(file.info("empty").numel(), size_t{0});
  QVERIFY(!file.contains("missing"));

  // Memory-mapped, the same tensors and bytes; a copy keeps the mapping alive.
  std::optional<SafetensorsFile> mapped_copy;
  {
    const SafetensorsFile mapped = SafetensorsFile::map(path);
    mapped_copy = mapped;
  }
  QCOMPARE(mapped_copy->tensors().size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& info = mapped_copy->tensors()[i];
    QCOMPARE(q(info.name), q(tensors[i].name));
    QVERIFY(std::equal(tensors[i].bytes.begin(), tensors[i].bytes.end(), mapped_copy->data(info)));
  }

  // serialize_safetensors gives the very bytes that were written.
  const std::vector<uint8_t> bytes = deeptune::serialize_safetensors(views_of(tensors));
  QCOMPARE(to_vector(read_all(q(path))), bytes);
  QCOMPARE(uint64_t(bytes.size()), 8 + header_length(bytes) + offset);
}

void TestSafetensors::headerAlignment_data() {
  QTest::addColumn<QString>("name");
  // Names of every length modulo 8 exercise every amount of padding.
  for (int len = 1; len <= 9; ++len) {
    QTest::addRow("name of %d", len) << QString(len, QChar('w'));
  }
}

void TestSafetensors::headerAlignment() {
  QFETCH(QString, name);
  const auto t = make_tensor(name.toStdString(), DType::kF64, {3}, 0);
  const std::vector<uint8_t> bytes = deeptune::serialize_safetensors(views_of({t}));
  const uint64_t n = header_length(bytes);
  QCOMPARE((8 + n) % 8, uint64_t{0});
  QCOMPARE(char(bytes[8]), '{');
  const std::string header(bytes.begin() + 8, bytes.begin() + 8 + n);
  const auto close = header.find_last_of('}');
  QVERIFY(close != std::string::npos);
  QVERIFY(n - (close + 1) < 8);  // at most 7 bytes of padding, all spaces
  QCOMPARE(header.find_first_not_of(' ', close + 1), std::string::npos);
  // Compact JSON as the reference writes it: no space inside the header.
  QCOMPARE(header.substr(0, close + 1).find(' '), std::string::npos);

  const SafetensorsFile file = SafetensorsFile::parse(bytes, "mem");
  QCOMPARE(file.tensors()[0].begin, uint64_t{0});
  QCOMPARE(uint64_t(bytes.size()), 8 + n + t.bytes.size());
  QVERIFY(std::equal(t.bytes.begin(), t.bytes.end(), file.data(file.tensors()[0])));
}

void TestSafetensors::metadata() {
  const auto t = make_tensor("w", DType::kF32, {2}, 0);

  // No metadata given: format pt is added, as transformers requires.
  SafetensorsFile file =
      SafetensorsFile::parse(deeptune::serialize_safetensors(views_of({t})), "a");
  QCOMPARE(file.metadata().size(), size_t{1});
  QCOMPARE(q(file.metadata().at("format")), QString("pt"));

  // Other entries are kept and format is still added.
  file = SafetensorsFile::parse(
      deeptune::serialize_safetensors(views_of({t}), {{"base_model", "tiny"}, {"note", "é ✓"}}),
      "b");
  QCOMPARE(file.metadata().size(), size_t{3});
  QCOMPARE(q(file.metadata().at("base_model")), QString("tiny"));
  QCOMPARE(q(file.metadata().at("note")), QString::fromUtf8("é ✓"));
  QCOMPARE(q(file.metadata().at("format")), QString("pt"));

  // A caller's own format wins.
  file = SafetensorsFile::parse(deeptune::serialize_safetensors(views_of({t}), {{"format", "np"}}),
                                "c");
  QCOMPARE(q(file.metadata().at("format")), QString("np"));

  // __metadata__ is not a tensor.
  QCOMPARE(file.tensors().size(), size_t{1});
  QVERIFY(!file.contains("__metadata__"));
}

void TestSafetensors::emptyFile() {
  const std::vector<uint8_t> bytes = deeptune::serialize_safetensors({});
  const SafetensorsFile file = SafetensorsFile::parse(bytes, "empty");
  QVERIFY(file.tensors().empty());
  QCOMPARE(bytes.size() % 8, size_t{0});
  QCOMPARE(uint64_t(bytes.size()), 8 + header_length(bytes));

  // The reference writer's output for no tensors and no metadata.
  const QByteArray reference = u64_le(8) + QByteArray("{}      ");
  QVERIFY(SafetensorsFile::parse(to_vector(reference), "ref").tensors().empty());
}

void TestSafetensors::writerRejectsBadTensors() {
  const auto a = make_tensor("a", DType::kF32, {2}, 0);
  auto error = error_of<InputError>([&] {
    deeptune::serialize_safetensors(views_of({a, make_tensor("a", DType::kU8, {1}, 1)}));
  });
  QVERIFY(error);
  QCOMPARE(q(error->where()), QString("tensor 'a'"));
  QVERIFY2(q(error->message()).contains("duplicate"), error->what());

  error = error_of<InputError>([&] {
    deeptune::serialize_safetensors(views_of({make_tensor("__metadata__", DType::kU8, {1}, 0)}));
  });
  QVERIFY(error);
  QVERIFY2(q(error->message()).contains("reserved"), error->what());

  error = error_of<InputError>([&] {
    deeptune::serialize_safetensors({TensorView{"neg", DType::kF32, {2, -1}, nullptr}});
  });
  QVERIFY(error);
  QCOMPARE(q(error->where()), QString("tensor 'neg'"));
  QVERIFY2(q(error->message()).contains("negative"), error->what());

  error = error_of<InputError>([&] {
    deeptune::serialize_safetensors({TensorView{"null", DType::kF32, {2}, nullptr}});
  });
  QVERIFY(error);
  QVERIFY2(q(error->message()).contains("no data"), error->what());

  // With a path, the path is named too; nothing is written.
  QTemporaryDir dir;
  const std::string path = dir.filePath("dup.safetensors").toStdString();
  error = error_of<InputError>([&] { deeptune::write_safetensors(path, views_of({a, a})); });
  QVERIFY(error);
  QCOMPARE(q(error->where()), q(path + ": tensor 'a'"));
  QVERIFY(QDir(dir.path()).entryList(QDir::Files).isEmpty());

  // An empty tensor needs no data pointer.
  const auto bytes =
      deeptune::serialize_safetensors({TensorView{"none", DType::kF32, {0}, nullptr}});
  QCOMPARE(SafetensorsFile::parse(bytes, "x").info("none").numel(), size_t{0});
}

void TestSafetensors::writeIsAtomicAndReportsIoErrors() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const QString path = dir.filePath("adapter.safetensors");
  QVERIFY(write_all(path, "old contents"));

  const auto t = make_tensor("w", DType::kF32, {4}, 3);
  deeptune::write_safetensors(path.toStdString(), views_of({t}));
  // Replaced in place, and no temporary file is left beside it.
  QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden),
           QStringList{"adapter.safetensors"});
  QCOMPARE(to_vector(read_all(path)), deeptune::serialize_safetensors(views_of({t})));

  const std::string bad = dir.filePath("no/such/folder/x.safetensors").toStdString();
  const auto error = error_of<RunError>([&] { deeptune::write_safetensors(bad, views_of({t})); });
  QVERIFY(error);
  QCOMPARE(q(error->where()), q(bad));
  QVERIFY(error->kind() == deeptune::ErrorKind::kRuntime);
}

void TestSafetensors::readMissingFile() {
  QTemporaryDir dir;
  const std::string path = dir.filePath("absent.safetensors").toStdString();
  auto error = error_of<InputError>([&] { SafetensorsFile::read(path); });
  QVERIFY(error);
  QCOMPARE(q(error->where()), q(path));

  error = error_of<InputError>([&] { SafetensorsFile::read(dir.path().toStdString()); });
  QVERIFY(error);
  QCOMPARE(q(error->where()), dir.path());
  QVERIFY2(q(error->message()).contains("folder"), error->what());
}

void TestSafetensors::rejectsMalformed_data() {
  QTest::addColumn<QByteArray>("bytes");
  QTest::addColumn<QString>("tensor");    // tensor named in where(); empty: just the path
  QTest::addColumn<QString>("expected");  // substring of the message

  // One valid F32 [1] entry at the given offsets, for building files around it.
  auto f32 = [](const char* name, int begin, int end, const char* shape = "[1]") {
    return QByteArray("\"") + name + "\":{\"dtype\":\"F32\",\"shape\":" + shape +
           ",\"data_offsets\":[" + QByteArray::number(begin) + "," + QByteArray::number(end) + "]}";
  };
  auto row = [](const char* name, const QByteArray& bytes, const char* tensor,
                const char* expected) { QTest::newRow(name) << bytes << tensor << expected; };

  // Header length and framing.
  row("empty file", QByteArray(), "", "too short");
  row("shorter than length", QByteArray("\x02\x00\x00", 3), "", "too short");
  row("header over 100 MB", u64_le(100'000'001) + "{}", "", "exceeds the 100 MB limit");
  row("header past end of file", u64_le(64) + "{}", "", "runs past the end of the file");
  row("length near 2^64", u64_le(~uint64_t{0}) + "{}", "", "exceeds the 100 MB limit");

  // Header text.
  row("invalid UTF-8", file_with("{\"a\xff\":1}"), "", "not valid UTF-8");
  row("overlong UTF-8", file_with("{\"\xc0\xaf\":1}"), "", "not valid UTF-8");
  row("surrogate in UTF-8", file_with("{\"\xed\xa0\x80\":1}"), "", "not valid UTF-8");
  row("cut UTF-8 sequence", file_with("{}\xe2\x9c"), "", "not valid UTF-8");
  row("truncated JSON", file_with("{\"a\":"), "", "not valid JSON");
  row("trailing garbage", file_with("{} x"), "", "not valid JSON");
  row("NUL padding", file_with(QByteArray("{}\0\0\0\0\0\0", 8)), "", "not valid JSON");
  row("comment", file_with("{/*x*/}"), "", "not valid JSON");
  row("list at top", file_with("[1,2]"), "", "not a JSON object");
  row("string at top", file_with("\"x\""), "", "not a JSON object");

  // Entries.
  row("entry not an object", file_with("{\"a\":5}"), "a", "must be an object");
  row("extra field",
      file_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],"
                "\"x\":1}}",
                4),
      "a", "unexpected key 'x'");
  row("missing dtype", file_with("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "a",
      "missing 'dtype'");
  row("missing shape", file_with("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4), "a",
      "missing 'shape'");
  row("missing offsets", file_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "a",
      "missing 'data_offsets'");
  row("dtype not a string",
      file_with("{\"a\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "a",
      "dtype must be a string");
  row("unknown dtype",
      file_with("{\"a\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}", 16), "a",
      "unknown dtype 'F128'");
  row("lower-case dtype",
      file_with("{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "a",
      "unknown dtype 'f32'");
  row("shape not a list", file_with("{" + f32("a", 0, 4, "1") + "}", 4), "a",
      "shape must be a list");
  row("negative dim", file_with("{" + f32("a", 0, 0, "[-1]") + "}"), "a", "negative dimension");
  row("fractional dim", file_with("{" + f32("a", 0, 4, "[1.5]") + "}", 4), "a", "must be integers");
  row("string dim", file_with("{" + f32("a", 0, 4, "[\"1\"]") + "}", 4), "a", "must be integers");
  row("one offset", file_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}}", 4),
      "a", "data_offsets must be two");
  row("three offsets",
      file_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8), "a",
      "data_offsets must be two");
  row("negative offset", file_with("{" + f32("a", -4, 0) + "}", 4), "a",
      "data_offsets must be two non-negative integers");
  row("float offset",
      file_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.0]}}", 4), "a",
      "data_offsets must be two");
  row("offsets not a list",
      file_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":\"0-4\"}}", 4), "a",
      "data_offsets must be two");
  row("end before begin", file_with("{" + f32("a", 4, 0) + "}", 4), "a", "end before they begin");
  row("size mismatch", file_with("{" + f32("a", 0, 4, "[2]") + "}", 4), "a",
      "span 4 bytes but F32 [2] needs 8");
  row("element count overflow", file_with("{" + f32("a", 0, 0, "[4294967296,4294967296,2]") + "}"),
      "a", "overflows");
  row("byte count overflow", file_with("{" + f32("a", 0, 0, "[4611686018427387904]") + "}"), "a",
      "overflows");

  // How the entries tile the data buffer.
  row("first not at 0", file_with("{" + f32("a", 4, 8) + "}", 8), "a", "gap of 4 bytes");
  row("gap between", file_with("{" + f32("a", 0, 4) + "," + f32("b", 8, 12) + "}", 12), "b",
      "gap of 4 bytes before this tensor");
  row("overlap", file_with("{" + f32("a", 0, 8, "[2]") + "," + f32("b", 4, 8) + "}", 8), "b",
      "overlapping tensor 'a'");
  row("same range twice", file_with("{" + f32("a", 0, 4) + "," + f32("b", 0, 4) + "}", 4), "b",
      "overlapping tensor 'a'");
  row("past end of data", file_with("{" + f32("a", 0, 4) + "," + f32("b", 4, 8) + "}", 6), "b",
      "past the end of the data buffer");
  row("trailing bytes", file_with("{" + f32("a", 0, 4) + "}", 8), "",
      "cover 4 bytes of data but the file holds 8");
  row("data but no tensors", file_with("{}", 4), "", "trailing bytes");

  // Duplicates, which a plain JSON parse would silently merge.
  row("duplicate name", file_with("{" + f32("a", 0, 4) + "," + f32("a", 0, 4) + "}", 4), "a",
      "more than once");
  row("duplicate field",
      file_with(
          "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
      "a", "key 'dtype' appears more than once");
  row("duplicate metadata",
      file_with("{\"__metadata__\":{},\"__metadata__\":{}," + f32("a", 0, 4) + "}", 4), "",
      "__metadata__ appears more than once");
  row("duplicate metadata key",
      file_with("{\"__metadata__\":{\"format\":\"pt\",\"format\":\"np\"}}"), "",
      "__metadata__ key 'format' appears more than once");

  // Metadata.
  row("metadata not an object", file_with("{\"__metadata__\":\"pt\"}"), "",
      "__metadata__ must be an object");
  row("metadata number value", file_with("{\"__metadata__\":{\"format\":1}}"), "",
      "value of 'format' must be a string");
  row("metadata nested object", file_with("{\"__metadata__\":{\"x\":{}}}"), "",
      "value of 'x' must be a string");
}

void TestSafetensors::rejectsMalformed() {
  QFETCH(QByteArray, bytes);
  QFETCH(QString, tensor);
  QFETCH(QString, expected);

  const QString origin = "bad.safetensors";
  const QString where = tensor.isEmpty() ? origin : origin + ": tensor '" + tensor + "'";
  const auto error =
      error_of<InputError>([&] { SafetensorsFile::parse(to_vector(bytes), origin.toStdString()); });
  QVERIFY2(error, "accepted a malformed file");
  QCOMPARE(q(error->where()), where);
  QVERIFY2(q(error->message()).contains(expected), error->what());

  // The same file from disk fails the same way, naming the path.
  QTemporaryDir dir;
  const QString path = dir.filePath("bad.safetensors");
  QVERIFY(write_all(path, bytes));
  const auto from_disk = error_of<InputError>([&] { SafetensorsFile::read(path.toStdString()); });
  QVERIFY(from_disk);
  QCOMPARE(q(from_disk->where()), QString(where).replace(origin, path));
  QCOMPARE(q(from_disk->message()), q(error->message()));
  // And memory-mapped (how base models are opened): the same checks, the same words.
  const auto mapped = error_of<InputError>([&] { SafetensorsFile::map(path.toStdString()); });
  QVERIFY(mapped);
  QCOMPARE(q(mapped->where()), QString(where).replace(origin, path));
  QCOMPARE(q(mapped->message()), q(error->message()));
}

// Legal oddities the strict checks must not refuse.
void TestSafetensors::acceptsEdgeCases() {
  // Entries listed out of offset order, zero-size tensors sharing an offset, a rank-0 tensor,
  // leading whitespace and a key order other than the writer's.
  const QByteArray header =
      " {\"z\":{\"data_offsets\":[4,12],\"shape\":[2],\"dtype\":\"F32\"},"
      "\"e1\":{\"dtype\":\"F16\",\"shape\":[0,3],\"data_offsets\":[4,4]},"
      "\"e0\":{\"dtype\":\"I64\",\"shape\":[4,0],\"data_offsets\":[0,0]},"
      "\"s\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,4]},"
      "\"__metadata__\":{}}";
  QByteArray bytes = file_with(header, 12);
  const int data_start = 8 + header.size();
  bytes[data_start] = '\x2a';  // s = 42
  const SafetensorsFile file = SafetensorsFile::parse(to_vector(bytes), "edge");
  QCOMPARE(file.tensors().size(), size_t{4});
  QVERIFY(file.metadata().empty());
  // Sorted by offsets.
  QCOMPARE(q(file.tensors().front().name), QString("e0"));
  QCOMPARE(q(file.tensors().back().name), QString("z"));
  const auto& s = file.info("s");
  QVERIFY(s.shape.empty());
  QCOMPARE(s.numel(), size_t{1});
  int32_t value = 0;
  std::memcpy(&value, file.data(s), sizeof value);
  QCOMPARE(value, 42);
  QCOMPARE(file.info("e1").numel(), size_t{0});
  QCOMPARE(file.info("z").begin, uint64_t{4});

  const auto missing = error_of<InputError>([&] { file.info("nope"); });
  QVERIFY(missing);
  QCOMPARE(q(missing->where()), QString("edge: tensor 'nope'"));
}

// The bytes transformers' save_pretrained produces (through safetensors' Python package) for
// {"weight": torch.tensor([[1., 2.], [3., 4.]])}: compact header with metadata first, padded with
// spaces to 96 bytes, then the floats little-endian.
void TestSafetensors::readsPythonWrittenFile() {
  const QByteArray header =
      "{\"__metadata__\":{\"format\":\"pt\"},"
      "\"weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}   ";
  QCOMPARE(header.size(), 96);
  const QByteArray python = QByteArray("\x60\0\0\0\0\0\0\0", 8) + header +
                            QByteArray(
                                "\x00\x00\x80\x3f"   // 1.0f
                                "\x00\x00\x00\x40"   // 2.0f
                                "\x00\x00\x40\x40"   // 3.0f
                                "\x00\x00\x80\x40",  // 4.0f
                                16);
  QTemporaryDir dir;
  const QString path = dir.filePath("model.safetensors");
  QVERIFY(write_all(path, python));

  const SafetensorsFile file = SafetensorsFile::read(path.toStdString());
  QCOMPARE(file.tensors().size(), size_t{1});
  const auto& w = file.info("weight");
  QVERIFY(w.dtype == DType::kF32);
  QCOMPARE(w.shape, (std::vector<int64_t>{2, 2}));
  QCOMPARE(q(file.metadata().at("format")), QString("pt"));
  float values[4];
  std::memcpy(values, file.data(w), sizeof values);
  QCOMPARE(values[0], 1.0f);
  QCOMPARE(values[1], 2.0f);
  QCOMPARE(values[2], 3.0f);
  QCOMPARE(values[3], 4.0f);

  // Our writer produces the identical file from the same tensor.
  const float source[4] = {1.0f, 2.0f, 3.0f, 4.0f};
  const auto ours =
      deeptune::serialize_safetensors({TensorView{"weight", DType::kF32, {2, 2}, source}});
  QCOMPARE(ours, to_vector(python));
}

// The byte vector huggingface/safetensors' own tests assert for {"attn.0": F32 [1, 2, 3] of
// 0..5} with no metadata (what safetensors.torch.save_file writes without a metadata argument).
void TestSafetensors::readsReferenceSerialization() {
  const uint8_t reference[] = {64,  0,   0,   0,   0,   0,   0,   0,   123, 34,  97,  116, 116, 110,
                               46,  48,  34,  58,  123, 34,  100, 116, 121, 112, 101, 34,  58,  34,
                               70,  51,  50,  34,  44,  34,  115, 104, 97,  112, 101, 34,  58,  91,
                               49,  44,  50,  44,  51,  93,  44,  34,  100, 97,  116, 97,  95,  111,
                               102, 102, 115, 101, 116, 115, 34,  58,  91,  48,  44,  50,  52,  93,
                               125, 125, 0,   0,   0,   0,   0,   0,   128, 63,  0,   0,   0,   64,
                               0,   0,   64,  64,  0,   0,   128, 64,  0,   0,   160, 64};
  const SafetensorsFile file = SafetensorsFile::parse(
      std::vector<uint8_t>(std::begin(reference), std::end(reference)), "reference");
  QVERIFY(file.metadata().empty());
  const auto& t = file.info("attn.0");
  QCOMPARE(t.shape, (std::vector<int64_t>{1, 2, 3}));
  QCOMPARE(t.end, uint64_t{24});
  float values[6];
  std::memcpy(values, file.data(t), sizeof values);
  for (int i = 0; i < 6; ++i) QCOMPARE(values[i], float(i));
}

QTEST_GUILESS_MAIN(TestSafetensors)
#include "tst_safetensors.moc"
