// Hyperparameters page: every training key of the run config, grouped, each with its hard range
// and the recommended range from the seed's table; values outside either are marked as they are
// typed, before a run starts. Named presets are saved in the project file.
#pragma once

#include <QMap>
#include <QWidget>

#include "workbenchcontext.h"

class QComboBox;
class QLabel;
class MessageBanner;

class HyperparametersPage : public QWidget {
  Q_OBJECT
 public:
  explicit HyperparametersPage(const WorkbenchContext& context, QWidget* parent = nullptr);

  // Sets a key through its editor, as typing would (tests, presets).
  bool setEditorText(const QString& key, const QString& text);
  QStringList keys() const { return m_editors.keys(); }
  QStringList markedInvalid() const { return m_invalid; }
  QStringList markedAdvisory() const { return m_advisory; }
  bool savePreset(const QString& name);
  bool loadPreset(const QString& name);

 Q_SIGNALS:
  void presetSaved(const QString& name);

 private:
  void build();
  void loadFromDraft();
  void updateMarks();
  void refreshPresets();
  void commit(const QString& key, const QString& text);

  WorkbenchContext m_context;
  QMap<QString, QWidget*> m_editors;
  QMap<QString, QLabel*> m_marks;
  QStringList m_invalid, m_advisory;
  QComboBox* m_presets;
  MessageBanner* m_banner;
  bool m_loading = false;
};
