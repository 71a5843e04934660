// The run config being prepared in the Data, Model & LoRA and Hyperparameters pages: one JSON
// document (the same RunConfig JSON deeptune-cli reads) that every page edits by dotted key.
#pragma once

#include <QObject>
#include <QString>
#include <QStringList>
#include <nlohmann/json.hpp>

class ConfigDraft : public QObject {
  Q_OBJECT
 public:
  explicit ConfigDraft(QObject* parent = nullptr);

  const nlohmann::json& document() const { return m_doc; }
  // Replaces the whole document (a preset, a duplicated run); missing keys take defaults.
  void setDocument(const nlohmann::json& doc);
  void resetToDefaults();

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
