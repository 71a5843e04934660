// Tests of the plot widgets: batches coalesce into few replots, hidden plots do not draw,
// follow-latest tracks new data until the user takes the view, bad points are dropped, and the
// bar plot keeps what it is given.
#include <QtTest>
#include <QtWidgets>
#include <cmath>
#include <limits>

#include "barplot.h"
#include "liveplot.h"

namespace {

// A batch of `count` points on y = 1 + x/100, x starting at `first`.
QVector<QPointF> ramp(int first, int count) {
  QVector<QPointF> points;
  points.reserve(count);
  for (int i = first; i < first + count; ++i) points.append(QPointF(i, 1.0 + i / 100.0));
  return points;
}

QWidget* canvasOf(LivePlot& plot) {
  return plot.findChild<QWidget*>(QStringLiteral("livePlotCanvas"));
}

bool contains(const QPair<double, double>& range, double v) {
  return range.first <= v && v <= range.second;
}

}  // namespace

class TestWidgets : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void batchesCoalesceIntoFewReplots();
  void hiddenPlotReplotsOnlyOnShow();
  void followLatestTracksNewPoints();
  void wheelTurnsFollowOff();
  void pressTurnsFollowOffAndDoubleClickRestoresIt();
  void checkBoxDrivesFollow();
  void logScaleIgnoresNonPositive();
  void nonFinitePointsAreDropped_data();
  void nonFinitePointsAreDropped();
  void outOfOrderBatchStaysSorted();
  void seriesLifecycle();
  void fastFeedReplotsAtMost30Hz();
  void barValuesRoundTrip();
  void barMissingValuesAreZero_data();
  void barMissingValuesAreZero();
  void barNoteRoundTrip();
  void barClearKeepsNothing();
  void hiddenBarPlotReplotsOnShow();
};

void TestWidgets::batchesCoalesceIntoFewReplots() {
  LivePlot plot;
  plot.resize(480, 320);
  const int s = plot.addSeries(QStringLiteral("loss"), Qt::blue);
  plot.show();
  QVERIFY(QTest::qWaitForWindowExposed(&plot));
  const int before = plot.replotCount();
  for (int batch = 0; batch < 10; ++batch) plot.appendPoints(s, ramp(batch * 50, 50));
  QTest::qWait(100);
  QCOMPARE(plot.pointCount(s), 500);
  QCOMPARE(plot.lastPoint(s), QPointF(499, 1.0 + 499 / 100.0));
  const int replots = plot.replotCount() - before;
  QVERIFY2(replots >= 1 && replots <= 2, qPrintable(QString::number(replots)));
}

void TestWidgets::hiddenPlotReplotsOnlyOnShow() {
  LivePlot plot;
  plot.resize(480, 320);
  const int s = plot.addSeries(QStringLiteral("loss"), Qt::blue);
  for (int batch = 0; batch < 5; ++batch) {
    plot.appendPoints(s, ramp(batch * 20, 20));
    QTest::qWait(40);  // longer than the replot interval: each batch would replot if shown
  }
  QCOMPARE(plot.replotCount(), 0);
  QCOMPARE(plot.pointCount(s), 100);
  plot.show();
  QCOMPARE(plot.replotCount(), 1);
  QVERIFY(contains(plot.visibleXRange(), 99.0));  // followed while hidden data was drawn
  QTest::qWait(100);
  QCOMPARE(plot.replotCount(), 1);  // nothing new arrived: no further replot

  plot.hide();
  plot.appendPoints(s, ramp(100, 10));
  QTest::qWait(100);
  QCOMPARE(plot.replotCount(), 1);
  plot.show();
  QCOMPARE(plot.replotCount(), 2);
}

void TestWidgets::followLatestTracksNewPoints() {
  LivePlot plot;
  plot.resize(480, 320);
  const int s = plot.addSeries(QStringLiteral("loss"), Qt::blue);
  plot.show();
  QVERIFY(QTest::qWaitForWindowExposed(&plot));
  QVERIFY(plot.followLatest());
  plot.appendPoints(s, ramp(0, 100));
  QTRY_VERIFY(contains(plot.visibleXRange(), 99.0));
  plot.appendPoints(s, ramp(100, 400));
  QTRY_VERIFY(contains(plot.visibleXRange(), 499.0));
  QVERIFY(contains(plot.visibleXRange(), 0.0));  // x spans first to last point
  // y covers the data with a margin: 1.0 .. 5.99
  QVERIFY(plot.visibleYRange().first < 1.0);
  QVERIFY(plot.visibleYRange().second > 1.0 + 499 / 100.0);
}

void TestWidgets::wheelTurnsFollowOff() {
  LivePlot plot;
  plot.resize(480, 320);
  const int s = plot.addSeries(QStringLiteral("loss"), Qt::blue);
  plot.appendPoints(s, ramp(0, 100));
  plot.show();
  QVERIFY(QTest::qWaitForWindowExposed(&plot));
  QSignalSpy spy(&plot, &LivePlot::followLatestChanged);
  QWidget* canvas = canvasOf(plot);
  QVERIFY(canvas);

  const QPointF at(canvas->width() / 2.0, canvas->height() / 2.0);
  QWheelEvent wheel(at, canvas->mapToGlobal(at), QPoint(), QPoint(0, 120), Qt::NoButton,
                    Qt::NoModifier, Qt::NoScrollPhase, false);
  QApplication::sendEvent(canvas, &wheel);
  QCOMPARE(plot.followLatest(), false);
  QCOMPARE(spy.count(), 1);
  QCOMPARE(spy.at(0).at(0).toBool(), false);
  QVERIFY(!plot.findChild<QCheckBox*>(QStringLiteral("livePlotFollow"))->isChecked());

  // With follow off, new points must not move the view the user chose.
  const QPair<double, double> chosen = plot.visibleXRange();
  const int replots = plot.replotCount();
  plot.appendPoints(s, ramp(100, 1000));
  QTRY_VERIFY(plot.replotCount() > replots);
  QCOMPARE(plot.visibleXRange(), chosen);
  QVERIFY(!contains(plot.visibleXRange(), 1099.0));
}

void TestWidgets::pressTurnsFollowOffAndDoubleClickRestoresIt() {
  LivePlot plot;
  plot.resize(480, 320);
  const int s = plot.addSeries(QStringLiteral("loss"), Qt::blue);
  plot.appendPoints(s, ramp(0, 100));
  plot.show();
  QVERIFY(QTest::qWaitForWindowExposed(&plot));
  QWidget* canvas = canvasOf(plot);
  QSignalSpy spy(&plot, &LivePlot::followLatestChanged);

  QTest::mousePress(canvas, Qt::LeftButton, Qt::NoModifier, canvas->rect().center());
  QTest::mouseMove(canvas, canvas->rect().center() + QPoint(60, 0));
  QTest::mouseRelease(canvas, Qt::LeftButton, Qt::NoModifier,
                      canvas->rect().center() + QPoint(60, 0));
  QCOMPARE(plot.followLatest(), false);
  QCOMPARE(spy.count(), 1);

  plot.appendPoints(s, ramp(100, 400));
  QTest::qWait(60);
  QVERIFY(!contains(plot.visibleXRange(), 499.0));

  QTest::mouseDClick(canvas, Qt::LeftButton, Qt::NoModifier, canvas->rect().center());
  QCOMPARE(plot.followLatest(), true);
  QCOMPARE(spy.last().at(0).toBool(), true);
  QTRY_VERIFY(contains(plot.visibleXRange(), 499.0));
  QVERIFY(contains(plot.visibleXRange(), 0.0));
}

void TestWidgets::checkBoxDrivesFollow() {
  LivePlot plot;
  QSignalSpy spy(&plot, &LivePlot::followLatestChanged);
  auto* box = plot.findChild<QCheckBox*>(QStringLiteral("livePlotFollow"));
  QVERIFY(box);
  QVERIFY(box->isChecked());
  box->click();
  QCOMPARE(plot.followLatest(), false);
  QCOMPARE(spy.count(), 1);
  plot.setFollowLatest(true);
  QVERIFY(box->isChecked());
  QCOMPARE(spy.count(), 2);
  plot.setFollowLatest(true);  // no change, no signal
  QCOMPARE(spy.count(), 2);
}

void TestWidgets::logScaleIgnoresNonPositive() {
  LivePlot plot;
  plot.resize(480, 320);
  const int s = plot.addSeries(QStringLiteral("loss"), Qt::blue);
  plot.setLogScaleY(true);
  QVERIFY(plot.logScaleY());
  plot.appendPoints(s, {{0, -3.0}, {1, 0.0}, {2, 0.5}, {3, 2.0}, {4, 40.0}});
  plot.show();
  QVERIFY(QTest::qWaitForWindowExposed(&plot));
  QTRY_VERIFY(plot.replotCount() >= 1);
  const QPair<double, double> y = plot.visibleYRange();
  QVERIFY2(y.first > 0.0 && y.first < 0.5, qPrintable(QString::number(y.first)));
  QVERIFY(y.first > 0.1);  // the padding is a small factor, not a fall towards zero
  QVERIFY(y.second > 40.0 && y.second < 100.0);

  // Back to linear: the negative value is in the data and comes back into view.
  plot.setLogScaleY(false);
  QTRY_VERIFY(plot.visibleYRange().first < -3.0);
}

void TestWidgets::nonFinitePointsAreDropped_data() {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  QTest::addColumn<QVector<QPointF>>("points");
  QTest::addColumn<int>("kept");
  QTest::addColumn<QPointF>("last");
  QTest::newRow("clean") << QVector<QPointF>{{0, 1}, {1, 2}} << 2 << QPointF(1, 2);
  QTest::newRow("nan y") << QVector<QPointF>{{0, 1}, {1, nan}, {2, 3}} << 2 << QPointF(2, 3);
  QTest::newRow("nan x") << QVector<QPointF>{{0, 1}, {nan, 2}} << 1 << QPointF(0, 1);
  QTest::newRow("inf y last") << QVector<QPointF>{{0, 1}, {1, inf}} << 1 << QPointF(0, 1);
  QTest::newRow("-inf y") << QVector<QPointF>{{0, -inf}, {1, 5}} << 1 << QPointF(1, 5);
  QTest::newRow("all bad") << QVector<QPointF>{{nan, nan}, {inf, 1}} << 0 << QPointF();
}

void TestWidgets::nonFinitePointsAreDropped() {
  QFETCH(QVector<QPointF>, points);
  QFETCH(int, kept);
  QFETCH(QPointF, last);
  LivePlot plot;
  plot.resize(480, 320);
  const int s = plot.addSeries(QStringLiteral("loss"), Qt::blue);
  plot.appendPoints(s, points);
  QCOMPARE(plot.pointCount(s), kept);
  QCOMPARE(plot.lastPoint(s), last);
  plot.setPoints(s, points);
  QCOMPARE(plot.pointCount(s), kept);

  plot.show();
  QVERIFY(QTest::qWaitForWindowExposed(&plot));
  QTRY_VERIFY(plot.replotCount() >= 1);
  const QPair<double, double> x = plot.visibleXRange();
  const QPair<double, double> y = plot.visibleYRange();
  QVERIFY(std::isfinite(x.first) && std::isfinite(x.second));
  QVERIFY(std::isfinite(y.first) && std::isfinite(y.second));
}

void TestWidgets::outOfOrderBatchStaysSorted() {
  LivePlot plot;
  const int s = plot.addSeries(QStringLiteral("loss"), Qt::blue);
  plot.appendPoints(s, {{10, 1}, {11, 1}});
  plot.appendPoints(s, {{12, 4}, {5, 2}, {3, 3}});
  QCOMPARE(plot.pointCount(s), 5);
  QCOMPARE(plot.lastPoint(s), QPointF(12, 4));
}

void TestWidgets::seriesLifecycle() {
  LivePlot plot;
  QCOMPARE(plot.seriesCount(), 0);
  QCOMPARE(plot.addSeries(QStringLiteral("train"), Qt::blue), 0);
  QCOMPARE(plot.addSeries(QStringLiteral("eval"), Qt::red, true), 1);
  QCOMPARE(plot.seriesCount(), 2);
  plot.appendPoints(0, ramp(0, 10));
  plot.appendPoints(1, ramp(0, 3));
  plot.appendPoints(7, ramp(0, 3));  // unknown id: ignored
  QCOMPARE(plot.pointCount(7), 0);
  QCOMPARE(plot.lastPoint(7), QPointF());
  plot.setPoints(1, ramp(5, 2));
  QCOMPARE(plot.pointCount(1), 2);
  QCOMPARE(plot.lastPoint(1), QPointF(6, 1.06));

  plot.clearPoints();
  QCOMPARE(plot.seriesCount(), 2);
  QCOMPARE(plot.pointCount(0), 0);
  QCOMPARE(plot.lastPoint(0), QPointF());

  plot.clearSeries();
  QCOMPARE(plot.seriesCount(), 0);
  QCOMPARE(plot.addSeries(QStringLiteral("again"), Qt::blue), 0);
}

void TestWidgets::fastFeedReplotsAtMost30Hz() {
  LivePlot plot;
  plot.resize(640, 400);
  const int s = plot.addSeries(QStringLiteral("loss"), Qt::blue);
  plot.show();
  QVERIFY(QTest::qWaitForWindowExposed(&plot));
  const int before = plot.replotCount();
  QElapsedTimer clock;
  clock.start();
  // 100 batches of 1000 points, one per millisecond or so: far faster than any useful redraw.
  int batches = 0;
  QTimer feeder;
  feeder.setInterval(1);
  connect(&feeder, &QTimer::timeout, &plot, [&] {
    plot.appendPoints(s, ramp(batches * 1000, 1000));
    if (++batches == 100) feeder.stop();
  });
  feeder.start();
  QTRY_COMPARE_WITH_TIMEOUT(batches, 100, 20000);
  QTRY_VERIFY(contains(plot.visibleXRange(), 99999.0));
  const qint64 elapsedMs = clock.elapsed();
  QCOMPARE(plot.pointCount(s), 100000);
  QCOMPARE(plot.lastPoint(s), QPointF(99999, 1.0 + 99999 / 100.0));
  // At most one replot per 33 ms interval, plus the one in flight at each end.
  const int replots = plot.replotCount() - before;
  QVERIFY2(replots >= 1 && replots <= elapsedMs / 33 + 2,
           qPrintable(QStringLiteral("%1 replots in %2 ms").arg(replots).arg(elapsedMs)));
}

void TestWidgets::barValuesRoundTrip() {
  BarPlot plot;
  plot.setCategories({QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")});
  plot.setSeries({{QStringLiteral("train"), Qt::blue, {1, 2, 3}},
                  {QStringLiteral("eval"), Qt::red, {4, 5, 6}}});
  QCOMPARE(plot.categoryCount(), 3);
  QCOMPARE(plot.seriesCount(), 2);
  QCOMPARE(plot.value(0, 2), 3.0);
  QCOMPARE(plot.value(1, 0), 4.0);
  QCOMPARE(plot.value(2, 0), 0.0);  // no such series
  QCOMPARE(plot.value(0, -1), 0.0);
}

void TestWidgets::barMissingValuesAreZero_data() {
  QTest::addColumn<QVector<double>>("values");
  QTest::addColumn<QVector<double>>("expected");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  QTest::newRow("exact") << QVector<double>{1, 2, 3} << QVector<double>{1, 2, 3};
  QTest::newRow("missing") << QVector<double>{7} << QVector<double>{7, 0, 0};
  QTest::newRow("none") << QVector<double>{} << QVector<double>{0, 0, 0};
  QTest::newRow("extra") << QVector<double>{1, 2, 3, 4, 5} << QVector<double>{1, 2, 3};
  QTest::newRow("nan") << QVector<double>{1, nan, 3} << QVector<double>{1, 0, 3};
}

void TestWidgets::barMissingValuesAreZero() {
  QFETCH(QVector<double>, values);
  QFETCH(QVector<double>, expected);
  BarPlot plot;
  plot.setCategories({QStringLiteral("x"), QStringLiteral("y"), QStringLiteral("z")});
  plot.setSeries({{QStringLiteral("counts"), Qt::darkGreen, values}});
  for (int c = 0; c < expected.size(); ++c) QCOMPARE(plot.value(0, c), expected[c]);
  QCOMPARE(plot.value(0, 3), 0.0);  // past the categories, whatever the series holds

  // Categories set after the series: the series is cut or padded to the new count.
  plot.setCategories({QStringLiteral("x")});
  QCOMPARE(plot.value(0, 1), 0.0);
  QCOMPARE(plot.value(0, 0), expected[0]);
}

void TestWidgets::barNoteRoundTrip() {
  BarPlot plot;
  auto* label = plot.findChild<QLabel*>(QStringLiteral("barPlotNote"));
  QVERIFY(label);
  QVERIFY(label->isHidden());
  plot.setNote(QStringLiteral("12 samples were cut"), true);
  QCOMPARE(plot.note(), QStringLiteral("12 samples were cut"));
  QVERIFY(plot.noteIsWarning());
  QVERIFY(!label->isHidden());
  QCOMPARE(label->text(), QStringLiteral("12 samples were cut"));
  QVERIFY(label->font().bold());
  plot.setNote(QStringLiteral("all fit"), false);
  QVERIFY(!plot.noteIsWarning());
  QVERIFY(!label->font().bold());
  plot.setNote(QString(), false);
  QVERIFY(plot.note().isEmpty());
  QVERIFY(label->isHidden());
}

void TestWidgets::barClearKeepsNothing() {
  BarPlot plot;
  plot.setCategories({QStringLiteral("a"), QStringLiteral("b")});
  plot.setSeries({{QStringLiteral("n"), Qt::blue, {1, 2}}});
  plot.setNote(QStringLiteral("note"), true);
  plot.clear();
  QCOMPARE(plot.categoryCount(), 0);
  QCOMPARE(plot.seriesCount(), 0);
  QCOMPARE(plot.value(0, 0), 0.0);
  QVERIFY(plot.note().isEmpty());
  QVERIFY(!plot.noteIsWarning());
}

void TestWidgets::hiddenBarPlotReplotsOnShow() {
  BarPlot plot;
  plot.resize(480, 320);
  plot.setCategories({QStringLiteral("a"), QStringLiteral("b")});
  plot.setSeries({{QStringLiteral("n"), Qt::blue, {1, 2}}});
  QCOMPARE(plot.replotCount(), 0);
  plot.show();
  QCOMPARE(plot.replotCount(), 1);
  plot.setSeries({{QStringLiteral("n"), Qt::blue, {3, 4}}});
  QCOMPARE(plot.replotCount(), 2);
  plot.hide();
  plot.setCategories({QStringLiteral("a")});
  QCOMPARE(plot.replotCount(), 2);
  plot.show();
  QCOMPARE(plot.replotCount(), 3);
}

QTEST_MAIN(TestWidgets)
#include "tst_widgets.moc"
