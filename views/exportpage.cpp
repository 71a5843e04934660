// Exports run through RunExporter (app/), in the background; the page shows a busy bar meanwhile
// and the files written afterwards.
#include "exportpage.h"

#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

#include "filedialogs.h"
#include "messagebanner.h"
#include "projectsession.h"
#include "runexporter.h"
#include "runsmodel.h"

ExportPage::ExportPage(const WorkbenchContext& context, QWidget* parent)
    : QWidget(parent), m_context(context) {
  auto* layout = new QVBoxLayout(this);
  auto* form = new QFormLayout;
  m_run = new QComboBox(this);
  m_run->setMinimumContentsLength(24);
  form->addRow(tr("Run:"), m_run);
  m_format = new QComboBox(this);
  m_format->addItem(tr("PEFT LoRA adapter"), QStringLiteral("peft"));
  m_format->addItem(tr("Merged Hugging Face checkpoint"), QStringLiteral("hf"));
  form->addRow(tr("Format:"), m_format);
  m_formatHelp = new QLabel(this);
  m_formatHelp->setWordWrap(true);
  m_formatHelp->setStyleSheet(QStringLiteral("color:#555"));
  form->addRow(QString(), m_formatHelp);
  auto* folderRow = new QHBoxLayout;
  m_folder = new QLineEdit(this);
  auto* browse = new QPushButton(tr("Browse…"), this);
  folderRow->addWidget(m_folder, 1);
  folderRow->addWidget(browse);
  form->addRow(tr("Folder:"), folderRow);
  layout->addLayout(form);
  auto* actions = new QHBoxLayout;
  m_export = new QPushButton(tr("Export"), this);
  m_progress = new QProgressBar(this);
  m_progress->setRange(0, 1);
  m_progress->setValue(0);
  m_progress->setTextVisible(false);
  actions->addWidget(m_export);
  actions->addWidget(m_progress, 1);
  layout->addLayout(actions);
  m_banner = new MessageBanner(this);
  layout->addWidget(m_banner);
  m_files = new QPlainTextEdit(this);
  m_files->setReadOnly(true);
  m_files->setPlaceholderText(tr("The files written appear here."));
  layout->addWidget(m_files, 1);

  const auto updateHelp = [this] {
    m_formatHelp->setText(
        m_format->currentData().toString() == QLatin1String("peft")
            ? tr("adapter_config.json + adapter_model.safetensors: load with "
                 "PeftModel.from_pretrained on top of the base model. LoRA runs only.")
            : tr("config.json + model.safetensors with the adapters merged in: loads with "
                 "AutoModelForCausalLM.from_pretrained, no PEFT needed."));
    suggestFolder();
  };
  connect(m_format, &QComboBox::currentIndexChanged, this, updateHelp);
  connect(m_run, &QComboBox::currentIndexChanged, this, &ExportPage::suggestFolder);
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString dir = chooseFolder(this, tr("Export to"), m_folder->text());
    if (!dir.isEmpty()) m_folder->setText(dir);
  });
  connect(m_export, &QPushButton::clicked, this, [this] {
    exportRun(m_run->currentData().toLongLong(), m_format->currentData().toString(),
              m_folder->text());
  });
  connect(m_context.session, &ProjectSession::runsChanged, this, &ExportPage::refreshRuns);
  m_exporter = new RunExporter(m_context.session, this);
  connect(m_exporter, &RunExporter::busyChanged, this, [this](bool busy) {
    // Busy: the engine reports no finer progress for an export.
    m_progress->setRange(0, busy ? 0 : 1);
    m_export->setEnabled(!busy && m_run->count() > 0);
  });
  connect(m_exporter, &RunExporter::exportFailed, this, [this](const UserMessage& message) {
    m_progress->setValue(0);
    m_banner->showMessage(MessageBanner::Kind::kError, message.headline, message.detail);
    Q_EMIT exportFinished(false, {});
  });
  connect(m_exporter, &RunExporter::exported, this, [this](const QStringList& files) {
    m_progress->setValue(1);
    m_files->setPlainText(files.join(QLatin1Char('\n')));
    m_banner->showMessage(MessageBanner::Kind::kSuccess,
                          tr("Exported %n file(s)", nullptr, static_cast<int>(files.size())),
                          QFileInfo(files.value(0)).absolutePath());
    Q_EMIT exportFinished(true, files);
  });
  updateHelp();
}

void ExportPage::refreshRuns() {
  const qint64 current = m_run->currentData().toLongLong();
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

bool ExportPage::exportRun(qint64 runId, const QString& format, const QString& folder) {
  if (!m_context.session->isOpen() || m_exporter->isBusy()) return false;
  if (!m_context.session->run(runId)) return false;
  if (folder.trimmed().isEmpty()) {
    m_banner->showMessage(MessageBanner::Kind::kError, tr("Choose a folder to export to"));
    return false;
  }
  if (!m_exporter->exportRun(runId, format, folder)) return false;
  m_banner->showMessage(MessageBanner::Kind::kInfo, tr("Exporting…"));
  m_files->clear();
  return true;
}
