// The run config being prepared in the Data, Model & LoRA and Hyperparameters pages: one JSON
// document (the same RunConfig JSON deeptune-cli reads) that every page edits by dotted key.
#pragma once

#include <QObject>
#include <QString>
#include <QStringList>
#include <nlohmann/json.hpp>

#include "deeptune/config.h"

class ConfigDraft : public QObject {
  Q_OBJECT
 public:
  explicit ConfigDraft(QObject* parent = nullptr);

  // The engine's description of a key (type, ranges, choices); nullptr for an unknown key.
  static const deeptune::ConfigKeyInfo* keyInfo(const QString& key);

  const nlohmann::json& document() const { return m_doc; }
  // Replaces the whole document (a preset, a duplicated run); missing keys take defaults.
  void setDocument(const nlohmann::json& doc);
  void resetToDefaults();
  // Puts the training keys (seed, device, train.*, validation share, maximum length) back to their
  // defaults and keeps what the other pages chose: dataset, model, LoRA, training mode.
  void resetTrainingKeys();

  nlohmann::json value(const QString& key) const;  // null when absent
  void setValue(const QString& key, const nlohmann::json& value);

  // Validates the document as a RunConfig. Returns "" when valid, else the engine's message
  // naming the key.
  QString validationError() const;
  // Keys outside the hard range (invalid) or outside the recommended range (advisory).
  QStringList invalidKeys() const;
  QStringList advisoryKeys() const;
  QStringList advisories() const;  // the engine's advisory sentences

 Q_SIGNALS:
  void valueChanged(const QString& key);
  void documentReplaced();

 private:
  nlohmann::json m_doc;
};
