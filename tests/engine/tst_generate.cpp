// Incremental decoding: logits from the KV cache (a prompt prefilled, then one token at a time)
// against the full forward over the whole sequence, for presets and every Hugging Face fixture
// (GQA, q/k norms, biases, tied heads, llama3 and yarn RoPE), with and without a LoRA adapter;
// and the sampler: greedy, top-k, top-p, repetition penalty, seeds.
#include <torch/torch.h>

#include <QtTest>
#include <cmath>
#include <numeric>
#include <set>

#include "deeptune/error.h"
#include "formats/hf_checkpoint.h"
#include "model/kv_cache.h"
#include "model/llama.h"
#include "model/presets.h"
#include "session/sampling.h"

namespace hf = deeptune::hf;
namespace model = deeptune::model;
namespace sampling = deeptune::sampling;

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
  void greedyIsArgmax();
  void topKOneIsGreedy();
  void seedReproduces();
  void topPKeepsSmallestSetReachingP();
  void repetitionPenaltyAsTransformers();
  void badOptionsAreRefused();
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

namespace {
const std::vector<float> kLogits = {0.5f, 2.0f, -1.0f, 1.5f, 0.0f, 3.0f, -0.5f, 1.0f};

std::vector<int32_t> draw(const sampling::SamplingOptions& o, int n) {
  sampling::Sampler s(o);
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) out.push_back(s.next(kLogits, {}));
  return out;
}
}  // namespace

void TestGenerate::greedyIsArgmax() {
  sampling::SamplingOptions o;  // temperature 0
  QCOMPARE(draw(o, 5), std::vector<int32_t>(5, 5));
  std::vector<float> other = kLogits;
  other[2] = 9.0f;
  QCOMPARE(sampling::Sampler(o).next(other, {}), 2);
}

void TestGenerate::topKOneIsGreedy() {
  sampling::SamplingOptions o;
  o.temperature = 5.0;  // flat enough that anything but top-1 would vary
  o.top_k = 1;
  o.seed = 42;
  QCOMPARE(draw(o, 50), std::vector<int32_t>(50, 5));
}

void TestGenerate::seedReproduces() {
  sampling::SamplingOptions o;
  o.temperature = 1.0;
  o.seed = 1;
  const auto a = draw(o, 64);
  QCOMPARE(draw(o, 64), a);
  o.seed = 2;
  QVERIFY(draw(o, 64) != a);
  // Every token has its share at temperature 1 (no filter): the draws cover more than one token.
  QVERIFY(std::set<int32_t>(a.begin(), a.end()).size() > 2);
  const auto p = sampling::filtered_probabilities(kLogits, 1.0, 0, 1.0);
  QVERIFY(std::abs(std::accumulate(p.begin(), p.end(), 0.0) - 1.0) < 1e-12);
}

void TestGenerate::topPKeepsSmallestSetReachingP() {
  // Softmax of {ln 0.5, ln 0.3, ln 0.15, ln 0.05} is {0.5, 0.3, 0.15, 0.05}.
  const std::vector<float> logits = {float(std::log(0.15)), float(std::log(0.5)),
                                     float(std::log(0.05)), float(std::log(0.3))};
  auto p = sampling::filtered_probabilities(logits, 1.0, 0, 0.8);
  // 0.5 + 0.3 reaches 0.8: tokens 1 and 3, renormalised.
  QVERIFY(std::abs(p[1] - 0.5 / 0.8) < 1e-6);
  QVERIFY(std::abs(p[3] - 0.3 / 0.8) < 1e-6);
  QCOMPARE(p[0], 0.0);
  QCOMPARE(p[2], 0.0);
  p = sampling::filtered_probabilities(logits, 1.0, 0, 0.81);  // needs the third
  QVERIFY(p[0] > 0 && p[2] == 0.0);
  p = sampling::filtered_probabilities(logits, 1.0, 0, 0.4);  // the top token alone
  QCOMPARE(p[1], 1.0);
  p = sampling::filtered_probabilities(logits, 1.0, 2, 1.0);  // top-k 2
  QVERIFY(std::abs(p[1] - 0.625) < 1e-6 && p[0] == 0.0);
  // Sampling with top_p only ever draws from the kept set.
  sampling::SamplingOptions o;
  o.temperature = 1.0;
  o.top_p = 0.8;
  o.seed = 9;
  sampling::Sampler s(o);
  std::set<int32_t> seen;
  for (int i = 0; i < 200; ++i) seen.insert(s.next(logits, {}));
  QCOMPARE(seen, (std::set<int32_t>{1, 3}));
}

void TestGenerate::repetitionPenaltyAsTransformers() {
  std::vector<float> logits = {2.0f, -1.0f, 3.0f, 0.5f};
  // Token 0 twice (penalised once), token 1 negative (multiplied), token 3 absent.
  sampling::apply_repetition_penalty(logits, {0, 1, 0}, 2.0);
  QCOMPARE(logits, (std::vector<float>{1.0f, -2.0f, 3.0f, 0.5f}));
  // Greedy picks the penalised-away token no more: 2 (3.0) vs 0 -> with penalty 4, 2 -> 0.75.
  sampling::SamplingOptions o;
  o.repetition_penalty = 4.0;
  QCOMPARE(sampling::Sampler(o).next({2.0f, -1.0f, 3.0f, 0.5f}, {2}), 0);
}

void TestGenerate::badOptionsAreRefused() {
  auto refused = [](auto change) {
    sampling::SamplingOptions o;
    change(o);
    try {
      sampling::Sampler s(o);
    } catch (const deeptune::InputError&) {
      return true;
    }
    return false;
  };
  QVERIFY(refused([](auto& o) { o.temperature = -1; }));
  QVERIFY(refused([](auto& o) { o.top_p = 0; }));
  QVERIFY(refused([](auto& o) { o.top_k = -2; }));
  QVERIFY(refused([](auto& o) { o.repetition_penalty = 0; }));
  QVERIFY(!refused([](auto&) {}));
}

QTEST_GUILESS_MAIN(TestGenerate)
#include "tst_generate.moc"
