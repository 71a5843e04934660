// Dotted-key access into the draft, and validation through the engine's RunConfig.
#include "configdraft.h"

#include "deeptune/error.h"

namespace {

// "train.lr" -> "/train/lr"
nlohmann::json::json_pointer toPointer(const QString& key) {
  QString p = key;
  p.replace(QLatin1Char('.'), QLatin1Char('/'));
  return nlohmann::json::json_pointer("/" + p.toStdString());
}

}  // namespace

ConfigDraft::ConfigDraft(QObject* parent) : QObject(parent) {
  resetToDefaults();
}

void ConfigDraft::setDocument(const nlohmann::json& doc) {
  // Merge onto the defaults so every key exists for the forms.
  nlohmann::json merged = deeptune::RunConfig{}.to_json();
  if (doc.is_object()) merged.merge_patch(doc);
  m_doc = merged;
  Q_EMIT documentReplaced();
}

void ConfigDraft::resetToDefaults() {
  m_doc = deeptune::RunConfig{}.to_json();
  Q_EMIT documentReplaced();
}

const deeptune::ConfigKeyInfo* ConfigDraft::keyInfo(const QString& key) {
  for (const auto& k : deeptune::config_schema())
    if (QString::fromStdString(k.key) == key) return &k;
  return nullptr;
}

void ConfigDraft::resetTrainingKeys() {
  nlohmann::json doc = m_doc;
  const nlohmann::json defaults = deeptune::RunConfig{}.to_json();
  doc["seed"] = defaults["seed"];
  doc["device"] = defaults["device"];
  doc["train"] = defaults["train"];
  doc["train"]["mode"] = m_doc["train"]["mode"];
  doc["data"]["val_fraction"] = defaults["data"]["val_fraction"];
  doc["data"]["max_length"] = defaults["data"]["max_length"];
  setDocument(doc);
}

nlohmann::json ConfigDraft::value(const QString& key) const {
  const auto ptr = toPointer(key);
  return m_doc.contains(ptr) ? m_doc.at(ptr) : nlohmann::json();
}

void ConfigDraft::setValue(const QString& key, const nlohmann::json& value) {
  const auto ptr = toPointer(key);
  if (m_doc.contains(ptr) && m_doc.at(ptr) == value) return;
  m_doc[ptr] = value;
  Q_EMIT valueChanged(key);
}

QString ConfigDraft::validationError() const {
  try {
    deeptune::RunConfig::from_json(m_doc);
    return {};
  } catch (const std::exception& e) {
    return QString::fromStdString(e.what());
  }
}

QStringList ConfigDraft::invalidKeys() const {
  // The engine names the key at fault; put that key back to its default and validate again, so
  // every bad value is marked — cross-field ones too (batch vs micro-batch) — not only the first.
  QStringList keys;
  nlohmann::json probe = m_doc;
  const nlohmann::json defaults = deeptune::RunConfig{}.to_json();
  for (size_t attempt = 0; attempt < deeptune::config_schema().size(); ++attempt) {
    try {
      deeptune::RunConfig::from_json(probe);
      break;
    } catch (const deeptune::InputError& e) {
      const QString key = QString::fromStdString(e.where());
      const auto ptr = toPointer(key);
      if (key.isEmpty() || keys.contains(key) || !defaults.contains(ptr)) break;
      keys << key;
      probe[ptr] = defaults.at(ptr);
    } catch (const std::exception&) {
      break;
    }
  }
  return keys;
}

QStringList ConfigDraft::advisoryKeys() const {
  QStringList keys;
  for (const auto& k : deeptune::config_schema()) {
    if (!k.recommended_min && !k.recommended_max) continue;
    const auto ptr = toPointer(QString::fromStdString(k.key));
    if (!m_doc.contains(ptr) || !m_doc.at(ptr).is_number()) continue;
    const double v = m_doc.at(ptr).get<double>();
    if ((k.recommended_min && v < *k.recommended_min) ||
        (k.recommended_max && v > *k.recommended_max))
      keys << QString::fromStdString(k.key);
  }
  return keys;
}

QStringList ConfigDraft::advisories() const {
  QStringList out;
  try {
    for (const auto& a : deeptune::RunConfig::from_json(m_doc).advisories())
      out << QString::fromStdString(a);
  } catch (const std::exception&) {
  }
  return out;
}
