// UI responsiveness while training: a 10 ms precise timer on the UI thread records how late each
// tick fires, first with the window idle, then while the worker thread trains the sample's base
// model and the Train page's plots update live. Prints the 50th/99th percentile and the worst
// lateness of both phases (same process, same window), the steps trained and the replots done.
//   bench_ui_latency [--steps N] [--idle-seconds S]
// --attention: the Attention page at scale instead. Writes a project whose run holds synthetic
// snapshots (causal softmax rows of random scores, packed and stored as training stores them),
// opens the page on it and times head switches and step switches (one on, and jumps to a step
// nothing has read), from the request until the step is shown and the heatmap has replotted.
// Prints median, p90 and max against 50 ms.
//   bench_ui_latency --attention [--layers L] [--heads H] [--tokens T] [--snapshots S]
//                    [--switches N] [--pause-ms P] [--no-previews]
// --no-previews: snapshots as recorded before schema version 5, without the stored previews.
#include <QApplication>
#include <QElapsedTimer>
#include <QSlider>
#include <QTemporaryDir>
#include <QTimer>
#include <QtConcurrent/QtConcurrentMap>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <vector>

#include "attentionpage.h"
#include "configdraft.h"
#include "deeptune/attention_map.h"
#include "gui_support.h"
#include "heatmapplot.h"
#include "liveplot.h"
#include "mainwindow.h"
#include "metatypes.h"
#include "projectsession.h"
#include "runcontroller.h"
#include "trainpage.h"

namespace {

constexpr int kTickMs = 10;

struct Stats {
  double p50 = 0, p90 = 0, p99 = 0, max = 0;
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
  s.p90 = at(0.90);
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

struct Shape {
  int layers = 32, heads = 32, tokens = 512, snapshots = 6;
  bool previews = true;  // as captured since schema version 5 (--no-previews: as before)
};

// One layer of a synthetic snapshot: heads x t x t causal softmax rows of random scores (as
// peaked as a trained head's: scores spread over about 6 nats), packed, with their statistics.
deeptune::AttentionMapRecord syntheticLayer(int64_t run, int64_t step, int layer, const Shape& s) {
  const int t = s.tokens;
  std::vector<float> maps(size_t(s.heads) * t * t, 0.0f);
  uint64_t state = 0x9E3779B97F4A7C15ull ^ (uint64_t(step) << 20) ^ uint64_t(layer);
  auto uniform = [&state] {  // xorshift64*: 268 M draws a snapshot, std::mt19937 is too slow
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return float((state * 2685821657736338717ull) >> 40) / float(1 << 24);
  };
  nlohmann::json stats = nlohmann::json::array();
  for (int h = 0; h < s.heads; ++h) {
    float* map = maps.data() + size_t(h) * t * t;
    for (int i = 0; i < t; ++i) {
      float* row = map + size_t(i) * t;
      float sum = 0;
      for (int j = 0; j <= i; ++j) sum += row[j] = std::exp(6.0f * uniform());
      for (int j = 0; j <= i; ++j) row[j] /= sum;
    }
    const auto hs = deeptune::head_stats(map, t);
    stats.push_back({hs.entropy, hs.sink, hs.previous, hs.max});
  }
  deeptune::AttentionMapRecord r;
  r.run_id = run;
  r.probe = 0;
  r.step = step;
  r.layer = layer;
  r.heads = s.heads;
  r.length = t;
  r.size = t;
  r.codec = deeptune::kMapsCodec;
  r.data = deeptune::pack_maps(maps);
  r.stats_json = stats.dump();
  if (s.previews) {
    int64_t side = 0;
    r.preview = deeptune::pack_preview(maps.data(), s.heads, t, deeptune::kPreviewSide, &side);
    r.preview_size = int(side);
  }
  return r;
}

// Writes the synthetic run into the open project; returns its id.
qint64 writeSyntheticRun(const std::string& path, const Shape& s) {
  auto store = deeptune::ProjectStore::open(path);
  std::vector<std::string> tokens;
  for (int i = 0; i < s.tokens; ++i) tokens.push_back("t" + std::to_string(i));
  const int64_t id = deeptune::test::createProbedRun(*store, "synthetic attention", tokens);
  std::vector<int> layers(size_t(s.layers));
  std::iota(layers.begin(), layers.end(), 0);
  for (int k = 0; k < s.snapshots; ++k) {
    const int64_t step = int64_t(k) * 50;
    const auto records = QtConcurrent::blockingMapped<std::vector<deeptune::AttentionMapRecord>>(
        layers, [&](int layer) { return syntheticLayer(id, step, layer, s); });
    store->append_attention_maps(records);
  }
  return id;
}

// Milliseconds from `request` until the page has shown a step and the heatmap has replotted.
template <typename Request>
double timeRedraw(AttentionPage* page, Request request) {
  bool shown = false, plotted = false;
  QEventLoop loop;
  QElapsedTimer clock;
  const auto a = QObject::connect(page, &AttentionPage::stepShown, [&] {
    shown = true;
    if (plotted) loop.quit();
  });
  const auto b = QObject::connect(page->heatmap(), &HeatmapPlot::replotted, [&] {
    plotted = true;
    if (shown) loop.quit();
  });
  QTimer::singleShot(120000, &loop, &QEventLoop::quit);
  clock.start();
  request();
  if (!(shown && plotted)) loop.exec();
  const double ms = clock.nsecsElapsed() / 1e6;
  QObject::disconnect(a);
  QObject::disconnect(b);
  return shown && plotted ? ms : -1;
}

void pause(int ms) {
  QEventLoop loop;
  QTimer::singleShot(ms, &loop, &QEventLoop::quit);
  loop.exec();
}

int attentionBench(MainWindow& window, const QTemporaryDir& dir, const QStringList& args) {
  Shape shape;
  int switches = 30, pauseMs = 400;  // the pause: Play's interval, a user stepping with the keys
  for (int i = 0; i + 1 < args.size(); ++i) {
    const int v = args[i + 1].toInt();
    if (args[i] == QLatin1String("--layers")) shape.layers = v;
    if (args[i] == QLatin1String("--heads")) shape.heads = v;
    if (args[i] == QLatin1String("--tokens")) shape.tokens = v;
    if (args[i] == QLatin1String("--snapshots")) shape.snapshots = v;
    if (args[i] == QLatin1String("--switches")) switches = v;
    if (args[i] == QLatin1String("--pause-ms")) pauseMs = v;
  }
  shape.previews = !args.contains(QStringLiteral("--no-previews"));
  const QString path = dir.filePath(QStringLiteral("attention.dtproj"));
  if (!window.createProject(path, false)) return 1;
  QElapsedTimer writing;
  writing.start();
  const qint64 run = writeSyntheticRun(path.toStdString(), shape);
  std::printf("wrote %d snapshots of %d layers x %d heads x %d tokens in %.1f s\n", shape.snapshots,
              shape.layers, shape.heads, shape.tokens, writing.elapsed() / 1e3);
  window.session()->reloadRuns();
  window.showPage(MainWindow::kAttention);
  AttentionPage* page = window.attentionPage();
  const double first = timeRedraw(page, [&] { page->showRun(run, 0); });
  if (first < 0) return 1;
  std::printf("first step shown %.0f ms after opening the run\n", first);

  // Head switches: a new layer and head each time (a new layer is the costlier case).
  std::vector<double> heads;
  for (int i = 0; i < switches; ++i) {
    const int layer = (i * 7 + 3) % shape.layers, head = (i * 5 + 1) % shape.heads;
    heads.push_back(timeRedraw(page, [&] { page->selectHead(layer, head); }));
    pause(50);
  }
  // Step switches: the slider one position on, then back at the ends, `pauseMs` apart.
  std::vector<double> steps, cold;
  std::vector<bool> seen(size_t(shape.snapshots), false);
  seen[size_t(page->stepSlider()->value())] = true;
  int direction = -1;
  for (int i = 0; i < switches; ++i) {
    QSlider* slider = page->stepSlider();
    if (slider->value() + direction < 0 || slider->value() + direction > slider->maximum())
      direction = -direction;
    const int to = slider->value() + direction;
    pause(pauseMs);
    const double ms = timeRedraw(page, [&] { slider->setValue(to); });
    (seen[size_t(to)] ? steps : cold).push_back(ms);
    seen[size_t(to)] = true;
  }
  // Jumps to a step nothing has read: the run opened afresh (its cache empty, the slider at the
  // newest step), then the slider moved two or more steps away, past the neighbours prefetched.
  std::vector<double> unread;
  for (int i = 0; i < switches / 2 && page->stepSlider()->maximum() >= 2; ++i) {
    QSlider* slider = page->stepSlider();
    if (slider->value() != slider->maximum() &&
        timeRedraw(page, [&] { slider->setValue(slider->maximum()); }) < 0)
      return 1;
    if (timeRedraw(page, [&] { page->showRun(run, 0); }) < 0) return 1;
    pause(pauseMs);
    const int to = i % (slider->maximum() - 1);
    unread.push_back(timeRedraw(page, [&] { slider->setValue(to); }));
  }
  std::printf("Attention page redraw latency (ms), %d layers x %d heads x %d tokens, %d steps\n",
              shape.layers, shape.heads, shape.tokens, shape.snapshots);
  std::printf("%-34s %6s %8s %8s %8s\n", "switch", "n", "median", "p90", "max");
  bool met = true;
  const auto row = [&](const char* name, const std::vector<double>& ms, bool counts) {
    const Stats p = summarize(ms);
    std::printf("%-34s %6zu %8.1f %8.1f %8.1f\n", name, ms.size(), p.p50, p.p90, p.max);
    if (counts && !ms.empty() && (p.p90 > 50 || *std::min_element(ms.begin(), ms.end()) < 0))
      met = false;
  };
  row("head (new layer and head)", heads, true);
  row("step (seen before)", steps, true);
  row("step (first visit)", cold, true);
  row("step (jump to an unread step)", unread, true);
  std::printf("target: p90 <= 50 ms for every kind of switch -> %s\n", met ? "met" : "MISSED");
  return 0;
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
  if (app.arguments().contains(QStringLiteral("--attention")))
    return attentionBench(window, dir, app.arguments());
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
  std::printf("%-22s %8zu %8.2f %8.2f %8.2f\n", "idle window", idle.n, idle.p50, idle.p99,
              idle.max);
  std::printf("%-22s %8zu %8.2f %8.2f %8.2f\n", "training (live plots)", training.n, training.p50,
              training.p99, training.max);
  std::printf(
      "run: %d steps in %.1f s (%.1f steps/s), %d step batches received (%.1f/s), "
      "%d loss-plot replots (%.1f/s)\n",
      stepCount, seconds, stepCount / seconds, batches, batches / seconds, replots,
      replots / seconds);
  std::printf("target: p99 < 50 ms while training -> %s\n", training.p99 < 50 ? "met" : "MISSED");
  return 0;
}
