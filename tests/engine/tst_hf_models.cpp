// Hugging Face model folders and the hub cache listing: counts from the tensor headers, the
// revision refs/main names, symlinked blobs, and folders we cannot train on listed with the
// problem (naming the file) instead of dropped; where the cache is looked for.
#include <sys/stat.h>

#include <QTemporaryDir>
#include <QtTest>
#include <filesystem>

#include "deeptune/error.h"
#include "deeptune/hf_models.h"
#include "support/hf_cache_fixture.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using deeptune::HfModelInfo;
using deeptune::test::input_error_of;
using deeptune::test::q;
using deeptune::test::TinyLlama;

namespace {

const HfModelInfo* find(const std::vector<HfModelInfo>& list, const std::string& name) {
  for (const auto& m : list)
    if (m.name == name) return &m;
  return nullptr;
}

}  // namespace

class TstHfModels : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void inspectsAFolder();
  void countsShardedWeights();
  void refusesWhatIsNotAModelFolder();
  void listsTheCache();
  void listsProblemsNamingTheFile();
  void fifosAreNotOpened();
  void absentCacheIsEmpty();
  void hubDirPrecedence_data();
  void hubDirPrecedence();

 private:
  fs::path path(const char* sub) const { return fs::path(m_dir.path().toStdString()) / sub; }
  QTemporaryDir m_dir;
};

void TstHfModels::initTestCase() {
  QVERIFY(m_dir.isValid());
}

void TstHfModels::inspectsAFolder() {
  const TinyLlama m;
  QCOMPARE(m.parameters(), int64_t{1704});  // the fixture's own arithmetic, checked by hand
  const fs::path dir = path("plain/tiny-llama");
  deeptune::test::write_model_folder(dir, m);
  QVERIFY(deeptune::is_hf_model_folder(dir.string()));

  // A trailing slash and a relative spelling name the same folder.
  const HfModelInfo info = deeptune::inspect_hf_model(dir.string() + "/");
  QCOMPARE(q(info.problem), QString());
  QCOMPARE(q(info.path), q(dir.string()));
  QCOMPARE(q(info.name), QStringLiteral("tiny-llama"));
  QCOMPARE(q(info.architecture), QStringLiteral("LlamaForCausalLM"));
  QCOMPARE(info.parameters, m.parameters());
  QCOMPARE(q(info.dtype), QStringLiteral("BF16"));  // most parameters; the norms are F32
  QCOMPARE(info.context_length, int64_t{64});
  QCOMPARE(info.vocab_size, int64_t{32});
  QCOMPARE(info.hidden_size, int64_t{8});
  QCOMPARE(info.layers, int64_t{2});
  QCOMPARE(info.size_bytes, deeptune::test::file_size(dir / "model.safetensors"));
  QVERIFY(info.has_tokenizer);

  fs::remove(dir / "tokenizer.json");
  QVERIFY(!deeptune::inspect_hf_model(dir.string()).has_tokenizer);
}

void TstHfModels::countsShardedWeights() {
  const TinyLlama m;
  const fs::path dir = path("plain/sharded");
  deeptune::test::write_model_folder(dir, m, 3);
  const HfModelInfo info = deeptune::inspect_hf_model(dir.string());
  QCOMPARE(q(info.problem), QString());
  QCOMPARE(info.parameters, m.parameters());
  int64_t bytes = 0;
  for (int s = 1; s <= 3; ++s)
    bytes += deeptune::test::file_size(
        dir / ("model-0000" + std::to_string(s) + "-of-00003.safetensors"));
  QCOMPARE(info.size_bytes, bytes);
}

void TstHfModels::refusesWhatIsNotAModelFolder() {
  const fs::path empty = path("plain/not-a-model");
  fs::create_directories(empty);
  QVERIFY(!deeptune::is_hf_model_folder(empty.string()));
  auto e = input_error_of([&] { deeptune::inspect_hf_model(empty.string()); });
  QVERIFY(e);
  QCOMPARE(q(e->where()), q(empty.string()));
  QVERIFY2(q(e->message()).contains("no config.json"), e->what());

  e = input_error_of([&] { deeptune::inspect_hf_model(path("plain/absent").string()); });
  QVERIFY(e);
  QVERIFY2(q(e->what()).contains("absent: does not exist"), e->what());

  deeptune::test::write_text(path("plain/file.txt"), "x");
  e = input_error_of([&] { deeptune::inspect_hf_model(path("plain/file.txt").string()); });
  QVERIFY(e);
  QVERIFY2(q(e->what()).contains("file.txt: is not a folder"), e->what());
}

void TstHfModels::listsTheCache() {
  const fs::path hub = path("cache/hub");
  const fs::path stage = path("stage");
  TinyLlama m;

  // refs/main names the second revision; the first (another context length) is ignored even
  // though it was written later.
  deeptune::test::write_model_folder(stage / "a", m);
  const auto mainSnapshot = deeptune::test::cache_model(hub, "Org/Tiny", "rev2", stage / "a");
  QVERIFY(!mainSnapshot.empty());
  m.context = 128;
  deeptune::test::write_model_folder(stage / "b", m);
  QVERIFY(!deeptune::test::cache_model(hub, "Org/Tiny", "rev1", stage / "b", false).empty());
  deeptune::test::write_text(hub / "models--Org--Tiny/refs/main", "rev2\n");

  // Sharded, no refs/main: the only snapshot is taken.
  m.context = 256;
  deeptune::test::write_model_folder(stage / "c", m, 2);
  QVERIFY(
      !deeptune::test::cache_model(hub, "another-org/Sharded", "abc", stage / "c", false).empty());
  // Not models: ignored.
  fs::create_directories(hub / "datasets--org--data/snapshots/x");
  fs::create_directories(hub / ".locks/models--Org--Tiny");

  const auto list = deeptune::cached_hf_models(hub.string());
  QCOMPARE(int(list.size()), 2);
  QCOMPARE(q(list[0].name), QStringLiteral("another-org/Sharded"));  // sorted, case ignored
  QCOMPARE(q(list[1].name), QStringLiteral("Org/Tiny"));

  const HfModelInfo& tiny = list[1];
  QCOMPARE(q(tiny.problem), QString());
  QCOMPARE(q(tiny.path), q(mainSnapshot.string()));
  // A snapshot opened as a folder is still known by its repository.
  QCOMPARE(q(deeptune::inspect_hf_model(mainSnapshot.string()).name), QStringLiteral("Org/Tiny"));
  QCOMPARE(tiny.context_length, int64_t{64});
  QCOMPARE(tiny.parameters, TinyLlama().parameters());
  QCOMPARE(q(tiny.dtype), QStringLiteral("BF16"));
  // Sizes are the blobs', not the symlinks'.
  QCOMPARE(tiny.size_bytes,
           deeptune::test::file_size(hub / "models--Org--Tiny/blobs/rev2-model.safetensors"));
  QVERIFY(tiny.size_bytes > 1000);
  QVERIFY(tiny.has_tokenizer);

  const HfModelInfo& sharded = list[0];
  QCOMPARE(q(sharded.problem), QString());
  QCOMPARE(sharded.context_length, int64_t{256});
  QCOMPARE(sharded.parameters, TinyLlama().parameters());
  QCOMPARE(
      sharded.size_bytes,
      deeptune::test::file_size(
          hub / "models--another-org--Sharded/blobs/abc-model-00001-of-00002.safetensors") +
          deeptune::test::file_size(
              hub / "models--another-org--Sharded/blobs/abc-model-00002-of-00002.safetensors"));
}

void TstHfModels::listsProblemsNamingTheFile() {
  const fs::path hub = path("problems/hub");
  const fs::path stage = path("problems/stage");
  TinyLlama m;

  deeptune::test::write_model_folder(stage / "broken", m);
  deeptune::test::write_text(stage / "broken/config.json", "{\n  \"architectures\": [\n");
  const auto broken = deeptune::test::cache_model(hub, "org/Broken", "r", stage / "broken");

  TinyLlama gpt2 = m;
  gpt2.architecture = "GPT2LMHeadModel";
  gpt2.model_type = "gpt2";
  deeptune::test::write_model_folder(stage / "gpt2", gpt2);
  deeptune::test::cache_model(hub, "org/Gpt2", "r", stage / "gpt2");

  deeptune::test::write_model_folder(stage / "shard", m, 2);
  fs::remove(stage / "shard/model-00002-of-00002.safetensors");
  const auto shard = deeptune::test::cache_model(hub, "org/MissingShard", "r", stage / "shard");

  // The config says 3 layers; the weights hold 2.
  deeptune::test::write_model_folder(stage / "mismatch", m);
  TinyLlama three = m;
  three.layers = 3;
  deeptune::test::write_text(stage / "mismatch/config.json", three.config().dump());
  deeptune::test::cache_model(hub, "org/Mismatch", "r", stage / "mismatch");

  // A blob removed under its snapshot's link; a repository with no snapshot yet.
  deeptune::test::write_model_folder(stage / "dangling", m);
  const auto dangling = deeptune::test::cache_model(hub, "org/Dangling", "r", stage / "dangling");
  fs::remove(hub / "models--org--Dangling/blobs/r-config.json");
  fs::create_directories(hub / "models--org--Pending/blobs");

  deeptune::test::write_model_folder(stage / "nosafetensors", m);
  fs::remove(stage / "nosafetensors/model.safetensors");
  deeptune::test::write_text(stage / "nosafetensors/pytorch_model.bin", "pickle");
  deeptune::test::cache_model(hub, "org/Pickle", "r", stage / "nosafetensors");

  const auto list = deeptune::cached_hf_models(hub.string());
  QCOMPARE(int(list.size()), 7);
  for (const auto& info : list) QVERIFY2(!info.problem.empty(), info.name.c_str());

  const auto* b = find(list, "org/Broken");
  QVERIFY(b);
  QVERIFY2(q(b->problem).startsWith(q((broken / "config.json").string() + ":")),
           b->problem.c_str());
  QVERIFY2(q(b->problem).contains("truncated"), b->problem.c_str());

  const auto* g = find(list, "org/Gpt2");
  QVERIFY(g);
  QVERIFY2(q(g->problem).contains("config.json") && q(g->problem).contains("GPT2LMHeadModel") &&
               q(g->problem).contains("not supported") &&
               q(g->problem).contains("LlamaForCausalLM"),
           g->problem.c_str());
  QCOMPARE(q(g->architecture), QStringLiteral("GPT2LMHeadModel"));  // still says what it is
  QCOMPARE(g->context_length, int64_t{64});

  const auto* s = find(list, "org/MissingShard");
  QVERIFY(s);
  QVERIFY2(q(s->problem).contains(q((shard / "model-00002-of-00002.safetensors").string())),
           s->problem.c_str());

  const auto* mm = find(list, "org/Mismatch");
  QVERIFY(mm);
  QVERIFY2(q(mm->problem).contains("model.layers.2.") && q(mm->problem).contains("config.json"),
           mm->problem.c_str());

  const auto* d = find(list, "org/Dangling");
  QVERIFY(d);
  QVERIFY2(q(d->problem).contains(q((dangling / "config.json").string())), d->problem.c_str());

  const auto* p = find(list, "org/Pending");
  QVERIFY(p);
  QVERIFY2(q(p->problem).contains("snapshots") && q(p->problem).contains("models--org--Pending"),
           p->problem.c_str());

  const auto* pk = find(list, "org/Pickle");
  QVERIFY(pk);
  QVERIFY2(q(pk->problem).contains("pytorch_model.bin"), pk->problem.c_str());
}

void TstHfModels::fifosAreNotOpened() {
  // Opening a FIFO for reading blocks until a writer comes: the listing must not wait on one.
  const fs::path hub = path("fifo/hub");
  deeptune::test::write_model_folder(path("fifo/stage/a"), TinyLlama());
  const auto snapshot = deeptune::test::cache_model(hub, "org/A", "r", path("fifo/stage/a"));
  fs::remove(hub / "models--org--A/refs/main");
  QCOMPARE(::mkfifo((hub / "models--org--A/refs/main").c_str(), 0600), 0);
  fs::create_directories(path("fifo/stage/b"));
  deeptune::test::write_model_folder(path("fifo/stage/b"), TinyLlama());
  fs::remove(path("fifo/stage/b/config.json"));
  QCOMPARE(::mkfifo(path("fifo/stage/b/config.json").c_str(), 0600), 0);
  deeptune::test::cache_model(hub, "org/B", "r", path("fifo/stage/b"));

  const auto list = deeptune::cached_hf_models(hub.string());
  QCOMPARE(int(list.size()), 2);
  QCOMPARE(q(list[0].path), q(snapshot.string()));  // the only snapshot, refs/main unread
  QCOMPARE(q(list[0].problem), QString());
  QVERIFY2(q(list[1].problem).contains("config.json") && q(list[1].problem).contains("FIFO"),
           list[1].problem.c_str());
}

void TstHfModels::absentCacheIsEmpty() {
  QVERIFY(deeptune::cached_hf_models(path("nowhere/hub").string()).empty());
}

void TstHfModels::hubDirPrecedence_data() {
  QTest::addColumn<QString>("hubCache");
  QTest::addColumn<QString>("hfHome");
  QTest::addColumn<QString>("xdg");
  QTest::addColumn<QString>("expected");
  QTest::newRow("HF_HUB_CACHE first") << "/c/hub-cache"
                                      << "/c/hf-home"
                                      << "/c/xdg"
                                      << "/c/hub-cache";
  QTest::newRow("then HF_HOME/hub") << ""
                                    << "/c/hf-home"
                                    << "/c/xdg"
                                    << "/c/hf-home/hub";
  QTest::newRow("then XDG_CACHE_HOME") << ""
                                       << ""
                                       << "/c/xdg"
                                       << "/c/xdg/huggingface/hub";
  QTest::newRow("else ~/.cache") << ""
                                 << ""
                                 << ""
                                 << "/home/u/.cache/huggingface/hub";
  QTest::newRow("~ expanded") << ""
                              << "~/hf"
                              << ""
                              << "/home/u/hf/hub";
}

void TstHfModels::hubDirPrecedence() {
  QFETCH(QString, hubCache);
  QFETCH(QString, hfHome);
  QFETCH(QString, xdg);
  QFETCH(QString, expected);
  const QByteArray home = qgetenv("HOME");
  auto set = [](const char* name, const QString& value) {
    if (value.isEmpty())
      qunsetenv(name);
    else
      qputenv(name, value.toUtf8());
  };
  set("HF_HUB_CACHE", hubCache);
  set("HUGGINGFACE_HUB_CACHE", QString());
  set("HF_HOME", hfHome);
  set("XDG_CACHE_HOME", xdg);
  qputenv("HOME", "/home/u");
  const QString got = q(deeptune::hf_hub_dir());
  qputenv("HOME", home);
  QCOMPARE(got, expected);
}

QTEST_GUILESS_MAIN(TstHfModels)
#include "tst_hf_models.moc"
