// The app/ services' one threading policy, seen from the UI thread: answers arrive from the event
// loop (never inside the call that asked, so a caller holds its ticket first), a follow reads only
// what is new, and failures come back as a translated headline with the engine's detail.
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include <fstream>

#include "datasetregistrar.h"
#include "datatokenservice.h"
#include "deeptune/project.h"
#include "deeptune/store.h"
#include "metatypes.h"
#include "projectsession.h"
#include "runexporter.h"
#include "runhistoryreader.h"
#include "runremover.h"

class TstServices : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void answersComeFromTheEventLoop();
  void historyReadsOnlyWhatIsNew();
  void failuresCarryHeadlineAndDetail();
  void tokenViewUsesTheDraftsModel();

 private:
  // Records `count` more steps of train/loss and one log line per step for the run.
  void record(int64_t fromStep, int count);

  QTemporaryDir m_dir;
  ProjectSession m_session;
  int64_t m_run = 0;
};

void TstServices::initTestCase() {
  registerDeepTuneMetaTypes();
  QVERIFY(m_dir.isValid());
  const QString path = m_dir.filePath(QStringLiteral("services.dtproj"));
  QCOMPARE(m_session.create(path, false).headline, QString());
  auto store = deeptune::ProjectStore::open(path.toStdString());
  deeptune::RunRecord r;
  r.name = "recorded";
  r.config_json = "{}";
  r.max_steps = 100;
  m_run = store->create_run(r);
  m_session.reloadRuns();
}

void TstServices::record(int64_t fromStep, int count) {
  auto store = deeptune::ProjectStore::open(m_session.path().toStdString());
  std::vector<deeptune::MetricPoint> points;
  std::vector<deeptune::LogRecord> logs;
  for (int64_t step = fromStep; step < fromStep + count; ++step) {
    points.push_back({m_run, step, "train/loss", 1.0 / double(step)});
    logs.push_back({m_run, deeptune::utc_now_iso(), "info", "step " + std::to_string(step)});
  }
  store->append_metrics(points);
  store->append_logs(logs);
}

void TstServices::answersComeFromTheEventLoop() {
  record(1, 5);
  RunHistoryReader reader(&m_session);
  QSignalSpy read(&reader, &RunHistoryReader::historyRead);
  QList<QThread*> threads;
  connect(&reader, &RunHistoryReader::historyRead, this,
          [&threads] { threads << QThread::currentThread(); });
  // A short read is often done before read() returns: its answer must still wait for the loop,
  // and come on this (the UI) thread.
  for (int i = 0; i < 20; ++i) {
    read.clear();
    const quint64 ticket = reader.read({m_run});
    QVERIFY(ticket != 0);
    QVERIFY(reader.isBusy());
    QCOMPARE(read.count(), 0);
    QVERIFY(read.wait(10000));
    QCOMPARE(read.first().at(0).value<quint64>(), ticket);
    QVERIFY(!reader.isBusy());
  }
  QCOMPARE(threads.size(), 20);
  for (QThread* t : threads) QCOMPARE(t, QCoreApplication::instance()->thread());
}

void TstServices::historyReadsOnlyWhatIsNew() {
  RunHistoryReader reader(&m_session);
  QSignalSpy read(&reader, &RunHistoryReader::historyRead);
  reader.read({m_run}, -1, 0);
  QVERIFY(read.wait(10000));
  auto h = read.takeFirst().at(1).value<QList<RunHistory>>().value(0);
  QCOMPARE(h.runId, m_run);
  QCOMPARE(h.metrics.at("train/loss").size(), size_t{5});
  QCOMPARE(h.logs.size(), size_t{5});
  const qint64 lastStep = h.metrics.at("train/loss").back().first;
  const qint64 lastLog = h.logs.back().id;

  record(6, 3);
  reader.read({m_run}, lastStep, lastLog);
  QVERIFY(read.wait(10000));
  h = read.takeFirst().at(1).value<QList<RunHistory>>().value(0);
  QCOMPARE(h.metrics.at("train/loss").size(), size_t{3});
  QCOMPARE(h.metrics.at("train/loss").front().first, int64_t{6});
  QCOMPARE(h.logs.size(), size_t{3});
  QCOMPARE(h.logs.front().text, std::string("step 6"));

  // Without logs asked for, none are read.
  reader.read({m_run});
  QVERIFY(read.wait(10000));
  QVERIFY(read.takeFirst().at(1).value<QList<RunHistory>>().value(0).logs.empty());
}

void TstServices::failuresCarryHeadlineAndDetail() {
  // A run without a checkpoint cannot be exported; the engine names the run.
  RunExporter exporter(&m_session);
  QSignalSpy exportFailed(&exporter, &RunExporter::exportFailed);
  QVERIFY(exporter.exportRun(m_run, QStringLiteral("peft"), m_dir.filePath(QStringLiteral("out"))));
  QVERIFY(!exporter.exportRun(m_run, QStringLiteral("peft"), m_dir.path()));  // one at a time
  QVERIFY(exportFailed.wait(30000));
  auto message = exportFailed.first().first().value<UserMessage>();
  QCOMPARE(message.headline, QStringLiteral("The export failed"));
  QVERIFY2(message.detail.contains(QStringLiteral("recorded")), qPrintable(message.detail));

  // A file that is not there is not registered; the engine names it.
  DatasetRegistrar registrar(&m_session);
  QSignalSpy addFailed(&registrar, &DatasetRegistrar::addFailed);
  QVERIFY(registrar.add(m_dir.filePath(QStringLiteral("absent.jsonl")), QStringLiteral("absent")));
  QVERIFY(addFailed.wait(30000));
  message = addFailed.first().first().value<UserMessage>();
  QCOMPARE(message.headline, QStringLiteral("The dataset was not added"));
  QVERIFY2(message.detail.contains(QStringLiteral("absent.jsonl")), qPrintable(message.detail));
  QVERIFY(m_session.datasets().empty());

  // A run that does not exist is not deleted.
  RunRemover remover(&m_session);
  QSignalSpy removeFailed(&remover, &RunRemover::removeFailed);
  QVERIFY(remover.remove(m_run + 100, false));
  QVERIFY(removeFailed.wait(30000));
  QCOMPARE(removeFailed.first().at(0).toLongLong(), m_run + 100);
  message = removeFailed.first().at(1).value<UserMessage>();
  QCOMPARE(message.headline, QStringLiteral("The run was not deleted"));
  QVERIFY(!message.detail.isEmpty());

  // With no project open, nothing starts.
  ProjectSession closed;
  RunRemover idle(&closed);
  QVERIFY(!idle.remove(m_run, false));
  QVERIFY(!idle.findDependents(m_run));
}

// The Data page's token view: counts and an example under the draft config, the newest request
// answered alone, and a draft the engine refuses reported with the key named.
void TstServices::tokenViewUsesTheDraftsModel() {
  const QString file = m_dir.filePath(QStringLiteral("chat.jsonl"));
  {
    std::ofstream out(file.toStdString());
    for (int i = 0; i < 10; ++i)
      out << R"({"messages": [{"role": "user", "content": "Say )" << i
          << R"("}, {"role": "assistant", "content": ")" << std::string(size_t(i + 1), 'x')
          << R"("}]})" << "\n";
  }
  {
    auto store = deeptune::ProjectStore::open(m_session.path().toStdString());
    deeptune::DatasetSource source;
    source.path = file.toStdString();
    source.name = "chat";
    deeptune::register_dataset(*store, source);
  }
  // Row i in bytes, after BOS: "<|im_start|>user\nSay i<|im_end|>\n<|im_start|>assistant\n" (55),
  // i + 1 x's, "<|im_end|>\n" (11): 67 + (i + 1) tokens.
  const int base = 67;
  deeptune::RunConfig config;
  config.data.dataset = "chat";
  config.data.max_length = base + 5;  // rows 5..9 are longer

  DataTokenService service(&m_session);
  QSignalSpy stats(&service, &DataTokenService::statsReady);
  QSignalSpy statsFailed(&service, &DataTokenService::statsFailed);
  deeptune::RunConfig first = config;
  first.data.max_length = 512;
  service.requestStats(QStringLiteral("chat"), first.to_json());
  service.requestStats(QStringLiteral("chat"), config.to_json());  // replaces the first
  QVERIFY(stats.wait(30000));
  QTest::qWait(100);
  QCOMPARE(stats.count(), 1);
  QCOMPARE(statsFailed.count(), 0);
  QCOMPARE(stats.first().at(0).toString(), QStringLiteral("chat"));
  const auto t = stats.first().at(1).value<deeptune::TokenStats>();
  QCOMPARE(t.stats.rows, size_t{10});
  QCOMPARE(int(t.stats.min_tokens), base + 1);
  QCOMPARE(int(t.stats.max_tokens), base + 10);
  QCOMPARE(t.stats.truncated, size_t{5});
  QCOMPARE(t.truncated_share, 0.5);
  QCOMPARE(t.chat_family, std::string("ChatML (Qwen)"));

  QSignalSpy preview(&service, &DataTokenService::previewReady);
  service.requestPreview(QStringLiteral("chat"), config.to_json(), 9);
  QVERIFY(preview.wait(30000));
  const auto p = preview.first().at(1).value<deeptune::ExamplePreview>();
  QCOMPARE(p.row, size_t{9});
  QCOMPARE(p.full_length, size_t(base + 10));
  QVERIFY(p.truncated);
  QCOMPARE(int(p.ids.size()), base + 5);
  // The loss starts at the answer and stops at the cut, 6 bytes into its <|im_end|>.
  std::string lossText;
  for (size_t i = 0; i < p.ids.size(); ++i)
    if (p.loss_mask[i]) lossText += p.tokens[i];
  QCOMPARE(lossText, std::string("xxxxxxxxxx<|im_e"));
  QCOMPARE(p.tokens.front(), std::string("<bos>"));

  // The draft names a chat family the tokenizer does not use: the user's choice is taken.
  config.data.chat_template = deeptune::ChatTemplate::kMistral;
  stats.clear();
  service.requestStats(QStringLiteral("chat"), config.to_json());
  QVERIFY(stats.wait(30000));
  QCOMPARE(stats.first().at(1).value<deeptune::TokenStats>().chat_family,
           std::string("Mistral [INST]"));

  // A draft the engine refuses (a key out of range): the failure names the key.
  nlohmann::json bad = config.to_json();
  bad["data"]["max_length"] = 2;
  service.requestStats(QStringLiteral("chat"), bad);
  QVERIFY(statsFailed.wait(30000));
  const auto message = statsFailed.first().first().value<UserMessage>();
  QCOMPARE(message.headline, QStringLiteral("Cannot count the tokens of this dataset"));
  QVERIFY2(message.detail.contains(QStringLiteral("data.max_length")), qPrintable(message.detail));
}

QTEST_GUILESS_MAIN(TstServices)
#include "tst_services.moc"
