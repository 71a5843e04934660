// The Memory page in a real window: it fills step by step while a LoRA run of the tiny preset
// trains, shows stored runs afterwards with the bar's numbers equal to what the project recorded,
// overlays a second run, says so for a run without samples, and draws the forecast of the run's
// config (or one it is given). On the CPU the step's counted peak gives activations a layer of
// their own; runs recorded before the trainer counted it still show as they did, without it.
#include <sqlite3.h>

#include <QComboBox>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <set>

#include "deeptune/project.h"
#include "deeptune/session.h"
#include "deeptune/store.h"
#include "memorybar.h"
#include "memorypage.h"
#include "memorytimeline.h"
#include "projectsession.h"
#include "window_support.h"

namespace {

constexpr int kLiveSteps = 12;

int64_t trainHeadless(const std::string& project, const std::string& name, int steps) {
  const auto config = deeptune::test::shortRunConfig("dates", steps);
  const int64_t id = deeptune::create_run(project, deeptune::RunConfig::from_json(config), name);
  deeptune::RunObserver observer;
  deeptune::RunControl control;
  const auto outcome = deeptune::execute_run(project, id, observer, control);
  return outcome.status == deeptune::RunStatus::kCompleted ? id : 0;
}

// What a run trained before memory was sampled looks like: its other metrics, no memory ones.
// `pattern` (SQL LIKE) picks the metrics that go.
bool dropMemorySamples(const std::string& project, int64_t runId,
                       const std::string& pattern = "memory/%") {
  sqlite3* db = nullptr;
  if (sqlite3_open(project.c_str(), &db) != SQLITE_OK) return false;
  const std::string sql =
      "DELETE FROM metrics WHERE name LIKE '" + pattern + "' AND run_id = " + std::to_string(runId);
  const bool ok = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK &&
                  sqlite3_changes(db) > 0;
  sqlite3_close(db);
  return ok;
}

}  // namespace

class TstMemory : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void emptyWithoutProject();
  void fillsDuringRun();
  void barEqualsRecordedSample();
  void storedRunAndComparison();
  void runWithoutSamplesSaysSo();
  void cpuRunBeforePeakShowsAsBefore();
  void forecastNamesCheckpointing();
  void forecastIsDrawn();
  void cudaBreakdown();
  void screenshot();
  void cleanupTestCase();

 private:
  MemoryPage* page() const { return m_window->memoryPage(); }
  bool show(qint64 runId);

  QTemporaryDir m_dir;
  std::string m_project;
  int64_t m_old = 0;        // trained headless, 6 steps, with samples
  int64_t m_noSamples = 0;  // trained headless, its memory samples removed
  int64_t m_prePeak = 0;    // trained headless, stored as before the CPU's peak was counted
  qint64 m_live = 0;        // trained through the window
  std::unique_ptr<MainWindow> m_window;
};

void TstMemory::initTestCase() {
  QVERIFY(m_dir.isValid());
  m_window = deeptune::test::openWindow(m_dir);
  m_window->showPage(MainWindow::kMemory);
  m_project = m_dir.filePath(QStringLiteral("memory.dtproj")).toStdString();
  {
    auto store = deeptune::ProjectStore::create(m_project, "memory");
    deeptune::DatasetSource source;
    source.path = deeptune::test::writeSample(m_dir.path(), "dates.jsonl").toStdString();
    source.name = "dates";
    deeptune::register_dataset(*store, source);
  }
  m_old = trainHeadless(m_project, "old", 6);
  QVERIFY(m_old != 0);
  m_prePeak = trainHeadless(m_project, "before-peak", 3);
  QVERIFY(m_prePeak != 0);
  for (const char* name : {"memory/peak_allocated", "memory/allocated", "memory/activations"})
    QVERIFY(dropMemorySamples(m_project, m_prePeak, name));
  m_noSamples = trainHeadless(m_project, "before-sampling", 3);  // the newest before the window's
  QVERIFY(m_noSamples != 0);
  QVERIFY(dropMemorySamples(m_project, m_noSamples));
}

void TstMemory::emptyWithoutProject() {
  // The window shows its welcome screen; the page behind it already says why it is empty.
  QVERIFY(page()->emptyText().contains(QStringLiteral("Open a project")));
}

bool TstMemory::show(qint64 runId) {
  QSignalSpy shown(page(), &MemoryPage::historyShown);
  page()->showRun(runId);
  return shown.wait(20000) && page()->displayedRunId() == runId;
}

void TstMemory::fillsDuringRun() {
  QVERIFY(m_window->openProject(QString::fromStdString(m_project)));
  m_window->showPage(MainWindow::kMemory);
  // Opening shows the project's newest run.
  QTRY_COMPARE(page()->displayedRunId(), qint64(m_noSamples));

  std::set<int> counts;  // the timeline's step counts seen while the run trained
  const auto status = deeptune::test::trainThroughWindow(
      *m_window, deeptune::test::shortRunConfig("dates", kLiveSteps), QStringLiteral("live"), [&] {
        QTest::qWait(20);
        if (page()->displayedRunId() == m_window->runController()->currentRunId())
          counts.insert(page()->timeline()->stepCount());
      });
  QCOMPARE(status, deeptune::RunStatus::kCompleted);
  m_live = m_window->runController()->currentRunId();
  QCOMPARE(page()->displayedRunId(), m_live);
  counts.erase(0);
  counts.erase(kLiveSteps);
  // It grew while the run trained, not only once at the end.
  QVERIFY2(counts.size() >= 2,
           qPrintable(QStringLiteral("%1 intermediate counts").arg(counts.size())));
  QTRY_COMPARE(page()->timeline()->stepCount(), kLiveSteps);
  QCOMPARE(page()->timeline()->linePointCount(MemoryPage::kPeakLine), kLiveSteps);
  QVERIFY(page()->emptyText().isEmpty());
  QVERIFY(!page()->isCuda());  // this suite trains on the CPU
  // The CPU counts the step's peak: four categories, activations, the rest of the process.
  QVERIFY(page()->hasCpuPeak());
  QCOMPARE(page()->timeline()->layerCount(), 6);
  for (int i = 0; i < kLiveSteps; ++i)
    QVERIFY2(page()->timeline()->layerValue(4, i) > 0, qPrintable(QString::number(i)));
  QCOMPARE(page()->timeline()->linePointCount(MemoryPage::kAllocatedLine), kLiveSteps);
  QVERIFY(page()->bar()->bytesOf(QStringLiteral("activations")) > 0);
  QVERIFY(page()->timeline()->peakBytes() > 0);
  QVERIFY(page()->timeline()->peakStep() >= 1);
  QVERIFY(page()->timeline()->replotCount() < 4 * kLiveSteps + 10);  // coalesced, not per point
}

void TstMemory::barEqualsRecordedSample() {
  auto store = deeptune::ProjectStore::open(m_project);
  const auto metrics = store->metrics(m_live);
  const auto value = [&](const char* name) -> qint64 {
    const auto it = metrics.find(name);
    if (it == metrics.end() || it->second.empty()) return -1;
    if (it->second.back().first != kLiveSteps) return -2;
    return static_cast<qint64>(it->second.back().second);
  };
  const qint64 optimizer = value("memory/optimizer_state");
  const qint64 trainable = value("memory/trainable_weights");
  const qint64 base = value("memory/base_weights");
  const qint64 resident = value("memory/resident");
  const qint64 peak = value("memory/peak_allocated");
  const qint64 held = base + trainable + optimizer + value("memory/gradients");
  QVERIFY(peak > held);  // activations and temporaries at the step's peak
  QVERIFY(optimizer > 0);
  QVERIFY(trainable > 0);
  QVERIFY(resident > 0);

  // As the live run left it, and again as read back from the project.
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 1) QVERIFY(show(m_live));
    MemoryBar* bar = page()->bar();
    QCOMPARE(bar->bytesOf(QStringLiteral("optimizer_state")), optimizer);
    QCOMPARE(bar->bytesOf(QStringLiteral("trainable_weights")), trainable);
    QCOMPARE(bar->bytesOf(QStringLiteral("base_weights")), base);
    QCOMPARE(bar->bytesOf(QStringLiteral("gradients")), value("memory/gradients"));
    // Activations: the step's counted peak beyond the four categories, as the run stored it.
    QCOMPARE(bar->bytesOf(QStringLiteral("activations")), peak - held);
    QCOMPARE(bar->bytesOf(QStringLiteral("activations")), value("memory/activations"));
    // On the CPU the segments add up to the resident size (the rest is "other (process)").
    qint64 sum = 0;
    for (const auto& s : bar->segments()) sum += s.bytes;
    QCOMPARE(sum, qMax(resident, peak));
    QVERIFY(bar->legendText().contains(QStringLiteral("activations")));
    QVERIFY(bar->headline().contains(QString::number(kLiveSteps)));
    QVERIFY(bar->legendText().contains(QStringLiteral("optimizer state")));
  }
  QCOMPARE(page()->timeline()->stepCount(), kLiveSteps);
}

void TstMemory::storedRunAndComparison() {
  QVERIFY(show(m_old));
  QCOMPARE(page()->timeline()->stepCount(), 6);
  QCOMPARE(page()->runChooser()->currentData().toLongLong(), qint64(m_old));
  QVERIFY(page()->emptyText().isEmpty());

  QSignalSpy compared(page(), &MemoryPage::comparisonShown);
  page()->compareWith(m_live);
  QVERIFY(compared.wait(20000));
  QCOMPARE(page()->timeline()->linePointCount(MemoryPage::kCompareLine), kLiveSteps);
  // The trainer's tensors alone: no remainder layer and no totals, then everything again.
  page()->setCountedOnly(true);
  QCOMPARE(page()->timeline()->layerCount(), 5);  // activations are counted too
  QCOMPARE(page()->timeline()->stepCount(), 6);
  QCOMPARE(page()->timeline()->linePointCount(MemoryPage::kPeakLine), 0);
  page()->setCountedOnly(false);
  QCOMPARE(page()->timeline()->layerCount(), 6);
  QCOMPARE(page()->timeline()->linePointCount(MemoryPage::kPeakLine), 6);
  QCOMPARE(page()->timeline()->linePointCount(MemoryPage::kCompareLine), kLiveSteps);
  // The comparison stays when the displayed run changes.
  QVERIFY(show(m_live));
  QCOMPARE(page()->timeline()->linePointCount(MemoryPage::kCompareLine), kLiveSteps);
  page()->compareWith(0);
  QCOMPARE(page()->timeline()->linePointCount(MemoryPage::kCompareLine), 0);
}

void TstMemory::runWithoutSamplesSaysSo() {
  QVERIFY(show(m_noSamples));
  QVERIFY2(page()->emptyText().contains(QStringLiteral("has no memory samples")),
           qPrintable(page()->emptyText()));
  QCOMPARE(page()->timeline()->stepCount(), 0);
  QVERIFY(show(m_old));
  QVERIFY(page()->emptyText().isEmpty());
}

// Stored before the CPU's peak was counted, and fed live without it: no activations layer, the
// resident size as the per-step curve, as such runs always showed.
void TstMemory::cpuRunBeforePeakShowsAsBefore() {
  QVERIFY(show(m_prePeak));
  QVERIFY(page()->emptyText().isEmpty());
  QVERIFY(!page()->isCuda());
  QVERIFY(!page()->hasCpuPeak());
  QCOMPARE(page()->timeline()->stepCount(), 3);
  QCOMPARE(page()->timeline()->layerCount(), 5);
  QCOMPARE(page()->bar()->bytesOf(QStringLiteral("activations")), qint64(-1));
  QVERIFY(page()->bar()->bytesOf(QStringLiteral("other_process")) > 0);
  QCOMPARE(page()->timeline()->linePointCount(MemoryPage::kAllocatedLine), 0);
  page()->setCountedOnly(true);
  QCOMPARE(page()->timeline()->layerCount(), 4);
  page()->setCountedOnly(false);

  // Synthetic samples as an older worker fed them: weights and resident, no peak.
  QVERIFY(show(m_noSamples));
  constexpr qint64 kMiB = 1 << 20;
  QList<deeptune::StepMetrics> steps;
  for (int i = 1; i <= 5; ++i) {
    deeptune::StepMetrics s;
    s.step = i;
    s.max_steps = 5;
    s.memory.base_weights = 20 * kMiB;
    s.memory.trainable_weights = kMiB;
    s.memory.gradients = kMiB;
    s.memory.optimizer_state = 2 * kMiB;
    s.memory.resident = (300 + i) * kMiB;
    steps << s;
  }
  Q_EMIT m_window->runController()->stepsFinished(m_noSamples, steps);
  QVERIFY(!page()->isCuda());
  QVERIFY(!page()->hasCpuPeak());
  QCOMPARE(page()->timeline()->stepCount(), 5);
  QCOMPARE(page()->timeline()->layerCount(), 5);
  QCOMPARE(page()->bar()->bytesOf(QStringLiteral("activations")), qint64(-1));
  QCOMPARE(page()->bar()->bytesOf(QStringLiteral("other_process")), (305 - 24) * kMiB);
  // The per-step curve is the resident size.
  QCOMPARE(page()->timeline()->linePointCount(MemoryPage::kPeakLine), 5);
  QVERIFY(page()->bar()->headline().contains(QStringLiteral("305 MiB resident")));
  QVERIFY(show(m_noSamples));  // read back: the project holds none of these
}

// The forecast line names the run's recomputation, so two runs compared show what it saved.
void TstMemory::forecastNamesCheckpointing() {
  auto config = deeptune::test::shortRunConfig("dates", 6);
  config["train"]["gradient_checkpointing"] = "selective";
  const int64_t id =
      deeptune::create_run(m_project, deeptune::RunConfig::from_json(config), "selective-forecast");
  m_window->session()->reloadRuns();
  QSignalSpy forecastShown(page(), &MemoryPage::forecastShown);
  page()->showRun(id);
  QTRY_VERIFY_WITH_TIMEOUT(
      !forecastShown.isEmpty() && forecastShown.last().first().toLongLong() == id, 20000);
  QCOMPARE(page()->forecast(),
           deeptune::forecast_memory(deeptune::RunConfig::from_json(config)).peak_bytes);
  QCOMPARE(page()->forecastName(), QStringLiteral("forecast peak (selective recomputation)"));
  QCOMPARE(page()->timeline()->referenceLabel(), page()->forecastName());
  QVERIFY(show(m_old));  // checkpointing off: the plain name
  QCOMPARE(page()->forecastName(), QStringLiteral("forecast peak"));
  QCOMPARE(page()->timeline()->referenceLabel(), QStringLiteral("forecast peak"));
  // Compared with the selective run: its curve's name says so too.
  page()->compareWith(id);
  QCOMPARE(page()->timeline()->lineName(MemoryPage::kCompareLine),
           QStringLiteral("peak of 'selective-forecast' (selective recomputation)"));
  page()->compareWith(0);
}

void TstMemory::forecastIsDrawn() {
  QSignalSpy forecastShown(page(), &MemoryPage::forecastShown);
  QVERIFY(show(m_old));
  MemoryTimeline* t = page()->timeline();
  QTRY_VERIFY(t->peakBytes() > 0);
  // Showing a run forecasts its own config: the line is the engine's forecast of its peak.
  QTRY_VERIFY_WITH_TIMEOUT(
      !forecastShown.isEmpty() && forecastShown.last().first().toLongLong() == m_old, 20000);
  const auto config = deeptune::test::shortRunConfig("dates", 6);
  QCOMPARE(page()->forecast(),
           deeptune::forecast_memory(deeptune::RunConfig::from_json(config)).peak_bytes);
  QVERIFY(page()->forecast() > 0);
  QTRY_VERIFY(t->referenceVisible());
  // On the CPU the forecast is of the curve drawn beside it, the step's counted peak: the same
  // order of size (the forecast assumes every row as long as data.max_length, so it is above).
  const double measured = page()->bar()->bytesOf(QStringLiteral("activations")) +
                          page()->bar()->bytesOf(QStringLiteral("base_weights")) +
                          page()->bar()->bytesOf(QStringLiteral("trainable_weights")) +
                          page()->bar()->bytesOf(QStringLiteral("gradients")) +
                          page()->bar()->bytesOf(QStringLiteral("optimizer_state"));
  QVERIFY(measured > 0);
  QVERIFY2(page()->forecast() > 0.5 * measured && page()->forecast() < 20 * measured,
           qPrintable(QStringLiteral("%1 vs %2").arg(page()->forecast()).arg(measured)));
  page()->setForecast(0);
  QTRY_VERIFY(!t->referenceVisible());
  // Above everything measured: the axis makes room for it.
  const qint64 forecast = static_cast<qint64>(t->peakBytes() * 3);
  page()->setForecast(forecast);
  QCOMPARE(page()->forecast(), forecast);
  QTRY_VERIFY(t->referenceVisible());
  page()->setForecast(0);
  QTRY_VERIFY(!t->referenceVisible());
}

// The CUDA arithmetic, fed as the worker feeds a run (this suite has no GPU): the stack climbs to
// the device's used bytes through activations, the allocator's cache and what lies outside it.
void TstMemory::cudaBreakdown() {
  QVERIFY(show(m_noSamples));
  constexpr qint64 kMiB = 1 << 20;
  QList<deeptune::StepMetrics> steps;
  for (int i = 1; i <= 30; ++i) {
    deeptune::StepMetrics s;
    s.step = i;
    s.max_steps = 30;
    auto& m = s.memory;
    m.base_weights = 2048 * kMiB;
    m.trainable_weights = 40 * kMiB;
    m.gradients = 40 * kMiB;
    m.optimizer_state = 80 * kMiB;
    const qint64 held = m.base_weights + m.trainable_weights + m.gradients + m.optimizer_state;
    m.peak_allocated = held + (3000 + 40 * (i % 7)) * kMiB;
    m.allocated = held + 150 * kMiB;
    m.reserved = m.peak_allocated + 700 * kMiB;
    m.device_used = m.reserved + 520 * kMiB;
    m.device_total = 24LL * 1024 * kMiB;
    steps << s;
  }
  Q_EMIT m_window->runController()->stepsFinished(m_noSamples, steps.mid(0, 10));
  QVERIFY(page()->isCuda());
  QCOMPARE(page()->timeline()->stepCount(), 10);
  Q_EMIT m_window->runController()->stepsFinished(m_noSamples, steps.mid(10));
  QCOMPARE(page()->timeline()->stepCount(), 30);
  QCOMPARE(page()->timeline()->layerCount(), 7);
  QCOMPARE(page()->timeline()->linePointCount(MemoryPage::kReservedLine), 30);
  QCOMPARE(page()->timeline()->linePointCount(MemoryPage::kAllocatedLine), 30);
  const auto& last = steps.last().memory;
  MemoryBar* bar = page()->bar();
  QCOMPARE(bar->bytesOf(QStringLiteral("activations")), last.activations());
  QCOMPARE(bar->bytesOf(QStringLiteral("allocator_cache")), 700 * kMiB);
  QCOMPARE(bar->bytesOf(QStringLiteral("outside_torch")), 520 * kMiB);
  QCOMPARE(bar->capacity(), last.device_total);
  qint64 sum = 0;
  for (const auto& s : bar->segments()) sum += s.bytes;
  QCOMPARE(sum, last.device_used);
  // The peak is the step whose stack is highest (i % 7 == 6: the first is step 6).
  QCOMPARE(page()->timeline()->peakStep(), 6.0);
  QVERIFY(bar->headline().contains(QStringLiteral("24.0 GiB")));
  const QString file = qEnvironmentVariable("DEEPTUNE_MEMORY_SHOT");
  if (!file.isEmpty()) {
    QTest::qWait(300);
    QVERIFY(page()->grab().save(
        QString(file).replace(QStringLiteral(".png"), QStringLiteral("-cuda.png"))));
  }
  QVERIFY(show(m_noSamples));  // read back: the project holds none of these
  QVERIFY(!page()->emptyText().isEmpty());
}

// DEEPTUNE_MEMORY_SHOT=FILE: a longer run compared with the short one, grabbed into FILE (the
// README's picture); skipped otherwise.
void TstMemory::screenshot() {
  const QString file = qEnvironmentVariable("DEEPTUNE_MEMORY_SHOT");
  if (file.isEmpty()) QSKIP("DEEPTUNE_MEMORY_SHOT not set");
  auto config = deeptune::test::shortRunConfig("dates", 80);
  config["lora"]["r"] = 64;
  config["lora"]["targets"] = {"q_proj", "k_proj", "v_proj", "o_proj"};
  QCOMPARE(deeptune::test::trainThroughWindow(*m_window, config, QStringLiteral("lora-r64")),
           deeptune::RunStatus::kCompleted);
  m_window->resize(1280, 820);
  QVERIFY(show(m_window->runController()->currentRunId()));
  QSignalSpy compared(page(), &MemoryPage::comparisonShown);
  page()->compareWith(m_live);
  QVERIFY(compared.wait(20000));
  QTest::qWait(300);
  QVERIFY(page()->grab().save(file));
  page()->setCountedOnly(true);
  QTest::qWait(300);
  QVERIFY(page()->grab().save(
      QString(file).replace(QStringLiteral(".png"), QStringLiteral("-counted.png"))));
  page()->setCountedOnly(false);
}

void TstMemory::cleanupTestCase() {
  m_window.reset();
}

QTEST_MAIN(TstMemory)
#include "tst_memory.moc"
