// The LLaMA-family model against Hugging Face's naming and an independent float64 re-implementation
// written here (loops over heads and positions, RoPE as explicit pair rotations), so a layout
// mistake (interleaved RoPE, wrong GQA head map, misplaced norm) shows up as a numeric failure.
// Dimension names as in llama.h: B batch, T sequence, H hidden, V vocabulary.
#include <torch/torch.h>

#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "deeptune/error.h"
#include "deeptune/tokenizer.h"
#include "formats/hf_checkpoint.h"
#include "model/llama.h"
#include "model/presets.h"
#include "support/test_support.h"
#include "torch/compat.h"
#include "torch/tensor_io.h"

using deeptune::test::input_error_of;
using deeptune::test::q;

using deeptune::AttentionKind;
using deeptune::InputError;
using deeptune::model::LlamaConfig;
using deeptune::model::Transformer;
namespace model = deeptune::model;
namespace compat = deeptune::compat;

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

LlamaConfig tiny_config() {
  return model::find_preset("tiny").config;
}

std::map<std::string, std::vector<int64_t>> shapes_of(Transformer& m) {
  std::map<std::string, std::vector<int64_t>> out;
  for (const auto& p : m->named_parameters())
    out[p.key()] = std::vector<int64_t>(p.value().sizes().begin(), p.value().sizes().end());
  return out;
}

// Parameters of a LLaMA config counted from its shapes, not from a model.
int64_t parameter_formula(const LlamaConfig& c) {
  const int64_t h = c.hidden_size, i = c.intermediate_size;
  const int64_t q_out = c.num_attention_heads * c.head_dim;
  const int64_t kv_out = c.num_key_value_heads * c.head_dim;
  int64_t layer = 2 * h             // input / post-attention norms
                  + h * q_out       // q_proj
                  + 2 * h * kv_out  // k_proj, v_proj
                  + q_out * h       // o_proj
                  + 3 * h * i;      // gate, up, down
  if (c.attention_bias) layer += q_out + 2 * kv_out;
  int64_t n = c.vocab_size * h + c.num_hidden_layers * layer + h;  // embed, layers, final norm
  if (c.num_labels() > 0)
    n += c.num_labels() * h;  // score
  else if (!c.tie_word_embeddings)
    n += c.vocab_size * h;  // lm_head
  return n;
}

void copy_weights(Transformer& from, Transformer& to) {
  torch::NoGradGuard no_grad;
  auto src = from->named_parameters();
  for (auto& p : to->named_parameters()) p.value().copy_(src[p.key()]);
}

// Weights large enough that attention is far from uniform (score std ~3) and norms not all one:
// with init_weights' std 0.02 a RoPE or head-mapping mistake would barely move the output.
void randomize(Transformer& m, uint64_t seed) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  for (auto& p : m->named_parameters()) {
    auto& t = p.value();
    if (ends_with(p.key(), "norm.weight"))
      t.uniform_(0.5, 1.5);
    else if (p.key() == "model.embed_tokens.weight")
      t.normal_(0.0, 1.0);
    else
      t.normal_(0.0, 1.7 / std::sqrt(double(t.size(1))));
  }
}

Transformer random_model(LlamaConfig c, uint64_t seed = 1) {
  Transformer m(c);
  randomize(m, seed);
  m->eval();
  return m;
}

torch::Tensor random_ids(int64_t b, int64_t t, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randint(0, 256, {b, t}, torch::kLong);
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// ---- the independent reference (float64) -----------------------------------------------------

struct RefOptions {
  bool interleaved_rope = false;  // llama.cpp's pairing (2i, 2i+1): must NOT match HF's layout
  bool gqa_modulo = false;        // head j -> kv head j % nkv: must NOT match HF's j / (nh/nkv)
  double temperature = 1.0;
};

// x: (T, hd). Rotates each pair by angle p * theta^(-2i/hd); HF pairs dim i with i + hd/2.
torch::Tensor ref_rope(const torch::Tensor& x, double theta, bool interleaved) {
  auto out = x.clone();
  auto a = x.accessor<double, 2>();
  auto o = out.accessor<double, 2>();
  const int64_t t = x.size(0), d = x.size(1), half = d / 2;
  for (int64_t p = 0; p < t; ++p) {
    for (int64_t i = 0; i < half; ++i) {
      const double angle = double(p) * std::pow(theta, -2.0 * double(i) / double(d));
      const double c = std::cos(angle), s = std::sin(angle);
      const int64_t i0 = interleaved ? 2 * i : i, i1 = interleaved ? 2 * i + 1 : i + half;
      o[p][i0] = a[p][i0] * c - a[p][i1] * s;
      o[p][i1] = a[p][i1] * c + a[p][i0] * s;
    }
  }
  return out;
}

torch::Tensor ref_rms(const torch::Tensor& x, const torch::Tensor& w, double eps) {  // (T, H)
  return x / (x.pow(2).mean(-1, /*keepdim=*/true) + eps).sqrt() * w;
}

using Weights = std::map<std::string, torch::Tensor>;

Weights double_weights(Transformer& m) {
  Weights w;
  for (const auto& p : m->named_parameters()) w[p.key()] = p.value().detach().to(torch::kDouble);
  return w;
}

// The attention weights of one row of layer `pre` (nh, T, T), float64: softmax of the causal
// scores q k^T / (sqrt(hd) * temperature), query head j reading kv head j / (nh / nkv).
torch::Tensor ref_weights(const torch::Tensor& x, const Weights& w, const std::string& pre,
                          const LlamaConfig& c, const RefOptions& o) {
  const int64_t t = x.size(0), nh = c.num_attention_heads, nkv = c.num_key_value_heads,
                hd = c.head_dim;
  const auto qx = x.matmul(w.at(pre + "q_proj.weight").t());
  const auto kx = x.matmul(w.at(pre + "k_proj.weight").t());
  std::vector<torch::Tensor> heads;
  for (int64_t j = 0; j < nh; ++j) {
    const int64_t kv = o.gqa_modulo ? j % nkv : j / (nh / nkv);
    const auto qh =
        ref_rope(qx.slice(1, j * hd, (j + 1) * hd).contiguous(), c.rope_theta, o.interleaved_rope);
    const auto kh = ref_rope(kx.slice(1, kv * hd, (kv + 1) * hd).contiguous(), c.rope_theta,
                             o.interleaved_rope);
    auto scores = (qh.matmul(kh.t()) / (std::sqrt(double(hd)) * o.temperature)).contiguous();
    auto s = scores.accessor<double, 2>();
    for (int64_t r = 0; r < t; ++r)
      for (int64_t col = r + 1; col < t; ++col)
        s[r][col] = -std::numeric_limits<double>::infinity();
    heads.push_back(torch::softmax(scores, -1));
  }
  return torch::stack(heads);
}

// One row: x (T, H) -> (T, H). `pre` is e.g. "model.layers.0.self_attn.".
torch::Tensor ref_attention(const torch::Tensor& x, const Weights& w, const std::string& pre,
                            const LlamaConfig& c, const RefOptions& o) {
  const int64_t t = x.size(0), nh = c.num_attention_heads, nkv = c.num_key_value_heads,
                hd = c.head_dim;
  const auto weights = ref_weights(x, w, pre, c, o);          // (nh, T, T)
  const auto vx = x.matmul(w.at(pre + "v_proj.weight").t());  // (T, nkv*hd)
  auto out = torch::zeros({t, nh * hd}, torch::kDouble);
  for (int64_t j = 0; j < nh; ++j) {
    const int64_t kv = o.gqa_modulo ? j % nkv : j / (nh / nkv);
    out.slice(1, j * hd, (j + 1) * hd)
        .copy_(weights[j].matmul(vx.slice(1, kv * hd, (kv + 1) * hd)));
  }
  return out.matmul(w.at(pre + "o_proj.weight").t());
}

// (B, T) -> (B, T, V), float64, without any of the model's code.
torch::Tensor ref_logits(Transformer& m, const torch::Tensor& ids, const RefOptions& o = {}) {
  const auto& c = m->config();
  const auto w = double_weights(m);
  std::vector<torch::Tensor> rows;
  for (int64_t b = 0; b < ids.size(0); ++b) {
    auto h = w.at("model.embed_tokens.weight").index_select(0, ids[b]);  // (T, H)
    for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
      const std::string pre = "model.layers." + std::to_string(l) + ".";
      auto a = ref_rms(h, w.at(pre + "input_layernorm.weight"), c.rms_norm_eps);
      h = h + ref_attention(a, w, pre + "self_attn.", c, o);
      a = ref_rms(h, w.at(pre + "post_attention_layernorm.weight"), c.rms_norm_eps);
      const auto g = a.matmul(w.at(pre + "mlp.gate_proj.weight").t());
      const auto u = a.matmul(w.at(pre + "mlp.up_proj.weight").t());
      h = h + (g / (1.0 + (-g).exp()) * u).matmul(w.at(pre + "mlp.down_proj.weight").t());
    }
    h = ref_rms(h, w.at("model.norm.weight"), c.rms_norm_eps);
    const auto& head =
        c.tie_word_embeddings ? w.at("model.embed_tokens.weight") : w.at("lm_head.weight");
    rows.push_back(h.matmul(head.t()));
  }
  return torch::stack(rows);
}

// cos/sin tables (T, hd) in HF's layout: the frequencies repeated for both halves.
std::pair<torch::Tensor, torch::Tensor> hf_rope_tables(int64_t t, int64_t hd, double theta) {
  auto inv = torch::empty({hd / 2}, torch::kDouble);
  for (int64_t i = 0; i < hd / 2; ++i) inv[i] = std::pow(theta, -2.0 * double(i) / double(hd));
  auto freqs = torch::outer(torch::arange(t, torch::kDouble), inv);
  auto emb = torch::cat({freqs, freqs}, -1);
  return {emb.cos().to(torch::kFloat), emb.sin().to(torch::kFloat)};
}

// fp32 model vs float64 reference: the dot products are at most 344 long, so fp32 rounding stays
// near 1e-5 of the values' scale; any layout mistake moves them by O(1).
constexpr double kFp32Tol = 1e-4;

}  // namespace

class TestModel : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void parameterNamesAndShapesMatchHf();
  void tiedEmbeddingsHaveNoLmHead();
  void classificationHasScoreHead();
  void parameterCountMatchesFormula_data();
  void parameterCountMatchesFormula();
  void parameterShapesMatchTheBuiltModel_data();
  void parameterShapesMatchTheBuiltModel();
  void buildingDrawsNoGlobalRandomNumbers();
  void logitsShape();
  void causalOutputIgnoresLaterTokens();
  void modelMatchesIndependentReference_data();
  void modelMatchesIndependentReference();
  void attentionLayerMatchesReference();
  void attentionCaptureIsCausalDistribution();
  void capturedWeightsMatchIndependentSoftmax_data();
  void capturedWeightsMatchIndependentSoftmax();
  void temperatureOneEqualsStandard();
  void temperatureChangesAttention();
  void compatAttentionEqualsReference_data();
  void compatAttentionEqualsReference();
  void referenceMaskAlignsNewestQueriesWithLastKeys();
  void rmsNormMatchesHandComputation();
  void classLogitsUseLastRealToken();
  void initWeightsIsDeterministicPerSeed();
  void hfSaveLoadRoundTripGivesIdenticalLogits();
  void configLabelsAreChecked_data();
  void configLabelsAreChecked();
  void loadWeightsRejectsBadTensor_data();
  void loadWeightsRejectsBadTensor();
};

void TestModel::parameterNamesAndShapesMatchHf() {
  const auto c = tiny_config();
  QVERIFY(!c.tie_word_embeddings);
  Transformer m(c);
  const int64_t v = c.vocab_size, h = c.hidden_size, i = c.intermediate_size;
  const int64_t qo = c.num_attention_heads * c.head_dim, kvo = c.num_key_value_heads * c.head_dim;
  // preset:tiny spelled out, so that a preset edit is a visible test change.
  QCOMPARE(v, int64_t{259});
  QCOMPARE(h, int64_t{128});
  QCOMPARE(qo, int64_t{4 * 32});
  QCOMPARE(kvo, int64_t{2 * 32});
  std::map<std::string, std::vector<int64_t>> expected = {{"model.embed_tokens.weight", {v, h}},
                                                          {"model.norm.weight", {h}},
                                                          {"lm_head.weight", {v, h}}};
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const std::string pre = "model.layers." + std::to_string(l) + ".";
    expected[pre + "input_layernorm.weight"] = {h};
    expected[pre + "post_attention_layernorm.weight"] = {h};
    expected[pre + "self_attn.q_proj.weight"] = {qo, h};
    expected[pre + "self_attn.k_proj.weight"] = {kvo, h};
    expected[pre + "self_attn.v_proj.weight"] = {kvo, h};
    expected[pre + "self_attn.o_proj.weight"] = {h, qo};
    expected[pre + "mlp.gate_proj.weight"] = {i, h};
    expected[pre + "mlp.up_proj.weight"] = {i, h};
    expected[pre + "mlp.down_proj.weight"] = {h, i};
  }
  const auto actual = shapes_of(m);
  QStringList expected_names, actual_names;
  for (const auto& [n, s] : expected) expected_names << q(n);
  for (const auto& [n, s] : actual) actual_names << q(n);
  QCOMPARE(actual_names, expected_names);
  for (const auto& [n, s] : expected) QCOMPARE(actual.at(n), s);
}

void TestModel::tiedEmbeddingsHaveNoLmHead() {
  auto c = tiny_config();
  c.tie_word_embeddings = true;
  auto m = random_model(c);
  const auto shapes = shapes_of(m);
  QVERIFY(!shapes.count("lm_head.weight"));
  QVERIFY(shapes.count("model.embed_tokens.weight"));
  // Tied really means the embedding is the output projection (the reference reads it so).
  const auto ids = random_ids(1, 6, 3);
  const auto ref = ref_logits(m, ids);
  const double diff = max_abs_diff(m->lm_logits(ids), ref), scale = ref.abs().max().item<double>();
  QVERIFY2(diff < kFp32Tol * scale,
           qPrintable(QString("max |diff| %1 (scale %2)").arg(diff).arg(scale)));
}

void TestModel::classificationHasScoreHead() {
  auto c = tiny_config();
  c.labels = {"account", "billing", "shipping"};
  Transformer m(c);
  const auto shapes = shapes_of(m);
  QVERIFY(!shapes.count("lm_head.weight"));
  QCOMPARE(shapes.at("score.weight"), (std::vector<int64_t>{3, c.hidden_size}));
  QCOMPARE(q(c.to_hf_json()["architectures"][0].get<std::string>()),
           QString("LlamaForSequenceClassification"));
}

void TestModel::parameterCountMatchesFormula_data() {
  QTest::addColumn<QString>("preset");
  QTest::addColumn<bool>("tied");
  QTest::addColumn<int>("labels");
  QTest::addColumn<qint64>("published");  // known count of the real model, -1 if none
  for (const auto& p : model::presets()) {
    QTest::newRow(p.name.c_str()) << q(p.name) << false << 0
                                  << qint64(p.name == "tinyllama-1.1b" ? 1100048384 : -1);
  }
  QTest::newRow("tiny tied") << "tiny" << true << 0 << qint64(-1);
  QTest::newRow("tiny classification") << "tiny" << false << 4 << qint64(-1);
}

void TestModel::parameterCountMatchesFormula() {
  QFETCH(QString, preset);
  QFETCH(bool, tied);
  QFETCH(int, labels);
  QFETCH(qint64, published);
  auto c = model::find_preset(preset.toStdString()).config;
  c.tie_word_embeddings = tied;
  for (int i = 0; i < labels; ++i) c.labels.push_back("c" + std::to_string(i));
  // Linear weights are torch::empty (pages never touched), so even the 1.1B shape costs little.
  Transformer m(c);
  int64_t counted = 0;
  for (const auto& p : m->parameters()) counted += p.numel();
  QCOMPARE(counted, parameter_formula(c));
  if (published > 0) QCOMPARE(qint64(counted), published);
}

void TestModel::parameterShapesMatchTheBuiltModel_data() {
  parameterCountMatchesFormula_data();
  QTest::newRow("tiny with q/k/v biases") << "tiny" << false << 0 << qint64(-1);
}

// Summaries and LoRA plans count from parameter_shapes() instead of building the model; it must
// list exactly what the model builds, in its order.
void TestModel::parameterShapesMatchTheBuiltModel() {
  QFETCH(QString, preset);
  QFETCH(bool, tied);
  QFETCH(int, labels);
  auto c = model::find_preset(preset.toStdString()).config;
  c.tie_word_embeddings = tied;
  c.attention_bias = QByteArray(QTest::currentDataTag()).contains("biases");
  for (int i = 0; i < labels; ++i) c.labels.push_back("c" + std::to_string(i));
  Transformer m(c);
  QStringList built, listed;
  for (const auto& p : m->named_parameters())
    built << q(p.key()) + " " + q(c10::str(p.value().sizes()));
  for (const auto& p : model::parameter_shapes(c))
    listed << q(p.name) + " " + q(c10::str(c10::IntArrayRef(p.shape)));
  QCOMPARE(listed, built);
  QStringList linears;
  for (const auto& [name, layer] : model::linear_modules(m))
    linears << q(name) + " " + QString::number(layer->in_features) + "x" +
                   QString::number(layer->out_features);
  QStringList planned;
  for (const auto& l : model::linear_shapes(c))
    planned << q(l.name) + " " + QString::number(l.in_features) + "x" +
                   QString::number(l.out_features);
  QCOMPARE(planned, linears);
}

// A model built on the workbench's threads (summaries, exports) must not shift a run training at
// the same time: building and initialising draw nothing from LibTorch's process-wide generator.
void TestModel::buildingDrawsNoGlobalRandomNumbers() {
  torch::manual_seed(99);
  const auto before = torch::randn({4});
  torch::manual_seed(99);
  Transformer m(tiny_config());
  model::init_weights(m, 5);
  QVERIFY(torch::equal(torch::randn({4}), before));
}

void TestModel::logitsShape() {
  auto m = random_model(tiny_config());
  torch::NoGradGuard no_grad;
  const auto logits = m->lm_logits(random_ids(3, 7, 5));
  QCOMPARE(logits.sizes().vec(), (std::vector<int64_t>{3, 7, 259}));
  QVERIFY(logits.scalar_type() == torch::kFloat);
}

void TestModel::causalOutputIgnoresLaterTokens() {
  auto m = random_model(tiny_config());
  torch::NoGradGuard no_grad;
  const int64_t t = 7;
  auto ids = random_ids(2, 12, 11);
  auto changed = ids.clone();
  changed.select(1, t).copy_((ids.select(1, t) + 1) % 256);
  const auto a = m->lm_logits(ids), b = m->lm_logits(changed);
  // Masked scores are exactly -inf, so earlier positions get exactly zero weight on token t.
  QVERIFY(torch::equal(a.slice(1, 0, t), b.slice(1, 0, t)));
  for (int64_t pos = t; pos < 12; ++pos)
    QVERIFY2(max_abs_diff(a.select(1, pos), b.select(1, pos)) > 1e-3,
             qPrintable(QString("position %1 did not see token %2").arg(pos).arg(t)));
}

void TestModel::modelMatchesIndependentReference_data() {
  QTest::addColumn<int>("kv_heads");
  QTest::newRow("gqa 4 heads / 2 kv") << 2;
  QTest::newRow("mha 4 heads / 4 kv") << 4;
  QTest::newRow("mqa 4 heads / 1 kv") << 1;
}

void TestModel::modelMatchesIndependentReference() {
  QFETCH(int, kv_heads);
  auto c = tiny_config();
  c.num_key_value_heads = kv_heads;
  auto m = random_model(c, 17);
  torch::NoGradGuard no_grad;
  const auto ids = random_ids(2, 9, 23);
  const auto ours = m->lm_logits(ids);
  const auto ref = ref_logits(m, ids);
  const double diff = max_abs_diff(ours, ref);
  const double scale = ref.abs().max().item<double>();
  QVERIFY2(scale > 1.0, "reference logits too small to tell layouts apart");
  QVERIFY2(diff < kFp32Tol * scale,
           qPrintable(QString("max |diff| %1 (scale %2)").arg(diff).arg(scale)));
  // The reference can tell HF's layout from the usual mistakes, so the match above means something.
  RefOptions interleaved;
  interleaved.interleaved_rope = true;
  QVERIFY(max_abs_diff(ours, ref_logits(m, ids, interleaved)) > 100 * kFp32Tol * scale);
  if (kv_heads > 1 && kv_heads < c.num_attention_heads) {
    RefOptions modulo;
    modulo.gqa_modulo = true;
    QVERIFY(max_abs_diff(ours, ref_logits(m, ids, modulo)) > 100 * kFp32Tol * scale);
  }
}

void TestModel::attentionLayerMatchesReference() {
  const auto c = tiny_config();
  auto m = random_model(c, 29);
  torch::NoGradGuard no_grad;
  auto& layer = m->model->layers->at<model::DecoderLayerImpl>(1);
  torch::manual_seed(31);
  const auto x = torch::randn({2, 10, c.hidden_size});
  const auto [cos, sin] = hf_rope_tables(10, c.head_dim, c.rope_theta);
  const auto ours = layer.self_attn->forward(x, cos, sin, nullptr);  // (B, T, H)
  const auto w = double_weights(m);
  for (int64_t b = 0; b < 2; ++b) {
    const auto ref = ref_attention(x[b].to(torch::kDouble), w, "model.layers.1.self_attn.", c, {});
    const double diff = max_abs_diff(ours[b], ref);
    QVERIFY2(diff < kFp32Tol * ref.abs().max().item<double>(),
             qPrintable(QString("row %1: max |diff| %2").arg(b).arg(diff)));
  }
}

void TestModel::attentionCaptureIsCausalDistribution() {
  const auto c = tiny_config();
  auto m = random_model(c);
  torch::NoGradGuard no_grad;
  const auto ids = random_ids(2, 8, 37);
  model::AttentionCapture capture;
  capture.enabled = true;
  const auto with = m->lm_logits(ids, &capture);
  QCOMPARE(int64_t(capture.weights.size()), c.num_hidden_layers);
  for (const auto& w : capture.weights) {
    QCOMPARE(w.sizes().vec(), (std::vector<int64_t>{2, c.num_attention_heads, 8, 8}));
    QVERIFY(torch::allclose(w.sum(-1), torch::ones({2, c.num_attention_heads, 8}), 1e-5, 1e-5));
    QVERIFY(w.triu(1).abs().max().item<float>() == 0.0f);
  }
  // Capturing switches to the reference kernel; it must not change the result.
  QVERIFY(max_abs_diff(with, m->lm_logits(ids)) < 1e-5);
}

// What the Attention page shows is softmax(Q K^T / (sqrt(d) T)) computed independently (float64,
// our own RoPE and GQA mapping), for the standard and the temperature kind; the other GQA mapping
// (j % nkv) must not match, or the test could not tell them apart.
void TestModel::capturedWeightsMatchIndependentSoftmax_data() {
  QTest::addColumn<double>("temperature");
  QTest::newRow("standard") << 1.0;
  QTest::newRow("temperature 0.5") << 0.5;
  QTest::newRow("temperature 2") << 2.0;
}

void TestModel::capturedWeightsMatchIndependentSoftmax() {
  QFETCH(double, temperature);
  auto c = tiny_config();
  QVERIFY(c.num_key_value_heads < c.num_attention_heads);  // grouped-query heads
  if (temperature != 1.0) {
    c.attention_kind = AttentionKind::kTemperature;
    c.attention_temperature = temperature;
  }
  auto m = random_model(c, 5);
  torch::NoGradGuard no_grad;
  const auto ids = random_ids(1, 12, 11);
  model::AttentionCapture capture;
  capture.enabled = true;
  m->lm_logits(ids, &capture);
  const auto w = double_weights(m);
  const auto h = w.at("model.embed_tokens.weight").index_select(0, ids[0]);
  const auto x = ref_rms(h, w.at("model.layers.0.input_layernorm.weight"), c.rms_norm_eps);
  RefOptions o;
  o.temperature = temperature;
  const auto expected = ref_weights(x, w, "model.layers.0.self_attn.", c, o);
  const auto got = capture.weights.at(0)[0];  // (nh, T, T) of the only row
  QVERIFY2(max_abs_diff(got, expected) < 1e-5,
           qPrintable(QString("max |diff| %1").arg(max_abs_diff(got, expected))));
  o.gqa_modulo = true;
  QVERIFY(max_abs_diff(got, ref_weights(x, w, "model.layers.0.self_attn.", c, o)) > 1e-3);
}

void TestModel::temperatureOneEqualsStandard() {
  auto standard = tiny_config();
  auto temp = standard;
  temp.attention_kind = AttentionKind::kTemperature;
  temp.attention_temperature = 1.0;
  auto a = random_model(standard, 41);
  Transformer b(temp);
  copy_weights(a, b);
  b->eval();
  torch::NoGradGuard no_grad;
  const auto ids = random_ids(2, 9, 43);
  QVERIFY(torch::equal(a->lm_logits(ids), b->lm_logits(ids)));
}

void TestModel::temperatureChangesAttention() {
  auto standard = tiny_config();
  auto temp = standard;
  temp.attention_kind = AttentionKind::kTemperature;
  temp.attention_temperature = 0.5;
  auto a = random_model(standard, 47);
  Transformer b(temp);
  copy_weights(a, b);
  b->eval();
  torch::NoGradGuard no_grad;
  const auto ids = random_ids(2, 9, 53);
  const auto ours = b->lm_logits(ids);
  QVERIFY(max_abs_diff(a->lm_logits(ids), ours) > 1e-2);
  RefOptions o;
  o.temperature = 0.5;
  const auto ref = ref_logits(b, ids, o);
  const double scale = ref.abs().max().item<double>();
  const double diff = max_abs_diff(ours, ref);
  QVERIFY2(diff < kFp32Tol * scale, qPrintable(QString("max |diff| %1").arg(diff)));
  // Dividing instead of multiplying by T would match the T = 2 reference instead.
  o.temperature = 2.0;
  QVERIFY(max_abs_diff(ours, ref_logits(b, ids, o)) > 100 * kFp32Tol * scale);
}

void TestModel::compatAttentionEqualsReference_data() {
  QTest::addColumn<bool>("causal");
  QTest::addColumn<int>("t");
  QTest::addColumn<int>("s");
  QTest::newRow("causal") << true << 13 << 13;
  QTest::newRow("full") << false << 13 << 13;
  QTest::newRow("causal single") << true << 1 << 1;
  // compat.h gives k/v their own length S; the reference aligns the newest queries with the last
  // keys (a KV cache). The fused path (LibTorch >= 2.1) must do the same.
  QTest::newRow("causal cache") << true << 4 << 13;
}

void TestModel::compatAttentionEqualsReference() {
  QFETCH(bool, causal);
  QFETCH(int, t);
  QFETCH(int, s);
  torch::manual_seed(59);
  const auto qt = torch::randn({2, 4, t, 32}), k = torch::randn({2, 4, s, 32}),
             v = torch::randn({2, 4, s, 32});
  const double scale = 1.0 / std::sqrt(32.0);
  const auto fused = compat::attention(qt, k, v, scale, causal);
  const auto ref = compat::attention_reference(qt, k, v, scale, causal);
  QCOMPARE(fused.sizes().vec(), (std::vector<int64_t>{2, 4, t, 32}));
  // fp32 with softmax rows of at most 13: the kernels agree to ~1e-6.
  QVERIFY2(max_abs_diff(fused, ref) < 1e-5, qPrintable(QString::number(max_abs_diff(fused, ref))));
  // Without a cache, the first query sees only the first key when causal.
  if (causal && t == s)
    QVERIFY(max_abs_diff(ref.select(2, 0), v.select(2, 0)) < 1e-6);
  else if (!causal && t > 1)
    QVERIFY(max_abs_diff(ref.select(2, 0), v.select(2, 0)) > 1e-2);
}

void TestModel::referenceMaskAlignsNewestQueriesWithLastKeys() {
  // With a cache (S > T), query i of T sits at absolute position S - T + i.
  torch::manual_seed(61);
  const auto qt = torch::randn({1, 2, 3, 8}), k = torch::randn({1, 2, 5, 8}),
             v = torch::randn({1, 2, 5, 8});
  torch::Tensor w;
  compat::attention_reference(qt, k, v, 0.5, /*causal=*/true, &w);
  QCOMPARE(w.sizes().vec(), (std::vector<int64_t>{1, 2, 3, 5}));
  for (int64_t i = 0; i < 3; ++i) {
    const int64_t visible = 5 - 3 + i + 1;
    QVERIFY(w.select(2, i).slice(-1, 0, visible).min().item<float>() > 0.0f);
    if (visible < 5) QVERIFY(w.select(2, i).slice(-1, visible).abs().max().item<float>() == 0.0f);
  }
}

void TestModel::rmsNormMatchesHandComputation() {
  model::RMSNorm norm(4, 1e-5);
  {
    torch::NoGradGuard no_grad;
    norm->weight.copy_(torch::tensor({1.0f, 0.5f, 2.0f, -1.0f}));
  }
  const auto out =
      norm->forward(torch::tensor({{1.0f, 2.0f, 3.0f, 4.0f}, {0.0f, 0.0f, 0.0f, 3.0f}}));
  // Row 1: mean of squares 30/4 = 7.5. Row 2: 9/4 = 2.25.
  const double r1 = 1.0 / std::sqrt(7.5 + 1e-5), r2 = 1.0 / std::sqrt(2.25 + 1e-5);
  const std::vector<std::vector<double>> expected = {
      {1 * r1 * 1, 2 * r1 * 0.5, 3 * r1 * 2, 4 * r1 * -1}, {0, 0, 0, 3 * r2 * -1}};
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j)
      QVERIFY2(std::abs(out[i][j].item<double>() - expected[i][j]) < 1e-6,
               qPrintable(QString("[%1][%2] = %3, expected %4")
                              .arg(i)
                              .arg(j)
                              .arg(out[i][j].item<double>(), 0, 'g', 10)
                              .arg(expected[i][j], 0, 'g', 10)));
  // bf16 activations: the same values to bf16's precision (8 bits: ~4e-3 relative).
  const auto half = norm->forward(torch::tensor({{1.0f, 2.0f, 3.0f, 4.0f}}).to(torch::kBFloat16));
  for (int j = 0; j < 4; ++j)
    QVERIFY2(std::abs(half[0][j].item<double>() - expected[0][j]) < 1e-2 * std::abs(expected[0][j]),
             qPrintable(QString("bf16 [0][%1] = %2").arg(j).arg(half[0][j].item<double>())));
}

void TestModel::classLogitsUseLastRealToken() {
  auto c = tiny_config();
  c.labels = {"a", "b", "c"};
  auto m = random_model(c, 67);
  torch::NoGradGuard no_grad;
  const auto real = random_ids(2, 6, 71);
  // Row 0 has 6 real tokens, row 1 has 4; then padding and junk that must not matter.
  auto padded = torch::full({2, 10}, c.pad_token_id, torch::kLong);
  padded.slice(1, 0, 6).copy_(real);
  padded[1].slice(0, 4, 6).fill_(c.pad_token_id);
  padded[0][8] = 65;
  const auto last = torch::tensor({int64_t{5}, int64_t{3}});
  const auto logits = m->class_logits(padded, last);  // (B, L)
  QCOMPARE(logits.sizes().vec(), (std::vector<int64_t>{2, 3}));
  const auto alone0 = m->class_logits(real.slice(0, 0, 1), torch::tensor({int64_t{5}}));
  const auto alone1 =
      m->class_logits(real.slice(0, 1, 2).slice(1, 0, 4), torch::tensor({int64_t{3}}));
  QVERIFY(max_abs_diff(logits[0], alone0[0]) < 1e-5);
  QVERIFY(max_abs_diff(logits[1], alone1[0]) < 1e-5);
  // The head reads the row's last real position, not the padded end.
  const auto at_end = m->class_logits(padded, torch::tensor({int64_t{9}, int64_t{9}}));
  QVERIFY(max_abs_diff(logits, at_end) > 1e-3);
  // Different real tokens do change the result (the head is not constant).
  auto other = padded.clone();
  other[0][2] = (other[0][2].item<int64_t>() + 7) % 256;
  QVERIFY(max_abs_diff(m->class_logits(other, last)[0], logits[0]) > 1e-4);
}

void TestModel::initWeightsIsDeterministicPerSeed() {
  const auto c = tiny_config();
  auto make = [&](uint64_t seed) {
    Transformer m(c);
    model::init_weights(m, seed);
    return m;
  };
  auto a = make(7), b = make(7), other = make(8);
  auto pa = a->named_parameters(), pb = b->named_parameters(), po = other->named_parameters();
  for (const auto& p : pa) {
    QVERIFY2(torch::equal(p.value(), pb[p.key()]), p.key().c_str());
    if (ends_with(p.key(), "norm.weight")) {
      QVERIFY(torch::equal(p.value(), torch::ones_like(p.value())));
    } else {
      QVERIFY2(!torch::equal(p.value(), po[p.key()]), p.key().c_str());
      // normal(0, initializer_range): thousands of draws pin the std within a few percent.
      const double std = p.value().std().item<double>();
      QVERIFY2(std::abs(std - c.initializer_range) < 0.1 * c.initializer_range,
               qPrintable(QString("%1: std %2").arg(q(p.key())).arg(std)));
    }
  }
  const auto pad_row = a->model->embed_tokens->weight[c.pad_token_id];
  QVERIFY(torch::equal(pad_row, torch::zeros_like(pad_row)));
}

void TestModel::hfSaveLoadRoundTripGivesIdenticalLogits() {
  auto c = tiny_config();
  c.attention_kind = AttentionKind::kTemperature;
  c.attention_temperature = 0.7;
  auto m = random_model(c, 73);
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string path = dir.path().toStdString();
  deeptune::ByteTokenizer tok;
  deeptune::hf::save(path, m, tok);
  const auto loaded_config = deeptune::hf::read_config(path);
  QCOMPARE(q(loaded_config.to_hf_json().dump()), q(c.to_hf_json().dump()));
  Transformer loaded(loaded_config);
  deeptune::hf::load_weights(loaded, path);
  loaded->eval();
  torch::NoGradGuard no_grad;
  const auto ids = random_ids(2, 9, 79);
  QVERIFY(torch::equal(m->lm_logits(ids), loaded->lm_logits(ids)));
  QCOMPARE(deeptune::hf::read_tokenizer(path)->kind(), std::string("byte"));
}

void TestModel::configLabelsAreChecked_data() {
  QTest::addColumn<QByteArray>("id2label");
  QTest::addColumn<QString>("message");  // empty: accepted
  QTest::newRow("0..n-1") << QByteArray(R"({"0": "a", "1": "b"})") << QString();
  QTest::newRow("a word as index") << QByteArray(R"({"zero": "a"})") << "id2label key 'zero'";
  QTest::newRow("negative index") << QByteArray(R"({"-1": "a", "0": "b"})") << "id2label key '-1'";
  QTest::newRow("index past the end") << QByteArray(R"({"0": "a", "5": "b"})") << "'5'";
  QTest::newRow("index overflowing a long")
      << QByteArray(R"({"0": "a", "99999999999999999999999": "b"})") << "id2label key";
  QTest::newRow("label not a string") << QByteArray(R"({"0": 3})") << "must be a string";
}

// A classification config.json's id2label is read defensively: a bad key or value is an
// InputError naming config.json (it used to escape as a raw std::stoul exception).
void TestModel::configLabelsAreChecked() {
  QFETCH(QByteArray, id2label);
  QFETCH(QString, message);
  auto j = tiny_config().to_hf_json();
  j["architectures"] = {"LlamaForSequenceClassification"};
  j["id2label"] = nlohmann::json::parse(id2label.toStdString());
  const auto err = input_error_of([&] { LlamaConfig::from_hf_json(j, "config.json"); });
  if (message.isEmpty()) {
    QVERIFY2(!err, err ? err->what() : "");
    QCOMPARE(int(LlamaConfig::from_hf_json(j, "config.json").labels.size()), 2);
    return;
  }
  QVERIFY(err);
  QVERIFY2(q(err->what()).startsWith("config.json: ") && q(err->what()).contains(message),
           err->what());
}

void TestModel::loadWeightsRejectsBadTensor_data() {
  QTest::addColumn<QString>("change");
  QTest::addColumn<QString>("tensor");
  QTest::newRow("missing") << "drop"
                           << "model.layers.1.mlp.up_proj.weight";
  QTest::newRow("wrong shape") << "reshape"
                               << "model.layers.0.self_attn.k_proj.weight";
  QTest::newRow("unknown tensor") << "add"
                                  << "model.layers.9.self_attn.q_proj.weight";
}

void TestModel::loadWeightsRejectsBadTensor() {
  QFETCH(QString, change);
  QFETCH(QString, tensor);
  const std::string name = tensor.toStdString();
  auto m = random_model(tiny_config(), 83);
  deeptune::tensor_io::NamedTensors tensors;
  for (const auto& p : m->named_parameters()) {
    if (p.key() != name)
      tensors.emplace_back(p.key(), p.value().detach());
    else if (change == "reshape")
      tensors.emplace_back(p.key(), torch::zeros({p.value().size(0), 7}));
  }
  if (change == "add") tensors.emplace_back(name, torch::zeros({4, 4}));
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  deeptune::tensor_io::save((dir.path() + "/model.safetensors").toStdString(), tensors);
  Transformer fresh(tiny_config());
  const auto err =
      input_error_of([&] { deeptune::hf::load_weights(fresh, dir.path().toStdString()); });
  QVERIFY2(err.has_value(), "load_weights accepted the file");
  QVERIFY2(err->where().find("'" + name + "'") != std::string::npos, err->what());
  QVERIFY2(err->where().find("model.safetensors") != std::string::npos, err->what());
  if (change == "reshape")
    QVERIFY2(std::string(err->message()).find("7") != std::string::npos, err->what());
}

QTEST_GUILESS_MAIN(TestModel)
#include "tst_model.moc"
