// Exports and their check: a preset run and LoRA runs on Hugging Face fixtures of each architecture
// exported as PEFT, merged and GGUF (F32, F16, BF16, Q8_0), each reloaded by the export check with
// our own readers. The GGUF layout is also checked against the merged export independently of our
// reader: llama's q/k row permutation (and none for qwen), tensor names, metadata keys and types,
// the tokenizer as llama.cpp reads it. A damaged file, wrong metadata, a cancel and refused
// requests are shown to fail as they should.
#include <torch/torch.h>

#include <QTemporaryDir>
#include <QtTest>
#include <filesystem>
#include <fstream>

#include "deeptune/data.h"
#include "deeptune/error.h"
#include "deeptune/gguf.h"
#include "deeptune/safetensors.h"
#include "deeptune/session.h"
#include "deeptune/store.h"
#include "formats/gguf_export.h"
#include "formats/hf_checkpoint.h"
#include "session/session_internal.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using namespace deeptune;

namespace {

const std::string kFixtures = DEEPTUNE_SOURCE_DIR "/tests/interop/fixtures/models";

std::vector<float> tensor_values(const SafetensorsFile& f, const std::string& name) {
  const auto& info = f.info(name);
  std::vector<float> out(info.numel());
  const uint8_t* p = f.data(info);
  for (size_t i = 0; i < out.size(); ++i) {
    if (info.dtype == DType::kF32)
      std::memcpy(&out[i], p + 4 * i, 4);
    else {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      out[i] = info.dtype == DType::kBF16 ? gguf::bf16_to_fp32(h) : gguf::fp16_to_fp32(h);
    }
  }
  return out;
}

}  // namespace

class TestExportCheck : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void everyFormatPassesItsCheck_data();
  void everyFormatPassesItsCheck();
  void ggufLayoutMatchesMergedExport_data();
  void ggufLayoutMatchesMergedExport();
  void presetVocabularyIsByteLevel();
  void progressReachesTotalAndCancelRemovesFile();
  void damagedFileFailsTheCheck();
  void refusals();

 private:
  std::string train(const std::string& name, const std::string& source);
  QTemporaryDir dir_;
  std::string project_;
};

std::string TestExportCheck::train(const std::string& name, const std::string& source) {
  auto c = test::small_run_config("pairs");
  c.model.source = source;
  c.train.max_steps = 6;
  c.data.max_length = 48;
  const int64_t id = create_run(project_, c, name);
  test::RunRecorder obs;
  RunControl control;
  const auto outcome = execute_run(project_, id, obs, control);
  if (outcome.status != RunStatus::kCompleted) throw std::runtime_error(outcome.error);
  return name;
}

void TestExportCheck::initTestCase() {
  QVERIFY(dir_.isValid());
  project_ = dir_.filePath("x.dtproj").toStdString();
  test::make_counting_project(project_, 32);
  train("preset", "preset:tiny");
  for (const char* m : {"llama_untied_llama3rope", "llama_biases_linear_hd", "mistral",
                        "qwen2_sharded", "qwen3", "llama_tied"})
    train(m, kFixtures + "/" + m);
}

void TestExportCheck::everyFormatPassesItsCheck_data() {
  QTest::addColumn<QString>("run");
  QTest::addColumn<QString>("format");
  QTest::addColumn<QString>("quant");
  QTest::newRow("preset peft") << "preset"
                               << "peft"
                               << "";
  QTest::newRow("preset hf") << "preset"
                             << "hf"
                             << "";
  for (const char* q : {"F32", "F16", "BF16", "Q8_0"})
    QTest::newRow(qPrintable(QString("preset gguf ") + q)) << "preset"
                                                           << "gguf" << q;
  for (const char* run : {"llama_untied_llama3rope", "llama_biases_linear_hd", "mistral",
                          "qwen2_sharded", "qwen3", "llama_tied"}) {
    QTest::newRow(qPrintable(QString(run) + " peft")) << run << "peft"
                                                      << "";
    QTest::newRow(qPrintable(QString(run) + " hf")) << run << "hf"
                                                    << "";
    for (const char* q : {"F16", "Q8_0"})
      QTest::newRow(qPrintable(QString(run) + " gguf " + q)) << run << "gguf" << q;
  }
}

void TestExportCheck::everyFormatPassesItsCheck() {
  QFETCH(QString, run);
  QFETCH(QString, format);
  QFETCH(QString, quant);
  ExportOptions o;
  o.format = export_format_from_string(format.toStdString());
  if (!quant.isEmpty()) o.quant = gguf_quant_from_string(quant.toStdString());
  const std::string out = dir_.filePath("out/" + run + "-" + format + quant).toStdString();
  const auto r = export_run(project_, run.toStdString(), o, out);
  const auto& c = r.check;
  std::string failures;
  for (const auto& f : c.failures) failures += f + "; ";
  QVERIFY(c.ran);
  QVERIFY2(c.passed, failures.c_str());
  QCOMPARE(c.probes.size(), size_t(4));
  QVERIFY(c.top1_agreement >= c.min_top1);
  QVERIFY(c.max_abs_diff <= c.tolerance);
  for (const auto& p : c.probes) QVERIFY(p.positions > 1);
  if (format == "gguf") {
    QVERIFY(!c.tensors.empty());
    for (const auto& t : c.tensors) QVERIFY2(t.max_error <= t.bound * (1 + 1e-6), t.name.c_str());
    QVERIFY2(c.tokenizer.find("4/4 probes decode") != std::string::npos, c.tokenizer.c_str());
    QCOMPARE(r.files.size(), size_t(1));
    QVERIFY(fs::file_size(r.files[0]) == r.bytes_written);
  }
  if (quant == "F32" || format != "gguf")
    QVERIFY2(c.max_abs_diff <= 1e-4, std::to_string(c.max_abs_diff).c_str());
  if (quant == "F16") QVERIFY(c.max_abs_diff <= 1e-2);
  // Recorded as an artifact of the run.
  auto store = ProjectStore::open(project_);
  const auto rec = store->find_run(run.toStdString());
  QVERIFY(deeptune::detail::newest_artifact(*store, rec->id, "export_" + format.toStdString())
              .has_value());
}

// The GGUF tensors against the merged checkpoint, read as plain files: llama's q and k rows
// interleaved per head (GGUF row 2i = HF row i, 2i+1 = HF row i + d/2), everything else equal.
void TestExportCheck::ggufLayoutMatchesMergedExport_data() {
  QTest::addColumn<QString>("run");
  QTest::addColumn<bool>("permuted");
  QTest::newRow("preset (llama)") << "preset" << true;
  QTest::newRow("llama, q/k/v/o biases") << "llama_biases_linear_hd" << true;
  QTest::newRow("mistral") << "mistral" << true;
  QTest::newRow("qwen2") << "qwen2_sharded" << false;
  QTest::newRow("qwen3") << "qwen3" << false;
}

void TestExportCheck::ggufLayoutMatchesMergedExport() {
  QFETCH(QString, run);
  QFETCH(bool, permuted);
  ExportOptions o;
  o.check = false;
  o.format = ExportFormat::kHfMerged;
  const std::string hf_dir = dir_.filePath("layout/" + run + "-hf").toStdString();
  export_run(project_, run.toStdString(), o, hf_dir);
  o.format = ExportFormat::kGguf;
  o.quant = GgufQuant::kF32;
  const std::string path = dir_.filePath("layout/" + run + ".gguf").toStdString();
  export_run(project_, run.toStdString(), o, path);
  const auto hf = SafetensorsFile::read(hf_dir + "/model.safetensors");
  const auto config = hf::read_config(hf_dir);
  const auto g = gguf::GgufFile::map(path);
  const std::string arch = g.get_string("general.architecture");
  QCOMPARE(QString::fromStdString(arch),
           permuted ? QString("llama") : QString::fromStdString(config.model_type()));
  QCOMPARE(int64_t(g.get_u32(arch + ".block_count")), config.num_hidden_layers);
  QCOMPARE(int64_t(g.get_u32(arch + ".attention.head_count_kv")), config.num_key_value_heads);
  QCOMPARE(int64_t(g.get_u32(arch + ".rope.dimension_count")), config.head_dim);
  QCOMPARE(double(g.get_f32(arch + ".rope.freq_base")), double(float(config.rope_theta)));
  QCOMPARE(g.get_u32("general.file_type"), 0u);
  QCOMPARE(g.get_string("general.name"), run.toStdString());
  QVERIFY(g.get_string("deeptune.version").size() > 0);
  QCOMPARE(g.get_u32("deeptune.lora.r"), 8u);

  const int64_t d = config.head_dim;
  auto check_rows = [&](const std::string& gguf_name, const std::string& hf_name, int64_t heads) {
    const auto want = tensor_values(hf, hf_name);
    const auto got = g.dequantize(g.tensor(gguf_name));
    QCOMPARE(got.size(), want.size());
    const size_t cols = want.size() / size_t(heads * d);
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < d; ++i) {
        const int64_t src = permuted ? h * d + (i % 2 ? i / 2 + d / 2 : i / 2) : h * d + i;
        for (size_t k = 0; k < cols; ++k)
          if (got[size_t(h * d + i) * cols + k] != want[size_t(src) * cols + k]) {
            QFAIL(qPrintable(QString::fromStdString(gguf_name) + " row " +
                             QString::number(h * d + i)));
          }
      }
  };
  for (int64_t layer = 0; layer < config.num_hidden_layers; ++layer) {
    const std::string blk = "blk." + std::to_string(layer) + ".";
    const std::string hfl = "model.layers." + std::to_string(layer) + ".";
    check_rows(blk + "attn_q.weight", hfl + "self_attn.q_proj.weight", config.num_attention_heads);
    check_rows(blk + "attn_k.weight", hfl + "self_attn.k_proj.weight", config.num_key_value_heads);
    if (config.attention_bias) {
      check_rows(blk + "attn_q.bias", hfl + "self_attn.q_proj.bias", config.num_attention_heads);
      check_rows(blk + "attn_k.bias", hfl + "self_attn.k_proj.bias", config.num_key_value_heads);
    }
    const bool saved_permuted = permuted;
    permuted = false;  // v, o, MLP, norms: as they are
    check_rows(blk + "attn_v.weight", hfl + "self_attn.v_proj.weight", 1);
    check_rows(blk + "ffn_down.weight", hfl + "mlp.down_proj.weight", 1);
    check_rows(blk + "attn_norm.weight", hfl + "input_layernorm.weight", 1);
    if (config.qk_norm) check_rows(blk + "attn_q_norm.weight", hfl + "self_attn.q_norm.weight", 1);
    permuted = saved_permuted;
  }
  QCOMPARE(g.has_tensor("output.weight"), !config.tie_word_embeddings);
  // The vocabulary: as many tokens as embedding rows, types for each, the tokenizer's specials.
  const auto tokens = g.get_strings("tokenizer.ggml.tokens");
  QCOMPARE(int64_t(tokens.size()), config.vocab_size);
  QCOMPARE(g.get_array("tokenizer.ggml.token_type", gguf::ValueType::kI32).size(), tokens.size());
  // The merged export's tokenizer: deeptune_tokenizer.json for a preset, the base's files else.
  const auto tok =
      fs::exists(hf_dir + "/tokenizer.json") ? model_tokenizer(hf_dir) : hf::read_tokenizer(hf_dir);
  if (tok->bos_id() >= 0)
    QCOMPARE(int32_t(g.get_u32("tokenizer.ggml.bos_token_id")), tok->bos_id());
  QCOMPARE(int32_t(g.get_u32("tokenizer.ggml.eos_token_id")), tok->eos_id());
  const std::string model = g.get_string("tokenizer.ggml.model");
  if (model == "llama") {
    QCOMPARE(g.get_array("tokenizer.ggml.scores", gguf::ValueType::kF32).size(), tokens.size());
    const int32_t byte = tok->token_id("<0x41>");
    if (byte >= 0)
      QCOMPARE(g.get_array("tokenizer.ggml.token_type", gguf::ValueType::kI32)[size_t(byte)].i, 6);
  } else {
    QVERIFY(g.contains("tokenizer.ggml.merges"));
    QVERIFY(g.contains("tokenizer.ggml.pre"));
  }
  if (!tok->chat_template().empty())
    QCOMPARE(g.get_string("tokenizer.chat_template"), tok->chat_template());
}

// A preset's byte tokenizer as a byte-level vocabulary: byte b spelled as GPT-2 spells it, the
// three specials as control tokens.
void TestExportCheck::presetVocabularyIsByteLevel() {
  ExportOptions o;
  o.format = ExportFormat::kGguf;
  o.check = false;
  const std::string path = dir_.filePath("preset-vocab.gguf").toStdString();
  export_run(project_, "preset", o, path);
  const auto g = gguf::GgufFile::map(path);
  QCOMPARE(g.get_string("tokenizer.ggml.model"), std::string("gpt2"));
  const auto tokens = g.get_strings("tokenizer.ggml.tokens");
  QCOMPARE(tokens.size(), size_t(ByteTokenizer::kVocab));
  QCOMPARE(tokens[size_t('a')], std::string("a"));
  QCOMPARE(tokens[size_t(' ')], std::string("\xC4\xA0"));   // Ġ
  QCOMPARE(tokens[size_t('\n')], std::string("\xC4\x8A"));  // Ċ
  QCOMPARE(g.get_u32("tokenizer.ggml.bos_token_id"), uint32_t(ByteTokenizer::kBos));
  QCOMPARE(g.get_u32("tokenizer.ggml.eos_token_id"), uint32_t(ByteTokenizer::kEos));
  QCOMPARE(g.get_array("tokenizer.ggml.token_type", gguf::ValueType::kI32)[ByteTokenizer::kBos].i,
           3);
  QVERIFY(g.get_bool("tokenizer.ggml.add_bos_token"));
}

void TestExportCheck::progressReachesTotalAndCancelRemovesFile() {
  for (const char* format : {"hf", "gguf"}) {
    ExportOptions o;
    o.format = export_format_from_string(format);
    std::vector<ExportProgress> seen;
    o.on_progress = [&](const ExportProgress& p) {
      seen.push_back(p);
      return true;
    };
    const std::string out = dir_.filePath(QString("progress-") + format).toStdString();
    const auto r = export_run(project_, "qwen3", o, out);
    QVERIFY(r.check.passed);
    QVERIFY(seen.size() > 3);
    uint64_t last = 0;
    bool reached = false;
    for (const auto& p : seen) {
      if (p.stage != "writing") continue;
      QVERIFY(p.bytes_done >= last || p.bytes_done == 0);
      QVERIFY(p.bytes_done <= p.bytes_total);
      last = p.bytes_done;
      reached = reached || (p.bytes_done == p.bytes_total && p.bytes_total > 0);
    }
    QVERIFY(reached);
    QCOMPARE(seen.back().stage, std::string("checking"));

    // Cancelled after the header: nothing of the file stays, not even its temp file.
    const std::string cancelled = dir_.filePath(QString("cancel-") + format).toStdString();
    int calls = 0;
    o.on_progress = [&](const ExportProgress&) { return ++calls < 2; };
    const auto err = test::input_error_of([&] { export_run(project_, "qwen3", o, cancelled); });
    QVERIFY(err);
    QVERIFY2(std::string(err->what()).find("cancelled") != std::string::npos, err->what());
    for (const auto& e : fs::directory_iterator(cancelled))
      QVERIFY2(e.path().extension() != ".gguf" && e.path().filename() != "model.safetensors" &&
                   e.path().filename().string().find(".tmp-") == std::string::npos,
               e.path().c_str());
  }
}

// What the check must catch: a tensor's bytes changed, metadata that no longer fits the model.
void TestExportCheck::damagedFileFailsTheCheck() {
  auto store = ProjectStore::open(project_);
  const auto run = *store->find_run("llama_biases_linear_hd");
  auto trained = deeptune::detail::load_trained(*store, run);
  auto& m = trained.model;
  m->to(torch::kFloat);
  const std::string path = dir_.filePath("damaged.gguf").toStdString();
  gguf_export::Provenance p;
  p.name = "damaged";
  gguf_export::write_model(path, m, *trained.tokenizer, p, GgufQuant::kF16, {});
  {
    const auto g = gguf::GgufFile::map(path);
    ExportCheck ok;
    gguf_export::check_weights(g, m, &ok);
    QVERIFY(ok.failures.empty());
    // The layout swapped back: q rows in Hugging Face order fail the comparison.
    const auto& info = g.tensor("blk.0.attn_q.weight");
    const uint64_t offset = g.data_start() + info.offset;
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    std::vector<char> row(size_t(info.shape[1]) * 2), next(row.size());
    f.seekg(std::streamoff(offset));
    f.read(row.data(), std::streamsize(row.size()));
    f.read(next.data(), std::streamsize(next.size()));
    f.seekp(std::streamoff(offset));
    f.write(next.data(), std::streamsize(next.size()));
    f.write(row.data(), std::streamsize(row.size()));
  }
  const auto g = gguf::GgufFile::map(path);
  ExportCheck damaged;
  gguf_export::check_weights(g, m, &damaged);
  QCOMPARE(damaged.failures.size(), size_t(1));
  QVERIFY2(damaged.failures[0].find("blk.0.attn_q.weight") != std::string::npos,
           damaged.failures[0].c_str());
  // Metadata against a model it was not written from.
  auto other = m->config();
  other.rope_theta *= 2;
  other.num_key_value_heads = other.num_attention_heads;
  std::vector<std::string> failures;
  gguf_export::read_config(g, other, &failures);
  QCOMPARE(failures.size(), size_t(2));
  // A tokenizer whose specials moved.
  ExportCheck tok_check;
  tok_check.probes.push_back({"Hello", 0, 0, 0});
  const ByteTokenizer bytes;
  gguf_export::check_tokenizer(g, bytes, &tok_check);
  QVERIFY(!tok_check.failures.empty());
}

void TestExportCheck::refusals() {
  ExportOptions o;
  o.format = ExportFormat::kGguf;
  const std::string out = dir_.filePath("refused").toStdString();
  // Inside the project's run folder.
  auto err = test::input_error_of([&] {
    export_run(project_, "preset", o, dir_.filePath("x.runs/inside.gguf").toStdString());
  });
  QVERIFY(err);
  // An unknown quantisation names the flag.
  err = test::input_error_of([] { gguf_quant_from_string("Q4_K_M"); });
  QVERIFY(err && std::string(err->what()).find("--quant") != std::string::npos);
  QCOMPARE(gguf_quant_from_string("q8_0"), GgufQuant::kQ8_0);
  // YaRN is refused by name, before anything is written.
  model::LlamaConfig yarn;
  yarn.rope_scaling.type = model::RopeType::kYarn;
  err = test::input_error_of([&] { gguf_export::architecture_of(yarn); });
  QVERIFY(err && std::string(err->what()).find("YaRN") != std::string::npos);
  model::LlamaConfig classifier;
  classifier.labels = {"a", "b"};
  QVERIFY(test::input_error_of([&] { gguf_export::architecture_of(classifier); }));
  QVERIFY(!fs::exists(out));
}

QTEST_GUILESS_MAIN(TestExportCheck)
#include "tst_export_check.moc"
