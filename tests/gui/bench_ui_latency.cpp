// UI responsiveness while training: a 10 ms precise timer on the UI thread records how late each
// tick fires, first with the window idle, then while the worker thread trains the sample's base
// model and the Train page's plots update live. Prints the 50th/99th percentile and the worst
// lateness of both phases (same process, same window), the steps trained and the replots done.
//   bench_ui_latency [--steps N] [--idle-seconds S]
#include <QApplication>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <vector>

#include "configdraft.h"
#include "gui_support.h"
#include "liveplot.h"
#include "mainwindow.h"
#include "metatypes.h"
#include "projectsession.h"
#include "runcontroller.h"
#include "trainpage.h"

namespace {

constexpr int kTickMs = 10;

struct Stats {
  double p50 = 0, p99 = 0, max = 0;
  size_t n = 0;
};

Stats summarize(std::vector<double> late) {
  Stats s;
  s.n = late.size();
  if (late.empty()) return s;
  std::sort(late.begin(), late.end());
  const auto at = [&](double q) {
    return late[std::min(late.size() - 1, static_cast<size_t>(q * (late.size() - 1) + 0.5))];
  };
  s.p50 = at(0.50);
  s.p99 = at(0.99);
  s.max = late.back();
  return s;
}

// Runs the event loop with a kTickMs timer until `done` returns true; returns each tick's
// lateness in ms (time since the previous tick minus the period).
template <typename Done>
std::vector<double> measure(Done done) {
  std::vector<double> late;
  QElapsedTimer clock;
  clock.start();
  qint64 last = clock.nsecsElapsed();
  QTimer timer;
  timer.setTimerType(Qt::PreciseTimer);
  timer.setInterval(kTickMs);
  QEventLoop loop;
  QObject::connect(&timer, &QTimer::timeout, [&] {
    const qint64 now = clock.nsecsElapsed();
    late.push_back(std::max(0.0, (now - last) / 1e6 - kTickMs));
    last = now;
    if (done()) loop.quit();
  });
  timer.start();
  loop.exec();
  return late;
}

}  // namespace

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
    qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  int steps = 150;
  double idleSeconds = 3.0;
  for (int i = 1; i + 1 < argc; ++i) {
    if (QByteArray(argv[i]) == "--steps") steps = std::atoi(argv[i + 1]);
    if (QByteArray(argv[i]) == "--idle-seconds") idleSeconds = std::atof(argv[i + 1]);
  }
  QTemporaryDir dir;
  deeptune::test::isolateSettings(dir.filePath(QStringLiteral("settings")));
  registerDeepTuneMetaTypes();
  MainWindow window;
  window.resize(1280, 820);
  window.show();
  if (!window.createProject(dir.filePath(QStringLiteral("bench.dtproj")), true)) return 1;
  auto config = window.draft()->document();
  {
    // The sample's pretraining config: a full fine-tune of preset:tiny on English dates.
    auto store = deeptune::ProjectStore::open(window.session()->path().toStdString());
    config = nlohmann::json::parse(store->presets().at("pretrain"));
  }
  config["train"]["max_steps"] = steps;
  config["train"]["eval_every"] = 25;
  window.draft()->setDocument(config);
  window.showPage(MainWindow::kTrain);

  QElapsedTimer idleClock;
  idleClock.start();
  const auto idle = summarize(measure([&] { return idleClock.elapsed() > idleSeconds * 1000; }));

  int batches = 0, stepCount = 0;
  QObject::connect(window.runController(), &RunController::stepsFinished,
                   [&](qint64, const QList<deeptune::StepMetrics>& s) {
                     ++batches;
                     stepCount += s.size();
                   });
  QElapsedTimer runClock;
  runClock.start();
  if (!window.trainPage()->startRun(QStringLiteral("bench"))) return 1;
  const int replotsBefore = window.trainPage()->lossPlot()->replotCount();
  const auto training = summarize(measure(
      [&] { return !window.runController()->isBusy() && !window.trainPage()->isStarting(); }));
  const double seconds = runClock.elapsed() / 1000.0;
  const int replots = window.trainPage()->lossPlot()->replotCount() - replotsBefore;

  std::printf("UI event-loop lateness of a %d ms timer (ms)\n", kTickMs);
  std::printf("%-22s %8s %8s %8s %8s\n", "phase", "ticks", "p50", "p99", "max");
  std::printf("%-22s %8zu %8.2f %8.2f %8.2f\n", "idle window", idle.n, idle.p50, idle.p99, idle.max);
  std::printf("%-22s %8zu %8.2f %8.2f %8.2f\n", "training (live plots)", training.n, training.p50,
              training.p99, training.max);
  std::printf("run: %d steps in %.1f s (%.1f steps/s), %d step batches received (%.1f/s), "
              "%d loss-plot replots (%.1f/s)\n",
              stepCount, seconds, stepCount / seconds, batches, batches / seconds, replots,
              replots / seconds);
  std::printf("target: p99 < 50 ms while training -> %s\n", training.p99 < 50 ? "met" : "MISSED");
  return 0;
}
