// deeptune-cli with Hugging Face models, driven as a user would (QProcess): a LoRA run on an
// imported base that references it instead of copying it, checkpoints and exports of it, a base
// changed under a run, folders refused before training, and the tokenize / logits / models verbs.
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <csignal>

namespace {

const QString kCli = QStringLiteral(DEEPTUNE_CLI_PATH);
const QString kFixtures = QStringLiteral(DEEPTUNE_SOURCE_DIR "/tests/interop/fixtures/models");

struct Result {
  int code = -1;
  QByteArray out, err;
};

Result cli(const QStringList& args, const QProcessEnvironment& env = {}) {
  QProcess p;
  QProcessEnvironment e = env.isEmpty() ? QProcessEnvironment::systemEnvironment() : env;
  e.insert("OMP_NUM_THREADS", "1");
  p.setProcessEnvironment(e);
  p.start(kCli, args);
  if (!p.waitForFinished(300000)) p.kill();
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
          p.readAllStandardError()};
}

QString describe(const Result& r) {
  return QString("exit %1\nstdout: %2\nstderr: %3")
      .arg(r.code)
      .arg(QString::fromUtf8(r.out.right(1500)), QString::fromUtf8(r.err.right(1500)));
}

QString copyFixture(const QString& into, const QString& name) {
  const QString to = into + "/" + name;
  QDir().mkpath(to);
  for (const auto& f : QDir(kFixtures + "/" + name).entryList(QDir::Files))
    QFile::copy(kFixtures + "/" + name + "/" + f, to + "/" + f);
  return to;
}

QJsonObject readJson(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QJsonDocument::fromJson(f.readAll()).object();
}

}  // namespace

class TestCliModels : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void loraRunReferencesItsBase();
  void exportsCarryTheBase();
  void changedBaseIsRefused();
  void stoppedRunResumesOnItsBase();
  void classifierOnImportedBase();
  void badFolderIsRefusedBeforeTraining_data();
  void badFolderIsRefusedBeforeTraining();
  void tokenizeRoundTrips();
  void logitsRefusesBadTokens();
  void modelsListsTheCache();

 private:
  QTemporaryDir m_dir;
  QString m_model, m_project;
};

void TestCliModels::initTestCase() {
  QVERIFY(m_dir.isValid());
  m_model = copyFixture(m_dir.path(), "llama_tied");
  m_project = m_dir.filePath("p.dtproj");
  QFile data(m_dir.filePath("notes.jsonl"));
  QVERIFY(data.open(QIODevice::WriteOnly));
  for (int i = 0; i < 40; ++i)
    data.write(QString("{\"text\": \"Note %1: the pump at station %2 needs a new seal.\"}\n")
                   .arg(i)
                   .arg(i * 3)
                   .toUtf8());
  data.close();
  QCOMPARE(cli({"init", m_project}).code, 0);
  const Result add = cli({"data", "add", m_project, data.fileName(), "--name", "notes"});
  QVERIFY2(add.code == 0, qPrintable(describe(add)));
  const Result train = cli({"train",  m_project,
                            "--name", "lora",
                            "--set",  "model.source=" + m_model,
                            "--set",  "data.dataset=notes",
                            "--set",  "train.max_steps=4",
                            "--set",  "train.batch_size=4",
                            "--set",  "train.micro_batch_size=4",
                            "--set",  "train.checkpoint_every=2",
                            "--set",  "train.eval_every=2",
                            "--set",  "data.max_length=48",
                            "--set",  "train.lr=0.01",
                            "--set",  "train.warmup_steps=0"});
  QVERIFY2(train.code == 0, qPrintable(describe(train)));
}

void TestCliModels::loraRunReferencesItsBase() {
  // The run folder holds a reference and checkpoints, not a copy of the base weights.
  const QString runs = m_dir.filePath("p.runs");
  const auto folders = QDir(runs).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
  QCOMPARE(folders.size(), 1);
  const QString run = runs + "/" + folders.first();
  QVERIFY(QFile::exists(run + "/base_ref.json"));
  QVERIFY(!QDir(run + "/base").exists());
  const auto ref = readJson(run + "/base_ref.json");
  QCOMPARE(ref["dir"].toString(), QDir(m_model).absolutePath());
  QStringList names;
  for (const auto& f : ref["files"].toArray()) {
    names << f.toObject()["name"].toString();
    QCOMPARE(f.toObject()["sha256"].toString().size(), 64);
  }
  QVERIFY2(names.contains("model.safetensors") && names.contains("config.json") &&
               names.contains("tokenizer.json"),
           qPrintable(names.join(", ")));
  // The checkpoints hold only what trains: a few adapter tensors, far less than the base.
  qint64 checkpoint_bytes = 0;
  for (const auto& d : QDir(run).entryList({"checkpoint-*"}, QDir::Dirs))
    for (const auto& f : QDir(run + "/" + d).entryInfoList(QDir::Files))
      checkpoint_bytes = std::max(checkpoint_bytes, f.size());
  QVERIFY(checkpoint_bytes > 0);
  QVERIFY2(checkpoint_bytes < QFileInfo(m_model + "/model.safetensors").size() / 2,
           qPrintable(QString::number(checkpoint_bytes)));
  // The tuned model differs from its base.
  const QString tokens = "1,5,9,30,200,7";
  QCOMPARE(cli({"logits", m_model, "--tokens", tokens, "--out", m_dir.filePath("b.st")}).code, 0);
  const Result tuned =
      cli({"logits", m_project + ":lora", "--tokens", tokens, "--out", m_dir.filePath("t.st")});
  QVERIFY2(tuned.code == 0, qPrintable(describe(tuned)));
  QFile a(m_dir.filePath("b.st")), b(m_dir.filePath("t.st"));
  QVERIFY(a.open(QIODevice::ReadOnly) && b.open(QIODevice::ReadOnly));
  const QByteArray base_bytes = a.readAll(), tuned_bytes = b.readAll();
  QCOMPARE(base_bytes.size(), tuned_bytes.size());
  QVERIFY(base_bytes != tuned_bytes);
}

void TestCliModels::exportsCarryTheBase() {
  const QString peft = m_dir.filePath("peft"), merged = m_dir.filePath("merged");
  Result r = cli({"export", m_project, "lora", "--format", "peft", "--out", peft});
  QVERIFY2(r.code == 0, qPrintable(describe(r)));
  QCOMPARE(readJson(peft + "/adapter_config.json")["base_model_name_or_path"].toString(),
           QDir(m_model).absolutePath());
  r = cli({"export", m_project, "lora", "--format", "hf", "--out", merged});
  QVERIFY2(r.code == 0, qPrintable(describe(r)));
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json",
                        "tokenizer_config.json", "generation_config.json"})
    QVERIFY2(QFile::exists(merged + "/" + f), f);
  QVERIFY(!QFile::exists(merged + "/deeptune_tokenizer.json"));
  const auto config = readJson(merged + "/config.json");
  QCOMPARE(config["torch_dtype"].toString(), QString("float32"));
  QCOMPARE(config["architectures"].toArray().first().toString(), QString("LlamaForCausalLM"));
  // The merged model and base + adapter agree.
  const QString tokens = "3,1,4,1,5,9,2,6";
  r = cli({"logits", merged, "--tokens", tokens, "--out", m_dir.filePath("m.st")});
  QVERIFY2(r.code == 0, qPrintable(describe(r)));
  r = cli(
      {"logits", m_model, "--tokens", tokens, "--adapter", peft, "--out", m_dir.filePath("a.st")});
  QVERIFY2(r.code == 0, qPrintable(describe(r)));
}

void TestCliModels::changedBaseIsRefused() {
  const QString weights = m_model + "/model.safetensors";
  QFile f(weights);
  QVERIFY(f.open(QIODevice::ReadWrite));
  const QByteArray original = f.readAll();
  // Touched, same bytes: accepted (only the bytes decide).
  f.seek(0);
  f.write(original);
  f.close();
  Result r = cli({"export", m_project, "lora", "--format", "peft", "--out", m_dir.filePath("p2")});
  QVERIFY2(r.code == 0, qPrintable(describe(r)));
  // One weight byte changed: refused, naming the file; the run keeps its status.
  QByteArray changed = original;
  changed[changed.size() - 3] = char(changed[changed.size() - 3] ^ 0x40);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write(changed);
  f.close();
  r = cli({"export", m_project, "lora", "--format", "peft", "--out", m_dir.filePath("p3")});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains("model.safetensors") && r.err.contains("changed since the run started"),
           qPrintable(describe(r)));
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write(original);
  f.close();
  r = cli({"runs", m_project});
  QVERIFY2(r.out.contains("completed"), qPrintable(describe(r)));
}

void TestCliModels::stoppedRunResumesOnItsBase() {
  // Ctrl-C after a checkpoint, then resume: the run continues on the referenced base and its
  // checkpoint, and completes.
  QProcess p;
  auto env = QProcessEnvironment::systemEnvironment();
  env.insert("OMP_NUM_THREADS", "1");
  p.setProcessEnvironment(env);
  p.start(kCli, {"train",
                 m_project,
                 "--name",
                 "stopme",
                 "--json",
                 "--set",
                 "model.source=" + m_model,
                 "--set",
                 "data.dataset=notes",
                 "--set",
                 "train.max_steps=400",
                 "--set",
                 "train.warmup_steps=0",
                 "--set",
                 "train.batch_size=4",
                 "--set",
                 "train.micro_batch_size=4",
                 "--set",
                 "train.checkpoint_every=2",
                 "--set",
                 "data.max_length=48"});
  QVERIFY(p.waitForStarted());
  QByteArray out;
  QElapsedTimer timer;
  timer.start();
  while (!out.contains("\"step\":3") && timer.elapsed() < 120000) {
    p.waitForReadyRead(1000);
    out += p.readAllStandardOutput();
  }
  QVERIFY2(out.contains("\"step\":3"), out.right(2000).constData());
  ::kill(static_cast<pid_t>(p.processId()), SIGINT);
  QVERIFY(p.waitForFinished(120000));
  QCOMPARE(p.exitCode(), 130);
  Result r = cli({"runs", m_project});
  QVERIFY2(r.out.contains("stopped"), qPrintable(describe(r)));
  // The rest of the 400 steps (a tiny model: seconds).
  r = cli({"resume", m_project, "stopme", "--json"});
  QVERIFY2(r.code == 0, qPrintable(describe(r)));
  QVERIFY2(r.out.contains("resuming from checkpoint at step"), qPrintable(describe(r)));
  r = cli({"runs", m_project, "--json"});
  QVERIFY2(r.out.contains("\"completed\""), qPrintable(describe(r)));
}

void TestCliModels::classifierOnImportedBase() {
  QFile data(m_dir.filePath("labels.jsonl"));
  QVERIFY(data.open(QIODevice::WriteOnly));
  for (int i = 0; i < 24; ++i)
    data.write(QString("{\"text\": \"ticket %1 %2\", \"label\": \"%3\"}\n")
                   .arg(i)
                   .arg(i % 2 ? "refund please" : "app crashes")
                   .arg(i % 2 ? "billing" : "bug")
                   .toUtf8());
  data.close();
  Result r = cli({"data", "add", m_project, data.fileName(), "--name", "tickets", "--text", "text",
                  "--label", "label"});
  QVERIFY2(r.code == 0, qPrintable(describe(r)));
  r = cli({"train", m_project, "--name", "cls", "--set", "model.source=" + m_model, "--set",
           "data.dataset=tickets", "--set", "model.task=classification", "--set",
           "train.max_steps=3", "--set", "train.warmup_steps=0", "--set", "train.batch_size=4",
           "--set", "train.micro_batch_size=4"});
  QVERIFY2(r.code == 0, qPrintable(describe(r)));
  r = cli({"classify", m_project, "cls", "--text", "ticket 99 refund please", "--json"});
  QVERIFY2(r.code == 0, qPrintable(describe(r)));
  const auto doc = QJsonDocument::fromJson(r.out).object();
  QCOMPARE(doc["labels"].toArray().size(), 2);
  // The head is exported with the adapter, as PEFT's SEQ_CLS expects.
  const QString out = m_dir.filePath("cls-peft");
  r = cli({"export", m_project, "cls", "--format", "peft", "--out", out});
  QVERIFY2(r.code == 0, qPrintable(describe(r)));
  QCOMPARE(readJson(out + "/adapter_config.json")["task_type"].toString(), QString("SEQ_CLS"));
}

void TestCliModels::badFolderIsRefusedBeforeTraining_data() {
  QTest::addColumn<QString>("damage");
  QTest::addColumn<QString>("expected");
  QTest::newRow("no config") << "rm:config.json"
                             << "is not a Hugging Face model folder (no config.json)";
  QTest::newRow("missing tensor") << "drop-layer"
                                  << "tensor 'model.layers.2.input_layernorm.weight': is missing";
  QTest::newRow("no tokenizer") << "rm:tokenizer.json"
                                << "tokenizer.json";
  QTest::newRow("other architecture") << "arch"
                                      << "is not supported; supported: LlamaForCausalLM";
  QTest::newRow("another model's tokenizer")
      << "swap-tokenizer"
      << "tokens but the model's vocab_size (config.json) is 1500";
}

void TestCliModels::badFolderIsRefusedBeforeTraining() {
  QFETCH(QString, damage);
  QFETCH(QString, expected);
  QTemporaryDir tmp;
  const QString model = copyFixture(tmp.path(), "mistral");
  if (damage.startsWith("rm:")) QVERIFY(QFile::remove(model + "/" + damage.mid(3)));
  if (damage == "swap-tokenizer") {  // llama_tied's tokenizer has more tokens than mistral's rows
    QVERIFY(QFile::remove(model + "/tokenizer.json"));
    QVERIFY(QFile::copy(kFixtures + "/llama_tied/tokenizer.json", model + "/tokenizer.json"));
  }
  auto config = readJson(model + "/config.json");
  if (damage == "drop-layer") config["num_hidden_layers"] = 3;
  if (damage == "arch") config["architectures"] = QJsonArray{"GPT2LMHeadModel"};
  if (damage == "drop-layer" || damage == "arch") {
    QFile f(model + "/config.json");
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(QJsonDocument(config).toJson());
  }
  const QString project = tmp.filePath("p.dtproj");
  QCOMPARE(cli({"init", project}).code, 0);
  QCOMPARE(cli({"data", "add", project, m_dir.filePath("notes.jsonl")}).code, 0);
  const Result r = cli({"train", project, "--set", "model.source=" + model, "--set",
                        "train.max_steps=2", "--set", "train.batch_size=4", "--set",
                        "train.micro_batch_size=4", "--set", "train.warmup_steps=0"});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains(expected.toUtf8()), qPrintable(describe(r)));
  // Nothing is left behind: no run, no run folder.
  const Result runs = cli({"runs", project, "--json"});
  QVERIFY2(!runs.out.contains("\"name\""), qPrintable(describe(runs)));
}

void TestCliModels::tokenizeRoundTrips() {
  const QString text = QStringLiteral("Pump 42 needs a seal — 泵需要密封。");
  Result r = cli({"tokenize", m_model, "--text", text, "--json"});
  QVERIFY2(r.code == 0, qPrintable(describe(r)));
  const auto doc = QJsonDocument::fromJson(r.out).object();
  const auto ids = doc["ids"].toArray();
  QVERIFY(ids.size() > 5);
  QCOMPARE(doc["tokens"].toArray().size(), ids.size());
  QStringList list;
  for (const auto& id : ids) list << QString::number(id.toInt());
  r = cli({"tokenize", m_model, "--decode", list.join(",")});
  QVERIFY2(r.code == 0, qPrintable(describe(r)));
  QCOMPARE(QString::fromUtf8(r.out).trimmed(), text);
  // The same through PROJECT:RUN.
  r = cli({"tokenize", m_project + ":lora", "--text", text});
  QCOMPARE(QString::fromUtf8(r.out).trimmed(), list.join(","));
}

void TestCliModels::logitsRefusesBadTokens() {
  Result r = cli({"logits", m_model, "--tokens", "1,99999", "--out", m_dir.filePath("x.st")});
  QCOMPARE(r.code, 2);
  QVERIFY2(r.err.contains("99999 is outside the vocabulary"), qPrintable(describe(r)));
  r = cli({"logits", m_model, "--tokens", "1,two", "--out", m_dir.filePath("x.st")});
  QCOMPARE(r.code, 2);
  QVERIFY(!QFile::exists(m_dir.filePath("x.st")));
  r = cli({"logits", m_dir.filePath("nowhere"), "--tokens", "1", "--out", m_dir.filePath("x.st")});
  QCOMPARE(r.code, 2);
}

void TestCliModels::modelsListsTheCache() {
  QTemporaryDir home;
  const QString snap = home.filePath("hub/models--acme--tiny-llama/snapshots/abc123");
  QDir().mkpath(snap);
  for (const auto& f : QDir(kFixtures + "/llama_tied").entryList(QDir::Files))
    QFile::copy(kFixtures + "/llama_tied/" + f, snap + "/" + f);
  auto env = QProcessEnvironment::systemEnvironment();
  env.insert("HF_HOME", home.path());
  env.remove("HF_HUB_CACHE");
  const Result r = cli({"models", "--json"}, env);
  QVERIFY2(r.code == 0, qPrintable(describe(r)));
  const auto doc = QJsonDocument::fromJson(r.out).object();
  const auto cached = doc["cached"].toArray();
  QCOMPARE(cached.size(), 1);
  const auto m = cached.first().toObject();
  QCOMPARE(m["name"].toString(), QString("acme/tiny-llama"));
  QCOMPARE(m["architecture"].toString(), QString("LlamaForCausalLM"));
  QVERIFY(m["parameters"].toDouble() > 100000);
  QVERIFY(doc["presets"].toArray().size() >= 4);

  // A run on a cached model names its base by hub id in the PEFT adapter, as from_pretrained
  // expects on any machine that has the model cached.
  Result t =
      cli({"train", m_project, "--name", "cached", "--set", "model.source=" + snap, "--set",
           "data.dataset=notes", "--set", "train.max_steps=2", "--set", "train.warmup_steps=0",
           "--set", "train.batch_size=4", "--set", "train.micro_batch_size=4"},
          env);
  QVERIFY2(t.code == 0, qPrintable(describe(t)));
  const QString out = m_dir.filePath("cached-peft");
  t = cli({"export", m_project, "cached", "--format", "peft", "--out", out}, env);
  QVERIFY2(t.code == 0, qPrintable(describe(t)));
  QCOMPARE(readJson(out + "/adapter_config.json")["base_model_name_or_path"].toString(),
           QString("acme/tiny-llama"));
}

QTEST_GUILESS_MAIN(TestCliModels)
#include "tst_cli_models.moc"
