// The object that trains: it lives in the worker thread, calls the engine's execute_run there and
// turns the engine's observer callbacks into queued signals of value types. Steps are coalesced:
// at most one stepsFinished about every 33 ms however fast the trainer goes, so the UI thread
// receives (and replots) at most ~30 times a second.
#pragma once

#include <QList>
#include <QObject>
#include <QString>

#include "deeptune/session.h"
#include "metatypes.h"

class TrainingWorker : public QObject {
  Q_OBJECT
 public:
  static constexpr int kMinEmitIntervalMs = 33;

  explicit TrainingWorker(deeptune::RunControl& control, QObject* parent = nullptr);

 public Q_SLOTS:
  // Creates a run from a RunConfig JSON document and trains it. Runs in the worker thread.
  void startRun(const QString& projectPath, const QString& configJson, const QString& name);
  // Continues a stopped, paused or interrupted run from its last checkpoint.
  void resumeRun(const QString& projectPath, qint64 runId);

 Q_SIGNALS:
  void runStarted(qint64 runId);
  void stepsFinished(qint64 runId, const QList<deeptune::StepMetrics>& steps);
  void evalFinished(qint64 runId, const deeptune::EvalMetrics& eval);
  void logged(qint64 runId, const deeptune::LogLine& line);
  void stateChanged(qint64 runId, deeptune::RunState state, const QString& detail);
  // status: completed, stopped or failed; error holds the engine's message when failed.
  void runFinished(qint64 runId, deeptune::RunStatus status, const QString& error);
  // The config or project refused the run before it existed (nothing was recorded).
  void startFailed(const QString& error);

 private:
  void execute(const QString& projectPath, qint64 runId);

  deeptune::RunControl& m_control;
};
