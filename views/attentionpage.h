// Attention page: the attention maps a run recorded for its probes, step by step. A run, a probe
// and a step (slider, Play animates it) choose what shows: one head's map, the mean of a layer's
// heads, the difference between two steps, or the adapter's effect (the probe through one
// checkpoint with the adapters on minus off), as a large heatmap over the probe's tokens; a
// layers x heads grid of thumbnails on one shared colour scale; each head's statistics at the
// step; and every head's entropy over training. Live for the run this window trains; reads and
// unpacking run in the background.
#pragma once

#include <QHash>
#include <QList>
#include <QMap>
#include <QSet>
#include <QWidget>

#include "attentionreader.h"
#include "workbenchcontext.h"

class HeatmapPlot;
class QComboBox;
class QLabel;
class QPushButton;
class QSlider;
class QSpinBox;
class QTableWidget;
class QTimer;

class AttentionPage : public QWidget {
  Q_OBJECT
 public:
  enum View { kOneHead, kHeadMean, kDifference, kAdapter };

  explicit AttentionPage(const WorkbenchContext& context, QWidget* parent = nullptr);

  // Shows a run's attention (read in the background: indexShown, then stepShown, follow).
  void showRun(qint64 runId, int probe = -1);
  qint64 displayedRunId() const { return m_index.runId; }
  int displayedProbe() const { return m_index.probe; }
  const QList<qint64>& steps() const { return m_index.steps; }
  qint64 currentStep() const;
  // The step whose map is drawn (after its read): -1 before any.
  qint64 shownStep() const { return m_shownStep; }
  int layer() const;
  int head() const;
  View view() const;
  void setView(View view);
  void selectHead(int layer, int head);
  void setComparedStep(qint64 step);
  // What the page says instead of (or above) the maps: no runs, a bad map; "" when all is well.
  QString message() const;

  QComboBox* runChooser() const { return m_runBox; }
  QComboBox* probeChooser() const { return m_probeBox; }
  QSlider* stepSlider() const { return m_slider; }
  QPushButton* playButton() const { return m_play; }
  HeatmapPlot* heatmap() const { return m_heatmap; }
  // The line above the heatmap: step, layer, head, and pooling or thinned labels when so.
  QString heatmapNote() const;
  QTableWidget* headGrid() const { return m_grid; }
  // The top of the colour range every thumbnail of the grid is drawn on (the bottom is 0).
  float thumbnailRange() const { return m_thumbnailRange; }
  // The adapter view's maps (tuned: adapters on) once computed; nullptr before.
  const AttentionStep* adapterStep(bool tuned) const;
  QTableWidget* statsTable() const { return m_stats; }
  HeatmapPlot* entropyPlot() const { return m_entropy; }

 Q_SIGNALS:
  void runsListed();              // the run chooser was filled
  void indexShown(qint64 runId);  // the probe's steps and statistics are in
  void stepShown(qint64 step);    // the maps of the step are drawn (or its error shown)
  // The adapter view drew the maps of the checkpoint at `step` (or, step -1, says why it cannot).
  void adapterShown(qint64 step);

 private:
  void listRuns();
  void onRunsListed(quint64 ticket, const QList<qint64>& runIds);
  void onIndex(quint64 ticket, const AttentionIndex& index);
  void onSteps(quint64 ticket, const QList<AttentionStep>& steps);
  void onAdapter(quint64 ticket, const AttentionStep& tuned, const AttentionStep& base);
  void requestAdapter();
  // Whether the cache holds `step` with the maps of `layer`; asks for what it lacks when not.
  bool ensureRead(qint64 step, int layer);
  void prefetchNeighbours();
  void trimCache();
  void onSnapshot(qint64 runId, const deeptune::AttentionSnapshot& snapshot);
  void unpackLive();             // the live run's buffered snapshots the index lacks
  void requestIndex(int probe);  // of the displayed run, keeping what is cached
  void requestShown();           // reads the steps the view needs unless cached, then redraws
  void redraw();
  void drawHeatmap(const AttentionStep& step, const AttentionStep* compared);
  void drawGrid(const AttentionStep& step);
  void drawStats(const AttentionStep& step);
  void drawEntropy();
  void updateStepControls();
  void setMessage(const QString& text);
  QStringList tokenLabels(int size) const;

  WorkbenchContext m_context;
  AttentionReader* m_reader;
  quint64 m_runsTicket = 0, m_indexTicket = 0;
  // Reads of the displayed probe in flight (shown or prefetched), by ticket: a step whole (its
  // thumbnails and the maps of `layer`) or one more layer of a step in the cache.
  struct Read {
    qint64 step = -1;
    int layer = -1;
    bool whole = true;
  };
  QHash<quint64, Read> m_reads;
  QList<quint64> m_liveTickets;
  QList<deeptune::AttentionSnapshot> m_liveSnapshots;  // of m_liveRunId, not yet in the index
  QSet<qint64> m_unpacking;                            // live steps being unpacked
  bool m_indexPending = false;
  AttentionIndex m_index;
  QMap<qint64, AttentionStep> m_cache;  // step -> unpacked maps of the displayed probe
  qint64 m_shownStep = -1;
  // What the grid and the statistics show (run, probe, step): a new head of the same step only
  // moves their selection instead of drawing 2 x layers x heads cells again.
  struct Shown {
    qint64 runId = 0;
    int probe = -1;
    qint64 step = -1;
    bool operator==(const Shown& o) const {
      return runId == o.runId && probe == o.probe && step == o.step;
    }
  };
  Shown m_gridShown, m_statsShown;
  float m_thumbnailRange = 0;
  // The adapter view: the last comparisons computed, by (run, probe, step asked for).
  struct AdapterMaps {
    AttentionStep tuned, base;
  };
  QList<QPair<Shown, AdapterMaps>> m_adapters;  // newest last
  Shown m_adapterPending;                       // asked for, not answered yet
  quint64 m_adapterTicket = 0;
  QString m_adapterError;  // of m_adapterPending's request; "" when none
  qint64 m_liveRunId = 0;
  bool m_updating = false;

  QComboBox* m_runBox;
  QComboBox* m_probeBox;
  QComboBox* m_viewBox;
  QComboBox* m_compareBox;
  QSpinBox* m_layerBox;
  QSpinBox* m_headBox;
  QSlider* m_slider;
  QLabel* m_stepLabel;
  QPushButton* m_play;
  QTimer* m_playTimer;
  QTimer* m_prefetchTimer;  // prefetches once the user pauses (see prefetchNeighbours)
  QLabel* m_message;
  QLabel* m_note;
  HeatmapPlot* m_heatmap;
  QTableWidget* m_grid;
  QTableWidget* m_stats;
  HeatmapPlot* m_entropy;
};
