// Hugging Face checkpoints as bases: our forward pass against the logits transformers computed for
// the fixtures tests/interop/check_models.py wrote (every architecture, tied and untied, GQA,
// biases, q/k norms, head_dim != H/nh, each RoPE scaling, BF16 weights, shards), and a corpus of
// damaged folders that must be refused with the file and the tensor or key named.
#include <torch/torch.h>

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>

#include "deeptune/error.h"
#include "deeptune/json_input.h"
#include "deeptune/safetensors.h"
#include "formats/hf_checkpoint.h"
#include "model/llama.h"
#include "support/test_support.h"
#include "torch/tensor_io.h"

using deeptune::InputError;
using deeptune::test::input_error_of;
using deeptune::test::q;
namespace hf = deeptune::hf;
namespace model = deeptune::model;

namespace {

const QString kFixtures = QStringLiteral(DEEPTUNE_SOURCE_DIR "/tests/interop/fixtures/models");

// A fixture folder copied into `dir` (so a test may damage it); returns the copy's path.
QString copy_fixture(const QTemporaryDir& dir, const QString& name) {
  const QString to = dir.filePath(name);
  QDir().mkpath(to);
  for (const auto& f : QDir(kFixtures + "/" + name).entryList(QDir::Files))
    QFile::copy(kFixtures + "/" + name + "/" + f, to + "/" + f);
  return to;
}

void write_text(const QString& path, const std::string& text) {
  QFile::remove(path);
  std::ofstream(path.toStdString(), std::ios::binary) << text;
}

model::Transformer load(const QString& dir) {
  model::Transformer m(hf::read_config(dir.toStdString()));
  const auto missing = hf::load_pretrained(m, dir.toStdString());
  if (!missing.empty()) throw std::runtime_error("missing " + missing.front());
  m->eval();
  return m;
}

}  // namespace

class TestPretrained : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void logitsMatchTransformers_data();
  void logitsMatchTransformers();
  void refusesDamagedFolders_data();
  void refusesDamagedFolders();
  void classificationHeadOnImportedBase();
};

void TestPretrained::logitsMatchTransformers_data() {
  QTest::addColumn<QString>("name");
  const auto names = QDir(kFixtures).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
  QVERIFY2(names.size() >= 8, "the model fixtures are missing");
  for (const auto& n : names) QTest::newRow(n.toUtf8().constData()) << n;
}

void TestPretrained::logitsMatchTransformers() {
  QFETCH(QString, name);
  const QString dir = kFixtures + "/" + name;
  const auto probe = deeptune::read_json_object_file((dir + "/probe.json").toStdString());
  const auto tokens = probe.at("tokens").get<std::vector<int64_t>>();
  const auto expected =
      deeptune::tensor_io::load((dir + "/expected_logits.safetensors").toStdString())
          .at("logits");  // (T, V) from transformers, fp32, eager attention
  auto m = load(dir);
  torch::NoGradGuard no_grad;
  const auto ours = m->lm_logits(torch::tensor(tokens, torch::kLong).unsqueeze(0)).squeeze(0);
  QCOMPARE(ours.sizes(), expected.sizes());
  const double diff = (ours - expected).abs().max().item<double>();
  QVERIFY2(diff <= 1e-4,
           qPrintable(QString("%1: max |ours - transformers| = %2").arg(name).arg(diff)));
  // The logits are not trivially equal: a different seed's model is far away.
  QVERIFY(expected.abs().max().item<double>() > 1e-2);
}

void TestPretrained::refusesDamagedFolders_data() {
  QTest::addColumn<QString>("fixture");
  QTest::addColumn<QString>("damage");
  QTest::addColumn<QString>("where");     // a suffix of InputError::where()
  QTest::addColumn<QString>("expected");  // part of the message
  QTest::newRow("other architecture")
      << "llama_tied"
      << "arch:GPT2LMHeadModel"
      << "config.json"
      << "architecture 'GPT2LMHeadModel' is not supported; supported: LlamaForCausalLM, "
         "MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM";
  QTest::newRow("missing key") << "llama_tied"
                               << "drop:hidden_size"
                               << "config.json"
                               << "missing key 'hidden_size'";
  QTest::newRow("wrong type") << "llama_tied"
                              << "set:num_hidden_layers=\"two\""
                              << "config.json"
                              << "key 'num_hidden_layers' must be an integer";
  QTest::newRow("fractional") << "llama_tied"
                              << "set:hidden_size=64.5"
                              << "config.json"
                              << "key 'hidden_size' must be an integer";
  QTest::newRow("unknown rope") << "llama_tied"
                                << "set:rope_scaling={\"rope_type\":\"longrope\",\"factor\":2}"
                                << "config.json: rope_scaling"
                                << "RoPE scaling type 'longrope' is not supported";
  QTest::newRow("config disagrees with shapes") << "llama_tied"
                                                << "set:intermediate_size=100"
                                                << "model.safetensors: tensor "
                                                << "but config.json implies [100, 64]";
  QTest::newRow("more layers than tensors") << "mistral"
                                            << "set:num_hidden_layers=3"
                                            << "tensor 'model.layers.2.input_layernorm.weight'"
                                            << "is missing";
  QTest::newRow("untied head missing") << "llama_tied"
                                       << "set:tie_word_embeddings=false"
                                       << "tensor 'lm_head.weight'"
                                       << "is missing";
  QTest::newRow("truncated weights") << "qwen3"
                                     << "truncate:model.safetensors"
                                     << "model.safetensors"
                                     << "bytes";
  QTest::newRow("garbage header") << "qwen3"
                                  << "garbage:model.safetensors"
                                  << "model.safetensors"
                                  << "header";
  QTest::newRow("missing shard") << "qwen2_sharded"
                                 << "remove:model-00003-of-00007.safetensors"
                                 << "model-00003-of-00007.safetensors"
                                 << "does not exist";
  QTest::newRow("index names a file outside") << "qwen2_sharded"
                                              << "index:../x.safetensors"
                                              << "model.safetensors.index.json: weight_map"
                                              << "must be the name of a file in the model folder";
  QTest::newRow("no weights") << "mistral"
                              << "remove:model.safetensors"
                              << "mistral"
                              << "no model.safetensors or model.safetensors.index.json";
  QTest::newRow("not JSON") << "mistral"
                            << "text:config.json={\"vocab_size\": 12,"
                            << "config.json"
                            << "";
}

void TestPretrained::refusesDamagedFolders() {
  QFETCH(QString, fixture);
  QFETCH(QString, damage);
  QFETCH(QString, where);
  QFETCH(QString, expected);
  QTemporaryDir tmp;
  const QString dir = copy_fixture(tmp, fixture);
  const QString kind = damage.section(':', 0, 0), arg = damage.section(':', 1);
  const QString config_path = dir + "/config.json";
  auto config = deeptune::read_json_object_file(config_path.toStdString());
  if (kind == "arch") {
    config["architectures"] = {arg.toStdString()};
    write_text(config_path, config.dump());
  } else if (kind == "drop") {
    config.erase(arg.toStdString());
    write_text(config_path, config.dump());
  } else if (kind == "set") {
    config[arg.section('=', 0, 0).toStdString()] =
        nlohmann::json::parse(arg.section('=', 1).toStdString());
    config.erase("rope_parameters");
    write_text(config_path, config.dump());
  } else if (kind == "truncate" || kind == "garbage") {
    QFile f(dir + "/" + arg);
    QVERIFY(f.open(QIODevice::ReadWrite));
    if (kind == "truncate") {
      QVERIFY(f.resize(f.size() - 100));
    } else {
      f.seek(8);
      f.write("\x01\x02garbage");
    }
  } else if (kind == "remove") {
    QVERIFY(QFile::remove(dir + "/" + arg));
  } else if (kind == "index") {
    const QString index_path = dir + "/model.safetensors.index.json";
    auto index = deeptune::read_json_object_file(index_path.toStdString());
    index["weight_map"]["model.norm.weight"] = arg.toStdString();
    write_text(index_path, index.dump());
  } else if (kind == "text") {
    write_text(dir + "/" + arg.section('=', 0, 0), arg.section('=', 1).toStdString());
  }
  const auto error = input_error_of([&] { load(dir); });
  QVERIFY2(error, "a damaged folder was accepted");
  QVERIFY2(q(error->where()).endsWith(where) || q(error->where()).contains(where), error->what());
  QVERIFY2(q(error->message()).contains(expected), error->what());
}

void TestPretrained::classificationHeadOnImportedBase() {
  // A classifier on an imported base: every base weight from the file, a fresh score head (the
  // only parameter missing), and the unused lm_head of an untied base tolerated.
  auto cfg = hf::read_config((kFixtures + "/qwen3").toStdString());
  cfg.labels = {"negative", "positive"};
  model::Transformer m(cfg);
  const auto missing = hf::load_pretrained(m, (kFixtures + "/qwen3").toStdString());
  QCOMPARE(missing, std::vector<std::string>{"score.weight"});
  QVERIFY(!m->lm_head);
  QCOMPARE(m->score->weight.sizes(), (torch::IntArrayRef{2, 64}));
}

QTEST_GUILESS_MAIN(TestPretrained)
#include "tst_pretrained.moc"
