// Incremental decoding: logits from the KV cache (a prompt prefilled, then one token at a time)
// against the full forward over the whole sequence, for presets and every Hugging Face fixture
// (GQA, q/k norms, biases, tied heads, llama3 and yarn RoPE), with and without a LoRA adapter.
#include <torch/torch.h>

#include <QtTest>

#include "formats/hf_checkpoint.h"
#include "model/kv_cache.h"
#include "model/llama.h"
#include "model/presets.h"

namespace hf = deeptune::hf;
namespace model = deeptune::model;

namespace {

const QString kFixtures = QStringLiteral(DEEPTUNE_SOURCE_DIR "/tests/interop/fixtures/models");

model::Transformer build(const QString& source) {
  if (source.startsWith("preset:")) {
    model::Transformer m(model::find_preset(source.mid(7).toStdString()).config);
    model::init_weights(m, 7);
    return m;
  }
  const std::string dir = (kFixtures + "/" + source).toStdString();
  model::Transformer m(hf::read_config(dir));
  const auto missing = hf::load_pretrained(m, dir);
  if (!missing.empty()) throw std::runtime_error("missing " + missing.front());
  return m;
}

// A LoRA on every linear layer with B drawn too (a fresh adapter has B = 0 and changes nothing).
void attach_random_lora(model::Transformer& m) {
  auto gen = at::detail::createCPUGenerator(11);
  torch::NoGradGuard no_grad;
  for (auto& [name, lin] : model::linear_modules(m)) {
    lin->attach_lora(4, 2.0, 0.0, gen);
    lin->lora_B->weight.normal_(0.0, 0.05, gen);
  }
}

}  // namespace

class TestGenerate : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void cachedLogitsEqualFullForward_data();
  void cachedLogitsEqualFullForward();
};

void TestGenerate::cachedLogitsEqualFullForward_data() {
  QTest::addColumn<QString>("source");
  QTest::addColumn<bool>("lora");
  QTest::addColumn<int>("prefill");
  QStringList sources = {"preset:tiny", "preset:small"};
  for (const auto& f : QDir(kFixtures).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) sources << f;
  for (const auto& s : sources) {
    for (bool lora : {false, true}) {
      // 1: a one-token prompt, every later token a step; 5: a prompt, then steps.
      for (int prefill : {1, 5}) {
        const auto tag = QStringLiteral("%1 %2 prefill %3")
                             .arg(s, lora ? QStringLiteral("lora") : QStringLiteral("base"))
                             .arg(prefill);
        QTest::newRow(qPrintable(tag)) << s << lora << prefill;
      }
    }
  }
}

void TestGenerate::cachedLogitsEqualFullForward() {
  QFETCH(QString, source);
  QFETCH(bool, lora);
  QFETCH(int, prefill);
  auto m = build(source);
  if (lora) attach_random_lora(m);
  m->to(torch::kFloat);  // fp32 everywhere (llama_bf16 too): the tolerance is fp32's
  m->eval();
  torch::NoGradGuard no_grad;

  const int64_t t = 12;
  auto gen = at::detail::createCPUGenerator(3);
  const auto ids = torch::randint(m->config().vocab_size, {1, t}, gen, torch::kLong);  // (1, T)
  const auto full = m->lm_logits(ids);                                                 // (1, T, V)

  model::KvCache cache;
  std::vector<torch::Tensor> pieces = {
      model::lm_logits_cached(m, ids.narrow(1, 0, prefill), cache)};
  QCOMPARE(cache.length(), int64_t(prefill));
  for (int64_t i = prefill; i < t; ++i)
    pieces.push_back(model::lm_logits_cached(m, ids.narrow(1, i, 1), cache));
  QCOMPARE(cache.length(), t);
  const auto cached = torch::cat(pieces, 1);  // (1, T, V)
  QCOMPARE(cached.sizes(), full.sizes());
  const double diff = (cached - full).abs().max().item<double>();
  QVERIFY2(diff <= 1e-5, qPrintable(QStringLiteral("max |cached - full| = %1").arg(diff)));
  // The comparison can fail: a cache that forgot the past would give other logits.
  model::KvCache fresh;
  const auto forgetful = model::lm_logits_cached(m, ids.narrow(1, t - 1, 1), fresh);
  QVERIFY((forgetful - full.narrow(1, t - 1, 1)).abs().max().item<double>() > 1e-3);
}

QTEST_GUILESS_MAIN(TestGenerate)
#include "tst_generate.moc"
