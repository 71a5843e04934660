// The open project as the UI thread sees it: its own ProjectStore connection (the training worker
// has another), change notifications for the pages, and a poll that notices runs written by
// another process (deeptune-cli) so their curves show up live.
#pragma once

#include <QObject>
#include <QString>
#include <QTimer>
#include <memory>
#include <vector>

#include "deeptune/store.h"

// A message for the user: a translated headline and the engine's detail below it.
struct UserMessage {
  QString headline;
  QString detail;
  bool isEmpty() const { return headline.isEmpty(); }
};

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
  deeptune::ProjectStore* store() const { return m_store.get(); }

  // Cached lists, refreshed on change.
  const std::vector<deeptune::DatasetRecord>& datasets() const { return m_datasets; }
  const std::vector<deeptune::RunRecord>& runs() const { return m_runs; }
  std::optional<deeptune::RunRecord> run(qint64 id) const;

  // Re-reads from the file and emits what changed.
  void reloadDatasets();
  void reloadRuns();
  void reloadPresets();

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
