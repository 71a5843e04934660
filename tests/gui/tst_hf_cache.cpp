// Hugging Face models on the Model & LoRA page, against a fake hub cache that HF_HOME points to:
// the listing service (answers from the event loop; HF_HUB_CACHE wins over HF_HOME), its table
// model (QAbstractItemModelTester; parameters as 1.1B/494M), and the page — a cached model chosen
// becomes model.source and its counts and target modules come from the checkpoint; a model we
// cannot train, or a folder that is not a model, is explained in the banner and changes nothing;
// presets stay selectable; Open model folder… asks with views/filedialogs' dialog. With
// DEEPTUNE_SCREENSHOTS=DIR the page is also saved as DIR/*.png, in English and in Chinese, for a
// person to look at.
#include <QAbstractItemModelTester>
#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>
#include <filesystem>

#include "configdraft.h"
#include "gui_support.h"
#include "hfmodelscanner.h"
#include "hfmodelsmodel.h"
#include "messagebanner.h"
#include "metatypes.h"
#include "modelpage.h"
#include "projectsession.h"
#include "support/hf_cache_fixture.h"
#include "translations.h"

namespace fs = std::filesystem;
using deeptune::test::TinyLlama;

namespace {

// The model's own parameters: the total counts the LoRA adapters too (LoRA mode: they are what
// trains).
qint64 baseParameters(const deeptune::ModelSummary& s) {
  return s.total_parameters - s.trainable_parameters;
}

}  // namespace

class TstHfCache : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void parameterText_data();
  void parameterText();
  void tableModel();
  void scannerListsTheCacheHfHomeNames();
  void scannerRefusesAFolderThatIsNotAModel();
  void pageChoosesCachedModels();
  void pageOpensModelFolders();
  void openModelFolderAsksWithOurDialog();
  void screenshots();

 private:
  fs::path root() const { return fs::path(m_dir.path().toStdString()); }
  // The table row (in the view's order) showing `name`; -1 when absent.
  static int viewRow(QTableView* view, const QString& name);
  static void clickRow(QTableView* view, int row);
  // What the page's labels say (a failed summary shows its reason there), for failure messages.
  static QByteArray labels(const QWidget& page);

  QTemporaryDir m_dir;
  QString m_tinySnapshot;  // the usable cached model's folder
  QString m_plainFolder;   // a model folder outside the cache
};

void TstHfCache::initTestCase() {
  QVERIFY(m_dir.isValid());
  deeptune::test::isolateSettings(m_dir.filePath(QStringLiteral("settings")));
  registerDeepTuneMetaTypes();
  // Weights in two shards: the listing reads one header per file.
  const fs::path hub = root() / "hf-home/hub";
  deeptune::test::write_model_folder(root() / "stage/tiny", TinyLlama(), 2);
  m_tinySnapshot = QString::fromStdString(
      deeptune::test::cache_model(hub, "Org/Tiny", "0123abcd", root() / "stage/tiny").string());
  QVERIFY(!m_tinySnapshot.isEmpty());
  TinyLlama gpt2;
  gpt2.architecture = "GPT2LMHeadModel";
  gpt2.model_type = "gpt2";
  deeptune::test::write_model_folder(root() / "stage/gpt2", gpt2, 2);
  QVERIFY(!deeptune::test::cache_model(hub, "openai/gpt2", "r1", root() / "stage/gpt2").empty());
  deeptune::test::write_model_folder(root() / "models/my-llama", TinyLlama(), 2);
  m_plainFolder = QString::fromStdString((root() / "models/my-llama").string());
  fs::create_directories(root() / "models/not-a-model");

  qunsetenv("HF_HUB_CACHE");
  qunsetenv("HUGGINGFACE_HUB_CACHE");
  qputenv("HF_HOME", m_dir.filePath(QStringLiteral("hf-home")).toUtf8());
}

void TstHfCache::parameterText_data() {
  QTest::addColumn<qint64>("parameters");
  QTest::addColumn<QString>("text");
  QTest::newRow("TinyLlama") << qint64(1100048384) << "1.1B";
  QTest::newRow("Qwen2.5-0.5B") << qint64(494032768) << "494M";
  QTest::newRow("Llama-3-8B") << qint64(8030261248) << "8.0B";
  QTest::newRow("Qwen2-72B") << qint64(72706203648) << "73B";
  QTest::newRow("rounds up a unit") << qint64(999700000) << "1.0B";
  QTest::newRow("fixture") << qint64(1704) << "1.7K";
  QTest::newRow("small") << qint64(950) << "950";
}

void TstHfCache::parameterText() {
  QFETCH(qint64, parameters);
  QFETCH(QString, text);
  QCOMPARE(HfModelsModel::parameterText(parameters), text);
}

void TstHfCache::tableModel() {
  HfModelsModel model;
  QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
  deeptune::HfModelInfo ok;
  ok.name = "Qwen/Qwen2.5-0.5B";
  ok.path = "/cache/models--Qwen--Qwen2.5-0.5B/snapshots/abc";
  ok.architecture = "Qwen2ForCausalLM";
  ok.dtype = "BF16";
  ok.parameters = 494032768;
  ok.context_length = 32768;
  ok.size_bytes = 988097824;
  deeptune::HfModelInfo bad;
  bad.name = "openai/gpt2";
  bad.path = "/cache/models--openai--gpt2/snapshots/r";
  bad.architecture = "GPT2LMHeadModel";
  bad.problem = "/cache/…/config.json: architecture 'GPT2LMHeadModel' is not supported";
  model.setModels({ok, bad});
  QCOMPARE(model.rowCount(), 2);
  QCOMPARE(model.columnCount(), int(HfModelsModel::kColumnCount));
  auto text = [&model](int row, int column) {
    return model.data(model.index(row, column)).toString();
  };
  const QLocale locale;
  QCOMPARE(text(0, HfModelsModel::kName), QStringLiteral("Qwen/Qwen2.5-0.5B"));
  QCOMPARE(text(0, HfModelsModel::kArchitecture), QStringLiteral("Qwen2ForCausalLM"));
  QCOMPARE(text(0, HfModelsModel::kParameters), QStringLiteral("494M"));
  QCOMPARE(text(0, HfModelsModel::kDtype), QStringLiteral("BF16"));
  QCOMPARE(text(0, HfModelsModel::kContext), locale.toString(32768));
  QCOMPARE(text(0, HfModelsModel::kSize), locale.formattedDataSize(988097824, 1));
  QCOMPARE(text(0, HfModelsModel::kStatus), QStringLiteral("Ready"));
  QCOMPARE(model.data(model.index(0, HfModelsModel::kSize), HfModelsModel::kSortRole).toLongLong(),
           988097824LL);
  // What a refused folder could not tell stays blank; why it is refused is on the row.
  QCOMPARE(text(1, HfModelsModel::kParameters), QString());
  QCOMPARE(text(1, HfModelsModel::kSize), QString());
  QCOMPARE(text(1, HfModelsModel::kStatus), QStringLiteral("Cannot be used"));
  QCOMPARE(model.data(model.index(1, 0), HfModelsModel::kProblemRole).toString(),
           QString::fromStdString(bad.problem));
  QVERIFY(model.data(model.index(1, 3), Qt::ToolTipRole).toString().contains("GPT2LMHeadModel"));
  QCOMPARE(model.rowOfPath(QString::fromStdString(bad.path)), 1);
  QCOMPARE(model.rowOfPath(QStringLiteral("/elsewhere")), -1);
  QCOMPARE(model.modelAt(2), nullptr);
  model.setModels({bad});
  QCOMPARE(model.rowCount(), 1);
  model.setModels({});
  QCOMPARE(model.rowCount(), 0);
}

void TstHfCache::scannerListsTheCacheHfHomeNames() {
  HfModelScanner scanner;
  QSignalSpy scanned(&scanner, &HfModelScanner::cacheScanned);
  scanner.scanCache();
  QCOMPARE(scanned.count(), 0);  // from the event loop, never inside the call
  QVERIFY(scanned.wait(30000));
  QCOMPARE(scanned.first().at(0).toString(), m_dir.filePath(QStringLiteral("hf-home/hub")));
  const auto models = scanned.first().at(1).value<QList<deeptune::HfModelInfo>>();
  QCOMPARE(models.size(), 2);
  QCOMPARE(QString::fromStdString(models[0].name), QStringLiteral("openai/gpt2"));
  QVERIFY(!models[0].problem.empty());
  QCOMPARE(QString::fromStdString(models[1].name), QStringLiteral("Org/Tiny"));
  QCOMPARE(QString::fromStdString(models[1].path), m_tinySnapshot);
  QCOMPARE(models[1].parameters, TinyLlama().parameters());

  // HF_HUB_CACHE wins over HF_HOME; asked twice while listing, one answer of the newest cache.
  scanned.clear();
  const QString empty = m_dir.filePath(QStringLiteral("empty-hub"));
  qputenv("HF_HUB_CACHE", empty.toUtf8());
  scanner.scanCache();
  scanner.scanCache();
  QVERIFY(scanned.wait(30000));
  QTest::qWait(200);
  qunsetenv("HF_HUB_CACHE");
  QCOMPARE(scanned.count(), 1);
  QCOMPARE(scanned.first().at(0).toString(), empty);
  QVERIFY(scanned.first().at(1).value<QList<deeptune::HfModelInfo>>().isEmpty());
  QVERIFY(!scanner.isBusy());
}

void TstHfCache::scannerRefusesAFolderThatIsNotAModel() {
  HfModelScanner scanner;
  QSignalSpy refused(&scanner, &HfModelScanner::folderRefused);
  QSignalSpy inspected(&scanner, &HfModelScanner::folderInspected);
  const QString folder = QString::fromStdString((root() / "models/not-a-model").string());
  scanner.inspectFolder(folder);
  QVERIFY(refused.wait(30000));
  QCOMPARE(refused.first().at(0).toString(), folder);
  const auto message = refused.first().at(1).value<UserMessage>();
  QCOMPARE(message.headline, QStringLiteral("This folder is not a model"));
  QVERIFY2(message.detail.contains(QStringLiteral("not-a-model")) &&
               message.detail.contains(QStringLiteral("config.json")),
           qPrintable(message.detail));

  scanner.inspectFolder(m_plainFolder);
  QVERIFY(inspected.wait(30000));
  const auto model = inspected.first().first().value<deeptune::HfModelInfo>();
  QCOMPARE(QString::fromStdString(model.name), QStringLiteral("my-llama"));
  QCOMPARE(QString::fromStdString(model.problem), QString());
}

int TstHfCache::viewRow(QTableView* view, const QString& name) {
  for (int r = 0; r < view->model()->rowCount(); ++r)
    if (view->model()->index(r, HfModelsModel::kName).data().toString() == name) return r;
  return -1;
}

QByteArray TstHfCache::labels(const QWidget& page) {
  QStringList texts;
  for (const QLabel* l : page.findChildren<QLabel*>())
    if (!l->text().isEmpty()) texts << l->text();
  return texts.join(QStringLiteral(" | ")).toUtf8();
}

void TstHfCache::clickRow(QTableView* view, int row) {
  const QRect rect = view->visualRect(view->model()->index(row, HfModelsModel::kName));
  QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, rect.center());
}

void TstHfCache::pageChoosesCachedModels() {
  ProjectSession session;
  ConfigDraft draft;
  ModelPage page({&session, nullptr, &draft});
  QSignalSpy listed(&page, &ModelPage::cacheListed);
  QSignalSpy handled(&page, &ModelPage::sourceChoiceHandled);
  QSignalSpy updated(&page, &ModelPage::summaryUpdated);
  page.resize(900, 900);
  page.show();
  QVERIFY(QTest::qWaitForWindowExposed(&page));
  QTRY_VERIFY_WITH_TIMEOUT(listed.count() > 0, 30000);  // may come while the window shows
  QTableView* view = page.cachedModelsView();
  QCOMPARE(view->model()->rowCount(), 2);
  QTRY_VERIFY_WITH_TIMEOUT(updated.count() > 0, 30000);  // the default preset's summary
  const auto presetSummary = page.summary();
  const QString preset = QString::fromStdString(draft.value("model.source").get<std::string>());
  QVERIFY(preset.startsWith(QLatin1String("preset:")));

  // A cached model chosen: its snapshot folder is the source, named by its repository; its counts
  // and module names come from the checkpoint.
  updated.clear();
  clickRow(view, viewRow(view, QStringLiteral("Org/Tiny")));
  QCOMPARE(handled.count(), 1);
  QCOMPARE(QString::fromStdString(draft.value("model.source").get<std::string>()), m_tinySnapshot);
  auto* source = page.findChild<QComboBox*>();
  QCOMPARE(source->currentText(), QStringLiteral("Hugging Face: Org/Tiny"));
  QCOMPARE(source->currentData().toString(), m_tinySnapshot);
  QTRY_VERIFY2_WITH_TIMEOUT(baseParameters(page.summary()) == TinyLlama().parameters(),
                            labels(page).constData(), 30000);
  for (const char* name :
       {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"})
    QVERIFY2(page.targetChoices().contains(QString::fromLatin1(name)), name);
  QVERIFY(page.summary().trainable_parameters > 0);
  QVERIFY(page.summary().total_parameters != presetSummary.total_parameters);
  QCOMPARE(page.banner()->headline(), QString());

  // A model we cannot train: explained, nothing changes, the table shows the source again.
  clickRow(view, viewRow(view, QStringLiteral("openai/gpt2")));
  QCOMPARE(handled.count(), 2);
  QCOMPARE(page.banner()->kind(), MessageBanner::Kind::kError);
  QVERIFY2(page.banner()->headline().contains(QStringLiteral("openai/gpt2")),
           qPrintable(page.banner()->headline()));
  QVERIFY2(page.banner()->detail().contains(QStringLiteral("GPT2LMHeadModel")) &&
               page.banner()->detail().contains(QStringLiteral("config.json")),
           qPrintable(page.banner()->detail()));
  QCOMPARE(QString::fromStdString(draft.value("model.source").get<std::string>()), m_tinySnapshot);
  QCOMPARE(view->selectionModel()->selectedRows().value(0).row(),
           viewRow(view, QStringLiteral("Org/Tiny")));

  // Presets stay selectable; the table then selects nothing.
  source->setCurrentIndex(source->findData(preset));
  QCOMPARE(QString::fromStdString(draft.value("model.source").get<std::string>()), preset);
  QVERIFY(view->selectionModel()->selectedRows().isEmpty());
  QTRY_COMPARE_WITH_TIMEOUT(page.summary().total_parameters, presetSummary.total_parameters, 30000);

  // A draft replaced with a cached model as source (a duplicated run) selects its row.
  nlohmann::json doc = draft.document();
  doc["model"]["source"] = m_tinySnapshot.toStdString();
  draft.setDocument(doc);
  QCOMPARE(view->selectionModel()->selectedRows().value(0).row(),
           viewRow(view, QStringLiteral("Org/Tiny")));
}

void TstHfCache::pageOpensModelFolders() {
  ProjectSession session;
  ConfigDraft draft;
  ModelPage page({&session, nullptr, &draft});
  QSignalSpy handled(&page, &ModelPage::sourceChoiceHandled);
  QSignalSpy updated(&page, &ModelPage::summaryUpdated);
  const std::string before = draft.value("model.source").get<std::string>();

  page.openModelFolder(QString::fromStdString((root() / "models/not-a-model").string()));
  QVERIFY(handled.wait(30000));
  QCOMPARE(page.banner()->kind(), MessageBanner::Kind::kError);
  QCOMPARE(page.banner()->headline(), QStringLiteral("This folder is not a model"));
  QVERIFY(page.banner()->detail().contains(QStringLiteral("config.json")));
  QCOMPARE(draft.value("model.source").get<std::string>(), before);

  // Opened with a trailing slash: the source is the folder's clean absolute path.
  updated.clear();
  page.openModelFolder(m_plainFolder + QLatin1Char('/'));
  QVERIFY(handled.wait(30000));
  QCOMPARE(page.banner()->headline(), QString());
  QCOMPARE(QString::fromStdString(draft.value("model.source").get<std::string>()), m_plainFolder);
  QCOMPARE(page.findChild<QComboBox*>()->currentText(), QStringLiteral("Hugging Face: my-llama"));
  QTRY_VERIFY2_WITH_TIMEOUT(baseParameters(page.summary()) == TinyLlama().parameters(),
                            labels(page).constData(), 30000);
  QVERIFY(page.targetChoices().contains(QStringLiteral("q_proj")));
}

void TstHfCache::openModelFolderAsksWithOurDialog() {
  ProjectSession session;
  ConfigDraft draft;
  ModelPage page({&session, nullptr, &draft});
  page.show();
  QSignalSpy handled(&page, &ModelPage::sourceChoiceHandled);
  // The dialog is modal: answer it from the event loop once it is up.
  bool ours = false;
  QTimer poll;
  connect(&poll, &QTimer::timeout, this, [&] {
    auto* dialog = qobject_cast<QFileDialog*>(QApplication::activeModalWidget());
    if (!dialog) return;
    poll.stop();
    // filedialogs.h's dialog: Qt's own (it never opens files to guess their type), folders only.
    ours = dialog->testOption(QFileDialog::DontUseNativeDialog) &&
           dialog->fileMode() == QFileDialog::Directory;
    // Accepted with nothing typed, a folder dialog answers the folder it shows (selectFile races
    // with the dialog's asynchronous listing of its starting folder).
    dialog->setDirectory(m_plainFolder);
    static_cast<QDialog*>(dialog)->accept();  // public on QDialog
  });
  poll.start(50);
  QTest::mouseClick(page.findChild<QPushButton*>(QStringLiteral("openModelFolder")),
                    Qt::LeftButton);
  QVERIFY(ours);
  QVERIFY(handled.wait(30000));
  QVERIFY2(page.banner()->headline().isEmpty(), qPrintable(page.banner()->detail()));
  QCOMPARE(QString::fromStdString(draft.value("model.source").get<std::string>()), m_plainFolder);
}

void TstHfCache::screenshots() {
  const QString out = qEnvironmentVariable("DEEPTUNE_SCREENSHOTS");
  if (out.isEmpty()) QSKIP("set DEEPTUNE_SCREENSHOTS=DIR to save the page as PNG files");
  QDir().mkpath(out);
  for (const QString& language : {QStringLiteral("en"), QStringLiteral("zh_CN")}) {
    installTranslations(*qApp, language);
    ProjectSession session;
    ConfigDraft draft;
    ModelPage page({&session, nullptr, &draft});
    QSignalSpy listed(&page, &ModelPage::cacheListed);
    QSignalSpy updated(&page, &ModelPage::summaryUpdated);
    page.resize(980, 940);
    page.show();
    QTRY_VERIFY_WITH_TIMEOUT(listed.count() > 0, 30000);  // may come while the window shows
    clickRow(page.cachedModelsView(), viewRow(page.cachedModelsView(), QStringLiteral("Org/Tiny")));
    QTRY_VERIFY2_WITH_TIMEOUT(baseParameters(page.summary()) == TinyLlama().parameters(),
                              labels(page).constData(), 30000);
    QVERIFY(
        page.grab().save(QDir(out).filePath(QStringLiteral("model-page-%1.png").arg(language))));
    clickRow(page.cachedModelsView(),
             viewRow(page.cachedModelsView(), QStringLiteral("openai/gpt2")));
    QTest::qWait(100);
    QVERIFY(page.grab().save(
        QDir(out).filePath(QStringLiteral("model-page-problem-%1.png").arg(language))));
  }
  installTranslations(*qApp, QStringLiteral("en"));
}

QTEST_MAIN(TstHfCache)
#include "tst_hf_cache.moc"
