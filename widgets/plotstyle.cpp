// The shared plot look (see plotstyle.h).
#include "plotstyle.h"

#include <qcustomplot.h>

#include <QFont>
#include <QPalette>

void applyPlotStyle(QCustomPlot* plot, const QPalette& palette, const QFont& font) {
  const QColor background = palette.color(QPalette::Base);
  const QColor text = palette.color(QPalette::Text);
  // Derived from the text colour so the same alphas work on light and dark themes: axes clearly
  // visible, grid present but quieter than any data line.
  QColor axisColor = text;
  axisColor.setAlpha(140);
  QColor gridColor = text;
  gridColor.setAlpha(30);

  // Tick labels a notch smaller than the UI font: they are dense and secondary to the curve.
  QFont tickFont = font;
  if (font.pointSizeF() > 0) tickFont.setPointSizeF(font.pointSizeF() * 0.9);

  plot->setBackground(background);
  plot->axisRect()->setBackground(background);
  plot->plotLayout()->setMargins(QMargins(2, 2, 6, 2));
  for (QCPAxis* axis : {plot->xAxis, plot->yAxis}) {
    axis->setBasePen(QPen(axisColor, 1));
    axis->setTickPen(QPen(axisColor, 1));
    axis->setSubTickPen(QPen(axisColor, 1));
    axis->setTickLength(0, 4);
    axis->setSubTickLength(0, 2);
    axis->setTickLabelColor(text);
    axis->setLabelColor(text);
    axis->setTickLabelFont(tickFont);
    axis->setLabelFont(font);
    axis->grid()->setPen(QPen(gridColor, 1, Qt::SolidLine));
    axis->grid()->setZeroLinePen(QPen(gridColor, 1, Qt::SolidLine));
    axis->grid()->setSubGridVisible(false);
  }

  QColor legendBackground = background;
  legendBackground.setAlpha(220);  // curves behind the legend stay faintly visible
  plot->legend->setBrush(legendBackground);
  plot->legend->setBorderPen(QPen(axisColor, 1));
  plot->legend->setFont(tickFont);
  plot->legend->setTextColor(text);
  plot->legend->setIconSize(18, 10);
  plot->legend->setRowSpacing(0);
}
