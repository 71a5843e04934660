// MemoryTimeline: stacked layers as cumulative graphs, each filled down to the one below it.
#include "memorytimeline.h"

#include <qcustomplot.h>

#include <QEvent>
#include <QToolTip>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "byteunits.h"
#include "plotstyle.h"

namespace {

constexpr int kReplotIntervalMs = 33;  // ~30 Hz, as LivePlot
constexpr double kHeadroom = 1.12;     // room above the highest value for the peak's label

// Tick steps that are round in the unit the axis shows (64 MiB, 500 MiB, 2 GiB), labelled in it.
class ByteTicker : public QCPAxisTicker {
 protected:
  double getTickStep(const QCPRange& range) override {
    m_unit = byteUnitFor(range.upper);
    const double step = range.size() / m_unit / (mTickCount + 1e-10);
    return cleanMantissa(step) * m_unit;
  }
  QString getTickLabel(double tick, const QLocale&, QChar, int) override {
    const double v = tick / m_unit;
    const double rounded = std::round(v * 100.0) / 100.0;
    return QStringLiteral("%1 %2").arg(rounded).arg(byteUnitName(m_unit));
  }

 private:
  double m_unit = 1.0;
};

QColor darker(const QColor& c) {
  return c.darker(135);
}

}  // namespace

MemoryTimeline::MemoryTimeline(QWidget* parent) : QWidget(parent), m_plot(new QCustomPlot(this)) {
  m_plot->setObjectName(QStringLiteral("memoryTimelineCanvas"));
  m_plot->setMinimumSize(200, 160);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(m_plot);

  m_plot->yAxis->setTicker(QSharedPointer<ByteTicker>::create());
  m_plot->xAxis->setLabel(tr("step"));
  m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  m_plot->axisRect()->setRangeDrag(Qt::Horizontal);
  m_plot->axisRect()->setRangeZoom(Qt::Horizontal);
  // The legend beside the plot, not over it: the stack fills the plot from the bottom up.
  // Top-aligned in its own column (an empty element below takes the rest of the height).
  m_plot->axisRect()->insetLayout()->take(m_plot->legend);
  auto* side = new QCPLayoutGrid;
  m_plot->plotLayout()->addElement(0, 1, side);
  m_plot->plotLayout()->setColumnStretchFactor(1, 0.001);
  side->addElement(0, 0, m_plot->legend);
  side->addElement(1, 0, new QCPLayoutElement(m_plot));
  side->setRowStretchFactor(0, 0.001);
  side->setMargins(QMargins(0, 8, 0, 0));
  m_plot->legend->setVisible(true);
  m_plot->xAxis->setRange(0.0, 1.0);
  m_plot->yAxis->setRange(0.0, 1.0);

  // Marks and the forecast's line above the graphs: graphs made later by setSeries would
  // otherwise cover them with their filled layers.
  m_plot->addLayer(QStringLiteral("marks"), m_plot->layer(QStringLiteral("main")),
                   QCustomPlot::limAbove);
  m_plot->setCurrentLayer(QStringLiteral("marks"));
  m_peakLine = new QCPItemStraightLine(m_plot);
  m_peakLine->setPen(QPen(QColor(0xd6, 0x27, 0x28), 1.2, Qt::DotLine));
  m_peakText = new QCPItemText(m_plot);
  m_peakText->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
  m_peakText->setPositionAlignment(Qt::AlignTop | Qt::AlignHCenter);
  m_peakText->setColor(QColor(0xd6, 0x27, 0x28));
  m_peakText->setPadding(QMargins(3, 2, 3, 2));
  m_referenceLine = new QCPItemStraightLine(m_plot);
  m_referenceLine->setPen(QPen(Qt::black, 1.6, Qt::DashLine));
  m_referenceText = new QCPItemText(m_plot);
  m_referenceText->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
  m_referenceText->setPositionAlignment(Qt::AlignBottom | Qt::AlignLeft);
  m_referenceText->setPadding(QMargins(4, 0, 4, 2));
  for (QCPAbstractItem* item :
       {static_cast<QCPAbstractItem*>(m_peakLine), static_cast<QCPAbstractItem*>(m_peakText),
        static_cast<QCPAbstractItem*>(m_referenceLine),
        static_cast<QCPAbstractItem*>(m_referenceText)})
    item->setVisible(false);
  m_plot->setCurrentLayer(QStringLiteral("main"));
  restyle();

  m_replotTimer.setSingleShot(true);
  m_replotTimer.setInterval(kReplotIntervalMs);
  connect(&m_replotTimer, &QTimer::timeout, this, &MemoryTimeline::replotNow);
  connect(m_plot, &QCustomPlot::mousePress, this, [this] { m_autoRange = false; });
  connect(m_plot, &QCustomPlot::mouseWheel, this, [this] { m_autoRange = false; });
  connect(m_plot, &QCustomPlot::mouseDoubleClick, this, [this] {
    m_autoRange = true;
    scheduleReplot();
  });
  connect(m_plot, &QCustomPlot::mouseMove, this,
          [this](QMouseEvent* event) { showStepToolTip(event->pos()); });
}

MemoryTimeline::~MemoryTimeline() = default;

void MemoryTimeline::setYAxisLabel(const QString& label) {
  m_plot->yAxis->setLabel(label);
  scheduleReplot();
}

void MemoryTimeline::setSeries(const QList<Layer>& layers, const QList<Line>& lines) {
  m_plot->clearGraphs();
  m_layerGraphs.clear();
  m_lineGraphs.clear();
  m_layers = layers;
  m_lines = lines;
  QCPGraph* below = nullptr;
  for (const Layer& layer : layers) {
    QCPGraph* g = m_plot->addGraph();
    g->setName(layer.name);
    g->setPen(QPen(darker(layer.color), 1.0));
    QColor fill = layer.color;
    fill.setAlpha(210);
    g->setBrush(fill);
    g->setChannelFillGraph(below);  // nullptr: filled down to zero
    m_layerGraphs << g;
    below = g;
  }
  for (const Line& line : lines) {
    QCPGraph* g = m_plot->addGraph();
    g->setName(line.name);
    g->setPen(QPen(line.color, 2.0, line.style));
    m_lineGraphs << g;
  }
  // Top of the stack first in the legend, as it is drawn.
  m_plot->legend->clearItems();
  for (int i = m_layerGraphs.size() - 1; i >= 0; --i) m_layerGraphs[i]->addToLegend();
  for (QCPGraph* g : m_lineGraphs) g->addToLegend();
  clearPoints();
}

void MemoryTimeline::clearPoints() {
  for (int i = 0; i < m_plot->graphCount(); ++i) m_plot->graph(i)->data()->clear();
  m_x.clear();
  m_values = QVector<QVector<double>>(m_layers.size());
  m_running.clear();
  m_peakX = -1.0;
  m_peakTotal = 0.0;
  m_autoRange = true;
  updatePeakMarker();
  scheduleReplot();
}

void MemoryTimeline::appendSteps(const QVector<double>& x, const QVector<QVector<double>>& layers) {
  if (x.isEmpty()) return;
  QVector<QVector<double>> cumulative(m_layers.size());
  for (auto& c : cumulative) c.reserve(x.size());
  for (int i = 0; i < x.size(); ++i) {
    double sum = 0.0;
    for (int l = 0; l < m_layers.size(); ++l) {
      double v = l < layers.size() && i < layers[l].size() ? layers[l][i] : 0.0;
      if (!std::isfinite(v) || v < 0.0) v = 0.0;
      m_values[l].append(v);
      sum += v;
      cumulative[l].append(sum);
    }
    m_x.append(x[i]);
    m_running.append(sum);
    if (sum > m_peakTotal || m_peakX < 0) {
      m_peakTotal = sum;
      m_peakX = x[i];
    }
  }
  for (int l = 0; l < m_layerGraphs.size(); ++l) m_layerGraphs[l]->addData(x, cumulative[l], true);
  updatePeakMarker();
  scheduleReplot();
}

void MemoryTimeline::setLineName(int line, const QString& name) {
  if (line < 0 || line >= m_lineGraphs.size()) return;
  m_lines[line].name = name;
  m_lineGraphs[line]->setName(name);
  scheduleReplot();
}

void MemoryTimeline::appendLinePoints(int line, const QVector<QPointF>& points) {
  if (line < 0 || line >= m_lineGraphs.size()) return;
  QVector<double> keys, values;
  for (const QPointF& p : points)
    if (std::isfinite(p.x()) && std::isfinite(p.y())) {
      keys << p.x();
      values << p.y();
    }
  m_lineGraphs[line]->addData(keys, values);
  scheduleReplot();
}

void MemoryTimeline::setLinePoints(int line, const QVector<QPointF>& points) {
  if (line < 0 || line >= m_lineGraphs.size()) return;
  m_lineGraphs[line]->data()->clear();
  appendLinePoints(line, points);
}

void MemoryTimeline::setReference(double bytes, const QString& label) {
  m_reference = bytes > 0 && std::isfinite(bytes) ? bytes : 0.0;
  m_referenceLabel = label;
  const bool on = m_reference > 0;
  m_referenceLine->setVisible(on);
  m_referenceText->setVisible(on);
  if (on) {
    m_referenceLine->point1->setCoords(0.0, m_reference);
    m_referenceLine->point2->setCoords(1.0, m_reference);
    m_referenceText->position->setCoords(0.01, m_reference);
    m_referenceText->setText(QStringLiteral("%1: %2").arg(label, formatBytes(m_reference)));
  }
  scheduleReplot();
}

void MemoryTimeline::setMarkers(const QList<Marker>& markers) {
  for (QCPAbstractItem* item : std::as_const(m_markerItems)) m_plot->removeItem(item);
  m_markerItems.clear();
  m_markers = markers;
  const QColor colour(0xc0, 0x1c, 0x28);
  for (const Marker& m : markers) {
    auto* line = new QCPItemStraightLine(m_plot);
    line->setLayer(QStringLiteral("marks"));
    line->setPen(QPen(colour, 1.4, Qt::DashDotLine));
    line->point1->setCoords(m.step, 0.0);
    line->point2->setCoords(m.step, 1.0);
    auto* text = new QCPItemText(m_plot);
    text->setLayer(QStringLiteral("marks"));
    text->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
    text->position->setCoords(m.step, 0.0);
    text->setPositionAlignment(Qt::AlignTop | Qt::AlignLeft);
    text->setPadding(QMargins(3, 18, 3, 2));  // below the peak's label
    text->setColor(colour);
    text->setText(m.label);
    m_markerItems << line << text;
  }
  scheduleReplot();
}

int MemoryTimeline::linePointCount(int line) const {
  return line >= 0 && line < m_lineGraphs.size() ? m_lineGraphs[line]->dataCount() : 0;
}

double MemoryTimeline::layerValue(int layer, int index) const {
  if (layer < 0 || layer >= m_values.size() || index < 0 || index >= m_values[layer].size())
    return 0.0;
  return m_values[layer][index];
}

bool MemoryTimeline::referenceVisible() const {
  if (!m_referenceLine->visible()) return false;
  const QCPRange y = m_plot->yAxis->range();
  return m_reference >= y.lower && m_reference <= y.upper;
}

void MemoryTimeline::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  replotNow();
}

void MemoryTimeline::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange) {
    restyle();
    scheduleReplot();
  }
}

void MemoryTimeline::scheduleReplot() {
  m_dirty = true;
  if (!m_replotTimer.isActive()) m_replotTimer.start();
}

void MemoryTimeline::replotNow() {
  if (!m_dirty || !isVisible()) return;  // hidden: stays dirty until showEvent
  m_dirty = false;
  if (m_autoRange) rescale();
  if (m_peakText->visible()) {
    // Kept inside the plot: a peak near either end is labelled towards the middle.
    const QCPRange x = m_plot->xAxis->range();
    const double at = x.size() > 0 ? (m_peakX - x.lower) / x.size() : 0.5;
    const Qt::Alignment side = at < 0.2   ? Qt::AlignLeft
                               : at > 0.8 ? Qt::AlignRight
                                          : Qt::AlignHCenter;
    m_peakText->setPositionAlignment(Qt::AlignTop | side);
  }
  m_plot->replot(QCustomPlot::rpQueuedReplot);
  ++m_replotCount;
}

void MemoryTimeline::rescale() {
  bool found = false;
  QCPRange keys;
  double top = std::max(m_peakTotal, m_reference);
  for (QCPGraph* g : m_lineGraphs) {
    bool has = false;
    const QCPRange k = g->getKeyRange(has);
    if (has) {
      if (found)
        keys.expand(k);
      else
        keys = k;
      found = true;
      top = std::max(top, g->getValueRange(has).upper);
    }
  }
  if (!m_x.isEmpty()) {
    const QCPRange k(m_x.first(), m_x.last());
    if (found)
      keys.expand(k);
    else
      keys = k;
    found = true;
  }
  if (!found) return;
  if (keys.size() <= 0.0) keys = QCPRange(keys.lower - 0.5, keys.upper + 0.5);
  m_plot->xAxis->setRange(keys);
  m_plot->yAxis->setRange(0.0, top > 0 ? top * kHeadroom : 1.0);
}

void MemoryTimeline::restyle() {
  applyPlotStyle(m_plot, palette(), font());
  m_referenceText->setColor(palette().color(QPalette::Text));
  QColor label = palette().color(QPalette::Base);
  label.setAlpha(220);  // legible over the filled layers
  m_referenceText->setBrush(label);
  m_peakText->setBrush(label);
  QColor line = palette().color(QPalette::Text);
  m_referenceLine->setPen(QPen(line, 1.6, Qt::DashLine));
}

void MemoryTimeline::updatePeakMarker() {
  const bool on = m_peakX >= 0 && m_peakTotal > 0;
  m_peakLine->setVisible(on);
  m_peakText->setVisible(on);
  if (!on) return;
  m_peakLine->point1->setCoords(m_peakX, 0.0);
  m_peakLine->point2->setCoords(m_peakX, 1.0);
  m_peakText->position->setCoords(m_peakX, 0.0);
  m_peakText->setText(tr("peak %1 at step %2", "memory timeline: the highest step")
                          .arg(formatBytes(m_peakTotal))
                          .arg(m_peakX));
}

int MemoryTimeline::nearestIndex(double key) const {
  auto it = std::lower_bound(m_x.begin(), m_x.end(), key);
  int i = static_cast<int>(it - m_x.begin());
  if (i >= m_x.size() || (i > 0 && key - m_x[i - 1] < m_x[i] - key)) i = qMax(0, i - 1);
  return i;
}

QString MemoryTimeline::stepToolTip(double step) const {
  if (m_x.isEmpty()) return {};
  const int i = nearestIndex(step);
  QString text = tr("<b>step %1</b>: %2").arg(m_x[i]).arg(formatBytes(m_running[i]));
  for (const Marker& m : m_markers)
    if (m.step == m_x[i])
      text +=
          QStringLiteral("<br><span style='color:#c01c28'>%1</span>").arg(m.text.toHtmlEscaped());
  for (int l = m_layers.size() - 1; l >= 0; --l)
    text += QStringLiteral("<br>%1: %2")
                .arg(m_layers[l].name.toHtmlEscaped(), formatBytes(m_values[l][i]));
  return text;
}

void MemoryTimeline::showStepToolTip(const QPoint& pos) {
  if (m_x.isEmpty() || !m_plot->axisRect()->rect().contains(pos)) return;
  QToolTip::showText(m_plot->mapToGlobal(pos), stepToolTip(m_plot->xAxis->pixelToCoord(pos.x())),
                     m_plot);
}
