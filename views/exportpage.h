// Export page: writes a run's latest checkpoint in a format other tools load — a PEFT LoRA
// adapter (Python's peft), a merged Hugging Face checkpoint, or a GGUF file (llama.cpp, Ollama) —
// with progress in bytes, a Cancel button, and what the engine's check of the written files found.
#pragma once

#include <QStringList>
#include <QWidget>

#include "workbenchcontext.h"

namespace deeptune {
struct ExportCheck;
struct ExportProgress;
}  // namespace deeptune

class MessageBanner;
class QCheckBox;
class QComboBox;
class QFormLayout;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QTableWidget;
class RunExporter;

class ExportPage : public QWidget {
  Q_OBJECT
 public:
  explicit ExportPage(const WorkbenchContext& context, QWidget* parent = nullptr);

  // Starts an export in the background (through RunExporter); exportFinished or exportCancelled
  // follows. format: "peft", "hf" or "gguf"; quant (gguf only): "F32", "F16", "BF16", "Q8_0";
  // check: verify the written files against the run's model.
  bool exportRun(qint64 runId, const QString& format, const QString& folder,
                 const QString& quant = QStringLiteral("F16"), bool check = true);
  // What the Cancel button does: the engine stops at its next progress report and removes the
  // files it was writing.
  void cancelExport();

  MessageBanner* banner() const { return m_banner; }
  QProgressBar* progressBar() const { return m_progress; }
  QGroupBox* checkPanel() const { return m_checkPanel; }
  QString checkVerdict() const;  // "PASSED", "FAILED" or "Not verified" (translated)

 Q_SIGNALS:
  // ok: written, and the check passed or was not asked for. A check that failed gives ok = false
  // with the files it kept; an export that failed or was refused gives no files.
  void exportFinished(bool ok, const QStringList& files);
  void exportCancelled();

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void refreshRuns();
  void fitHelpHeight();
  void suggestFolder();
  void updateFormatChoices();  // GGUF only for causal LM runs; the quantisation row and the hint
  void setExporting(bool exporting);
  void showProgress(const deeptune::ExportProgress& progress);
  void showCheck(const deeptune::ExportCheck& check);

  WorkbenchContext m_context;
  QFormLayout* m_form;
  QComboBox* m_run;
  QComboBox* m_format;
  QComboBox* m_quant;
  QLabel* m_formatHelp;
  QLineEdit* m_folder;
  QCheckBox* m_verify;
  QPushButton* m_export;
  QPushButton* m_cancel;
  QProgressBar* m_progress;
  QLabel* m_stage;
  MessageBanner* m_banner;
  QGroupBox* m_checkPanel;
  QLabel* m_verdict;
  QLabel* m_summary;
  QWidget* m_probeBox;  // title and table
  QTableWidget* m_probes;
  QWidget* m_tensorBox;
  QLabel* m_tensorsTitle;
  QTableWidget* m_tensors;
  QLabel* m_tokenizer;
  QLabel* m_failures;
  QPlainTextEdit* m_files;
  RunExporter* m_exporter;
};
