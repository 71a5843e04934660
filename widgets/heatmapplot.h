// HeatmapPlot: a rows x columns matrix drawn as coloured cells (row 0 at the top), tick labels on
// both axes (every k-th when they do not all fit), a colour scale beside it, a tooltip per cell
// and a signal when a cell is clicked. Sequential colours for weights, diverging ones (centred on
// zero) for differences. Also draws small QImage thumbnails with the same colours, for grids where
// one plot per cell would cost too much. Knows nothing about attention: callers hand it numbers.
#pragma once

#include <QImage>
#include <QString>
#include <QStringList>
#include <QVector>
#include <QWidget>
#include <functional>

class QCustomPlot;
class QCPColorMap;
class QCPColorScale;

class HeatmapPlot : public QWidget {
  Q_OBJECT
 public:
  enum Colors { kSequential, kDiverging };
  // Tooltip text of a cell; the default names row, column and value.
  using ToolTip = std::function<QString(int row, int column, double value)>;

  explicit HeatmapPlot(QWidget* parent = nullptr);

  // `values`: rows x columns, row-major. Sequential colours span [min, max]; diverging ones
  // [-m, m] with m the largest magnitude.
  void setMatrix(int rows, int columns, const QVector<float>& values, Colors colors);
  void clear();
  // Tick labels (index i -> label i); empty: numbers. Long lists are thinned to every k-th.
  void setLabels(const QStringList& columnLabels, const QStringList& rowLabels);
  void setAxisTitles(const QString& columns, const QString& rows);
  void setScaleTitle(const QString& title);
  void setCellToolTip(ToolTip tip) { m_tip = std::move(tip); }
  // The text hovering over a cell shows.
  QString cellToolTip(int row, int column) const {
    return m_tip(row, column, valueAt(row, column));
  }

  int rows() const { return m_rows; }
  int columns() const { return m_columns; }
  // What is drawn in cell (row, column), read back from the colour map.
  double valueAt(int row, int column) const;
  // Step between tick labels on the column axis (1: all shown).
  int columnLabelStep() const { return m_columnStep; }
  QCustomPlot* plot() const { return m_plot; }

  // An n x n (row-major) map drawn into a side x side image, values in [0, max].
  static QImage thumbnail(const float* values, int n, float max, int side);

 Q_SIGNALS:
  void cellClicked(int row, int column);
  void replotted();  // the plot has drawn what was last set (replots are queued, so later)

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;
  void showEvent(QShowEvent* event) override;

 private:
  bool cellAt(const QPointF& pos, int* row, int* column) const;
  void applyLabels();
  void replot();

  QCustomPlot* m_plot;
  QCPColorMap* m_map;
  QCPColorScale* m_scale;
  ToolTip m_tip;
  QStringList m_columnLabels, m_rowLabels;
  int m_rows = 0, m_columns = 0;
  int m_columnStep = 1, m_rowStep = 1;
  bool m_stale = false;  // changed while hidden: not drawn yet
};
