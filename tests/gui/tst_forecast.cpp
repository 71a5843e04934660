// The memory forecast in a real window: the Hyperparameters line follows the micro-batch (and
// names what "auto" picks), the Model & LoRA page shows the same verdict, a run that will not fit
// asks before it starts and a no creates nothing, and during a run the Memory page draws the run's
// forecast and marks out-of-memory retries while the Train page shows skipped steps and drops the
// points a rollback supersedes. Gradient checkpointing: its row round-trips, the line says what
// it saves, and resuming a run that will not fit asks too. The engine's forecast_memory is the
// reference throughout.
#include <QApplication>
#include <QComboBox>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include "byteunits.h"
#include "deeptune/project.h"
#include "deeptune/session.h"
#include "deeptune/store.h"
#include "hyperparameterspage.h"
#include "liveplot.h"
#include "memoryforecastlabel.h"
#include "memorypage.h"
#include "memorytimeline.h"
#include "messagebanner.h"
#include "modelpage.h"
#include "projectsession.h"
#include "runspage.h"
#include "window_support.h"

namespace {

// The small preset on the CPU: fits easily at every micro-batch of 8.
nlohmann::json smallConfig(int micro) {
  auto c = deeptune::test::shortRunConfig("dates", 10);
  c["model"]["source"] = "preset:small";
  c["data"]["max_length"] = 256;
  c["train"]["batch_size"] = 8;
  c["train"]["micro_batch_size"] = micro;
  return c;
}

// TinyLlama's shape, fully fine-tuned in fp32 on rows of 2048 tokens, 64 at a time: the logits
// alone (64 x 2048 x 32000 floats) are 16 GiB, beyond any host this suite runs on.
nlohmann::json hugeConfig() {
  auto c = deeptune::test::shortRunConfig("dates", 10);
  c["model"]["source"] = "preset:tinyllama-1.1b";
  c["train"]["mode"] = "full";
  c["data"]["max_length"] = 2048;
  c["train"]["batch_size"] = 64;
  c["train"]["micro_batch_size"] = 64;
  return c;
}

deeptune::MemoryForecast engineForecast(const nlohmann::json& config) {
  return deeptune::forecast_memory(deeptune::RunConfig::from_json(config));
}

nlohmann::json withCheckpointing(nlohmann::json config, const char* mode) {
  config["train"]["gradient_checkpointing"] = mode;
  return config;
}

// The engine's MemoryFit, stated for the synthetic pairs below.
deeptune::MemoryForecast syntheticForecast(int64_t deviceBytes, deeptune::MemoryFit fit) {
  deeptune::MemoryForecast f;
  f.device = "cpu";
  f.micro_batch = 4;
  f.max_micro_batch = fit == deeptune::MemoryFit::kWontFit ? 0 : 4;
  f.sequence = 512;
  f.peak_bytes = deviceBytes;
  f.device_bytes = deviceBytes;
  f.available_bytes = 1000LL << 20;
  f.total_bytes = 2000LL << 20;
  f.fit = fit;
  return f;
}

}  // namespace

class TstForecast : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void lineFollowsMicroBatch();
  void autoRoundTrips();
  void invalidConfigSaysWhy();
  void modelPageShowsVerdict();
  void wontFitAsksAndCancelCreatesNothing();
  void runShowsForecastAndEvents();
  void checkpointingRowRoundTrips();
  void lineSaysWhatCheckpointingSaves();
  void wontFitSuggestsCheckpointing();
  void resumeThatWontFitAsks();
  void screenshot();
  void cleanupTestCase();

 private:
  HyperparametersPage* hyper() const { return m_window->hyperparametersPage(); }
  MemoryForecastLabel* line() const { return hyper()->forecastLabel(); }
  // Waits until the Hyperparameters line shows a forecast at `micro` (the draft's, resolved).
  bool waitForForecastAt(int64_t micro);
  // Waits until the line shows a forecast at `micro` of a config with checkpointing `mode`.
  bool waitForCheckpointing(int64_t micro, deeptune::GradientCheckpointing mode);

  QTemporaryDir m_dir;
  QString m_project;
  std::unique_ptr<MainWindow> m_window;
};

void TstForecast::initTestCase() {
  QVERIFY(m_dir.isValid());
  m_window = deeptune::test::openWindow(m_dir);
  m_window->resize(1200, 800);
  m_project = m_dir.filePath(QStringLiteral("forecast.dtproj"));
  {
    auto store = deeptune::ProjectStore::create(m_project.toStdString(), "forecast");
    deeptune::DatasetSource source;
    source.path = deeptune::test::writeSample(m_dir.path(), "dates.jsonl").toStdString();
    source.name = "dates";
    deeptune::register_dataset(*store, source);
  }
  QVERIFY(m_window->openProject(m_project));
  m_window->showPage(MainWindow::kHyperparameters);
}

bool TstForecast::waitForForecastAt(int64_t micro) {
  QDeadlineTimer deadline(30000);
  while (!deadline.hasExpired()) {
    if (line()->hasForecast() && line()->forecast().micro_batch == micro) return true;
    QSignalSpy updated(hyper(), &HyperparametersPage::forecastUpdated);
    updated.wait(500);
  }
  return false;
}

bool TstForecast::waitForCheckpointing(int64_t micro, deeptune::GradientCheckpointing mode) {
  QDeadlineTimer deadline(60000);
  while (!deadline.hasExpired()) {
    if (line()->hasForecast() && line()->forecast().micro_batch == micro &&
        line()->forecastPair().checkpointing == mode)
      return true;
    QSignalSpy updated(hyper(), &HyperparametersPage::forecastUpdated);
    updated.wait(500);
  }
  return false;
}

void TstForecast::lineFollowsMicroBatch() {
  m_window->draft()->setDocument(smallConfig(1));
  QVERIFY(waitForForecastAt(1));
  const auto one = line()->forecast();
  const auto expectedOne = engineForecast(smallConfig(1));
  QCOMPARE(one.peak_bytes, expectedOne.peak_bytes);
  QCOMPARE(one.fit, deeptune::MemoryFit::kFits);
  const QString textOne = line()->plainText();
  QVERIFY2(textOne.contains(formatBytes(double(one.device_bytes))), qPrintable(textOne));
  QVERIFY2(textOne.contains(QStringLiteral("— fits")), qPrintable(textOne));
  QVERIFY2(textOne.contains(QStringLiteral("largest micro-batch that fits: 8")),
           qPrintable(textOne));
  QVERIFY(line()->text().contains(QStringLiteral("#1a7f37")));  // green

  // Typed into the field, as a user would: one forecast once the typing pauses.
  QVERIFY(hyper()->setEditorText(QStringLiteral("train.micro_batch_size"), QStringLiteral("8")));
  QVERIFY(m_window->draft()->value(QStringLiteral("train.micro_batch_size")) == nlohmann::json(8));
  QVERIFY(waitForForecastAt(8));
  const auto eight = line()->forecast();
  QCOMPARE(eight.peak_bytes, engineForecast(smallConfig(8)).peak_bytes);
  // Eight rows of activations at once: the peak grows, and the line says the new number.
  QVERIFY(eight.category("activations") > one.category("activations"));
  QVERIFY(eight.peak_bytes > one.peak_bytes);
  QVERIFY(line()->plainText() != textOne);
  QVERIFY2(line()->plainText().contains(formatBytes(double(eight.device_bytes))),
           qPrintable(line()->plainText()));
  QVERIFY(line()->toolTip().contains(QStringLiteral("activations")));
}

void TstForecast::autoRoundTrips() {
  m_window->draft()->setDocument(smallConfig(1));
  QVERIFY(waitForForecastAt(1));
  QVERIFY(hyper()->setEditorText(QStringLiteral("train.micro_batch_size"), QStringLiteral("auto")));
  // Stored as the JSON writes it, valid, and read by the engine as kAutoMicroBatch.
  const nlohmann::json doc = m_window->draft()->document();
  QVERIFY(doc["train"]["micro_batch_size"] == nlohmann::json("auto"));
  QCOMPARE(m_window->draft()->validationError(), QString());
  QVERIFY(!hyper()->markedInvalid().contains(QStringLiteral("train.micro_batch_size")));
  const auto parsed = deeptune::RunConfig::from_json(doc);
  QCOMPARE(parsed.train.micro_batch_size, deeptune::kAutoMicroBatch);
  QVERIFY(parsed.to_json()["train"]["micro_batch_size"] == nlohmann::json("auto"));

  // Back into the form from a document (a preset, a duplicated run).
  m_window->draft()->setDocument(smallConfig(2));
  auto* edit = hyper()->findChild<QLineEdit*>(QStringLiteral("train.micro_batch_size"));
  QVERIFY(edit);
  QCOMPARE(edit->text(), QStringLiteral("2"));
  m_window->draft()->setDocument(doc);
  QCOMPARE(edit->text(), QStringLiteral("auto"));

  // The line names the micro-batch auto picks: the largest divisor of the batch that fits.
  const auto expected = engineForecast(doc);
  QCOMPARE(expected.max_micro_batch, int64_t(8));
  QVERIFY(waitForForecastAt(expected.max_micro_batch));
  QVERIFY2(line()->plainText().contains(QStringLiteral("auto picks micro-batch 8")),
           qPrintable(line()->plainText()));
  QCOMPARE(line()->forecast().peak_bytes, expected.peak_bytes);

  // Upper case, as some users type it, is the same "auto".
  QVERIFY(hyper()->setEditorText(QStringLiteral("train.micro_batch_size"), QStringLiteral("AUTO")));
  QVERIFY(m_window->draft()->value(QStringLiteral("train.micro_batch_size")) ==
          nlohmann::json("auto"));
}

void TstForecast::invalidConfigSaysWhy() {
  m_window->draft()->setDocument(smallConfig(1));
  QVERIFY(waitForForecastAt(1));
  QSignalSpy updated(hyper(), &HyperparametersPage::forecastUpdated);
  // 3 does not divide the batch of 8: no forecast, and the line says why instead of going stale.
  QVERIFY(hyper()->setEditorText(QStringLiteral("train.micro_batch_size"), QStringLiteral("3")));
  QVERIFY(updated.wait(10000));
  QVERIFY(!line()->hasForecast());
  QVERIFY2(line()->plainText().contains(QStringLiteral("not valid")),
           qPrintable(line()->plainText()));
  QVERIFY(hyper()->setEditorText(QStringLiteral("train.micro_batch_size"), QStringLiteral("x")));
  QVERIFY(updated.wait(10000));
  QVERIFY(!line()->hasForecast());
  QVERIFY(hyper()->setEditorText(QStringLiteral("train.micro_batch_size"), QStringLiteral("4")));
  QVERIFY(waitForForecastAt(4));
}

void TstForecast::modelPageShowsVerdict() {
  ModelPage* model = m_window->modelPage();
  m_window->showPage(MainWindow::kModel);
  QSignalSpy updated(model, &ModelPage::summaryUpdated);
  m_window->draft()->setDocument(hugeConfig());
  const auto expected = engineForecast(hugeConfig());
  QCOMPARE(expected.fit, deeptune::MemoryFit::kWontFit);
  QTRY_VERIFY_WITH_TIMEOUT(
      model->memoryLabel()->hasForecast() && model->memoryLabel()->forecast().micro_batch == 64,
      30000);
  QCOMPARE(model->memoryLabel()->forecast().fit, deeptune::MemoryFit::kWontFit);
  QCOMPARE(model->memoryLabel()->forecast().device_bytes, expected.device_bytes);
  QVERIFY2(model->memoryLabel()->plainText().contains(QStringLiteral("will not fit")),
           qPrintable(model->memoryLabel()->plainText()));
  QVERIFY(model->memoryLabel()->text().contains(QStringLiteral("#b02020")));  // red

  m_window->draft()->setDocument(smallConfig(2));
  QTRY_VERIFY_WITH_TIMEOUT(
      model->memoryLabel()->hasForecast() && model->memoryLabel()->forecast().micro_batch == 2,
      30000);
  QCOMPARE(model->memoryLabel()->forecast().fit, deeptune::MemoryFit::kFits);
}

void TstForecast::wontFitAsksAndCancelCreatesNothing() {
  m_window->showPage(MainWindow::kHyperparameters);
  m_window->draft()->setDocument(hugeConfig());
  QVERIFY(waitForForecastAt(64));
  QCOMPARE(line()->forecast().fit, deeptune::MemoryFit::kWontFit);
  QVERIFY2(line()->plainText().contains(QStringLiteral("will not fit")),
           qPrintable(line()->plainText()));

  m_window->showPage(MainWindow::kTrain);
  TrainPage* train = m_window->trainPage();
  const size_t runsBefore = m_window->session()->runs().size();
  QSignalSpy declined(train, &TrainPage::startDeclined);
  QSignalSpy started(m_window->runController(), &RunController::runStarted);
  // Answer the question as a user would: read it, then press Cancel.
  QString question, details;
  bool hadStartAnyway = false;
  QTimer poll;
  poll.setInterval(20);
  connect(&poll, &QTimer::timeout, this, [&] {
    auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
    if (!box || box->objectName() != QLatin1String("memoryQuestion")) return;
    poll.stop();
    question = box->text() + QLatin1Char('\n') + box->informativeText();
    details = box->detailedText();
    for (QAbstractButton* b : box->buttons())
      hadStartAnyway = hadStartAnyway || b->text() == QLatin1String("Start anyway");
    box->button(QMessageBox::Cancel)->click();
  });
  poll.start();
  QVERIFY(train->startRun(QStringLiteral("too-big")));
  QVERIFY(train->isStarting());
  QVERIFY(!train->startRun(QStringLiteral("twice")));  // one start at a time
  QVERIFY(declined.wait(30000));
  QVERIFY2(question.contains(QStringLiteral("will not fit")), qPrintable(question));
  const auto f = engineForecast(hugeConfig());
  QVERIFY2(question.contains(formatBytes(double(f.device_bytes))), qPrintable(question));
  QVERIFY2(question.contains(QStringLiteral("free now")), qPrintable(question));
  for (const char* hint : {"micro-batch", "maximum length", "bf16", "LoRA"})
    QVERIFY2(question.contains(QLatin1String(hint)), hint);
  QVERIFY(details.contains(QStringLiteral("activations")));
  QVERIFY(hadStartAnyway);
  // Nothing was created or started.
  QTest::qWait(200);
  QVERIFY(started.isEmpty());
  QVERIFY(!m_window->runController()->isBusy());
  QVERIFY(!train->isStarting());
  m_window->session()->reloadRuns();
  QCOMPARE(m_window->session()->runs().size(), runsBefore);
  QCOMPARE(train->banner()->headline(), QStringLiteral("The run was not started"));
}

void TstForecast::runShowsForecastAndEvents() {
  const auto config = deeptune::test::shortRunConfig("dates", 6);
  MemoryPage* memory = m_window->memoryPage();
  m_window->showPage(MainWindow::kMemory);
  QSignalSpy forecastShown(memory, &MemoryPage::forecastShown);
  QCOMPARE(deeptune::test::trainThroughWindow(*m_window, config, QStringLiteral("short")),
           deeptune::RunStatus::kCompleted);
  const qint64 run = m_window->runController()->currentRunId();
  QCOMPARE(memory->displayedRunId(), run);
  // The run's own config, forecast in the background, drawn as the dashed line.
  QTRY_VERIFY_WITH_TIMEOUT(
      !forecastShown.isEmpty() && forecastShown.last().first().toLongLong() == run, 30000);
  QCOMPARE(memory->forecast(), engineForecast(config).peak_bytes);
  QTRY_VERIFY(memory->timeline()->referenceVisible());

  // An out-of-memory retry at step 7 (fed as the worker feeds one; no GPU here), then a rollback.
  QList<deeptune::StepMetrics> steps;
  for (int i = 7; i <= 9; ++i) {
    deeptune::StepMetrics s;
    s.step = i;
    s.max_steps = 12;
    s.loss = 2.0;
    s.micro_batch = 4;  // halved from 8 at step 7
    s.out_of_memory_retries = i == 7 ? 1 : 0;
    s.skipped_steps = i - 6;
    s.lr_scale = 0.5;
    s.memory.resident = 100 << 20;
    steps << s;
  }
  Q_EMIT m_window->runController()->stepsFinished(run, steps);
  QCOMPARE(memory->outOfMemorySteps().value(7), qint64(4));
  QCOMPARE(memory->outOfMemorySteps().size(), 1);
  QCOMPARE(memory->timeline()->markers().size(), 1);
  QCOMPARE(memory->timeline()->markers().first().step, 7.0);
  QVERIFY2(memory->timeline()->stepToolTip(7).contains(
               QStringLiteral("out of memory: micro-batch now 4")),
           qPrintable(memory->timeline()->stepToolTip(7)));
  QVERIFY(!memory->timeline()->stepToolTip(8).contains(QStringLiteral("out of memory")));

  TrainPage* train = m_window->trainPage();
  QCOMPARE(train->displayedRunId(), run);
  QVERIFY2(train->healthText().contains(QStringLiteral("NaN/inf steps skipped: 3")),
           qPrintable(train->healthText()));
  QVERIFY2(train->healthText().contains(QStringLiteral("×0.5")), qPrintable(train->healthText()));
  const int before = train->lossPlot()->pointCount(0);
  QVERIFY(before >= 9);
  Q_EMIT m_window->runController()->rolledBack(run, 7);
  // Steps 8 and 9 are gone from the plots (they will be reported again); step 7 stays.
  QCOMPARE(train->lossPlot()->pointCount(0), before - 2);
  QVERIFY(train->logText().contains(QStringLiteral("checkpoint at step 7")));
  QCOMPARE(memory->outOfMemorySteps().size(), 1);  // the retry was at the checkpoint's step
  Q_EMIT m_window->runController()->rolledBack(run, 6);
  QCOMPARE(memory->outOfMemorySteps().size(), 0);
  QCOMPARE(memory->timeline()->markers().size(), 0);
}

void TstForecast::checkpointingRowRoundTrips() {
  m_window->showPage(MainWindow::kHyperparameters);
  const QString key = QStringLiteral("train.gradient_checkpointing");
  QVERIFY(hyper()->keys().contains(key));
  auto* box = hyper()->findChild<QComboBox*>(key);
  QVERIFY(box);
  QVERIFY2(box->toolTip().contains(QStringLiteral("Recompute")), qPrintable(box->toolTip()));
  m_window->draft()->setDocument(smallConfig(8));
  QCOMPARE(box->currentText(), QStringLiteral("off"));
  // Chosen in the form: the draft and the engine's parse both hold it.
  QVERIFY(hyper()->setEditorText(key, QStringLiteral("full")));
  QVERIFY(m_window->draft()->value(key) == nlohmann::json("full"));
  QCOMPARE(
      deeptune::RunConfig::from_json(m_window->draft()->document()).train.gradient_checkpointing,
      deeptune::GradientCheckpointing::kFull);
  QVERIFY(hyper()->setEditorText(key, QStringLiteral("selective")));
  QCOMPARE(
      deeptune::RunConfig::from_json(m_window->draft()->document()).train.gradient_checkpointing,
      deeptune::GradientCheckpointing::kSelective);
  // Back into the form from a document (a preset, a duplicated run).
  m_window->draft()->setDocument(withCheckpointing(smallConfig(8), "full"));
  QCOMPARE(box->currentText(), QStringLiteral("full"));
  m_window->draft()->setDocument(smallConfig(8));
  QCOMPARE(box->currentText(), QStringLiteral("off"));
}

void TstForecast::lineSaysWhatCheckpointingSaves() {
  m_window->showPage(MainWindow::kHyperparameters);
  using deeptune::GradientCheckpointing;
  const auto off = engineForecast(smallConfig(8));
  m_window->draft()->setDocument(smallConfig(8));
  QVERIFY(waitForCheckpointing(8, GradientCheckpointing::kOff));
  // Off and fitting: nothing to say about checkpointing.
  QVERIFY2(!line()->plainText().contains(QStringLiteral("checkpointing")),
           qPrintable(line()->plainText()));
  QVERIFY(!line()->forecastPair().alternative);

  for (const char* mode : {"full", "selective"}) {
    const auto config = withCheckpointing(smallConfig(8), mode);
    const auto expected = engineForecast(config);
    const auto parsed = deeptune::RunConfig::from_json(config).train.gradient_checkpointing;
    m_window->draft()->setDocument(config);
    QVERIFY2(waitForCheckpointing(8, parsed), mode);
    const MemoryForecastPair& shown = line()->forecastPair();
    QCOMPARE(shown.forecast.peak_bytes, expected.peak_bytes);
    // Recomputing keeps fewer activations: a smaller peak than the same config without it.
    QVERIFY2(shown.forecast.peak_bytes < off.peak_bytes, mode);
    QVERIFY(shown.forecast.category("activations") < off.category("activations"));
    QVERIFY(shown.alternative.has_value());
    QCOMPARE(shown.alternative->device_bytes, off.device_bytes);
    const int64_t saved = off.device_bytes - expected.device_bytes;
    QVERIFY(saved > 0);
    QCOMPARE(shown.savedBytes(), saved);
    const QString expectedText = QStringLiteral("gradient checkpointing (%1) saves %2")
                                     .arg(QLatin1String(mode), formatBytes(double(saved)));
    QVERIFY2(line()->plainText().contains(expectedText),
             qPrintable(line()->plainText() + QStringLiteral(" lacks ") + expectedText));
    QVERIFY(line()->toolTip().contains(QStringLiteral("With gradient checkpointing off")));
  }
  // The Model & LoRA page's verdict comes with the same sentence, from its own background job.
  ModelPage* model = m_window->modelPage();
  m_window->showPage(MainWindow::kModel);
  const auto full = withCheckpointing(smallConfig(8), "full");
  m_window->draft()->setDocument(full);
  QTRY_VERIFY_WITH_TIMEOUT(
      model->memoryLabel()->hasForecast() &&
          model->memoryLabel()->forecastPair().checkpointing == GradientCheckpointing::kFull,
      30000);
  const QString saves =
      QStringLiteral("gradient checkpointing (full) saves %1")
          .arg(formatBytes(double(off.device_bytes - engineForecast(full).device_bytes)));
  QVERIFY2(model->memoryLabel()->plainText().contains(saves),
           qPrintable(model->memoryLabel()->plainText()));
  m_window->showPage(MainWindow::kHyperparameters);

  // Full recomputes more than selective: it keeps the least.
  QVERIFY(engineForecast(withCheckpointing(smallConfig(8), "full")).peak_bytes <
          engineForecast(withCheckpointing(smallConfig(8), "selective")).peak_bytes);
}

// Off, on a config that does not fit: the line names full checkpointing only when it would change
// the verdict; the question before starting always lists it with its number.
void TstForecast::wontFitSuggestsCheckpointing() {
  using deeptune::MemoryFit;
  MemoryForecastPair pair;
  pair.forecast = syntheticForecast(1500LL << 20, MemoryFit::kWontFit);
  pair.alternative = syntheticForecast(800LL << 20, MemoryFit::kFits);
  QCOMPARE(pair.savedBytes(), int64_t(700) << 20);
  const QString text = MemoryForecastLabel::describe(pair, false);
  QVERIFY2(text.contains(QStringLiteral("— will not fit; not even a micro-batch of 1 fits; full "
                                        "gradient checkpointing would need 800 MiB (fits)")),
           qPrintable(text));
  QVERIFY(MemoryForecastLabel::suggestions(pair).contains(
      QStringLiteral("full gradient checkpointing: 800 MiB at the peak instead of 1.46 GiB")));
  // Still not fitting with it: the line says nothing, the suggestions still do.
  pair.alternative = syntheticForecast(1200LL << 20, MemoryFit::kWontFit);
  QVERIFY(!MemoryForecastLabel::describe(pair, false).contains(QStringLiteral("checkpointing")));
  QVERIFY(MemoryForecastLabel::suggestions(pair).contains(QStringLiteral("full gradient")));

  // The real huge config: off, will not fit, so the forecaster computed full beside it.
  m_window->showPage(MainWindow::kHyperparameters);
  m_window->draft()->setDocument(hugeConfig());
  QVERIFY(waitForCheckpointing(64, deeptune::GradientCheckpointing::kOff));
  const MemoryForecastPair& shown = line()->forecastPair();
  QCOMPARE(shown.forecast.fit, MemoryFit::kWontFit);
  QVERIFY(shown.alternative.has_value());
  QCOMPARE(shown.alternative->device_bytes,
           engineForecast(withCheckpointing(hugeConfig(), "full")).device_bytes);
  QVERIFY(shown.alternative->device_bytes < shown.forecast.device_bytes);
}

void TstForecast::resumeThatWontFitAsks() {
  // A stopped run whose config will not fit (created, then marked stopped as a stop would).
  int64_t id = 0;
  {
    id = deeptune::create_run(m_project.toStdString(), deeptune::RunConfig::from_json(hugeConfig()),
                              "huge-stopped");
    auto store = deeptune::ProjectStore::open(m_project.toStdString());
    store->set_run_status(id, deeptune::RunStatus::kStopped);
  }
  m_window->session()->reloadRuns();
  m_window->showPage(MainWindow::kRuns);
  RunsPage* runs = m_window->runsPage();
  QSignalSpy declined(runs, &RunsPage::resumeDeclined);
  QSignalSpy requested(runs, &RunsPage::resumeRequested);
  QSignalSpy started(m_window->runController(), &RunController::runStarted);
  QString question;
  bool hadResumeAnyway = false;
  QTimer poll;
  poll.setInterval(20);
  connect(&poll, &QTimer::timeout, this, [&] {
    auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
    if (!box || box->objectName() != QLatin1String("memoryQuestion")) return;
    poll.stop();
    question = box->text() + QLatin1Char('\n') + box->informativeText();
    for (QAbstractButton* b : box->buttons())
      hadResumeAnyway = hadResumeAnyway || b->text() == QLatin1String("Resume anyway");
    box->button(QMessageBox::Cancel)->click();
  });
  poll.start();
  QVERIFY(runs->resumeRun(id));
  QVERIFY(runs->isResuming());
  QVERIFY(!runs->resumeRun(id));  // one resume at a time
  QVERIFY(declined.wait(60000));
  QCOMPARE(declined.first().first().toLongLong(), qint64(id));
  QVERIFY(hadResumeAnyway);
  QVERIFY2(question.contains(QStringLiteral("will not fit")), qPrintable(question));
  QVERIFY2(question.contains(formatBytes(double(engineForecast(hugeConfig()).device_bytes))),
           qPrintable(question));
  QTest::qWait(200);
  QVERIFY(requested.isEmpty());
  QVERIFY(started.isEmpty());
  QVERIFY(!m_window->runController()->isBusy());
  QVERIFY(!runs->isResuming());
  QCOMPARE(runs->banner()->headline(), QStringLiteral("The run was not resumed"));
  m_window->session()->reloadRuns();
  QCOMPARE(m_window->session()->run(id)->status, deeptune::RunStatus::kStopped);
}

// DEEPTUNE_FORECAST_SHOT=FILE: the Hyperparameters page with a forecast that fits, grabbed into
// FILE (docs/forecast.png); FILE with -checkpointing before .png for it with selective
// recomputation, -wontfit for one that does not fit, -model for the
// Model & LoRA page with that one, -question for the question before starting it.
void TstForecast::screenshot() {
  const QString file = qEnvironmentVariable("DEEPTUNE_FORECAST_SHOT");
  if (file.isEmpty()) QSKIP("DEEPTUNE_FORECAST_SHOT not set");
  m_window->showPage(MainWindow::kHyperparameters);
  auto config = smallConfig(8);
  config["train"]["micro_batch_size"] = "auto";
  config["train"]["batch_size"] = 32;
  m_window->draft()->setDocument(config);
  QVERIFY(waitForForecastAt(engineForecast(config).micro_batch));
  QTest::qWait(300);
  QVERIFY(m_window->grab().save(file));
  // The same config with selective recomputation: the line says what it saves.
  m_window->draft()->setDocument(withCheckpointing(config, "selective"));
  QVERIFY(waitForCheckpointing(engineForecast(withCheckpointing(config, "selective")).micro_batch,
                               deeptune::GradientCheckpointing::kSelective));
  QTest::qWait(300);
  QVERIFY(m_window->grab().save(
      QString(file).replace(QStringLiteral(".png"), QStringLiteral("-checkpointing.png"))));
  m_window->draft()->setDocument(hugeConfig());
  QVERIFY(waitForForecastAt(64));
  QTest::qWait(300);
  QVERIFY(m_window->grab().save(
      QString(file).replace(QStringLiteral(".png"), QStringLiteral("-wontfit.png"))));
  m_window->showPage(MainWindow::kModel);
  QTRY_VERIFY_WITH_TIMEOUT(m_window->modelPage()->memoryLabel()->hasForecast(), 30000);
  QTest::qWait(300);
  QVERIFY(m_window->grab().save(
      QString(file).replace(QStringLiteral(".png"), QStringLiteral("-model.png"))));
  // The question before starting it, grabbed and then answered no.
  m_window->showPage(MainWindow::kTrain);
  QSignalSpy declined(m_window->trainPage(), &TrainPage::startDeclined);
  bool grabbed = false;
  QTimer poll;
  poll.setInterval(100);
  connect(&poll, &QTimer::timeout, this, [&] {
    auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
    if (!box) return;
    poll.stop();
    grabbed = box->grab().save(
        QString(file).replace(QStringLiteral(".png"), QStringLiteral("-question.png")));
    box->button(QMessageBox::Cancel)->click();
  });
  poll.start();
  QVERIFY(m_window->trainPage()->startRun());
  QVERIFY(declined.wait(30000));
  QVERIFY(grabbed);
}

void TstForecast::cleanupTestCase() {
  m_window.reset();
}

QTEST_MAIN(TstForecast)
#include "tst_forecast.moc"
