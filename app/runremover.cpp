// Both jobs go through engine calls that open the project themselves (one connection per job).
#include "runremover.h"

#include "projectsession.h"

RunRemover::RunRemover(ProjectSession* session, QObject* parent)
    : ProjectService(session, parent) {}

bool RunRemover::findDependents(qint64 runId) {
  if (!m_session->isOpen()) return false;
  start<QList<deeptune::RunDependent>>(
      [runId](JobProject& project) {
        QList<deeptune::RunDependent> out;
        for (const auto& d : deeptune::run_dependents(project.path(), runId)) out.append(d);
        return out;
      },
      [this, runId](const JobResult<QList<deeptune::RunDependent>>& r) {
        if (r.ok())
          Q_EMIT dependentsFound(runId, r.value);
        else
          Q_EMIT lookupFailed(runId, {tr("The run's dependents cannot be read"), r.error});
      });
  return true;
}

bool RunRemover::remove(qint64 runId, bool force) {
  if (!m_session->isOpen()) return false;
  start<bool>(
      [runId, force](JobProject& project) {
        deeptune::delete_run(project.path(), runId, force);
        return true;
      },
      [this, runId](const JobResult<bool>& r) {
        if (!r.ok()) {
          Q_EMIT removeFailed(runId, {tr("The run was not deleted"), r.error});
          return;
        }
        m_session->reloadRuns();
        Q_EMIT removed(runId);
      });
  return true;
}
