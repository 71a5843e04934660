// The UI thread's handle on training: owns the worker thread (quit and joined on destruction),
// starts and resumes runs there through queued calls, and forwards pause/resume/stop as atomics
// the trainer checks between optimizer steps. The UI never waits on the engine.
#pragma once

#include <QDateTime>
#include <QList>
#include <QObject>
#include <QString>
#include <QThread>
#include <memory>

#include "deeptune/session.h"
#include "metatypes.h"

class TrainingWorker;

class RunController : public QObject {
  Q_OBJECT
 public:
  explicit RunController(QObject* parent = nullptr);
  ~RunController() override;  // stops a run in progress and joins the thread

  bool isBusy() const { return m_busy; }
  qint64 currentRunId() const { return m_runId; }
  // When the current (or last) start or resume was asked for: what the run records from then on
  // also arrives through the signals below.
  QDateTime requestedAt() const { return m_requestedAt; }
  deeptune::RunState state() const { return m_state; }

  // Each returns false (and does nothing) when a run is already in progress.
  bool startRun(const QString& projectPath, const QString& configJson, const QString& name);
  bool resumeRun(const QString& projectPath, qint64 runId);
  void pause();
  void resume();
  void stop();

  // Waits (processing events) until the current run ends; for tests and shutdown. Returns false
  // on timeout.
  bool waitUntilIdle(int timeoutMs);

 Q_SIGNALS:
  void runStarted(qint64 runId);  // the engine claimed it: events, then runFinished, follow
  void stepsFinished(qint64 runId, const QList<deeptune::StepMetrics>& steps);
  void evalFinished(qint64 runId, const deeptune::EvalMetrics& eval);
  void logged(qint64 runId, const deeptune::LogLine& line);
  void stateChanged(qint64 runId, deeptune::RunState state, const QString& detail);
  // Back to the checkpoint at `step` after NaN/inf steps: what was shown for later steps is
  // superseded; those steps arrive again.
  void rolledBack(qint64 runId, qint64 step);
  void attentionCaptured(qint64 runId, const deeptune::AttentionSnapshot& snapshot);
  void runFinished(qint64 runId, deeptune::RunStatus status, const QString& error);
  // The run did not train (see TrainingWorker::startFailed); no runFinished follows.
  void startFailed(const QString& error);
  void busyChanged(bool busy);

 private:
  void setBusy(bool busy);

  deeptune::RunControl m_control;
  std::unique_ptr<QThread> m_thread;
  TrainingWorker* m_worker = nullptr;  // lives in m_thread, deleted when it finishes
  bool m_busy = false;
  qint64 m_runId = 0;
  QDateTime m_requestedAt;
  deeptune::RunState m_state = deeptune::RunState::kStopped;
};
