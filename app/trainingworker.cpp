// Worker-thread side of a run. The only place in the workbench that catches engine exceptions
// around training: a refusal (before the claim, or while preparing) becomes startFailed; a failure
// while training comes back in the outcome, stored by the engine, as a runFinished signal.
#include "trainingworker.h"

#include <QElapsedTimer>
#include <nlohmann/json.hpp>

#include "deeptune/error.h"

namespace {

// Buffers steps and hands them on in batches no more often than every kMinEmitIntervalMs. The
// engine reports nothing before it has claimed the run, so the first event announces it.
class SignalObserver final : public deeptune::RunObserver {
 public:
  SignalObserver(TrainingWorker& worker, qint64 runId) : m_worker(worker), m_runId(runId) {
    m_sinceEmit.start();
  }

  void on_step(const deeptune::StepMetrics& s) override {
    announce();
    m_pending.append(s);
    if (m_sinceEmit.elapsed() >= TrainingWorker::kMinEmitIntervalMs) flush();
  }
  void on_eval(const deeptune::EvalMetrics& e) override {
    flush();
    Q_EMIT m_worker.evalFinished(m_runId, e);
  }
  void on_log(const deeptune::LogLine& l) override {
    announce();
    Q_EMIT m_worker.logged(m_runId, l);
  }
  void on_state(deeptune::RunState s, const std::string& detail) override {
    flush();
    Q_EMIT m_worker.stateChanged(m_runId, s, QString::fromStdString(detail));
  }
  void on_rollback(int64_t step) override {
    flush();  // steps buffered before it reach the UI first, so that the rollback drops them
    Q_EMIT m_worker.rolledBack(m_runId, step);
  }
  void on_attention(const deeptune::AttentionSnapshot& a) override {
    flush();  // the steps up to the capture arrive first
    Q_EMIT m_worker.attentionCaptured(m_runId, a);
  }

  void announce() {
    if (m_started) return;
    m_started = true;
    Q_EMIT m_worker.runStarted(m_runId);
  }
  void flush() {
    announce();
    if (!m_pending.isEmpty()) Q_EMIT m_worker.stepsFinished(m_runId, m_pending);
    m_pending.clear();
    m_sinceEmit.restart();
  }

 private:
  TrainingWorker& m_worker;
  qint64 m_runId;
  bool m_started = false;
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
  SignalObserver observer(*this, runId);
  deeptune::RunOutcome outcome;
  try {
    // execute_run stores failures after its claim itself and reports them in the outcome.
    outcome = deeptune::execute_run(projectPath.toStdString(), runId, observer, m_control);
  } catch (const std::exception& e) {
    // The run did not start training: the engine would not claim it (another process runs it, it
    // has completed, it is not resumable), or refused it while preparing (a config or dataset it
    // could only check then) and recorded that itself (a new run removed, a resumed one left as it
    // was). Not a failed run: the worker does not invent one.
    Q_EMIT startFailed(QString::fromStdString(e.what()));
    return;
  }
  observer.flush();
  Q_EMIT runFinished(runId, outcome.status, QString::fromStdString(outcome.error));
}
