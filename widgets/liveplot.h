// LivePlot: a line plot fed in batches while a job runs (loss, learning rate, throughput).
// Replots are coalesced to at most ~30 Hz and never happen while the widget is hidden.
#pragma once

#include <QColor>
#include <QPair>
#include <QPointF>
#include <QString>
#include <QTimer>
#include <QVector>
#include <QWidget>

class QCheckBox;
class QCPGraph;
class QCustomPlot;
class QLabel;

// Header row (title, "Follow latest") over a QCustomPlot. Callers hand over batches of points;
// the plot only marks itself dirty and redraws from a single-shot timer, so feeding it from a
// signal per training step costs next to nothing. Dragging or wheel-zooming turns follow-latest
// off; a double-click rescales to all data and turns it back on.
//
// Series ids are 0, 1, ... in addSeries order (clearSeries starts again at 0); unknown ids are
// ignored. Points with a NaN or infinite coordinate are dropped on arrival. On a log y axis the
// axis range is taken from the positive values only (log of <= 0 does not exist); such points
// stay in the data and are drawn below the axis floor.
class LivePlot : public QWidget {
  Q_OBJECT
 public:
  explicit LivePlot(QWidget* parent = nullptr);
  ~LivePlot() override;

  void setTitle(const QString& title);
  void setAxisLabels(const QString& x, const QString& y);
  void setLogScaleY(bool on);
  bool logScaleY() const { return m_logScaleY; }

  int addSeries(const QString& name, const QColor& color, bool markers = false);
  void setSeriesName(int series, const QString& name);
  // Batch append; x is expected ascending (an out-of-order batch is still merged correctly, just
  // slower). Schedules a replot.
  void appendPoints(int series, const QVector<QPointF>& points);
  // Replaces the series' data (same filtering as appendPoints).
  void setPoints(int series, const QVector<QPointF>& points);
  void clearPoints();  // keeps the series, drops their points
  // Drops every series' points with x > `x` (a resumed run records the steps after its checkpoint
  // again).
  void removePointsAfter(double x);
  void clearSeries();  // removes every series; ids start again at 0

  int seriesCount() const;
  int pointCount(int series) const;
  QPointF lastPoint(int series) const;  // the point with the largest x; (0,0) when empty

  bool followLatest() const { return m_followLatest; }
  void setFollowLatest(bool on);

  int replotCount() const { return m_replotCount; }  // replots issued; tests check coalescing
  // Axis ranges as (lower, upper), as of the last replot or user drag/zoom. A pair rather than
  // QCPRange keeps qcustomplot.h out of this header (it breaks under QT_NO_KEYWORDS).
  QPair<double, double> visibleXRange() const;
  QPair<double, double> visibleYRange() const;

 Q_SIGNALS:
  void followLatestChanged(bool on);

 protected:
  void showEvent(QShowEvent* event) override;
  void changeEvent(QEvent* event) override;

 private:
  QCPGraph* graphAt(int series) const;
  void scheduleReplot();
  void replotNow();
  void rescaleToData();
  void restyle();

  QLabel* m_titleLabel = nullptr;
  QCheckBox* m_followBox = nullptr;
  QCustomPlot* m_plot = nullptr;
  QTimer m_replotTimer;
  bool m_dirty = false;  // data or look changed since the last replot
  bool m_followLatest = true;
  bool m_logScaleY = false;
  int m_replotCount = 0;
};
