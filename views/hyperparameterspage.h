// Hyperparameters page: every training key of the run config and the attention probes, grouped,
// each with its hard range and the recommended range from the seed's table; values outside either
// are marked as they are typed, before a run starts. Named presets are saved in the project file.
// A line above the keys forecasts the training step's memory on the device as the config is
// edited.
#pragma once

#include <QMap>
#include <QSet>
#include <QTimer>
#include <QWidget>

#include "workbenchcontext.h"

class QComboBox;
class QLabel;
class MessageBanner;
class MemoryForecaster;
class MemoryForecastLabel;

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
  MemoryForecastLabel* forecastLabel() const { return m_forecastLabel; }

  // The pause between the last edit and the forecast it asks for.
  static constexpr int kForecastDelayMs = 300;

 Q_SIGNALS:
  void presetSaved(const QString& name);
  // The forecast line shows the forecast (or why there is none) for the config as it is now.
  void forecastUpdated();

 protected:
  void showEvent(QShowEvent* event) override;

 private:
  void build();
  void loadFromDraft();
  void updateMarks();
  void refreshPresets();
  void commit(const QString& key, const QString& text);
  void scheduleForecast();
  void requestForecast();

  WorkbenchContext m_context;
  QMap<QString, QWidget*> m_editors;
  QMap<QString, QLabel*> m_marks;
  QSet<QString> m_linePerItem;  // list keys edited one item per line
  QStringList m_invalid, m_advisory;
  QComboBox* m_presets;
  MessageBanner* m_banner;
  MemoryForecastLabel* m_forecastLabel;
  MemoryForecaster* m_forecaster;
  QTimer m_forecastDelay;
  quint64 m_forecastTicket = 0;
  bool m_forecastStale = true;  // the draft changed since the last forecast was asked for
  bool m_loading = false;
};
