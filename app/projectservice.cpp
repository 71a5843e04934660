// Job bookkeeping shared by the services.
#include "projectservice.h"

#include "projectsession.h"

ProjectService::ProjectService(ProjectSession* session, QObject* parent)
    : QObject(parent), m_session(session) {}

std::string ProjectService::projectPath() const {
  return m_session ? m_session->path().toStdString() : std::string();
}

void ProjectService::setRunning(int running) {
  const bool was = isBusy();
  m_running = running;
  if (was != isBusy()) Q_EMIT busyChanged(isBusy());
}
