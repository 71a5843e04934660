// Memory page: where a run's memory goes, step by step — a stacked timeline of the categories the
// trainer counts (frozen weights, adapters, gradients, optimizer state, activations at the step's
// peak; on CUDA also the allocator's cache and what lies outside LibTorch, on the CPU the rest of
// the process), the peak marked, a per-step peak curve,
// the latest breakdown as a bar with numbers, a second run's curve to compare, the forecast of the
// run's config as a dashed line, and the steps where an out-of-memory error halved the
// micro-batch. Live for the run this window trains (and one another process trains, as it
// records), and for any stored run of the project.
#pragma once

#include <QMap>
#include <QPointF>
#include <QVector>
#include <QWidget>

#include "metatypes.h"
#include "runhistoryreader.h"
#include "workbenchcontext.h"

class MemoryBar;
class MemoryForecaster;
class MemoryTimeline;
class QCheckBox;
class QComboBox;
class QLabel;
class QStackedWidget;

class MemoryPage : public QWidget {
  Q_OBJECT
 public:
  explicit MemoryPage(const WorkbenchContext& context, QWidget* parent = nullptr);

  // Shows a recorded run (read in the background: historyShown follows); 0 shows nothing.
  void showRun(qint64 runId);
  qint64 displayedRunId() const { return m_runId; }
  // Overlays the per-step peak of another run; 0 removes it (comparisonShown follows a read).
  void compareWith(qint64 runId);
  qint64 comparedRunId() const { return m_compareId; }

  // The forecast of the peak, drawn as a dashed line beside the measurement; <= 0 removes it.
  // Showing a run forecasts its config in the background and sets it (forecastShown follows).
  void setForecast(qint64 peakBytes);
  qint64 forecast() const { return m_forecast; }
  // The forecast line's name: with the displayed run's gradient checkpointing when it is on.
  QString forecastName() const;
  // Steps where an out-of-memory error made the run retry with a smaller micro-batch: step ->
  // the micro-batch it went on with. Marked on the timeline.
  const QMap<qint64, qint64>& outOfMemorySteps() const { return m_outOfMemory; }

  // The sentence shown instead of the plots (no project, no runs, a run without samples); empty
  // while the plots show.
  QString emptyText() const;
  bool isCuda() const { return m_cuda; }
  // CPU samples that carry the step's counted peak: activations are a layer of their own.
  bool hasCpuPeak() const { return m_cpuPeak; }
  int sampleCount() const { return m_samples.size(); }
  MemoryTimeline* timeline() const { return m_timeline; }
  MemoryBar* bar() const { return m_bar; }
  QComboBox* runChooser() const { return m_runBox; }
  QComboBox* compareChooser() const { return m_compareBox; }
  // Draws only the categories the trainer counts (no rest of the process or device, no curves
  // of totals), so that small categories are not flattened by a large remainder.
  void setCountedOnly(bool on);
  bool countedOnly() const { return m_countedOnly; }

  // Line ids of the timeline (the layers depend on the device: see the .cpp).
  enum Line { kPeakLine, kCompareLine, kAllocatedLine, kReservedLine };

 Q_SIGNALS:
  void historyShown(qint64 runId);     // the run's recorded samples were added
  void comparisonShown(qint64 runId);  // the compared run's curve is drawn
  void forecastShown(qint64 runId);    // the run's forecast is drawn (or failed: none drawn)

 private:
  void onRunsChanged();
  void onSteps(qint64 runId, const QList<deeptune::StepMetrics>& steps);
  void onHistory(quint64 ticket, const QList<RunHistory>& histories);
  void readHistory(qint64 afterStep);
  void fillRunBoxes();
  void setMode(bool cuda, bool cpuPeak);
  int layerCount() const;  // categories drawn
  void rebuild();
  void appendToTimeline(const QList<qint64>& steps);
  void updateBar();
  QString compareName() const;
  void restoreComparison();
  void updateState();
  void requestForecast();
  void updateMarkers();
  bool isLive(qint64 runId) const;

  WorkbenchContext m_context;
  qint64 m_runId = 0;
  qint64 m_compareId = 0;
  qint64 m_forecast = 0;
  qint64 m_liveFrom = -1;  // first step this window's worker delivered for the run (-1: none)
  QVector<QPointF> m_comparePoints;                // the compared run's per-step peak
  QMap<qint64, deeptune::MemorySample> m_samples;  // step -> sample of the displayed run
  QMap<qint64, qint64> m_outOfMemory;              // step -> micro-batch after the retry
  MemoryForecaster* m_forecaster;
  quint64 m_forecastTicket = 0;
  bool m_cuda = false;
  bool m_cpuPeak = false;  // CPU samples with peak_allocated (recorded since the trainer counts it)
  QString m_checkpointing;  // the displayed run's train.gradient_checkpointing
  bool m_countedOnly = false;
  bool m_modeSet = false;
  bool m_read = false;  // the displayed run's history has been read once
  bool m_reading = false;
  RunHistoryReader* m_history;
  quint64 m_historyTicket = 0;
  quint64 m_compareTicket = 0;
  QString m_runsKey;  // the runs listed in the choosers (ids and names)

  QComboBox* m_runBox;
  QComboBox* m_compareBox;
  QCheckBox* m_countedBox;
  QLabel* m_device;
  QStackedWidget* m_views;
  QLabel* m_empty;
  MemoryTimeline* m_timeline;
  MemoryBar* m_bar;
};
