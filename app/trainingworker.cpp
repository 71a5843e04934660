// Worker-thread side of a run. The only place in the workbench that catches engine exceptions
// around training: they end as a failed run (stored in the project) and a runFinished signal.
#include "trainingworker.h"

#include <QElapsedTimer>
#include <nlohmann/json.hpp>

#include "deeptune/error.h"

namespace {

// Buffers steps and hands them on in batches no more often than every kMinEmitIntervalMs.
class SignalObserver final : public deeptune::RunObserver {
 public:
  SignalObserver(TrainingWorker& worker, qint64 runId) : m_worker(worker), m_runId(runId) {
    m_sinceEmit.start();
  }

  void on_step(const deeptune::StepMetrics& s) override {
    m_pending.append(s);
    if (m_sinceEmit.elapsed() >= TrainingWorker::kMinEmitIntervalMs) flush();
  }
  void on_eval(const deeptune::EvalMetrics& e) override {
    flush();
    Q_EMIT m_worker.evalFinished(m_runId, e);
  }
  void on_log(const deeptune::LogLine& l) override { Q_EMIT m_worker.logged(m_runId, l); }
  void on_state(deeptune::RunState s, const std::string& detail) override {
    flush();
    Q_EMIT m_worker.stateChanged(m_runId, s, QString::fromStdString(detail));
  }

  void flush() {
    if (!m_pending.isEmpty()) Q_EMIT m_worker.stepsFinished(m_runId, m_pending);
    m_pending.clear();
    m_sinceEmit.restart();
  }

 private:
  TrainingWorker& m_worker;
  qint64 m_runId;
  QList<deeptune::StepMetrics> m_pending;
  QElapsedTimer m_sinceEmit;
};

}  // namespace

TrainingWorker::TrainingWorker(deeptune::RunControl& control, QObject* parent)
    : QObject(parent), m_control(control) {}

void TrainingWorker::startRun(const QString& projectPath, const QString& configJson,
                              const QString& name) {
  qint64 runId = 0;
  try {
    const auto doc = nlohmann::json::parse(configJson.toStdString());
    const auto config = deeptune::RunConfig::from_json(doc);
    runId = deeptune::create_run(projectPath.toStdString(), config, name.toStdString());
  } catch (const nlohmann::json::exception& e) {
    Q_EMIT startFailed(QString::fromStdString(std::string("run config: ") + e.what()));
    return;
  } catch (const std::exception& e) {
    Q_EMIT startFailed(QString::fromStdString(e.what()));
    return;
  }
  execute(projectPath, runId);
}

void TrainingWorker::resumeRun(const QString& projectPath, qint64 runId) {
  execute(projectPath, runId);
}

void TrainingWorker::execute(const QString& projectPath, qint64 runId) {
  Q_EMIT runStarted(runId);
  SignalObserver observer(*this, runId);
  deeptune::RunOutcome outcome;
  try {
    // execute_run stores failures itself and reports them in the outcome; this catch is the
    // last line for anything that escapes it (e.g. the project file vanished).
    outcome = deeptune::execute_run(projectPath.toStdString(), runId, observer, m_control);
  } catch (const std::exception& e) {
    outcome.status = deeptune::RunStatus::kFailed;
    outcome.error = e.what();
  }
  observer.flush();
  Q_EMIT runFinished(runId, outcome.status, QString::fromStdString(outcome.error));
}
