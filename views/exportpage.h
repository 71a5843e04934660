// Export page: writes a run's latest checkpoint in a format other tools load — a PEFT LoRA
// adapter (Python's peft) or a merged Hugging Face checkpoint — with progress and a clear result.
#pragma once

#include <QStringList>
#include <QWidget>

#include "workbenchcontext.h"

class MessageBanner;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class RunExporter;

class ExportPage : public QWidget {
  Q_OBJECT
 public:
  explicit ExportPage(const WorkbenchContext& context, QWidget* parent = nullptr);

  // Starts an export in the background (through RunExporter); exportFinished follows. "peft" or
  // "hf".
  bool exportRun(qint64 runId, const QString& format, const QString& folder);
  MessageBanner* banner() const { return m_banner; }

 Q_SIGNALS:
  void exportFinished(bool ok, const QStringList& files);

 private:
  void refreshRuns();
  void suggestFolder();

  WorkbenchContext m_context;
  QComboBox* m_run;
  QComboBox* m_format;
  QLabel* m_formatHelp;
  QLineEdit* m_folder;
  QPushButton* m_export;
  QProgressBar* m_progress;
  MessageBanner* m_banner;
  QPlainTextEdit* m_files;
  RunExporter* m_exporter;
};
