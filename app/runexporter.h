// Exports a run's latest checkpoint in the background (PEFT adapter or merged Hugging Face
// checkpoint): exports read checkpoints and write hundreds of MB for large models.
#pragma once

#include <QStringList>

#include "projectservice.h"

class RunExporter : public ProjectService {
  Q_OBJECT
 public:
  explicit RunExporter(ProjectSession* session, QObject* parent = nullptr);

  // format: "peft" or "hf". Returns false (and does nothing) when no project is open or an export
  // is running; otherwise exported or exportFailed follows.
  bool exportRun(qint64 runId, const QString& format, const QString& folder);

 Q_SIGNALS:
  void exported(const QStringList& files);
  void exportFailed(const UserMessage& message);
};
