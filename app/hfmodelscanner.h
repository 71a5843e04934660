// Hugging Face models on this computer, described in the background: the hub cache's listing
// (engine's cached_hf_models) and one folder the user opens (inspect_hf_model). Both read only
// config.json and the tensor headers, but a cache of many sharded checkpoints still takes a
// moment on a cold disk, so the UI thread never waits for it.
#pragma once

#include <QList>
#include <QString>

#include "deeptune/hf_models.h"
#include "projectservice.h"

class HfModelScanner : public ProjectService {
  Q_OBJECT
 public:
  // `session` may be null: the listing does not need a project.
  explicit HfModelScanner(ProjectSession* session = nullptr, QObject* parent = nullptr);

  // The cache deeptune::hf_hub_dir() names now (the environment is read on each call).
  static QString hubDir();

  // Lists the cache; cacheScanned follows (cacheScanFailed when the listing as a whole fails; a
  // folder that cannot be read is an entry with its problem). Asked again while one lists, the
  // listing runs once more afterwards (the cache may have changed meanwhile) and only that one is
  // reported.
  void scanCache();
  // Describes `folder`; folderInspected follows (a model, possibly with its problem), or
  // folderRefused when it is not a model folder at all.
  void inspectFolder(const QString& folder);

 Q_SIGNALS:
  void cacheScanned(const QString& hubDir, const QList<deeptune::HfModelInfo>& models);
  void cacheScanFailed(const QString& hubDir, const UserMessage& message);
  void folderInspected(const deeptune::HfModelInfo& model);
  void folderRefused(const QString& folder, const UserMessage& message);

 private:
  bool m_scanning = false;
  bool m_rescan = false;
};

Q_DECLARE_METATYPE(deeptune::HfModelInfo)
