// Attention captured while training (issue 11): probes from texts and dataset rows are run through
// the reference attention path at step 0, every probe.attention_every steps and at the last step;
// every layer and head is stored (causal rows summing to one, statistics that match the stored
// map), long probes are max-pooled to 512, capturing never changes the run's numbers, and a probe
// row the dataset does not have is refused by name.
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>

#include "deeptune/attention_map.h"
#include "deeptune/session.h"
#include "deeptune/store.h"
#include "support/test_support.h"

using namespace deeptune;
using deeptune::test::q;

class TstAttentionCapture : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void snapshotsAreStoredAndExact();
  void captureLeavesTheRunUnchanged();
  void longProbesAreMaxPooled();
  void missingRowIsRefused();

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
      QCOMPARE(l.size, l.length);  // short: not pooled
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

QTEST_GUILESS_MAIN(TstAttentionCapture)
#include "tst_attention_capture.moc"
