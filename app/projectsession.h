// The open project as the UI thread sees it: its own ProjectStore connection (the training worker
// and every background job have others), change notifications for the pages, and a poll that
// notices runs written by another process (deeptune-cli) so their curves show up live. Only short
// reads and writes go through this connection (lists, a rename, a preset); long work goes through
// the services of projectjob.h. Pages never see the connection itself.
#pragma once

#include <QObject>
#include <QString>
#include <QTimer>
#include <memory>
#include <vector>

#include "deeptune/store.h"
#include "usermessage.h"

class ProjectSession : public QObject {
  Q_OBJECT
 public:
  explicit ProjectSession(QObject* parent = nullptr);
  ~ProjectSession() override;

  // Each returns an empty message on success. A failed open or create leaves the current project
  // open and the file on disk untouched.
  UserMessage open(const QString& path);
  UserMessage create(const QString& path, bool withSample);
  void close();

  bool isOpen() const { return m_store != nullptr; }
  QString path() const;         // absolute path of the project file, "" when closed
  QString displayName() const;  // project name, "" when closed
  // A dataset's file as an absolute path (datasets inside the project's folder are stored
  // relative).
  QString datasetFile(const deeptune::DatasetRecord& dataset) const;

  // Cached lists, refreshed on change.
  const std::vector<deeptune::DatasetRecord>& datasets() const { return m_datasets; }
  const std::vector<deeptune::RunRecord>& runs() const { return m_runs; }
  std::optional<deeptune::RunRecord> run(qint64 id) const;

  // Named hyperparameter presets (RunConfig JSON documents) saved in the project.
  std::map<std::string, std::string> presets() const;
  UserMessage savePreset(const QString& name, const std::string& json);  // presetsChanged follows
  // Renames a run; refused (with the engine's reason) when the name is taken or empty.
  UserMessage renameRun(qint64 id, const QString& name);

  // Re-reads from the file and emits what changed.
  void reloadDatasets();
  void reloadRuns();

  // How often the file is polled for changes made by other connections (ms); 0 stops polling.
  void setPollInterval(int ms);

 Q_SIGNALS:
  void opened(const QString& path);
  void closed();
  void datasetsChanged();
  void runsChanged();
  void presetsChanged();

 private:
  void poll();
  void adopt(std::unique_ptr<deeptune::ProjectStore> store);

  std::unique_ptr<deeptune::ProjectStore> m_store;
  std::vector<deeptune::DatasetRecord> m_datasets;
  std::vector<deeptune::RunRecord> m_runs;
  QTimer m_poll;
};
