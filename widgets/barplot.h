// BarPlot: histograms and per-category counts, one or more series drawn side by side.
// Redraws only while visible; changes made while hidden are drawn once on show.
#pragma once

#include <QColor>
#include <QList>
#include <QString>
#include <QStringList>
#include <QVector>
#include <QWidget>

class QCPBarsGroup;
class QCustomPlot;
class QLabel;

struct BarSeries {
  QString name;
  QColor color;
  QVector<double> values;  // one per category, in category order
};

// Title and an optional note line (e.g. "12 samples longer than the context were cut") over a
// QCustomPlot bar chart. A series' values beyond the category count are ignored, missing ones and
// NaN/infinite ones count as 0. Tick labels turn when there are many categories, and are thinned
// out when there are more than fit.
class BarPlot : public QWidget {
  Q_OBJECT
 public:
  explicit BarPlot(QWidget* parent = nullptr);
  ~BarPlot() override;

  void setTitle(const QString& title);
  void setAxisLabels(const QString& x, const QString& y);
  void setCategories(const QStringList& labels);  // x tick labels, one per bar position
  void setSeries(const QList<BarSeries>& series);
  void setNote(const QString& text, bool warning);  // red and bold when warning; empty hides it
  QString note() const { return m_note; }
  bool noteIsWarning() const { return m_noteIsWarning; }

  int categoryCount() const { return m_categories.size(); }
  int seriesCount() const { return m_series.size(); }
  double value(int series, int category) const;  // 0 outside the data
  void clear();  // drops categories, series and note; keeps title and axis labels

  int replotCount() const { return m_replotCount; }  // replots issued; tests check hidden

 protected:
  void showEvent(QShowEvent* event) override;
  void changeEvent(QEvent* event) override;

 private:
  void rebuild();
  void replotIfVisible();
  void restyle();
  void updateNoteLook();

  QLabel* m_titleLabel = nullptr;
  QLabel* m_noteLabel = nullptr;
  QCustomPlot* m_plot = nullptr;
  QCPBarsGroup* m_group = nullptr;
  QStringList m_categories;
  QList<BarSeries> m_series;  // as given, NaN/inf replaced by 0; cut to the categories when drawn
  QString m_note;
  bool m_noteIsWarning = false;
  bool m_dirty = false;
  int m_replotCount = 0;
};
