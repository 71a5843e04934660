// LoRA as PEFT defines it: which modules a target list matches, adapter shapes and init, the
// scale, merge/unmerge, what trains and how many parameters there are.
#include <torch/torch.h>

#include <QtTest>
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "deeptune/error.h"
#include "lora/lora.h"
#include "model/llama.h"
#include "model/presets.h"
#include "support/test_support.h"

using deeptune::test::input_error_of;
using deeptune::test::q;

using deeptune::InputError;
using deeptune::LoraSpec;
using deeptune::TrainMode;
using deeptune::model::LlamaConfig;
using deeptune::model::Transformer;
namespace lora = deeptune::lora;
namespace model = deeptune::model;

namespace {

template <typename Container>
QStringList qlist(const Container& v) {
  QStringList out;
  for (const auto& s : v) out << q(s);
  return out;
}

LlamaConfig tiny_config() {
  return model::find_preset("tiny").config;
}

Transformer initialised(LlamaConfig c = tiny_config(), uint64_t seed = 1) {
  Transformer m(c);
  model::init_weights(m, seed);
  m->eval();
  return m;
}

LoraSpec spec(std::vector<std::string> targets, int r = 8, double alpha = 16.0,
              double dropout = 0.0, bool rslora = false) {
  LoraSpec s;
  s.targets = std::move(targets);
  s.r = r;
  s.alpha = alpha;
  s.dropout = dropout;
  s.rslora = rslora;
  return s;
}

const std::vector<std::string> kAllTargets = {"q_proj",    "k_proj",  "v_proj",    "o_proj",
                                              "gate_proj", "up_proj", "down_proj", "lm_head"};

torch::Tensor random_ids(int64_t b, int64_t t, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randint(0, 256, {b, t}, torch::kLong);
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// Gives every adapter a non-zero B, as training would.
void perturb_adapters(Transformer& m, uint64_t seed) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  for (auto& [name, layer] : model::linear_modules(m))
    if (layer->has_lora()) layer->lora_B->weight.normal_(0.0, 0.05);
}

std::set<std::string> names_where(Transformer& m, bool trainable) {
  std::set<std::string> out;
  for (const auto& p : m->named_parameters())
    if (p.value().requires_grad() == trainable) out.insert(p.key());
  return out;
}

}  // namespace

class TestLora : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void targetMatches_data();
  void targetMatches();
  void fullNameTargetAdaptsOneLayer();
  void freshAdapterChangesNoOutput();
  void mergeEqualsUnmergedAndUnmergeRestores();
  void scale_data();
  void scale();
  void adapterShapesAndInit();
  void dropoutOnlyWhileTraining();
  void dropoutDrawsFromItsGeneratorOnly();
  void adapterInitIsDeterministicPerSeed();
  void planMatchesAppliedModel_data();
  void planMatchesAppliedModel();
  void setTrainableLeavesOnlyAdapters_data();
  void setTrainableLeavesOnlyAdapters();
  void countParametersByFormula_data();
  void countParametersByFormula();
  void unknownTargetListsChoices_data();
  void unknownTargetListsChoices();
};

void TestLora::targetMatches_data() {
  QTest::addColumn<QString>("module");
  QTest::addColumn<QStringList>("targets");
  QTest::addColumn<bool>("matches");
  const QString q0 = "model.layers.0.self_attn.q_proj";
  QTest::newRow("last component") << q0 << QStringList{"q_proj"} << true;
  QTest::newRow("longer last component")
      << "model.layers.0.self_attn.q_proj_x" << QStringList{"q_proj"} << false;
  QTest::newRow("prefixed last component")
      << "model.layers.0.self_attn.xq_proj" << QStringList{"q_proj"} << false;
  QTest::newRow("suffix not on a dot") << q0 << QStringList{"proj"} << false;
  QTest::newRow("dotted suffix") << q0 << QStringList{"self_attn.q_proj"} << true;
  QTest::newRow("dotted suffix not on a dot") << q0 << QStringList{"attn.q_proj"} << false;
  QTest::newRow("full name") << q0 << QStringList{q0} << true;
  QTest::newRow("full name of another layer")
      << "model.layers.10.self_attn.q_proj" << QStringList{q0} << false;
  QTest::newRow("layer index not on a dot")
      << "model.layers.10.self_attn.q_proj" << QStringList{"0.self_attn.q_proj"} << false;
  QTest::newRow("top-level module") << "lm_head" << QStringList{"lm_head"} << true;
  QTest::newRow("second of several")
      << "model.layers.1.self_attn.v_proj" << QStringList{"k_proj", "v_proj"} << true;
  QTest::newRow("none of several")
      << "model.layers.1.mlp.up_proj" << QStringList{"k_proj", "v_proj"} << false;
  QTest::newRow("no targets") << q0 << QStringList{} << false;
  QTest::newRow("target longer than name") << "q_proj" << QStringList{"self_attn.q_proj"} << false;
}

void TestLora::targetMatches() {
  QFETCH(QString, module);
  QFETCH(QStringList, targets);
  QFETCH(bool, matches);
  std::vector<std::string> t;
  for (const auto& s : targets) t.push_back(s.toStdString());
  QCOMPARE(lora::target_matches(module.toStdString(), t), matches);
}

void TestLora::fullNameTargetAdaptsOneLayer() {
  auto m = initialised();
  const auto adapted = lora::apply(m, spec({"model.layers.1.self_attn.q_proj", "down_proj"}), 7);
  QCOMPARE(qlist(adapted),
           (QStringList{"model.layers.0.mlp.down_proj", "model.layers.1.self_attn.q_proj",
                        "model.layers.1.mlp.down_proj"}));
  for (auto& [name, layer] : model::linear_modules(m))
    QCOMPARE(layer->has_lora(), std::find(adapted.begin(), adapted.end(), name) != adapted.end());
}

void TestLora::freshAdapterChangesNoOutput() {
  auto m = initialised();
  const auto ids = random_ids(2, 11, 3);
  torch::Tensor before;
  {
    torch::NoGradGuard no_grad;
    before = m->lm_logits(ids);
  }
  const auto adapted = lora::apply(m, spec(kAllTargets, 8, 16.0, /*dropout=*/0.1), 7);
  QCOMPARE(int(adapted.size()), 7 * 2 + 1);
  torch::NoGradGuard no_grad;
  m->eval();
  QVERIFY(torch::equal(before, m->lm_logits(ids)));
  // B = 0 makes the branch exactly zero even with dropout drawing masks.
  lora::set_dropout_generator(m, at::detail::createCPUGenerator(2));
  m->train();
  QVERIFY(torch::equal(before, m->lm_logits(ids)));
}

void TestLora::mergeEqualsUnmergedAndUnmergeRestores() {
  auto m = initialised();
  std::map<std::string, torch::Tensor> original;
  for (const auto& p : m->named_parameters()) original[p.key()] = p.value().detach().clone();
  lora::apply(m, spec(kAllTargets, 8, 16.0), 7);
  perturb_adapters(m, 5);
  torch::NoGradGuard no_grad;
  const auto ids = random_ids(2, 11, 7);
  const auto base = [&] {
    // The same weights without adapters, to show the adapters now matter.
    Transformer plain(tiny_config());
    for (auto& p : plain->named_parameters()) p.value().copy_(original.at(p.key()));
    plain->eval();
    return plain->lm_logits(ids);
  }();
  const auto unmerged = m->lm_logits(ids);
  QVERIFY(max_abs_diff(unmerged, base) > 1e-2);

  lora::merge(m);
  lora::merge(m);  // a second merge must not add the delta twice
  for (auto& [name, layer] : model::linear_modules(m)) {
    QVERIFY(layer->merged());
    const auto a = layer->lora_A->weight.to(torch::kDouble),
               b = layer->lora_B->weight.to(torch::kDouble);
    const auto expected =
        original.at(name + ".weight").to(torch::kDouble) + layer->lora_scale() * b.matmul(a);
    QVERIFY2(max_abs_diff(layer->weight, expected) < 1e-6, name.c_str());
  }
  // fp32, tiny model: unmerged and merged paths round differently by ~1e-7 of the logits' scale.
  const auto merged = m->lm_logits(ids);
  QVERIFY2(max_abs_diff(merged, unmerged) < 1e-5,
           qPrintable(QString::number(max_abs_diff(merged, unmerged))));

  lora::unmerge(m);
  for (auto& [name, layer] : model::linear_modules(m)) {
    QVERIFY(!layer->merged());
    // W + d - d in fp32 returns W up to one rounding of |W + d| (~1e-8 here).
    QVERIFY2(max_abs_diff(layer->weight, original.at(name + ".weight")) < 1e-6, name.c_str());
  }
  QVERIFY(max_abs_diff(m->lm_logits(ids), unmerged) < 1e-6);
}

void TestLora::scale_data() {
  QTest::addColumn<int>("r");
  QTest::addColumn<double>("alpha");
  QTest::addColumn<bool>("rslora");
  QTest::addColumn<double>("expected");
  QTest::newRow("alpha/r 16/8") << 8 << 16.0 << false << 2.0;
  QTest::newRow("alpha/r 8/32") << 32 << 8.0 << false << 0.25;
  QTest::newRow("rslora 8/sqrt(4)") << 4 << 8.0 << true << 4.0;
  QTest::newRow("rslora 6/sqrt(9)") << 9 << 6.0 << true << 2.0;
  QTest::newRow("rslora 32/sqrt(16)") << 16 << 32.0 << true << 8.0;
}

void TestLora::scale() {
  QFETCH(int, r);
  QFETCH(double, alpha);
  QFETCH(bool, rslora);
  QFETCH(double, expected);
  const auto s = spec({"q_proj"}, r, alpha, 0.0, rslora);
  QCOMPARE(lora::scale_for(s), expected);
  // The layer applies that scale: y = W x + s * B (A x).
  torch::manual_seed(11);
  model::LoraLinear lin(6, 5, /*bias=*/false);
  {
    torch::NoGradGuard no_grad;
    lin->weight.normal_();
  }
  auto gen = at::detail::createCPUGenerator(11);
  lin->attach_lora(r, lora::scale_for(s), 0.0, gen);
  QCOMPARE(lin->lora_scale(), expected);
  torch::NoGradGuard no_grad;
  lin->lora_B->weight.normal_();
  const auto x = torch::randn({3, 6});
  const auto a = lin->lora_A->weight, b = lin->lora_B->weight;
  const auto want =
      x.to(torch::kDouble).matmul(lin->weight.to(torch::kDouble).t()) +
      expected *
          x.to(torch::kDouble).matmul(a.to(torch::kDouble).t()).matmul(b.to(torch::kDouble).t());
  QVERIFY(max_abs_diff(lin->forward(x), want) < 1e-4);
}

void TestLora::adapterShapesAndInit() {
  auto m = initialised();
  const int r = 8;
  const auto adapted = lora::apply(m, spec({"q_proj", "v_proj", "down_proj", "lm_head"}, r), 7);
  QCOMPARE(
      qlist(adapted),
      (QStringList{"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj",
                   "model.layers.0.mlp.down_proj", "model.layers.1.self_attn.q_proj",
                   "model.layers.1.self_attn.v_proj", "model.layers.1.mlp.down_proj", "lm_head"}));
  const auto c = tiny_config();
  std::map<std::string, std::pair<int64_t, int64_t>> in_out = {
      {"q_proj", {c.hidden_size, c.num_attention_heads * c.head_dim}},
      {"v_proj", {c.hidden_size, c.num_key_value_heads * c.head_dim}},
      {"down_proj", {c.intermediate_size, c.hidden_size}},
      {"lm_head", {c.hidden_size, c.vocab_size}}};
  std::set<std::string> expected_names;
  auto params = m->named_parameters();
  for (const auto& name : adapted) {
    const auto last = name.substr(name.rfind('.') + 1);
    const auto [in, out] = in_out.at(name == "lm_head" ? "lm_head" : last);
    // PEFT's key layout (minus base_model.model. and the adapter name).
    const auto a = params[name + ".lora_A.weight"], b = params[name + ".lora_B.weight"];
    expected_names.insert(name + ".lora_A.weight");
    expected_names.insert(name + ".lora_B.weight");
    QCOMPARE(a.sizes().vec(), (std::vector<int64_t>{r, in}));
    QCOMPARE(b.sizes().vec(), (std::vector<int64_t>{out, r}));
    QVERIFY2(b.abs().max().item<float>() == 0.0f, name.c_str());
    // kaiming_uniform(a = sqrt(5)) draws from U(-1/sqrt(in), 1/sqrt(in)).
    const double bound = 1.0 / std::sqrt(double(in));
    const double amax = a.abs().max().item<double>();
    QVERIFY2(amax <= bound && amax > 0.9 * bound,
             qPrintable(QString("%1: max |A| %2, bound %3").arg(q(name)).arg(amax).arg(bound)));
    QVERIFY(a.scalar_type() == torch::kFloat);
  }
  std::set<std::string> lora_names;
  for (const auto& p : params)
    if (p.key().find("lora_") != std::string::npos) lora_names.insert(p.key());
  QCOMPARE(qlist(lora_names), qlist(expected_names));
}

void TestLora::dropoutOnlyWhileTraining() {
  auto m = initialised();
  lora::apply(m, spec({"q_proj", "v_proj", "lm_head"}, 8, 16.0, /*dropout=*/0.5), 7);
  lora::set_dropout_generator(m, at::detail::createCPUGenerator(3));
  perturb_adapters(m, 13);
  torch::NoGradGuard no_grad;
  const auto ids = random_ids(1, 9, 17);
  m->eval();
  QVERIFY(torch::equal(m->lm_logits(ids), m->lm_logits(ids)));
  m->train();
  QVERIFY(max_abs_diff(m->lm_logits(ids), m->lm_logits(ids)) > 1e-4);
}

// Dropout masks come from the generator the trainer hands over: the same generator state gives
// the same masks whatever else the process draws, and without one, training refuses to run.
void TestLora::dropoutDrawsFromItsGeneratorOnly() {
  auto m = initialised();
  lora::apply(m, spec({"q_proj", "v_proj"}, 8, 16.0, /*dropout=*/0.5), 7);
  perturb_adapters(m, 13);
  torch::NoGradGuard no_grad;
  const auto ids = random_ids(1, 9, 17);
  m->train();
  QVERIFY_THROWS_EXCEPTION(c10::Error, m->lm_logits(ids));
  auto run = [&](bool disturb) {
    lora::set_dropout_generator(m, at::detail::createCPUGenerator(3));
    if (disturb) torch::randn({1000});  // another thread's draws from the global generator
    return m->lm_logits(ids);
  };
  QVERIFY(torch::equal(run(false), run(true)));
}

void TestLora::adapterInitIsDeterministicPerSeed() {
  auto a = initialised(), b = initialised(), c = initialised();
  lora::apply(a, spec({"q_proj"}), 11);
  torch::randn({100});  // the global generator plays no part
  lora::apply(b, spec({"q_proj"}), 11);
  lora::apply(c, spec({"q_proj"}), 12);
  const std::string name = "model.layers.0.self_attn.q_proj.lora_A.weight";
  const auto pa = a->named_parameters()[name], pb = b->named_parameters()[name],
             pc = c->named_parameters()[name];
  QVERIFY(torch::equal(pa, pb));
  QVERIFY(!torch::equal(pa, pc));
  // kaiming_uniform(a = sqrt(5)) over fan_in: U(-1/sqrt(in), 1/sqrt(in)).
  const double bound = 1.0 / std::sqrt(double(pa.size(1)));
  QVERIFY(pa.abs().max().item<double>() <= bound);
  QVERIFY(pa.abs().max().item<double>() > 0.9 * bound);
}

void TestLora::planMatchesAppliedModel_data() {
  QTest::addColumn<QStringList>("targets");
  QTest::addColumn<bool>("lora_mode");
  QTest::addColumn<int>("labels");
  QTest::newRow("q v") << QStringList{"q_proj", "v_proj"} << true << 0;
  QTest::newRow("all") << QStringList{"q_proj",    "k_proj",  "v_proj",    "o_proj",
                                      "gate_proj", "up_proj", "down_proj", "lm_head"}
                       << true << 0;
  QTest::newRow("one layer") << QStringList{"model.layers.1.mlp.down_proj"} << true << 0;
  QTest::newRow("classifier") << QStringList{"q_proj"} << true << 3;
  QTest::newRow("full") << QStringList{"q_proj"} << false << 0;
  QTest::newRow("full classifier") << QStringList{"q_proj"} << false << 3;
}

// What the Model page shows before a run (lora::plan, from shapes) is what the run builds.
void TestLora::planMatchesAppliedModel() {
  QFETCH(QStringList, targets);
  QFETCH(bool, lora_mode);
  QFETCH(int, labels);
  auto c = tiny_config();
  for (int i = 0; i < labels; ++i) c.labels.push_back("c" + std::to_string(i));
  std::vector<std::string> t;
  for (const auto& s : targets) t.push_back(s.toStdString());
  const auto mode = lora_mode ? TrainMode::kLora : TrainMode::kFull;
  const auto plan = lora::plan(c, spec(t, 4), mode);
  Transformer m(c);
  std::vector<std::string> adapted;
  if (lora_mode) adapted = lora::apply(m, spec(t, 4), 1);
  lora::set_trainable(m, mode);
  const auto counted = lora::count_parameters(m);
  QCOMPARE(plan.count.total, counted.total);
  QCOMPARE(plan.count.trainable, counted.trainable);
  QCOMPARE(qlist(plan.adapted_modules), qlist(adapted));
  QCOMPARE(qlist(plan.target_choices), qlist(lora::target_choices(m)));
  const auto bad = input_error_of([&] { lora::plan(c, spec({"nope"}), TrainMode::kLora); });
  QVERIFY(bad && q(bad->what()).contains("choose from"));
}

void TestLora::setTrainableLeavesOnlyAdapters_data() {
  QTest::addColumn<bool>("lora_mode");
  QTest::addColumn<bool>("classify");
  QTest::newRow("lora causal") << true << false;
  QTest::newRow("lora classification") << true << true;
  QTest::newRow("full causal") << false << false;
  QTest::newRow("full classification") << false << true;
}

void TestLora::setTrainableLeavesOnlyAdapters() {
  QFETCH(bool, lora_mode);
  QFETCH(bool, classify);
  auto c = tiny_config();
  if (classify) c.labels = {"a", "b"};
  auto m = initialised(c);
  std::set<std::string> expected;
  if (lora_mode) {
    for (const auto& name : lora::apply(m, spec({"q_proj", "up_proj"}), 7)) {
      expected.insert(name + ".lora_A.weight");
      expected.insert(name + ".lora_B.weight");
    }
    if (classify) expected.insert("score.weight");
    QCOMPARE(int(expected.size()), 2 * 2 * 2 + (classify ? 1 : 0));
  } else {
    for (const auto& p : m->named_parameters()) expected.insert(p.key());
  }
  // Start from the opposite state so that nothing passes by default.
  for (auto& p : m->parameters()) p.set_requires_grad(!lora_mode);
  lora::set_trainable(m, lora_mode ? TrainMode::kLora : TrainMode::kFull);
  QCOMPARE(qlist(names_where(m, true)), qlist(expected));
}

void TestLora::countParametersByFormula_data() {
  QTest::addColumn<int>("labels");
  QTest::addColumn<qint64>("total");
  QTest::addColumn<qint64>("trainable");
  // preset:tiny (V 259, H 128, I 344, 2 layers, q 4x32, kv 2x32), r = 8 on q_proj and v_proj:
  // per layer 2*128 + 128*128 + 2*128*64 + 128*128 + 3*128*344 = 181504 base,
  // 8*128 + 128*8 + 8*128 + 64*8 = 3584 adapter.
  // causal: 2*259*128 + 2*181504 + 128 = 429440 base; 2*3584 = 7168 adapters.
  QTest::newRow("causal") << 0 << qint64(429440 + 7168) << qint64(7168);
  // classification (3 labels): lm_head replaced by score 3x128, which trains whole.
  QTest::newRow("classification") << 3 << qint64(259 * 128 + 2 * 181504 + 128 + 384 + 7168)
                                  << qint64(7168 + 384);
}

void TestLora::countParametersByFormula() {
  QFETCH(int, labels);
  QFETCH(qint64, total);
  QFETCH(qint64, trainable);
  auto c = tiny_config();
  for (int i = 0; i < labels; ++i) c.labels.push_back("c" + std::to_string(i));
  auto m = initialised(c);
  lora::apply(m, spec({"q_proj", "v_proj"}, 8), 7);
  lora::set_trainable(m, TrainMode::kLora);
  const auto counts = lora::count_parameters(m);
  QCOMPARE(qint64(counts.total), total);
  QCOMPARE(qint64(counts.trainable), trainable);
  QCOMPARE(counts.trainable_share(), double(trainable) / double(total));
  lora::set_trainable(m, TrainMode::kFull);
  QCOMPARE(qint64(lora::count_parameters(m).trainable), total);
}

void TestLora::unknownTargetListsChoices_data() {
  QTest::addColumn<QString>("target");
  QTest::addColumn<bool>("classify");
  QTest::newRow("typo") << "qkv_proj" << false;
  QTest::newRow("suffix of a name") << "proj" << false;
  QTest::newRow("classification head") << "score" << true;
  QTest::newRow("lm_head of a classifier") << "lm_head" << true;
}

void TestLora::unknownTargetListsChoices() {
  QFETCH(QString, target);
  QFETCH(bool, classify);
  auto c = tiny_config();
  if (classify) c.labels = {"a", "b"};
  auto m = initialised(c);
  std::vector<std::string> choices(kAllTargets.begin(), kAllTargets.end() - (classify ? 1 : 0));
  QCOMPARE(qlist(lora::target_choices(m)), qlist(choices));
  const auto err = input_error_of([&] {
    lora::apply(m, spec({"q_proj", target.toStdString()}), 7);
  });
  QVERIFY2(err.has_value(), "an unknown target was accepted");
  QCOMPARE(q(err->where()), QString("lora.targets"));
  const QString message = q(err->message());
  QVERIFY2(message.contains("'" + target + "'"), qPrintable(message));
  QString listed;
  for (const auto& name : choices) listed += (listed.isEmpty() ? "" : ", ") + q(name);
  QVERIFY2(message.contains(listed), qPrintable(message));
}

QTEST_GUILESS_MAIN(TestLora)
#include "tst_lora.moc"
