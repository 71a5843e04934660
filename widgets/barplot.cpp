// BarPlot: grouped bars over text ticks, drawn only while visible.
#include "barplot.h"

#include <qcustomplot.h>

#include <QEvent>
#include <QLabel>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "plotstyle.h"

namespace {

// Share of one category slot taken by its group of bars; the rest separates neighbouring groups.
constexpr double kGroupWidth = 0.8;
// Above this many categories, horizontal labels collide at typical widths; turned ones fit ~3x
// more.
constexpr int kRotateAbove = 8;
// Most labels drawn; beyond it every k-th is shown, since overlapping text helps nobody.
constexpr int kMaxLabels = 24;

}  // namespace

BarPlot::BarPlot(QWidget* parent)
    : QWidget(parent),
      m_titleLabel(new QLabel(this)),
      m_noteLabel(new QLabel(this)),
      m_plot(new QCustomPlot(this)),
      m_group(new QCPBarsGroup(m_plot)) {
  m_titleLabel->setObjectName(QStringLiteral("barPlotTitle"));
  QFont titleFont = m_titleLabel->font();
  titleFont.setBold(true);
  m_titleLabel->setFont(titleFont);
  m_noteLabel->setObjectName(QStringLiteral("barPlotNote"));
  m_noteLabel->setWordWrap(true);
  m_noteLabel->setVisible(false);
  m_plot->setObjectName(QStringLiteral("barPlotCanvas"));
  m_plot->setMinimumSize(160, 100);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(2);
  auto* text = new QVBoxLayout;
  text->setContentsMargins(6, 2, 6, 0);
  text->setSpacing(0);
  text->addWidget(m_titleLabel);
  text->addWidget(m_noteLabel);
  layout->addLayout(text);
  layout->addWidget(m_plot, 1);

  m_group->setSpacingType(QCPBarsGroup::stAbsolute);
  m_group->setSpacing(1);  // pixels: adjacent series' bars touch without merging
  m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
  m_plot->legend->setVisible(false);
  restyle();
  rebuild();
}

BarPlot::~BarPlot() = default;

void BarPlot::setTitle(const QString& title) {
  m_titleLabel->setText(title);
}

void BarPlot::setAxisLabels(const QString& x, const QString& y) {
  m_plot->xAxis->setLabel(x);
  m_plot->yAxis->setLabel(y);
  replotIfVisible();
}

void BarPlot::setCategories(const QStringList& labels) {
  m_categories = labels;
  rebuild();
}

void BarPlot::setSeries(const QList<BarSeries>& series) {
  m_series = series;
  for (BarSeries& s : m_series) {
    for (double& v : s.values) {
      if (!std::isfinite(v)) v = 0.0;
    }
  }
  rebuild();
}

void BarPlot::setNote(const QString& text, bool warning) {
  m_note = text;
  m_noteIsWarning = warning;
  m_noteLabel->setText(text);
  m_noteLabel->setVisible(!text.isEmpty());
  updateNoteLook();
}

double BarPlot::value(int series, int category) const {
  if (series < 0 || series >= m_series.size()) return 0.0;
  if (category < 0 || category >= m_categories.size()) return 0.0;
  const QVector<double>& values = m_series[series].values;
  return category < values.size() ? values[category] : 0.0;
}

void BarPlot::clear() {
  m_categories.clear();
  m_series.clear();
  setNote(QString(), false);
  rebuild();
}

void BarPlot::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  if (m_dirty) replotIfVisible();
}

void BarPlot::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange) {
    restyle();
    updateNoteLook();
    replotIfVisible();
  }
}

void BarPlot::rebuild() {
  m_plot->clearPlottables();  // bars leave m_group as they are deleted
  const int categories = m_categories.size();
  const int seriesCount = m_series.size();
  double low = 0.0;  // bars grow from zero, so zero is always in view
  double high = 0.0;
  if (categories > 0) {
    QVector<double> keys(categories);
    for (int c = 0; c < categories; ++c) keys[c] = c;
    for (int s = 0; s < seriesCount; ++s) {
      QVector<double> values(categories, 0.0);
      for (int c = 0; c < categories; ++c) values[c] = value(s, c);
      for (double v : values) {
        low = std::min(low, v);
        high = std::max(high, v);
      }
      auto* bars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
      bars->setName(m_series[s].name);
      bars->setPen(QPen(m_series[s].color.darker(120), 1));
      bars->setBrush(m_series[s].color);
      bars->setWidth(kGroupWidth / seriesCount);
      bars->setData(keys, values, true);
      bars->setAntialiased(false);  // crisp bar edges; nothing here is diagonal
      if (seriesCount > 1) bars->setBarsGroup(m_group);
    }
  }

  auto ticker = QSharedPointer<QCPAxisTickerText>::create();
  const int step = std::max(1, (categories + kMaxLabels - 1) / kMaxLabels);
  for (int c = 0; c < categories; c += step) ticker->addTick(c, m_categories[c]);
  m_plot->xAxis->setTicker(ticker);
  m_plot->xAxis->setTickLabelRotation(categories > kRotateAbove ? -45 : 0);
  m_plot->xAxis->setSubTicks(false);
  m_plot->xAxis->setTickLength(0, 0);
  m_plot->xAxis->grid()->setVisible(false);  // the bars themselves mark the categories
  m_plot->xAxis->setRange(-0.5, std::max(categories, 1) - 0.5);

  if (high == low) high = 1.0;  // nothing to show yet: a sane empty frame rather than 0..0
  const double pad = (high - low) * 0.06;  // headroom so the tallest bar does not touch the frame
  m_plot->yAxis->setRange(low < 0.0 ? low - pad : 0.0, high > 0.0 ? high + pad : 0.0);
  m_plot->legend->setVisible(seriesCount > 1);
  replotIfVisible();
}

void BarPlot::replotIfVisible() {
  m_dirty = true;
  if (!isVisible()) return;  // drawn once in showEvent
  m_dirty = false;
  m_plot->replot(QCustomPlot::rpQueuedReplot);
  ++m_replotCount;
}

void BarPlot::restyle() {
  applyPlotStyle(m_plot, palette(), font());
}

void BarPlot::updateNoteLook() {
  QFont noteFont = font();
  noteFont.setBold(m_noteIsWarning);
  m_noteLabel->setFont(noteFont);
  QPalette notePalette = palette();
  // A dark red that still reads on dark themes; an ordinary note is muted like a caption.
  notePalette.setColor(QPalette::WindowText, m_noteIsWarning
                                                 ? QColor(0xc6, 0x28, 0x28)
                                                 : palette().color(QPalette::PlaceholderText));
  m_noteLabel->setPalette(notePalette);
}
