// GGUF v3: conversions (fp16/bf16 rounding, Q8_0 bound), writer/reader round trip of every value
// and tensor type, alignment and offsets, progress, interrupted writes, and a corpus of damaged
// copies of one good file, each refused with a message naming the file (and the key or tensor).
#include <QtTest>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "deeptune/error.h"
#include "deeptune/gguf.h"
#include "support/test_support.h"

using deeptune::InputError;
using deeptune::test::input_error_of;
using deeptune::test::q;
using namespace deeptune::gguf;

namespace {

std::vector<float> random_values(size_t n, float scale, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<uint8_t> read_bytes(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  const QByteArray b = f.readAll();
  return std::vector<uint8_t>(b.begin(), b.end());
}

bool write_bytes(const QString& path, const std::vector<uint8_t>& bytes) {
  QFile f(path);
  return f.open(QIODevice::WriteOnly) &&
         f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<qint64>(bytes.size())) ==
             static_cast<qint64>(bytes.size());
}

// Position of the first occurrence of `needle` (a length-prefixed GGUF string) in `bytes`.
size_t find_string(const std::vector<uint8_t>& bytes, const std::string& s) {
  std::vector<uint8_t> needle(8);
  const uint64_t n = s.size();
  std::memcpy(needle.data(), &n, 8);
  needle.insert(needle.end(), s.begin(), s.end());
  const auto it = std::search(bytes.begin(), bytes.end(), needle.begin(), needle.end());
  return it == bytes.end() ? std::string::npos : static_cast<size_t>(it - bytes.begin());
}

template <typename T>
void put(std::vector<uint8_t>& bytes, size_t at, T v) {
  std::memcpy(bytes.data() + at, &v, sizeof(T));
}
template <typename T>
T get(const std::vector<uint8_t>& bytes, size_t at) {
  T v;
  std::memcpy(&v, bytes.data() + at, sizeof(T));
  return v;
}

uint32_t bits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  return x;
}

const std::string kLongName(63, 'x');  // the longest legal name

// The good file of the corpus: three KVs (one a string array), three tensors of three types.
void write_good_file(const std::string& path) {
  GgufWriter w(path);
  w.add_metadata("general.architecture", Value::string("llama"));
  w.add_metadata("dup.a", Value::u32(7));
  w.add_metadata("tokens", Value::strings({"<s>", "hello"}));
  w.add_tensor("blk.0.w", {2, 64}, TensorType::kQ8_0);
  w.add_tensor("blk.1.w", {3}, TensorType::kF32);
  w.add_tensor(kLongName, {5}, TensorType::kF16);
  w.write_header();
  const auto a = random_values(128, 1.0f, 1);
  w.write_tensor(a.data(), a.size());
  const float b[3] = {1, 2, 3};
  w.write_tensor(b, 3);
  const float c[5] = {0.5f, -1, 2, 65504, 1e-3f};
  w.write_tensor(c, 5);
  w.finish();
}

// Field positions inside the good file.
struct Layout {
  size_t first_key = 0;    // length prefix of "general.architecture"
  size_t dup_key = 0;      // length prefix of "dup.a"
  size_t tokens_key = 0;   // length prefix of "tokens"
  size_t tensor0 = 0;      // length prefix of "blk.0.w"
  size_t tensor1 = 0;      // length prefix of "blk.1.w"
  size_t long_tensor = 0;  // length prefix of the 63-byte name
};

Layout layout_of(const std::vector<uint8_t>& bytes) {
  Layout l;
  l.first_key = find_string(bytes, "general.architecture");
  l.dup_key = find_string(bytes, "dup.a");
  l.tokens_key = find_string(bytes, "tokens");
  l.tensor0 = find_string(bytes, "blk.0.w");
  l.tensor1 = find_string(bytes, "blk.1.w");
  l.long_tensor = find_string(bytes, kLongName);
  return l;
}

// A tensor info at `at`: name (8 + len), n_dims, dims, type, offset.
size_t n_dims_at(const std::vector<uint8_t>& b, size_t at) {
  return at + 8 + get<uint64_t>(b, at);
}
size_t type_at(const std::vector<uint8_t>& b, size_t at) {
  return n_dims_at(b, at) + 4 + 8 * get<uint32_t>(b, n_dims_at(b, at));
}
size_t offset_at(const std::vector<uint8_t>& b, size_t at) {
  return type_at(b, at) + 4;
}

}  // namespace

class TestGguf : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void halfConversions();
  void bfloatConversions();
  void q8RowAndBound();
  void writesSpecLayout();
  void metadataRoundTrip();
  void tensorTypesRoundTrip();
  void alignment_data();
  void alignment();
  void progressEndsAtFileSize();
  void interruptedWriteLeavesNoFile();
  void writerRefusesBadDeclarations();
  void rejectsMalformed_data();
  void rejectsMalformed();
  void rejectsEveryTruncation();
};

void TestGguf::halfConversions() {
  QCOMPARE(fp32_to_fp16(1.0f), uint16_t(0x3C00));
  QCOMPARE(fp32_to_fp16(-2.0f), uint16_t(0xC000));
  QCOMPARE(fp32_to_fp16(65504.0f), uint16_t(0x7BFF));
  QCOMPARE(fp32_to_fp16(65519.0f), uint16_t(0x7BFF));               // below the midpoint to 2^16
  QCOMPARE(fp32_to_fp16(65520.0f), uint16_t(0x7C00));               // the tie goes to even: Inf
  QCOMPARE(fp32_to_fp16(std::ldexp(1.0f, -24)), uint16_t(0x0001));  // smallest subnormal
  QCOMPARE(fp32_to_fp16(std::ldexp(1.0f, -25)), uint16_t(0x0000));  // tie to even: zero
  QCOMPARE(fp32_to_fp16(std::ldexp(3.0f, -25)), uint16_t(0x0002));  // tie to even: 2
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: even (1); 1 + 3·2^-11 goes up to 1 + 2^-9.
  QCOMPARE(fp32_to_fp16(1.0f + std::ldexp(1.0f, -11)), uint16_t(0x3C00));
  QCOMPARE(fp32_to_fp16(1.0f + std::ldexp(3.0f, -11)), uint16_t(0x3C02));
  const float inf = std::numeric_limits<float>::infinity();
  QCOMPARE(fp32_to_fp16(inf), uint16_t(0x7C00));
  QCOMPARE(fp32_to_fp16(-inf), uint16_t(0xFC00));
  QVERIFY(std::isnan(fp16_to_fp32(fp32_to_fp16(std::nanf("")))));
  QVERIFY(std::isinf(fp16_to_fp32(0xFC00)) && fp16_to_fp32(0xFC00) < 0);
  // Every fp16 value survives fp16 → fp32 → fp16 bit for bit (NaNs stay NaN).
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = fp16_to_fp32(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      QVERIFY(std::isnan(fp16_to_fp32(fp32_to_fp16(f))));
    } else if (fp32_to_fp16(f) != h) {
      QFAIL(qPrintable(QString("fp16 0x%1 does not round trip").arg(h, 4, 16)));
    }
  }
  // Random normals: the relative error is at most half an ulp (2^-11).
  for (float x : random_values(10000, 100.0f, 2)) {
    const float y = fp16_to_fp32(fp32_to_fp16(x));
    QVERIFY(std::fabs(y - x) <= std::ldexp(std::fabs(x), -11) + std::ldexp(1.0f, -25));
  }
}

void TestGguf::bfloatConversions() {
  QCOMPARE(fp32_to_bf16(1.0f), uint16_t(0x3F80));
  QCOMPARE(bf16_to_fp32(0x3F80), 1.0f);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: even (1); 1 + 3·2^-8 rounds up to 1 + 2^-6.
  QCOMPARE(fp32_to_bf16(1.0f + std::ldexp(1.0f, -8)), uint16_t(0x3F80));
  QCOMPARE(fp32_to_bf16(1.0f + std::ldexp(3.0f, -8)), uint16_t(0x3F82));
  const float inf = std::numeric_limits<float>::infinity();
  QCOMPARE(fp32_to_bf16(inf), uint16_t(0x7F80));
  QCOMPARE(fp32_to_bf16(-inf), uint16_t(0xFF80));
  QCOMPARE(fp32_to_bf16(std::numeric_limits<float>::max()), uint16_t(0x7F80));  // overflows
  // A NaN whose payload lies only in the dropped bits must not turn into Inf.
  uint32_t nan_bits = 0x7F800001;
  float nan;
  std::memcpy(&nan, &nan_bits, 4);
  QVERIFY(std::isnan(bf16_to_fp32(fp32_to_bf16(nan))));
  for (float x : random_values(10000, 1e6f, 3)) {
    const float y = bf16_to_fp32(fp32_to_bf16(x));
    QVERIFY(std::fabs(y - x) <= std::ldexp(std::fabs(x), -8));
    QCOMPARE(bits(y) & 0xFFFFu, 0u);
  }
}

void TestGguf::q8RowAndBound() {
  std::vector<float> x = random_values(32 * 8, 3.0f, 4);
  for (int k = 32; k < 64; ++k) x[k] = 0;                           // an all-zero block
  for (int k = 64; k < 96; ++k) x[k] = 1e6f * (k % 2 ? 1 : -1.5f);  // huge values
  x[96] = 127.0f;                                                   // d = 1 exactly
  std::vector<uint8_t> packed(x.size() / 32 * 34);
  QVERIFY(quantize_q8_0_row(x.data(), x.size(), packed.data()));
  std::vector<float> back(x.size());
  dequantize_q8_0_row(packed.data(), x.size(), back.data());
  for (size_t b = 0; b < x.size() / 32; ++b) {
    const float bound = q8_0_block_error_bound(&x[b * 32]);
    for (size_t k = b * 32; k < b * 32 + 32; ++k) {
      if (std::fabs(back[k] - x[k]) > bound * (1 + 1e-6f)) {
        QFAIL(qPrintable(QString("block %1 value %2: |%3 - %4| > %5")
                             .arg(b)
                             .arg(k)
                             .arg(x[k])
                             .arg(back[k])
                             .arg(bound)));
      }
    }
  }
  for (int k = 32; k < 64; ++k) QCOMPARE(back[k], 0.0f);
  QCOMPARE(packed[34], uint8_t(0));  // zero scale
  QCOMPARE(packed[35], uint8_t(0));
  QCOMPARE(static_cast<int8_t>(packed[3 * 34 + 2]), int8_t(127));
  QCOMPARE(back[96], 127.0f);
  // Beyond fp16 × 127 the scale would be Inf; non-finite input has no Q8_0 encoding.
  std::vector<float> bad(32, 1.0f);
  bad[5] = 1e7f;
  QVERIFY(!quantize_q8_0_row(bad.data(), 32, packed.data()));
  bad[5] = std::nanf("");
  QVERIFY(!quantize_q8_0_row(bad.data(), 32, packed.data()));
}

// The writer's bytes against the layout of the spec, built here field by field, so that the reader
// and the writer cannot share a misreading of it.
void TestGguf::writesSpecLayout() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string path = dir.filePath("s.gguf").toStdString();
  {
    GgufWriter w(path);
    w.add_metadata("k", Value::u32(5));
    w.add_metadata("s", Value::strings({"ab"}));
    w.add_tensor("t", {2, 3}, TensorType::kF16);
    w.write_header();
    const float v[6] = {1, 2, 3, 4, 5, 6};
    w.write_tensor(v, 6);
    w.finish();
  }
  std::vector<uint8_t> e = {'G', 'G', 'U', 'F'};
  auto u32 = [&](uint32_t v) {
    e.resize(e.size() + 4);
    put(e, e.size() - 4, v);
  };
  auto u64 = [&](uint64_t v) {
    e.resize(e.size() + 8);
    put(e, e.size() - 8, v);
  };
  auto str = [&](const std::string& s) {
    u64(s.size());
    e.insert(e.end(), s.begin(), s.end());
  };
  u32(3);  // version
  u64(1);  // tensors
  u64(2);  // KVs
  str("k");
  u32(4);  // u32
  u32(5);
  str("s");
  u32(9);  // array
  u32(8);  // of string
  u64(1);
  str("ab");
  str("t");
  u32(2);
  u64(3);  // fastest-varying first: [in, out]
  u64(2);
  u32(1);            // F16
  u64(0);            // offset
  e.resize(128, 0);  // the header (117 bytes) padded to 32
  for (uint16_t h : {0x3C00, 0x4000, 0x4200, 0x4400, 0x4500, 0x4600}) {
    e.resize(e.size() + 2);
    put(e, e.size() - 2, h);
  }
  e.resize(160, 0);  // the tensor (12 bytes) padded to 32
  QCOMPARE(read_bytes(q(path)), e);
}

void TestGguf::metadataRoundTrip() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string path = dir.filePath("meta.gguf").toStdString();
  const std::vector<std::pair<std::string, Value>> kvs = {
      {"v.u8", Value::u8(250)},
      {"v.i8", Value::i8(-120)},
      {"v.u16", Value::u16(65000)},
      {"v.i16", Value::i16(-32000)},
      {"v.u32", Value::u32(4000000000u)},
      {"v.i32", Value::i32(-2000000000)},
      {"v.f32", Value::f32(3.25f)},
      {"v.bool", Value::boolean(true)},
      {"v.string", Value::string("héllo\nworld")},
      {"v.u64", Value::u64(std::numeric_limits<uint64_t>::max())},
      {"v.i64", Value::i64(std::numeric_limits<int64_t>::min())},
      {"v.f64", Value::f64(-1.0 / 3.0)},
      {"v.empty_string", Value::string("")},
      {"v.strings", Value::strings({"a b", "", "Ġthe"})},
      {"v.i32s", Value::array(ValueType::kI32, {Value::i32(1), Value::i32(-3)})},
      {"v.f32s", Value::array(ValueType::kF32, {Value::f32(0.5f)})},
      {"v.bools", Value::array(ValueType::kBool, {Value::boolean(false), Value::boolean(true)})},
      {"v.empty_array", Value::array(ValueType::kU64, {})},
  };
  {
    GgufWriter w(path);
    for (const auto& [k, v] : kvs) w.add_metadata(k, v);
    w.write_header();
    w.finish();
  }
  const GgufFile f = GgufFile::map(path);
  QCOMPARE(f.metadata().size(), kvs.size());
  for (size_t i = 0; i < kvs.size(); ++i) {
    QCOMPARE(q(f.metadata()[i].first), q(kvs[i].first));  // file order kept
    QVERIFY2(f.metadata()[i].second == kvs[i].second, kvs[i].first.c_str());
  }
  QCOMPARE(f.get_u8("v.u8"), uint8_t(250));
  QCOMPARE(f.get_i8("v.i8"), int8_t(-120));
  QCOMPARE(f.get_u16("v.u16"), uint16_t(65000));
  QCOMPARE(f.get_i16("v.i16"), int16_t(-32000));
  QCOMPARE(f.get_u32("v.u32"), 4000000000u);
  QCOMPARE(f.get_i32("v.i32"), -2000000000);
  QCOMPARE(f.get_f32("v.f32"), 3.25f);
  QCOMPARE(f.get_bool("v.bool"), true);
  QCOMPARE(q(f.get_string("v.string")), QString("héllo\nworld"));
  QCOMPARE(f.get_u64("v.u64"), std::numeric_limits<uint64_t>::max());
  QCOMPARE(f.get_i64("v.i64"), std::numeric_limits<int64_t>::min());
  QCOMPARE(f.get_f64("v.f64"), -1.0 / 3.0);
  QCOMPARE(f.get_strings("v.strings"), (std::vector<std::string>{"a b", "", "Ġthe"}));
  QCOMPARE(f.get_array("v.empty_array", ValueType::kU64).size(), size_t(0));
  QCOMPARE(f.get_array("v.i32s", ValueType::kI32)[1].i, int64_t(-3));
  QCOMPARE(f.tensors().size(), size_t(0));
  QCOMPARE(f.alignment(), kDefaultAlignment);

  // Wrong type or missing key: InputError naming the file and the key.
  auto e = input_error_of([&] { f.get_u64("v.u32"); });
  QVERIFY(e);
  QVERIFY2(e->where() == path + ": key 'v.u32'", e->what());
  QVERIFY2(std::string(e->what()).find("expected a u64") != std::string::npos, e->what());
  e = input_error_of([&] { f.get_array("v.strings", ValueType::kI32); });
  QVERIFY(e && e->where() == path + ": key 'v.strings'");
  e = input_error_of([&] { f.get_string("absent"); });
  QVERIFY(e && e->where() == path + ": key 'absent'");
}

void TestGguf::tensorTypesRoundTrip() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string path = dir.filePath("t.gguf").toStdString();
  std::vector<float> f32 = random_values(3 * 7, 2.0f, 10);
  std::vector<float> f16 = random_values(4 * 5, 50.0f, 11);
  f16[0] = 1e9f;  // beyond fp16: Inf
  f16[1] = -std::numeric_limits<float>::infinity();
  f16[2] = std::nanf("");
  std::vector<float> bf16 = random_values(2 * 3 * 4, 1e10f, 12);
  std::vector<float> q8 = random_values(3 * 64, 0.02f, 13);
  for (int k = 64; k < 96; ++k) q8[k] = 0;           // an all-zero block
  for (int k = 128; k < 160; ++k) q8[k] = 1e4f * k;  // huge values (up to 1.6e6)
  {
    GgufWriter w(path);
    w.add_metadata("general.file_type", Value::u32(7));
    w.add_tensor("f32", {3, 7}, TensorType::kF32);
    w.add_tensor("f16", {4, 5}, TensorType::kF16);
    w.add_tensor("bf16", {2, 3, 4}, TensorType::kBF16);
    w.add_tensor("q8", {3, 64}, TensorType::kQ8_0);
    w.write_header();
    w.write_tensor(f32.data(), f32.size());
    w.write_tensor(f16.data(), f16.size());
    w.write_tensor(bf16.data(), bf16.size());
    w.write_tensor(q8.data(), q8.size());
    w.finish();
  }
  const GgufFile f = GgufFile::map(path);
  QCOMPARE(f.tensors().size(), size_t(4));
  QCOMPARE(f.tensor("bf16").shape, (std::vector<int64_t>{2, 3, 4}));  // PyTorch order back
  QVERIFY(f.tensor("q8").type == TensorType::kQ8_0);
  QCOMPARE(f.tensor("q8").bytes, uint64_t(3 * 2 * 34));

  // On disk the dims are reversed: [4, 3, 2] for the PyTorch shape [2, 3, 4].
  const std::vector<uint8_t> raw = read_bytes(q(path));
  const size_t at = find_string(raw, "bf16");
  QVERIFY(at != std::string::npos);
  QCOMPARE(get<uint32_t>(raw, at + 12), 3u);
  QCOMPARE(get<uint64_t>(raw, at + 16), uint64_t(4));
  QCOMPARE(get<uint64_t>(raw, at + 32), uint64_t(2));

  QCOMPARE(f.dequantize(f.tensor("f32")), f32);  // exact
  QCOMPARE(std::memcmp(f.data(f.tensor("f32")), f32.data(), f32.size() * 4), 0);
  const auto h = f.dequantize(f.tensor("f16"));
  QVERIFY(std::isinf(h[0]) && h[0] > 0);
  QVERIFY(std::isinf(h[1]) && h[1] < 0);
  QVERIFY(std::isnan(h[2]));
  for (size_t k = 3; k < f16.size(); ++k) {
    QCOMPARE(h[k], fp16_to_fp32(fp32_to_fp16(f16[k])));
    QVERIFY(std::fabs(h[k] - f16[k]) <= std::ldexp(std::fabs(f16[k]), -11) + 1e-7f);
  }
  const auto b = f.dequantize(f.tensor("bf16"));
  for (size_t k = 0; k < bf16.size(); ++k) {
    QVERIFY(std::fabs(b[k] - bf16[k]) <= std::ldexp(std::fabs(bf16[k]), -8));
  }
  const auto d = f.dequantize(f.tensor("q8"));
  for (size_t blk = 0; blk < q8.size() / 32; ++blk) {
    const float bound = q8_0_block_error_bound(&q8[blk * 32]);
    for (size_t k = blk * 32; k < blk * 32 + 32; ++k) {
      QVERIFY2(std::fabs(d[k] - q8[k]) <= bound * (1 + 1e-6f), qPrintable(QString::number(k)));
    }
  }
  for (int k = 64; k < 96; ++k) QCOMPARE(d[k], 0.0f);
}

void TestGguf::alignment_data() {
  QTest::addColumn<int>("alignment");  // 0: leave the key out (default 32)
  QTest::newRow("default 32") << 0;
  QTest::newRow("explicit 32") << 32;
  QTest::newRow("custom 64") << 64;
  QTest::newRow("custom 8") << 8;
  QTest::newRow("custom 4096") << 4096;
}

void TestGguf::alignment() {
  QFETCH(int, alignment);
  const uint32_t expected = alignment == 0 ? 32u : static_cast<uint32_t>(alignment);
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string path = dir.filePath("a.gguf").toStdString();
  // Sizes chosen so that no tensor ends on an alignment boundary by itself.
  const std::vector<std::pair<std::vector<int64_t>, TensorType>> decl = {
      {{3}, TensorType::kF32},
      {{5, 3}, TensorType::kF16},
      {{1, 32}, TensorType::kQ8_0},
      {{7}, TensorType::kBF16}};
  {
    GgufWriter w(path);
    if (alignment)
      w.add_metadata("general.alignment", Value::u32(static_cast<uint32_t>(alignment)));
    for (size_t i = 0; i < decl.size(); ++i) {
      w.add_tensor("t" + std::to_string(i), decl[i].first, decl[i].second);
    }
    w.write_header();
    for (size_t i = 0; i < decl.size(); ++i) {
      size_t n = 1;
      for (int64_t dim : decl[i].first) n *= static_cast<size_t>(dim);
      const auto v = random_values(n, 1.0f, static_cast<unsigned>(20 + i));
      w.write_tensor(v.data(), v.size());
    }
    w.finish();
  }
  const GgufFile f = GgufFile::map(path);
  QCOMPARE(f.alignment(), expected);
  QCOMPARE(f.data_start() % expected, uint64_t(0));
  const uint64_t sizes[] = {12, 30, 34, 14};
  uint64_t offset = 0;
  for (size_t i = 0; i < decl.size(); ++i) {
    const TensorInfo& t = f.tensors()[i];
    QCOMPARE(t.bytes, sizes[i]);
    QCOMPARE(t.offset, offset);  // the running sum of padded sizes
    QCOMPARE(reinterpret_cast<uintptr_t>(f.data(t)) % expected, uintptr_t(0));
    offset = (offset + sizes[i] + expected - 1) / expected * expected;
  }
  QCOMPARE(uint64_t(read_bytes(q(path)).size()), f.data_start() + offset);
}

void TestGguf::progressEndsAtFileSize() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string path = dir.filePath("p.gguf").toStdString();
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  uint64_t total = 0;
  // "big" spans more than two chunks of 2^20 values: progress moves inside it.
  const size_t big = (size_t(1) << 21) + 64;
  {
    GgufWriter w(path);
    w.set_progress([&](uint64_t done, uint64_t all) { calls.emplace_back(done, all); });
    w.add_tensor("a", {64, 64}, TensorType::kQ8_0);
    w.add_tensor("big", {static_cast<int64_t>(big / 32), 32}, TensorType::kQ8_0);
    w.add_tensor("b", {33}, TensorType::kF32);
    total = w.write_header();
    QCOMPARE(calls.size(), size_t(1));  // after the header
    const auto a = random_values(64 * 64, 1.0f, 30);
    w.write_tensor(a.data(), a.size());
    QCOMPARE(calls.size(), size_t(2));
    const auto v = random_values(big, 1.0f, 32);
    w.write_tensor(v.data(), v.size());
    QCOMPARE(calls.size(), size_t(5));  // two chunk boundaries inside, then the tensor's end
    const auto b = random_values(33, 1.0f, 31);
    w.write_tensor(b.data(), b.size());
    w.finish();
  }
  const uint64_t size = read_bytes(q(path)).size();
  QCOMPARE(total, size);
  QCOMPARE(calls.size(), size_t(6));
  for (size_t i = 0; i < calls.size(); ++i) {
    QCOMPARE(calls[i].second, size);
    if (i) QVERIFY(calls[i].first > calls[i - 1].first);
  }
  QCOMPARE(calls.back().first, size);
  // The chunked tensor reads back within the Q8_0 bound, block by block.
  const GgufFile f = GgufFile::map(path);
  const auto v = random_values(big, 1.0f, 32);
  const auto d = f.dequantize(f.tensor("big"));
  for (size_t blk = 0; blk < big / 32; blk += 997) {
    const float bound = q8_0_block_error_bound(&v[blk * 32]);
    for (size_t k = blk * 32; k < blk * 32 + 32; ++k) {
      QVERIFY(std::fabs(d[k] - v[k]) <= bound * (1 + 1e-6f));
    }
  }
}

void TestGguf::interruptedWriteLeavesNoFile() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string path = dir.filePath("i.gguf").toStdString();
  {
    GgufWriter w(path);
    w.add_tensor("a", {4, 32}, TensorType::kF16);
    w.add_tensor("b", {4}, TensorType::kF32);
    w.write_header();
    const auto a = random_values(128, 1.0f, 40);
    w.write_tensor(a.data(), a.size());
    // The temp file exists beside the target while writing; the target does not.
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files).size(), 1);
    QVERIFY(QDir(dir.path()).entryList(QDir::Files)[0].startsWith("i.gguf.tmp-"));
    QVERIFY(!QFile::exists(q(path)));
    // finish() refuses while a tensor is missing, naming it.
    const auto e = input_error_of([&] { w.finish(); });
    QVERIFY(e && e->where() == path + ": tensor 'b'");
  }
  QVERIFY(!QFile::exists(q(path)));
  QCOMPARE(QDir(dir.path()).entryList(QDir::Files).size(), 0);

  // An existing file is untouched by an interrupted rewrite.
  write_good_file(path);
  const auto before = read_bytes(q(path));
  {
    GgufWriter w(path);
    w.add_tensor("a", {2}, TensorType::kF32);
    w.write_header();
  }
  QCOMPARE(read_bytes(q(path)), before);
}

void TestGguf::writerRefusesBadDeclarations() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string path = dir.filePath("w.gguf").toStdString();
  GgufWriter w(path);
  auto refused = [&](auto&& f, const std::string& where, const char* words) {
    const auto e = input_error_of(f);
    if (!e) return false;
    return e->where() == where && std::string(e->what()).find(words) != std::string::npos;
  };
  const std::string t = path + ": tensor '";
  QVERIFY(refused(
      [&] {
        w.add_tensor("q", {4, 33}, TensorType::kQ8_0);
      },
      t + "q'", "not a multiple of Q8_0's block of 32"));
  QVERIFY(refused([&] { w.add_tensor(std::string(64, 'n'), {4}, TensorType::kF32); },
                  t + std::string(64, 'n') + "'", "too long"));
  QVERIFY(refused([&] { w.add_tensor("z", {}, TensorType::kF32); }, t + "z'", "1 to 4"));
  QVERIFY(refused(
      [&] {
        w.add_tensor("z", {1, 1, 1, 1, 1}, TensorType::kF32);
      },
      t + "z'", "1 to 4"));
  QVERIFY(refused([&] { w.add_tensor("z", {3, 0}, TensorType::kF32); }, t + "z'", "<= 0"));
  w.add_tensor("ok", {4}, TensorType::kF32);
  QVERIFY(refused([&] { w.add_tensor("ok", {4}, TensorType::kF32); }, t + "ok'", "more than once"));
  const std::string k = path + ": key '";
  w.add_metadata("m", Value::u8(1));
  QVERIFY(refused([&] { w.add_metadata("m", Value::u8(2)); }, k + "m'", "more than once"));
  QVERIFY(refused([&] { w.add_metadata("general.alignment", Value::u64(32)); },
                  k + "general.alignment'", "must be a u32"));
  QVERIFY(refused([&] { w.add_metadata("general.alignment", Value::u32(48)); },
                  k + "general.alignment'", "power of two"));
  QVERIFY(refused([&] { w.add_metadata("nested", Value::array(ValueType::kArray, {})); },
                  k + "nested'", "nested"));
  QVERIFY(refused([&] { w.add_metadata("mixed", Value::array(ValueType::kU8, {Value::i8(1)})); },
                  k + "mixed'", "holds a i8"));
  w.write_header();
  const float three[3] = {1, 2, 3};
  QVERIFY(refused([&] { w.write_tensor(three, 3); }, t + "ok'", "got 3 values"));
  QVERIFY(!QFile::exists(q(path)));

  GgufWriter big(path);
  big.add_tensor("q", {1, 32}, TensorType::kQ8_0);
  big.write_header();
  std::vector<float> huge(32, 1e7f);
  QVERIFY(refused([&] { big.write_tensor(huge.data(), huge.size()); }, t + "q'",
                  "has no Q8_0 encoding"));
  huge[3] = std::numeric_limits<float>::infinity();
  huge[0] = 1;
  QVERIFY(refused([&] { big.write_tensor(huge.data(), huge.size()); }, t + "q'", "index 1 "));
  // Nothing was written: the same tensor can be fed again and the file completes.
  std::vector<float> fine(32, 127.0f);  // d = 1: exact
  big.write_tensor(fine.data(), fine.size());
  big.finish();
  QCOMPARE(GgufFile::map(path).dequantize(GgufFile::map(path).tensor("q")), fine);
}

void TestGguf::rejectsMalformed_data() {
  QTest::addColumn<QString>("damage");
  QTest::addColumn<QString>("where");  // "" the file, "key:K", "tensor:T"
  QTest::addColumn<QString>("words");
  QTest::newRow("bad magic") << "magic"
                             << ""
                             << "bad magic";
  QTest::newRow("version 2") << "version2"
                             << ""
                             << "version 2 is not supported";
  QTest::newRow("tensor count larger than file") << "tensor_count"
                                                 << ""
                                                 << "tensor count";
  QTest::newRow("kv count larger than file") << "kv_count"
                                             << ""
                                             << "metadata count";
  QTest::newRow("key length beyond file") << "key_length"
                                          << ""
                                          << "runs past the end";
  QTest::newRow("string value beyond file") << "string_length"
                                            << "key:general.architecture"
                                            << "runs past the end";
  QTest::newRow("array count beyond file") << "array_count"
                                           << "key:tokens"
                                           << "runs past the end";
  QTest::newRow("nested array") << "nested"
                                << "key:tokens"
                                << "nested arrays";
  QTest::newRow("unknown value type") << "value_type"
                                      << "key:dup.a"
                                      << "unknown value type 13";
  QTest::newRow("unknown array element type") << "element_type"
                                              << "key:tokens"
                                              << "unknown array element type 99";
  QTest::newRow("duplicate key") << "duplicate_key"
                                 << "key:dup.a"
                                 << "more than once";
  QTest::newRow("alignment not a power of two") << "alignment"
                                                << "key:general.alignment"
                                                << "not a power of two";
  QTest::newRow("unknown tensor type") << "tensor_type"
                                       << "tensor:blk.1.w"
                                       << "unsupported tensor type 2";
  QTest::newRow("misaligned offset") << "misaligned"
                                     << "tensor:blk.1.w"
                                     << "not a multiple of the alignment 32";
  QTest::newRow("overlapping tensors") << "overlap"
                                       << "tensor:blk.1.w"
                                       << "overlaps tensor 'blk.0.w'";
  QTest::newRow("gap between tensors") << "gap"
                                       << "tensor:blk.1.w"
                                       << "leaves a gap";
  QTest::newRow("n_dims 0") << "ndims0"
                            << "tensor:blk.0.w"
                            << "dimension count 0";
  QTest::newRow("n_dims 5") << "ndims5"
                            << "tensor:blk.0.w"
                            << "dimension count 5";
  QTest::newRow("zero dimension") << "dim0"
                                  << "tensor:blk.1.w"
                                  << "must be > 0";
  QTest::newRow("Q8_0 row not a whole block") << "q8_row"
                                              << "tensor:blk.0.w"
                                              << "not a multiple of Q8_0";
  QTest::newRow("size overflows") << "overflow"
                                  << "tensor:blk.1.w"
                                  << "overflow";
  QTest::newRow("name of 64 bytes") << "long_name"
                                    << "tensor:" + q(kLongName + "\x01") << "too long";
  QTest::newRow("duplicate tensor name") << "duplicate_tensor"
                                         << "tensor:blk.0.w"
                                         << "more than once";
  QTest::newRow("data past end of file") << "offset_past_end"
                                         << "tensor:" + q(kLongName) << "runs past the end";
  QTest::newRow("data region too long") << "trailing"
                                        << ""
                                        << "longer than its tensors";
}

void TestGguf::rejectsMalformed() {
  QFETCH(QString, damage);
  QFETCH(QString, where);
  QFETCH(QString, words);
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string good = dir.filePath("good.gguf").toStdString();
  write_good_file(good);
  std::vector<uint8_t> b = read_bytes(q(good));
  const GgufFile ok = GgufFile::map(good);  // the undamaged file reads
  QCOMPARE(ok.tensors().size(), size_t(3));
  const Layout l = layout_of(b);
  QVERIFY(l.first_key != std::string::npos && l.dup_key != std::string::npos &&
          l.tokens_key != std::string::npos && l.tensor0 != std::string::npos &&
          l.tensor1 != std::string::npos && l.long_tensor != std::string::npos);

  const std::string d = damage.toStdString();
  const size_t arch_value = l.first_key + 8 + 20 + 4;  // after "general.architecture" and its type
  const size_t tokens_type = l.tokens_key + 8 + 6;
  const size_t dup_type = l.dup_key + 8 + 5;
  if (d == "magic") {
    b[0] = 'X';
  } else if (d == "version2") {
    put<uint32_t>(b, 4, 2);
  } else if (d == "tensor_count") {
    put<uint64_t>(b, 8, 1'000'000);
  } else if (d == "kv_count") {
    put<uint64_t>(b, 16, uint64_t(1) << 40);
  } else if (d == "key_length") {
    put<uint64_t>(b, l.first_key, 1'000'000'000);
  } else if (d == "string_length") {
    put<uint64_t>(b, arch_value, uint64_t(1) << 62);
  } else if (d == "array_count") {
    put<uint64_t>(b, tokens_type + 8, uint64_t(1) << 61);
  } else if (d == "nested") {
    put<uint32_t>(b, tokens_type + 4, 9);
  } else if (d == "value_type") {
    put<uint32_t>(b, dup_type, 13);
  } else if (d == "element_type") {
    put<uint32_t>(b, tokens_type + 4, 99);
  } else if (d == "duplicate_key" || d == "alignment") {
    // Both need keys the good file lacks: built by hand below.
  } else if (d == "tensor_type") {
    put<uint32_t>(b, type_at(b, l.tensor1), 2);
  } else if (d == "misaligned") {
    put<uint64_t>(b, offset_at(b, l.tensor1), get<uint64_t>(b, offset_at(b, l.tensor1)) + 4);
  } else if (d == "overlap") {
    put<uint64_t>(b, offset_at(b, l.tensor1), 96);  // blk.0.w spans [0, 136)
  } else if (d == "gap") {
    put<uint64_t>(b, offset_at(b, l.tensor1), get<uint64_t>(b, offset_at(b, l.tensor1)) + 32);
  } else if (d == "ndims0") {
    put<uint32_t>(b, n_dims_at(b, l.tensor0), 0);
  } else if (d == "ndims5") {
    put<uint32_t>(b, n_dims_at(b, l.tensor0), 5);
  } else if (d == "dim0") {
    put<uint64_t>(b, n_dims_at(b, l.tensor1) + 4, 0);
  } else if (d == "q8_row") {
    put<uint64_t>(b, n_dims_at(b, l.tensor0) + 4, 48);  // dims [48, 2]
  } else if (d == "overflow") {
    put<uint64_t>(b, n_dims_at(b, l.tensor1) + 4, uint64_t(1) << 62);
  } else if (d == "long_name") {
    put<uint64_t>(b, l.long_tensor, 64);  // swallows the first byte of n_dims (1)
  } else if (d == "duplicate_tensor") {
    b[l.tensor1 + 8 + 4] = '0';  // "blk.1.w" → "blk.0.w"
  } else if (d == "offset_past_end") {
    b.resize(b.size() - 32);  // the last tensor's data and padding are gone
  } else if (d == "trailing") {
    b.resize(b.size() + 64, 0);
  } else {
    QFAIL("unknown damage");
  }

  const std::string path = dir.filePath("bad.gguf").toStdString();
  if (d == "alignment" || d == "duplicate_key") {
    // Both need a key the good file lacks; written through the format's own layout by hand.
    std::vector<uint8_t> h = {'G', 'G', 'U', 'F'};
    auto u32 = [&](uint32_t v) {
      h.resize(h.size() + 4);
      put(h, h.size() - 4, v);
    };
    auto u64 = [&](uint64_t v) {
      h.resize(h.size() + 8);
      put(h, h.size() - 8, v);
    };
    auto str = [&](const std::string& s) {
      u64(s.size());
      h.insert(h.end(), s.begin(), s.end());
    };
    u32(3);
    u64(0);
    u64(2);
    if (d == "alignment") {
      str("dup.a");
      u32(4);
      u32(7);
      str("general.alignment");
      u32(4);
      u32(48);
    } else {
      str("dup.a");
      u32(4);
      u32(7);
      str("dup.a");
      u32(4);
      u32(8);
    }
    h.resize((h.size() + 31) / 32 * 32, 0);
    b = h;
  }
  QVERIFY(write_bytes(q(path), b));

  const auto e = input_error_of([&] { GgufFile::map(path); });
  QVERIFY2(e, "the damaged file was accepted");
  std::string expected_where = path;
  if (where.startsWith("key:")) expected_where += ": key '" + where.mid(4).toStdString() + "'";
  if (where.startsWith("tensor:")) {
    expected_where += ": tensor '" + where.mid(7).toStdString() + "'";
  }
  QVERIFY2(e->where() == expected_where, e->what());
  QVERIFY2(std::string(e->what()).find(words.toStdString()) != std::string::npos, e->what());
  // The in-memory parse says the same.
  const auto same = input_error_of([&] { GgufFile::parse(b, path); });
  QVERIFY(same && std::string(same->what()) == e->what());
}

void TestGguf::rejectsEveryTruncation() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string good = dir.filePath("good.gguf").toStdString();
  write_good_file(good);
  const std::vector<uint8_t> b = read_bytes(q(good));
  const GgufFile full = GgufFile::parse(b, good);
  // The last tensor's padding is optional; any cut before its data ends must be refused.
  const TensorInfo& last = full.tensors().back();
  const size_t needed = full.data_start() + last.offset + last.bytes;
  for (size_t n = 0; n < needed; ++n) {
    const std::vector<uint8_t> cut(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
    const auto e = input_error_of([&] { GgufFile::parse(cut, good); });
    if (!e)
      QFAIL(qPrintable(QString("a file cut at byte %1 of %2 was accepted").arg(n).arg(b.size())));
    QVERIFY2(e->where().rfind(good, 0) == 0, e->what());
  }
  for (size_t n = needed; n <= b.size(); ++n) {
    const std::vector<uint8_t> cut(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
    QCOMPARE(GgufFile::parse(cut, good).tensors().size(), size_t(3));
  }
  // A zero-byte file on disk.
  const std::string empty = dir.filePath("empty.gguf").toStdString();
  QVERIFY(write_bytes(q(empty), {}));
  const auto e = input_error_of([&] { GgufFile::map(empty); });
  QVERIFY(e && e->where() == empty);
}

QTEST_GUILESS_MAIN(TestGguf)
#include "tst_gguf.moc"
