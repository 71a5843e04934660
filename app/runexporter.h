// Exports a run's latest checkpoint in the background (PEFT adapter, merged Hugging Face checkpoint
// or GGUF file), with the engine's check of what was written: exports read checkpoints and write
// gigabytes for large models, so progress comes back as it goes and an export can be cancelled.
#pragma once

#include <QStringList>
#include <memory>

#include "deeptune/session.h"
#include "projectservice.h"

class RunExporter : public ProjectService {
  Q_OBJECT
 public:
  explicit RunExporter(ProjectSession* session, QObject* parent = nullptr);
  ~RunExporter() override;

  // format: "peft", "hf" or "gguf"; quant (gguf only): "F32", "F16", "BF16" or "Q8_0"; check:
  // reload what was written and compare it with the run's model. Returns false (and does nothing)
  // when no project is open or an export is running; otherwise progressed (any number of times),
  // then one of exported, exportCancelled or exportFailed follows.
  bool exportRun(qint64 runId, const QString& format, const QString& folder,
                 const QString& quant = QStringLiteral("F16"), bool check = true);
  // Asks the running export to stop at its next progress report; the engine removes the files it
  // was writing and exportCancelled follows (or exported, when it had already finished).
  void cancel();

 Q_SIGNALS:
  // At most ~20 a second, the newest report each time; the last one before the answer is always
  // delivered.
  void progressed(const deeptune::ExportProgress& progress);
  // The files written and what the check found (check.ran is false when it was not asked for; a
  // check that did not pass still arrives here, with check.passed false and the files kept).
  void exported(const deeptune::ExportResult& result);
  void exportCancelled();
  void exportFailed(const UserMessage& message);

 private:
  struct Progress;  // one export's reports, shared with its job's thread
  void deliverProgress(const std::shared_ptr<Progress>& state);  // UI thread, throttled
  void flushProgress(const std::shared_ptr<Progress>& state);    // the newest, if not yet emitted
  std::shared_ptr<Progress> m_progress;
};

Q_DECLARE_METATYPE(deeptune::ExportProgress)
Q_DECLARE_METATYPE(deeptune::ExportResult)
