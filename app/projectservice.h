// The one threading policy of app/ for project work the UI must not wait for (registering a
// dataset, exporting, summarising a model, deleting a run, reading a run's history): the work runs
// on the global thread pool; whatever it reads or writes goes through a ProjectStore connection
// opened inside that job (never the UI thread's, which ProjectSession owns); its value, or the
// engine's message, comes back on the UI thread, where the service turns it into signals of
// value types (failures as a UserMessage: translated headline, engine's detail).
#pragma once

#include <QFuture>
#include <QObject>
#include <QString>
#include <QtConcurrent/QtConcurrentRun>
#include <memory>
#include <string>

#include "deeptune/store.h"
#include "usermessage.h"

class ProjectSession;

// The project as one job sees it: its path (for engine calls that open the project themselves)
// and a connection of the job's own, opened on first use in the job's thread.
class JobProject {
 public:
  explicit JobProject(std::string path) : m_path(std::move(path)) {}
  const std::string& path() const { return m_path; }
  deeptune::ProjectStore& store() {
    if (!m_store) m_store = deeptune::ProjectStore::open(m_path);
    return *m_store;
  }

 private:
  std::string m_path;
  std::unique_ptr<deeptune::ProjectStore> m_store;
};

template <typename T>
struct JobResult {
  T value{};
  QString error;  // the engine's message (naming the file, key or run at fault); "" on success
  bool ok() const { return error.isEmpty(); }
};

// Base of the services: owns the policy above, counts the jobs in flight.
class ProjectService : public QObject {
  Q_OBJECT
 public:
  bool isBusy() const { return m_running > 0; }

 Q_SIGNALS:
  void busyChanged(bool busy);

 protected:
  explicit ProjectService(ProjectSession* session, QObject* parent = nullptr);

  // Runs `work(JobProject&) -> T` in the thread pool on the open project (or on none: path ""),
  // then `done(const JobResult<T>&)` on this object's thread from its event loop — never inside
  // start() itself, even when the job is done before start() returns. A service destroyed
  // meanwhile hears nothing; the job still finishes (an export or a deletion cut in half would be
  // worse).
  template <typename T, typename Work, typename Done>
  void start(Work work, Done done) {
    setRunning(m_running + 1);
    QtConcurrent::run([path = projectPath(), work]() {
      JobResult<T> result;
      try {
        JobProject project(path);
        result.value = work(project);
      } catch (const std::exception& e) {
        result.error = QString::fromStdString(e.what());
      }
      return result;
    }).then(this, [this, done](const JobResult<T>& result) {
      // then() calls at once when the job finished first: queue, so callers see a ticket or
      // busy state before any answer.
      QMetaObject::invokeMethod(
          this,
          [this, done, result] {
            setRunning(m_running - 1);
            done(result);
          },
          Qt::QueuedConnection);
    });
  }

  ProjectSession* m_session;

 private:
  std::string projectPath() const;
  void setRunning(int running);

  int m_running = 0;
};
