// Attention captured while training (issue 11): probes from texts and dataset rows are run through
// the reference attention path at step 0, every probe.attention_every steps and at the last step;
// every layer and head is stored (causal rows summing to one, statistics that match the stored
// map), long probes are max-pooled to 512, capturing never changes the run's numbers, and a probe
// row the dataset does not have is refused by name. Recomputed from a checkpoint, the maps equal
// the stored ones, adapters off give the base's (the step-0 snapshot), adapters change the first
// layer's attention only when they target q or k, and a long probe's full map pools to the stored
// one.
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>

#include "deeptune/attention_map.h"
#include "deeptune/session.h"
#include "deeptune/store.h"
#include "support/test_support.h"

using namespace deeptune;
using deeptune::test::q;

namespace {
// Every head's map of one layer as floats.
std::vector<float> layer_maps(const AttentionMapRecord& l) {
  const size_t n = size_t(l.size);
  return unpack_maps(l.data, size_t(l.heads) * n * n, "test");
}
// The layer's stored preview, and its maps max-pooled to kPreviewSide as the preview should be.
std::pair<std::vector<float>, std::vector<float>> preview_and_pooled(const AttentionMapRecord& l) {
  const int64_t n = l.size, p = l.preview_size;
  const auto maps = layer_maps(l);
  std::vector<float> pooled;
  for (int h = 0; h < l.heads; ++h) {
    int64_t side = 0;
    const auto one = max_pool(maps.data() + size_t(h) * n * n, n, kPreviewSide, &side);
    pooled.insert(pooled.end(), one.begin(), one.end());
  }
  return {unpack_maps(l.preview, size_t(l.heads * p * p), "preview"), pooled};
}
float largest_difference(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  float d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
  return d;
}
}  // namespace

class TstAttentionCapture : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void snapshotsAreStoredAndExact();
  void captureLeavesTheRunUnchanged();
  void longProbesAreMaxPooled();
  void missingRowIsRefused();
  void recomputedMapsMatchTheStoredOnes();
  void adapterOffIsTheBase();
  void adapterChangesOnlyWhatItTargets();
  void fullMapOfALongProbe();
  void recomputeRefusals();

 private:
  RunOutcome run(const RunConfig& c, const std::string& name, test::RunRecorder* obs = nullptr);
  QTemporaryDir dir_;
  std::string project_;
};

void TstAttentionCapture::initTestCase() {
  QVERIFY(dir_.isValid());
  project_ = dir_.filePath("attention.dtproj").toStdString();
  test::make_counting_project(project_);
}

RunOutcome TstAttentionCapture::run(const RunConfig& c, const std::string& name,
                                    test::RunRecorder* obs) {
  test::RunRecorder local;
  RunControl control;
  return execute_run(project_, create_run(project_, c, name), obs ? *obs : local, control);
}

void TstAttentionCapture::snapshotsAreStoredAndExact() {
  auto c = test::small_run_config("pairs");
  c.train.max_steps = 25;
  c.probe.text = {"Count 7: 8 9"};
  c.probe.rows = {"3"};
  c.probe.attention_every = 10;
  QCOMPARE(run(c, "captured").status, RunStatus::kCompleted);
  auto store = ProjectStore::open(project_);
  const int64_t id = store->find_run("captured")->id;
  const auto probes = store->attention_probes(id);
  QCOMPARE(probes.size(), size_t{2});
  QCOMPARE(q(probes[0].source), QStringLiteral("text"));
  QCOMPARE(q(probes[1].source), QStringLiteral("row 3"));
  QCOMPARE(probes[0].tokens.size(), size_t{13});  // BOS + 12 bytes
  for (int p = 0; p < 2; ++p) {
    QVERIFY(store->attention_steps(id, p) == (std::vector<int64_t>{0, 10, 20, 25}));
    const auto layers = store->attention_maps(id, p, 25);
    QCOMPARE(layers.size(), size_t{2});  // preset:tiny
    for (const auto& l : layers) {
      QCOMPARE(l.heads, 4);
      QCOMPARE(size_t(l.length), probes[size_t(p)].tokens.size());
      QCOMPARE(l.size, l.length);                                     // short: not pooled
      QCOMPARE(l.preview_size, std::min(l.size, int(kPreviewSide)));  // short: the map itself
      const auto [preview, pooled] = preview_and_pooled(l);
      QCOMPARE(largest_difference(preview, pooled), 0.0f);
      const size_t n = size_t(l.size);
      const auto maps = unpack_maps(l.data, size_t(l.heads) * n * n, "test");
      const auto stats = nlohmann::json::parse(l.stats_json);
      QCOMPARE(int(stats.size()), l.heads);
      for (int h = 0; h < l.heads; ++h) {
        const float* m = maps.data() + size_t(h) * n * n;
        for (size_t i = 0; i < n; ++i) {
          double row = 0;
          for (size_t j = 0; j < n; ++j) {
            row += m[i * n + j];
            if (j > i) QCOMPARE(m[i * n + j], 0.0f);  // causal
          }
          QVERIFY2(std::fabs(row - 1.0) < 5e-3,
                   qPrintable(QString("row %1 sums to %2").arg(i).arg(row)));
        }
        // The stored statistics are those of the (full) map, here the stored one up to fp16.
        const HeadStats s = head_stats(m, int64_t(n));
        QVERIFY(std::fabs(s.entropy - stats[h][0].get<double>()) < 1e-2);
        QVERIFY(std::fabs(s.sink - stats[h][1].get<double>()) < 1e-3);
        QVERIFY(std::fabs(s.previous - stats[h][2].get<double>()) < 1e-3);
        QVERIFY(std::fabs(s.max - stats[h][3].get<double>()) < 1e-3);
      }
    }
  }
  // Training moved the maps: step 0 and the last step differ.
  const auto first = store->attention_maps(id, 0, 0), last = store->attention_maps(id, 0, 25);
  QVERIFY(first[0].stats_json != last[0].stats_json);
}

void TstAttentionCapture::captureLeavesTheRunUnchanged() {
  auto c = test::small_run_config("pairs");
  c.train.max_steps = 12;
  c.lora.dropout = 0.1;  // capturing must not draw from the run's generator
  c.probe.attention_every = 0;
  test::RunRecorder off, on;
  QCOMPARE(run(c, "no-capture", &off).status, RunStatus::kCompleted);
  c.probe.attention_every = 3;
  QCOMPARE(run(c, "capture", &on).status, RunStatus::kCompleted);
  QCOMPARE(on.steps.size(), off.steps.size());
  for (size_t i = 0; i < on.steps.size(); ++i) QCOMPARE(on.steps[i].loss, off.steps[i].loss);
  auto store = ProjectStore::open(project_);
  QVERIFY(store->attention_probes(store->find_run("no-capture")->id).empty());
  // With no probe named, the first validation row is the probe.
  const auto probes = store->attention_probes(store->find_run("capture")->id);
  QCOMPARE(probes.size(), size_t{1});
  QVERIFY2(q(probes[0].source).endsWith("(validation)"), probes[0].source.c_str());
}

void TstAttentionCapture::longProbesAreMaxPooled() {
  auto c = test::small_run_config("pairs");
  c.train.max_steps = 2;
  c.data.max_length = 600;
  c.probe.text = {std::string(700, 'a')};
  c.probe.attention_every = 1;
  QCOMPARE(run(c, "long").status, RunStatus::kCompleted);
  auto store = ProjectStore::open(project_);
  const int64_t id = store->find_run("long")->id;
  const auto layers = store->attention_maps(id, 0, 2);
  QCOMPARE(layers.size(), size_t{2});
  QCOMPARE(layers[0].length, 600);  // cut to data.max_length
  QCOMPARE(layers[0].size, 512);
  // The preview: every head max-pooled again to 44 x 44 (fp16 both: pooling picks stored values).
  for (const auto& l : layers) {
    QCOMPARE(l.preview_size, int(kPreviewSide));
    const auto [preview, pooled] = preview_and_pooled(l);
    QCOMPARE(preview.size(), size_t(l.heads) * 44 * 44);
    QCOMPARE(largest_difference(preview, pooled), 0.0f);
  }
  QCOMPARE(store->attention_previews(id, 0, 2).size(), size_t{2});
  const size_t n = 512;
  const auto maps = unpack_maps(layers[0].data, size_t(layers[0].heads) * n * n, "test");
  // A block maximum of a causal map: the diagonal blocks hold weight, blocks above are empty.
  for (size_t a = 0; a < n; ++a) {
    QVERIFY(maps[a * n + a] > 0.0f);
    if (a + 1 < n) QCOMPARE(maps[a * n + a + 1], 0.0f);
  }
}

void TstAttentionCapture::missingRowIsRefused() {
  auto c = test::small_run_config("pairs");
  c.probe.rows = {"9999"};
  const auto error = test::input_error_of([&] { run(c, "no-such-row"); });
  QVERIFY(error);
  QCOMPARE(q(error->where()), QStringLiteral("probe.rows"));
  QVERIFY2(q(error->message()).contains("past the dataset's 40 rows"), error->what());
}

void TstAttentionCapture::recomputedMapsMatchTheStoredOnes() {
  // The last snapshot was captured from the weights the final checkpoint holds.
  auto c = test::small_run_config("pairs");
  c.train.max_steps = 6;
  c.probe.text = {"Count 4: 5 6"};
  c.probe.attention_every = 3;
  QCOMPARE(run(c, "recomputed").status, RunStatus::kCompleted);
  auto store = ProjectStore::open(project_);
  const int64_t id = store->find_run("recomputed")->id;
  const auto stored = store->attention_maps(id, 0, 6);
  const auto computed = compute_attention(project_, "recomputed", 0, /*tuned=*/true);
  QCOMPARE(computed.snapshot.step, int64_t{6});
  QCOMPARE(computed.tokens, store->attention_probes(id)[0].tokens);
  QCOMPARE(q(computed.description), QStringLiteral("run 'recomputed' at step 6, adapters on"));
  const auto records = to_map_records(computed.snapshot, id);
  QCOMPARE(records.size(), stored.size());
  for (size_t l = 0; l < stored.size(); ++l) {
    QCOMPARE(records[l].size, stored[l].size);
    QVERIFY(largest_difference(layer_maps(records[l]), layer_maps(stored[l])) < 1e-3f);
    // Recomputed snapshots carry their previews too.
    QCOMPARE(records[l].preview_size, stored[l].preview_size);
    const auto [preview, pooled] = preview_and_pooled(records[l]);
    QCOMPARE(largest_difference(preview, pooled), 0.0f);
  }
}

void TstAttentionCapture::adapterOffIsTheBase() {
  // LoRA B starts at zero: at step 0 the tuned model is the base, so the adapters-off maps of the
  // final checkpoint are the step-0 snapshot, and the adapters-on ones are not.
  auto store = ProjectStore::open(project_);
  const int64_t id = store->find_run("captured")->id;
  const auto at_start = store->attention_maps(id, 1, 0);
  const auto off = to_map_records(compute_attention(project_, "captured", 1, false).snapshot, id);
  const auto on = to_map_records(compute_attention(project_, "captured", 1, true).snapshot, id);
  QCOMPARE(off.size(), at_start.size());
  float moved = 0;
  for (size_t l = 0; l < off.size(); ++l) {
    QVERIFY(largest_difference(layer_maps(off[l]), layer_maps(at_start[l])) < 1e-3f);
    moved = std::max(moved, largest_difference(layer_maps(on[l]), layer_maps(at_start[l])));
  }
  QVERIFY2(moved > 1e-2f, qPrintable(QString::number(moved)));
  const auto off_text = compute_attention(project_, "captured", 1, false);
  QCOMPARE(q(off_text.description), QStringLiteral("run 'captured' at step 25, adapters off"));
}

void TstAttentionCapture::adapterChangesOnlyWhatItTargets() {
  // The first layer's attention weights depend on its q and k projections alone (its input is the
  // embedding): adapters on the MLP or on v_proj leave them as they were, adapters on q_proj do
  // not. Deeper layers see the changed hidden states either way.
  struct Case {
    const char* name;
    std::vector<std::string> targets;
    bool first_layer_changes;
  };
  for (const Case& k : {Case{"mlp", {"gate_proj", "up_proj", "down_proj"}, false},
                        Case{"values", {"v_proj"}, false}, Case{"queries", {"q_proj"}, true}}) {
    auto c = test::small_run_config("pairs");
    c.train.max_steps = 8;
    c.lora.targets = k.targets;
    c.probe.text = {"Count 2: 3 4"};
    c.probe.attention_every = 8;
    QCOMPARE(run(c, std::string("targets-") + k.name).status, RunStatus::kCompleted);
    const std::string name = std::string("targets-") + k.name;
    const auto on = to_map_records(compute_attention(project_, name, 0, true).snapshot, 0);
    const auto off = to_map_records(compute_attention(project_, name, 0, false).snapshot, 0);
    QCOMPARE(on.size(), size_t{2});
    const float first = largest_difference(layer_maps(on[0]), layer_maps(off[0]));
    const float second = largest_difference(layer_maps(on[1]), layer_maps(off[1]));
    QVERIFY2(k.first_layer_changes ? first > 1e-3f : first == 0.0f,
             qPrintable(QString("%1: layer 0 changed by %2").arg(k.name).arg(first)));
    QVERIFY2(second > 1e-3f,
             qPrintable(QString("%1: layer 1 changed by %2").arg(k.name).arg(second)));
  }
}

void TstAttentionCapture::fullMapOfALongProbe() {
  // The stored map of the 600-token probe is pooled to 512; recomputed with max_side 0 it is whole,
  // and pooling it gives the stored one.
  auto store = ProjectStore::open(project_);
  const int64_t id = store->find_run("long")->id;
  const auto stored = store->attention_maps(id, 0, 2);
  const auto full = compute_attention(project_, "long", 0, true, /*max_side=*/0);
  QCOMPARE(full.snapshot.size, 600);
  QCOMPARE(full.snapshot.length, 600);
  const auto records = to_map_records(full.snapshot, id);
  const auto maps = layer_maps(records[0]);
  const size_t t = 600;
  double row = 0;
  for (size_t j = 0; j < t; ++j) row += maps[(t - 1) * t + j];  // the last query of head 0
  QVERIFY(std::fabs(row - 1.0) < 5e-3);
  int64_t n = 0;
  const auto pooled = max_pool(maps.data(), int64_t(t), 512, &n);
  QCOMPARE(n, int64_t{512});
  const auto stored_maps = layer_maps(stored[0]);
  const std::vector<float> head0(stored_maps.begin(), stored_maps.begin() + 512 * 512);
  QVERIFY(largest_difference(pooled, head0) < 1e-3f);
}

void TstAttentionCapture::recomputeRefusals() {
  auto error = test::input_error_of([&] { compute_attention(project_, "captured", 2, true); });
  QVERIFY(error);
  QCOMPARE(q(error->message()), QStringLiteral("has no attention probe 2 (it has 2)"));
  error = test::input_error_of([&] { compute_attention(project_, "nobody", 0, true); });
  QVERIFY(error);
  QCOMPARE(q(error->message()), QStringLiteral("no run named 'nobody'"));
  error = test::input_error_of([&] { compute_attention(project_, "captured", 0, true, -1); });
  QVERIFY(error);
  QCOMPARE(q(error->where()), QStringLiteral("max_side"));
}

QTEST_GUILESS_MAIN(TstAttentionCapture)
#include "tst_attention_capture.moc"
