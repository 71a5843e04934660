// The run is looked up by id inside the job: it may have been renamed since a page listed it.
// Progress: the engine reports from the job's thread, often; the job keeps only the newest report
// and queues one delivery at a time to the UI thread, which emits at most one every 50 ms.
#include "runexporter.h"

#include <QElapsedTimer>
#include <QTimer>
#include <atomic>
#include <chrono>
#include <mutex>

#include "deeptune/error.h"
#include "projectsession.h"

struct RunExporter::Progress {
  std::atomic<bool> cancel{false};
  std::mutex mutex;       // guards what follows
  RunExporter* receiver;  // null once the exporter is destroyed
  deeptune::ExportProgress latest;
  bool fresh = false;   // latest has not been emitted
  bool queued = false;  // a delivery is on its way to the UI thread (or waiting for its slot)
  QElapsedTimer sinceEmit;

  explicit Progress(RunExporter* r) : receiver(r) {}

  // Job thread: keeps the report, queues a delivery unless one is already on its way.
  bool report(const deeptune::ExportProgress& p, const std::shared_ptr<Progress>& self) {
    std::lock_guard<std::mutex> lock(mutex);
    latest = p;
    fresh = true;
    if (receiver && !queued) {
      queued = true;
      // Posted under the lock: the destructor cannot finish while this runs, and Qt drops the
      // events of an object it destroys.
      QMetaObject::invokeMethod(
          receiver, [r = receiver, self] { r->deliverProgress(self); }, Qt::QueuedConnection);
    }
    return !cancel.load();
  }
};

namespace {

struct Outcome {
  deeptune::ExportResult result;
  bool cancelled = false;
};

// Emitted at most this often: a bar and a label need no more, and a fast export of a small model
// reports hundreds of times a second.
constexpr int kProgressIntervalMs = 50;

}  // namespace

RunExporter::RunExporter(ProjectSession* session, QObject* parent)
    : ProjectService(session, parent) {}

RunExporter::~RunExporter() {
  if (!m_progress) return;
  std::lock_guard<std::mutex> lock(m_progress->mutex);
  m_progress->receiver = nullptr;
}

void RunExporter::deliverProgress(const std::shared_ptr<Progress>& state) {
  if (state != m_progress) return;  // a report of an earlier export
  qint64 wait = 0;
  {
    std::lock_guard<std::mutex> lock(state->mutex);
    if (state->sinceEmit.isValid()) wait = kProgressIntervalMs - state->sinceEmit.elapsed();
  }
  if (wait > 0) {
    QTimer::singleShot(int(wait), this, [this, state] { deliverProgress(state); });
    return;
  }
  deeptune::ExportProgress p;
  {
    std::lock_guard<std::mutex> lock(state->mutex);
    state->queued = false;
    if (!state->fresh) return;
    state->fresh = false;
    state->sinceEmit.start();
    p = state->latest;
  }
  Q_EMIT progressed(p);
}

void RunExporter::flushProgress(const std::shared_ptr<Progress>& state) {
  deeptune::ExportProgress p;
  {
    std::lock_guard<std::mutex> lock(state->mutex);
    if (!state->fresh) return;
    state->fresh = false;
    p = state->latest;
  }
  Q_EMIT progressed(p);
}

bool RunExporter::exportRun(qint64 runId, const QString& format, const QString& folder,
                            const QString& quant, bool check) {
  if (!m_session->isOpen() || isBusy()) return false;
  if (m_progress) {
    std::lock_guard<std::mutex> lock(m_progress->mutex);
    m_progress->receiver = nullptr;  // whatever it still reports is no longer ours
  }
  auto state = std::make_shared<Progress>(this);
  m_progress = state;
  const std::string fmt = format.toStdString();
  const std::string q = quant.toStdString();
  const std::string out = folder.toStdString();
  start<Outcome>(
      [runId, fmt, q, check, out, state](JobProject& project) {
        const auto run = project.store().run(runId);
        if (!run) throw deeptune::InputError(project.path(), "the run no longer exists");
        deeptune::ExportOptions options;
        options.format = deeptune::export_format_from_string(fmt);
        if (options.format == deeptune::ExportFormat::kGguf)
          options.quant = deeptune::gguf_quant_from_string(q);
        options.check = check;
        options.on_progress = [state](const deeptune::ExportProgress& p) {
          return state->report(p, state);
        };
        Outcome outcome;
        try {
          outcome.result = deeptune::export_run(project.path(), run->name, options, out);
        } catch (const deeptune::InputError& e) {
          // Only our own request counts as a cancellation; anything else is a failure.
          if (!state->cancel.load() || e.message() != "cancelled") throw;
          outcome.cancelled = true;
        }
        return outcome;
      },
      [this, state](const JobResult<Outcome>& r) {
        flushProgress(state);
        if (!r.ok())
          Q_EMIT exportFailed({tr("The export failed"), r.error});
        else if (r.value.cancelled)
          Q_EMIT exportCancelled();
        else
          Q_EMIT exported(r.value.result);
      });
  return true;
}

void RunExporter::cancel() {
  if (m_progress && isBusy()) m_progress->cancel = true;
}
