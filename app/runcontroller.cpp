// Worker thread ownership and the queued hand-over of runs.
#include "runcontroller.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QMetaObject>

#include "trainingworker.h"

RunController::RunController(QObject* parent) : QObject(parent) {
  registerDeepTuneMetaTypes();
  m_thread = std::make_unique<QThread>();
  m_thread->setObjectName(QStringLiteral("training"));
  m_worker = new TrainingWorker(m_control);
  m_worker->moveToThread(m_thread.get());
  connect(m_thread.get(), &QThread::finished, m_worker, &QObject::deleteLater);

  // Every worker signal crosses threads: Qt queues it (AutoConnection) and copies the values.
  connect(m_worker, &TrainingWorker::runStarted, this, [this](qint64 id) {
    m_runId = id;
    Q_EMIT runStarted(id);
  });
  connect(m_worker, &TrainingWorker::stepsFinished, this, &RunController::stepsFinished);
  connect(m_worker, &TrainingWorker::evalFinished, this, &RunController::evalFinished);
  connect(m_worker, &TrainingWorker::logged, this, &RunController::logged);
  connect(m_worker, &TrainingWorker::rolledBack, this, &RunController::rolledBack);
  connect(m_worker, &TrainingWorker::attentionCaptured, this, &RunController::attentionCaptured);
  connect(m_worker, &TrainingWorker::stateChanged, this,
          [this](qint64 id, deeptune::RunState s, const QString& detail) {
            m_state = s;
            Q_EMIT stateChanged(id, s, detail);
          });
  connect(m_worker, &TrainingWorker::runFinished, this,
          [this](qint64 id, deeptune::RunStatus status, const QString& error) {
            setBusy(false);
            Q_EMIT runFinished(id, status, error);
          });
  connect(m_worker, &TrainingWorker::startFailed, this, [this](const QString& error) {
    setBusy(false);
    Q_EMIT startFailed(error);
  });
  m_thread->start();
}

RunController::~RunController() {
  m_control.request_stop();
  m_thread->quit();
  m_thread->wait();
}

bool RunController::startRun(const QString& projectPath, const QString& configJson,
                             const QString& name) {
  if (m_busy) return false;
  m_control.reset();
  m_requestedAt = QDateTime::currentDateTimeUtc();
  setBusy(true);
  QMetaObject::invokeMethod(m_worker, "startRun", Qt::QueuedConnection, Q_ARG(QString, projectPath),
                            Q_ARG(QString, configJson), Q_ARG(QString, name));
  return true;
}

bool RunController::resumeRun(const QString& projectPath, qint64 runId) {
  if (m_busy) return false;
  m_control.reset();
  m_requestedAt = QDateTime::currentDateTimeUtc();
  setBusy(true);
  QMetaObject::invokeMethod(m_worker, "resumeRun", Qt::QueuedConnection,
                            Q_ARG(QString, projectPath), Q_ARG(qint64, runId));
  return true;
}

void RunController::pause() {
  m_control.request_pause();
}
void RunController::resume() {
  m_control.request_resume();
}
void RunController::stop() {
  m_control.request_stop();
}  // a paused trainer sees it too

bool RunController::waitUntilIdle(int timeoutMs) {
  QDeadlineTimer deadline(timeoutMs);
  while (m_busy && !deadline.hasExpired())
    QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
  return !m_busy;
}

void RunController::setBusy(bool busy) {
  if (m_busy == busy) return;
  m_busy = busy;
  Q_EMIT busyChanged(busy);
}
