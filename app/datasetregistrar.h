// Registers dataset files in the open project in the background: read, map, split, statistics,
// hash (the engine's register_dataset), then the session's list is reloaded.
#pragma once

#include <optional>

#include "deeptune/data.h"
#include "projectservice.h"

class DatasetRegistrar : public ProjectService {
  Q_OBJECT
 public:
  explicit DatasetRegistrar(ProjectSession* session, QObject* parent = nullptr);

  // Returns false (and does nothing) when no project is open or a registration is running.
  // Format and mapping default to what the engine detects and guesses.
  bool add(const QString& path, const QString& name,
           std::optional<deeptune::DataFormat> format = std::nullopt,
           std::optional<deeptune::FieldMapping> mapping = std::nullopt);

 Q_SIGNALS:
  void added(const QString& name);  // the session's datasets already include it
  void addFailed(const UserMessage& message);
};
