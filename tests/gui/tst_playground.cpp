// The Playground page in a real window on the offscreen platform, against a project with a tiny
// LoRA run trained for the suite: text streams in pieces and ends as the engine's generate() for
// the same options, Stop and stop strings end a generation, side by side shows base and tuned,
// a model folder generates without a base, and bad options or a deleted run end in the banner.
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QGroupBox>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest>

#include "deeptune/project.h"
#include "deeptune/session.h"
#include "deeptune/store.h"
#include "mainwindow.h"
#include "messagebanner.h"
#include "playgroundpage.h"
#include "projectsession.h"
#include "translations.h"
#include "window_support.h"

namespace {

const QString kPrompt = QStringLiteral("2017-02-24");
const QString kFixtures = QStringLiteral(DEEPTUNE_SOURCE_DIR "/tests/interop/fixtures/models");

// Trains `name` headless (the suite is about the Playground, not the Train page).
int64_t trainRun(const std::string& project, const std::string& name,
                 const nlohmann::json& config) {
  const int64_t id = deeptune::create_run(project, deeptune::RunConfig::from_json(config), name);
  deeptune::RunObserver observer;
  deeptune::RunControl control;
  const auto outcome = deeptune::execute_run(project, id, observer, control);
  return outcome.status == deeptune::RunStatus::kCompleted ? id : 0;
}

int64_t trainRun(const std::string& project, const std::string& name, int steps, double lr) {
  auto config = deeptune::test::shortRunConfig("dates", steps);
  config["train"]["lr"] = lr;
  return trainRun(project, name, config);
}

// Asks the trainer to stop once it has done `at` steps (it saves a checkpoint there).
class StopAt : public deeptune::RunObserver {
 public:
  StopAt(deeptune::RunControl& control, int64_t at) : m_control(control), m_at(at) {}
  void on_step(const deeptune::StepMetrics& s) override {
    if (s.step >= m_at) m_control.request_stop();
  }

 private:
  deeptune::RunControl& m_control;
  int64_t m_at;
};

// What one press of Generate produced, as the page's service reported it.
struct Pressed {
  quint64 ticket = 0;
  QStringList pieces[2];  // textGenerated per pane: [0] base, [1] tuned
  QList<PlaygroundOutput> outputs;
  QList<UserMessage> failures;
};

}  // namespace

class TstPlayground : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void parsesStopStrings_data();
  void parsesStopStrings();
  void streamsTheEnginesText();
  void stopEndsAGenerationEarly();
  void stopStringEndsIt();
  void sideBySideShowsBaseAndTuned();
  void modelFolderHasNoBase();
  void badOptionGivesMessage();
  void newerCheckpointIsLoaded();
  void deletedRunGivesMessage();
  void closingTheProjectEmptiesTheList();
  void screenshotOnRequest();

 private:
  enum class Stop { kNever, kAtOnce, kAfterFirstPiece };
  // Presses Generate (and Stop when `stop` says) and waits for the generation's end.
  Pressed press(Stop stop = Stop::kNever);
  // Chooses the run and waits until its model is loaded.
  bool choose(qint64 runId);
  bool waitIdle();  // until the page's service has no job left
  PlaygroundPage* page() const { return m_window->playgroundPage(); }

  QTemporaryDir m_dir;
  std::string m_project;
  int64_t m_run = 0;
  std::unique_ptr<MainWindow> m_window;
};

void TstPlayground::initTestCase() {
  QVERIFY(m_dir.isValid());
  m_window = deeptune::test::openWindow(m_dir);
  m_project = m_dir.filePath(QStringLiteral("play.dtproj")).toStdString();
  {
    auto store = deeptune::ProjectStore::create(m_project, "playground");
    deeptune::DatasetSource source;
    source.path = deeptune::test::writeSample(m_dir.path(), "dates.jsonl").toStdString();
    source.name = "dates";
    deeptune::register_dataset(*store, source);
  }
  // A learning rate high enough that the adapter changes the greedy text within a few steps.
  m_run = trainRun(m_project, "tuned", 40, 3e-3);
  QVERIFY(m_run != 0);
  QVERIFY(m_window->openProject(QString::fromStdString(m_project)));
  m_window->session()->setPollInterval(0);  // the suite reloads the runs itself
  m_window->showPage(MainWindow::kPlayground);
  QVERIFY(page()->isVisible());
  QVERIFY(choose(m_run));
}

bool TstPlayground::choose(qint64 runId) {
  if (!page()->selectRun(runId)) return false;
  return waitIdle();
}

bool TstPlayground::waitIdle() {
  QSignalSpy busy(page()->service(), &PlaygroundService::busyChanged);
  QDeadlineTimer deadline(60000);
  while (page()->service()->isBusy() && !deadline.hasExpired()) busy.wait(200);
  return !page()->service()->isBusy();
}

Pressed TstPlayground::press(Stop stop) {
  Pressed p;
  PlaygroundService* service = page()->service();
  QSignalSpy finished(page(), &PlaygroundPage::generationFinished);
  const auto c1 = connect(service, &PlaygroundService::textGenerated, this,
                          [this, &p, stop](quint64, bool tuned, const QString& text) {
                            p.pieces[tuned ? 1 : 0] << text;
                            if (stop == Stop::kAfterFirstPiece && p.pieces[1].size() == 1)
                              QTest::mouseClick(page()->stopButton(), Qt::LeftButton);
                          });
  const auto c2 = connect(service, &PlaygroundService::outputFinished, this,
                          [&p](quint64, const PlaygroundOutput& o) { p.outputs << o; });
  const auto c3 = connect(service, &PlaygroundService::generationFailed, this,
                          [&p](quint64, const UserMessage& m) { p.failures << m; });
  QTest::mouseClick(page()->generateButton(), Qt::LeftButton);
  if (stop == Stop::kAtOnce) QTest::mouseClick(page()->stopButton(), Qt::LeftButton);
  if (finished.wait(120000)) p.ticket = finished.first().first().value<quint64>();
  disconnect(c1);
  disconnect(c2);
  disconnect(c3);
  return p;
}

void TstPlayground::parsesStopStrings_data() {
  QTest::addColumn<QString>("text");
  QTest::addColumn<QStringList>("expected");
  QTest::newRow("empty") << QString() << QStringList{};
  QTest::newRow("commas and newlines")
      << QStringLiteral("a, b\nc,,\n") << QStringList{"a", "b", "c"};
  QTest::newRow("escaped newline") << QStringLiteral("\\n") << QStringList{"\n"};
  QTest::newRow("escaped comma kept with its spaces")
      << QStringLiteral(" x \\, y ") << QStringList{"x , y"};
  QTest::newRow("escaped newline not trimmed") << QStringLiteral(" \\nQ: ") << QStringList{"\nQ:"};
  QTest::newRow("escaped spaces kept") << QStringLiteral(" \\ Q:\\  ") << QStringList{" Q: "};
  QTest::newRow("other backslashes as typed")
      << QStringLiteral("C:\\d, \\\\") << QStringList{"C:\\d", "\\"};
}

void TstPlayground::parsesStopStrings() {
  QFETCH(QString, text);
  QFETCH(QStringList, expected);
  QStringList got;
  for (const auto& s : PlaygroundPage::parseStopStrings(text)) got << QString::fromStdString(s);
  QCOMPARE(got, expected);
}

void TstPlayground::streamsTheEnginesText() {
  page()->promptEdit()->setPlainText(kPrompt);
  page()->maxNewTokensBox()->setValue(200);
  page()->stopEdit()->clear();
  QVERIFY(!page()->stopButton()->isEnabled());
  const Pressed p = press();
  QVERIFY(p.ticket != 0);
  QVERIFY(p.failures.isEmpty());
  QCOMPARE(p.outputs.size(), 1);
  const PlaygroundOutput& out = p.outputs.first();
  QVERIFY(out.tuned);

  // The engine's own answer for the same options.
  deeptune::GenerateOptions o = page()->options();
  QCOMPARE(o.max_new_tokens, 200);
  QCOMPARE(o.temperature, 0.0);
  const auto g = deeptune::generate(m_project, "tuned", kPrompt.toStdString(), o);
  QCOMPARE(out.text, QString::fromStdString(g.text));
  QCOMPARE(page()->output(true)->toPlainText(), QString::fromStdString(g.text));
  QCOMPARE(out.stopReason, QString::fromStdString(g.stop_reason));
  QCOMPARE(out.outputTokens, int(g.output_ids.size()));
  QVERIFY2(g.output_ids.size() > 20, g.text.c_str());

  // It streamed: several updates that add up to the text.
  QVERIFY2(p.pieces[1].size() > 1, qPrintable(QString::number(p.pieces[1].size())));
  QCOMPARE(p.pieces[1].join(QString()), out.text);
  QVERIFY(p.pieces[0].isEmpty());

  QVERIFY(out.tokensPerSecond() > 0.0);
  const QString stats = page()->outputStats(true)->text();
  QVERIFY2(stats.contains(QStringLiteral("tokens/s")), qPrintable(stats));
  QVERIFY2(stats.contains(PlaygroundPage::stopReasonText(out.stopReason)), qPrintable(stats));
  QVERIFY(page()->generateButton()->isEnabled());
  QVERIFY(!page()->stopButton()->isEnabled());
  QVERIFY(!page()->output(false)->parentWidget()->isVisible());  // no base pane
}

void TstPlayground::stopEndsAGenerationEarly() {
  page()->promptEdit()->setPlainText(kPrompt);
  // Stopped while a long generation streams, as a user stops it: a model twice as wide and deep
  // as the tiny one, so the thousand tokens asked for take seconds, and the click comes long
  // before their end.
  auto config = deeptune::test::shortRunConfig("dates", 4);
  config["model"]["source"] = "preset:small";
  const int64_t wide = trainRun(m_project, "wide", config);
  QVERIFY(wide != 0);
  m_window->session()->reloadRuns();
  QVERIFY(choose(wide));
  page()->maxNewTokensBox()->setValue(1000);
  QElapsedTimer clock;
  clock.start();
  const Pressed stopped = press(Stop::kAfterFirstPiece);
  const qint64 stoppedMs = clock.elapsed();
  QCOMPARE(stopped.outputs.size(), 1);
  const PlaygroundOutput& out = stopped.outputs.first();
  QCOMPARE(out.stopReason, QStringLiteral("callback"));
  const auto full = deeptune::generate(m_project, "wide", kPrompt.toStdString(), page()->options());
  QVERIFY2(out.outputTokens < int(full.output_ids.size()) / 2,
           qPrintable(QStringLiteral("%1 of %2 tokens in %3 ms")
                          .arg(out.outputTokens)
                          .arg(full.output_ids.size())
                          .arg(stoppedMs)));
  QVERIFY(QString::fromStdString(full.text).startsWith(out.text));
  QCOMPARE(stopped.pieces[1].join(QString()), out.text);
  QVERIFY(page()->outputStats(true)->text().contains(PlaygroundPage::stopReasonText("callback")));
  QCOMPARE(page()->output(true)->toPlainText(), out.text);

  // The next generation is not stopped.
  QVERIFY(choose(m_run));
  page()->maxNewTokensBox()->setValue(30);
  const Pressed again = press();
  QCOMPARE(again.outputs.size(), 1);
  QVERIFY(again.outputs.first().stopReason != QStringLiteral("callback"));
}

void TstPlayground::stopStringEndsIt() {
  page()->promptEdit()->setPlainText(kPrompt);
  page()->maxNewTokensBox()->setValue(200);
  deeptune::GenerateOptions o = page()->options();
  const auto g = deeptune::generate(m_project, "tuned", kPrompt.toStdString(), o);
  // Two characters from the middle of the greedy text (letters or digits where it has some),
  // typed into the field with its escapes.
  QVERIFY2(g.text.size() >= 6, g.text.c_str());
  std::string stop = g.text.substr(2, 2);
  for (size_t i = 2; i + 1 < g.text.size(); ++i)
    if (std::isalnum(static_cast<unsigned char>(g.text[i]))) {
      stop = g.text.substr(i, 2);
      break;
    }
  QString typed;
  for (const QChar c : QString::fromStdString(stop))
    typed += c == QLatin1Char('\n')   ? QStringLiteral("\\n")
             : c == QLatin1Char('\t') ? QStringLiteral("\\t")
             : c == QLatin1Char(' ')  ? QStringLiteral("\\ ")
             : c == QLatin1Char(',')  ? QStringLiteral("\\,")
             : c == QLatin1Char('\\') ? QStringLiteral("\\\\")
                                      : QString(c);
  page()->stopEdit()->setPlainText(QStringLiteral("never appears,\n") + typed);
  const Pressed p = press();
  page()->stopEdit()->clear();
  QCOMPARE(p.outputs.size(), 1);
  QCOMPARE(p.outputs.first().stopReason, QStringLiteral("stop"));
  const QString expected = QString::fromStdString(g.text.substr(0, g.text.find(stop)));
  QCOMPARE(p.outputs.first().text, expected);
  QCOMPARE(page()->output(true)->toPlainText(), expected);
  QVERIFY(page()->outputStats(true)->text().contains(PlaygroundPage::stopReasonText("stop")));
}

void TstPlayground::sideBySideShowsBaseAndTuned() {
  auto generator = deeptune::Generator::for_run(m_project, "tuned");
  QVERIFY(generator->has_base());
  QVERIFY(page()->sideBySideBox()->isEnabled());
  QCOMPARE(page()->chatBox()->isEnabled(), generator->has_chat_template());
  page()->promptEdit()->setPlainText(kPrompt);
  page()->maxNewTokensBox()->setValue(40);
  page()->sideBySideBox()->setChecked(true);
  const Pressed p = press();
  page()->sideBySideBox()->setChecked(false);
  QVERIFY(p.failures.isEmpty());
  QCOMPARE(p.outputs.size(), 2);
  QCOMPARE(p.outputs[0].tuned, false);
  QCOMPARE(p.outputs[1].tuned, true);
  QVERIFY(page()->output(false)->parentWidget()->isVisible());
  QVERIFY(page()->output(true)->parentWidget()->isVisible());

  const deeptune::GenerateOptions o = page()->options();
  const auto base = generator->generate(kPrompt.toStdString(), o, false);
  const auto tuned = generator->generate(kPrompt.toStdString(), o, true);
  QCOMPARE(page()->output(false)->toPlainText(), QString::fromStdString(base.text));
  QCOMPARE(page()->output(true)->toPlainText(), QString::fromStdString(tuned.text));
  QCOMPARE(p.pieces[0].join(QString()), QString::fromStdString(base.text));
  QCOMPARE(p.pieces[1].join(QString()), QString::fromStdString(tuned.text));
  // The panes can tell the two apart: the adapter changed the text.
  QVERIFY2(base.text != tuned.text, base.text.c_str());
  QVERIFY(!page()->outputStats(false)->text().isEmpty());
}

void TstPlayground::modelFolderHasNoBase() {
  const QString folder = kFixtures + QStringLiteral("/qwen3");
  auto generator = deeptune::Generator::for_folder(folder.toStdString());
  QSignalSpy loaded(page()->service(), &PlaygroundService::modelLoaded);
  page()->addFolder(folder);
  QVERIFY(waitIdle());
  QCOMPARE(loaded.size(), 1);
  QVERIFY(!page()->sideBySideBox()->isEnabled());
  QCOMPARE(page()->chatBox()->isEnabled(), generator->has_chat_template());
  page()->promptEdit()->setPlainText(QStringLiteral("Hello"));
  page()->maxNewTokensBox()->setValue(12);
  page()->sideBySideBox()->setChecked(true);  // disabled: ignored
  page()->chatBox()->setChecked(generator->has_chat_template());
  const Pressed p = press();
  QVERIFY(p.failures.isEmpty());
  QCOMPARE(p.outputs.size(), 1);
  const auto g = generator->generate("Hello", page()->options(), true);
  QCOMPARE(p.outputs.first().text, QString::fromStdString(g.text));
  QVERIFY(!page()->output(false)->parentWidget()->isVisible());
  page()->chatBox()->setChecked(false);
  page()->sideBySideBox()->setChecked(false);

  // A folder that holds no model: the banner says so, naming it; Generate says it again.
  QSignalSpy failed(page()->service(), &PlaygroundService::loadFailed);
  page()->addFolder(m_dir.path());
  QVERIFY(waitIdle());
  QCOMPARE(failed.size(), 1);
  QCOMPARE(page()->banner()->kind(), MessageBanner::Kind::kError);
  QCOMPARE(page()->banner()->headline(), QStringLiteral("The model could not be loaded"));
  QVERIFY2(page()->banner()->detail().contains(m_dir.path()),
           qPrintable(page()->banner()->detail()));
  const Pressed refused = press();
  QVERIFY(refused.outputs.isEmpty());
  QCOMPARE(refused.failures.size(), 1);
  QCOMPARE(page()->banner()->headline(), QStringLiteral("The model could not be loaded"));
  QVERIFY(choose(m_run));
  QVERIFY(page()->sideBySideBox()->isEnabled());
}

void TstPlayground::badOptionGivesMessage() {
  page()->promptEdit()->setPlainText(kPrompt);
  page()->maxNewTokensBox()->setValue(10);
  page()->topPBox()->setValue(0.0);
  const Pressed p = press();
  page()->topPBox()->setValue(1.0);
  QVERIFY(p.ticket != 0);
  QVERIFY(p.outputs.isEmpty());
  QCOMPARE(p.failures.size(), 1);
  MessageBanner* banner = page()->banner();
  QCOMPARE(banner->kind(), MessageBanner::Kind::kError);
  QCOMPARE(banner->headline(), QStringLiteral("The generation failed"));
  QVERIFY2(banner->detail().contains(QStringLiteral("top_p")), qPrintable(banner->detail()));
  // The page stays usable, and the next generation clears the message.
  const Pressed again = press();
  QCOMPARE(again.outputs.size(), 1);
  QVERIFY(banner->headline().isEmpty());
}

void TstPlayground::newerCheckpointIsLoaded() {
  auto config = deeptune::test::shortRunConfig("dates", 30);
  config["train"]["lr"] = 3e-3;
  const int64_t id =
      deeptune::create_run(m_project, deeptune::RunConfig::from_json(config), "growing");
  deeptune::RunControl control;
  StopAt stopAt(control, 10);
  QCOMPARE(deeptune::execute_run(m_project, id, stopAt, control).status,
           deeptune::RunStatus::kStopped);
  m_window->session()->reloadRuns();
  QSignalSpy loaded(page()->service(), &PlaygroundService::modelLoaded);
  QVERIFY(choose(id));
  QCOMPARE(loaded.size(), 1);
  const QString first = loaded.takeFirst().first().value<PlaygroundModelInfo>().description;
  page()->promptEdit()->setPlainText(kPrompt);
  page()->maxNewTokensBox()->setValue(40);
  QCOMPARE(press().outputs.size(), 1);
  QCOMPARE(loaded.size(), 0);  // kept loaded between generations

  // Resumed to its end by another process: the next generation notices the newer checkpoint
  // itself (the page's list has not been told) and answers with it.
  control.reset();
  deeptune::RunObserver quiet;
  QCOMPARE(deeptune::execute_run(m_project, id, quiet, control).status,
           deeptune::RunStatus::kCompleted);
  const Pressed p = press();
  QCOMPARE(p.outputs.size(), 1);
  QCOMPARE(loaded.size(), 1);
  const QString second = loaded.first().first().value<PlaygroundModelInfo>().description;
  QVERIFY2(first != second, qPrintable(first));
  QVERIFY2(second.contains(QStringLiteral("30")), qPrintable(second));
  const auto g = deeptune::generate(m_project, "growing", kPrompt.toStdString(), page()->options());
  QCOMPARE(p.outputs.first().text, QString::fromStdString(g.text));
  m_window->session()->reloadRuns();
  QVERIFY(page()->modelBox()->currentText().contains(QStringLiteral("30")));
  QVERIFY(waitIdle());
  QCOMPARE(loaded.last().first().value<PlaygroundModelInfo>().description, second);
}

void TstPlayground::deletedRunGivesMessage() {
  const int64_t doomed = trainRun(m_project, "doomed", 10, 1e-3);
  QVERIFY(doomed != 0);
  m_window->session()->reloadRuns();
  QVERIFY(choose(doomed));
  page()->maxNewTokensBox()->setValue(10);
  QCOMPARE(press().outputs.size(), 1);
  // Deleted behind the page's back (as deeptune-cli would): the loaded model is not used.
  deeptune::delete_run(m_project, doomed);
  const Pressed p = press();
  QVERIFY(p.outputs.isEmpty());
  QCOMPARE(p.failures.size(), 1);
  QCOMPARE(page()->banner()->kind(), MessageBanner::Kind::kError);
  QVERIFY2(page()->banner()->detail().contains(QStringLiteral("no longer exists")),
           qPrintable(page()->banner()->detail()));
  // Once the list knows, the run is gone from it and the page moves on to the other run.
  QSignalSpy loaded(page()->service(), &PlaygroundService::modelLoaded);
  m_window->session()->reloadRuns();
  QVERIFY(!page()->selectRun(doomed));
  QCOMPARE(page()->currentModel().runId, m_run);
  QVERIFY(loaded.wait(60000));
  QCOMPARE(press().outputs.size(), 1);
}

void TstPlayground::closingTheProjectEmptiesTheList() {
  QVERIFY(page()->modelBox()->count() > 0);
  m_window->closeProject();
  for (int i = 0; i < page()->modelBox()->count(); ++i)
    QCOMPARE(page()->modelBox()->itemData(i, Qt::UserRole).toLongLong(), qint64(0));  // folders
  QVERIFY(m_window->openProject(QString::fromStdString(m_project)));
  m_window->showPage(MainWindow::kPlayground);
  QVERIFY(page()->selectRun(m_run));
}

// With DEEPTUNE_SCREENSHOT_DIR set: the sample project's two runs trained (about a minute on two
// cores), then a look at the page comparing the English base with its French LoRA.
void TstPlayground::screenshotOnRequest() {
  if (!qEnvironmentVariableIsSet("DEEPTUNE_SCREENSHOT_DIR"))
    QSKIP("set DEEPTUNE_SCREENSHOT_DIR for a screenshot of the page");
  const std::string sample = m_dir.filePath(QStringLiteral("sample.dtproj")).toStdString();
  std::map<std::string, std::string> presets;
  {
    auto store = deeptune::ProjectStore::create(sample, "sample");
    deeptune::add_sample_content(*store);
    presets = store->presets();
  }
  QVERIFY(trainRun(sample, "base", nlohmann::json::parse(presets.at("pretrain"))) != 0);
  const int64_t french = trainRun(sample, "french", nlohmann::json::parse(presets.at("default")));
  QVERIFY(french != 0);
  installTranslations(*QCoreApplication::instance(), QStringLiteral("en"));  // "12 tokens"
  QVERIFY(m_window->openProject(QString::fromStdString(sample)));
  m_window->showPage(MainWindow::kPlayground);
  m_window->resize(1280, 800);
  QVERIFY(choose(french));
  page()->promptEdit()->setPlainText(QStringLiteral("Écris 2024-03-01 en toutes lettres : "));
  page()->maxNewTokensBox()->setValue(24);
  page()->stopEdit()->setPlainText(QStringLiteral("\\n"));
  page()->sideBySideBox()->setChecked(true);
  QCOMPARE(press().outputs.size(), 2);
  QTest::qWait(300);
  const QString file = qEnvironmentVariable("DEEPTUNE_SCREENSHOT_DIR") + "/playground.png";
  QVERIFY(m_window->grab().save(file));
}

QTEST_MAIN(TstPlayground)
#include "tst_playground.moc"
