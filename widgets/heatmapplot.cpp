// Cells are centred on integer coordinates (column = key, row = value axis reversed), so a mouse
// position rounds to its cell. Colours are interpolated between a few stops of viridis
// (perceptually even, readable in grey) and of a blue-white-red diverging map.
#include "heatmapplot.h"

#include <qcustomplot.h>

#include <QHelpEvent>
#include <QMouseEvent>
#include <QToolTip>
#include <QVBoxLayout>
#include <algorithm>
#include <array>
#include <cmath>

#include "plotstyle.h"

namespace {

const QColor kViridisStops[] = {QColor(68, 1, 84), QColor(59, 82, 139), QColor(33, 145, 140),
                                QColor(94, 201, 98), QColor(253, 231, 37)};
const QColor kDivergingStops[] = {QColor(33, 102, 172), QColor(146, 197, 222),
                                  QColor(247, 247, 247), QColor(244, 165, 130),
                                  QColor(178, 24, 43)};

QCPColorGradient gradient(const QColor (&stops)[5]) {
  QCPColorGradient g;
  g.clearColorStops();
  for (int i = 0; i < 5; ++i) g.setColorStopAt(i / 4.0, stops[i]);
  g.setColorInterpolation(QCPColorGradient::ciRGB);
  return g;
}

QRgb viridis(float t) {
  t = std::clamp(t, 0.0f, 1.0f) * 4.0f;
  const int i = std::min(3, static_cast<int>(t));
  const float f = t - i;
  const QColor& a = kViridisStops[i];
  const QColor& b = kViridisStops[i + 1];
  return qRgb(static_cast<int>(a.red() + f * (b.red() - a.red())),
              static_cast<int>(a.green() + f * (b.green() - a.green())),
              static_cast<int>(a.blue() + f * (b.blue() - a.blue())));
}

// Ticks every `step`-th label, at most about one per 14 pixels of axis.
QSharedPointer<QCPAxisTickerText> ticker(const QStringList& labels, int count, int pixels,
                                         int* step) {
  auto t = QSharedPointer<QCPAxisTickerText>::create();
  const int fit = std::max(2, pixels / 14);
  *step = std::max(1, (count + fit - 1) / fit);
  for (int i = 0; i < count; i += *step)
    t->addTick(i, i < labels.size() ? labels[i] : QString::number(i));
  return t;
}

}  // namespace

HeatmapPlot::HeatmapPlot(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  m_plot = new QCustomPlot(this);
  applyPlotStyle(m_plot, palette(), font());
  layout->addWidget(m_plot);
  m_plot->yAxis->setRangeReversed(true);  // row 0 at the top
  m_plot->xAxis->setTickLabelRotation(60);
  m_plot->xAxis->grid()->setVisible(false);
  m_plot->yAxis->grid()->setVisible(false);
  m_map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
  m_map->setInterpolate(false);
  m_scale = new QCPColorScale(m_plot);
  m_plot->plotLayout()->addElement(0, 1, m_scale);
  m_scale->setType(QCPAxis::atRight);
  m_map->setColorScale(m_scale);
  auto* group = new QCPMarginGroup(m_plot);
  m_plot->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, group);
  m_scale->setMarginGroup(QCP::msBottom | QCP::msTop, group);
  m_plot->setMouseTracking(true);
  m_plot->installEventFilter(this);
  connect(m_plot, &QCustomPlot::afterReplot, this, &HeatmapPlot::replotted);
  m_tip = [](int row, int column, double value) {
    return tr("row %1, column %2: %3").arg(row).arg(column).arg(value, 0, 'g', 4);
  };
}

void HeatmapPlot::setMatrix(int rows, int columns, const QVector<float>& values, Colors colors) {
  m_rows = rows;
  m_columns = columns;
  auto* data = new QCPColorMapData(std::max(1, columns), std::max(1, rows),
                                   QCPRange(0, std::max(0, columns - 1)),
                                   QCPRange(0, std::max(0, rows - 1)));
  // The data's own range: entropies near 2.9 would all look alike on [0, max].
  float lo = values.isEmpty() ? 0.0f : values[0], hi = lo;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < columns; ++c) {
      const qsizetype i = static_cast<qsizetype>(r) * columns + c;
      const float v = i < values.size() ? values[i] : 0.0f;
      data->setCell(c, r, v);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  m_map->setData(data);  // takes ownership
  if (colors == kDiverging) {
    const double m = std::max({std::abs(lo), std::abs(hi), 1e-6f});
    m_map->setGradient(gradient(kDivergingStops));
    m_map->setDataRange(QCPRange(-m, m));
  } else {
    m_map->setGradient(gradient(kViridisStops));
    m_map->setDataRange(QCPRange(lo, hi > lo ? hi : lo + 1e-6));
  }
  m_plot->xAxis->setRange(-0.5, std::max(0, columns - 1) + 0.5);
  m_plot->yAxis->setRange(-0.5, std::max(0, rows - 1) + 0.5);
  applyLabels();
  replot();
}

void HeatmapPlot::replot() {
  // Nothing is drawn while hidden; showing the plot draws what changed meanwhile.
  m_stale = !isVisible();
  if (!m_stale) m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void HeatmapPlot::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  if (m_stale) replot();
}

void HeatmapPlot::clear() {
  setMatrix(0, 0, {}, kSequential);
}

void HeatmapPlot::setLabels(const QStringList& columnLabels, const QStringList& rowLabels) {
  m_columnLabels = columnLabels;
  m_rowLabels = rowLabels;
  applyLabels();
  replot();
}

void HeatmapPlot::applyLabels() {
  // Before the first layout the axis rect has no size: assume a typical one.
  const QRect rect = m_plot->axisRect()->rect();
  const int width = rect.width() > 50 ? rect.width() : 500;
  const int height = rect.height() > 50 ? rect.height() : 400;
  m_plot->xAxis->setTicker(ticker(m_columnLabels, m_columns, width, &m_columnStep));
  m_plot->yAxis->setTicker(ticker(m_rowLabels, m_rows, height, &m_rowStep));
}

void HeatmapPlot::setAxisTitles(const QString& columns, const QString& rows) {
  m_plot->xAxis->setLabel(columns);
  m_plot->yAxis->setLabel(rows);
}

void HeatmapPlot::setScaleTitle(const QString& title) {
  m_scale->axis()->setLabel(title);
}

double HeatmapPlot::valueAt(int row, int column) const {
  if (row < 0 || column < 0 || row >= m_rows || column >= m_columns) return std::nan("");
  return m_map->data()->cell(column, row);
}

bool HeatmapPlot::cellAt(const QPointF& pos, int* row, int* column) const {
  if (m_rows == 0 || !m_plot->axisRect()->rect().contains(pos.toPoint())) return false;
  *column = static_cast<int>(std::lround(m_plot->xAxis->pixelToCoord(pos.x())));
  *row = static_cast<int>(std::lround(m_plot->yAxis->pixelToCoord(pos.y())));
  return *row >= 0 && *row < m_rows && *column >= 0 && *column < m_columns;
}

bool HeatmapPlot::eventFilter(QObject* watched, QEvent* event) {
  if (watched == m_plot) {
    int row = 0, column = 0;
    if (event->type() == QEvent::ToolTip) {
      auto* help = static_cast<QHelpEvent*>(event);
      if (cellAt(help->pos(), &row, &column))
        QToolTip::showText(help->globalPos(), cellToolTip(row, column), m_plot);
      else
        QToolTip::hideText();
      return true;
    }
    if (event->type() == QEvent::MouseButtonRelease) {
      auto* mouse = static_cast<QMouseEvent*>(event);
      if (mouse->button() == Qt::LeftButton && cellAt(mouse->position(), &row, &column))
        Q_EMIT cellClicked(row, column);
    }
    if (event->type() == QEvent::Resize) applyLabels();
  }
  return QWidget::eventFilter(watched, event);
}

QImage HeatmapPlot::thumbnail(const float* values, int n, float max, int side) {
  // 256 levels (what an 8-bit screen shows of the gradient), looked up: a grid of 32 x 32 heads
  // colours 2 M pixels at each step, and interpolating through QColor took most of a redraw.
  static const auto lut = [] {
    std::array<QRgb, 256> table{};
    for (int i = 0; i < 256; ++i) table[size_t(i)] = viridis(i / 255.0f);
    return table;
  }();
  QImage image(std::max(1, n), std::max(1, n), QImage::Format_RGB32);
  const float scale = 255.0f * (max > 0 ? 1.0f / max : 1.0f);
  for (int r = 0; r < n; ++r) {
    auto* line = reinterpret_cast<QRgb*>(image.scanLine(r));
    const float* row = values + static_cast<size_t>(r) * n;
    for (int c = 0; c < n; ++c)
      line[c] = lut[size_t(std::clamp(static_cast<int>(row[c] * scale + 0.5f), 0, 255))];
  }
  if (n == side) return image;
  return image.scaled(side, side, Qt::IgnoreAspectRatio, Qt::FastTransformation);
}
