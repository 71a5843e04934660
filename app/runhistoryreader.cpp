// One connection per read job; the writer (a training worker or deeptune-cli) has its own.
#include "runhistoryreader.h"

#include "projectsession.h"

RunHistoryReader::RunHistoryReader(ProjectSession* session, QObject* parent)
    : ProjectService(session, parent) {}

quint64 RunHistoryReader::read(const QList<qint64>& runIds, qint64 afterStep, qint64 afterLogId) {
  if (!m_session->isOpen()) return 0;
  const quint64 ticket = ++m_ticket;
  start<QList<RunHistory>>(
      [runIds, afterStep, afterLogId](JobProject& project) {
        QList<RunHistory> out;
        for (qint64 id : runIds) {
          RunHistory h;
          h.runId = id;
          h.metrics = project.store().metrics(id, afterStep);
          if (afterLogId != kNoLogs) h.logs = project.store().logs(id, afterLogId);
          out.append(std::move(h));
        }
        return out;
      },
      [this, ticket](const JobResult<QList<RunHistory>>& r) {
        if (r.ok())
          Q_EMIT historyRead(ticket, r.value);
        else
          Q_EMIT readFailed(ticket, {tr("The run's records cannot be read"), r.error});
      });
  return ticket;
}
