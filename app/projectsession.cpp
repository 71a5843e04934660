// Opening, creating and watching the project file from the UI thread.
#include "projectsession.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

#include "deeptune/error.h"
#include "deeptune/project.h"

namespace {

// What changed in a run that a page shows: status, progress, name, final metrics.
bool sameRuns(const std::vector<deeptune::RunRecord>& a,
              const std::vector<deeptune::RunRecord>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].id != b[i].id || a[i].status != b[i].status || a[i].last_step != b[i].last_step ||
        a[i].name != b[i].name || a[i].final_metrics_json != b[i].final_metrics_json ||
        a[i].error_text != b[i].error_text || a[i].heartbeat_at != b[i].heartbeat_at)
      return false;
  }
  return true;
}

}  // namespace

ProjectSession::ProjectSession(QObject* parent) : QObject(parent) {
  m_poll.setInterval(1000);
  connect(&m_poll, &QTimer::timeout, this, &ProjectSession::poll);
}

ProjectSession::~ProjectSession() = default;

UserMessage ProjectSession::open(const QString& path) {
  try {
    adopt(deeptune::ProjectStore::open(QFileInfo(path).absoluteFilePath().toStdString()));
    return {};
  } catch (const std::exception& e) {
    return {tr("Could not open the project"), QString::fromStdString(e.what())};
  }
}

UserMessage ProjectSession::create(const QString& path, bool withSample) {
  const QFileInfo info(path);
  if (info.exists())
    return {tr("Could not create the project"),
            tr("%1: a file with this name already exists").arg(info.absoluteFilePath())};
  std::unique_ptr<deeptune::ProjectStore> store;
  try {
    QDir().mkpath(info.absolutePath());
    store = deeptune::ProjectStore::create(info.absoluteFilePath().toStdString(),
                                           info.completeBaseName().toStdString());
    if (withSample) deeptune::add_sample_content(*store);
  } catch (const std::exception& e) {
    // A half-made file would later open as a project without its sample: remove it.
    store.reset();
    if (QFileInfo::exists(info.absoluteFilePath())) QFile::remove(info.absoluteFilePath());
    return {tr("Could not create the project"), QString::fromStdString(e.what())};
  }
  adopt(std::move(store));
  return {};
}

void ProjectSession::adopt(std::unique_ptr<deeptune::ProjectStore> store) {
  if (m_store) close();
  m_store = std::move(store);
  m_datasets = m_store->datasets();
  m_runs = m_store->runs();
  if (m_poll.interval() > 0) m_poll.start();
  Q_EMIT opened(path());
  Q_EMIT datasetsChanged();
  Q_EMIT runsChanged();
  Q_EMIT presetsChanged();
}

void ProjectSession::close() {
  if (!m_store) return;
  m_poll.stop();
  m_store.reset();
  m_datasets.clear();
  m_runs.clear();
  Q_EMIT closed();
}

QString ProjectSession::path() const {
  return m_store ? QString::fromStdString(m_store->path()) : QString();
}

QString ProjectSession::displayName() const {
  return m_store ? QString::fromStdString(m_store->info().name) : QString();
}

QString ProjectSession::datasetFile(const deeptune::DatasetRecord& dataset) const {
  return m_store ? QString::fromStdString(m_store->resolve(dataset.path)) : QString();
}

std::map<std::string, std::string> ProjectSession::presets() const {
  if (!m_store) return {};
  try {
    return m_store->presets();
  } catch (const std::exception& e) {
    qWarning("DeepTune: reading the project's presets failed: %s", e.what());
    return {};
  }
}

UserMessage ProjectSession::savePreset(const QString& name, const std::string& json) {
  if (!m_store) return {tr("The preset was not saved"), tr("No project is open.")};
  try {
    m_store->save_preset(name.toStdString(), json);
  } catch (const std::exception& e) {
    return {tr("The preset was not saved"), QString::fromStdString(e.what())};
  }
  Q_EMIT presetsChanged();
  return {};
}

UserMessage ProjectSession::renameRun(qint64 id, const QString& name) {
  if (!m_store) return {tr("The run was not renamed"), tr("No project is open.")};
  try {
    m_store->rename_run(id, name.toStdString());
  } catch (const std::exception& e) {
    return {tr("The run was not renamed"), QString::fromStdString(e.what())};
  }
  return {};
}

std::optional<deeptune::RunRecord> ProjectSession::run(qint64 id) const {
  for (const auto& r : m_runs)
    if (r.id == id) return r;
  return std::nullopt;
}

void ProjectSession::reloadDatasets() {
  if (!m_store) return;
  m_datasets = m_store->datasets();
  Q_EMIT datasetsChanged();
}

void ProjectSession::reloadRuns() {
  if (!m_store) return;
  m_runs = m_store->runs();
  Q_EMIT runsChanged();
}

void ProjectSession::setPollInterval(int ms) {
  if (ms <= 0) {
    m_poll.stop();
    m_poll.setInterval(0);
    return;
  }
  m_poll.setInterval(ms);
  if (m_store) m_poll.start();
}

void ProjectSession::poll() {
  if (!m_store) return;
  try {
    auto runs = m_store->runs();
    if (!sameRuns(runs, m_runs)) {
      m_runs = std::move(runs);
      Q_EMIT runsChanged();
    }
  } catch (const std::exception& e) {
    // A busy or briefly locked file: the next poll tries again.
    qWarning("DeepTune: reading the project's runs failed (retrying): %s", e.what());
  }
}
