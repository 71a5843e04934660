// Tests of the project store: records round-trip exactly, refusals leave foreign files untouched,
// old files migrate with their rows, and runs left behind by a dead process are found.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <QCryptographicHash>
#include <QFile>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <limits>
#include <memory>

#include "deeptune/error.h"
#include "deeptune/store.h"
#include "deeptune/version.h"
#include "store/schema.h"
#include "store/sqlite.h"
#include "support/test_support.h"

using deeptune::test::q;

using deeptune::AttentionMapRecord;
using deeptune::ProjectStore;
using deeptune::RunRecord;
using deeptune::RunStatus;
using deeptune::store::Database;
using deeptune::store::OpenMode;

namespace {

// What a call threw, flattened so QCOMPARE can show it when it differs.
struct Caught {
  bool thrown = false;
  deeptune::ErrorKind kind = deeptune::ErrorKind::kRuntime;
  QString where;
  QString message;
};

template <typename F>
Caught caught(F&& f) {
  try {
    f();
  } catch (const deeptune::Error& e) {
    return {true, e.kind(), q(e.where()), q(e.message())};
  }
  return {};
}

QByteArray sha256_of(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

void write_file(const QString& path, const QByteArray& bytes) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly));
  QCOMPARE(f.write(bytes), bytes.size());
}

int64_t count_rows(const std::string& db_path, const std::string& sql) {
  Database db(db_path, OpenMode::kReadOnly);
  auto st = db.prepare(sql, "counting");
  return st.step() ? st.column_int64(0) : -1;
}

RunRecord make_run(const std::string& name) {
  RunRecord r;
  r.name = name;
  r.config_json = R"({"lr":0.001})";
  return r;
}

}  // namespace

class TestStore : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void init();
  void cleanup();

  void createOpenRoundTrip();
  void createRefusesExistingPath();
  void pathWithUriCharacters();
  void createFailureLeavesNoFile();
  void utcNowFormat();
  void runStatusStrings();
  void datasetsCrud();
  void runsCrud();
  void duplicateNames();
  void runLifecycle();
  void metricsBatchingOverwriteAndTruncate();
  void metricsKeepNaN();
  void logs();
  void artifactsAndPaths();
  void presets();
  void deleteRunCascades();
  void attentionMapsRoundTrip();
  void mapsOfVersion4HaveNoPreviews();
  void migrationFromVersion1();
  void probesOfVersion3HaveNoIds();
  void openRefusals_data();
  void openRefusals();
  void walModeIsOn();
  void secondConnectionSeesWrites();
  void deadLocalProcessMarksRunInterrupted();
  void staleHeartbeatOnOtherHost();
  void claimIsAtomicAcrossProcesses();
  void createdRunOfDeadCreatorIsRemoved();
  void damagedFileIsRefusedWithAdvice();
  void logsAfterId();
  void checkpointStepOfRuns();

 private:
  std::string file(const char* name) const { return (m_dir->path() + "/" + name).toStdString(); }
  std::unique_ptr<QTemporaryDir> m_dir;
};

void TestStore::init() {
  m_dir = std::make_unique<QTemporaryDir>();
  QVERIFY(m_dir->isValid());
}

void TestStore::cleanup() {
  m_dir.reset();
}

void TestStore::createOpenRoundTrip() {
  const std::string path = file("p.dtproj");
  {
    auto store = ProjectStore::create(path, "Tiny shakespeare");
    QCOMPARE(q(store->path()), q(path));
    QCOMPARE(q(store->directory()), m_dir->path());
    const auto info = store->info();
    QCOMPARE(q(info.name), QStringLiteral("Tiny shakespeare"));
    QCOMPARE(q(info.app_version), q(deeptune::engine_version()));
    QCOMPARE(info.schema_version, 5);
    QCOMPARE(ProjectStore::kSchemaVersion, 5);
    QVERIFY(QRegularExpression(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$)")
                .match(q(info.created_at))
                .hasMatch());
  }
  auto again = ProjectStore::open(path);
  const auto info = again->info();
  QCOMPARE(q(info.name), QStringLiteral("Tiny shakespeare"));
  QCOMPARE(info.schema_version, 5);
  QCOMPARE(count_rows(path, "PRAGMA application_id"), int64_t{deeptune::store::kApplicationId});
}

void TestStore::createRefusesExistingPath() {
  const std::string text = file("notes.txt");
  write_file(q(text), "keep me\n");
  const Caught c = caught([&] { ProjectStore::create(text, "x"); });
  QVERIFY(c.thrown);
  QVERIFY(c.kind == deeptune::ErrorKind::kInvalidInput);
  QCOMPARE(c.where, q(text));
  QCOMPARE(c.message, QStringLiteral("already exists; choose a new file name for the project"));
  QCOMPARE(sha256_of(q(text)), QCryptographicHash::hash("keep me\n", QCryptographicHash::Sha256));

  const std::string project = file("p.dtproj");
  ProjectStore::create(project, "first");
  QVERIFY(caught([&] { ProjectStore::create(project, "second"); }).thrown);
  QCOMPARE(q(ProjectStore::open(project)->info().name), QStringLiteral("first"));
}

void TestStore::pathWithUriCharacters() {
  // The pre-open check reads through a "file:" URI; these must not be taken for URI syntax.
  const std::string path = file("odd ?#%41 name.dtproj");
  ProjectStore::create(path, "odd");
  QVERIFY(!QFileInfo::exists(q(path) + "-wal"));  // closed cleanly: the next open reads a snapshot
  QCOMPARE(q(ProjectStore::open(path)->info().name), QStringLiteral("odd"));
  QVERIFY(!QFileInfo::exists(m_dir->path() + "/odd ?#A name.dtproj"));
}

void TestStore::createFailureLeavesNoFile() {
  // SQLite cannot create a file in a folder that does not exist: a RunError, and nothing left.
  const std::string path = file("missing-folder/p.dtproj");
  const Caught c = caught([&] { ProjectStore::create(path, "x"); });
  QVERIFY(c.thrown);
  QVERIFY(c.kind == deeptune::ErrorKind::kRuntime);
  QVERIFY(c.message.startsWith(QStringLiteral("opening failed: ")));
  QVERIFY(!QFile::exists(q(path)));
}

void TestStore::utcNowFormat() {
  const QString now = q(deeptune::utc_now_iso());
  QVERIFY2(QRegularExpression(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$)").match(now).hasMatch(),
           qPrintable(now));
  const QDateTime parsed = QDateTime::fromString(now, Qt::ISODateWithMs);
  QVERIFY(parsed.isValid());
  QVERIFY(qAbs(parsed.msecsTo(QDateTime::currentDateTimeUtc())) < 5000);
}

void TestStore::runStatusStrings() {
  const std::pair<RunStatus, const char*> all[] = {
      {RunStatus::kCreated, "created"},        {RunStatus::kRunning, "running"},
      {RunStatus::kPaused, "paused"},          {RunStatus::kStopped, "stopped"},
      {RunStatus::kCompleted, "completed"},    {RunStatus::kFailed, "failed"},
      {RunStatus::kInterrupted, "interrupted"}};
  for (const auto& [status, name] : all) {
    QCOMPARE(q(deeptune::to_string(status)), QString::fromLatin1(name));
    QVERIFY(deeptune::run_status_from_string(name) == status);
  }
  const Caught c = caught([] { deeptune::run_status_from_string("Running"); });
  QVERIFY(c.thrown);
  QVERIFY(c.kind == deeptune::ErrorKind::kInvalidInput);
  QVERIFY(deeptune::is_resumable(RunStatus::kStopped));
  QVERIFY(deeptune::is_resumable(RunStatus::kInterrupted));
  // Paused means paused inside a live process: that process resumes it, not a new one.
  QVERIFY(!deeptune::is_resumable(RunStatus::kPaused));
  QVERIFY(!deeptune::is_resumable(RunStatus::kCreated));
  QVERIFY(!deeptune::is_resumable(RunStatus::kRunning));
  QVERIFY(!deeptune::is_resumable(RunStatus::kCompleted));
  QVERIFY(!deeptune::is_resumable(RunStatus::kFailed));
  // A failed run continues from its checkpoint when it has one.
  RunRecord failed;
  failed.status = RunStatus::kFailed;
  QVERIFY(!deeptune::is_resumable(failed));
  failed.checkpoint_step = 0;
  QVERIFY(deeptune::is_resumable(failed));
}

void TestStore::datasetsCrud() {
  auto store = ProjectStore::create(file("p.dtproj"), "p");
  QVERIFY(store->datasets().empty());

  deeptune::DatasetRecord d;
  d.name = "alpaca";
  d.path = "data/alpaca.jsonl";
  d.format = "jsonl";
  d.mapping_json = R"({"prompt":"instruction"})";
  d.sha256 = "ab12";
  d.rows = 52002;
  d.stats_json = R"({"tokens":123})";
  d.added_at = "2026-01-02T03:04:05.006Z";
  const int64_t a = store->add_dataset(d);
  deeptune::DatasetRecord e;
  e.name = "7";  // a name that looks like an id
  e.path = "/abs/other.csv";
  e.format = "csv";
  const int64_t b = store->add_dataset(e);
  QCOMPARE(a, int64_t{1});
  QCOMPARE(b, int64_t{2});

  const auto all = store->datasets();
  QCOMPARE(all.size(), size_t{2});
  QCOMPARE(all[0].id, a);
  QCOMPARE(q(all[0].name), QStringLiteral("alpaca"));
  QCOMPARE(q(all[0].path), QStringLiteral("data/alpaca.jsonl"));
  QCOMPARE(q(all[0].format), QStringLiteral("jsonl"));
  QCOMPARE(q(all[0].mapping_json), QStringLiteral(R"({"prompt":"instruction"})"));
  QCOMPARE(q(all[0].sha256), QStringLiteral("ab12"));
  QCOMPARE(all[0].rows, int64_t{52002});
  QCOMPARE(q(all[0].stats_json), QStringLiteral(R"({"tokens":123})"));
  QCOMPARE(q(all[0].added_at), QStringLiteral("2026-01-02T03:04:05.006Z"));
  QVERIFY(!all[1].added_at.empty());  // filled in when not given
  QCOMPARE(q(all[1].stats_json), QString());

  QCOMPARE(store->find_dataset("alpaca")->id, a);
  QCOMPARE(q(store->find_dataset("1")->name), QStringLiteral("alpaca"));
  QCOMPARE(store->find_dataset("7")->id, b);  // the name wins over id 7
  QCOMPARE(q(store->find_dataset("2")->name), QStringLiteral("7"));
  QVERIFY(!store->find_dataset("nope"));
  QVERIFY(!store->find_dataset("99"));

  store->update_dataset_stats(b, "ffee", 10, R"({"rows":10})");
  const auto updated = *store->find_dataset("7");
  QCOMPARE(q(updated.sha256), QStringLiteral("ffee"));
  QCOMPARE(updated.rows, int64_t{10});
  QCOMPARE(q(updated.stats_json), QStringLiteral(R"({"rows":10})"));
  QCOMPARE(q(updated.path), QStringLiteral("/abs/other.csv"));

  const Caught missing = caught([&] { store->update_dataset_stats(42, "", 0, ""); });
  QVERIFY(missing.thrown);
  QCOMPARE(missing.message, QStringLiteral("no dataset with id 42"));
}

void TestStore::runsCrud() {
  auto store = ProjectStore::create(file("p.dtproj"), "p");
  deeptune::DatasetRecord d;
  d.name = "ds";
  d.path = "ds.jsonl";
  d.format = "jsonl";
  const int64_t ds = store->add_dataset(d);

  RunRecord r = make_run("baseline");
  r.dataset_id = ds;
  r.dataset_sha256 = "cafe";
  r.seed = std::numeric_limits<uint64_t>::max() - 1;  // above INT64_MAX: stored by its bits
  r.engine_version = "0.1.0";
  r.torch_version = "1.13.1";
  r.device = "cuda:0";
  r.created_at = "2026-02-03T04:05:06.007Z";
  r.max_steps = 500;
  r.last_step = 3;
  r.final_metrics_json = R"({"val_loss":1.5})";
  r.error_text = "none";
  r.host = "box";
  r.pid = 1234;
  r.status = RunStatus::kStopped;
  const int64_t id = store->create_run(r);
  QCOMPARE(id, int64_t{1});

  RunRecord fork = make_run("fork");
  fork.parent_run_id = id;
  const int64_t fork_id = store->create_run(fork);

  const auto got = *store->run(id);
  QCOMPARE(got.id, id);
  QCOMPARE(q(got.name), QStringLiteral("baseline"));
  QCOMPARE(q(got.config_json), QStringLiteral(R"({"lr":0.001})"));
  QVERIFY(got.status == RunStatus::kStopped);
  QVERIFY(!got.parent_run_id);
  QVERIFY(!got.sweep_id);
  QCOMPARE(*got.dataset_id, ds);
  QCOMPARE(q(got.dataset_sha256), QStringLiteral("cafe"));
  QCOMPARE(got.seed, std::numeric_limits<uint64_t>::max() - 1);
  QCOMPARE(q(got.engine_version), QStringLiteral("0.1.0"));
  QCOMPARE(q(got.torch_version), QStringLiteral("1.13.1"));
  QCOMPARE(q(got.device), QStringLiteral("cuda:0"));
  QCOMPARE(q(got.created_at), QStringLiteral("2026-02-03T04:05:06.007Z"));
  QCOMPARE(q(got.started_at), QString());
  QCOMPARE(got.max_steps, int64_t{500});
  QCOMPARE(got.last_step, int64_t{3});
  QCOMPARE(q(got.final_metrics_json), QStringLiteral(R"({"val_loss":1.5})"));
  QCOMPARE(q(got.error_text), QStringLiteral("none"));
  QCOMPARE(q(got.host), QStringLiteral("box"));
  QCOMPARE(got.pid, int64_t{1234});
  QCOMPARE(*store->run(fork_id)->parent_run_id, id);

  const auto all = store->runs();
  QCOMPARE(all.size(), size_t{2});
  QCOMPARE(q(all[0].name), QStringLiteral("baseline"));
  QCOMPARE(q(all[1].name), QStringLiteral("fork"));
  QVERIFY(all[1].status == RunStatus::kCreated);

  QCOMPARE(store->find_run("fork")->id, fork_id);
  QCOMPARE(q(store->find_run("1")->name), QStringLiteral("baseline"));
  QVERIFY(!store->find_run("3"));
  QVERIFY(!store->find_run("missing"));
  QVERIFY(!store->find_run(""));
  QVERIFY(!store->run(99));

  QCOMPARE(q(store->unique_run_name("fresh")), QStringLiteral("fresh"));
  QCOMPARE(q(store->unique_run_name("baseline")), QStringLiteral("baseline-2"));
  store->create_run(make_run("baseline-2"));
  QCOMPARE(q(store->unique_run_name("baseline")), QStringLiteral("baseline-3"));

  store->rename_run(fork_id, "renamed");
  QVERIFY(!store->find_run("fork"));
  QCOMPARE(store->find_run("renamed")->id, fork_id);

  const Caught bad_parent = caught([&] {
    RunRecord orphan = make_run("orphan");
    orphan.parent_run_id = 77;
    store->create_run(orphan);
  });
  QVERIFY(bad_parent.thrown);
  QVERIFY(bad_parent.kind == deeptune::ErrorKind::kInvalidInput);
  QVERIFY(!store->find_run("orphan"));
}

void TestStore::duplicateNames() {
  const std::string path = file("p.dtproj");
  auto store = ProjectStore::create(path, "p");
  store->create_run(make_run("x"));
  const int64_t y = store->create_run(make_run("y"));

  const Caught run = caught([&] { store->create_run(make_run("x")); });
  QVERIFY(run.thrown);
  QVERIFY(run.kind == deeptune::ErrorKind::kInvalidInput);
  QCOMPARE(run.where, q(path));
  QCOMPARE(run.message, QStringLiteral("a run named 'x' already exists"));

  const Caught rename = caught([&] { store->rename_run(y, "x"); });
  QCOMPARE(rename.message, QStringLiteral("a run named 'x' already exists"));
  QCOMPARE(q(store->run(y)->name), QStringLiteral("y"));

  deeptune::DatasetRecord d;
  d.name = "ds";
  d.path = "a";
  d.format = "txt";
  store->add_dataset(d);
  const Caught ds = caught([&] { store->add_dataset(d); });
  QVERIFY(ds.kind == deeptune::ErrorKind::kInvalidInput);
  QCOMPARE(ds.message, QStringLiteral("a dataset named 'ds' already exists"));
  QCOMPARE(store->runs().size(), size_t{2});
  QCOMPARE(store->datasets().size(), size_t{1});
}

void TestStore::runLifecycle() {
  auto store = ProjectStore::create(file("p.dtproj"), "p");
  const int64_t id = store->create_run(make_run("r"));
  store->set_run_status(id, RunStatus::kFailed, "boom");
  QCOMPARE(q(store->run(id)->error_text), QStringLiteral("boom"));

  // Failed without a checkpoint: nothing to continue from.
  QVERIFY(caught([&] { store->claim_run(id, 4321, "hostA"); }).message.contains("failed before"));
  store->set_run_status(id, RunStatus::kStopped, "boom");
  const auto before = store->claim_run(id, 4321, "hostA");
  QVERIFY(before.status == RunStatus::kStopped);
  store->set_run_device(id, "cpu");
  auto r = *store->run(id);
  QVERIFY(r.status == RunStatus::kRunning);
  QCOMPARE(q(r.device), QStringLiteral("cpu"));
  QCOMPARE(r.pid, int64_t{4321});
  QCOMPARE(q(r.host), QStringLiteral("hostA"));
  QVERIFY(!r.started_at.empty());
  QCOMPARE(q(r.heartbeat_at), q(r.started_at));
  QCOMPARE(q(r.error_text), QString());  // a restarted run sheds its old error

  store->heartbeat(id, 120);
  r = *store->run(id);
  QCOMPARE(r.last_step, int64_t{120});
  QVERIFY(r.heartbeat_at >= r.started_at);

  store->finish_run(id, RunStatus::kCompleted, R"({"train_loss":0.5})", "");
  r = *store->run(id);
  QVERIFY(r.status == RunStatus::kCompleted);
  QVERIFY(!r.finished_at.empty());
  QVERIFY(r.finished_at >= r.started_at);
  QCOMPARE(q(r.final_metrics_json), QStringLiteral(R"({"train_loss":0.5})"));

  store->set_run_status(id, RunStatus::kPaused);
  QVERIFY(store->run(id)->status == RunStatus::kPaused);

  // Claims refuse what another process holds, and what is done.
  QCOMPARE(caught([&] { store->claim_run(id, 1, "h"); }).message,
           QStringLiteral("run 'r' is already paused (pid 4321 on host hostA)"));
  store->finish_run(id, RunStatus::kCompleted, "", "");
  QCOMPARE(caught([&] { store->claim_run(id, 1, "h"); }).message,
           QStringLiteral("run 'r' has already completed"));
  QCOMPARE(caught([&] { store->heartbeat(999, 1); }).message, QStringLiteral("no run with id 999"));
  QVERIFY(caught([&] { store->claim_run(999, 1, "h"); }).thrown);
  QVERIFY(caught([&] { store->delete_run(999); }).thrown);
}

void TestStore::metricsBatchingOverwriteAndTruncate() {
  auto store = ProjectStore::create(file("p.dtproj"), "p");
  const int64_t a = store->create_run(make_run("a"));
  const int64_t b = store->create_run(make_run("b"));

  // Out of order, and (a, train/loss, 2) twice in one batch: the later one wins.
  store->append_metrics({{a, 3, "train/loss", 3.0},
                         {a, 1, "train/loss", 1.0},
                         {a, 2, "train/loss", 2.0},
                         {a, 2, "train/loss", 2.5},
                         {a, 1, "train/lr", 1e-3},
                         {b, 1, "train/loss", 9.0}});
  auto m = store->metrics(a);
  QCOMPARE(m.size(), size_t{2});
  const std::vector<std::pair<int64_t, double>> loss = {{1, 1.0}, {2, 2.5}, {3, 3.0}};
  QVERIFY(m["train/loss"] == loss);
  QVERIFY((m["train/lr"] == std::vector<std::pair<int64_t, double>>{{1, 1e-3}}));
  QVERIFY((store->metrics(b)["train/loss"] == std::vector<std::pair<int64_t, double>>{{1, 9.0}}));

  // A resumed run rewrites steps 2.. : the last write of each (run, name, step) is kept.
  store->append_metrics({{a, 2, "train/loss", 20.0}, {a, 4, "train/loss", 40.0}});
  m = store->metrics(a);
  const std::vector<std::pair<int64_t, double>> rewritten = {
      {1, 1.0}, {2, 20.0}, {3, 3.0}, {4, 40.0}};
  QVERIFY(m["train/loss"] == rewritten);

  store->truncate_metrics(a, 2);
  m = store->metrics(a);
  const std::vector<std::pair<int64_t, double>> truncated = {{1, 1.0}, {2, 20.0}};
  QVERIFY(m["train/loss"] == truncated);
  QCOMPARE(m["train/lr"].size(), size_t{1});
  QCOMPARE(store->metrics(b)["train/loss"].size(), size_t{1});  // other runs untouched

  store->append_metrics({});  // nothing to do, no error
  QVERIFY(store->metrics(12345).empty());

  // A batch with a bad row writes nothing: it is one transaction.
  QVERIFY(caught([&] { store->append_metrics({{a, 10, "x", 1.0}, {999, 1, "x", 1.0}}); }).thrown);
  QCOMPARE(store->metrics(a).count("x"), size_t{0});
}

void TestStore::metricsKeepNaN() {
  auto store = ProjectStore::create(file("p.dtproj"), "p");
  const int64_t a = store->create_run(make_run("a"));
  const double inf = std::numeric_limits<double>::infinity();
  store->append_metrics(
      {{a, 1, "train/loss", std::numeric_limits<double>::quiet_NaN()}, {a, 2, "train/loss", inf}});
  const auto series = store->metrics(a).at("train/loss");
  QCOMPARE(series.size(), size_t{2});
  QVERIFY(std::isnan(series[0].second));
  QCOMPARE(series[1].second, inf);
}

void TestStore::logs() {
  auto store = ProjectStore::create(file("p.dtproj"), "p");
  const int64_t a = store->create_run(make_run("a"));
  const int64_t b = store->create_run(make_run("b"));
  store->append_logs({{a, "2026-01-01T00:00:00.000Z", "info", "started"},
                      {b, "", "warning", "other run"},
                      {a, "2026-01-01T00:00:01.000Z", "error", "out of memory"}});
  const auto la = store->logs(a);
  QCOMPARE(la.size(), size_t{2});
  QCOMPARE(la[0].run_id, a);
  QCOMPARE(q(la[0].time), QStringLiteral("2026-01-01T00:00:00.000Z"));
  QCOMPARE(q(la[0].level), QStringLiteral("info"));
  QCOMPARE(q(la[0].text), QStringLiteral("started"));
  QCOMPARE(q(la[1].level), QStringLiteral("error"));
  QCOMPARE(q(la[1].text), QStringLiteral("out of memory"));
  const auto lb = store->logs(b);
  QCOMPARE(lb.size(), size_t{1});
  QVERIFY(!lb[0].time.empty());  // stamped when not given
}

void TestStore::artifactsAndPaths() {
  const std::string path = file("p.dtproj");
  auto store = ProjectStore::create(path, "p");
  const std::string dir = m_dir->path().toStdString();
  QCOMPARE(q(store->resolve("data/a.jsonl")), q(dir + "/data/a.jsonl"));
  QCOMPARE(q(store->resolve("/elsewhere/a.jsonl")), QStringLiteral("/elsewhere/a.jsonl"));
  QCOMPARE(q(store->resolve("../x/./y")),
           q(QFileInfo(m_dir->path()).path().toStdString() + "/x/y"));
  QCOMPARE(q(store->relativize(dir + "/runs/a/ckpt.pt")), QStringLiteral("runs/a/ckpt.pt"));
  QCOMPARE(q(store->relativize("/elsewhere/model.bin")), QStringLiteral("/elsewhere/model.bin"));
  QCOMPARE(q(store->relativize("already/relative")), QStringLiteral("already/relative"));
  QCOMPARE(q(store->resolve(store->relativize(dir + "/a/b"))), q(dir + "/a/b"));

  const int64_t run = store->create_run(make_run("a"));
  deeptune::ArtifactRecord inside;
  inside.run_id = run;
  inside.kind = "checkpoint";
  inside.path = dir + "/runs/a/step-100";
  inside.sha256 = "beef";
  inside.step = 100;
  deeptune::ArtifactRecord outside;
  outside.run_id = run;
  outside.kind = "base_model";
  outside.path = "/models/tiny";
  const int64_t first = store->add_artifact(inside);
  const int64_t second = store->add_artifact(outside);
  QVERIFY(second > first);

  const auto all = store->artifacts(run);
  QCOMPARE(all.size(), size_t{2});
  QCOMPARE(all[0].id, first);
  QCOMPARE(all[0].run_id, run);
  QCOMPARE(q(all[0].kind), QStringLiteral("checkpoint"));
  QCOMPARE(q(all[0].path), QStringLiteral("runs/a/step-100"));  // stored relative
  QCOMPARE(q(store->resolve(all[0].path)), q(dir + "/runs/a/step-100"));
  QCOMPARE(q(all[0].sha256), QStringLiteral("beef"));
  QCOMPARE(all[0].step, int64_t{100});
  QVERIFY(!all[0].created_at.empty());
  QCOMPARE(q(all[1].path), QStringLiteral("/models/tiny"));
  QVERIFY(store->artifacts(run + 1).empty());

  // One row per path: recording the same folder again updates its row (a checkpoint of the same
  // step written twice), so pruning one row can never delete what another points to.
  inside.sha256 = "cafe";
  QCOMPARE(store->add_artifact(inside), first);
  QCOMPARE(store->artifacts(run).size(), size_t{2});
  QCOMPARE(q(store->artifacts(run).at(0).sha256), QStringLiteral("cafe"));

  // Removing one row leaves the other; an unknown id is refused.
  deeptune::ArtifactRecord third_file = outside;
  third_file.path = "/models/other";
  const int64_t third = store->add_artifact(third_file);
  store->remove_artifact(third);
  QCOMPARE(store->artifacts(run).size(), size_t{2});
  QCOMPARE(store->artifacts(run).back().id, second);
  QVERIFY_THROWS_EXCEPTION(deeptune::InputError, store->remove_artifact(third));

  // Moving the whole folder keeps relative paths valid.
  store.reset();
  const QString moved = m_dir->path() + "-moved";
  QVERIFY(QDir().rename(m_dir->path(), moved));
  {
    auto reopened = ProjectStore::open((moved + "/p.dtproj").toStdString());
    QCOMPARE(q(reopened->resolve(reopened->artifacts(run)[0].path)), moved + "/runs/a/step-100");
  }
  QVERIFY(QDir().rename(moved, m_dir->path()));
}

void TestStore::presets() {
  auto store = ProjectStore::create(file("p.dtproj"), "p");
  QVERIFY(store->presets().empty());
  store->save_preset("small", R"({"lr":1})");
  store->save_preset("big", R"({"lr":2})");
  store->save_preset("small", R"({"lr":3})");
  const auto p = store->presets();
  QCOMPARE(p.size(), size_t{2});
  QCOMPARE(q(p.at("small")), QStringLiteral(R"({"lr":3})"));
  QCOMPARE(q(p.at("big")), QStringLiteral(R"({"lr":2})"));
}

void TestStore::deleteRunCascades() {
  const std::string path = file("p.dtproj");
  auto store = ProjectStore::create(path, "p");
  const int64_t doomed = store->create_run(make_run("doomed"));
  const int64_t kept = store->create_run(make_run("kept"));
  RunRecord child = make_run("child");
  child.parent_run_id = doomed;
  const int64_t child_id = store->create_run(child);

  for (int64_t run : {doomed, kept}) {
    store->append_metrics({{run, 1, "train/loss", 1.0}, {run, 2, "train/loss", 0.5}});
    store->append_logs({{run, "", "info", "hi"}});
    store->add_artifact({0, run, "checkpoint", "c", "", 1, ""});
    store->put_attention_probes({{run, 0, "text", {"a"}}});
    AttentionMapRecord m;
    m.run_id = run;
    m.codec = "fp16+zstd";
    m.data = {0};
    m.stats_json = "[]";
    store->append_attention_maps({m});
  }
  {
    // Tables without a store API yet: written directly, the way their writers will.
    Database db(path, OpenMode::kReadWrite);
    db.exec("PRAGMA foreign_keys = ON", "fk");
    db.exec(
        "INSERT INTO memory_samples VALUES (1, 1, 't', 10, 20, 30), (2, 1, 't', 1, 2, 3);"
        "INSERT INTO sweeps VALUES (1, 'lr sweep', '{}', 't');"
        "INSERT INTO trials VALUES (1, 1, 1, '{}', 'done');",
        "filling");
  }

  store->delete_run(doomed);
  QVERIFY(!store->run(doomed));
  QVERIFY(store->metrics(doomed).empty());
  QVERIFY(store->logs(doomed).empty());
  QVERIFY(store->artifacts(doomed).empty());
  QCOMPARE(count_rows(path, "SELECT count(*) FROM memory_samples WHERE run_id = 1"), int64_t{0});
  QVERIFY(store->attention_probes(doomed).empty());
  QCOMPARE(count_rows(path, "SELECT count(*) FROM attention_maps WHERE run_id = 1"), int64_t{0});
  // The trial stays with its run link cleared; the fork loses its parent link.
  QCOMPARE(count_rows(path, "SELECT count(*) FROM trials WHERE run_id IS NULL"), int64_t{1});
  QVERIFY(!store->run(child_id)->parent_run_id);

  QCOMPARE(store->metrics(kept).at("train/loss").size(), size_t{2});
  QCOMPARE(store->logs(kept).size(), size_t{1});
  QCOMPARE(store->artifacts(kept).size(), size_t{1});
  QCOMPARE(count_rows(path, "SELECT count(*) FROM memory_samples WHERE run_id = 2"), int64_t{1});
  QCOMPARE(store->attention_probes(kept).size(), size_t{1});
  QCOMPARE(count_rows(path, "SELECT count(*) FROM attention_maps WHERE run_id = 2"), int64_t{1});
}

// Attention maps: probes with their tokens, packed layers in and out byte for byte, steps listed
// in order, a rewrite keeps the last, truncation after a rollback, and deleting the run takes
// them with it.
void TestStore::attentionMapsRoundTrip() {
  const std::string path = file("attention.dtproj");
  auto store = ProjectStore::create(path, "attention");
  RunRecord r;
  r.name = "r";
  r.config_json = "{}";
  const int64_t id = store->create_run(r);
  store->put_attention_probes({{id, 0, "text", {"<s>", "Count", " 3"}}, {id, 1, "row 4", {"x"}}});
  const auto probes = store->attention_probes(id);
  QCOMPARE(probes.size(), size_t{2});
  QCOMPARE(q(probes[0].tokens.at(1)), QStringLiteral("Count"));
  QCOMPARE(q(probes[1].source), QStringLiteral("row 4"));
  std::vector<AttentionMapRecord> maps;
  for (int64_t step : {0, 10, 20})
    for (int layer = 0; layer < 2; ++layer) {
      AttentionMapRecord m;
      m.run_id = id;
      m.step = step;
      m.layer = layer;
      m.heads = 4;
      m.length = 3;
      m.size = 3;
      m.codec = "fp16+zstd";
      m.data = {uint8_t(step), uint8_t(layer), 0, 255};
      m.stats_json = "[[0.5, 0.2, 0.1, 0.9]]";
      if (step > 0) {  // step 0 as recorded before schema version 5: no preview
        m.preview_size = 2;
        m.preview = {uint8_t(step), uint8_t(layer), 44};
      }
      maps.push_back(m);
    }
  store->append_attention_maps(maps);
  // One layer, its preview with it; the previews of a step without the maps.
  const auto layer1 = store->attention_layer(id, 0, 20, 1);
  QVERIFY(layer1.has_value());
  QCOMPARE(layer1->layer, 1);
  QCOMPARE(layer1->heads, 4);
  QVERIFY(layer1->data == (std::vector<uint8_t>{20, 1, 0, 255}));
  QCOMPARE(q(layer1->stats_json), QStringLiteral("[[0.5, 0.2, 0.1, 0.9]]"));
  QCOMPARE(layer1->preview_size, 2);
  QVERIFY(layer1->preview == (std::vector<uint8_t>{20, 1, 44}));
  QVERIFY(!store->attention_layer(id, 0, 20, 2).has_value());
  QVERIFY(!store->attention_layer(id, 0, 15, 0).has_value());
  QVERIFY(!store->attention_layer(id, 0, 20, -1).has_value());
  const auto layer0 = store->attention_layer(id, 0, 0, 0);  // no preview: read all the same
  QVERIFY(layer0.has_value());
  QVERIFY(layer0->data == (std::vector<uint8_t>{0, 0, 0, 255}));
  QCOMPARE(layer0->preview_size, 0);
  QVERIFY(layer0->preview.empty());
  const auto previews = store->attention_previews(id, 0, 10);
  QCOMPARE(previews.size(), size_t{2});
  QCOMPARE(previews[1].layer, 1);
  QCOMPARE(previews[1].heads, 4);
  QCOMPARE(previews[1].preview_size, 2);
  QVERIFY(previews[1].preview == (std::vector<uint8_t>{10, 1, 44}));
  QVERIFY(previews[1].data.empty());
  QVERIFY(store->attention_previews(id, 0, 0).empty());
  QCOMPARE(store->attention_maps(id, 0, 20)[0].preview_size, 2);
  QVERIFY(store->attention_steps(id, 0) == (std::vector<int64_t>{0, 10, 20}));
  QVERIFY(store->attention_steps(id, 1).empty());
  auto at10 = store->attention_maps(id, 0, 10);
  QCOMPARE(at10.size(), size_t{2});
  QCOMPARE(at10[1].layer, 1);
  QVERIFY(at10[1].data == (std::vector<uint8_t>{10, 1, 0, 255}));
  QCOMPARE(q(at10[0].stats_json), QStringLiteral("[[0.5, 0.2, 0.1, 0.9]]"));
  const auto stats = store->attention_stats(id, 0);
  QCOMPARE(stats.size(), size_t{6});
  QCOMPARE(stats[3].step, int64_t{10});
  QCOMPARE(stats[3].layer, 1);
  QVERIFY(stats[3].data.empty());  // the maps stay on disk
  QCOMPARE(q(stats[3].stats_json), QStringLiteral("[[0.5, 0.2, 0.1, 0.9]]"));
  maps[2].data = {7};  // step 10, layer 0 captured again, without a preview this time
  maps[2].preview.clear();
  store->append_attention_maps({maps[2]});
  QVERIFY(store->attention_maps(id, 0, 10)[0].data == std::vector<uint8_t>{7});
  QVERIFY(store->attention_layer(id, 0, 10, 0)->preview.empty());  // not the old maps' preview
  QCOMPARE(store->attention_previews(id, 0, 10).size(), size_t{1});
  store->truncate_attention(id, 10);
  QVERIFY(store->attention_steps(id, 0) == (std::vector<int64_t>{0, 10}));
  QVERIFY(store->attention_previews(id, 0, 20).empty());
  QCOMPARE(count_rows(path, "SELECT count(*) FROM attention_previews"), int64_t{1});
  store->delete_run(id);
  QVERIFY(store->attention_probes(id).empty());
  QCOMPARE(count_rows(path, "SELECT count(*) FROM attention_maps"), int64_t{0});
  QCOMPARE(count_rows(path, "SELECT count(*) FROM attention_previews"), int64_t{0});
}

void TestStore::migrationFromVersion1() {
  const std::string path = file("old.dtproj");
  deeptune::store::create_project_file(path, "old project", 1);
  {
    Database db(path, OpenMode::kReadWrite);
    QCOMPARE(db.pragma_int("user_version"), int64_t{1});
    // Version 1 has no logs table and no runs.host column.
    QCOMPARE(count_rows(path, "SELECT count(*) FROM sqlite_master WHERE name = 'logs'"),
             int64_t{0});
    db.exec(
        "INSERT INTO datasets (name, path, format, added_at) VALUES ('ds', 'd.jsonl', 'jsonl', "
        "'t0');"
        "INSERT INTO runs (name, config_json, status, created_at, started_at, pid, last_step) "
        "VALUES ('r1', '{\"a\":1}', 'completed', 't1', 't2', 77, 9);"
        "INSERT INTO metrics VALUES (1, 1, 'train/loss', 2.0), (1, 2, 'train/loss', 1.0);"
        "INSERT INTO artifacts (run_id, kind, path, created_at) VALUES (1, 'checkpoint', 'c', "
        "'t3');",
        "filling a version-1 file");
  }

  auto store = ProjectStore::open(path);
  const auto info = store->info();
  QCOMPARE(info.schema_version, 5);
  QCOMPARE(q(info.name), QStringLiteral("old project"));
  const auto run = *store->find_run("r1");
  QVERIFY(run.status == RunStatus::kCompleted);
  QCOMPARE(q(run.config_json), QStringLiteral(R"({"a":1})"));
  QCOMPARE(run.pid, int64_t{77});
  QCOMPARE(run.last_step, int64_t{9});
  QCOMPARE(q(run.host), QString());  // new column, default value
  QCOMPARE(q(run.heartbeat_at), QString());
  const std::vector<std::pair<int64_t, double>> loss = {{1, 2.0}, {2, 1.0}};
  QVERIFY(store->metrics(run.id).at("train/loss") == loss);
  QCOMPARE(q(store->artifacts(run.id).at(0).path), QStringLiteral("c"));
  QCOMPARE(q(store->find_dataset("ds")->path), QStringLiteral("d.jsonl"));

  // Version-2 tables work on the migrated file.
  store->append_logs({{run.id, "", "info", "after migration"}});
  QCOMPARE(store->logs(run.id).size(), size_t{1});
  store->save_preset("p", "{}");
  store->set_run_status(run.id, RunStatus::kStopped);
  store->claim_run(run.id, getpid(), "h");
  QCOMPARE(q(store->run(run.id)->host), QStringLiteral("h"));
  // Version-3 tables too, with version 4's token ids.
  store->put_attention_probes({{run.id, 0, "text", {"a", "b"}, {97, 98}}});
  QCOMPARE(store->attention_probes(run.id).at(0).tokens.size(), size_t{2});
  QCOMPARE(store->attention_probes(run.id).at(0).ids, (std::vector<int32_t>{97, 98}));
  store.reset();
  QCOMPARE(count_rows(path, "PRAGMA user_version"), int64_t{5});
  QCOMPARE(
      count_rows(path, "SELECT count(*) FROM sqlite_master WHERE name = 'attention_snapshots'"),
      int64_t{0});

  // Opening again is a no-op migration.
  QCOMPARE(ProjectStore::open(path)->info().schema_version, 5);
}

void TestStore::probesOfVersion3HaveNoIds() {
  // A version-3 file's probes migrate with an empty id list; a damaged id list is refused by name.
  const std::string path = file("v3.dtproj");
  deeptune::store::create_project_file(path, "v3", 3);
  {
    Database db(path, OpenMode::kReadWrite);
    db.exec(
        "INSERT INTO runs (name, config_json, status, created_at) VALUES ('r', '{}', 'completed', "
        "'t');"
        "INSERT INTO attention_probes VALUES (1, 0, 'text', '[\"a\",\"b\"]');",
        "filling a version-3 file");
  }
  auto store = ProjectStore::open(path);
  const auto probes = store->attention_probes(1);
  QCOMPARE(probes.size(), size_t{1});
  QCOMPARE(probes[0].tokens.size(), size_t{2});
  QVERIFY(probes[0].ids.empty());
  store.reset();
  {
    Database db(path, OpenMode::kReadWrite);
    db.exec("UPDATE attention_probes SET ids_json = '[1]'", "one id for two tokens");
  }
  const Caught c = caught([&] { ProjectStore::open(path)->attention_probes(1); });
  QVERIFY(c.thrown);
  QCOMPARE(c.message, QStringLiteral("its token ids are not a list of one id per token"));
  QVERIFY(c.where.endsWith("v3.dtproj: run 1, attention probe 0"));
}

void TestStore::mapsOfVersion4HaveNoPreviews() {
  // A version-4 file's maps migrate without previews: read whole as before, and a step captured
  // after the migration stores its previews beside them.
  const std::string path = file("v4.dtproj");
  deeptune::store::create_project_file(path, "v4", 4);
  {
    Database db(path, OpenMode::kReadWrite);
    db.exec(
        "INSERT INTO runs (name, config_json, status, created_at) VALUES ('r', '{}', 'completed', "
        "'t');"
        "INSERT INTO attention_maps VALUES (1, 0, 5, 0, 2, 3, 3, 'fp16+zstd', x'0102', '[]');",
        "filling a version-4 file");
  }
  auto store = ProjectStore::open(path);
  QCOMPARE(store->info().schema_version, 5);
  QVERIFY(store->attention_previews(1, 0, 5).empty());
  const auto old = store->attention_maps(1, 0, 5);
  QCOMPARE(old.size(), size_t{1});
  QVERIFY(old[0].data == (std::vector<uint8_t>{1, 2}));
  QCOMPARE(old[0].preview_size, 0);
  QVERIFY(old[0].preview.empty());
  AttentionMapRecord m = old[0];
  m.step = 10;
  m.preview_size = 1;
  m.preview = {9};
  store->append_attention_maps({m});
  QCOMPARE(store->attention_previews(1, 0, 10).size(), size_t{1});
  QVERIFY(store->attention_layer(1, 0, 10, 0)->preview == std::vector<uint8_t>{9});
}

void TestStore::openRefusals_data() {
  QTest::addColumn<QString>("kind");
  QTest::addColumn<QString>("message");
  QTest::newRow("missing") << "missing"
                           << "does not exist";
  QTest::newRow("folder") << "folder"
                          << "is a folder, not a DeepTune project";
  QTest::newRow("empty") << "empty"
                         << "is empty, not a DeepTune project";
  QTest::newRow("text") << "text"
                        << "is not a SQLite database, so not a DeepTune project";
  QTest::newRow("random") << "random"
                          << "is not a SQLite database, so not a DeepTune project";
  QTest::newRow("plain sqlite") << "plain"
                                << "is a SQLite database but not a DeepTune project";
  QTest::newRow("sqlite with a project table") << "lookalike"
                                               << "is a SQLite database but not a DeepTune project";
  QTest::newRow("damaged sqlite") << "damaged"
                                  << "is a damaged SQLite database";
  QTest::newRow("newer schema")
      << "newer"
      << "was written by a newer DeepTune (schema 6, this build reads up to 5)";
}

void TestStore::openRefusals() {
  QFETCH(QString, kind);
  QFETCH(QString, message);
  const QString path = m_dir->path() + "/target.dtproj";
  const std::string spath = path.toStdString();

  if (kind == "folder") {
    QVERIFY(QDir().mkdir(path));
  } else if (kind == "empty") {
    write_file(path, QByteArray());
  } else if (kind == "text") {
    write_file(path, "name,value\nlr,0.001\nthis is a CSV file, not a project\n");
  } else if (kind == "random") {
    QRandomGenerator rng(42);
    QByteArray bytes(8192, '\0');
    for (char& c : bytes) c = static_cast<char>(rng.bounded(256));
    write_file(path, bytes);
  } else if (kind == "plain" || kind == "lookalike") {
    Database db(spath, OpenMode::kReadWriteCreate);
    db.exec(kind == "plain" ? "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT);"
                              "INSERT INTO notes (text) VALUES ('hello')"
                            : "CREATE TABLE project (name TEXT); PRAGMA user_version = 1",
            "making a foreign database");
  } else if (kind == "damaged") {
    QByteArray bytes("SQLite format 3", 16);
    bytes.append(QByteArray(4096, '\x7f'));
    write_file(path, bytes);
  } else if (kind == "newer") {
    ProjectStore::create(spath, "from the future");
    Database db(spath, OpenMode::kReadWrite);
    db.exec("PRAGMA user_version = 6", "pretending to be newer");
  }
  const QByteArray before = sha256_of(path);
  const qint64 size_before = QFileInfo(path).size();

  const Caught c = caught([&] { ProjectStore::open(spath); });
  QVERIFY(c.thrown);
  QVERIFY(c.kind == deeptune::ErrorKind::kInvalidInput);
  QCOMPARE(c.where, path);
  QVERIFY2(c.message.startsWith(message), qPrintable(c.message));

  // Refused means untouched: same bytes, and a missing file stays missing.
  QCOMPARE(sha256_of(path), before);
  QCOMPARE(QFileInfo(path).size(), size_before);
  if (kind == "missing") QVERIFY(!QFileInfo::exists(path));
  for (const char* suffix : {"-wal", "-shm", "-journal"})
    QVERIFY2(!QFileInfo::exists(path + suffix), suffix);  // no lock files left beside it either
  if (kind == "newer") QCOMPARE(count_rows(spath, "PRAGMA user_version"), int64_t{6});
}

void TestStore::walModeIsOn() {
  const std::string path = file("p.dtproj");
  auto store = ProjectStore::create(path, "p");
  Database db(path, OpenMode::kReadOnly);
  QCOMPARE(q(db.pragma_text("journal_mode")), QStringLiteral("wal"));
  // WAL is persistent: header bytes 18 and 19 (read/write format versions) are 2.
  store.reset();
  QFile f(q(path));
  QVERIFY(f.open(QIODevice::ReadOnly));
  const QByteArray header = f.read(20);
  QCOMPARE(int(header[18]), 2);
  QCOMPARE(int(header[19]), 2);
}

void TestStore::secondConnectionSeesWrites() {
  const std::string path = file("p.dtproj");
  auto writer = ProjectStore::create(path, "p");
  auto reader = ProjectStore::open(path);
  const int64_t id = writer->create_run(make_run("live"));
  writer->append_metrics({{id, 1, "train/loss", 4.0}});
  QCOMPARE(reader->find_run("live")->id, id);
  QCOMPARE(reader->metrics(id).at("train/loss").at(0).second, 4.0);
  reader->heartbeat(id, 5);  // and the other way round
  QCOMPARE(writer->run(id)->last_step, int64_t{5});
}

void TestStore::deadLocalProcessMarksRunInterrupted() {
  const std::string path = file("p.dtproj");
  const std::string host = deeptune::local_host_name();
  QVERIFY(!host.empty());
  {
    auto store = ProjectStore::create(path, "p");
    const int64_t alive = store->create_run(make_run("alive"));
    store->claim_run(alive, getpid(), host);
  }  // no connection may cross fork()

  const pid_t child = fork();
  QVERIFY(child >= 0);
  if (child == 0) {
    // The child plays a trainer that crashes mid-run: no finish_run, no destructors.
    try {
      auto store = ProjectStore::open(path);
      const int64_t id = store->create_run(make_run("crashed"));
      store->claim_run(id, getpid(), deeptune::local_host_name());
      store->heartbeat(id, 42);
      _exit(0);
    } catch (...) {
      _exit(3);
    }
  }
  int status = 0;
  QCOMPARE(waitpid(child, &status, 0), child);
  QVERIFY(WIFEXITED(status));
  QCOMPARE(WEXITSTATUS(status), 0);

  auto store = ProjectStore::open(path);
  const auto crashed = *store->find_run("crashed");
  QVERIFY(crashed.status == RunStatus::kInterrupted);
  QCOMPARE(crashed.pid, int64_t{child});
  QCOMPARE(crashed.last_step, int64_t{42});
  QCOMPARE(q(crashed.error_text),
           QStringLiteral("the process (pid %1) ended without finishing the run").arg(child));
  QVERIFY(deeptune::is_resumable(crashed.status));
  const auto alive = *store->find_run("alive");
  QVERIFY(alive.status == RunStatus::kRunning);
  QCOMPARE(alive.pid, int64_t{getpid()});
}

void TestStore::staleHeartbeatOnOtherHost() {
  const std::string path = file("p.dtproj");
  const std::string here = deeptune::local_host_name();
  {
    auto store = ProjectStore::create(path, "p");
    for (const char* name : {"remote-stale", "remote-fresh", "local-paused-dead"}) {
      store->create_run(make_run(name));
    }
    store->claim_run(1, 999999, "other-machine");
    store->claim_run(2, 999999, "other-machine");
    store->claim_run(3, 1, here);
    store->set_run_status(3, RunStatus::kPaused);
  }
  {
    Database db(path, OpenMode::kReadWrite);
    db.exec("UPDATE runs SET heartbeat_at = '2020-01-01T00:00:00.000Z' WHERE id = 1", "aging");
    // pid 1 always exists; use a pid no process has (above the kernel's pid_max).
    db.exec("UPDATE runs SET pid = 2147483000 WHERE id = 3", "forging a dead pid");
  }
  auto store = ProjectStore::open(path);
  QVERIFY(store->run(1)->status == RunStatus::kInterrupted);
  QCOMPARE(q(store->run(1)->error_text),
           QStringLiteral("no heartbeat from host 'other-machine' since 2020-01-01T00:00:00.000Z"));
  QVERIFY(store->run(2)->status == RunStatus::kRunning);  // fresh heartbeat: may be alive
  QVERIFY(store->run(3)->status == RunStatus::kInterrupted);
}

// Two processes that claim the same run at the same moment: exactly one wins, the others are
// told who has it. (Before, both trained and collided on the same checkpoint folder.)
void TestStore::claimIsAtomicAcrossProcesses() {
  const std::string path = file("p.dtproj");
  {
    auto store = ProjectStore::create(path, "p");
    store->create_run(make_run("contested"));
  }
  constexpr int kProcesses = 6;
  int gate[2];
  QCOMPARE(pipe(gate), 0);
  std::vector<pid_t> children;
  for (int i = 0; i < kProcesses; ++i) {
    const pid_t child = fork();
    QVERIFY(child >= 0);
    if (child == 0) {
      close(gate[1]);
      char c;
      (void)!read(gate[0], &c, 1);  // every child starts when the parent closes the pipe
      try {
        auto store = ProjectStore::open(path);
        store->claim_run(1, getpid(), deeptune::local_host_name());
        sleep(2);  // stay alive while the others try: a dead claimant would be marked
        _exit(0);
      } catch (const deeptune::InputError& e) {
        _exit(std::string(e.what()).find("is already running (pid") != std::string::npos ? 1 : 4);
      } catch (...) {
        _exit(3);
      }
    }
    children.push_back(child);
  }
  close(gate[0]);
  close(gate[1]);
  int winners = 0, refused = 0;
  for (const pid_t child : children) {
    int status = 0;
    QCOMPARE(waitpid(child, &status, 0), child);
    QVERIFY(WIFEXITED(status));
    winners += WEXITSTATUS(status) == 0;
    refused += WEXITSTATUS(status) == 1;
  }
  QCOMPARE(winners, 1);
  QCOMPARE(refused, kProcesses - 1);
}

// A run created by a process that died before claiming it (killed in the first second) holds
// nothing: it disappears instead of blocking its name as 'created' forever. One that somehow
// holds records is kept, as interrupted.
void TestStore::createdRunOfDeadCreatorIsRemoved() {
  const std::string path = file("p.dtproj");
  const std::string here = deeptune::local_host_name();
  {
    auto store = ProjectStore::create(path, "p");
    for (const char* name : {"stillborn", "with-logs", "creator-alive", "old-file"}) {
      RunRecord r = make_run(name);
      r.host = std::string(name) == "old-file" ? "" : here;
      r.pid = std::string(name) == "creator-alive" ? getpid() : 2147483000;  // above pid_max
      store->create_run(r);
    }
    store->append_logs({{2, "", "info", "something"}});
  }
  auto store = ProjectStore::open(path);
  QVERIFY(!store->find_run("stillborn"));
  QVERIFY(store->find_run("with-logs")->status == RunStatus::kInterrupted);
  QVERIFY(store->find_run("creator-alive")->status == RunStatus::kCreated);
  QVERIFY(store->find_run("old-file")->status == RunStatus::kCreated);  // unknown creator: kept
  QCOMPARE(store->unique_run_name("stillborn"), std::string("stillborn"));
}

// A file whose pages are damaged is refused on open, before anything writes to it, with advice.
void TestStore::damagedFileIsRefusedWithAdvice() {
  const std::string path = file("p.dtproj");
  {
    auto store = ProjectStore::create(path, "p");
    const int64_t id = store->create_run(make_run("r"));
    std::vector<deeptune::MetricPoint> points;
    for (int i = 0; i < 20000; ++i) points.push_back({id, i, "train/loss", 1.0 / (i + 1)});
    store->append_metrics(points);
  }  // the last connection checkpoints the WAL into the file
  QFile f(QString::fromStdString(path));
  QVERIFY(f.open(QIODevice::ReadWrite));
  const qint64 size = f.size();
  QVERIFY(size > 64 * 4096);
  // Scribble over a page in the middle (not the header): a b-tree page of the metrics.
  QVERIFY(f.seek((size / 4096 / 2) * 4096));
  QByteArray junk(4096, '\xA5');
  QCOMPARE(f.write(junk), qint64(4096));
  f.close();
  const QByteArray before = QCryptographicHash::hash(
      [&] {
        QFile r(QString::fromStdString(path));
        r.open(QIODevice::ReadOnly);
        return r.readAll();
      }(),
      QCryptographicHash::Sha256);
  const Caught c = caught([&] { ProjectStore::open(path); });
  QVERIFY(c.thrown);
  QVERIFY2(c.kind == deeptune::ErrorKind::kInvalidInput, qPrintable(c.message));
  QVERIFY2(c.message.contains("is damaged (SQLite quick_check:"), qPrintable(c.message));
  QVERIFY2(c.message.contains(".recover"), qPrintable(c.message));
  QFile r(QString::fromStdString(path));
  QVERIFY(r.open(QIODevice::ReadOnly));
  QCOMPARE(QCryptographicHash::hash(r.readAll(), QCryptographicHash::Sha256), before);
}

void TestStore::logsAfterId() {
  auto store = ProjectStore::create(file("p.dtproj"), "p");
  const int64_t a = store->create_run(make_run("a"));
  store->append_logs({{a, "", "info", "one"}, {a, "", "info", "two"}});
  const auto first = store->logs(a);
  QCOMPARE(first.size(), size_t{2});
  QVERIFY(first[1].id > first[0].id);
  QVERIFY(store->logs(a, first.back().id).empty());
  store->append_logs({{a, "", "info", "three"}});
  const auto fresh = store->logs(a, first.back().id);
  QCOMPARE(fresh.size(), size_t{1});
  QCOMPARE(q(fresh[0].text), QStringLiteral("three"));
}

void TestStore::checkpointStepOfRuns() {
  auto store = ProjectStore::create(file("p.dtproj"), "p");
  const int64_t a = store->create_run(make_run("a"));
  QCOMPARE(store->run(a)->checkpoint_step, int64_t{-1});
  store->add_artifact({0, a, "checkpoint", "c10", "", 10, ""});
  store->add_artifact({0, a, "checkpoint", "c20", "", 20, ""});
  store->add_artifact({0, a, "export_peft", "e", "", 30, ""});
  QCOMPARE(store->run(a)->checkpoint_step, int64_t{20});
  QCOMPARE(store->runs().at(0).checkpoint_step, int64_t{20});
}

QTEST_GUILESS_MAIN(TestStore)
#include "tst_store.moc"
