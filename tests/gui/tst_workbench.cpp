// The workbench end to end, as a user drives it, on the offscreen platform: create a project, add
// the sample dataset through the Data page, train, watch the plots fill, stop, reopen, find the
// run; then the Runs, Model, Hyperparameters and Export pages, failures and bad files.
#include <sqlite3.h>

#include <QApplication>
#include <QComboBox>
#include <QCryptographicHash>
#include <QDeadlineTimer>
#include <QFileDialog>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QMimeData>
#include <QProcess>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTextEdit>
#include <QtTest>
#include <set>
#include <tuple>

#include "adddatasetdialog.h"
#include "appsettings.h"
#include "barplot.h"
#include "configdraft.h"
#include "datapage.h"
#include "datasetpreviewmodel.h"
#include "datasetsmodel.h"
#include "deeptune/data.h"
#include "deeptune/session.h"
#include "deeptune/store.h"
#include "exportpage.h"
#include "filedialogs.h"
#include "hyperparameterspage.h"
#include "liveplot.h"
#include "mainwindow.h"
#include "messagebanner.h"
#include "modelpage.h"
#include "projectsession.h"
#include "runcontroller.h"
#include "runhistoryreader.h"
#include "runsmodel.h"
#include "runspage.h"
#include "trainpage.h"
#include "window_support.h"

using deeptune::RunStatus;
using deeptune::test::shortRunConfig;
using deeptune::test::trainThroughWindow;

namespace {

QByteArray fileHash(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

std::optional<deeptune::RunRecord> runNamed(const QString& project, const std::string& name) {
  auto store = deeptune::ProjectStore::open(project.toStdString());
  return store->find_run(name);
}

}  // namespace

class TstWorkbench : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void createProjectAndAddDataset();
  void dataPageShowsTokensAsTheModelSees();
  void trainLiveThenStop();
  void reopenFindsRunAndResumes();
  void modelPageCountsTrainableParameters();
  void hyperparametersMarkValuesAndSavePresets();
  void hyperparametersEditAttentionProbes();
  void runsPageOverlayDiffRenameDuplicateDelete();
  void exportPeftAdapter();
  void refusedStartsRecordNothing();
  void failedRunIsStoredAndShown();
  void droppedFileOpensMappingDialog();
  void deleteAsksFirst();
  void deleteSaysWhatBreaks();
  void malformedDatasetGivesMessage();
  void nonProjectAndNewerFilesAreRefusedUnchanged();
  void followsRunOfAnotherProcess();
  void settingsRememberPageAndRecent();
  void cleanupTestCase();

 private:
  QTemporaryDir m_dir;
  QString m_project;
  std::unique_ptr<MainWindow> m_window;
};

void TstWorkbench::initTestCase() {
  QVERIFY(m_dir.isValid());
  m_window = deeptune::test::openWindow(m_dir);
  m_window->session()->setPollInterval(200);
  m_project = m_dir.filePath(QStringLiteral("gui.dtproj"));
}

void TstWorkbench::createProjectAndAddDataset() {
  QVERIFY(m_window->createProject(m_project, false));
  QVERIFY(m_window->windowTitle().contains(QStringLiteral("gui.dtproj")));
  DataPage* data = m_window->dataPage();
  QCOMPARE(data->datasetsModel()->rowCount(), 0);

  const QString file = deeptune::test::writeSample(m_dir.path(), "dates.jsonl");
  QVERIFY(!file.isEmpty());
  QSignalSpy added(data, &DataPage::datasetAdded);
  deeptune::FieldMapping mapping;
  mapping.prompt = "prompt";
  mapping.response = "response";
  QVERIFY(data->addDataset(file, QStringLiteral("dates"), deeptune::DataFormat::kJsonl, mapping));
  QVERIFY(added.wait(30000));
  QCOMPARE(added.first().first().toString(), QStringLiteral("dates"));
  QCOMPARE(data->datasetsModel()->rowCount(), 1);
  QCOMPARE(data->datasetsModel()->index(0, DatasetsModel::kRows).data().toLongLong(), 2000);
  // Selecting it previews the file and plots its statistics.
  QCOMPARE(data->previewModel()->columns(), QStringList({"prompt", "response"}));
  QVERIFY(data->previewModel()->rowCount() > 0);
  QVERIFY(data->lengthPlot()->categoryCount() > 1);
  QCOMPARE(data->driftPlot()->seriesCount(), 2);
  QVERIFY(!data->driftPlot()->note().isEmpty());
  QCOMPARE(m_window->draft()->value("data.dataset").get<std::string>(), std::string("dates"));
  // The project file holds it.
  auto store = deeptune::ProjectStore::open(m_project.toStdString());
  QCOMPARE(store->datasets().size(), size_t{1});
  QCOMPARE(store->datasets()[0].rows, int64_t{2000});
}

// The Tokens tab of the Data page: counts with the draft's model, the share cut at
// data.max_length, and an example with the loss tokens highlighted (prompt/response: the
// response and EOS).
void TstWorkbench::dataPageShowsTokensAsTheModelSees() {
  DataPage* data = m_window->dataPage();
  m_window->showPage(MainWindow::kData);
  data->findChild<QTabWidget*>()->setCurrentIndex(2);
  const auto examples = deeptune::map_examples(
      deeptune::read_table(m_dir.filePath("dates.jsonl").toStdString(),
                           deeptune::DataFormat::kJsonl),
      [] {
        deeptune::FieldMapping m;
        m.prompt = "prompt";
        m.response = "response";
        return m;
      }(),
      "dates.jsonl");
  // Byte tokenizer (preset:tiny): BOS + prompt + response + EOS; loss on response + EOS.
  const auto trainedCount = [](const QTextEdit* view) {
    const QString html = view->toHtml();
    return html.count(QStringLiteral("#b9e4b4")) + html.count(QStringLiteral("#8fd189"));
  };
  const auto& first = examples.at(0);
  QTRY_VERIFY_WITH_TIMEOUT(
      data->exampleView()->toPlainText() ==
          QString::fromStdString("<bos>" + first.prompt + first.response + "<eos>"),
      30000);
  QCOMPARE(trainedCount(data->exampleView()), int(first.response.size()) + 1);
  QTRY_VERIFY_WITH_TIMEOUT(data->tokenPlot()->categoryCount() > 1, 30000);
  QVERIFY(!data->tokenPlot()->noteIsWarning());
  QVERIFY(data->tokenSummary()->text().contains(QStringLiteral("byte")));

  // Another row.
  data->exampleRow()->setValue(2);
  const auto& second = examples.at(1);
  QTRY_VERIFY_WITH_TIMEOUT(data->exampleView()->toPlainText().contains(
                               QString::fromStdString(second.prompt + second.response)),
                           30000);
  QCOMPARE(trainedCount(data->exampleView()), int(second.response.size()) + 1);

  // A shorter maximum length in the draft: every example is cut, and the plot warns.
  m_window->draft()->setValue(QStringLiteral("data.max_length"), 8);
  QTRY_VERIFY_WITH_TIMEOUT(data->tokenPlot()->note().contains(QStringLiteral("100.0%")), 30000);
  QVERIFY(data->tokenPlot()->noteIsWarning());
  // "<bos>" and seven bytes.
  QTRY_COMPARE_WITH_TIMEOUT(data->exampleView()->toPlainText().size(), 5 + 7, 30000);

  // The chat format picker edits data.chat_template, and follows the draft.
  QComboBox* format = data->chatTemplate();
  QCOMPARE(format->currentData().toString(), QStringLiteral("auto"));
  format->setCurrentIndex(format->findData(QStringLiteral("llama3")));
  QCOMPARE(m_window->draft()->value("data.chat_template").get<std::string>(),
           std::string("llama3"));
  m_window->draft()->setValue(QStringLiteral("data.chat_template"), "auto");
  QCOMPARE(format->currentData().toString(), QStringLiteral("auto"));

  // The mapping dialog offers a conversation column as such.
  {
    QFile file(m_dir.filePath(QStringLiteral("conversations.jsonl")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(R"({"id": 1, "conversations": [{"from": "human", "value": "Hi"}, )"
               R"({"from": "gpt", "value": "Hello"}]})"
               "\n");
    file.close();
    AddDatasetDialog dialog(file.fileName());
    QCOMPARE(dialog.loadError(), QString());
    QCOMPARE(dialog.mapping().kind(), deeptune::MappingKind::kMessages);
    QCOMPARE(dialog.mapping().messages, std::string("conversations"));
  }

  // For a look at the page (run alone: it adds a dataset the later tests do not expect).
  if (qEnvironmentVariableIsSet("DEEPTUNE_SCREENSHOT_DIR")) {
    const QString shots = qEnvironmentVariable("DEEPTUNE_SCREENSHOT_DIR");
    m_window->draft()->setValue(QStringLiteral("data.max_length"), 20);
    m_window->resize(1280, 800);
    QTest::qWait(2000);
    m_window->grab().save(shots + QStringLiteral("/data_tokens_cut.png"));
    m_window->draft()->setValue(QStringLiteral("data.max_length"), 256);
    QFile chat(m_dir.filePath(QStringLiteral("chat.jsonl")));
    QVERIFY(chat.open(QIODevice::WriteOnly));
    chat.write(R"({"messages": [{"role": "system", "content": "You answer in one line."}, )"
               R"({"role": "user", "content": "Write 2017-02-24 in words."}, )"
               R"({"role": "assistant", "content": "24 February 2017"}, )"
               R"({"role": "user", "content": "And in French?"}, )"
               R"({"role": "assistant", "content": "24 février 2017"}]})"
               "\n");
    chat.close();
    QSignalSpy added(data, &DataPage::datasetAdded);
    QVERIFY(data->addDataset(chat.fileName(), QStringLiteral("chat")));
    QVERIFY(added.wait(30000));
    data->selectDataset(QStringLiteral("chat"));
    QTest::qWait(2000);
    m_window->grab().save(shots + QStringLiteral("/data_tokens_chat.png"));
    // The same conversation with a Hugging Face tokenizer and its own chat template.
    const nlohmann::json source = m_window->draft()->value(QStringLiteral("model.source"));
    m_window->draft()->setValue(QStringLiteral("model.source"),
                                DEEPTUNE_SOURCE_DIR "/tests/interop/fixtures/models/qwen3");
    QTest::qWait(3000);
    m_window->grab().save(shots + QStringLiteral("/data_tokens_chat_hf.png"));
    m_window->draft()->setValue(QStringLiteral("model.source"), source);
    data->selectDataset(QStringLiteral("dates"));
  }
  m_window->draft()->setValue(QStringLiteral("data.max_length"), 256);
  data->exampleRow()->setValue(1);
  data->findChild<QTabWidget*>()->setCurrentIndex(0);
}

void TstWorkbench::trainLiveThenStop() {
  m_window->draft()->setDocument(shortRunConfig("dates", 400));
  m_window->showPage(MainWindow::kTrain);
  TrainPage* train = m_window->trainPage();
  RunController* runs = m_window->runController();
  QSignalSpy steps(runs, &RunController::stepsFinished);
  QSignalSpy evals(runs, &RunController::evalFinished);
  QSignalSpy finished(runs, &RunController::runFinished);
  QVERIFY(train->startRun(QStringLiteral("first")));
  QVERIFY(!train->startRun(QStringLiteral("second")));  // one run at a time
  // Wait for a few batches of steps, then stop.
  QTRY_VERIFY_WITH_TIMEOUT(steps.count() >= 3 && evals.count() >= 1, 120000);
  int stepsSeen = 0;
  for (const auto& args : steps) {
    const auto batch = args.at(1).value<QList<deeptune::StepMetrics>>();
    QVERIFY(!batch.isEmpty());
    stepsSeen += batch.size();
  }
  QVERIFY(stepsSeen >= 3);
  runs->stop();
  QVERIFY(finished.wait(60000));
  QCOMPARE(finished.first().at(1).value<deeptune::RunStatus>(), RunStatus::kStopped);

  // The plots received every step the worker sent, and the project file holds the same points.
  const auto run = runNamed(m_project, "first");
  QVERIFY(run.has_value());
  QCOMPARE(run->status, RunStatus::kStopped);
  auto store = deeptune::ProjectStore::open(m_project.toStdString());
  const auto metrics = store->metrics(run->id);
  const int recorded = static_cast<int>(metrics.at("train/loss").size());
  QVERIFY(recorded >= stepsSeen);
  QCOMPARE(train->lossPlot()->pointCount(0), recorded);
  QVERIFY(train->lossPlot()->pointCount(1) >= 1);  // validation points
  QCOMPARE(train->lrPlot()->pointCount(0), recorded);
  QCOMPARE(train->gradNormPlot()->pointCount(0), recorded);
  QCOMPARE(train->throughputPlot()->pointCount(0), recorded);
  QVERIFY(train->lossPlot()->replotCount() >= 1);
  QVERIFY(train->logText().contains(QStringLiteral("validation")));
  QVERIFY(train->banner()->headline().contains(QStringLiteral("stopped")));
}

void TstWorkbench::reopenFindsRunAndResumes() {
  m_window->closeProject();
  QVERIFY(!m_window->session()->isOpen());
  QVERIFY(m_window->openProject(m_project));
  RunsModel* model = m_window->runsPage()->runsModel();
  QCOMPARE(model->rowCount(), 1);
  QCOMPARE(model->index(0, RunsModel::kName).data().toString(), QStringLiteral("first"));
  QCOMPARE(model->index(0, RunsModel::kStatus).data(RunsModel::kStatusRole).toInt(),
           static_cast<int>(RunStatus::kStopped));
  // The Train page shows the recorded curves.
  const qint64 id = model->index(0, 0).data(RunsModel::kIdRole).toLongLong();
  m_window->trainPage()->showRun(id);
  QTRY_VERIFY_WITH_TIMEOUT(m_window->trainPage()->lossPlot()->pointCount(0) > 0, 10000);

  // Resume it to the end (a short run: shorten it by editing its max steps is not allowed, so
  // resume and stop again quickly, then check it continued from its checkpoint).
  QSignalSpy finished(m_window->runController(), &RunController::runFinished);
  QSignalSpy steps(m_window->runController(), &RunController::stepsFinished);
  QVERIFY(m_window->runsPage()->resumeRun(id));
  QVERIFY(steps.wait(60000));
  const auto firstBatch = steps.first().at(1).value<QList<deeptune::StepMetrics>>();
  QVERIFY(firstBatch.first().step > 1);  // continued, not restarted
  m_window->runController()->stop();
  QVERIFY(finished.wait(60000));
  QCOMPARE(runNamed(m_project, "first")->status, RunStatus::kStopped);
}

void TstWorkbench::modelPageCountsTrainableParameters() {
  m_window->draft()->setDocument(shortRunConfig("dates", 12));
  ModelPage* page = m_window->modelPage();
  QSignalSpy updated(page, &ModelPage::summaryUpdated);
  m_window->draft()->setValue("lora.targets", nlohmann::json::array({"q_proj", "v_proj"}));
  QTRY_VERIFY_WITH_TIMEOUT(updated.count() > 0 && page->summary().trainable_parameters > 0, 30000);
  const QStringList choices = page->targetChoices();
  for (const char* name :
       {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"})
    QVERIFY2(choices.contains(QString::fromLatin1(name)), name);
  const auto two = page->summary();
  QVERIFY(two.trainable_parameters < two.total_parameters);
  updated.clear();
  m_window->draft()->setValue("lora.targets",
                              nlohmann::json::array({"q_proj", "k_proj", "v_proj", "o_proj"}));
  QTRY_VERIFY_WITH_TIMEOUT(page->summary().trainable_parameters != two.trainable_parameters, 30000);
  // q, k, v, o all have the same in-features here, so four targets train about twice as much.
  QVERIFY(page->summary().trainable_parameters > two.trainable_parameters);
  QVERIFY(page->summary().trainable_share > 0.0 && page->summary().trainable_share < 1.0);
}

void TstWorkbench::hyperparametersMarkValuesAndSavePresets() {
  HyperparametersPage* page = m_window->hyperparametersPage();
  QVERIFY(page->keys().contains(QStringLiteral("train.lr")));
  QVERIFY(page->keys().contains(QStringLiteral("train.max_steps")));
  QVERIFY(page->setEditorText("train.lr", "5"));  // above the hard maximum
  QVERIFY(page->markedInvalid().contains(QStringLiteral("train.lr")));
  QVERIFY(!m_window->draft()->validationError().isEmpty());
  QVERIFY(!m_window->trainPage()->startRun());  // refused before it starts
  QVERIFY(m_window->trainPage()->banner()->detail().contains(QStringLiteral("train.lr")));
  QVERIFY(page->setEditorText("train.lr", "0.005"));  // allowed, not recommended
  QVERIFY(!page->markedInvalid().contains(QStringLiteral("train.lr")));
  QVERIFY(page->markedAdvisory().contains(QStringLiteral("train.lr")));
  QVERIFY(page->setEditorText("train.lr", "0.0002"));
  QVERIFY(!page->markedAdvisory().contains(QStringLiteral("train.lr")));
  QVERIFY(page->setEditorText("train.max_steps", "abc"));
  QVERIFY(page->markedInvalid().contains(QStringLiteral("train.max_steps")));
  QVERIFY(page->setEditorText("train.max_steps", "12"));
  QVERIFY2(page->markedInvalid().isEmpty(), qPrintable(page->markedInvalid().join(',')));

  QVERIFY(page->savePreset(QStringLiteral("quick")));
  auto store = deeptune::ProjectStore::open(m_project.toStdString());
  const auto presets = store->presets();
  QVERIFY(presets.count("quick"));
  QCOMPARE(nlohmann::json::parse(presets.at("quick"))["train"]["lr"].get<double>(), 0.0002);
  m_window->draft()->setValue("train.lr", 0.01);
  QVERIFY(page->loadPreset(QStringLiteral("quick")));
  QCOMPARE(m_window->draft()->value("train.lr").get<double>(), 0.0002);
}

void TstWorkbench::hyperparametersEditAttentionProbes() {
  HyperparametersPage* page = m_window->hyperparametersPage();
  ConfigDraft* draft = m_window->draft();
  const auto before = draft->document();
  for (const char* key : {"probe.text", "probe.rows", "probe.attention_every"})
    QVERIFY2(page->keys().contains(QLatin1String(key)), key);
  // Rows: comma-separated numbers, spaces and empty items ignored.
  QVERIFY(page->setEditorText("probe.rows", " 3, 17,,42 "));
  QVERIFY(draft->value("probe.rows") == nlohmann::json::array({"3", "17", "42"}));
  QVERIFY(page->markedInvalid().isEmpty());
  // Not a row number: kept in the draft as typed, marked, and the config cannot start a run.
  QVERIFY(page->setEditorText("probe.rows", "3, x7"));
  QVERIFY(draft->value("probe.rows") == nlohmann::json::array({"3", "x7"}));
  QVERIFY(page->markedInvalid().contains(QStringLiteral("probe.rows")));
  QVERIFY(draft->validationError().contains(QStringLiteral("x7")));
  QVERIFY(page->setEditorText("probe.rows", ""));
  QVERIFY(draft->value("probe.rows") == nlohmann::json::array());
  QVERIFY(page->markedInvalid().isEmpty());
  // Texts: one per line, blank lines dropped, each line kept as written.
  QVERIFY(page->setEditorText("probe.text", "On 3 March 2021\n\n the 5th, again"));
  QVERIFY(draft->value("probe.text") ==
          nlohmann::json::array({"On 3 March 2021", " the 5th, again"}));
  // DEEPTUNE_HYPERPARAMETERS_SHOT=FILE grabs the page with the probes filled in.
  const QString shot = qEnvironmentVariable("DEEPTUNE_HYPERPARAMETERS_SHOT");
  if (!shot.isEmpty()) {
    QVERIFY(page->setEditorText("probe.rows", "3, 17, 42"));
    m_window->showPage(MainWindow::kHyperparameters);
    page->findChild<QLineEdit*>(QStringLiteral("probe.rows"))->ensurePolished();
    if (auto* scroll = page->findChild<QScrollArea*>())
      scroll->ensureWidgetVisible(page->findChild<QLineEdit*>(QStringLiteral("probe.rows")));
    QTest::qWait(300);
    QVERIFY(m_window->grab().save(shot));
    QVERIFY(page->setEditorText("probe.rows", ""));
  }
  QVERIFY(page->setEditorText("probe.attention_every", "0"));
  QCOMPARE(draft->value("probe.attention_every").get<int>(), 0);
  QVERIFY(page->setEditorText("probe.attention_every", "-1"));
  QVERIFY(page->markedInvalid().contains(QStringLiteral("probe.attention_every")));
  // The draft's value shows in the editor when it changes elsewhere (a preset, a duplicated run).
  draft->setValue("probe.rows", nlohmann::json::array({"5", "6"}));
  QCOMPARE(page->findChild<QLineEdit*>(QStringLiteral("probe.rows"))->text(),
           QStringLiteral("5, 6"));
  draft->setDocument(before);
  QVERIFY(page->markedInvalid().isEmpty());
}

void TstWorkbench::runsPageOverlayDiffRenameDuplicateDelete() {
  // A second, complete run to compare with the first.
  auto config = shortRunConfig("dates", 12);
  config["lora"]["r"] = 4;
  QCOMPARE(trainThroughWindow(*m_window, config, QStringLiteral("second")), RunStatus::kCompleted);
  m_window->session()->reloadRuns();

  RunsPage* page = m_window->runsPage();
  QAbstractItemModelTester tester(page->runsModel(),
                                  QAbstractItemModelTester::FailureReportingMode::QtTest);
  QCOMPARE(page->runsModel()->rowCount(), 2);
  const qint64 first = runNamed(m_project, "first")->id;
  const qint64 second = runNamed(m_project, "second")->id;
  page->selectRuns({first, second});
  QCOMPARE(page->selectedRunIds().size(), 2);
  // The curves are read in the background.
  QTRY_VERIFY_WITH_TIMEOUT(page->overlayPlot()->seriesCount() == 2, 10000);
  QVERIFY(page->overlayPlot()->pointCount(0) > 0);
  QVERIFY(page->overlayPlot()->pointCount(1) > 0);
  // Side-by-side configs: the differing keys come first and are marked.
  QTableWidget* table = page->configTable();
  QCOMPARE(table->columnCount(), 2);
  QStringList differing;
  for (int r = 0; r < table->rowCount(); ++r)
    if (table->item(r, 0)->font().bold()) differing << table->verticalHeaderItem(r)->text();
  QCOMPARE(differing, QStringList({"lora.r", "train.max_steps"}));

  // Rename through the model (what editing the cell does).
  const int row = page->runsModel()->rowOfId(second);
  QVERIFY(page->runsModel()->setData(page->runsModel()->index(row, RunsModel::kName),
                                     QStringLiteral("small-rank")));
  QVERIFY(runNamed(m_project, "small-rank").has_value());
  // A taken name is refused with a message, nothing changes.
  QSignalSpy renameFailed(page->runsModel(), &RunsModel::renameFailed);
  QVERIFY(!page->runsModel()->setData(page->runsModel()->index(row, RunsModel::kName),
                                      QStringLiteral("first")));
  QCOMPARE(renameFailed.count(), 1);
  // The refusal stays on screen through the once-a-second refresh of the list.
  m_window->session()->reloadRuns();
  QVERIFY(page->findChild<MessageBanner*>()->headline().contains(QStringLiteral("renamed")));

  // Duplicate: the draft becomes that run's config.
  page->duplicateRun(second);
  QCOMPARE(m_window->draft()->value("lora.r").get<int>(), 4);
  QCOMPARE(m_window->currentPage(), MainWindow::kHyperparameters);
}

void TstWorkbench::exportPeftAdapter() {
  ExportPage* page = m_window->exportPage();
  QSignalSpy done(page, &ExportPage::exportFinished);
  const qint64 id = runNamed(m_project, "small-rank")->id;
  const QString out = m_dir.filePath(QStringLiteral("export-peft"));
  QVERIFY(page->exportRun(id, QStringLiteral("peft"), out));
  QVERIFY(done.wait(60000));
  QVERIFY2(done.first().at(0).toBool(), qPrintable(page->banner()->detail()));
  const QStringList files = done.first().at(1).toStringList();
  QVERIFY(QFileInfo::exists(out + QStringLiteral("/adapter_config.json")));
  QVERIFY(QFileInfo::exists(out + QStringLiteral("/adapter_model.safetensors")));
  QVERIFY(files.size() >= 2);
  QCOMPARE(page->banner()->kind(), MessageBanner::Kind::kSuccess);

  // A bad destination (a file where a folder must go) fails with the engine's message.
  const QString blocker = m_dir.filePath(QStringLiteral("blocker"));
  QFile(blocker).open(QIODevice::WriteOnly);
  done.clear();
  QVERIFY(page->exportRun(id, QStringLiteral("peft"), blocker + QStringLiteral("/sub")));
  QVERIFY(done.wait(60000));
  QVERIFY(!done.first().at(0).toBool());
  QCOMPARE(page->banner()->kind(), MessageBanner::Kind::kError);
  QVERIFY(!page->banner()->detail().isEmpty());
}

void TstWorkbench::refusedStartsRecordNothing() {
  // What the engine refuses before a run is claimed or created comes back as startFailed — a
  // message, no runStarted, no runFinished, no 'failed' run — and the Train page says so.
  RunController* runs = m_window->runController();
  QSignalSpy started(runs, &RunController::runStarted);
  QSignalSpy failed(runs, &RunController::startFailed);
  QSignalSpy finished(runs, &RunController::runFinished);
  const auto completed = runNamed(m_project, "small-rank");
  QCOMPARE(completed->status, RunStatus::kCompleted);
  QVERIFY(runs->resumeRun(m_project, completed->id));  // completed: nothing to resume
  QVERIFY(failed.wait(30000));
  QVERIFY2(failed.first().first().toString().contains(QStringLiteral("small-rank")),
           qPrintable(failed.first().first().toString()));
  QVERIFY(!runs->isBusy());
  const auto after = runNamed(m_project, "small-rank");
  QCOMPARE(after->status, RunStatus::kCompleted);
  QCOMPARE(after->error_text, completed->error_text);
  QCOMPARE(m_window->trainPage()->banner()->headline(), QStringLiteral("The run could not start"));

  // Config errors known before start: an unknown dataset; fp16 on the CPU.
  const size_t before = m_window->session()->runs().size();
  for (const auto& [name, key, value] :
       {std::tuple<std::string, std::string, nlohmann::json>{"no-dataset", "/data/dataset", "nope"},
        {"fp16-on-cpu", "/train/precision", "fp16"}}) {
    failed.clear();
    auto config = shortRunConfig("dates", 3);
    config[nlohmann::json::json_pointer(key)] = value;
    QVERIFY(runs->startRun(m_project, QString::fromStdString(config.dump()),
                           QString::fromStdString(name)));
    QVERIFY2(failed.wait(60000) || !finished.isEmpty(), name.c_str());
    QVERIFY2(finished.isEmpty(), name.c_str());
    QVERIFY2(!runNamed(m_project, name).has_value(), name.c_str());
  }
  QCOMPARE(started.count(), 0);
  m_window->session()->reloadRuns();
  QCOMPARE(m_window->session()->runs().size(), before);
}

void TstWorkbench::failedRunIsStoredAndShown() {
  // A dataset whose file disappears after it was registered: the engine refuses the run while
  // preparing it; the page says why and no 'failed' run is left behind.
  const QString file = deeptune::test::writeSample(m_dir.path(), "dates_fr.jsonl");
  DataPage* data = m_window->dataPage();
  QSignalSpy added(data, &DataPage::datasetAdded);
  QVERIFY(data->addDataset(file, QStringLiteral("vanishing")));
  QVERIFY(added.wait(30000));
  QVERIFY(QFile::remove(file));
  m_window->draft()->setDocument(shortRunConfig("vanishing", 5));
  RunController* runs = m_window->runController();
  QSignalSpy refused(runs, &RunController::startFailed);
  QSignalSpy finished(runs, &RunController::runFinished);
  QVERIFY(m_window->trainPage()->startRun(QStringLiteral("refused")));
  QVERIFY(refused.wait(60000));
  QVERIFY(finished.isEmpty());
  MessageBanner* banner = m_window->trainPage()->banner();
  QCOMPARE(banner->kind(), MessageBanner::Kind::kError);
  QCOMPARE(banner->headline(), QStringLiteral("The run could not start"));
  QVERIFY2(banner->detail().contains(QStringLiteral("dates_fr.jsonl")),
           qPrintable(banner->detail()));
  const auto refusedRun = runNamed(m_project, "refused");
  QVERIFY(!refusedRun || refusedRun->status != RunStatus::kFailed);

  // A failure while training (the run's folder replaced by a file, so its first checkpoint cannot
  // be written) ends the run as failed with the reason stored, and the page shows it.
  auto config = shortRunConfig("dates", 400);
  config["train"]["checkpoint_every"] = 8;
  m_window->draft()->setDocument(config);
  QSignalSpy steps(runs, &RunController::stepsFinished);
  QVERIFY(m_window->trainPage()->startRun(QStringLiteral("doomed")));
  QVERIFY(steps.wait(60000));
  const qint64 doomedId = steps.first().first().toLongLong();
  const QString runFolder =
      QFileInfo(m_project).absolutePath() + QStringLiteral("/gui.runs/run-%1").arg(doomedId);
  QVERIFY(QDir(runFolder).removeRecursively());
  QFile blocker(runFolder);
  QVERIFY(blocker.open(QIODevice::WriteOnly));
  blocker.close();
  QVERIFY(finished.wait(60000));
  QCOMPARE(finished.first().at(1).value<deeptune::RunStatus>(), RunStatus::kFailed);
  const QString error = finished.first().at(2).toString();
  QVERIFY2(error.contains(QStringLiteral("run-%1").arg(doomedId)), qPrintable(error));
  const auto run = runNamed(m_project, "doomed");
  QCOMPARE(run->status, RunStatus::kFailed);
  QCOMPARE(QString::fromStdString(run->error_text), error);
  QCOMPARE(banner->kind(), MessageBanner::Kind::kError);
  QCOMPARE(banner->headline(), QStringLiteral("The run failed"));
  QCOMPARE(banner->detail(), error);
  QVERIFY(QFile::remove(runFolder));
  // Still usable: the next run starts.
  QCOMPARE(
      trainThroughWindow(*m_window, shortRunConfig("dates", 3), QStringLiteral("after-failure")),
      RunStatus::kCompleted);

  // Deleting a run removes its row and its folder.
  RunsPage* runsPage = m_window->runsPage();
  const auto done = runNamed(m_project, "after-failure");
  const QString folder =
      QFileInfo(m_project).absolutePath() + QStringLiteral("/gui.runs/run-%1").arg(done->id);
  QVERIFY(QFileInfo::exists(folder));
  QSignalSpy deleted(runsPage, &RunsPage::runDeleted);
  QVERIFY(runsPage->deleteRun(done->id));  // in the background
  QVERIFY(deleted.wait(30000));
  QCOMPARE(deleted.first().first().toLongLong(), done->id);
  QVERIFY(!runNamed(m_project, "after-failure").has_value());
  QVERIFY(!QFileInfo::exists(folder));
  QVERIFY(!m_window->session()->run(done->id).has_value());
}

void TstWorkbench::droppedFileOpensMappingDialog() {
  // Dropping a CSV on the Data page opens the mapping dialog with the detected format, the
  // file's columns and the guessed text + label mapping; accepting it registers the file.
  m_window->showPage(MainWindow::kData);
  DataPage* data = m_window->dataPage();
  const QString file = deeptune::test::writeSample(m_dir.path(), "tickets.csv");
  QMimeData mime;
  mime.setUrls({QUrl::fromLocalFile(file)});
  QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(data, &enter);
  QVERIFY(enter.isAccepted());
  QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(data, &drop);
  AddDatasetDialog* dialog = data->findChild<AddDatasetDialog*>();
  QVERIFY(dialog);
  QVERIFY(dialog->isVisible());
  QCOMPARE(dialog->loadError(), QString());
  QCOMPARE(dialog->datasetName(), QStringLiteral("tickets"));
  QCOMPARE(dialog->format(), deeptune::DataFormat::kCsv);
  QCOMPARE(dialog->mapping().kind(), deeptune::MappingKind::kTextLabel);
  QCOMPARE(dialog->mapping().text, std::string("text"));
  QCOMPARE(dialog->mapping().label, std::string("label"));
  QSignalSpy added(data, &DataPage::datasetAdded);
  dialog->accept();
  QVERIFY(added.wait(30000));
  QCOMPARE(added.first().first().toString(), QStringLiteral("tickets"));
  QVERIFY(data->labelPlot()->categoryCount() >= 2);  // its label balance is plotted

  // A file that is not a dataset gets the message, not the dialog.
  const QString binary = m_dir.filePath(QStringLiteral("wide.txt"));
  QFile f(binary);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write(QByteArray("\xff\xfeh\0i\0", 6));
  f.close();
  data->addDatasetInteractively(binary);
  QCOMPARE(data->banner()->kind(), MessageBanner::Kind::kError);
  QVERIFY(data->banner()->detail().contains(QStringLiteral("wide.txt")));
}

namespace {

// Clicks the Runs page's Delete button and answers the question it asks (after looking up what
// depends on the run, in the background). Returns the question's text and informative text.
QString answerDelete(RunsPage* page, bool yes) {
  auto* button = page->findChild<QPushButton*>(QStringLiteral("deleteRunButton"));
  if (!button || !button->isEnabled()) return QStringLiteral("(no enabled delete button)");
  button->click();
  QMessageBox* box = nullptr;
  QDeadlineTimer deadline(10000);
  while (!box && !deadline.hasExpired()) {
    QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    for (QMessageBox* b : page->findChildren<QMessageBox*>())
      if (b->isVisible()) box = b;
  }
  if (!box) return QStringLiteral("(no question)");
  const QString text = box->text() + QLatin1Char('\n') + box->informativeText();
  if (yes) {
    for (QAbstractButton* b : box->buttons())
      if (box->buttonRole(b) == QMessageBox::DestructiveRole) b->click();
  } else {
    box->button(QMessageBox::Cancel)->click();
  }
  QCoreApplication::processEvents();
  return text;
}

}  // namespace

void TstWorkbench::deleteAsksFirst() {
  m_window->session()->reloadRuns();
  RunsPage* page = m_window->runsPage();
  const qint64 id = runNamed(m_project, "doomed")->id;
  page->selectRuns({id});
  QVERIFY(answerDelete(page, false).contains(QStringLiteral("doomed")));
  QVERIFY(runNamed(m_project, "doomed").has_value());
  QSignalSpy deleted(page, &RunsPage::runDeleted);
  QVERIFY(answerDelete(page, true).contains(QStringLiteral("doomed")));
  // The answer may have come while the question was answered; a refusal shows in the banner.
  QVERIFY2(!deleted.isEmpty() || deleted.wait(30000), qPrintable(page->banner()->detail()));
  QVERIFY(!runNamed(m_project, "doomed").has_value());
}

void TstWorkbench::deleteSaysWhatBreaks() {
  // Two runs start from "first": one has not started (it needs first's weights to start), one
  // has (it keeps its own copy of them).
  auto child = shortRunConfig("dates", 3);
  child["model"]["source"] = "run:first";
  const std::string project = m_project.toStdString();
  const auto config = deeptune::RunConfig::from_json(child);
  deeptune::create_run(project, config, "waiting-child");
  QCOMPARE(trainThroughWindow(*m_window, child, QStringLiteral("started-child")),
           RunStatus::kCompleted);
  m_window->session()->reloadRuns();

  RunsPage* page = m_window->runsPage();
  const qint64 first = runNamed(m_project, "first")->id;
  // Without force the engine refuses, naming the run that could not start; the page says so.
  QSignalSpy deleted(page, &RunsPage::runDeleted);
  QVERIFY(page->deleteRun(first));
  QTRY_VERIFY_WITH_TIMEOUT(page->banner()->headline() == QStringLiteral("The run was not deleted"),
                           30000);
  QVERIFY2(page->banner()->detail().contains(QStringLiteral("waiting-child")),
           qPrintable(page->banner()->detail()));
  QVERIFY(runNamed(m_project, "first").has_value());

  // The question lists both, the one that needs it as unable to start; cancelling keeps all.
  page->selectRuns({first});
  const QString question = answerDelete(page, false);
  QVERIFY2(
      question.contains(QStringLiteral("'waiting-child' has not started yet and cannot start")),
      qPrintable(question));
  QVERIFY2(question.contains(QStringLiteral("'started-child' started from its weights")),
           qPrintable(question));
  QVERIFY(runNamed(m_project, "first").has_value());
  // Confirmed: deleted although a run still needed it; the children stay.
  QVERIFY(answerDelete(page, true).contains(QStringLiteral("first")));
  // The answer may have come while the question was answered; a refusal shows in the banner.
  QVERIFY2(!deleted.isEmpty() || deleted.wait(30000), qPrintable(page->banner()->detail()));
  QVERIFY(!runNamed(m_project, "first").has_value());
  QVERIFY(runNamed(m_project, "waiting-child").has_value());
  QVERIFY(runNamed(m_project, "started-child").has_value());
}

void TstWorkbench::malformedDatasetGivesMessage() {
  const QString bad = m_dir.filePath(QStringLiteral("bad.jsonl"));
  QFile f(bad);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write("{\"prompt\": \"a\", \"response\": \"b\"}\n{\"prompt\": \"c\", \"resp\n");
  f.close();
  DataPage* data = m_window->dataPage();
  const int rows = data->datasetsModel()->rowCount();
  QSignalSpy failed(data, &DataPage::datasetAddFailed);
  QVERIFY(data->addDataset(bad, QStringLiteral("bad")));
  QVERIFY(failed.wait(30000));
  const QString message = failed.first().first().toString();
  QVERIFY2(message.contains(QStringLiteral("bad.jsonl:2")), qPrintable(message));
  QCOMPARE(data->banner()->kind(), MessageBanner::Kind::kError);
  QCOMPARE(data->datasetsModel()->rowCount(), rows);
  auto store = deeptune::ProjectStore::open(m_project.toStdString());
  QVERIFY(!store->find_dataset("bad").has_value());
}

void TstWorkbench::nonProjectAndNewerFilesAreRefusedUnchanged() {
  const QString text = m_dir.filePath(QStringLiteral("notes.dtproj"));
  QFile f(text);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write("just some notes, not a database\n");
  f.close();
  const QByteArray before = fileHash(text);
  QVERIFY(!m_window->openProject(text));
  QCOMPARE(m_window->banner()->headline(), QStringLiteral("Could not open the project"));
  QVERIFY(m_window->banner()->detail().contains(QStringLiteral("notes.dtproj")));
  QCOMPARE(fileHash(text), before);
  QCOMPARE(m_window->session()->path(), QFileInfo(m_project).absoluteFilePath());  // still open

  // A project written by a newer version.
  const QString newer = m_dir.filePath(QStringLiteral("newer.dtproj"));
  deeptune::ProjectStore::create(newer.toStdString(), "newer");
  sqlite3* db = nullptr;
  QCOMPARE(sqlite3_open(newer.toUtf8().constData(), &db), SQLITE_OK);
  QCOMPARE(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  const QByteArray newerBefore = fileHash(newer);
  QVERIFY(!m_window->openProject(newer));
  QVERIFY2(m_window->banner()->detail().contains(QStringLiteral("newer")),
           qPrintable(m_window->banner()->detail()));
  QCOMPARE(fileHash(newer), newerBefore);
  QCOMPARE(m_window->session()->path(), QFileInfo(m_project).absoluteFilePath());
}

void TstWorkbench::followsRunOfAnotherProcess() {
  // deeptune-cli trains a run of the open project; the Train page picks it up and plots what it
  // records, then notices it ended when the process stops it (SIGTERM stops cleanly).
  // First a file dialog lists the project's folder, as Add dataset does: it must not open the
  // project file (see filedialogs.h), or the window would stop seeing the CLI's writes.
  {
    std::unique_ptr<QFileDialog> dialog(makeFileDialog(
        m_window.get(), QStringLiteral("browse"), QFileInfo(m_project).absolutePath(), QString()));
    dialog->setViewMode(QFileDialog::Detail);
    dialog->show();
    QTest::qWait(1500);
  }
  QProcess cli;
  cli.setProcessChannelMode(QProcess::MergedChannels);
  cli.start(QStringLiteral(DEEPTUNE_CLI_PATH),
            {QStringLiteral("train"),  m_project,
             QStringLiteral("--name"), QStringLiteral("from-cli"),
             QStringLiteral("--set"),  QStringLiteral("data.dataset=dates"),
             QStringLiteral("--set"),  QStringLiteral("model.source=preset:tiny"),
             QStringLiteral("--set"),  QStringLiteral("device=cpu"),
             QStringLiteral("--set"),  QStringLiteral("data.max_length=48"),
             QStringLiteral("--set"),  QStringLiteral("train.batch_size=8"),
             QStringLiteral("--set"),  QStringLiteral("train.micro_batch_size=8"),
             QStringLiteral("--set"),  QStringLiteral("train.max_steps=100000"),
             QStringLiteral("--set"),  QStringLiteral("train.eval_every=10")});
  QVERIFY(cli.waitForStarted());
  TrainPage* train = m_window->trainPage();
  QSignalSpy reads(train->historyReader(), &RunHistoryReader::historyRead);
  QTRY_VERIFY2_WITH_TIMEOUT(train->isFollowingExternalRun(), cli.readAll().constData(), 60000);
  const qint64 id = train->displayedRunId();
  QCOMPARE(m_window->session()->run(id)->name, std::string("from-cli"));
  QTRY_VERIFY_WITH_TIMEOUT(train->lossPlot()->pointCount(0) >= 5, 60000);
  QTRY_VERIFY_WITH_TIMEOUT(train->logText().contains(QStringLiteral("training on")), 10000);
  cli.terminate();
  QVERIFY(cli.waitForFinished(60000));
  QTRY_VERIFY_WITH_TIMEOUT(!train->isFollowingExternalRun(), 10000);
  QCOMPARE(runNamed(m_project, "from-cli")->status, RunStatus::kStopped);
  auto store = deeptune::ProjectStore::open(m_project.toStdString());
  QCOMPARE(train->lossPlot()->pointCount(0),
           static_cast<int>(store->metrics(id).at("train/loss").size()));
  // Polls asked only for what was new: every recorded log line was read. (Under load a poll may
  // be answered after the next one was sent; the page drops such stale answers, so a line may be
  // read twice but is shown once — checked on the page's text below.)
  std::set<int64_t> linesRead;
  int readsOfRun = 0;
  for (const auto& args : reads)
    for (const RunHistory& h : args.at(1).value<QList<RunHistory>>())
      if (h.runId == id) {
        for (const auto& line : h.logs) linesRead.insert(line.id);
        ++readsOfRun;
      }
  QVERIFY(readsOfRun >= 3);
  QCOMPARE(linesRead.size(), store->logs(id).size());
  QCOMPARE(train->logText().count(QStringLiteral("training on")), 1);
}

void TstWorkbench::settingsRememberPageAndRecent() {
  m_window->showPage(MainWindow::kRuns);
  QCOMPARE(AppSettings::lastPage(), QStringLiteral("runs"));
  QCOMPARE(AppSettings::recentProjects().value(0), QFileInfo(m_project).absoluteFilePath());
  m_window->close();  // saves geometry
  QVERIFY(!AppSettings::windowGeometry().isEmpty());
  // A new window comes back on the same page.
  MainWindow second;
  QCOMPARE(second.currentPage(), MainWindow::kRuns);
  QCOMPARE(second.pageList()->count(), int(MainWindow::kPageCount));
}

void TstWorkbench::cleanupTestCase() {
  m_window.reset();
}

QTEST_MAIN(TstWorkbench)
#include "tst_workbench.moc"
