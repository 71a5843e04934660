// The one look shared by the workbench plots: palette-aware colours, a light grid, readable fonts.
// Private to dt_widgets: its source includes qcustomplot.h, which QT_NO_KEYWORDS targets cannot.
#pragma once

class QCustomPlot;
class QFont;
class QPalette;

// Styles axes, grid, legend and background of `plot` from the widget's palette and font; call
// again on QEvent::PaletteChange / FontChange so a dark theme is followed.
void applyPlotStyle(QCustomPlot* plot, const QPalette& palette, const QFont& font);
