// End-to-end tests of deeptune-cli, driven through QProcess as a user or a script would: exact exit
// statuses (0 ok, 2 bad usage or input, 1 failure, 130 Ctrl-C), messages that name the file, key or
// line at fault, refusals that leave files untouched, and runs that survive Ctrl-C and SIGKILL.
// Training runs are tiny (preset:tiny on the CPU, 48-token examples) so the suite stays short on a
// two-core machine; the numbers the trainer produces are checked by tst_trainer, not here.
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>

#include "deeptune/safetensors.h"
#include "deeptune/store.h"
#include "support/test_support.h"

using deeptune::test::q;

using deeptune::ProjectStore;
using deeptune::RunStatus;

namespace {

constexpr int kExitOk = 0, kExitFailure = 1, kExitBadInput = 2, kExitTempFailure = 75,
              kExitStopped = 130;

// Generous: a first LibTorch start on a loaded 2-core machine can take several seconds.
constexpr int kQuickMs = 60'000;   // commands that do not train
constexpr int kTrainMs = 180'000;  // a tiny training run

struct CliResult {
  int exit_code = -1;  // -1: did not start, crashed or timed out
  QByteArray out, err;
};

// One intra-op thread: on a shared 2-core machine OpenMP's default (one thread per core) spins
// against the other load and makes a tiny run 10-20x slower. Results do not depend on it.
QProcessEnvironment cliEnvironment() {
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert(QStringLiteral("OMP_NUM_THREADS"), QStringLiteral("1"));
  env.insert(QStringLiteral("MKL_NUM_THREADS"), QStringLiteral("1"));
  env.insert(QStringLiteral("OPENBLAS_NUM_THREADS"), QStringLiteral("1"));
  return env;
}

QString describe(const CliResult& r) {
  return QStringLiteral("exit %1\n--- stdout ---\n%2\n--- stderr ---\n%3")
      .arg(r.exit_code)
      .arg(QString::fromUtf8(r.out.right(4000)), QString::fromUtf8(r.err.right(4000)));
}

// Runs deeptune-cli to the end with stdin closed and stdout/stderr as pipes (not a terminal, so
// training prints plain lines).
CliResult runCli(const QStringList& args, int timeout_ms = kQuickMs, const QString& workdir = {}) {
  QProcess p;
  p.setProgram(QStringLiteral(DEEPTUNE_CLI_PATH));
  p.setArguments(args);
  p.setProcessEnvironment(cliEnvironment());
  if (!workdir.isEmpty()) p.setWorkingDirectory(workdir);
  p.setStandardInputFile(QProcess::nullDevice());
  p.start();
  CliResult r;
  if (!p.waitForStarted(10'000)) return r;
  const bool finished = p.waitForFinished(timeout_ms);
  if (!finished) {
    p.kill();
    p.waitForFinished(10'000);
  }
  r.out = p.readAllStandardOutput();
  r.err = p.readAllStandardError();
  if (finished && p.exitStatus() == QProcess::NormalExit) r.exit_code = p.exitCode();
  return r;
}

#define QCOMPARE_EXIT(result, expected)                                                          \
  do {                                                                                           \
    const CliResult& r_ = (result);                                                              \
    QVERIFY2(r_.exit_code == (expected),                                                         \
             qPrintable(QStringLiteral("expected exit %1, got ").arg(expected) + describe(r_))); \
  } while (false)

#define QVERIFY_STDERR_HAS(result, needle)                                                  \
  do {                                                                                      \
    const CliResult& r_ = (result);                                                         \
    QVERIFY2(QString::fromUtf8(r_.err).contains(needle),                                    \
             qPrintable(QStringLiteral("stderr lacks '%1'; ").arg(needle) + describe(r_))); \
  } while (false)

QByteArray readBytes(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return f.readAll();
}

[[nodiscard]] bool writeBytes(const QString& path, const QByteArray& bytes) {
  QFile f(path);
  return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

// Overrides that make a run of `max_steps` steps take a few seconds on a 2-core CPU: LoRA on the
// tiny preset, trained on the sample's 'dates', whatever the project's default preset says.
QStringList smallRun(int max_steps, int eval_every, int checkpoint_every) {
  QStringList a;
  for (const QString& kv :
       {QStringLiteral("model.source=preset:tiny"), QStringLiteral("data.dataset=dates"),
        QStringLiteral("train.mode=lora"), QStringLiteral("train.max_steps=%1").arg(max_steps),
        QStringLiteral("data.max_length=48"), QStringLiteral("train.batch_size=8"),
        QStringLiteral("train.micro_batch_size=8"), QStringLiteral("train.warmup_steps=2"),
        QStringLiteral("train.eval_every=%1").arg(eval_every),
        QStringLiteral("train.checkpoint_every=%1").arg(checkpoint_every),
        QStringLiteral("device=cpu")})
    a << QStringLiteral("--set") << kv;
  return a;
}

// The highest "step N/M" of the plain-lines progress output, or 0.
int lastPrintedStep(const QByteArray& out) {
  static const QRegularExpression re(QStringLiteral(R"(^step (\d+)/\d+ loss )"),
                                     QRegularExpression::MultilineOption);
  int last = 0;
  auto it = re.globalMatch(QString::fromUtf8(out));
  while (it.hasNext()) last = std::max(last, it.next().captured(1).toInt());
  return last;
}

// A training run followed live: start it, wait for a given step line, then signal it.
class LiveRun {
 public:
  explicit LiveRun(const QStringList& args) {
    p_.setProgram(QStringLiteral(DEEPTUNE_CLI_PATH));
    p_.setArguments(args);
    p_.setProcessEnvironment(cliEnvironment());
    p_.setStandardInputFile(QProcess::nullDevice());
    p_.start();
  }
  ~LiveRun() {
    if (p_.state() != QProcess::NotRunning) {
      p_.kill();
      p_.waitForFinished(10'000);
    }
  }
  bool started() { return p_.waitForStarted(10'000); }
  // True once stdout shows step `step` (or later) within the timeout.
  bool waitForStep(int step, int timeout_ms) {
    QElapsedTimer t;
    t.start();
    while (lastPrintedStep(out_) < step) {
      if (p_.state() == QProcess::NotRunning || t.elapsed() > timeout_ms) return false;
      p_.waitForReadyRead(200);
      out_ += p_.readAllStandardOutput();
    }
    return true;
  }
  void sendSignal(int sig) { ::kill(static_cast<pid_t>(p_.processId()), sig); }
  CliResult finish(int timeout_ms) {
    CliResult r;
    const bool finished = p_.waitForFinished(timeout_ms);
    if (!finished) {
      p_.kill();
      p_.waitForFinished(10'000);
    }
    r.out = out_ + p_.readAllStandardOutput();
    r.err = p_.readAllStandardError();
    if (finished && p_.exitStatus() == QProcess::NormalExit) r.exit_code = p_.exitCode();
    return r;
  }
  bool crashed() const { return p_.exitStatus() == QProcess::CrashExit; }

 private:
  QProcess p_;
  QByteArray out_;
};

// The steps of a [[step, value], ...] list, checking that each entry is a pair of finite numbers.
QList<int> stepsOf(const QJsonArray& pairs, bool* well_formed) {
  QList<int> steps;
  *well_formed = true;
  for (const auto& v : pairs) {
    const QJsonArray pair = v.toArray();
    if (!v.isArray() || pair.size() != 2 || !pair[0].isDouble() || !pair[1].isDouble() ||
        !std::isfinite(pair[1].toDouble()))
      *well_formed = false;
    steps << pair[0].toInt();
  }
  return steps;
}

// A data tag as a file-name part: "csv unterminated quote" -> "csv-unterminated-quote".
QString slug(const char* tag) {
  static const QRegularExpression non_alnum(QStringLiteral("[^A-Za-z0-9]+"));
  return QString::fromLatin1(tag).replace(non_alnum, QStringLiteral("-"));
}

QList<int> range(int first, int last) {
  QList<int> r;
  for (int i = first; i <= last; ++i) r << i;
  return r;
}

QList<int> trainLossSteps(const std::string& project, const std::string& run) {
  auto store = ProjectStore::open(project);
  const auto r = store->find_run(run);
  if (!r) return {};
  QList<int> steps;
  const auto m = store->metrics(r->id);
  if (auto it = m.find("train/loss"); it != m.end())
    for (const auto& [step, v] : it->second) steps << static_cast<int>(step);
  return steps;
}

}  // namespace

class TestCli : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();

  void help_data();
  void help();
  void badUsage_data();
  void badUsage();

  void initCreatesProject();
  void initRefusesExistingPath_data();
  void initRefusesExistingPath();
  void initSampleListsDatasets();
  void openConnectionsSeeAnotherProcessWrites();

  void dataAddReadsEachFormat_data();
  void dataAddReadsEachFormat();
  void dataAddRejectsBadInput_data();
  void dataAddRejectsBadInput();

  void trainRejectsBadConfig_data();
  void trainRejectsBadConfig();
  void nonProjectFileIsRefusedUntouched_data();
  void nonProjectFileIsRefusedUntouched();
  void runVerbsRejectUnknownOrFinishedRuns_data();
  void runVerbsRejectUnknownOrFinishedRuns();

  void trainCompletesWithPlainLines();
  void runsJsonShowsCompletedRun();
  void estimateJsonForecastsAndMeasures();
  void attentionShowsStoredMaps();
  void benchTimesTheTrainingStep();
  void metricsJsonListsEveryStep();
  void trainJsonPrintsOneEventPerLine();
  void failureWhileRunningExits1();
  void exportPeftWritesAdapter();
  void exportRejectsBadRequests_data();
  void exportRejectsBadRequests();
  void exportGgufReportsTheCheck();

  void sigintStopsRunAndResumeCompletesIt();
  void sigkillLeavesInterruptedRunThatResumes();

  void concurrentResumesClaimTheRunOnce();
  void renamedParentKeepsChildUsable();
  void deleteRefusesToStrandChildren();
  void runsShowsTheRestWhenARowIsMalformed();
  void exportRefusesUnsafeOutput();
  void fifoIsRefusedAtOnce();
  void leftoversAreCleanedUpByTheNextOperation();
  void diskFullDuringCheckpointInterruptsCleanly();

 private:
  QString path(const QString& name) const { return m_dir.filePath(name); }
  // A fresh empty project (made through the library: faster than a CLI start, and the CLI's own
  // init is tested separately).
  QString newProject(const QString& name);
  // init --sample in a folder of its own; returns the project path.
  QString sampleProject(const QString& name);
  // Trains a run with smallRun overrides and the extra options, expecting exit 0.
  void trainSmall(const QString& project, const QString& name, int steps, int checkpoint_every,
                  const QStringList& extra = {});

  QTemporaryDir m_dir;
  QString m_sample;  // init --sample project holding the run "good"
  CliResult m_goodTrain;
  static constexpr int kGoodSteps = 20;
  static constexpr int kGoodEvalEvery = 10;
  static constexpr int kGoodRank = 4;
  static constexpr int kGoodAlpha = 8;
};

QString TestCli::newProject(const QString& name) {
  const QString p = path(name);
  ProjectStore::create(p.toStdString(), name.toStdString());
  return p;
}

QString TestCli::sampleProject(const QString& name) {
  if (!QDir().mkpath(path(name))) return {};
  const QString p = path(name + "/" + name + ".dtproj");
  const CliResult r = runCli({QStringLiteral("init"), p, QStringLiteral("--sample")});
  return r.exit_code == kExitOk ? p : QString();
}

void TestCli::trainSmall(const QString& project, const QString& name, int steps,
                         int checkpoint_every, const QStringList& extra) {
  const CliResult r =
      runCli(QStringList{QStringLiteral("train"), project, QStringLiteral("--name"), name}
                 << smallRun(steps, 0, checkpoint_every) << extra,
             kTrainMs);
  QCOMPARE_EXIT(r, kExitOk);
}

void TestCli::initTestCase() {
  QVERIFY(m_dir.isValid());
  QVERIFY2(QFileInfo(QStringLiteral(DEEPTUNE_CLI_PATH)).isExecutable(), DEEPTUNE_CLI_PATH);
  QVERIFY(QDir().mkpath(path(QStringLiteral("sample"))));
  m_sample = path(QStringLiteral("sample/sample.dtproj"));
  const CliResult init = runCli({QStringLiteral("init"), m_sample, QStringLiteral("--sample")});
  QCOMPARE_EXIT(init, kExitOk);
  // One run shared by the tests that read runs, metrics and exports. LoRA settings differ from the
  // sample preset's so the export test can tell they came from this run.
  m_goodTrain =
      runCli(QStringList{QStringLiteral("train"), m_sample, QStringLiteral("--name"),
                         QStringLiteral("good")}
                 << smallRun(kGoodSteps, kGoodEvalEvery, 5) << QStringLiteral("--set")
                 << QStringLiteral("lora.r=%1").arg(kGoodRank) << QStringLiteral("--set")
                 << QStringLiteral("lora.alpha=%1").arg(kGoodAlpha) << QStringLiteral("--set")
                 << QStringLiteral("lora.targets=q_proj,v_proj"),
             kTrainMs);
}

// ---- usage --------------------------------------------------------------------------------------

void TestCli::help_data() {
  QTest::addColumn<QStringList>("args");
  QTest::addColumn<QStringList>("mentions");  // each must start an entry of the help listing
  QTest::newRow("app") << QStringList{"--help"} << QStringList{"init", "data",    "train", "resume",
                                                               "runs", "metrics", "export"};
  QTest::newRow("init") << QStringList{"init", "--help"} << QStringList{"PROJECT", "--sample"};
  QTest::newRow("data") << QStringList{"data", "--help"} << QStringList{"add", "list"};
  QTest::newRow("data add") << QStringList{"data", "add", "--help"}
                            << QStringList{"PROJECT",    "FILE",    "--name",
                                           "--format",   "--text",  "--prompt",
                                           "--response", "--label", "--messages"};
  QTest::newRow("data list") << QStringList{"data", "list", "--help"}
                             << QStringList{"PROJECT", "--json"};
  QTest::newRow("train") << QStringList{"train", "--help"}
                         << QStringList{"PROJECT", "--config", "--set", "--name", "--json"};
  QTest::newRow("resume") << QStringList{"resume", "--help"} << QStringList{"PROJECT", "RUN"};
  QTest::newRow("runs") << QStringList{"runs", "--help"} << QStringList{"PROJECT", "--json"};
  QTest::newRow("metrics") << QStringList{"metrics", "--help"}
                           << QStringList{"PROJECT", "RUN", "--json"};
  QTest::newRow("export") << QStringList{"export", "--help"}
                          << QStringList{"PROJECT", "RUN", "--format", "--out"};
}

void TestCli::help() {
  QFETCH(QStringList, args);
  QFETCH(QStringList, mentions);
  const CliResult r = runCli(args);
  QCOMPARE_EXIT(r, kExitOk);
  const QString text = QString::fromUtf8(r.out);
  for (const QString& m : mentions) {
    const QRegularExpression entry(
        QStringLiteral("^\\s+") + QRegularExpression::escape(m) + QStringLiteral("(\\s|$)"),
        QRegularExpression::MultilineOption);
    QVERIFY2(text.contains(entry), qPrintable(QStringLiteral("help lacks '%1':\n%2").arg(m, text)));
  }
}

void TestCli::badUsage_data() {
  QTest::addColumn<QStringList>("args");
  QTest::addColumn<QString>("named");  // what stderr must mention ("" = anything non-empty)
  const QString p = QStringLiteral("x.dtproj");
  QTest::newRow("no verb") << QStringList{} << QString();
  QTest::newRow("unknown verb") << QStringList{"frobnicate", p} << QStringLiteral("frobnicate");
  QTest::newRow("unknown flag") << QStringList{"runs", p, "--bogus"} << QStringLiteral("--bogus");
  QTest::newRow("unknown train flag")
      << QStringList{"train", p, "--max-steps", "5"} << QStringLiteral("--max-steps");
  QTest::newRow("init without project") << QStringList{"init"} << QStringLiteral("PROJECT");
  QTest::newRow("data without verb") << QStringList{"data"} << QString();
  QTest::newRow("data add without file") << QStringList{"data", "add", p} << QStringLiteral("FILE");
  QTest::newRow("metrics without run") << QStringList{"metrics", p} << QStringLiteral("RUN");
  QTest::newRow("resume without run") << QStringList{"resume", p} << QStringLiteral("RUN");
  QTest::newRow("export without --out")
      << QStringList{"export", p, "run", "--format", "peft"} << QStringLiteral("--out");
  QTest::newRow("export without --format")
      << QStringList{"export", p, "run", "--out", "dir"} << QStringLiteral("--format");
  QTest::newRow("--set without value")
      << QStringList{"train", p, "--set"} << QStringLiteral("--set");
}

void TestCli::badUsage() {
  QFETCH(QStringList, args);
  QFETCH(QString, named);
  // Relative paths land in the temporary folder, never in the build tree.
  const CliResult r = runCli(args, kQuickMs, m_dir.path());
  QCOMPARE_EXIT(r, kExitBadInput);
  QVERIFY2(!r.err.trimmed().isEmpty(), qPrintable(describe(r)));
  if (!named.isEmpty()) QVERIFY_STDERR_HAS(r, named);
  QVERIFY2(!QFileInfo::exists(path(QStringLiteral("x.dtproj"))),
           "bad usage created a project file");
}

// ---- init ---------------------------------------------------------------------------------------

void TestCli::initCreatesProject() {
  const QString p = path(QStringLiteral("fresh.dtproj"));
  const CliResult r =
      runCli({QStringLiteral("init"), p, QStringLiteral("--name"), QStringLiteral("My project")});
  QCOMPARE_EXIT(r, kExitOk);
  QVERIFY(QFileInfo(p).isFile());
  auto store = ProjectStore::open(p.toStdString());
  QCOMPARE(q(store->info().name), QStringLiteral("My project"));
  QCOMPARE(store->datasets().size(), size_t(0));
  QCOMPARE(store->runs().size(), size_t(0));
  QVERIFY(store->presets().empty());
}

void TestCli::initRefusesExistingPath_data() {
  QTest::addColumn<QString>("kind");
  QTest::newRow("existing project") << QStringLiteral("project");
  QTest::newRow("existing text file") << QStringLiteral("text");
}

void TestCli::initRefusesExistingPath() {
  QFETCH(QString, kind);
  // A folder of its own, so a stray sample-data folder would show.
  const QString folder = path(QStringLiteral("existing-") + kind);
  QVERIFY(QDir().mkpath(folder));
  const QString p = folder + QStringLiteral("/existing.dtproj");
  if (kind == QLatin1String("project"))
    ProjectStore::create(p.toStdString(), "existing");
  else
    QVERIFY(writeBytes(p, "my notes, not a project\n"));
  const QByteArray before = readBytes(p);
  QVERIFY(!before.isEmpty());
  const CliResult r = runCli({QStringLiteral("init"), p, QStringLiteral("--sample")});
  QCOMPARE_EXIT(r, kExitBadInput);
  QVERIFY_STDERR_HAS(r, p);
  QCOMPARE(readBytes(p), before);
  QCOMPARE(QDir(folder).entryList(QDir::AllEntries | QDir::NoDotAndDotDot),
           QStringList{"existing.dtproj"});
}

// A process holding a project open (the workbench) keeps seeing what deeptune-cli writes, even
// after it opened and closed another connection to the file. Reading the file's header with an
// ifstream used to drop this process's SQLite locks on close; the CLI then believed it was alone,
// reset the WAL index, and this process's connections kept reading an old snapshot.
void TestCli::openConnectionsSeeAnotherProcessWrites() {
  const QString p = m_dir.filePath(QStringLiteral("shared.dtproj"));
  const QString data = m_dir.filePath(QStringLiteral("shared.txt"));
  QByteArray lines;
  for (int i = 0; i < 64; ++i) lines += "line number " + QByteArray::number(i) + "\n";
  QVERIFY(writeBytes(data, lines));
  QCOMPARE_EXIT(runCli({QStringLiteral("init"), p}), kExitOk);
  QCOMPARE_EXIT(runCli({QStringLiteral("data"), QStringLiteral("add"), p, data}), kExitOk);
  auto held = deeptune::ProjectStore::open(p.toStdString());
  QCOMPARE(held->runs().size(), size_t{0});
  deeptune::ProjectStore::open(p.toStdString());  // opened and closed again at once
  // While the CLI trains it keeps its connection open and writes into the WAL.
  QProcess cli;
  cli.setProcessEnvironment(cliEnvironment());
  cli.start(QStringLiteral(DEEPTUNE_CLI_PATH),
            {QStringLiteral("train"), p, QStringLiteral("--name"), QStringLiteral("shared"),
             QStringLiteral("--set"), QStringLiteral("data.dataset=shared"),
             QStringLiteral("--set"), QStringLiteral("model.source=preset:tiny"),
             QStringLiteral("--set"), QStringLiteral("train.max_steps=100000"),
             QStringLiteral("--set"), QStringLiteral("train.batch_size=8"), QStringLiteral("--set"),
             QStringLiteral("train.micro_batch_size=8")});
  QVERIFY(cli.waitForStarted());
  QElapsedTimer clock;
  clock.start();
  int64_t step = 0;
  while (clock.elapsed() < 60'000 && step < 20) {
    QTest::qWait(200);
    auto r = held->find_run("shared");
    if (r && r->status == deeptune::RunStatus::kRunning) step = r->last_step;
  }
  ::kill(static_cast<pid_t>(cli.processId()), SIGINT);
  QVERIFY(cli.waitForFinished(60'000));
  QVERIFY2(step >= 20,
           qPrintable(QStringLiteral("the held connection saw step %1; the CLI said:\n%2")
                          .arg(step)
                          .arg(QString::fromUtf8(cli.readAll().right(2000)))));
  QCOMPARE(held->find_run("shared")->status, deeptune::RunStatus::kStopped);
}

void TestCli::initSampleListsDatasets() {
  const CliResult r =
      runCli({QStringLiteral("data"), QStringLiteral("list"), m_sample, QStringLiteral("--json")});
  QCOMPARE_EXIT(r, kExitOk);
  QJsonParseError error;
  const QJsonDocument doc = QJsonDocument::fromJson(r.out, &error);
  QVERIFY2(doc.isArray(), qPrintable(error.errorString() + "\n" + describe(r)));
  QMap<QString, QJsonObject> by_name;
  for (const auto& v : doc.array())
    by_name.insert(v[QLatin1String("name")].toString(), v.toObject());
  QVERIFY2(by_name.contains(QStringLiteral("dates")) && by_name.contains(QStringLiteral("tickets")),
           r.out.constData());

  const QJsonObject dates = by_name[QStringLiteral("dates")];
  QVERIFY(dates[QLatin1String("rows")].toInt() > 0);
  QCOMPARE(dates[QLatin1String("format")].toString(), QStringLiteral("jsonl"));
  QCOMPARE(dates[QLatin1String("mapping")][QLatin1String("prompt")].toString(),
           QStringLiteral("prompt"));
  QCOMPARE(dates[QLatin1String("mapping")][QLatin1String("response")].toString(),
           QStringLiteral("response"));

  const QJsonObject tickets = by_name[QStringLiteral("tickets")];
  QVERIFY(tickets[QLatin1String("rows")].toInt() > 0);
  QCOMPARE(tickets[QLatin1String("format")].toString(), QStringLiteral("csv"));
  QCOMPARE(tickets[QLatin1String("mapping")][QLatin1String("text")].toString(),
           QStringLiteral("text"));
  QCOMPARE(tickets[QLatin1String("mapping")][QLatin1String("label")].toString(),
           QStringLiteral("label"));

  // The listing agrees with the file, and the sample's preset is there.
  auto store = ProjectStore::open(m_sample.toStdString());
  for (const auto& d : store->datasets())
    QCOMPARE(by_name[q(d.name)][QLatin1String("rows")].toInteger(), qint64(d.rows));
  QVERIFY(store->presets().count("default") == 1);
}

// ---- data add -----------------------------------------------------------------------------------

void TestCli::dataAddReadsEachFormat_data() {
  QTest::addColumn<QString>("file");
  QTest::addColumn<QByteArray>("content");
  QTest::addColumn<QStringList>("options");
  QTest::addColumn<QString>("format");
  QTest::addColumn<int>("rows");
  QTest::addColumn<QString>("mapping");  // the stored mapping, compact JSON
  QTest::newRow("jsonl prompt/response")
      << "qa.jsonl"
      << QByteArray(
             "{\"prompt\": \"2+2=\", \"response\": \"4\"}\n"
             "\n"
             "{\"prompt\": \"capital of France\", \"response\": \"Paris\"}\n"
             "{\"prompt\": \"caf\xc3\xa9\", \"response\": \"coffee\"}\n")
      << QStringList{} << "jsonl" << 3 << R"({"prompt":"prompt","response":"response"})";
  QTest::newRow("csv text/label with quotes")
      << "tickets.csv"
      << QByteArray(
             "body,category\n"
             "\"printer jams, again\",hardware\n"
             "\"line one\nline two\",other\n"
             "cannot log in,account\n")
      << QStringList{"--text", "body", "--label", "category"} << "csv" << 3
      << R"({"label":"category","text":"body"})";
  QTest::newRow("json array, named")
      << "items.json"
      << QByteArray(R"([{"question": "a?", "answer": "b"}, {"question": "c?", "answer": "d"}])")
      << QStringList{"--name", "trivia"} << "json" << 2
      << R"({"prompt":"question","response":"answer"})";
  QTest::newRow("jsonl conversations, named column")
      << "chat.jsonl"
      << QByteArray(R"({"dialog": [{"role": "user", "content": "Hi"}, )"
                    R"({"role": "assistant", "content": "Hello"}]})"
                    "\n")
      << QStringList{"--messages", "dialog"} << "jsonl" << 1 << R"({"messages":"dialog"})";
  QTest::newRow("txt, format forced")
      << "notes.data" << QByteArray("first line\n\nsecond line\nthird line\n")
      << QStringList{"--format", "txt"} << "txt" << 3 << R"({"text":"text"})";
}

void TestCli::dataAddReadsEachFormat() {
  QFETCH(QString, file);
  QFETCH(QByteArray, content);
  QFETCH(QStringList, options);
  QFETCH(QString, format);
  QFETCH(int, rows);
  QFETCH(QString, mapping);
  const QString p = newProject(QStringLiteral("add-%1.dtproj").arg(slug(QTest::currentDataTag())));
  const QString data = path(file);
  QVERIFY(writeBytes(data, content));
  const CliResult r =
      runCli(QStringList{QStringLiteral("data"), QStringLiteral("add"), p, data} << options);
  QCOMPARE_EXIT(r, kExitOk);

  const QString name = options.contains(QStringLiteral("--name"))
                           ? QStringLiteral("trivia")
                           : QFileInfo(file).completeBaseName();
  auto store = ProjectStore::open(p.toStdString());
  const auto all = store->datasets();
  QCOMPARE(all.size(), size_t(1));
  QCOMPARE(q(all[0].name), name);
  QCOMPARE(q(all[0].format), format);
  QCOMPARE(all[0].rows, int64_t(rows));
  QCOMPARE(QJsonDocument::fromJson(QByteArray::fromStdString(all[0].mapping_json)).object(),
           QJsonDocument::fromJson(mapping.toUtf8()).object());
  QCOMPARE(
      q(all[0].sha256),
      QString::fromLatin1(QCryptographicHash::hash(content, QCryptographicHash::Sha256).toHex()));
  // Stored relative to the project's folder, so the folder can move.
  QCOMPARE(q(store->resolve(all[0].path)), data);
}

void TestCli::dataAddRejectsBadInput_data() {
  QTest::addColumn<QString>("file");
  QTest::addColumn<QByteArray>("content");  // null: the file is not created
  QTest::addColumn<QStringList>("options");
  QTest::addColumn<QString>("named");    // what stderr must name; ":N" = "<file name>:N"
  QTest::addColumn<bool>("names_file");  // stderr names the data file
  QTest::newRow("jsonl line not JSON")
      << "broken.jsonl"
      << QByteArray(
             "{\"text\": \"one\"}\n{\"text\": \"two\"}\nthis is not json\n{\"text\": \"four\"}\n")
      << QStringList{} << ":3" << true;
  QTest::newRow("csv unterminated quote")
      << "truncated.csv" << QByteArray("text,label\nhello,a\nworld,b\n\"cut off here,c\n")
      << QStringList{} << ":4" << true;
  QTest::newRow("empty file") << "empty.jsonl" << QByteArray("") << QStringList{} << "empty"
                              << true;
  QTest::newRow("latin-1 text") << "latin1.csv"
                                << QByteArray("text,label\nplain,a\ncaf\xe9 cr\xe8me,b\n")
                                << QStringList{} << ":3" << true;
  QTest::newRow("latin-1 jsonl") << "latin1.jsonl"
                                 << QByteArray("{\"text\": \"ok\"}\n{\"text\": \"na\xefve\"}\n")
                                 << QStringList{} << ":2" << true;
  QTest::newRow("missing --prompt column")
      << "qa.jsonl" << QByteArray("{\"question\": \"a\", \"answer\": \"b\"}\n")
      << QStringList{"--prompt", "instruction", "--response", "answer"} << "instruction" << true;
  QTest::newRow("missing --text column")
      << "labels.csv" << QByteArray("body,label\nx,a\n")
      << QStringList{"--text", "content", "--label", "label"} << "content" << true;
  QTest::newRow("file does not exist")
      << "no-such-file.jsonl" << QByteArray() << QStringList{} << "no-such-file.jsonl" << true;
  QTest::newRow("unknown --format") << "fine.jsonl" << QByteArray("{\"text\": \"x\"}\n")
                                    << QStringList{"--format", "parquet"} << "parquet" << false;
}

void TestCli::dataAddRejectsBadInput() {
  QFETCH(QString, file);
  QFETCH(QByteArray, content);
  QFETCH(QStringList, options);
  QFETCH(QString, named);
  QFETCH(bool, names_file);
  const QString tag = slug(QTest::currentDataTag());
  const QString p = newProject(QStringLiteral("reject-%1.dtproj").arg(tag));
  const QString data = path(tag + QLatin1Char('-') + file);
  if (!content.isNull()) QVERIFY(writeBytes(data, content));

  const CliResult r =
      runCli(QStringList{QStringLiteral("data"), QStringLiteral("add"), p, data} << options);
  QCOMPARE_EXIT(r, kExitBadInput);
  if (names_file) QVERIFY_STDERR_HAS(r, QFileInfo(data).fileName());
  if (named.startsWith(QLatin1Char(':')))
    QVERIFY_STDERR_HAS(r, QFileInfo(data).fileName() + named);  // "file.jsonl:3"
  else
    QVERIFY_STDERR_HAS(r, named);
  if (!content.isNull()) QCOMPARE(readBytes(data), content);

  auto store = ProjectStore::open(p.toStdString());
  QCOMPARE(store->datasets().size(), size_t(0));
}

// ---- train: refusals ----------------------------------------------------------------------------

void TestCli::trainRejectsBadConfig_data() {
  QTest::addColumn<QString>("config_file");  // written beside the project when not empty
  QTest::addColumn<QByteArray>("config_text");
  QTest::addColumn<QStringList>("options");
  QTest::addColumn<QStringList>("named");  // every string stderr must contain
  QTest::newRow("unknown --set key")
      << QString() << QByteArray() << QStringList{"--set", "train.lrr=1e-3"}
      << QStringList{"train.lrr"};
  QTest::newRow("out-of-range --set value")
      << QString() << QByteArray() << QStringList{"--set", "train.lr=5"}
      << QStringList{"train.lr:"};
  QTest::newRow("wrong type --set value")
      << QString() << QByteArray() << QStringList{"--set", "train.max_steps=many"}
      << QStringList{"train.max_steps"};
  QTest::newRow("--set without =")
      << QString() << QByteArray() << QStringList{"--set", "train.lr"} << QStringList{"train.lr"};
  QTest::newRow("unknown dataset")
      << QString() << QByteArray() << QStringList{"--set", "data.dataset=nope"}
      << QStringList{"data.dataset", "nope"};
  QTest::newRow("--config invalid JSON")
      << "broken-config.json" << QByteArray("{\"train\": {\"lr\": 0.001,,}}") << QStringList{}
      << QStringList{"broken-config.json"};
  QTest::newRow("--config unknown key")
      << "typo-config.json" << QByteArray(R"({"train": {"lr": 0.001, "max_stepz": 10}})")
      << QStringList{} << QStringList{"typo-config.json", "train.max_stepz"};
  QTest::newRow("--config out of range")
      << "range-config.json" << QByteArray(R"({"lora": {"r": -4}})") << QStringList{}
      << QStringList{"range-config.json", "lora.r"};
  QTest::newRow("--config neither file nor preset")
      << QString() << QByteArray() << QStringList{"--config", "no-such-preset"}
      << QStringList{"no-such-preset"};
  QTest::newRow("duplicate run name")
      << QString() << QByteArray() << QStringList{"--name", "good"} << QStringList{"good"};
  QTest::newRow("--config number out of range")
      << "huge-config.json" << QByteArray("{\"train\": {\n  \"lr\": 1e400}}") << QStringList{}
      << QStringList{"huge-config.json:2", "out of range"};
  QTest::newRow("--config top level not an object")
      << "array-config.json" << QByteArray("[1, 2]") << QStringList{}
      << QStringList{"array-config.json", "must be a JSON object"};
  QTest::newRow("--config is a folder") << "folder-config.json/" << QByteArray() << QStringList{}
                                        << QStringList{"folder-config.json", "is a folder"};
  // Known before the run exists: refused at train time, no failed run left behind.
  QTest::newRow("fp16 on the CPU")
      << QString() << QByteArray() << QStringList{"--set", "train.precision=fp16"}
      << QStringList{"train.precision", "fp16 needs a CUDA device"};
  QTest::newRow("LoRA target matching no module")
      << QString() << QByteArray() << QStringList{"--set", "lora.targets=q_proj,qq_proj"}
      << QStringList{"lora.targets", "qq_proj", "choose from"};
  QTest::newRow("max_length leaves no room for any response")
      << QString() << QByteArray() << QStringList{"--set", "data.max_length=8"}
      << QStringList{"no training examples left", "data.max_length"};
}

void TestCli::trainRejectsBadConfig() {
  QFETCH(QString, config_file);
  QFETCH(QByteArray, config_text);
  QFETCH(QStringList, options);
  QFETCH(QStringList, named);
  QStringList args{QStringLiteral("train"), m_sample};
  if (config_file.endsWith('/')) {
    QVERIFY(QDir().mkpath(path(config_file)));
    args << QStringLiteral("--config") << path(config_file.chopped(1));
  } else if (!config_file.isEmpty()) {
    QVERIFY(writeBytes(path(config_file), config_text));
    args << QStringLiteral("--config") << path(config_file);
  }
  args << smallRun(2, 0, 0) << options;
  const size_t runs_before = ProjectStore::open(m_sample.toStdString())->runs().size();

  const CliResult r = runCli(args);
  QCOMPARE_EXIT(r, kExitBadInput);
  for (const QString& n : named) QVERIFY_STDERR_HAS(r, n);
  QCOMPARE(ProjectStore::open(m_sample.toStdString())->runs().size(), runs_before);
}

void TestCli::nonProjectFileIsRefusedUntouched_data() {
  QTest::addColumn<QByteArray>("content");
  QTest::addColumn<QStringList>("verb");  // arguments before and after PROJECT, PROJECT as "@"
  QByteArray random(4096, '\0');
  QRandomGenerator gen(20261128);
  for (auto& b : random) b = static_cast<char>(gen.bounded(256));
  QByteArray fake_sqlite = QByteArray("SQLite format 3", 16) + random;
  const QByteArray text("name,notes\nthis is a CSV, not a project\n");
  const QList<QStringList> verbs{
      {"data", "list", "@"},
      {"data", "add", "@", "DATA"},
      {"train", "@", "--set", "train.max_steps=2"},
      {"runs", "@", "--json"},
      {"metrics", "@", "good"},
      {"resume", "@", "good"},
      {"export", "@", "good", "--format", "peft", "--out", "OUT"},
  };
  for (const QStringList& v : verbs) {
    const QString verb = v.mid(0, v.indexOf("@")).join(' ');
    QTest::newRow(qPrintable("text file, " + verb)) << text << v;
    QTest::newRow(qPrintable("random bytes, " + verb)) << random << v;
  }
  QTest::newRow("sqlite header then garbage, runs") << fake_sqlite << QStringList{"runs", "@"};
  QTest::newRow("empty file, runs") << QByteArray("") << QStringList{"runs", "@"};
}

void TestCli::nonProjectFileIsRefusedUntouched() {
  QFETCH(QByteArray, content);
  QFETCH(QStringList, verb);
  const QString tag = slug(QTest::currentDataTag());
  const QString p = path(QStringLiteral("not-a-project-%1.dtproj").arg(tag));
  QVERIFY(writeBytes(p, content));
  const QString data = path(QStringLiteral("fine-%1.jsonl").arg(tag));
  QVERIFY(writeBytes(data, "{\"text\": \"hello\"}\n"));
  const QString out = path(QStringLiteral("out-%1").arg(tag));
  QStringList args;
  for (const QString& a : verb)
    args << (a == QLatin1String("@")      ? p
             : a == QLatin1String("DATA") ? data
             : a == QLatin1String("OUT")  ? out
                                          : a);

  const CliResult r = runCli(args);
  QCOMPARE_EXIT(r, kExitBadInput);
  QVERIFY_STDERR_HAS(r, p);
  QCOMPARE(readBytes(p), content);
  QVERIFY2(!QFileInfo::exists(p + "-wal") && !QFileInfo::exists(p + "-shm") &&
               !QFileInfo::exists(p + "-journal"),
           "opening a foreign file left SQLite side files beside it");
  QVERIFY2(!QFileInfo::exists(out), "export wrote to --out for a file that is not a project");
}

void TestCli::runVerbsRejectUnknownOrFinishedRuns_data() {
  QTest::addColumn<QStringList>("verb");  // PROJECT as "@"
  QTest::addColumn<QStringList>("named");
  QTest::newRow("metrics of unknown run")
      << QStringList{"metrics", "@", "nosuchrun", "--json"} << QStringList{"nosuchrun"};
  QTest::newRow("resume of unknown run")
      << QStringList{"resume", "@", "nosuchrun"} << QStringList{"nosuchrun"};
  QTest::newRow("resume of completed run")
      << QStringList{"resume", "@", "good"} << QStringList{"good", "completed"};
  QTest::newRow("project does not exist")
      << QStringList{"runs", "MISSING"} << QStringList{"missing.dtproj"};
}

void TestCli::runVerbsRejectUnknownOrFinishedRuns() {
  QFETCH(QStringList, verb);
  QFETCH(QStringList, named);
  QCOMPARE_EXIT(m_goodTrain, kExitOk);
  QStringList args;
  for (const QString& a : verb)
    args << (a == QLatin1String("@")         ? m_sample
             : a == QLatin1String("MISSING") ? path("missing.dtproj")
                                             : a);
  const QByteArray before = readBytes(m_sample);
  const CliResult r = runCli(args);
  QCOMPARE_EXIT(r, kExitBadInput);
  for (const QString& n : named) QVERIFY_STDERR_HAS(r, n);
  QVERIFY(!QFileInfo::exists(path("missing.dtproj")));
  auto store = ProjectStore::open(m_sample.toStdString());
  QCOMPARE(store->find_run("good")->status, RunStatus::kCompleted);
  QCOMPARE(store->find_run("good")->last_step, int64_t(kGoodSteps));
}

// ---- train: a good run --------------------------------------------------------------------------

void TestCli::trainCompletesWithPlainLines() {
  QCOMPARE_EXIT(m_goodTrain, kExitOk);
  // Not a terminal: one plain line per step for a run this short (about 50 lines per run), each
  // step once and in order.
  static const QRegularExpression step_line(
      QStringLiteral(R"(^step (\d+)/(\d+) loss ([0-9.]+) lr \S+ grad_norm \S+ .*ETA \S+$)"),
      QRegularExpression::MultilineOption);
  QList<int> steps;
  auto it = step_line.globalMatch(QString::fromUtf8(m_goodTrain.out));
  while (it.hasNext()) {
    const auto m = it.next();
    QCOMPARE(m.captured(2).toInt(), kGoodSteps);
    QVERIFY(std::isfinite(m.captured(3).toDouble()));
    steps << m.captured(1).toInt();
  }
  QCOMPARE(steps, range(1, kGoodSteps));
  const QString out = QString::fromUtf8(m_goodTrain.out);
  QVERIFY2(out.contains(QRegularExpression(QStringLiteral(R"(^eval step 10: val_loss [0-9.]+)"),
                                           QRegularExpression::MultilineOption)),
           qPrintable(out));
  QVERIFY2(out.contains(QStringLiteral("run 'good' completed")), qPrintable(out));
  // No progress bar escapes when stderr is not a terminal.
  QVERIFY2(!m_goodTrain.err.contains('\r') && !m_goodTrain.err.contains("\033["),
           m_goodTrain.err.constData());
}

// `estimate`: the forecast as JSON with the keys scripts read, the micro-batch that auto picks,
// --measure beside it (the trainer's own categories equal), and bad keys refused by name.
void TestCli::estimateJsonForecastsAndMeasures() {
  const QStringList base{QStringLiteral("estimate"), m_sample,
                         QStringLiteral("--device"), QStringLiteral("cpu"),
                         QStringLiteral("--set"),    QStringLiteral("model.source=preset:tiny"),
                         QStringLiteral("--set"),    QStringLiteral("train.batch_size=8"),
                         QStringLiteral("--set"),    QStringLiteral("data.max_length=64"),
                         QStringLiteral("--json")};
  const CliResult r = runCli(base + QStringList{QStringLiteral("--set"),
                                                QStringLiteral("train.micro_batch_size=auto"),
                                                QStringLiteral("--measure"),
                                                QStringLiteral("--steps"), QStringLiteral("2")});
  QCOMPARE_EXIT(r, kExitOk);
  const QJsonObject f = QJsonDocument::fromJson(r.out).object();
  QVERIFY2(!f.isEmpty(), qPrintable(describe(r)));
  const QJsonObject categories = f[QLatin1String("categories")].toObject();
  double sum = 0;
  for (const char* key :
       {"base_weights", "trainable_weights", "gradients", "optimizer_state", "activations"}) {
    QVERIFY2(categories[QLatin1String(key)].toDouble() > 0, key);
    sum += categories[QLatin1String(key)].toDouble();
  }
  QCOMPARE(f[QLatin1String("peak_bytes")].toDouble(), sum);
  QCOMPARE(f[QLatin1String("max_micro_batch")].toInt(), 8);  // preset:tiny fits at every size
  QCOMPARE(f[QLatin1String("micro_batch")].toInt(), 8);      // auto took it
  QCOMPARE(f[QLatin1String("fit")].toString(), QStringLiteral("fits"));
  QCOMPARE(f[QLatin1String("device")].toString(), QStringLiteral("cpu"));
  const QJsonObject m = f[QLatin1String("measured")].toObject();
  QCOMPARE(m[QLatin1String("base_weights")].toDouble(),
           categories[QLatin1String("base_weights")].toDouble());
  QVERIFY(m[QLatin1String("peak_allocated")].toDouble() > 0);
  QVERIFY(std::fabs(m[QLatin1String("peak_error")].toDouble()) < 0.1);

  // A larger micro-batch forecasts more; the human form names the verdict.
  const CliResult one = runCli(
      base + QStringList{QStringLiteral("--set"), QStringLiteral("train.micro_batch_size=1")});
  QCOMPARE_EXIT(one, kExitOk);
  QVERIFY(QJsonDocument::fromJson(one.out).object()[QLatin1String("peak_bytes")].toDouble() < sum);
  const CliResult text = runCli({QStringLiteral("estimate"), m_sample, QStringLiteral("--set"),
                                 QStringLiteral("model.source=preset:tiny")});
  QCOMPARE_EXIT(text, kExitOk);
  QVERIFY2(text.out.contains("largest micro-batch that fits"), qPrintable(describe(text)));

  const CliResult bad = runCli({QStringLiteral("estimate"), m_sample, QStringLiteral("--set"),
                                QStringLiteral("train.gradient_checkpointing=sometimes")});
  QCOMPARE_EXIT(bad, kExitBadInput);
  QVERIFY2(bad.err.contains("train.gradient_checkpointing"), qPrintable(describe(bad)));
}

// `attention`: the good run captured its default probe (the first validation row) at step 0 and at
// its last step; one head's map is causal with rows summing to one, the statistics cover every
// head, and a step without a snapshot is refused by name.
void TestCli::attentionShowsStoredMaps() {
  QCOMPARE_EXIT(m_goodTrain, kExitOk);
  const QString good = QStringLiteral("good");
  const CliResult list =
      runCli({QStringLiteral("attention"), m_sample, good, QStringLiteral("--json")});
  QCOMPARE_EXIT(list, kExitOk);
  const QJsonArray probes = QJsonDocument::fromJson(list.out).array();
  QCOMPARE(probes.size(), 1);
  const QJsonObject probe = probes[0].toObject();
  QVERIFY2(probe[QLatin1String("source")].toString().endsWith(QLatin1String("(validation)")),
           list.out.constData());
  const QJsonArray steps = probe[QLatin1String("steps")].toArray();
  QCOMPARE(steps.size(), 2);
  QCOMPARE(steps[0].toInt(), 0);
  QCOMPARE(steps[1].toInt(), kGoodSteps);
  const int tokens = probe[QLatin1String("tokens")].toArray().size();
  QVERIFY(tokens > 1);

  const CliResult map = runCli(
      {QStringLiteral("attention"), m_sample, good, QStringLiteral("--layer"), QStringLiteral("1"),
       QStringLiteral("--head"), QStringLiteral("2"), QStringLiteral("--json")});
  QCOMPARE_EXIT(map, kExitOk);
  const QJsonObject m = QJsonDocument::fromJson(map.out).object();
  QCOMPARE(m[QLatin1String("step")].toInt(), kGoodSteps);
  const QJsonArray rows = m[QLatin1String("weights")].toArray();
  QCOMPARE(rows.size(), tokens);
  for (int i = 0; i < rows.size(); ++i) {
    const QJsonArray row = rows[i].toArray();
    double sum = 0;
    for (int j = 0; j < row.size(); ++j) {
      sum += row[j].toDouble();
      if (j > i) QCOMPARE(row[j].toDouble(), 0.0);
    }
    QVERIFY2(std::fabs(sum - 1.0) < 5e-3, qPrintable(QString("row %1: %2").arg(i).arg(sum)));
  }
  const CliResult stats =
      runCli({QStringLiteral("attention"), m_sample, good, QStringLiteral("--stats"),
              QStringLiteral("--step"), QStringLiteral("0"), QStringLiteral("--json")});
  QCOMPARE_EXIT(stats, kExitOk);
  const QJsonArray layers =
      QJsonDocument::fromJson(stats.out).object()[QLatin1String("layers")].toArray();
  QCOMPARE(layers.size(), 2);  // preset:tiny
  QCOMPARE(layers[0].toObject()[QLatin1String("heads")].toArray().size(), 4);
  const CliResult missing =
      runCli({QStringLiteral("attention"), m_sample, good, QStringLiteral("--step"),
              QStringLiteral("7"), QStringLiteral("--layer"), QStringLiteral("0"),
              QStringLiteral("--head"), QStringLiteral("0")});
  QCOMPARE_EXIT(missing, kExitBadInput);
  QVERIFY2(missing.err.contains("--step") && missing.err.contains("steps: 0, 20"),
           qPrintable(describe(missing)));

  // Recomputed from the final checkpoint with the adapters on, the map is the stored one (up to
  // fp16); with them off it is another, from the same checkpoint.
  const auto recomputed = [&](const char* adapter) {
    return runCli({QStringLiteral("attention"), m_sample, good, QStringLiteral("--layer"),
                   QStringLiteral("1"), QStringLiteral("--head"), QStringLiteral("2"),
                   QStringLiteral("--adapter"), QLatin1String(adapter), QStringLiteral("--json")});
  };
  const CliResult on = recomputed("on"), off = recomputed("off");
  QCOMPARE_EXIT(on, kExitOk);
  QCOMPARE_EXIT(off, kExitOk);
  QVERIFY2(off.err.contains("at step 20, adapters off"), qPrintable(describe(off)));
  const auto largest_difference = [](const QJsonArray& a, const QJsonArray& b) {
    double d = 0;
    for (int i = 0; i < a.size(); ++i)
      for (int j = 0; j < a[i].toArray().size(); ++j)
        d = std::max(d, std::fabs(a[i].toArray()[j].toDouble() - b[i].toArray()[j].toDouble()));
    return d;
  };
  const auto weights_of = [](const CliResult& r) {
    return QJsonDocument::fromJson(r.out).object()[QLatin1String("weights")].toArray();
  };
  QCOMPARE(weights_of(on).size(), tokens);
  QVERIFY(largest_difference(weights_of(on), rows) < 1e-3);
  QVERIFY(largest_difference(weights_of(off), rows) > 1e-4);
  const CliResult listing = runCli({QStringLiteral("attention"), m_sample, good,
                                    QStringLiteral("--adapter"), QStringLiteral("off")});
  QCOMPARE_EXIT(listing, kExitBadInput);
  QVERIFY2(listing.err.contains("give --layer and --head, or --stats"),
           qPrintable(describe(listing)));
}

void TestCli::benchTimesTheTrainingStep() {
  const CliResult r =
      runCli({QStringLiteral("bench"), QStringLiteral("--model"), QStringLiteral("preset:tiny"),
              QStringLiteral("--batch"), QStringLiteral("2"), QStringLiteral("--seq"),
              QStringLiteral("32"), QStringLiteral("--steps"), QStringLiteral("3"),
              QStringLiteral("--warmup"), QStringLiteral("1"), QStringLiteral("--json")},
             kTrainMs);
  QCOMPARE_EXIT(r, kExitOk);
  const QJsonObject o = QJsonDocument::fromJson(r.out).object();
  QVERIFY2(!o.isEmpty(), r.out.constData());
  QCOMPARE(o[QLatin1String("device")].toString(), QStringLiteral("cpu"));
  QCOMPARE(o[QLatin1String("losses")].toArray().size(), 4);  // warm-up included
  QCOMPARE(o[QLatin1String("step_ms_all")].toArray().size(), 3);
  for (const auto& loss : o[QLatin1String("losses")].toArray())
    QVERIFY(std::isfinite(loss.toDouble()) && loss.toDouble() > 0);
  const double ms = o[QLatin1String("step_ms")].toDouble();
  QVERIFY(ms > 0);
  QCOMPARE(o[QLatin1String("tokens_per_s")].toDouble(), 64.0 / (ms / 1e3));
  QVERIFY(o[QLatin1String("peak_bytes")].toDouble() > 0);  // counted on the CPU too
  QCOMPARE(o[QLatin1String("mfu")].toDouble(), 0.0);       // no known peak for a CPU
  // preset:tiny (hidden 128, MLP 344, 2 layers, 4 heads of 32, 2 kv heads, vocabulary 259), LoRA
  // r 16 on q_proj and v_proj. Per token: frozen matrices 2 x forward (362,496 a layer), adapters
  // 3 x (4,096 + 3,072), attention 3 x 2 x 128 x T, the head 2 x 66,304.
  const double per_token = 2 * (2 * 362496.0 + 3 * 8192 + 3 * 6144 + 768 * 32) + 2 * 66304.0;
  QCOMPARE(o[QLatin1String("flops_per_step")].toDouble(), per_token * 64);
  // A run is refused: bench reads no project.
  const CliResult refused =
      runCli({QStringLiteral("bench"), QStringLiteral("--model"), QStringLiteral("run:good")});
  QCOMPARE_EXIT(refused, kExitBadInput);
  QVERIFY2(refused.err.contains("not a run"), qPrintable(describe(refused)));
}

void TestCli::runsJsonShowsCompletedRun() {
  QCOMPARE_EXIT(m_goodTrain, kExitOk);
  const CliResult r = runCli({QStringLiteral("runs"), m_sample, QStringLiteral("--json")});
  QCOMPARE_EXIT(r, kExitOk);
  QJsonParseError error;
  const QJsonDocument doc = QJsonDocument::fromJson(r.out, &error);
  QVERIFY2(doc.isArray(), qPrintable(error.errorString() + "\n" + describe(r)));
  QJsonObject found;
  for (const auto& v : doc.array())
    if (v[QLatin1String("name")].toString() == QLatin1String("good")) found = v.toObject();
  const QJsonObject good = found;
  QVERIFY2(!good.isEmpty(), r.out.constData());
  QCOMPARE(good[QLatin1String("status")].toString(), QStringLiteral("completed"));
  QCOMPARE(good[QLatin1String("step")].toInt(), kGoodSteps);
  QCOMPARE(good[QLatin1String("max_steps")].toInt(), kGoodSteps);
  QCOMPARE(good[QLatin1String("device")].toString(), QStringLiteral("cpu"));
  const QJsonObject fm = good[QLatin1String("final_metrics")].toObject();
  QCOMPARE(fm[QLatin1String("steps")].toInt(), kGoodSteps);
  QVERIFY2(fm[QLatin1String("train_loss")].isDouble() &&
               std::isfinite(fm[QLatin1String("train_loss")].toDouble()),
           r.out.constData());
  QVERIFY2(fm[QLatin1String("val_loss")].isDouble() && fm[QLatin1String("val_loss")].toDouble() > 0,
           r.out.constData());
  // The config shown is the one the run used: preset plus every --set.
  const QJsonObject config = good[QLatin1String("config")].toObject();
  QCOMPARE(config[QLatin1String("train")][QLatin1String("max_steps")].toInt(), kGoodSteps);
  QCOMPARE(config[QLatin1String("lora")][QLatin1String("r")].toInt(), kGoodRank);
  QCOMPARE(config[QLatin1String("data")][QLatin1String("dataset")].toString(),
           QStringLiteral("dates"));

  // The table form lists the run too.
  const CliResult table = runCli({QStringLiteral("runs"), m_sample});
  QCOMPARE_EXIT(table, kExitOk);
  QVERIFY2(QString::fromUtf8(table.out).contains(
               QRegularExpression(QStringLiteral(R"(^\d+\s+good\s+completed\s+20/20\s)"),
                                  QRegularExpression::MultilineOption)),
           table.out.constData());
}

void TestCli::metricsJsonListsEveryStep() {
  QCOMPARE_EXIT(m_goodTrain, kExitOk);
  const CliResult r = runCli(
      {QStringLiteral("metrics"), m_sample, QStringLiteral("good"), QStringLiteral("--json")});
  QCOMPARE_EXIT(r, kExitOk);
  QJsonParseError error;
  const QJsonDocument doc = QJsonDocument::fromJson(r.out, &error);
  QVERIFY2(doc.isObject(), qPrintable(error.errorString() + "\n" + describe(r)));
  const QJsonObject m = doc.object();
  bool well_formed = false;
  QVERIFY(m[QLatin1String("train/loss")].isArray());
  QCOMPARE(stepsOf(m[QLatin1String("train/loss")].toArray(), &well_formed), range(1, kGoodSteps));
  QVERIFY(well_formed);
  QVERIFY(m[QLatin1String("train/lr")].isArray());
  QCOMPARE(stepsOf(m[QLatin1String("train/lr")].toArray(), &well_formed), range(1, kGoodSteps));
  QVERIFY(well_formed);
  QVERIFY(m[QLatin1String("val/loss")].isArray());
  // Step 0 is the untrained baseline every curve is read against, then every eval_every steps.
  QCOMPARE(stepsOf(m[QLatin1String("val/loss")].toArray(), &well_formed),
           (QList<int>{0, kGoodEvalEvery, 2 * kGoodEvalEvery}));
  QVERIFY(well_formed);

  // Exactly what the project file holds.
  auto store = ProjectStore::open(m_sample.toStdString());
  const auto stored = store->metrics(store->find_run("good")->id);
  QCOMPARE(m.size(), int(stored.size()));
  for (const auto& [name, points] : stored) {
    const QJsonArray printed = m[q(name)].toArray();
    QCOMPARE(printed.size(), int(points.size()));
    for (size_t i = 0; i < points.size(); ++i) {
      QCOMPARE(printed[int(i)][0].toInteger(), qint64(points[i].first));
      const double v = printed[int(i)][1].toDouble();
      QVERIFY2(std::abs(v - points[i].second) <= 1e-12 * std::max(1.0, std::abs(points[i].second)),
               qPrintable(QStringLiteral("%1 step %2: %3 vs %4")
                              .arg(q(name))
                              .arg(points[i].first)
                              .arg(v)
                              .arg(points[i].second)));
    }
  }

  // A run can be named by its id too.
  const CliResult by_id =
      runCli({QStringLiteral("metrics"), m_sample, QString::number(store->find_run("good")->id),
              QStringLiteral("--json")});
  QCOMPARE_EXIT(by_id, kExitOk);
  QCOMPARE(QJsonDocument::fromJson(by_id.out).object(), m);

  // The table form: a header with the metric names and one row per step (0 .. N).
  const CliResult table = runCli({QStringLiteral("metrics"), m_sample, QStringLiteral("good")});
  QCOMPARE_EXIT(table, kExitOk);
  const QStringList lines = QString::fromUtf8(table.out).split('\n', Qt::SkipEmptyParts);
  QCOMPARE(lines.size(), 1 + 1 + kGoodSteps);
  QVERIFY2(lines[0].startsWith(QStringLiteral("step")) &&
               lines[0].contains(QStringLiteral("train/loss")) &&
               lines[0].contains(QStringLiteral("val/loss")),
           qPrintable(lines[0]));
}

void TestCli::trainJsonPrintsOneEventPerLine() {
  constexpr int kSteps = 6, kEvalEvery = 3;
  const CliResult r =
      runCli(QStringList{QStringLiteral("train"), m_sample, QStringLiteral("--json"),
                         QStringLiteral("--name"), QStringLiteral("json-lines")}
                 << smallRun(kSteps, kEvalEvery, 0),
             kTrainMs);
  QCOMPARE_EXIT(r, kExitOk);
  const QList<QByteArray> lines = r.out.trimmed().split('\n');
  QVERIFY(!lines.isEmpty());
  QList<int> steps, evals;
  QStringList states;
  int logs = 0;
  for (const QByteArray& line : lines) {
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(line, &error);
    QVERIFY2(doc.isObject(), qPrintable("not a JSON object: " + QString::fromUtf8(line)));
    const QJsonObject e = doc.object();
    const QString event = e[QLatin1String("event")].toString();
    if (event == QLatin1String("step")) {
      steps << e[QLatin1String("step")].toInt();
      QCOMPARE(e[QLatin1String("max_steps")].toInt(), kSteps);
      QVERIFY2(e[QLatin1String("loss")].isDouble() && e[QLatin1String("lr")].isDouble(),
               line.constData());
    } else if (event == QLatin1String("eval")) {
      evals << e[QLatin1String("step")].toInt();
      QVERIFY2(e[QLatin1String("val_loss")].isDouble(), line.constData());
    } else if (event == QLatin1String("log")) {
      ++logs;
      QVERIFY2(
          QStringList({"info", "warning", "error"}).contains(e[QLatin1String("level")].toString()),
          line.constData());
      QVERIFY2(e[QLatin1String("text")].isString(), line.constData());
    } else if (event == QLatin1String("state")) {
      states << e[QLatin1String("state")].toString();
    } else {
      QFAIL(qPrintable("unexpected event: " + QString::fromUtf8(line)));
    }
  }
  QCOMPARE(steps, range(1, kSteps));
  QCOMPARE(evals, (QList<int>{0, kEvalEvery, 2 * kEvalEvery}));  // 0: the untrained baseline
  QVERIFY(logs > 0);
  QVERIFY2(!states.isEmpty() && states.first() == QLatin1String("preparing") &&
               states.last() == QLatin1String("completed"),
           qPrintable(states.join(',')));
  QCOMPARE(ProjectStore::open(m_sample.toStdString())->find_run("json-lines")->status,
           RunStatus::kCompleted);
}

void TestCli::failureWhileRunningExits1() {
  // The input is fine but the run cannot write its files: a plain file sits where the project's
  // run folder ("<stem>.runs") goes. That is a failure while running, not bad input.
  QVERIFY(QDir().mkpath(path(QStringLiteral("blocked"))));
  const QString p = path(QStringLiteral("blocked/blocked.dtproj"));
  QCOMPARE_EXIT(runCli({QStringLiteral("init"), p, QStringLiteral("--sample")}), kExitOk);
  QVERIFY(writeBytes(path(QStringLiteral("blocked/blocked.runs")), "in the way\n"));
  const CliResult r = runCli(
      QStringList{QStringLiteral("train"), p, QStringLiteral("--name"), QStringLiteral("doomed")}
          << smallRun(4, 0, 0),
      kTrainMs);
  QCOMPARE_EXIT(r, kExitFailure);
  QVERIFY_STDERR_HAS(r, QStringLiteral("blocked.runs"));
  auto store = ProjectStore::open(p.toStdString());
  const auto rec = store->find_run("doomed");
  QVERIFY(rec);
  QCOMPARE(rec->status, RunStatus::kFailed);
  QVERIFY2(q(rec->error_text).contains(QStringLiteral("blocked.runs")), rec->error_text.c_str());
  QVERIFY(!deeptune::is_resumable(rec->status));
}

// ---- export -------------------------------------------------------------------------------------

void TestCli::exportPeftWritesAdapter() {
  QCOMPARE_EXIT(m_goodTrain, kExitOk);
  const QString out = path(QStringLiteral("adapter"));
  const CliResult r =
      runCli({QStringLiteral("export"), m_sample, QStringLiteral("good"),
              QStringLiteral("--format"), QStringLiteral("peft"), QStringLiteral("--out"), out});
  QCOMPARE_EXIT(r, kExitOk);

  QJsonParseError error;
  const QJsonDocument doc =
      QJsonDocument::fromJson(readBytes(out + "/adapter_config.json"), &error);
  QVERIFY2(doc.isObject(), qPrintable(error.errorString()));
  const QJsonObject cfg = doc.object();
  QCOMPARE(cfg[QLatin1String("peft_type")].toString(), QStringLiteral("LORA"));
  QCOMPARE(cfg[QLatin1String("task_type")].toString(), QStringLiteral("CAUSAL_LM"));
  QCOMPARE(cfg[QLatin1String("r")].toInt(), kGoodRank);
  QCOMPARE(cfg[QLatin1String("lora_alpha")].toDouble(), double(kGoodAlpha));
  QStringList targets;
  for (const auto& t : cfg[QLatin1String("target_modules")].toArray()) targets << t.toString();
  targets.sort();
  QCOMPARE(targets, (QStringList{"q_proj", "v_proj"}));

  // The adapter: only LoRA pairs of the targeted projections, PEFT's names, PEFT's shapes. The base
  // the config points to holds the projections' [out, in] weights.
  const auto adapter =
      deeptune::SafetensorsFile::read((out + "/adapter_model.safetensors").toStdString());
  const QString base_dir = cfg[QLatin1String("base_model_name_or_path")].toString();
  const auto base =
      deeptune::SafetensorsFile::read((base_dir + "/model.safetensors").toStdString());
  static const QRegularExpression name_re(
      QStringLiteral(R"(^base_model\.model\.(.+\.(q_proj|v_proj))\.lora_([AB])\.weight$)"));
  QSet<QString> a_modules, b_modules;
  bool any_b_nonzero = false;
  for (const auto& t : adapter.tensors()) {
    const auto m = name_re.match(q(t.name));
    QVERIFY2(m.hasMatch(), t.name.c_str());
    QCOMPARE(t.dtype, deeptune::DType::kF32);
    QCOMPARE(t.shape.size(), size_t(2));
    const std::string base_name = m.captured(1).toStdString() + ".weight";
    QVERIFY2(base.contains(base_name), base_name.c_str());
    const auto& w = base.info(base_name).shape;  // [out, in]
    if (m.captured(3) == QLatin1String("A")) {
      QCOMPARE(t.shape, (std::vector<int64_t>{kGoodRank, w[1]}));
      a_modules << m.captured(1);
    } else {
      QCOMPARE(t.shape, (std::vector<int64_t>{w[0], kGoodRank}));
      b_modules << m.captured(1);
      // B starts at zero; after 20 steps it has moved, so this is the trained adapter.
      const float* v = reinterpret_cast<const float*>(adapter.data(t));
      for (size_t i = 0; i < t.numel(); ++i) any_b_nonzero = any_b_nonzero || v[i] != 0.0f;
    }
  }
  QVERIFY(!a_modules.isEmpty());
  QCOMPARE(a_modules, b_modules);
  QVERIFY(any_b_nonzero);
  // Every q_proj and v_proj of the base got an adapter.
  int projections = 0;
  for (const auto& t : base.tensors())
    projections += QRegularExpression(QStringLiteral(R"(\.(q_proj|v_proj)\.weight$)"))
                       .match(q(t.name))
                       .hasMatch();
  QCOMPARE(a_modules.size(), projections);
}

void TestCli::exportRejectsBadRequests_data() {
  QTest::addColumn<QStringList>("options");  // after PROJECT
  QTest::addColumn<QStringList>("named");
  QTest::newRow("run does not exist")
      << QStringList{"ghost", "--format", "peft"} << QStringList{"ghost"};
  QTest::newRow("unknown --format")
      << QStringList{"good", "--format", "onnx"} << QStringList{"--format", "onnx"};
  QTest::newRow("unknown --quant") << QStringList{"good", "--format", "gguf", "--quant", "Q4_K"}
                                   << QStringList{"--quant", "Q4_K"};
}

// GGUF through the CLI: the file named after the run and the type, and the check's verdict as JSON.
void TestCli::exportGgufReportsTheCheck() {
  QCOMPARE_EXIT(m_goodTrain, kExitOk);
  const QString out = path(QStringLiteral("gguf"));
  const CliResult r =
      runCli({QStringLiteral("export"), m_sample, QStringLiteral("good"),
              QStringLiteral("--format"), QStringLiteral("gguf"), QStringLiteral("--quant"),
              QStringLiteral("q8_0"), QStringLiteral("--json"), QStringLiteral("--out"), out});
  QCOMPARE_EXIT(r, kExitOk);
  const auto doc = QJsonDocument::fromJson(r.out).object();
  QCOMPARE(doc[QLatin1String("files")].toArray().at(0).toString(), out + "/good-Q8_0.gguf");
  QVERIFY(QFileInfo(out + "/good-Q8_0.gguf").size() > 0);
  const auto check = doc[QLatin1String("check")].toObject();
  QVERIFY(check[QLatin1String("ran")].toBool());
  QVERIFY2(check[QLatin1String("passed")].toBool(), r.out.constData());
  QCOMPARE(check[QLatin1String("probes")].toArray().size(), 4);
  QVERIFY(check[QLatin1String("tensors")].toArray().size() > 10);
  QVERIFY(check[QLatin1String("tokenizer")].toString().contains(QLatin1String("gpt2")));
  // --no-check: written, not verified, said so.
  const CliResult skipped =
      runCli({QStringLiteral("export"), m_sample, QStringLiteral("good"),
              QStringLiteral("--format"), QStringLiteral("gguf"), QStringLiteral("--no-check"),
              QStringLiteral("--out"), out + "/plain.gguf"});
  QCOMPARE_EXIT(skipped, kExitOk);
  QVERIFY2(skipped.out.contains("not verified"), skipped.out.constData());
  QVERIFY(QFileInfo::exists(out + "/plain.gguf"));
}

void TestCli::exportRejectsBadRequests() {
  QFETCH(QStringList, options);
  QFETCH(QStringList, named);
  QCOMPARE_EXIT(m_goodTrain, kExitOk);
  const QString out = path(QStringLiteral("refused-export-") + slug(QTest::currentDataTag()));
  const CliResult r = runCli(QStringList{QStringLiteral("export"), m_sample}
                             << options << QStringLiteral("--out") << out);
  QCOMPARE_EXIT(r, kExitBadInput);
  for (const QString& n : named) QVERIFY_STDERR_HAS(r, n);
  QVERIFY2(!QFileInfo::exists(out), "a refused export created its output folder");
}

// ---- stopping and crashing ----------------------------------------------------------------------

void TestCli::sigintStopsRunAndResumeCompletesIt() {
  constexpr int kSteps = 60;
  QVERIFY(QDir().mkpath(path(QStringLiteral("ctrl-c"))));
  const QString p = path(QStringLiteral("ctrl-c/ctrl-c.dtproj"));
  QCOMPARE_EXIT(runCli({QStringLiteral("init"), p, QStringLiteral("--sample")}), kExitOk);
  {
    LiveRun run(
        QStringList{QStringLiteral("train"), p, QStringLiteral("--name"), QStringLiteral("stopme")}
        << smallRun(kSteps, 20, 5));
    QVERIFY(run.started());
    QVERIFY2(run.waitForStep(3, kTrainMs), "no step lines before the timeout");
    run.sendSignal(SIGINT);
    const CliResult r = run.finish(kTrainMs);
    QCOMPARE_EXIT(r, kExitStopped);
    QVERIFY_STDERR_HAS(r, QStringLiteral("resume"));
    const int printed = lastPrintedStep(r.out);
    QVERIFY2(printed < kSteps, "the run finished before Ctrl-C reached it; lengthen it");

    auto store = ProjectStore::open(p.toStdString());
    const auto rec = store->find_run("stopme");
    QVERIFY(rec);
    QCOMPARE(rec->status, RunStatus::kStopped);
    // Stopped at the next step boundary: no step was half recorded or skipped.
    QVERIFY2(rec->last_step >= printed && rec->last_step < kSteps,
             qPrintable(QString::number(rec->last_step)));
    QCOMPARE(trainLossSteps(p.toStdString(), "stopme"), range(1, int(rec->last_step)));
  }
  const CliResult resumed =
      runCli({QStringLiteral("resume"), p, QStringLiteral("stopme")}, kTrainMs);
  QCOMPARE_EXIT(resumed, kExitOk);
  auto store = ProjectStore::open(p.toStdString());
  const auto rec = store->find_run("stopme");
  QCOMPARE(rec->status, RunStatus::kCompleted);
  QCOMPARE(rec->last_step, int64_t(kSteps));
  QCOMPARE(trainLossSteps(p.toStdString(), "stopme"), range(1, kSteps));
  QCOMPARE(store->runs().size(), size_t(1));  // continued in place, not a new run
}

void TestCli::sigkillLeavesInterruptedRunThatResumes() {
  constexpr int kSteps = 60;
  QVERIFY(QDir().mkpath(path(QStringLiteral("crash"))));
  const QString p = path(QStringLiteral("crash/crash.dtproj"));
  QCOMPARE_EXIT(runCli({QStringLiteral("init"), p, QStringLiteral("--sample")}), kExitOk);
  int printed = 0;
  {
    LiveRun run(
        QStringList{QStringLiteral("train"), p, QStringLiteral("--name"), QStringLiteral("crashme")}
        << smallRun(kSteps, 20, 5));
    QVERIFY(run.started());
    // Past the checkpoint at step 5, so the resumed run continues from it.
    QVERIFY2(run.waitForStep(7, kTrainMs), "no step lines before the timeout");
    run.sendSignal(SIGKILL);
    const CliResult r = run.finish(kQuickMs);
    QVERIFY(run.crashed());
    printed = lastPrintedStep(r.out);
    QVERIFY2(printed < kSteps, "the run finished before SIGKILL reached it; lengthen it");
  }
  {
    auto store = ProjectStore::open(p.toStdString());  // finds the dead process
    const auto rec = store->find_run("crashme");
    QVERIFY(rec);
    QCOMPARE(rec->status, RunStatus::kInterrupted);
    QVERIFY(deeptune::is_resumable(rec->status));
    QVERIFY2(q(rec->error_text).contains(QStringLiteral("pid")), rec->error_text.c_str());
  }
  const CliResult runs = runCli({QStringLiteral("runs"), p});
  QCOMPARE_EXIT(runs, kExitOk);
  QVERIFY2(QString::fromUtf8(runs.out).contains(
               QRegularExpression(QStringLiteral(R"(^\d+\s+crashme\s+interrupted\s)"),
                                  QRegularExpression::MultilineOption)),
           runs.out.constData());

  const CliResult resumed =
      runCli({QStringLiteral("resume"), p, QStringLiteral("crashme")}, kTrainMs);
  QCOMPARE_EXIT(resumed, kExitOk);
  QVERIFY_STDERR_HAS(resumed, QStringLiteral("resuming from checkpoint at step"));
  // The resumed process prints only the steps it trains, starting after the checkpoint.
  static const QRegularExpression first_step(QStringLiteral(R"(^step (\d+)/)"),
                                             QRegularExpression::MultilineOption);
  const int first = first_step.match(QString::fromUtf8(resumed.out)).captured(1).toInt();
  QVERIFY2(first > 1 && first <= printed + 1,
           qPrintable(QStringLiteral("first step %1, killed after %2").arg(first).arg(printed)));
  auto store = ProjectStore::open(p.toStdString());
  const auto rec = store->find_run("crashme");
  QCOMPARE(rec->status, RunStatus::kCompleted);
  QCOMPARE(rec->last_step, int64_t(kSteps));
  QCOMPARE(trainLossSteps(p.toStdString(), "crashme"), range(1, kSteps));
}

// ---- lifecycle under hostile conditions --------------------------------------------------------

// Two `resume` commands at once: exactly one trains; the other is told the run is already running
// (or, had the first finished, completed) and changes nothing. Before, both trained, collided on
// one checkpoint folder and the run ended failed.
void TestCli::concurrentResumesClaimTheRunOnce() {
  constexpr int kSteps = 40;
  const QString p = sampleProject(QStringLiteral("race"));
  QVERIFY(!p.isEmpty());
  {
    LiveRun run(QStringList{QStringLiteral("train"), p, QStringLiteral("--name"),
                            QStringLiteral("contested")}
                << smallRun(kSteps, 0, 5));
    QVERIFY(run.started());
    QVERIFY(run.waitForStep(2, kTrainMs));
    run.sendSignal(SIGINT);
    QCOMPARE_EXIT(run.finish(kTrainMs), kExitStopped);
  }
  LiveRun first(QStringList{QStringLiteral("resume"), p, QStringLiteral("contested")});
  LiveRun second(QStringList{QStringLiteral("resume"), p, QStringLiteral("contested")});
  QVERIFY(first.started() && second.started());
  const CliResult a = first.finish(kTrainMs), b = second.finish(kTrainMs);
  const CliResult& winner = a.exit_code == kExitOk ? a : b;
  const CliResult& loser = a.exit_code == kExitOk ? b : a;
  QCOMPARE_EXIT(winner, kExitOk);
  QCOMPARE_EXIT(loser, kExitBadInput);
  QVERIFY_STDERR_HAS(loser, QStringLiteral("run 'contested' is already"));
  auto store = ProjectStore::open(p.toStdString());
  const auto rec = store->find_run("contested");
  QCOMPARE(rec->status, RunStatus::kCompleted);
  QCOMPARE(trainLossSteps(p.toStdString(), "contested"), range(1, kSteps));
  QSet<QString> folders;
  for (const auto& a : store->artifacts(rec->id))
    if (a.kind == "checkpoint") folders << q(a.path);
  QCOMPARE(folders.size(), 2);  // the newest two, one row each
}

// A child run started from run:NAME keeps working when its parent is renamed: the parent is
// resolved once, by id. (Before, `resume child` failed after the rename and marked it failed.)
void TestCli::renamedParentKeepsChildUsable() {
  const QString p = sampleProject(QStringLiteral("family"));
  QVERIFY(!p.isEmpty());
  trainSmall(p, QStringLiteral("parent"), 6, 3, {"--set", "train.mode=full"});
  {
    LiveRun child(
        QStringList{QStringLiteral("train"), p, QStringLiteral("--name"), QStringLiteral("child")}
        << smallRun(40, 0, 5) << QStringLiteral("--set")
        << QStringLiteral("model.source=run:parent"));
    QVERIFY(child.started());
    QVERIFY(child.waitForStep(2, kTrainMs));
    child.sendSignal(SIGINT);
    QCOMPARE_EXIT(child.finish(kTrainMs), kExitStopped);
  }
  {
    auto store = ProjectStore::open(p.toStdString());
    store->rename_run(store->find_run("parent")->id, "parent-renamed");
    QCOMPARE(store->find_run("child")->parent_run_id, store->find_run("parent-renamed")->id);
  }
  QCOMPARE_EXIT(runCli({QStringLiteral("resume"), p, QStringLiteral("child")}, kTrainMs), kExitOk);
  QCOMPARE(ProjectStore::open(p.toStdString())->find_run("child")->status, RunStatus::kCompleted);
  // A new child by the old name is refused, by the new name it trains.
  const CliResult old_name =
      runCli(QStringList{QStringLiteral("train"), p} << smallRun(2, 0, 0) << QStringLiteral("--set")
                                                     << QStringLiteral("model.source=run:parent"));
  QCOMPARE_EXIT(old_name, kExitBadInput);
  QVERIFY_STDERR_HAS(old_name, QStringLiteral("no run named 'parent'"));
}

// Deleting a run whose weights a not-yet-started run needs is refused, naming it; --force
// deletes anyway. Children that have started keep their own copy and are not in the way.
void TestCli::deleteRefusesToStrandChildren() {
  const QString p = sampleProject(QStringLiteral("deletes"));
  QVERIFY(!p.isEmpty());
  trainSmall(p, QStringLiteral("parent"), 4, 2, {"--set", "train.mode=full"});
  trainSmall(p, QStringLiteral("started-child"), 4, 2, {"--set", "model.source=run:parent"});
  {
    // A child created but not started yet (as a process does between create and claim).
    auto store = ProjectStore::open(p.toStdString());
    auto child = *store->find_run("started-child");
    child.name = "waiting-child";
    child.status = RunStatus::kCreated;
    child.pid = QCoreApplication::applicationPid();  // alive: not cleaned up as stillborn
    child.host = deeptune::local_host_name();
    store->create_run(child);
  }
  const CliResult refused = runCli({QStringLiteral("delete"), p, QStringLiteral("parent")});
  QCOMPARE_EXIT(refused, kExitBadInput);
  QVERIFY_STDERR_HAS(refused, QStringLiteral("'waiting-child'"));
  QVERIFY(ProjectStore::open(p.toStdString())->find_run("parent"));
  const CliResult forced =
      runCli({QStringLiteral("delete"), p, QStringLiteral("parent"), QStringLiteral("--force")});
  QCOMPARE_EXIT(forced, kExitOk);
  QVERIFY2(QString::fromUtf8(forced.out).contains("waiting-child"), forced.out.constData());
  auto store = ProjectStore::open(p.toStdString());
  QVERIFY(!store->find_run("parent"));
  QVERIFY(!QFileInfo::exists(path("deletes/deletes.runs/run-1")));
  // The started child still exports: it has its own base.
  QCOMPARE_EXIT(runCli({QStringLiteral("export"), p, QStringLiteral("started-child"),
                        QStringLiteral("--format"), QStringLiteral("peft"), QStringLiteral("--out"),
                        path(QStringLiteral("deletes/out"))}),
                kExitOk);
  // A running run is refused.
  QCOMPARE_EXIT(runCli({QStringLiteral("delete"), p, QStringLiteral("nope")}), kExitBadInput);
}

// One run whose stored JSON was damaged does not hide the others from `runs`.
void TestCli::runsShowsTheRestWhenARowIsMalformed() {
  QCOMPARE_EXIT(m_goodTrain, kExitOk);
  const QString p = path(QStringLiteral("malformed-row.dtproj"));
  QVERIFY(QFile::copy(m_sample, p));
  {
    auto store = ProjectStore::open(p.toStdString());
    deeptune::RunRecord bad = *store->find_run("good");
    bad.name = "mangled";
    bad.config_json = "{\"train\": {\"lr\": ";
    bad.final_metrics_json = "[[[";
    store->create_run(bad);
  }
  for (const bool json : {false, true}) {
    QStringList args{QStringLiteral("runs"), p};
    if (json) args << QStringLiteral("--json");
    const CliResult r = runCli(args);
    QCOMPARE_EXIT(r, kExitOk);
    QVERIFY_STDERR_HAS(r, QStringLiteral("run mangled: config"));
    QVERIFY2(r.out.contains("good") && r.out.contains("mangled"), r.out.constData());
  }
  // Resuming or exporting the mangled run names it.
  const CliResult e = runCli({QStringLiteral("export"), p, QStringLiteral("mangled"),
                              QStringLiteral("--format"), QStringLiteral("peft"),
                              QStringLiteral("--out"), path(QStringLiteral("mangled-out"))});
  QCOMPARE_EXIT(e, kExitBadInput);
  QVERIFY_STDERR_HAS(e, QStringLiteral("run mangled"));
}

// --out inside the project's run folders would overwrite a run's own files (e.g. its base).
void TestCli::exportRefusesUnsafeOutput() {
  QCOMPARE_EXIT(m_goodTrain, kExitOk);
  const auto good = ProjectStore::open(m_sample.toStdString())->find_run("good");
  const QString runs = path(QStringLiteral("sample/sample.runs"));
  const QString base = runs + QStringLiteral("/run-%1/base").arg(good->id);
  const QByteArray base_bytes = readBytes(base + "/model.safetensors");
  QVERIFY(!base_bytes.isEmpty());
  for (const QString& out : {base, runs, runs + "/new-folder"}) {
    const CliResult r =
        runCli({QStringLiteral("export"), m_sample, QStringLiteral("good"),
                QStringLiteral("--format"), QStringLiteral("hf"), QStringLiteral("--out"), out});
    QCOMPARE_EXIT(r, kExitBadInput);
    QVERIFY_STDERR_HAS(r, QStringLiteral("inside the project's run folder"));
  }
  QCOMPARE(readBytes(base + "/model.safetensors"), base_bytes);
  QVERIFY(!QFileInfo::exists(runs + "/new-folder"));
}

// A FIFO as project or dataset used to block forever on open.
void TestCli::fifoIsRefusedAtOnce() {
  const QString fifo = path(QStringLiteral("pipe.dtproj"));
  QCOMPARE(mkfifo(fifo.toLocal8Bit().constData(), 0600), 0);
  QElapsedTimer t;
  t.start();
  const CliResult r = runCli({QStringLiteral("runs"), fifo}, 20'000);
  QCOMPARE_EXIT(r, kExitBadInput);
  QVERIFY_STDERR_HAS(r, QStringLiteral("FIFO"));
  const CliResult d =
      runCli({QStringLiteral("data"), QStringLiteral("add"), m_sample, fifo}, 20'000);
  QCOMPARE_EXIT(d, kExitBadInput);
  QVERIFY_STDERR_HAS(d, QStringLiteral("FIFO"));
  QVERIFY(t.elapsed() < 20'000);
}

// What a killed writer leaves (an export's temp file, a half-written checkpoint) is removed by the
// next operation on that folder.
void TestCli::leftoversAreCleanedUpByTheNextOperation() {
  const QString p = sampleProject(QStringLiteral("leftovers"));
  QVERIFY(!p.isEmpty());
  {
    LiveRun run(
        QStringList{QStringLiteral("train"), p, QStringLiteral("--name"), QStringLiteral("r")}
        << smallRun(30, 0, 5));
    QVERIFY(run.started());
    QVERIFY(run.waitForStep(2, kTrainMs));
    run.sendSignal(SIGINT);
    QCOMPARE_EXIT(run.finish(kTrainMs), kExitStopped);
  }
  const QString run_dir = path(QStringLiteral("leftovers/leftovers.runs/run-1"));
  const QString dead_pid = QStringLiteral("2147483000");  // above pid_max: no such process
  QVERIFY(QDir().mkpath(run_dir + "/checkpoint-25.partial"));
  QVERIFY(writeBytes(run_dir + "/checkpoint-25.partial/trainable.safetensors", "half"));
  QVERIFY(QDir().mkpath(run_dir + "/checkpoint-99"));  // a folder the project never recorded
  const CliResult resumed = runCli({QStringLiteral("resume"), p, QStringLiteral("r")}, kTrainMs);
  QCOMPARE_EXIT(resumed, kExitOk);
  QVERIFY(!QFileInfo::exists(run_dir + "/checkpoint-25.partial"));
  QVERIFY(!QFileInfo::exists(run_dir + "/checkpoint-99"));

  const QString out = path(QStringLiteral("leftovers/export"));
  QVERIFY(QDir().mkpath(out));
  const QString stale = out + "/model.safetensors.tmp-" + dead_pid + "-0";
  const QString live =
      out + QStringLiteral("/model.safetensors.tmp-%1-0").arg(QCoreApplication::applicationPid());
  QVERIFY(writeBytes(stale, "partial export"));
  QVERIFY(writeBytes(live, "someone else's write in progress"));
  QCOMPARE_EXIT(
      runCli({QStringLiteral("export"), p, QStringLiteral("r"), QStringLiteral("--format"),
              QStringLiteral("hf"), QStringLiteral("--out"), out},
             kTrainMs),
      kExitOk);
  QVERIFY(!QFileInfo::exists(stale));
  QVERIFY(QFileInfo::exists(live));  // its writer is alive
  QVERIFY(QFileInfo::exists(out + "/model.safetensors"));
}

// The disk fills while a checkpoint is written: the run ends interrupted with the bytes free, no
// .partial folder stays, and `runs` still works, read-only, on the full disk (and on a read-only
// file system). Runs in a private mount namespace with a small tmpfs; skipped where user
// namespaces are not allowed.
void TestCli::diskFullDuringCheckpointInterruptsCleanly() {
  QProcess probe;
  probe.start(QStringLiteral("unshare"), {QStringLiteral("-rm"), QStringLiteral("true")});
  if (!probe.waitForFinished(10'000) || probe.exitStatus() != QProcess::NormalExit ||
      probe.exitCode() != 0)
    QSKIP("unshare -rm is not allowed here (no user namespaces): cannot make a full disk");
  const QString src = sampleProject(QStringLiteral("full-src"));
  QVERIFY(!src.isEmpty());
  const QString mnt = path(QStringLiteral("full-mnt")), logs = path(QStringLiteral("full-logs"));
  QVERIFY(QDir().mkpath(mnt) && QDir().mkpath(logs));
  // tiny full fine-tune: base ~1.7 MB, each checkpoint ~5.2 MB (weights + two moments); 9 MB
  // holds the project, the base and the first checkpoint, not the second.
  const QString script =
      QStringLiteral(R"(
set -u
cli="$1"; src="$2"; mnt="$3"; logs="$4"
mount -t tmpfs -o size=9m tmpfs "$mnt" || exit 90
cp -r "$src"/. "$mnt"/
"$cli" train "$mnt/full-src.dtproj" --name filler %1 >"$logs/train.out" 2>"$logs/train.err"
echo $? >"$logs/train.rc"
ls -a "$mnt/full-src.runs/run-1" >"$logs/ls.txt"
dd if=/dev/zero of="$mnt/fill" bs=64k >/dev/null 2>&1
"$cli" runs "$mnt/full-src.dtproj" --json >"$logs/runs.out" 2>"$logs/runs.err"
echo $? >"$logs/runs.rc"
mount -o remount,ro "$mnt"
"$cli" runs "$mnt/full-src.dtproj" >"$logs/ro.out" 2>"$logs/ro.err"
echo $? >"$logs/ro.rc"
)")
          .arg(smallRun(40, 0, 5).join(' ') + QStringLiteral(" --set train.mode=full"));
  QProcess sh;
  sh.setProcessEnvironment(cliEnvironment());
  sh.start(QStringLiteral("unshare"),
           {QStringLiteral("-rm"), QStringLiteral("sh"), QStringLiteral("-c"), script,
            QStringLiteral("sh"), QStringLiteral(DEEPTUNE_CLI_PATH), path("full-src"), mnt, logs});
  QVERIFY(sh.waitForFinished(kTrainMs));
  QVERIFY2(sh.exitCode() == 0, sh.readAllStandardError().constData());
  const QString train_err = QString::fromUtf8(readBytes(logs + "/train.err"));
  QCOMPARE(readBytes(logs + "/train.rc").trimmed(), QByteArray::number(kExitTempFailure));
  QVERIFY2(train_err.contains(QRegularExpression(
               QStringLiteral(R"(disk full while writing checkpoint 10 \(\d+ bytes free\))"))),
           qPrintable(train_err));
  QVERIFY2(!readBytes(logs + "/ls.txt").contains(".partial"), readBytes(logs + "/ls.txt"));
  QVERIFY2(readBytes(logs + "/ls.txt").contains("checkpoint-5"), readBytes(logs + "/ls.txt"));
  // On the full disk, `runs` reads the project: the run is interrupted, not running.
  QCOMPARE(readBytes(logs + "/runs.rc").trimmed(), QByteArray("0"));
  const QJsonArray runs = QJsonDocument::fromJson(readBytes(logs + "/runs.out")).array();
  QCOMPARE(runs.size(), 1);
  QCOMPARE(runs[0].toObject()[QLatin1String("status")].toString(), QStringLiteral("interrupted"));
  QCOMPARE(runs[0].toObject()[QLatin1String("checkpoint_step")].toInt(), 5);
  // And on a read-only file system too, saying so.
  QCOMPARE(readBytes(logs + "/ro.rc").trimmed(), QByteArray("0"));
  QVERIFY2(readBytes(logs + "/ro.err").contains("read-only"), readBytes(logs + "/ro.err"));
  QVERIFY(readBytes(logs + "/ro.out").contains("filler"));
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
