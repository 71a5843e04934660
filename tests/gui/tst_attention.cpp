// The Attention page against a short LoRA run trained through the window with captures every few
// steps: the run and probe listed, one slider position per stored step, the heatmap's cells equal
// to the stored maps unpacked independently, the head mean, the thumbnail grid, the entropy
// heatmap, and a damaged stored map shown as an error instead of a crash; thumbnails on one colour
// scale (a synthetic run whose heads peak differently); the adapter on / off view recomputed from
// the run's checkpoint, and its message for a run without one.
// DEEPTUNE_ATTENTION_SHOT=FILE grabs the page into FILE (the README's picture);
// DEEPTUNE_ATTENTION_ADAPTER_SHOT=FILE, with it, the adapter on / off view as well.
#include <sqlite3.h>

#include <QComboBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QSlider>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <cmath>

#include "attentionpage.h"
#include "deeptune/attention_map.h"
#include "deeptune/project.h"
#include "deeptune/store.h"
#include "heatmapplot.h"
#include "projectsession.h"
#include "window_support.h"

class TstAttention : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void listsRunAndProbe();
  void sliderFollowsStoredSteps();
  void heatmapShowsStoredMaps();
  void headMeanIsMeanOfHeads();
  void differenceOfTwoSteps();
  void gridAndEntropyCoverEveryHead();
  void playAnimatesSteps();
  void damagedMapShowsError();
  void longProbeIsPooled();
  void thumbnailsShareOneScale();
  void previewsDrawLikeWholeSteps();
  void adapterOnOff();
  void adapterWithoutCheckpointSaysWhy();
  void screenshot();

 private:
  AttentionPage* page() const { return m_window->attentionPage(); }
  // The stored map of one head, unpacked here (not through the page's reader).
  std::vector<float> storedHead(int64_t step, int layer, int head, int* n) const;
  bool showStep(int position);
  // A run of one layer, two heads, six tokens and one step (no checkpoint): head 0 the identity
  // (largest weight 1), head 1 uniform rows (1/6). Returns its id.
  qint64 writeTwoHeadRun();

  QTemporaryDir m_dir;
  std::unique_ptr<MainWindow> m_window;
  std::string m_project;
  qint64 m_run = 0;
  std::vector<int64_t> m_steps;
};

void TstAttention::initTestCase() {
  QVERIFY(m_dir.isValid());
  m_window = deeptune::test::openWindow(m_dir);
  m_window->resize(1280, 820);
  m_project = m_dir.filePath(QStringLiteral("attention.dtproj")).toStdString();
  {
    auto store = deeptune::ProjectStore::create(m_project, "attention");
    deeptune::DatasetSource source;
    source.path = deeptune::test::writeSample(m_dir.path(), "dates.jsonl").toStdString();
    source.name = "dates";
    deeptune::register_dataset(*store, source);
  }
  QVERIFY(m_window->openProject(QString::fromStdString(m_project)));
  m_window->showPage(MainWindow::kAttention);
  auto config = deeptune::test::shortRunConfig("dates", 12);
  config["probe"]["attention_every"] = 5;
  config["lora"]["targets"] = {"q_proj", "v_proj"};  // the adapter view compares these on / off
  config["probe"]["text"] = {"On 3 March 2021 the meeting was moved to the 5th."};
  QSignalSpy captured(m_window->runController(), &RunController::attentionCaptured);
  QCOMPARE(deeptune::test::trainThroughWindow(*m_window, config, QStringLiteral("probed")),
           deeptune::RunStatus::kCompleted);
  m_run = m_window->runController()->currentRunId();
  auto store = deeptune::ProjectStore::open(m_project);
  m_steps = store->attention_steps(m_run, 0);
  QVERIFY(m_steps.size() >= 3);  // 0, 5, 10 and the last (11 or 12)
  // Every capture reached the window, and the page (never told which run) follows the live one
  // to its last step.
  QCOMPARE(captured.size(), qsizetype(m_steps.size()));
  QCOMPARE(captured.last().at(1).value<deeptune::AttentionSnapshot>().step, m_steps.back());
  QTRY_COMPARE_WITH_TIMEOUT(page()->displayedRunId(), m_run, 20000);
  QTRY_COMPARE_WITH_TIMEOUT(page()->shownStep(), m_steps.back(), 20000);
  QCOMPARE(page()->steps().size(), qsizetype(m_steps.size()));
  // Shown live while training; read back from the store once more so that the index is whole.
  QSignalSpy shown(page(), &AttentionPage::stepShown);
  page()->showRun(m_run, 0);
  QVERIFY(shown.wait(20000));
}

std::vector<float> TstAttention::storedHead(int64_t step, int layer, int head, int* n) const {
  auto store = deeptune::ProjectStore::open(m_project);
  for (const auto& r : store->attention_maps(m_run, 0, step)) {
    if (r.layer != layer) continue;
    *n = r.size;
    const size_t cells = size_t(r.size) * r.size;
    const auto all = deeptune::unpack_maps(r.data, cells * r.heads, "test");
    return {all.begin() + head * cells, all.begin() + (head + 1) * cells};
  }
  return {};
}

bool TstAttention::showStep(int position) {
  if (page()->stepSlider()->value() == position && page()->shownStep() == m_steps[position])
    return true;
  QSignalSpy shown(page(), &AttentionPage::stepShown);
  page()->stepSlider()->setValue(position);
  if (page()->shownStep() != m_steps[position] && !shown.wait(20000)) return false;
  return page()->shownStep() == m_steps[position];
}

void TstAttention::listsRunAndProbe() {
  QComboBox* runs = page()->runChooser();
  QVERIFY(runs->findData(m_run) >= 0);
  QCOMPARE(runs->currentData().toLongLong(), m_run);
  QCOMPARE(page()->probeChooser()->count(), 1);
  QVERIFY(page()->probeChooser()->itemText(0).startsWith(QStringLiteral("text")));
  QVERIFY(page()->message().isEmpty());
}

void TstAttention::sliderFollowsStoredSteps() {
  QCOMPARE(page()->steps().size(), qsizetype(m_steps.size()));
  for (size_t i = 0; i < m_steps.size(); ++i) QCOMPARE(page()->steps()[i], m_steps[i]);
  QCOMPARE(page()->stepSlider()->minimum(), 0);
  QCOMPARE(page()->stepSlider()->maximum(), int(m_steps.size()) - 1);
  QVERIFY(page()->playButton()->isEnabled());
}

void TstAttention::heatmapShowsStoredMaps() {
  page()->setView(AttentionPage::kOneHead);
  const int layer = 1, head = 1;
  page()->selectHead(layer, head);
  QCOMPARE(page()->layer(), layer);
  QCOMPARE(page()->head(), head);
  int n = 0;
  QVERIFY(showStep(0));
  const auto first = storedHead(m_steps.front(), layer, head, &n);
  QVERIFY(n > 2);
  QCOMPARE(page()->heatmap()->rows(), n);
  QCOMPARE(page()->heatmap()->columns(), n);
  // Row 0 of a causal map is all on key 0; a lower row spreads. Compare such a cell.
  const int row = n - 1, col = n / 2;
  QCOMPARE(float(page()->heatmap()->valueAt(0, 0)), first[0]);
  QCOMPARE(float(page()->heatmap()->valueAt(row, col)), first[size_t(row) * n + col]);
  QCOMPARE(page()->heatmap()->valueAt(0, 1), 0.0);  // causal
  const double before = page()->heatmap()->valueAt(row, col);
  // The hover text names both tokens (the probe's text starts "<bos>On 3 ...") and the weight.
  const QString tip = page()->heatmap()->cellToolTip(2, 1);
  QVERIFY2(tip.startsWith(QStringLiteral("query 'n' (2) -> key 'O' (1): ")), qPrintable(tip));
  QVERIFY(tip.endsWith(QString::number(first[2 * n + 1], 'f', 3)));

  const int last = int(m_steps.size()) - 1;
  QVERIFY(showStep(last));
  const auto later = storedHead(m_steps.back(), layer, head, &n);
  QCOMPARE(float(page()->heatmap()->valueAt(row, col)), later[size_t(row) * n + col]);
  // LoRA on q/v at lr 1e-3 moves the weights: the cell is not what step 0 showed.
  double changed = 0;
  for (int r = 0; r < n; ++r)
    for (int c = 0; c <= r; ++c)
      changed =
          std::max(changed, std::abs(double(later[size_t(r) * n + c] - first[size_t(r) * n + c])));
  QVERIFY(changed > 0);
  Q_UNUSED(before);
}

void TstAttention::headMeanIsMeanOfHeads() {
  QVERIFY(showStep(0));
  page()->setView(AttentionPage::kHeadMean);
  QCOMPARE(page()->shownStep(), m_steps[0]);
  auto store = deeptune::ProjectStore::open(m_project);
  const int layer = page()->layer();
  int heads = 0, n = 0;
  for (const auto& r : store->attention_maps(m_run, 0, m_steps[0]))
    if (r.layer == layer) heads = r.heads;
  QVERIFY(heads > 1);
  const int row = 3, col = 1;
  double sum = 0;
  for (int h = 0; h < heads; ++h)
    sum += storedHead(m_steps[0], layer, h, &n)[size_t(row) * n + col];
  QVERIFY(std::abs(page()->heatmap()->valueAt(row, col) - sum / heads) < 1e-6);
  page()->setView(AttentionPage::kOneHead);
}

void TstAttention::differenceOfTwoSteps() {
  const int last = int(m_steps.size()) - 1;
  QVERIFY(showStep(last));
  QSignalSpy shown(page(), &AttentionPage::stepShown);
  page()->setComparedStep(m_steps[0]);
  page()->setView(AttentionPage::kDifference);
  if (shown.isEmpty()) QVERIFY(shown.wait(20000));
  int n = 0;
  const auto a = storedHead(m_steps[last], page()->layer(), page()->head(), &n);
  const auto b = storedHead(m_steps[0], page()->layer(), page()->head(), &n);
  const int row = n - 1, col = 2;
  QVERIFY(std::abs(page()->heatmap()->valueAt(row, col) -
                   (a[size_t(row) * n + col] - b[size_t(row) * n + col])) < 1e-6);
  page()->setView(AttentionPage::kOneHead);
}

void TstAttention::gridAndEntropyCoverEveryHead() {
  auto store = deeptune::ProjectStore::open(m_project);
  const auto maps = store->attention_maps(m_run, 0, m_steps[0]);
  QVERIFY(!maps.empty());
  const int layers = int(maps.size()), heads = maps.front().heads;
  QTableWidget* grid = page()->headGrid();
  QCOMPARE(grid->rowCount(), layers);
  QCOMPARE(grid->columnCount(), heads);
  QVERIFY(!grid->item(layers - 1, heads - 1)->data(Qt::DecorationRole).isNull());
  QCOMPARE(page()->statsTable()->rowCount(), layers * heads);
  QCOMPARE(page()->entropyPlot()->rows(), layers * heads);
  QCOMPARE(page()->entropyPlot()->columns(), int(m_steps.size()));
  // The entropy of the last head at the last step, as stored.
  const auto stats = AttentionReader::parseStats(
      store->attention_maps(m_run, 0, m_steps.back()).back().stats_json);
  QVERIFY(std::abs(page()->entropyPlot()->valueAt(layers * heads - 1, int(m_steps.size()) - 1) -
                   stats.back().entropy) < 1e-5);
  // Clicking a cell of the entropy heatmap selects its head and step.
  Q_EMIT page()->entropyPlot()->cellClicked(heads + 1, 1);
  QCOMPARE(page()->layer(), 1);
  QCOMPARE(page()->head(), 1);
  QCOMPARE(page()->stepSlider()->value(), 1);
  QTRY_COMPARE_WITH_TIMEOUT(page()->shownStep(), m_steps[1], 20000);
  // Clicking a thumbnail selects its head.
  Q_EMIT grid->cellClicked(0, heads - 1);
  QCOMPARE(page()->layer(), 0);
  QCOMPARE(page()->head(), heads - 1);
}

void TstAttention::playAnimatesSteps() {
  QVERIFY(showStep(0));
  QSignalSpy shown(page(), &AttentionPage::stepShown);
  page()->playButton()->click();
  QVERIFY(page()->playButton()->isChecked());
  QTRY_VERIFY_WITH_TIMEOUT(page()->stepSlider()->value() >= 2, 5000);
  page()->playButton()->click();
  QVERIFY(!page()->playButton()->isChecked());
  QVERIFY(shown.size() >= 2);
  const int stopped = page()->stepSlider()->value();
  QTest::qWait(1000);
  QCOMPARE(page()->stepSlider()->value(), stopped);
}

void TstAttention::damagedMapShowsError() {
  const int64_t step = m_steps[1];
  {
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open(m_project.c_str(), &db), SQLITE_OK);
    const std::string sql =
        "UPDATE attention_maps SET data = x'00112233445566778899' WHERE run_id = " +
        std::to_string(m_run) + " AND step = " + std::to_string(step) + " AND layer = 0";
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    const QString message = error ? QString::fromUtf8(error) : QString();
    sqlite3_free(error);
    QCOMPARE(sqlite3_changes(db), 1);
    sqlite3_close(db);
    QVERIFY2(rc == SQLITE_OK, qPrintable(message));
  }
  QSignalSpy shown(page(), &AttentionPage::stepShown);
  page()->showRun(m_run, 0);  // forget the cache: read again
  QVERIFY(shown.wait(20000));
  QVERIFY(page()->message().isEmpty());  // the last step is fine
  page()->selectHead(0, 0);
  QVERIFY(showStep(1));
  QVERIFY(page()->message().contains(QStringLiteral("step %1").arg(step)));
  QVERIFY(page()->message().contains(QStringLiteral("layer 0")));
  QCOMPARE(page()->heatmap()->rows(), 0);  // nothing drawn for the bad layer
  page()->selectHead(1, 0);  // another layer of the same step still draws, once it is read
  QTRY_VERIFY_WITH_TIMEOUT(page()->heatmap()->rows() > 0, 20000);
  QVERIFY(page()->message().contains(QStringLiteral("layer 0")));  // still said
  QVERIFY(showStep(0));
  QVERIFY(page()->message().isEmpty());
}

void TstAttention::longProbeIsPooled() {
  // 700 characters: the tiny preset's tokenizer spells them as about as many tokens, beyond the
  // 512 the store keeps, so the maps come max-pooled.
  QString text;
  while (text.size() < 700) text += QStringLiteral("The meeting on 3 March 2021 was moved. ");
  auto config = deeptune::test::shortRunConfig("dates", 2);
  config["probe"]["attention_every"] = 1;
  config["data"]["max_length"] = 640;  // probes are cut to it like examples
  config["probe"]["text"] = {text.toStdString()};
  QCOMPARE(deeptune::test::trainThroughWindow(*m_window, config, QStringLiteral("long")),
           deeptune::RunStatus::kCompleted);
  const qint64 run = m_window->runController()->currentRunId();
  auto store = deeptune::ProjectStore::open(m_project);
  const auto steps = store->attention_steps(run, 0);
  QVERIFY(!steps.empty());
  const auto maps = store->attention_maps(run, 0, steps.front());
  QVERIFY(!maps.empty());
  QVERIFY2(maps.front().length > 512, qPrintable(QString::number(maps.front().length)));
  QCOMPARE(maps.front().size, 512);
  QSignalSpy shown(page(), &AttentionPage::stepShown);
  page()->showRun(run, 0);
  QVERIFY(shown.wait(20000));
  QCOMPARE(page()->heatmap()->rows(), 512);
  QVERIFY2(page()->heatmapNote().contains(QStringLiteral("max-pooled to 512 x 512")),
           qPrintable(page()->heatmapNote()));
  QVERIFY(page()->heatmap()->columnLabelStep() > 1);  // 512 labels do not fit: every k-th
}

qint64 TstAttention::writeTwoHeadRun() {
  auto store = deeptune::ProjectStore::open(m_project);
  const int64_t id = deeptune::test::createProbedRun(
      *store, "two heads " + std::to_string(store->runs().size()), {"a", "b", "c", "d", "e", "f"});
  const int n = 6;
  std::vector<float> maps(2 * n * n, 0.0f);
  for (int i = 0; i < n; ++i) {
    maps[size_t(i) * n + i] = 1.0f;
    for (int j = 0; j < n; ++j) maps[size_t(n * n + i * n + j)] = 1.0f / n;
  }
  deeptune::AttentionMapRecord r;
  r.run_id = id;
  r.heads = 2;
  r.length = r.size = n;
  r.codec = deeptune::kMapsCodec;
  r.data = deeptune::pack_maps(maps);
  r.stats_json = "[[0,0,0,1],[1.79,0.17,0.17,0.17]]";
  store->append_attention_maps({r});
  return id;
}

void TstAttention::thumbnailsShareOneScale() {
  const qint64 run = writeTwoHeadRun();
  QSignalSpy shown(page(), &AttentionPage::stepShown);
  page()->setView(AttentionPage::kOneHead);
  page()->showRun(run, 0);
  QVERIFY(shown.wait(20000));
  QCOMPARE(page()->thumbnailRange(), 1.0f);  // the largest weight of either head
  // Head 1 (uniform 1/6) is drawn on 0..1, not stretched to its own maximum.
  const float sixth = deeptune::from_fp16(deeptune::to_fp16({1.0f / 6}))[0];
  const std::vector<float> uniform(36, sixth);
  const QImage drawn =
      page()->headGrid()->item(0, 1)->data(Qt::DecorationRole).value<QPixmap>().toImage();
  QVERIFY(!drawn.isNull());
  const QPoint centre(drawn.width() / 2, drawn.height() / 2);
  const QImage shared = HeatmapPlot::thumbnail(uniform.data(), 6, 1.0f, drawn.width());
  const QImage own = HeatmapPlot::thumbnail(uniform.data(), 6, sixth, drawn.width());
  QCOMPARE(QColor(drawn.pixel(centre)), QColor(shared.pixel(centre)));
  QVERIFY(QColor(drawn.pixel(centre)) != QColor(own.pixel(centre)));
  // Head 0's diagonal is at the top of the same scale.
  const QImage identity =
      page()->headGrid()->item(0, 0)->data(Qt::DecorationRole).value<QPixmap>().toImage();
  QCOMPARE(QColor(identity.pixel(1, 1)), QColor(own.pixel(centre)));
  // The big heatmap keeps its own scale: head 1 alone spans its own values.
  page()->selectHead(0, 1);
  QCOMPARE(float(page()->heatmap()->valueAt(2, 3)), sixth);
}

void TstAttention::previewsDrawLikeWholeSteps() {
  // The same maps (2 layers, 2 heads, 100 causal tokens: pooled to 44 x 44 thumbnails) stored
  // with previews, as captured since schema version 5, and without, as before: the grid of the
  // first comes from the previews and the shown layer alone, of the second from every map
  // unpacked; both draw the same thumbnails on the same scale, and the same heatmap.
  const int n = 100, heads = 2;
  std::vector<float> maps(size_t(heads) * n * n, 0.0f);
  for (int h = 0; h < heads; ++h)
    for (int i = 0; i < n; ++i)
      for (int j = 0; j <= i; ++j)
        maps[(size_t(h) * n + i) * n + j] = float((i * 7 + j * 3 + h) % 11 + 1) / (11.0f * (i + 1));
  std::vector<std::string> tokens;
  for (int i = 0; i < n; ++i) tokens.push_back("t" + std::to_string(i));
  QList<qint64> runs;
  for (bool previews : {true, false}) {
    auto store = deeptune::ProjectStore::open(m_project);
    const int64_t id = deeptune::test::createProbedRun(
        *store, "previews " + std::to_string(store->runs().size()), tokens);
    std::vector<deeptune::AttentionMapRecord> layers;
    for (int layer = 0; layer < 2; ++layer) {
      deeptune::AttentionMapRecord r;
      r.run_id = id;
      r.layer = layer;
      r.heads = heads;
      r.length = r.size = n;
      r.codec = deeptune::kMapsCodec;
      r.data = deeptune::pack_maps(maps);
      r.stats_json = "[[0,0,0,1],[1,0,0,1]]";
      if (previews) {
        int64_t side = 0;
        r.preview = deeptune::pack_preview(maps.data(), heads, n, deeptune::kPreviewSide, &side);
        r.preview_size = int(side);
      }
      layers.push_back(r);
    }
    store->append_attention_maps(layers);
    QCOMPARE(store->attention_previews(id, 0, 0).size(), size_t(previews ? 2 : 0));
    runs.append(id);
  }
  page()->setView(AttentionPage::kOneHead);
  page()->selectHead(1, 1);
  QList<QImage> drawn[2];
  float range[2] = {0, 0};
  double cell[2] = {0, 0};
  for (int k = 0; k < 2; ++k) {
    QSignalSpy shown(page(), &AttentionPage::stepShown);
    page()->showRun(runs[k], 0);
    QVERIFY(shown.wait(20000));
    QCOMPARE(page()->headGrid()->rowCount(), 2);
    for (int l = 0; l < 2; ++l)
      for (int h = 0; h < heads; ++h)
        drawn[k].append(
            page()->headGrid()->item(l, h)->data(Qt::DecorationRole).value<QPixmap>().toImage());
    range[k] = page()->thumbnailRange();
    cell[k] = page()->heatmap()->valueAt(n - 1, 5);
    QCOMPARE(page()->heatmap()->rows(), n);
  }
  QVERIFY(range[0] > 0);
  QCOMPARE(range[0], range[1]);
  QCOMPARE(cell[0], cell[1]);
  for (int i = 0; i < drawn[0].size(); ++i) {
    QVERIFY(!drawn[0][i].isNull());
    QCOMPARE(drawn[0][i], drawn[1][i]);
  }
  // Layer 0 of the run with previews is read when one of its heads is shown.
  page()->showRun(runs[0], 0);
  QTRY_VERIFY_WITH_TIMEOUT(page()->heatmap()->rows() == n, 20000);
  page()->selectHead(0, 0);
  QTRY_VERIFY_WITH_TIMEOUT(
      page()->heatmapNote().startsWith(QStringLiteral("Step 0, layer 0, head 0 ")), 20000);
  QCOMPARE(float(page()->heatmap()->valueAt(n - 1, 5)),
           deeptune::from_fp16(deeptune::to_fp16({maps[size_t(n - 1) * n + 5]}))[0]);
}

void TstAttention::adapterWithoutCheckpointSaysWhy() {
  const qint64 run = writeTwoHeadRun();  // never trained: no checkpoint
  QSignalSpy shown(page(), &AttentionPage::stepShown);
  page()->setView(AttentionPage::kOneHead);
  page()->showRun(run, 0);
  QVERIFY(shown.wait(20000));
  QSignalSpy adapter(page(), &AttentionPage::adapterShown);
  page()->setView(AttentionPage::kAdapter);
  QVERIFY(adapter.wait(60000));
  QCOMPARE(adapter.last().at(0).toLongLong(), -1);
  QVERIFY2(page()->message().contains(QStringLiteral("checkpoint")), qPrintable(page()->message()));
  QCOMPARE(page()->heatmap()->rows(), 0);
  page()->setView(AttentionPage::kOneHead);
}

void TstAttention::adapterOnOff() {
  QSignalSpy shown(page(), &AttentionPage::stepShown);
  page()->setView(AttentionPage::kOneHead);
  page()->showRun(m_run, 0);
  QVERIFY(shown.wait(20000));
  const int last = int(m_steps.size()) - 1;
  QVERIFY(showStep(last));
  page()->selectHead(0, 1);
  QSignalSpy adapter(page(), &AttentionPage::adapterShown);
  page()->setView(AttentionPage::kAdapter);
  QVERIFY(adapter.wait(120000));  // loads the model and runs the probe twice
  QVERIFY2(page()->message().isEmpty(), qPrintable(page()->message()));
  const qint64 checkpoint = adapter.last().at(0).toLongLong();
  QVERIFY(checkpoint > 0 && checkpoint <= m_steps.back());
  QVERIFY2(page()->heatmapNote().contains(QStringLiteral("Checkpoint of step %1").arg(checkpoint)),
           qPrintable(page()->heatmapNote()));
  const AttentionStep* tuned = page()->adapterStep(true);
  const AttentionStep* base = page()->adapterStep(false);
  QVERIFY(tuned && base);
  QCOMPARE(tuned->step, checkpoint);
  QCOMPARE(base->size, tuned->size);
  const int n = tuned->size, heads = tuned->heads;
  QVERIFY(n > 2 && n == tuned->length);  // not pooled: rows are whole softmax rows
  const qsizetype cells = qsizetype(n) * n;
  QCOMPARE(tuned->maps[0].size(), cells * heads);
  QCOMPARE(base->maps[0].size(), cells * heads);
  // Both are attention: every row of every head of layer 0 sums to 1 (fp16 storage: ~1e-3).
  for (const AttentionStep* s : {tuned, base})
    for (int h = 0; h < heads; ++h) {
      const QVector<float> map = s->headMap(0, h);
      QCOMPARE(map.size(), cells);
      for (int r = 0; r < n; ++r) {
        double sum = 0;
        for (int c = 0; c < n; ++c) sum += map[qsizetype(r) * n + c];
        QVERIFY2(std::abs(sum - 1.0) < 5e-3, qPrintable(QString::number(sum)));
      }
    }
  // The adapters on q (and v) change layer 0's attention somewhere.
  double changed = 0;
  for (int h = 0; h < heads; ++h) {
    const QVector<float> on = tuned->headMap(0, h), off = base->headMap(0, h);
    for (qsizetype i = 0; i < cells; ++i)
      changed = std::max(changed, double(std::abs(on[i] - off[i])));
  }
  QVERIFY2(changed > 1e-4, qPrintable(QString::number(changed)));
  // The heatmap is their difference, diverging around 0 (the page shows head 1 here).
  const int row = n - 1, col = 1;
  QVERIFY(std::abs(page()->heatmap()->valueAt(row, col) -
                   (tuned->headMap(0, 1)[qsizetype(row) * n + col] -
                    base->headMap(0, 1)[qsizetype(row) * n + col])) < 1e-6);
  // Computed once per (run, probe, step): switching away and back draws at once.
  page()->setView(AttentionPage::kOneHead);
  adapter.clear();
  page()->setView(AttentionPage::kAdapter);
  QCOMPARE(adapter.size(), 1);
  page()->setView(AttentionPage::kOneHead);
}

void TstAttention::screenshot() {
  const QString file = qEnvironmentVariable("DEEPTUNE_ATTENTION_SHOT");
  if (file.isEmpty()) QSKIP("DEEPTUNE_ATTENTION_SHOT not set");
  QSignalSpy shown(page(), &AttentionPage::stepShown);
  page()->showRun(m_run, 0);
  QVERIFY(shown.wait(20000));
  page()->selectHead(1, 2);
  QVERIFY(showStep(int(m_steps.size()) - 1));
  QTest::qWait(300);
  QVERIFY(m_window->grab().save(file));
  // DEEPTUNE_ATTENTION_ADAPTER_SHOT=FILE: the adapter on / off view of the same head too.
  const QString adapterFile = qEnvironmentVariable("DEEPTUNE_ATTENTION_ADAPTER_SHOT");
  if (adapterFile.isEmpty()) return;
  QSignalSpy adapter(page(), &AttentionPage::adapterShown);
  page()->setView(AttentionPage::kAdapter);
  if (adapter.isEmpty()) QVERIFY(adapter.wait(120000));
  QTest::qWait(300);
  QVERIFY(m_window->grab().save(adapterFile));
  page()->setView(AttentionPage::kOneHead);
}

QTEST_MAIN(TstAttention)
#include "tst_attention.moc"
