// Deleting runs in the background: first what depends on a run (runs started from its weights),
// so a page can say what will break, then the deletion itself (row, metrics, logs, checkpoint
// folders), after which the session's list is reloaded.
#pragma once

#include <QList>

#include "deeptune/session.h"
#include "projectservice.h"

class RunRemover : public ProjectService {
  Q_OBJECT
 public:
  explicit RunRemover(ProjectSession* session, QObject* parent = nullptr);

  // Each returns false (and does nothing) when no project is open.
  bool findDependents(qint64 runId);  // dependentsFound or lookupFailed follows
  // force: delete even when runs that have not started still need its weights (they then cannot
  // start). Without force the engine refuses such a deletion (removeFailed names them).
  bool remove(qint64 runId, bool force);  // removed or removeFailed follows

 Q_SIGNALS:
  void dependentsFound(qint64 runId, const QList<deeptune::RunDependent>& dependents);
  void lookupFailed(qint64 runId, const UserMessage& message);
  void removed(qint64 runId);  // the session's runs no longer include it
  void removeFailed(qint64 runId, const UserMessage& message);
};

Q_DECLARE_METATYPE(deeptune::RunDependent)
