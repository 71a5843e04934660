// The Export page end to end on real runs of the tiny preset: PEFT, merged HF and GGUF (F16, Q8_0)
// written through the page with the engine's check, progress in bytes that reaches the end at most
// ~20 times a second, the check panel's verdict and numbers, a cancel that leaves no file behind,
// the engine's refusals shown in the banner, and a failed check shown as a failure.
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardItemModel>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>
#include <map>

#include "deeptune/session.h"
#include "exportpage.h"
#include "gui_support.h"
#include "mainwindow.h"
#include "messagebanner.h"
#include "metatypes.h"
#include "projectsession.h"
#include "runexporter.h"

using deeptune::test::shortRunConfig;

class TstExport : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void exportsAndVerifies_data();
  void exportsAndVerifies();
  void quantisedFileIsSmaller();
  void uncheckedExportSaysNotVerified();
  void cancelRemovesWhatWasWritten();
  void runFolderIsRefused();
  void classifierGetsNoGguf();
  void failedCheckIsAFailure();
  void screenshot();

 private:
  // Trains `config` as run `name` to its end; returns its id (0 when it did not complete).
  qint64 train(nlohmann::json config, const std::string& name);
  template <typename T>
  T* child(const char* name) {
    return m_page->findChild<T*>(QLatin1String(name));
  }
  // Sets the page's controls as a user does and presses Export.
  void pressExport(qint64 run, const QString& format, const QString& quant, const QString& folder,
                   bool verify);

  QTemporaryDir m_dir;
  ProjectSession m_session;
  std::unique_ptr<ExportPage> m_page;
  qint64 m_lora = 0;
  qint64 m_classifier = 0;
  std::map<QString, qint64> m_ggufSizes;  // quant -> bytes of the file
};

namespace {

class Quiet : public deeptune::RunObserver {};

qint64 sizeOf(const QStringList& files) {
  qint64 total = 0;
  for (const QString& f : files) total += QFileInfo(f).size();
  return total;
}

}  // namespace

qint64 TstExport::train(nlohmann::json config, const std::string& name) {
  const std::string project = m_session.path().toStdString();
  const int64_t id = deeptune::create_run(project, deeptune::RunConfig::from_json(config), name);
  Quiet observer;
  deeptune::RunControl control;
  const auto outcome = deeptune::execute_run(project, id, observer, control);
  if (outcome.status != deeptune::RunStatus::kCompleted) {
    qWarning("run %s: %s", name.c_str(), outcome.error.c_str());
    return 0;
  }
  return id;
}

void TstExport::initTestCase() {
  QVERIFY(m_dir.isValid());
  deeptune::test::isolateSettings(m_dir.filePath(QStringLiteral("settings")));
  registerDeepTuneMetaTypes();
  const QString path = m_dir.filePath(QStringLiteral("export.dtproj"));
  QCOMPARE(m_session.create(path, true).headline, QString());
  m_lora = train(shortRunConfig("dates", 10), "lora");
  QVERIFY(m_lora != 0);
  auto classifier = shortRunConfig("tickets", 2);
  classifier["model"]["task"] = "classification";
  m_classifier = train(classifier, "classifier");
  QVERIFY(m_classifier != 0);
  m_session.reloadRuns();
  m_page = std::make_unique<ExportPage>(WorkbenchContext{&m_session, nullptr, nullptr});
  m_page->resize(900, 760);
  m_page->show();
  QCOMPARE(child<QComboBox>("exportRun")->count(), 2);
}

void TstExport::pressExport(qint64 run, const QString& format, const QString& quant,
                            const QString& folder, bool verify) {
  auto* runs = child<QComboBox>("exportRun");
  runs->setCurrentIndex(runs->findData(QVariant::fromValue<qint64>(run)));
  auto* formats = child<QComboBox>("exportFormat");
  formats->setCurrentIndex(formats->findData(format));
  auto* quants = child<QComboBox>("exportQuant");
  quants->setCurrentIndex(quants->findData(quant));
  // The quantisation is offered for GGUF only.
  QCOMPARE(quants->isVisibleTo(m_page.get()), format == QLatin1String("gguf"));
  child<QLineEdit>("exportFolder")->setText(folder);
  child<QCheckBox>("exportVerify")->setChecked(verify);
  auto* button = child<QPushButton>("exportButton");
  QVERIFY(button->isEnabled());
  button->click();
}

void TstExport::exportsAndVerifies_data() {
  QTest::addColumn<QString>("format");
  QTest::addColumn<QString>("quant");
  QTest::addColumn<QStringList>("names");  // the files expected, in the folder
  QTest::newRow("peft") << "peft" << QString()
                        << QStringList{"adapter_config.json", "adapter_model.safetensors"};
  QTest::newRow("hf") << "hf" << QString() << QStringList{"config.json", "model.safetensors"};
  QTest::newRow("gguf F16") << "gguf"
                            << "F16" << QStringList{"lora-F16.gguf"};
  QTest::newRow("gguf Q8_0") << "gguf"
                             << "Q8_0" << QStringList{"lora-Q8_0.gguf"};
}

void TstExport::exportsAndVerifies() {
  QFETCH(QString, format);
  QFETCH(QString, quant);
  QFETCH(QStringList, names);
  auto* exporter = m_page->findChild<RunExporter*>();
  QVERIFY(exporter);
  QSignalSpy progressed(exporter, &RunExporter::progressed);
  QSignalSpy exported(exporter, &RunExporter::exported);
  QSignalSpy done(m_page.get(), &ExportPage::exportFinished);
  const QString out = m_dir.filePath(QStringLiteral("out-%1%2").arg(format, quant));
  QElapsedTimer clock;
  clock.start();
  pressExport(m_lora, format, quant.isEmpty() ? QStringLiteral("F16") : quant, out, true);
  QVERIFY(child<QPushButton>("exportCancel")->isVisible());
  QVERIFY(!child<QPushButton>("exportButton")->isEnabled());
  QVERIFY(done.wait(120000));
  const qint64 elapsed = clock.elapsed();
  QVERIFY2(done.first().at(0).toBool(), qPrintable(m_page->banner()->detail()));
  QCOMPARE(m_page->banner()->kind(), MessageBanner::Kind::kSuccess);
  QVERIFY(!child<QPushButton>("exportCancel")->isVisible());

  // The files the engine names are there, and are what the folder holds.
  const QStringList files = done.first().at(1).toStringList();
  QStringList written;
  for (const QString& f : files) {
    QVERIFY2(QFileInfo(f).isFile(), qPrintable(f));
    written << QFileInfo(f).fileName();
  }
  for (const QString& name : names) QVERIFY2(written.contains(name), qPrintable(written.join(' ')));
  QCOMPARE(exported.size(), 1);
  const auto result = exported.first().first().value<deeptune::ExportResult>();
  QCOMPARE(qint64(result.bytes_written), sizeOf(files));
  if (format == QLatin1String("gguf")) m_ggufSizes[quant] = sizeOf(files);

  // Progress: reports in bytes, never past their total, no more often than the throttle lets
  // through (20 a second, plus the first and the final flush; a burst of reports in between is
  // coalesced into its newest), the last one (the check's) covering everything written.
  QVERIFY(!progressed.isEmpty());
  QVERIFY2(progressed.size() <= elapsed / 50 + 3,
           qPrintable(QStringLiteral("%1 reports in %2 ms").arg(progressed.size()).arg(elapsed)));
  for (const auto& args : progressed) {
    const auto p = args.first().value<deeptune::ExportProgress>();
    QVERIFY(p.bytes_done <= p.bytes_total || p.bytes_total == 0);
    QVERIFY(p.stage == "writing" || p.stage == "checking");
  }
  const auto last = progressed.last().first().value<deeptune::ExportProgress>();
  QCOMPARE(last.stage, std::string("checking"));
  QCOMPARE(last.bytes_done, result.bytes_written);
  QCOMPARE(last.bytes_total, result.bytes_written);
  QProgressBar* bar = m_page->progressBar();
  QCOMPARE(bar->value(), bar->maximum());
  QVERIFY(bar->maximum() > 0);

  // The check ran and passed, with numbers within its bounds, on the panel.
  const deeptune::ExportCheck& check = result.check;
  QVERIFY(check.ran);
  QVERIFY2(check.passed, check.failures.empty() ? "" : check.failures.front().c_str());
  QVERIFY(check.failures.empty());
  QVERIFY(!check.probes.empty());
  QVERIFY(check.top1_agreement >= check.min_top1);
  QVERIFY(check.tolerance == 0 || check.max_abs_diff <= check.tolerance);
  QVERIFY(m_page->checkPanel()->isVisible());
  QCOMPARE(m_page->checkVerdict(), QStringLiteral("PASSED"));
  const QString summary = child<QLabel>("checkSummary")->text();
  QVERIFY2(summary.contains(QString::number(check.max_abs_diff, 'g', 3)), qPrintable(summary));
  QVERIFY2(summary.contains(QStringLiteral("Top-1 agreement")), qPrintable(summary));
  if (check.tolerance > 0)
    QVERIFY2(summary.contains(QStringLiteral("tolerance %1").arg(check.tolerance, 0, 'g', 3)),
             qPrintable(summary));
  auto* probes = child<QTableWidget>("checkProbes");
  QVERIFY(probes->isVisible());
  QCOMPARE(probes->rowCount(), int(check.probes.size()));
  auto* tensors = child<QTableWidget>("checkTensors");
  auto* tokenizer = child<QLabel>("checkTokenizer");
  QVERIFY(!child<QLabel>("checkFailures")->isVisible());
  if (format == QLatin1String("gguf")) {
    // Every 2-D weight was dequantised and compared with its bound; the worst are listed.
    QVERIFY(!check.tensors.empty());
    for (const auto& t : check.tensors) QVERIFY2(t.max_error <= t.bound, t.name.c_str());
    QVERIFY(tensors->isVisible());
    QVERIFY(tensors->rowCount() > 0);
    QVERIFY(tensors->rowCount() <= int(check.tensors.size()));
    QVERIFY(!check.tokenizer.empty());
    QVERIFY(tokenizer->isVisible());
    QVERIFY(tokenizer->text().contains(QString::fromStdString(check.tokenizer)));
  } else {
    QVERIFY(!tensors->isVisible());
  }
}

void TstExport::quantisedFileIsSmaller() {
  // Q8_0 keeps a byte and a shared scale per weight, F16 two bytes: the file says which it holds.
  QVERIFY(m_ggufSizes.count(QStringLiteral("F16")) && m_ggufSizes.count(QStringLiteral("Q8_0")));
  QVERIFY2(m_ggufSizes[QStringLiteral("Q8_0")] < m_ggufSizes[QStringLiteral("F16")],
           qPrintable(QStringLiteral("Q8_0 %1 bytes, F16 %2")
                          .arg(m_ggufSizes[QStringLiteral("Q8_0")])
                          .arg(m_ggufSizes[QStringLiteral("F16")])));
}

void TstExport::uncheckedExportSaysNotVerified() {
  QSignalSpy done(m_page.get(), &ExportPage::exportFinished);
  pressExport(m_lora, QStringLiteral("peft"), QStringLiteral("F16"),
              m_dir.filePath(QStringLiteral("unchecked")), false);
  QVERIFY(done.wait(120000));
  QVERIFY2(done.first().at(0).toBool(), qPrintable(m_page->banner()->detail()));
  QCOMPARE(m_page->checkVerdict(), QStringLiteral("Not verified"));
  QVERIFY(!child<QTableWidget>("checkProbes")->isVisible());
  QCOMPARE(m_page->banner()->headline(), QStringLiteral("Exported 2 file(s)"));
  child<QCheckBox>("exportVerify")->setChecked(true);
}

void TstExport::cancelRemovesWhatWasWritten() {
  // Cancelled before the engine's first progress report (the job has a checkpoint to load and
  // verify and reference logits to compute first): that report comes after the file's header and
  // first tensor were written, its answer stops the export, and the engine removes the file.
  QSignalSpy cancelled(m_page.get(), &ExportPage::exportCancelled);
  QSignalSpy done(m_page.get(), &ExportPage::exportFinished);
  const QString out = m_dir.filePath(QStringLiteral("cancelled"));
  QVERIFY(m_page->exportRun(m_lora, QStringLiteral("gguf"), out, QStringLiteral("F32"), true));
  m_page->cancelExport();
  QVERIFY(!child<QPushButton>("exportCancel")->isEnabled());  // once is enough
  QTRY_VERIFY_WITH_TIMEOUT(!cancelled.isEmpty() || !done.isEmpty(), 120000);
  QVERIFY2(done.isEmpty(), "the export ran to its end");
  QCOMPARE(cancelled.size(), 1);
  QCOMPARE(m_page->banner()->headline(), QStringLiteral("Export cancelled"));
  QCOMPARE(m_page->banner()->kind(), MessageBanner::Kind::kInfo);
  // Nothing stays, a temporary (hidden) file included.
  const QStringList left = QDir(out).entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot);
  QVERIFY2(left.isEmpty(), qPrintable(left.join(' ')));
  QVERIFY(child<QPushButton>("exportButton")->isEnabled());
  QVERIFY(!child<QPushButton>("exportCancel")->isVisible());
  QCOMPARE(m_page->progressBar()->value(), 0);
}

void TstExport::runFolderIsRefused() {
  // The runs' own folder holds checkpoints the project verifies: the engine refuses to write
  // there, and the page shows its message as an error.
  QSignalSpy done(m_page.get(), &ExportPage::exportFinished);
  const QFileInfo project(m_session.path());
  const QString runs = project.absoluteDir().filePath(project.completeBaseName() + ".runs");
  QVERIFY2(QFileInfo(runs).isDir(), qPrintable(runs));
  const QString inside = runs + QStringLiteral("/exported");
  QVERIFY(m_page->exportRun(m_lora, QStringLiteral("gguf"), inside));
  QVERIFY(done.wait(120000));
  QVERIFY(!done.first().at(0).toBool());
  QVERIFY(done.first().at(1).toStringList().isEmpty());
  QCOMPARE(m_page->banner()->kind(), MessageBanner::Kind::kError);
  QCOMPARE(m_page->banner()->headline(), QStringLiteral("The export failed"));
  QVERIFY2(m_page->banner()->detail().contains(QStringLiteral(".runs")),
           qPrintable(m_page->banner()->detail()));
  QVERIFY(!QFileInfo::exists(inside));
}

void TstExport::classifierGetsNoGguf() {
  auto* runs = child<QComboBox>("exportRun");
  auto* formats = child<QComboBox>("exportFormat");
  const int gguf = formats->findData(QStringLiteral("gguf"));
  auto* model = qobject_cast<QStandardItemModel*>(formats->model());
  QVERIFY(model);
  runs->setCurrentIndex(runs->findData(QVariant::fromValue<qint64>(m_lora)));
  formats->setCurrentIndex(gguf);
  QVERIFY(model->item(gguf)->isEnabled());
  // Choosing the classifier takes GGUF away (and the choice of it).
  runs->setCurrentIndex(runs->findData(QVariant::fromValue<qint64>(m_classifier)));
  QVERIFY(!model->item(gguf)->isEnabled());
  QVERIFY(formats->currentIndex() != gguf);
  QVERIFY(!child<QComboBox>("exportQuant")->isVisibleTo(m_page.get()));
  runs->setCurrentIndex(runs->findData(QVariant::fromValue<qint64>(m_lora)));
  QVERIFY(model->item(gguf)->isEnabled());

  // Asked anyway, the engine refuses and the page shows why.
  QSignalSpy done(m_page.get(), &ExportPage::exportFinished);
  QVERIFY(m_page->exportRun(m_classifier, QStringLiteral("gguf"),
                            m_dir.filePath(QStringLiteral("classifier-gguf"))));
  QVERIFY(done.wait(120000));
  QVERIFY(!done.first().at(0).toBool());
  QCOMPARE(m_page->banner()->kind(), MessageBanner::Kind::kError);
  QVERIFY2(m_page->banner()->detail().contains(QStringLiteral("classif"), Qt::CaseInsensitive),
           qPrintable(m_page->banner()->detail()));
}

void TstExport::failedCheckIsAFailure() {
  // What the engine reports when the written file does not compute what the run computes; the
  // page must not dress it as a success or a mere warning.
  auto* exporter = m_page->findChild<RunExporter*>();
  QSignalSpy done(m_page.get(), &ExportPage::exportFinished);
  deeptune::ExportResult result;
  const QString file = m_dir.filePath(QStringLiteral("out-ggufQ8_0/lora-Q8_0.gguf"));
  result.files = {file.toStdString()};
  result.bytes_written = 1000;
  auto& check = result.check;
  check.ran = true;
  check.passed = false;
  check.probes = {{"Date 2001-05-01", 12, 0.9, 0.75}, {"hello", 5, 0.01, 1.0}};
  check.max_abs_diff = 0.9;
  check.top1_agreement = 0.82;
  check.tolerance = 0.25;
  check.min_top1 = 0.95;
  check.tensors = {{"blk.0.attn_q.weight", 0.5, 0.004}, {"token_embd.weight", 0.001, 0.004}};
  check.tokenizer = "259 tokens, byte-level; ids match";
  check.failures = {"blk.0.attn_q.weight: max error 0.5 exceeds bound 0.004",
                    "max |logit difference| 0.9 exceeds 0.25"};
  Q_EMIT exporter->exported(result);
  QCOMPARE(done.size(), 1);
  QVERIFY(!done.first().at(0).toBool());
  QCOMPARE(done.first().at(1).toStringList(), QStringList{file});
  QCOMPARE(m_page->checkVerdict(), QStringLiteral("FAILED"));
  QCOMPARE(m_page->banner()->kind(), MessageBanner::Kind::kError);
  QCOMPARE(m_page->banner()->headline(), QStringLiteral("The export check failed"));
  auto* failures = child<QLabel>("checkFailures");
  QVERIFY(failures->isVisible());
  QVERIFY(failures->text().contains(QStringLiteral("exceeds bound 0.004")));
  QVERIFY(failures->text().contains(QStringLiteral("exceeds 0.25")));
  // The worst tensor first.
  auto* tensors = child<QTableWidget>("checkTensors");
  QCOMPARE(tensors->rowCount(), 2);
  QCOMPARE(tensors->item(0, 0)->text(), QStringLiteral("blk.0.attn_q.weight"));
  QCOMPARE(child<QTableWidget>("checkProbes")->rowCount(), 2);
  QVERIFY(child<QLabel>("checkSummary")->text().contains(QStringLiteral("82.0%")));
  const QString png = qEnvironmentVariable("DEEPTUNE_EXPORT_SCREENSHOT");
  if (!png.isEmpty()) {
    QTest::qWait(50);  // the layout settles in the event loop
    QVERIFY(m_page->grab().save(QString(png).replace(".png", "-failed.png")));
  }
}

void TstExport::screenshot() {
  // DEEPTUNE_EXPORT_SCREENSHOT=FILE.png: the window on the Export page after a GGUF export, for a
  // look at it.
  const QString png = qEnvironmentVariable("DEEPTUNE_EXPORT_SCREENSHOT");
  if (png.isEmpty()) QSKIP("DEEPTUNE_EXPORT_SCREENSHOT not set");
  MainWindow window;
  window.resize(1200, 820);
  window.show();
  QVERIFY(window.openProject(m_session.path()));
  window.showPage(MainWindow::kExport);
  ExportPage* page = window.exportPage();
  auto* runs = page->findChild<QComboBox*>(QStringLiteral("exportRun"));
  runs->setCurrentIndex(runs->findData(QVariant::fromValue<qint64>(m_lora)));
  auto* formats = page->findChild<QComboBox*>(QStringLiteral("exportFormat"));
  formats->setCurrentIndex(formats->findData(QStringLiteral("gguf")));
  auto* quants = page->findChild<QComboBox*>(QStringLiteral("exportQuant"));
  quants->setCurrentIndex(quants->findData(QStringLiteral("Q8_0")));
  QSignalSpy done(page, &ExportPage::exportFinished);
  page->findChild<QPushButton*>(QStringLiteral("exportButton"))->click();
  QVERIFY(done.wait(120000));
  QVERIFY2(done.first().at(0).toBool(), qPrintable(page->banner()->detail()));
  QTest::qWait(50);  // the layout settles in the event loop
  QVERIFY(window.grab().save(png));
}

QTEST_MAIN(TstExport)
#include "tst_export.moc"
