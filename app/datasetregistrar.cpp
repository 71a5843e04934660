// The job opens its own connection: registering reads the whole file, which may take a while.
#include "datasetregistrar.h"

#include "deeptune/project.h"
#include "projectsession.h"

DatasetRegistrar::DatasetRegistrar(ProjectSession* session, QObject* parent)
    : ProjectService(session, parent) {}

bool DatasetRegistrar::add(const QString& path, const QString& name,
                           std::optional<deeptune::DataFormat> format,
                           std::optional<deeptune::FieldMapping> mapping) {
  if (!m_session->isOpen() || isBusy()) return false;
  const deeptune::DatasetSource source{path.toStdString(), name.toStdString(), format, mapping};
  start<QString>(
      [source](JobProject& project) {
        return QString::fromStdString(deeptune::register_dataset(project.store(), source).name);
      },
      [this](const JobResult<QString>& r) {
        if (!r.ok()) {
          Q_EMIT addFailed({tr("The dataset was not added"), r.error});
          return;
        }
        m_session->reloadDatasets();
        Q_EMIT added(r.value);
      });
  return true;
}
