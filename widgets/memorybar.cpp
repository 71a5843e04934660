// MemoryBar: a painted strip (segments proportional to bytes, names inside when they fit) over a
// legend of labels.
#include "memorybar.h"

#include <QEvent>
#include <QGridLayout>
#include <QHelpEvent>
#include <QLabel>
#include <QPainter>
#include <QToolTip>
#include <QVBoxLayout>

#include "byteunits.h"

namespace {
constexpr int kLegendColumns = 4;
}

class MemoryBar::Strip : public QWidget {
 public:
  explicit Strip(MemoryBar* bar) : QWidget(bar), m_bar(bar) {
    setMinimumHeight(26);
    setMaximumHeight(26);
  }

 protected:
  void paintEvent(QPaintEvent*) override {
    QPainter p(this);
    const QRectF frame = QRectF(rect()).adjusted(0.5, 0.5, -0.5, -0.5);
    QColor free = palette().color(QPalette::Text);
    free.setAlpha(18);
    p.fillRect(frame, free);
    const double span = total();
    if (span > 0) {
      double x = frame.left();
      for (const Segment& s : m_bar->segments()) {
        const double w = frame.width() * static_cast<double>(s.bytes) / span;
        if (w <= 0) continue;
        const QRectF r(x, frame.top(), w, frame.height());
        p.fillRect(r, s.color);
        const QString text = formatBytes(static_cast<double>(s.bytes));
        if (p.fontMetrics().horizontalAdvance(text) + 8 < w) {
          p.setPen(s.color.lightnessF() > 0.6 ? Qt::black : Qt::white);
          p.drawText(r, Qt::AlignCenter, text);
        }
        x += w;
      }
    }
    QColor border = palette().color(QPalette::Text);
    border.setAlpha(120);
    p.setPen(border);
    p.drawRect(frame);
  }

  bool event(QEvent* e) override {
    if (e->type() != QEvent::ToolTip) return QWidget::event(e);
    auto* help = static_cast<QHelpEvent*>(e);
    const double span = total();
    double x = 0;
    for (const Segment& s : m_bar->segments()) {
      const double w = width() * static_cast<double>(s.bytes) / qMax(span, 1.0);
      if (help->pos().x() >= x && help->pos().x() < x + w) {
        QToolTip::showText(help->globalPos(),
                           QStringLiteral("<b>%1</b>: %2<br>%3")
                               .arg(s.name.toHtmlEscaped(), formatBytes(s.bytes), s.toolTip),
                           this);
        return true;
      }
      x += w;
    }
    QToolTip::hideText();
    return true;
  }

 private:
  double total() const {
    qint64 sum = 0;
    for (const Segment& s : m_bar->segments()) sum += qMax<qint64>(s.bytes, 0);
    return static_cast<double>(qMax(sum, m_bar->capacity()));
  }
  MemoryBar* m_bar;
};

MemoryBar::MemoryBar(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(4);
  m_headline = new QLabel(this);
  m_headline->setObjectName(QStringLiteral("memoryBarHeadline"));
  QFont bold = m_headline->font();
  bold.setBold(true);
  m_headline->setFont(bold);
  m_strip = new Strip(this);
  m_legend = new QGridLayout;
  m_legend->setHorizontalSpacing(18);
  m_legend->setVerticalSpacing(2);
  layout->addWidget(m_headline);
  layout->addWidget(m_strip);
  layout->addLayout(m_legend);
}

void MemoryBar::setHeadline(const QString& text) {
  m_headline->setText(text);
}
QString MemoryBar::headline() const {
  return m_headline->text();
}

void MemoryBar::setSegments(const QList<Segment>& segments, qint64 capacity) {
  m_segments = segments;
  m_capacity = capacity > 0 ? capacity : 0;
  // Labels are reused: a live run updates the bar every batch, and rebuilding widgets each time
  // would relayout the page for nothing.
  while (m_legendLabels.size() < segments.size()) {
    auto* label = new QLabel(this);
    label->setTextFormat(Qt::RichText);
    const int i = m_legendLabels.size();
    m_legend->addWidget(label, i / kLegendColumns, i % kLegendColumns);
    m_legendLabels << label;
  }
  for (int i = 0; i < m_legendLabels.size(); ++i) {
    QLabel* label = m_legendLabels[i];
    label->setVisible(i < segments.size());
    if (i >= segments.size()) continue;
    const Segment& s = segments[i];
    label->setText(QStringLiteral("<span style=\"color:%1\">&#9632;</span> %2: <b>%3</b>")
                       .arg(s.color.name(), s.name.toHtmlEscaped(), formatBytes(s.bytes)));
    label->setToolTip(s.toolTip);
  }
  m_strip->update();
}

void MemoryBar::clear() {
  setSegments({}, 0);
  m_headline->clear();
}

qint64 MemoryBar::bytesOf(const QString& key) const {
  for (const Segment& s : m_segments)
    if (s.key == key) return s.bytes;
  return -1;
}

QString MemoryBar::legendText() const {
  QStringList lines;
  for (const Segment& s : m_segments)
    lines << QStringLiteral("%1: %2").arg(s.name, formatBytes(s.bytes));
  return lines.join(QLatin1Char('\n'));
}
