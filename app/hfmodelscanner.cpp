// Jobs open no project: they read the cache and model folders only.
#include "hfmodelscanner.h"

HfModelScanner::HfModelScanner(ProjectSession* session, QObject* parent)
    : ProjectService(session, parent) {}

QString HfModelScanner::hubDir() {
  return QString::fromStdString(deeptune::hf_hub_dir());
}

void HfModelScanner::scanCache() {
  if (m_scanning) {
    m_rescan = true;
    return;
  }
  m_scanning = true;
  const std::string hub = deeptune::hf_hub_dir();
  start<QList<deeptune::HfModelInfo>>(
      [hub](JobProject&) {
        QList<deeptune::HfModelInfo> out;
        for (auto& m : deeptune::cached_hf_models(hub)) out.append(std::move(m));
        return out;
      },
      [this, hub](const JobResult<QList<deeptune::HfModelInfo>>& r) {
        m_scanning = false;
        if (m_rescan) {
          m_rescan = false;
          scanCache();
          return;
        }
        if (r.ok())
          Q_EMIT cacheScanned(QString::fromStdString(hub), r.value);
        else
          Q_EMIT cacheScanFailed(QString::fromStdString(hub),
                                 {tr("The Hugging Face cache cannot be listed"), r.error});
      });
}

void HfModelScanner::inspectFolder(const QString& folder) {
  const std::string dir = folder.toStdString();
  start<deeptune::HfModelInfo>(
      [dir](JobProject&) { return deeptune::inspect_hf_model(dir); },
      [this, folder](const JobResult<deeptune::HfModelInfo>& r) {
        if (r.ok())
          Q_EMIT folderInspected(r.value);
        else
          Q_EMIT folderRefused(folder, {tr("This folder is not a model"), r.error});
      });
}
