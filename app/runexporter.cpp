// The run is looked up by id inside the job: it may have been renamed since a page listed it.
#include "runexporter.h"

#include "deeptune/error.h"
#include "deeptune/session.h"
#include "projectsession.h"

RunExporter::RunExporter(ProjectSession* session, QObject* parent)
    : ProjectService(session, parent) {}

bool RunExporter::exportRun(qint64 runId, const QString& format, const QString& folder) {
  if (!m_session->isOpen() || isBusy()) return false;
  const std::string fmt = format.toStdString();
  const std::string out = folder.toStdString();
  start<QStringList>(
      [runId, fmt, out](JobProject& project) {
        const auto run = project.store().run(runId);
        if (!run) throw deeptune::InputError(project.path(), "the run no longer exists");
        QStringList files;
        for (const auto& f : deeptune::export_run(project.path(), run->name,
                                                  deeptune::export_format_from_string(fmt), out))
          files << QString::fromStdString(f);
        return files;
      },
      [this](const JobResult<QStringList>& r) {
        if (r.ok())
          Q_EMIT exported(r.value);
        else
          Q_EMIT exportFailed({tr("The export failed"), r.error});
      });
  return true;
}
