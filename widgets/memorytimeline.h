// MemoryTimeline: bytes over steps as stacked areas (one layer per category, bottom to top) with
// free lines over them (a per-step peak, a second run's curve), the stack's highest step marked,
// an optional dashed horizontal reference (a forecast), and markers at single steps (an event, its
// sentence in the step's tooltip). Knows nothing about training: callers
// hand it numbers of bytes per step. Replots are coalesced to ~30 Hz and skipped while hidden.
#pragma once

#include <QColor>
#include <QList>
#include <QPointF>
#include <QString>
#include <QTimer>
#include <QVector>
#include <QWidget>

class QCustomPlot;
class QCPGraph;
class QCPItemStraightLine;
class QCPItemText;
class QCPAbstractItem;

class MemoryTimeline : public QWidget {
  Q_OBJECT
 public:
  struct Layer {
    QString name;
    QColor color;
  };
  struct Line {
    QString name;
    QColor color;
    Qt::PenStyle style = Qt::SolidLine;
  };
  struct Marker {
    double step;
    QString label;  // short, drawn at the top of the plot
    QString text;   // the sentence shown in the step's tooltip
  };

  explicit MemoryTimeline(QWidget* parent = nullptr);
  ~MemoryTimeline() override;

  void setYAxisLabel(const QString& label);
  // Replaces the layers and lines (and drops every point). Line ids are their indexes in `lines`.
  void setSeries(const QList<Layer>& layers, const QList<Line>& lines);
  // Appends steps: `x` ascending and after the steps already held; layers[l][i] is layer l's own
  // size (not cumulative) at x[i]. Missing values count as 0.
  void appendSteps(const QVector<double>& x, const QVector<QVector<double>>& layers);
  void setLineName(int line, const QString& name);
  void appendLinePoints(int line, const QVector<QPointF>& points);
  void setLinePoints(int line, const QVector<QPointF>& points);
  void clearPoints();  // keeps layers and lines

  // A dashed horizontal line at `bytes` labelled `label`; bytes <= 0 removes it.
  void setReference(double bytes, const QString& label);
  double reference() const { return m_reference; }
  QString referenceLabel() const { return m_referenceLabel; }

  // Vertical marks at single steps; replaces those set before (clearPoints keeps them).
  void setMarkers(const QList<Marker>& markers);
  const QList<Marker>& markers() const { return m_markers; }
  // The tooltip's text for the step nearest `step` (HTML), as hovering shows it.
  QString stepToolTip(double step) const;

  int layerCount() const { return m_layers.size(); }
  int lineCount() const { return m_lines.size(); }
  int stepCount() const { return m_x.size(); }
  int linePointCount(int line) const;
  QString lineName(int line) const {
    return line >= 0 && line < m_lines.size() ? m_lines[line].name : QString();
  }
  double layerValue(int layer, int index) const;  // layer's own size at step index
  // The step whose stack is highest, and that height; (-1, 0) without steps.
  double peakStep() const { return m_peakX; }
  double peakBytes() const { return m_peakTotal; }
  bool referenceVisible() const;  // drawn (set and inside the plot), as of the last replot
  int replotCount() const { return m_replotCount; }
  QCustomPlot* canvas() const { return m_plot; }  // for grabbing and tests

 protected:
  void showEvent(QShowEvent* event) override;
  void changeEvent(QEvent* event) override;

 private:
  void scheduleReplot();
  void replotNow();
  void rescale();
  void restyle();
  void updatePeakMarker();
  void showStepToolTip(const QPoint& pos);
  int nearestIndex(double step) const;

  QCustomPlot* m_plot;
  QList<Layer> m_layers;
  QList<Line> m_lines;
  QList<QCPGraph*> m_layerGraphs;  // cumulative values: graph l = layers 0..l summed
  QList<QCPGraph*> m_lineGraphs;
  QVector<double> m_x;
  QVector<QVector<double>> m_values;  // [layer][step], own sizes
  QVector<double> m_running;          // the stack's top per step
  double m_peakX = -1.0, m_peakTotal = 0.0;
  double m_reference = 0.0;
  QString m_referenceLabel;
  QList<Marker> m_markers;
  QList<QCPAbstractItem*> m_markerItems;
  QCPItemStraightLine* m_peakLine;
  QCPItemText* m_peakText;
  QCPItemStraightLine* m_referenceLine;
  QCPItemText* m_referenceText;
  QTimer m_replotTimer;
  bool m_dirty = false;
  bool m_autoRange = true;  // off once the user drags or zooms; a double-click turns it back on
  int m_replotCount = 0;
};
