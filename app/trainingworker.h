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
  // Continues a resumable run (stopped, interrupted, or failed with a checkpoint) from its last
  // checkpoint.
  void resumeRun(const QString& projectPath, qint64 runId);

 Q_SIGNALS:
  // The engine claimed the run for this process: the events below follow, then runFinished.
  void runStarted(qint64 runId);
  void stepsFinished(qint64 runId, const QList<deeptune::StepMetrics>& steps);
  void evalFinished(qint64 runId, const deeptune::EvalMetrics& eval);
  void logged(qint64 runId, const deeptune::LogLine& line);
  void stateChanged(qint64 runId, deeptune::RunState state, const QString& detail);
  // Training went back to its checkpoint at `step` (after NaN/inf steps): steps reported after it
  // no longer hold and will be reported again.
  void rolledBack(qint64 runId, qint64 step);
  // The attention of one probe at one step was captured (and handed to the store, which writes it
  // in batches: a reader may not see it yet).
  void attentionCaptured(qint64 runId, const deeptune::AttentionSnapshot& snapshot);
  // status: completed, stopped or failed; error holds the engine's message when failed.
  void runFinished(qint64 runId, deeptune::RunStatus status, const QString& error);
  // The run did not train, and no runFinished follows: the config was refused before the run was
  // created (create_run), the engine would not claim it (another process runs it, it has
  // completed, it is not resumable), or it refused the run while preparing — then after a
  // runStarted — and recorded that itself (no 'failed' run: a new run is removed, a resumed one
  // left as it was).
  void startFailed(const QString& error);

 private:
  void execute(const QString& projectPath, qint64 runId);

  deeptune::RunControl& m_control;
};
