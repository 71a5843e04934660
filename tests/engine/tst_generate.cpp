// Incremental decoding: logits from the KV cache (a prompt prefilled, then one token at a time)
// against the full forward over the whole sequence, for presets and every Hugging Face fixture
// (GQA, q/k norms, biases, tied heads, llama3 and yarn RoPE), with and without a LoRA adapter;
// the sampler: greedy, top-k, top-p, repetition penalty, seeds; and generate() on a trained run
// against greedy decoding without the cache, with streaming, stop strings and seeds.
#include <torch/torch.h>

#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>

#include "deeptune/data.h"
#include "deeptune/error.h"
#include "deeptune/session.h"
#include "deeptune/store.h"
#include "formats/hf_checkpoint.h"
#include "model/kv_cache.h"
#include "model/llama.h"
#include "model/presets.h"
#include "session/sampling.h"
#include "session/session_internal.h"
#include "support/test_support.h"

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
  void initTestCase();
  void generateEqualsGreedyWithoutCache();
  void generateStreamsAndStops();
  void generateSeedReproduces();
  void generatorKeepsModelAndSwitchesAdapter();
  void generatorOnFolder();

 private:
  QTemporaryDir dir_;
  std::string project_;
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

// A project with a preset:tiny run trained a few steps on one made-up dataset.
void TestGenerate::initTestCase() {
  using namespace deeptune;
  QVERIFY(dir_.isValid());
  project_ = dir_.filePath("gen.dtproj").toStdString();
  test::make_counting_project(project_, 40);
  auto c = test::small_run_config("pairs");
  c.train.max_steps = 10;
  const int64_t id = create_run(project_, c, "r");
  test::RunRecorder obs;
  RunControl control;
  const auto outcome = execute_run(project_, id, obs, control);
  QCOMPARE(outcome.status, RunStatus::kCompleted);
}

void TestGenerate::generateEqualsGreedyWithoutCache() {
  using namespace deeptune;
  const int n = 24;
  const auto g = generate(project_, "r", "Count 7: ", n);
  // The reference: the whole sequence through lm_logits for every token, as before the cache.
  auto store = ProjectStore::open(project_);
  auto trained = deeptune::detail::load_trained(*store, *store->find_run("r"));
  trained.model->eval();
  torch::NoGradGuard no_grad;
  std::vector<int64_t> ids(g.prompt_ids.begin(), g.prompt_ids.end());
  std::vector<int32_t> expected;
  for (int i = 0; i < n; ++i) {
    const auto logits = trained.model->lm_logits(torch::tensor(ids).unsqueeze(0));  // (1, T, V)
    const auto last = logits.select(1, logits.size(1) - 1).squeeze(0);              // (V)
    if (i == 0) {
      const auto ours = torch::tensor(g.first_logits);
      QVERIFY((ours - last).abs().max().item<double>() <= 1e-5);
    }
    const int64_t next = last.argmax().item<int64_t>();
    if (next == trained.tokenizer->eos_id()) break;
    ids.push_back(next);
    expected.push_back(static_cast<int32_t>(next));
  }
  QCOMPARE(g.output_ids, expected);
  QCOMPARE(g.text, trained.tokenizer->decode(expected));
}

void TestGenerate::generateStreamsAndStops() {
  using namespace deeptune;
  GenerateOptions o;
  o.max_new_tokens = 24;
  std::string streamed;
  o.on_text = [&](const std::string& piece) {
    streamed += piece;
    return true;
  };
  const auto g = generate(project_, "r", "Count 7: ", o);
  QCOMPARE(streamed, g.text);
  QVERIFY2(g.text.size() >= 4, g.text.c_str());

  // Stop at the text's third character: what came before it, the stop string not included.
  const std::string stop = g.text.substr(2, 1);
  o.stop = {"never appears", stop};
  streamed.clear();
  const auto s = generate(project_, "r", "Count 7: ", o);
  QCOMPARE(s.text, g.text.substr(0, g.text.find(stop)));
  QCOMPARE(streamed, s.text);
  QCOMPARE(s.stop_reason, std::string("stop"));

  // A callback returning false ends generation after its first piece.
  int calls = 0;
  o.stop.clear();
  o.on_text = [&](const std::string&) { return ++calls < 1; };
  const auto c = generate(project_, "r", "Count 7: ", o);
  QCOMPARE(calls, 1);
  QCOMPARE(c.stop_reason, std::string("callback"));
  QVERIFY(c.output_ids.size() < g.output_ids.size());
}

void TestGenerate::generateSeedReproduces() {
  using namespace deeptune;
  GenerateOptions o;
  o.max_new_tokens = 32;
  o.temperature = 1.5;
  o.seed = 1;
  const auto a = generate(project_, "r", "Count 7: ", o);
  QCOMPARE(generate(project_, "r", "Count 7: ", o).output_ids, a.output_ids);
  o.seed = 2;
  QVERIFY(generate(project_, "r", "Count 7: ", o).output_ids != a.output_ids);
  o.top_p = 0;
  QVERIFY(deeptune::test::input_error_of([&] { generate(project_, "r", "x", o); }).has_value());
}

// One loaded model, many generations: the tuned run gives generate()'s output; with the adapter
// switched off, the base's own greedy output (computed here from load_base); then tuned again.
void TestGenerate::generatorKeepsModelAndSwitchesAdapter() {
  using namespace deeptune;
  const int n = 16;
  auto gen = Generator::for_run(project_, "r");
  QVERIFY(gen->has_base());
  QVERIFY(!gen->has_chat_template());  // a preset trained on plain pairs names no chat family
  QVERIFY(gen->description().find("run 'r' at step 10") != std::string::npos);
  GenerateOptions o;
  o.max_new_tokens = n;
  const auto tuned = gen->generate("Count 7: ", o);
  QCOMPARE(tuned.output_ids, generate(project_, "r", "Count 7: ", n).output_ids);

  const auto base = gen->generate("Count 7: ", o, /*tuned=*/false);
  auto store = ProjectStore::open(project_);
  const auto run = *store->find_run("r");
  const auto config = deeptune::detail::run_config(run);
  auto m = deeptune::detail::load_base(*store, run, config);
  m->eval();
  torch::NoGradGuard no_grad;
  const auto logits = m->lm_logits(
      torch::tensor(std::vector<int64_t>(base.prompt_ids.begin(), base.prompt_ids.end()))
          .unsqueeze(0));
  const auto last = logits.select(1, logits.size(1) - 1).squeeze(0);
  QVERIFY((torch::tensor(base.first_logits) - last).abs().max().item<double>() <= 1e-5);
  // Ten steps of LoRA moved the logits; switching the adapter off shows it.
  QVERIFY((torch::tensor(base.first_logits) - torch::tensor(tuned.first_logits))
              .abs()
              .max()
              .item<double>() > 1e-3);
  QCOMPARE(gen->generate("Count 7: ", o).output_ids, tuned.output_ids);  // back on
  o.top_k = -1;
  QVERIFY(deeptune::test::input_error_of([&] { gen->generate("x", o); }).has_value());
}

// A Hugging Face folder as it is, with its own chat template detected.
void TestGenerate::generatorOnFolder() {
  using namespace deeptune;
  const std::string dir = (kFixtures + "/qwen3").toStdString();
  auto gen = Generator::for_folder(dir);
  QVERIFY(!gen->has_base());
  GenerateOptions o;
  o.max_new_tokens = 4;
  const auto g = gen->generate("Hello", o);
  QVERIFY(!g.prompt_ids.empty());
  QVERIFY(g.output_ids.size() <= 4);
  auto m = build("qwen3");
  m->eval();
  torch::NoGradGuard no_grad;
  const auto logits = m->lm_logits(
      torch::tensor(std::vector<int64_t>(g.prompt_ids.begin(), g.prompt_ids.end())).unsqueeze(0));
  const auto last = logits.select(1, logits.size(1) - 1).squeeze(0);
  QVERIFY((torch::tensor(g.first_logits) - last).abs().max().item<double>() <= 1e-5);
  QVERIFY(
      deeptune::test::input_error_of([&] { Generator::for_folder(dir + "/nope"); }).has_value());
}

QTEST_GUILESS_MAIN(TestGenerate)
#include "tst_generate.moc"
