// LivePlot: batched feeding, coalesced replots and follow-latest ranges over a QCustomPlot.
#include "liveplot.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QVBoxLayout>
#include <cmath>

#include "plotstyle.h"

namespace {

// ~30 Hz: smooth to the eye, and the cost of redrawing 100k points stays bounded however fast
// batches arrive.
constexpr int kReplotIntervalMs = 33;
// Share of the data's y span added above and below while following, so the curve's extremes do
// not sit on the frame.
constexpr double kYMargin = 0.05;

// Keeps the finite points; `sorted` reports whether their x values ascend, which lets
// QCustomPlot skip sorting on the (usual) in-order path.
void splitFinite(const QVector<QPointF>& points, QVector<double>& keys, QVector<double>& values,
                 bool& sorted) {
  keys.reserve(points.size());
  values.reserve(points.size());
  sorted = true;
  for (const QPointF& p : points) {
    if (!std::isfinite(p.x()) || !std::isfinite(p.y())) continue;
    if (!keys.isEmpty() && p.x() < keys.last()) sorted = false;
    keys.append(p.x());
    values.append(p.y());
  }
}

QCPRange paddedValueRange(QCPRange range, bool logScale) {
  if (logScale) {
    // Multiplicative padding: an additive one would push the lower bound to or below zero.
    const double ratio = range.upper / range.lower;
    const double factor = ratio > 1.0 ? std::pow(ratio, kYMargin) : 1.25;
    return QCPRange(range.lower / factor, range.upper * factor);
  }
  double pad = range.size() * kYMargin;
  if (pad <= 0.0) pad = range.upper != 0.0 ? std::abs(range.upper) * 0.1 : 1.0;  // flat series
  return QCPRange(range.lower - pad, range.upper + pad);
}

}  // namespace

LivePlot::LivePlot(QWidget* parent)
    : QWidget(parent),
      m_titleLabel(new QLabel(this)),
      m_followBox(new QCheckBox(tr("Follow latest", "plot: keep the newest points in view"), this)),
      m_plot(new QCustomPlot(this)) {
  m_titleLabel->setObjectName(QStringLiteral("livePlotTitle"));
  QFont titleFont = m_titleLabel->font();
  titleFont.setBold(true);
  m_titleLabel->setFont(titleFont);
  m_followBox->setObjectName(QStringLiteral("livePlotFollow"));
  m_followBox->setChecked(m_followLatest);
  m_followBox->setToolTip(
      tr("Keep the newest points in view. Dragging or zooming the plot turns this off; "
         "a double-click on the plot turns it back on."));
  m_plot->setObjectName(QStringLiteral("livePlotCanvas"));
  m_plot->setMinimumSize(160, 100);

  auto* header = new QHBoxLayout;
  header->setContentsMargins(6, 2, 6, 0);
  header->addWidget(m_titleLabel);
  header->addStretch(1);
  header->addWidget(m_followBox);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(2);
  layout->addLayout(header);
  layout->addWidget(m_plot, 1);

  m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  m_plot->axisRect()->setRangeDrag(Qt::Horizontal | Qt::Vertical);
  m_plot->axisRect()->setRangeZoom(Qt::Horizontal | Qt::Vertical);
  // Dragging 100k antialiased points stutters; the full-quality frame follows on release.
  m_plot->setNoAntialiasingOnDrag(true);
  m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
  m_plot->legend->setVisible(false);
  m_plot->xAxis->setRange(0.0, 1.0);
  m_plot->yAxis->setRange(0.0, 1.0);
  restyle();

  m_replotTimer.setSingleShot(true);
  m_replotTimer.setInterval(kReplotIntervalMs);
  connect(&m_replotTimer, &QTimer::timeout, this, &LivePlot::replotNow);
  connect(m_followBox, &QCheckBox::toggled, this, &LivePlot::setFollowLatest);
  // Any press or wheel on the plot is the user taking the view over; new points must not yank it
  // away from what they are looking at.
  connect(m_plot, &QCustomPlot::mousePress, this, [this] { setFollowLatest(false); });
  connect(m_plot, &QCustomPlot::mouseWheel, this, [this] { setFollowLatest(false); });
  connect(m_plot, &QCustomPlot::mouseDoubleClick, this, [this] {
    setFollowLatest(true);
    scheduleReplot();
  });
}

LivePlot::~LivePlot() = default;

void LivePlot::setTitle(const QString& title) {
  m_titleLabel->setText(title);
}

void LivePlot::setAxisLabels(const QString& x, const QString& y) {
  m_plot->xAxis->setLabel(x);
  m_plot->yAxis->setLabel(y);
  scheduleReplot();
}

void LivePlot::setLogScaleY(bool on) {
  if (on == m_logScaleY) return;
  m_logScaleY = on;
  if (on) {
    m_plot->yAxis->setScaleType(QCPAxis::stLogarithmic);
    m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
  } else {
    m_plot->yAxis->setScaleType(QCPAxis::stLinear);
    m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
  }
  // A range chosen for one scale is meaningless on the other, whether or not we are following.
  rescaleToData();
  scheduleReplot();
}

int LivePlot::addSeries(const QString& name, const QColor& color, bool markers) {
  QCPGraph* graph = m_plot->addGraph();
  graph->setName(name);
  graph->setPen(QPen(color, 1.8));
  if (markers) {
    graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(color, 1.5),
                                           palette().color(QPalette::Base), 5.0));
  }
  m_plot->legend->setVisible(m_plot->graphCount() > 1);
  scheduleReplot();
  return m_plot->graphCount() - 1;
}

void LivePlot::setSeriesName(int series, const QString& name) {
  if (QCPGraph* graph = graphAt(series)) {
    graph->setName(name);
    scheduleReplot();
  }
}

void LivePlot::appendPoints(int series, const QVector<QPointF>& points) {
  QCPGraph* graph = graphAt(series);
  if (!graph) return;
  QVector<double> keys, values;
  bool sorted = true;
  splitFinite(points, keys, values, sorted);
  if (keys.isEmpty()) return;
  graph->addData(keys, values, sorted);
  scheduleReplot();
}

void LivePlot::setPoints(int series, const QVector<QPointF>& points) {
  QCPGraph* graph = graphAt(series);
  if (!graph) return;
  QVector<double> keys, values;
  bool sorted = true;
  splitFinite(points, keys, values, sorted);
  graph->setData(keys, values, sorted);
  scheduleReplot();
}

void LivePlot::clearPoints() {
  for (int i = 0; i < m_plot->graphCount(); ++i) m_plot->graph(i)->data()->clear();
  scheduleReplot();
}

void LivePlot::removePointsAfter(double x) {
  for (int i = 0; i < m_plot->graphCount(); ++i) m_plot->graph(i)->data()->removeAfter(x);
  scheduleReplot();
}

void LivePlot::clearSeries() {
  m_plot->clearGraphs();
  m_plot->legend->setVisible(false);
  scheduleReplot();
}

int LivePlot::seriesCount() const {
  return m_plot->graphCount();
}

int LivePlot::pointCount(int series) const {
  const QCPGraph* graph = graphAt(series);
  return graph ? graph->dataCount() : 0;
}

QPointF LivePlot::lastPoint(int series) const {
  const QCPGraph* graph = graphAt(series);
  if (!graph || graph->data()->isEmpty()) return QPointF();
  const auto last = graph->data()->constEnd() - 1;
  return QPointF(last->key, last->value);
}

void LivePlot::setFollowLatest(bool on) {
  if (on == m_followLatest) return;
  m_followLatest = on;
  {
    const QSignalBlocker blocker(m_followBox);  // the box is a view of m_followLatest
    m_followBox->setChecked(on);
  }
  if (on) scheduleReplot();  // bring the newest points back into view now, not at the next batch
  Q_EMIT followLatestChanged(on);
}

QPair<double, double> LivePlot::visibleXRange() const {
  const QCPRange range = m_plot->xAxis->range();
  return {range.lower, range.upper};
}

QPair<double, double> LivePlot::visibleYRange() const {
  const QCPRange range = m_plot->yAxis->range();
  return {range.lower, range.upper};
}

void LivePlot::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  replotNow();  // whatever arrived while hidden, drawn once
}

void LivePlot::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange) {
    restyle();
    scheduleReplot();
  }
}

QCPGraph* LivePlot::graphAt(int series) const {
  if (series < 0 || series >= m_plot->graphCount()) return nullptr;
  return m_plot->graph(series);
}

void LivePlot::scheduleReplot() {
  m_dirty = true;
  if (!m_replotTimer.isActive()) m_replotTimer.start();
}

void LivePlot::replotNow() {
  if (!m_dirty || !isVisible()) return;  // hidden: stays dirty until showEvent
  m_dirty = false;
  if (m_followLatest) rescaleToData();
  m_plot->replot(QCustomPlot::rpQueuedReplot);
  ++m_replotCount;
}

void LivePlot::rescaleToData() {
  bool haveKeys = false;
  QCPRange keyRange;
  for (int i = 0; i < m_plot->graphCount(); ++i) {
    bool found = false;
    const QCPRange range = m_plot->graph(i)->getKeyRange(found);
    if (!found) continue;
    if (haveKeys) {
      keyRange.expand(range);
    } else {
      keyRange = range;
      haveKeys = true;
    }
  }
  if (!haveKeys) return;
  if (keyRange.size() <= 0.0) keyRange = QCPRange(keyRange.lower - 0.5, keyRange.upper + 0.5);

  const QCP::SignDomain domain = m_logScaleY ? QCP::sdPositive : QCP::sdBoth;
  bool haveValues = false;
  QCPRange valueRange;
  for (int i = 0; i < m_plot->graphCount(); ++i) {
    bool found = false;
    const QCPRange range = m_plot->graph(i)->getValueRange(found, domain, keyRange);
    if (!found) continue;
    if (haveValues) {
      valueRange.expand(range);
    } else {
      valueRange = range;
      haveValues = true;
    }
  }
  m_plot->xAxis->setRange(keyRange);
  if (haveValues) m_plot->yAxis->setRange(paddedValueRange(valueRange, m_logScaleY));
}

void LivePlot::restyle() {
  applyPlotStyle(m_plot, palette(), font());
  const QColor background = palette().color(QPalette::Base);
  for (int i = 0; i < m_plot->graphCount(); ++i) {
    QCPScatterStyle style = m_plot->graph(i)->scatterStyle();
    if (style.isNone()) continue;
    style.setBrush(background);  // hollow markers: filled with the plot's background
    m_plot->graph(i)->setScatterStyle(style);
  }
}
