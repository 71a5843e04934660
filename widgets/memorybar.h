// MemoryBar: one horizontal bar split into coloured segments (a breakdown of bytes), with a legend
// giving every segment's size in human units and a headline. When a capacity is set the bar spans
// it and the rest shows as free; otherwise it spans the segments' sum.
#pragma once

#include <QColor>
#include <QList>
#include <QString>
#include <QWidget>

class QGridLayout;
class QLabel;

class MemoryBar : public QWidget {
  Q_OBJECT
 public:
  struct Segment {
    QString key;  // stable id (for callers and tests), never shown
    QString name;
    QColor color;
    qint64 bytes = 0;
    QString toolTip;  // what the segment counts
  };

  explicit MemoryBar(QWidget* parent = nullptr);

  void setHeadline(const QString& text);
  QString headline() const;
  // capacity <= 0: unknown (the bar spans the segments).
  void setSegments(const QList<Segment>& segments, qint64 capacity = 0);
  void clear();
  const QList<Segment>& segments() const { return m_segments; }
  qint64 capacity() const { return m_capacity; }
  qint64 bytesOf(const QString& key) const;  // -1 when no segment has that key
  QString legendText() const;                // every legend entry, one a line, as shown

 private:
  class Strip;
  QLabel* m_headline;
  Strip* m_strip;
  QGridLayout* m_legend;
  QList<QLabel*> m_legendLabels;
  QList<Segment> m_segments;
  qint64 m_capacity = 0;
};
