// Exports run through RunExporter (app/), in the background; the page shows the bytes written as
// they go, then the files and the engine's check of them: reloaded with our own readers and run
// on probe prompts against the run's model. A check that fails is shown as a failure.
#include "exportpage.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QEvent>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QStandardItemModel>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <nlohmann/json.hpp>

#include "deeptune/session.h"
#include "filedialogs.h"
#include "messagebanner.h"
#include "projectsession.h"
#include "runexporter.h"
#include "runsmodel.h"

namespace {

// The bar counts in thousandths: a QProgressBar's range is an int and exports exceed 2 GB.
constexpr int kBarSteps = 1000;
// The check panel lists the tensors furthest from their bound first, this many of them.
constexpr int kWorstTensors = 6;

// "312 MB", "2.2 GB": decimal units, as file managers and download pages show sizes.
QString byteText(quint64 bytes) {
  static const char* const units[] = {"B", "kB", "MB", "GB", "TB"};
  double value = double(bytes);
  int unit = 0;
  while (value >= 1000.0 && unit < 4) {
    value /= 1000.0;
    ++unit;
  }
  const int decimals = unit == 0 || value >= 10.0 ? 0 : 1;
  return QStringLiteral("%1 %2").arg(value, 0, 'f', decimals).arg(QLatin1String(units[unit]));
}

QString numberText(double v) {
  return QString::number(v, 'g', 3);
}
QString percentText(double share) {
  return QString::number(share * 100.0, 'f', 1) + u'%';
}

bool isClassifier(const deeptune::RunRecord& run) {
  try {
    const auto config = nlohmann::json::parse(run.config_json);
    const nlohmann::json::json_pointer task("/model/task");
    return config.contains(task) && config.at(task) == "classification";
  } catch (const std::exception&) {
    return false;
  }
}

QTableWidget* makeTable(const QStringList& headers, QWidget* parent) {
  auto* table = new QTableWidget(0, int(headers.size()), parent);
  table->setHorizontalHeaderLabels(headers);
  table->verticalHeader()->hide();
  table->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table->setSelectionMode(QAbstractItemView::NoSelection);
  table->setWordWrap(false);
  table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  for (int c = 1; c < headers.size(); ++c)
    table->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
  return table;
}

QTableWidgetItem* cell(const QString& text, bool bad = false) {
  auto* item = new QTableWidgetItem(text);
  item->setToolTip(text);
  if (bad) item->setForeground(QColor(0xb7, 0x1c, 0x1c));
  return item;
}

}  // namespace

ExportPage::ExportPage(const WorkbenchContext& context, QWidget* parent)
    : QWidget(parent), m_context(context) {
  auto* layout = new QVBoxLayout(this);
  m_form = new QFormLayout;
  m_run = new QComboBox(this);
  m_run->setObjectName(QStringLiteral("exportRun"));
  m_run->setMinimumContentsLength(24);
  m_form->addRow(tr("Run:"), m_run);
  m_format = new QComboBox(this);
  m_format->setObjectName(QStringLiteral("exportFormat"));
  m_format->addItem(tr("PEFT LoRA adapter"), QStringLiteral("peft"));
  m_format->addItem(tr("Merged Hugging Face checkpoint"), QStringLiteral("hf"));
  m_format->addItem(tr("GGUF (llama.cpp / Ollama)"), QStringLiteral("gguf"));
  m_form->addRow(tr("Format:"), m_format);
  m_quant = new QComboBox(this);
  m_quant->setObjectName(QStringLiteral("exportQuant"));
  m_quant->addItem(tr("F16 — half precision"), QStringLiteral("F16"));
  m_quant->addItem(tr("BF16 — half precision, F32's range"), QStringLiteral("BF16"));
  m_quant->addItem(tr("Q8_0 — 8-bit blocks"), QStringLiteral("Q8_0"));
  m_quant->addItem(tr("F32 — full precision"), QStringLiteral("F32"));
  m_form->addRow(tr("Quantisation:"), m_quant);
  m_formatHelp = new QLabel(this);
  m_formatHelp->setWordWrap(true);
  // A form row sizes a wrapped label for a narrower width than it gets, leaving blank lines on a
  // wide page: the label instead takes the height its text needs at the width it has.
  QSizePolicy fitted = m_formatHelp->sizePolicy();
  fitted.setHeightForWidth(false);
  m_formatHelp->setSizePolicy(fitted);
  m_formatHelp->installEventFilter(this);
  m_formatHelp->setStyleSheet(QStringLiteral("color:#555"));
  m_form->addRow(QString(), m_formatHelp);
  auto* folderRow = new QHBoxLayout;
  m_folder = new QLineEdit(this);
  m_folder->setObjectName(QStringLiteral("exportFolder"));
  auto* browse = new QPushButton(tr("Browse…"), this);
  folderRow->addWidget(m_folder, 1);
  folderRow->addWidget(browse);
  m_form->addRow(tr("Folder:"), folderRow);
  m_verify = new QCheckBox(tr("Verify after export"), this);
  m_verify->setObjectName(QStringLiteral("exportVerify"));
  m_verify->setChecked(true);
  m_verify->setToolTip(
      tr("Reload the written files and compare their logits with the run's "
         "model on a few prompts."));
  m_form->addRow(QString(), m_verify);
  layout->addLayout(m_form);

  auto* actions = new QHBoxLayout;
  m_export = new QPushButton(tr("Export"), this);
  m_export->setObjectName(QStringLiteral("exportButton"));
  m_cancel = new QPushButton(tr("Cancel"), this);
  m_cancel->setObjectName(QStringLiteral("exportCancel"));
  m_cancel->hide();
  m_progress = new QProgressBar(this);
  m_progress->setObjectName(QStringLiteral("exportProgress"));
  m_progress->setRange(0, kBarSteps);
  m_progress->setValue(0);
  m_progress->setTextVisible(false);
  m_stage = new QLabel(this);
  m_stage->setStyleSheet(QStringLiteral("color:#555"));
  actions->addWidget(m_export);
  actions->addWidget(m_cancel);
  actions->addWidget(m_progress, 1);
  layout->addLayout(actions);
  layout->addWidget(m_stage);
  m_banner = new MessageBanner(this);
  layout->addWidget(m_banner);

  m_checkPanel = new QGroupBox(tr("Export check"), this);
  m_checkPanel->setObjectName(QStringLiteral("exportCheck"));
  auto* check = new QVBoxLayout(m_checkPanel);
  auto* head = new QHBoxLayout;
  m_verdict = new QLabel(m_checkPanel);
  m_verdict->setObjectName(QStringLiteral("checkVerdict"));
  m_verdict->setAlignment(Qt::AlignCenter);
  m_verdict->setMinimumWidth(110);
  m_summary = new QLabel(m_checkPanel);
  m_summary->setObjectName(QStringLiteral("checkSummary"));
  m_summary->setWordWrap(true);
  m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
  head->addWidget(m_verdict, 0, Qt::AlignTop);
  head->addWidget(m_summary, 1);
  check->addLayout(head);
  auto* tables = new QHBoxLayout;
  m_probeBox = new QWidget(m_checkPanel);
  auto* probeColumn = new QVBoxLayout(m_probeBox);
  probeColumn->setContentsMargins(0, 0, 0, 0);
  probeColumn->addWidget(new QLabel(tr("Probe prompts"), m_probeBox));
  m_probes = makeTable({tr("Prompt"), tr("Positions"), tr("Max |Δlogit|"), tr("Top-1 agreement")},
                       m_probeBox);
  m_probes->setObjectName(QStringLiteral("checkProbes"));
  probeColumn->addWidget(m_probes);
  tables->addWidget(m_probeBox, 1);
  m_tensorBox = new QWidget(m_checkPanel);
  auto* tensorColumn = new QVBoxLayout(m_tensorBox);
  tensorColumn->setContentsMargins(0, 0, 0, 0);
  m_tensorsTitle = new QLabel(m_tensorBox);
  m_tensors = makeTable({tr("Tensor"), tr("Max error"), tr("Bound")}, m_tensorBox);
  m_tensors->setObjectName(QStringLiteral("checkTensors"));
  tensorColumn->addWidget(m_tensorsTitle);
  tensorColumn->addWidget(m_tensors);
  tables->addWidget(m_tensorBox, 1);
  check->addLayout(tables, 1);
  m_tokenizer = new QLabel(m_checkPanel);
  m_tokenizer->setObjectName(QStringLiteral("checkTokenizer"));
  m_tokenizer->setWordWrap(true);
  m_tokenizer->setTextInteractionFlags(Qt::TextSelectableByMouse);
  check->addWidget(m_tokenizer);
  m_failures = new QLabel(m_checkPanel);
  m_failures->setObjectName(QStringLiteral("checkFailures"));
  m_failures->setWordWrap(true);
  m_failures->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_failures->setStyleSheet(QStringLiteral("color:#b71c1c"));
  check->addWidget(m_failures);
  m_checkPanel->hide();
  layout->addWidget(m_checkPanel, 3);

  m_files = new QPlainTextEdit(this);
  m_files->setReadOnly(true);
  m_files->setPlaceholderText(tr("The files written appear here."));
  m_files->setMaximumHeight(m_files->fontMetrics().lineSpacing() * 6);
  layout->addWidget(m_files, 1);
  layout->addStretch(0);

  connect(m_format, &QComboBox::currentIndexChanged, this, [this] {
    updateFormatChoices();
    suggestFolder();
  });
  connect(m_quant, &QComboBox::currentIndexChanged, this, &ExportPage::updateFormatChoices);
  connect(m_run, &QComboBox::currentIndexChanged, this, [this] {
    updateFormatChoices();
    suggestFolder();
  });
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString dir = chooseFolder(this, tr("Export to"), m_folder->text());
    if (!dir.isEmpty()) m_folder->setText(dir);
  });
  connect(m_export, &QPushButton::clicked, this, [this] {
    exportRun(m_run->currentData().toLongLong(), m_format->currentData().toString(),
              m_folder->text(), m_quant->currentData().toString(), m_verify->isChecked());
  });
  connect(m_cancel, &QPushButton::clicked, this, &ExportPage::cancelExport);
  connect(m_context.session, &ProjectSession::runsChanged, this, &ExportPage::refreshRuns);

  m_exporter = new RunExporter(m_context.session, this);
  connect(m_exporter, &RunExporter::busyChanged, this, &ExportPage::setExporting);
  connect(m_exporter, &RunExporter::progressed, this, &ExportPage::showProgress);
  connect(m_exporter, &RunExporter::exportFailed, this, [this](const UserMessage& message) {
    m_stage->clear();
    m_progress->setValue(0);
    m_banner->showMessage(MessageBanner::Kind::kError, message.headline, message.detail);
    Q_EMIT exportFinished(false, {});
  });
  connect(m_exporter, &RunExporter::exportCancelled, this, [this] {
    m_stage->clear();
    m_progress->setValue(0);
    m_progress->setTextVisible(false);
    m_banner->showMessage(MessageBanner::Kind::kInfo, tr("Export cancelled"),
                          tr("The files it was writing were removed."));
    Q_EMIT exportCancelled();
  });
  connect(m_exporter, &RunExporter::exported, this, [this](const deeptune::ExportResult& result) {
    QStringList files;
    for (const auto& f : result.files) files << QString::fromStdString(f);
    m_stage->clear();
    m_progress->setRange(0, kBarSteps);
    m_progress->setValue(kBarSteps);
    m_progress->setFormat(tr("%1 written").arg(byteText(result.bytes_written)));
    m_progress->setTextVisible(true);
    m_files->setPlainText(files.join(QLatin1Char('\n')));
    showCheck(result.check);
    const QString folder = QFileInfo(files.value(0)).absolutePath();
    const bool ok = !result.check.ran || result.check.passed;
    if (ok)
      m_banner->showMessage(MessageBanner::Kind::kSuccess,
                            result.check.ran
                                ? tr("Exported and verified %n file(s)", nullptr, int(files.size()))
                                : tr("Exported %n file(s)", nullptr, int(files.size())),
                            folder);
    else
      m_banner->showMessage(
          MessageBanner::Kind::kError, tr("The export check failed"),
          tr("The files were kept in %1 for inspection, but they do not compute what the run "
             "computes: do not use them.")
              .arg(folder));
    Q_EMIT exportFinished(ok, files);
  });
  refreshRuns();  // the project may be open already
  updateFormatChoices();
  suggestFolder();
}

void ExportPage::refreshRuns() {
  const qint64 current = m_run->currentData().toLongLong();
  const QSignalBlocker blocker(m_run);
  m_run->clear();
  for (const auto& r : m_context.session->runs()) {
    if (r.status == deeptune::RunStatus::kCreated || r.status == deeptune::RunStatus::kRunning)
      continue;
    m_run->addItem(QStringLiteral("%1 (%2)").arg(QString::fromStdString(r.name),
                                                 RunsModel::statusText(r.status)),
                   QVariant::fromValue<qint64>(r.id));
  }
  const int i = m_run->findData(QVariant::fromValue<qint64>(current));
  if (i >= 0) m_run->setCurrentIndex(i);
  m_export->setEnabled(m_run->count() > 0 && !m_exporter->isBusy());
  // The list is refreshed often while a run trains: the folder is suggested again only when the
  // chosen run changed, so a folder typed by the user stays.
  updateFormatChoices();
  if (m_run->currentData().toLongLong() != current) suggestFolder();
}

void ExportPage::suggestFolder() {
  if (!m_context.session->isOpen() || m_run->count() == 0) return;
  const auto run = m_context.session->run(m_run->currentData().toLongLong());
  if (!run) return;
  const QDir dir = QFileInfo(m_context.session->path()).absoluteDir();
  m_folder->setText(dir.filePath(
      QStringLiteral("exports/%1-%2")
          .arg(QString::fromStdString(run->name), m_format->currentData().toString())));
}

void ExportPage::updateFormatChoices() {
  // GGUF holds language models: a classifier's head has no place in it (the engine refuses too).
  const auto run = m_context.session->isOpen()
                       ? m_context.session->run(m_run->currentData().toLongLong())
                       : std::nullopt;
  const bool classifier = run && isClassifier(*run);
  const int gguf = m_format->findData(QStringLiteral("gguf"));
  if (auto* model = qobject_cast<QStandardItemModel*>(m_format->model())) {
    QStandardItem* item = model->item(gguf);
    item->setEnabled(!classifier);
    item->setToolTip(classifier ? tr("GGUF holds language models; this run is a classifier.")
                                : QString());
  }
  if (classifier && m_format->currentIndex() == gguf) m_format->setCurrentIndex(0);

  const QString format = m_format->currentData().toString();
  m_form->setRowVisible(m_quant, format == QLatin1String("gguf"));
  QString help;
  if (format == QLatin1String("peft")) {
    help =
        tr("adapter_config.json + adapter_model.safetensors: load with "
           "PeftModel.from_pretrained on top of the base model. LoRA runs only.");
  } else if (format == QLatin1String("hf")) {
    help =
        tr("config.json + model.safetensors with the adapters merged in: loads with "
           "AutoModelForCausalLM.from_pretrained, no PEFT needed.");
  } else {
    help =
        tr("One .gguf file with the adapters merged in and the tokenizer inside: runs in "
           "llama.cpp, Ollama and LM Studio. Language-model runs only.");
    const QString quant = m_quant->currentData().toString();
    QString size;
    if (quant == QLatin1String("F16"))
      size =
          tr("F16: half the size of F32, differences far below what changes an answer; the "
             "usual choice.");
    else if (quant == QLatin1String("BF16"))
      size =
          tr("BF16: half the size of F32 with F32's range and less precision; for models "
             "trained in bf16.");
    else if (quant == QLatin1String("Q8_0"))
      size =
          tr("Q8_0: about a quarter of F32's size (8 bits per weight and a scale per block of "
             "32); small, measurable differences.");
    else
      size = tr("F32: full precision, the largest file; the same numbers as the run.");
    help += QLatin1Char(' ') + size;
  }
  if (classifier) help += QLatin1Char(' ') + tr("GGUF is not offered: this run is a classifier.");
  m_formatHelp->setText(help);
  fitHelpHeight();
}

void ExportPage::setExporting(bool exporting) {
  m_export->setEnabled(!exporting && m_run->count() > 0);
  m_cancel->setVisible(exporting);
  m_cancel->setEnabled(exporting);
  m_cancel->setText(tr("Cancel"));
  for (QWidget* w : {static_cast<QWidget*>(m_run), static_cast<QWidget*>(m_format),
                     static_cast<QWidget*>(m_quant), static_cast<QWidget*>(m_folder),
                     static_cast<QWidget*>(m_verify)})
    w->setEnabled(!exporting);
  if (exporting) {
    // Busy until the engine knows how much it will write.
    m_progress->setRange(0, 0);
    m_progress->setTextVisible(false);
  } else {
    if (m_progress->maximum() == 0) m_progress->setRange(0, kBarSteps);
    m_stage->clear();
  }
}

void ExportPage::showProgress(const deeptune::ExportProgress& progress) {
  const QString file = QFileInfo(QString::fromStdString(progress.file)).fileName();
  m_stage->setText(progress.stage == "checking" ? tr("Checking %1…").arg(file)
                                                : tr("Writing %1…").arg(file));
  if (progress.bytes_total == 0) return;  // still busy: nothing to measure against yet
  m_progress->setRange(0, kBarSteps);
  const quint64 done = std::min(progress.bytes_done, progress.bytes_total);
  m_progress->setValue(int(done * kBarSteps / progress.bytes_total));
  m_progress->setFormat(tr("%1 of %2").arg(byteText(done), byteText(progress.bytes_total)));
  m_progress->setTextVisible(true);
}

void ExportPage::showCheck(const deeptune::ExportCheck& check) {
  m_checkPanel->show();
  const bool failed = check.ran && !check.passed;
  m_verdict->setText(!check.ran ? tr("Not verified") : check.passed ? tr("PASSED") : tr("FAILED"));
  const char* style = !check.ran ? "background:#eeeeee;color:#555555"
                      : failed   ? "background:#fdecea;color:#b71c1c;border:1px solid #e0a39c"
                                 : "background:#e8f5e9;color:#1b5e20;border:1px solid #98c99c";
  m_verdict->setStyleSheet(QStringLiteral("QLabel{%1;font-weight:bold;font-size:14pt;"
                                          "border-radius:4px;padding:6px 12px}")
                               .arg(QLatin1String(style)));
  m_checkPanel->setStyleSheet(failed ? QStringLiteral("QGroupBox#exportCheck{color:#b71c1c}")
                                     : QString());
  m_probes->setRowCount(0);
  m_tensors->setRowCount(0);
  const bool gguf = !check.tensors.empty();
  m_tensorBox->setVisible(gguf);
  m_probeBox->setVisible(check.ran);
  m_tokenizer->setVisible(!check.tokenizer.empty());
  m_failures->setVisible(!check.failures.empty());
  if (!check.ran) {
    m_summary->setText(
        tr("The export was written without checking it: nothing says it computes "
           "what the run computes. Tick “Verify after export” to check it."));
    m_tokenizer->clear();
    m_failures->clear();
    return;
  }

  QStringList lines;
  lines << tr(
      "The written files were reloaded and run on %n probe prompt(s) against the run's "
      "model.",
      nullptr, int(check.probes.size()));
  const bool diffBad = check.tolerance > 0 && check.max_abs_diff > check.tolerance;
  const QString diff = numberText(check.max_abs_diff);
  lines << (check.tolerance > 0
                ? tr("Largest |Δlogit|: %1 (tolerance %2)")
                      .arg(diffBad ? QStringLiteral("<b style='color:#b71c1c'>%1</b>").arg(diff)
                                   : QStringLiteral("<b>%1</b>").arg(diff),
                           numberText(check.tolerance))
                : tr("Largest |Δlogit|: %1 (not judged by it)")
                      .arg(QStringLiteral("<b>%1</b>").arg(diff)));
  const bool top1Bad = check.top1_agreement < check.min_top1;
  const QString top1 = percentText(check.top1_agreement);
  lines << tr("Top-1 agreement: %1 (at least %2 needed)")
               .arg(top1Bad ? QStringLiteral("<b style='color:#b71c1c'>%1</b>").arg(top1)
                            : QStringLiteral("<b>%1</b>").arg(top1),
                    percentText(check.min_top1));
  m_summary->setText(lines.join(QStringLiteral("<br>")));

  for (const auto& p : check.probes) {
    const int row = m_probes->rowCount();
    m_probes->insertRow(row);
    const bool bad = (check.tolerance > 0 && p.max_abs_diff > check.tolerance) ||
                     p.top1_agreement < check.min_top1;
    m_probes->setItem(row, 0, cell(QString::fromStdString(p.prompt).simplified(), bad));
    m_probes->setItem(row, 1, cell(QString::number(p.positions), bad));
    m_probes->setItem(row, 2, cell(numberText(p.max_abs_diff), bad));
    m_probes->setItem(row, 3, cell(percentText(p.top1_agreement), bad));
  }

  if (gguf) {
    // Furthest from its bound first: error over bound, so a tensor type's own scale cancels out.
    std::vector<deeptune::ExportCheck::Tensor> worst = check.tensors;
    const auto ratio = [](const deeptune::ExportCheck::Tensor& t) {
      return t.bound > 0 ? t.max_error / t.bound : t.max_error;
    };
    std::stable_sort(worst.begin(), worst.end(),
                     [&](const auto& a, const auto& b) { return ratio(a) > ratio(b); });
    if (worst.size() > size_t(kWorstTensors)) worst.resize(kWorstTensors);
    m_tensorsTitle->setText(
        tr("Dequantisation error, worst %1 of %n tensor(s)", nullptr, int(check.tensors.size()))
            .arg(worst.size()));
    for (const auto& t : worst) {
      const int row = m_tensors->rowCount();
      m_tensors->insertRow(row);
      const bool bad = t.max_error > t.bound;
      m_tensors->setItem(row, 0, cell(QString::fromStdString(t.name), bad));
      m_tensors->setItem(row, 1, cell(numberText(t.max_error), bad));
      m_tensors->setItem(row, 2, cell(numberText(t.bound), bad));
    }
  }
  m_tokenizer->setText(tr("Tokenizer: %1").arg(QString::fromStdString(check.tokenizer)));
  QStringList failures;
  for (const auto& f : check.failures) failures << QStringLiteral("✗ ") + QString::fromStdString(f);
  m_failures->setText(failures.join(QLatin1Char('\n')));
}

bool ExportPage::eventFilter(QObject* watched, QEvent* event) {
  if (watched == m_formatHelp && event->type() == QEvent::Resize) fitHelpHeight();
  return QWidget::eventFilter(watched, event);
}

void ExportPage::fitHelpHeight() {
  // The width does not depend on the height, so this settles after one more layout pass. A
  // label's heightForWidth is never below its minimum height: that goes first.
  const int min = m_formatHelp->minimumHeight();
  m_formatHelp->setMinimumHeight(0);
  const int height = m_formatHelp->heightForWidth(m_formatHelp->width());
  m_formatHelp->setMinimumHeight(min);
  if (height > 0 && height != m_formatHelp->maximumHeight()) m_formatHelp->setFixedHeight(height);
}

QString ExportPage::checkVerdict() const {
  return m_verdict->text();
}

bool ExportPage::exportRun(qint64 runId, const QString& format, const QString& folder,
                           const QString& quant, bool check) {
  if (!m_context.session->isOpen() || m_exporter->isBusy()) return false;
  if (!m_context.session->run(runId)) return false;
  if (folder.trimmed().isEmpty()) {
    m_banner->showMessage(MessageBanner::Kind::kError, tr("Choose a folder to export to"));
    return false;
  }
  if (!m_exporter->exportRun(runId, format, folder, quant, check)) return false;
  m_banner->showMessage(MessageBanner::Kind::kInfo, tr("Exporting…"));
  m_files->clear();
  m_checkPanel->hide();
  m_progress->setValue(0);
  return true;
}

void ExportPage::cancelExport() {
  if (!m_exporter->isBusy()) return;
  m_exporter->cancel();
  m_cancel->setEnabled(false);
  m_cancel->setText(tr("Cancelling…"));
}
