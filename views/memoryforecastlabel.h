// One line that says what a config's training step will hold in memory at its peak, on which
// device, and whether that fits what is free there — green, amber or red — with the breakdown per
// category in its tooltip. The Hyperparameters and Model & LoRA pages show it; the sentences are
// also those of the question asked before starting (or resuming) a run that will not fit. With
// gradient checkpointing on, the line also says what it saves; off, on a config that is tight or
// will not fit, what full checkpointing would need when that changes the verdict.
#pragma once

#include <QLabel>

#include "deeptune/session.h"
#include "memoryforecaster.h"

class MemoryForecastLabel : public QLabel {
  Q_OBJECT
 public:
  explicit MemoryForecastLabel(QWidget* parent = nullptr);

  // `autoMicroBatch`: the config asks for train.micro_batch_size = auto; the line then names the
  // micro-batch auto will pick (the forecast's own, resolved by the engine).
  void setForecast(const MemoryForecastPair& forecast, bool autoMicroBatch);
  void setPending();                           // a newer forecast is being computed
  void setUnavailable(const QString& reason);  // no forecast: why (an invalid config, an error)

  bool hasForecast() const { return m_has; }
  const deeptune::MemoryForecast& forecast() const { return m_forecast.forecast; }
  const MemoryForecastPair& forecastPair() const { return m_forecast; }
  // The line without markup, as a user reads it.
  QString plainText() const { return m_plain; }

  static QString verdictText(deeptune::MemoryFit fit);
  // "Memory: 18.2 GiB of 139.8 GiB free on cuda:0 (NVIDIA H200) — fits; largest micro-batch that
  // fits: 16", then what gradient checkpointing saves (or would need).
  static QString describe(const deeptune::MemoryForecast& forecast, bool autoMicroBatch);
  static QString describe(const MemoryForecastPair& forecast, bool autoMicroBatch);
  // "; gradient checkpointing (selective) saves 96 MiB", "; full gradient checkpointing would
  // need 1.2 GiB (fits)", or empty.
  static QString checkpointingText(const MemoryForecastPair& forecast);
  // What to change when it does not fit, one suggestion a line.
  static QString suggestions(const MemoryForecastPair& forecast);
  // The question before starting (or resuming) a run the forecast says will not fit: what it
  // needs, what is free, what to change. True: start anyway. A modal box (object name
  // "memoryQuestion"); tests answer it like a user.
  static bool askToStartAnyway(QWidget* parent, const MemoryForecastPair& forecast,
                               bool resuming = false);
  // Per category, for tooltips and the question's details.
  static QString breakdown(const deeptune::MemoryForecast& forecast);

 private:
  MemoryForecastPair m_forecast;
  bool m_has = false;
  QString m_plain;
};
