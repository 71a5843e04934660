// Memory page. Samples are kept per step (a map: live steps and recorded ones merge by step); the
// timeline is appended to while steps come in order and rebuilt when they do not (a resumed run,
// a late history read). The bar shows the newest sample.
#include "memorypage.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QStackedWidget>
#include <QVBoxLayout>

#include "byteunits.h"
#include "memorybar.h"
#include "memoryforecaster.h"
#include "memorytimeline.h"
#include "projectsession.h"
#include "runcontroller.h"

namespace {

using deeptune::MemorySample;

// Where each stored metric goes in a sample; "memory/activations" is left out because
// MemorySample::activations() derives it from the others.
const struct {
  const char* name;
  int64_t MemorySample::*field;
} kStored[] = {
    {"memory/base_weights", &MemorySample::base_weights},
    {"memory/trainable_weights", &MemorySample::trainable_weights},
    {"memory/gradients", &MemorySample::gradients},
    {"memory/optimizer_state", &MemorySample::optimizer_state},
    {"memory/allocated", &MemorySample::allocated},
    {"memory/reserved", &MemorySample::reserved},
    {"memory/peak_allocated", &MemorySample::peak_allocated},
    {"memory/device_used", &MemorySample::device_used},
    {"memory/device_total", &MemorySample::device_total},
    {"memory/resident", &MemorySample::resident},
};

// Only CUDA has a caching allocator that reserves and a device total to report; the CPU may count
// allocated and peak bytes itself, so those two do not tell the devices apart.
bool isCudaSample(const MemorySample& s) {
  return s.reserved > 0 || s.device_total > 0;
}

// The trainer counts its tensors' peak on the CPU too (runs recorded before it did store none):
// with it, activations have a number on the CPU as well.
bool hasPeak(const MemorySample& s) {
  return s.peak_allocated > 0;
}

struct Category {
  const char* key;
  QString name;
  QColor color;
  QString toolTip;
};

// Bottom to top of the stack. On CUDA the stack reaches the device's used bytes: the counted
// categories plus activations make the step's allocator peak, the cache brings it to reserved,
// and what lies outside LibTorch to what the device reports in use. On the CPU it reaches the
// process's resident size: the counted categories plus activations (when the samples carry the
// step's counted peak) make that peak, and the rest of the process tops it up.
QList<Category> categories(bool cuda, bool cpuPeak) {
  QList<Category> c = {
      {"base_weights", MemoryPage::tr("weights (frozen)"), QColor(0x9a, 0xa8, 0xbd),
       MemoryPage::tr("Parameters that do not train: the base model under the adapters.")},
      {"trainable_weights", MemoryPage::tr("adapters (trainable)"), QColor(0x2c, 0xa0, 0x2c),
       MemoryPage::tr("Parameters that train: LoRA adapters and a classification head (every "
                      "weight in full fine-tuning).")},
      {"gradients", MemoryPage::tr("gradients"), QColor(0xff, 0x7f, 0x0e),
       MemoryPage::tr("Gradients of the trainable weights, alive from the backward pass to the "
                      "update.")},
      {"optimizer_state", MemoryPage::tr("optimizer state"), QColor(0x94, 0x67, 0xbd),
       MemoryPage::tr("AdamW's two moments per trainable weight.")},
  };
  if (cuda) {
    c << Category{"activations", MemoryPage::tr("activations & temporaries"),
                  QColor(0x1f, 0x77, 0xb4),
                  MemoryPage::tr(
                      "At the step's allocator peak, what the categories below do not "
                      "explain: activations kept for the backward pass and temporaries.")}
      << Category{"allocator_cache", MemoryPage::tr("allocator cache"), QColor(0xc9, 0xcd, 0xd3),
                  MemoryPage::tr("Reserved minus the step's peak allocated (never below 0): "
                                 "memory LibTorch's caching allocator holds from the device but no "
                                 "tensor used even at the step's peak.")}
      << Category{"outside_torch", MemoryPage::tr("outside LibTorch"), QColor(0x6f, 0x73, 0x7a),
                  MemoryPage::tr("Used on the device minus reserved: the CUDA context, libraries' "
                                 "workspaces and other processes on the same device.")};
  } else if (cpuPeak) {
    c << Category{"activations", MemoryPage::tr("activations & temporaries"),
                  QColor(0x1f, 0x77, 0xb4),
                  MemoryPage::tr("At the step's peak of the tensors the trainer counts, what the "
                                 "categories below do not explain: activations kept for the "
                                 "backward pass and temporaries.")}
      << Category{"other_process", MemoryPage::tr("other (process)"), QColor(0xd4, 0xd7, 0xdc),
                  MemoryPage::tr("The process's resident size minus the step's peak of counted "
                                 "tensors: libraries, the program, the UI, and memory freed but "
                                 "not yet returned to the system.")};
  } else {
    c << Category{"other_process", MemoryPage::tr("other (process)"), QColor(0xd4, 0xd7, 0xdc),
                  MemoryPage::tr("The process's resident size minus the tensors counted above: "
                                 "activations, temporaries, libraries, the program and the UI.")};
  }
  return c;
}

// The sizes of categories(cuda, cpuPeak), in the same order.
QVector<qint64> categorySizes(const MemorySample& s, bool cuda, bool cpuPeak) {
  const qint64 held = s.base_weights + s.trainable_weights + s.gradients + s.optimizer_state;
  QVector<qint64> v = {s.base_weights, s.trainable_weights, s.gradients, s.optimizer_state};
  if (cuda) {
    const qint64 atPeak = qMax<qint64>(held, s.peak_allocated);
    v << s.activations() << qMax<qint64>(0, s.reserved - atPeak)
      << qMax<qint64>(0, s.device_used - s.reserved);
  } else if (cpuPeak) {
    v << s.activations() << qMax<qint64>(0, s.resident - qMax<qint64>(held, s.peak_allocated));
  } else {
    v << qMax<qint64>(0, s.resident - held);
  }
  return v;
}

// The per-step peak curve: the step's peak of counted tensors (the allocator's on CUDA; what the
// forecast forecasts), or the resident size for CPU runs recorded without that peak.
qint64 peakOf(const MemorySample& s) {
  return isCudaSample(s) || hasPeak(s) ? s.peak_allocated : s.resident;
}

QString bytesText(qint64 bytes) {
  return formatBytes(static_cast<double>(bytes));
}

// A stored config's train.gradient_checkpointing ("off", "full", "selective"); "" when it has
// none (runs stored before the key existed) or cannot be read.
QString checkpointingOf(const std::string& configJson) {
  try {
    const auto config = nlohmann::json::parse(configJson);
    const nlohmann::json::json_pointer key("/train/gradient_checkpointing");
    if (config.contains(key) && config.at(key).is_string())
      return QString::fromStdString(config.at(key).get<std::string>());
  } catch (const std::exception&) {
  }
  return {};
}

std::map<int64_t, MemorySample> samplesOf(const RunHistory& h) {
  std::map<int64_t, MemorySample> out;
  for (const auto& stored : kStored) {
    const auto it = h.metrics.find(stored.name);
    if (it == h.metrics.end()) continue;
    for (const auto& [step, value] : it->second)
      out[step].*stored.field = static_cast<int64_t>(value);
  }
  return out;
}

}  // namespace

MemoryPage::MemoryPage(const WorkbenchContext& context, QWidget* parent)
    : QWidget(parent), m_context(context) {
  auto* layout = new QVBoxLayout(this);
  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel(tr("Run:"), this));
  m_runBox = new QComboBox(this);
  m_runBox->setMinimumWidth(160);
  bar->addWidget(m_runBox);
  bar->addSpacing(16);
  bar->addWidget(new QLabel(tr("Compare with:"), this));
  m_compareBox = new QComboBox(this);
  m_compareBox->setMinimumWidth(160);
  m_compareBox->setToolTip(tr("Draws the per-step peak of another run over this one."));
  bar->addWidget(m_compareBox);
  bar->addSpacing(16);
  m_countedBox = new QCheckBox(tr("Trainer's tensors only"), this);
  m_countedBox->setToolTip(
      tr("Leaves out what the process or the device holds beyond the categories the trainer "
         "counts, so that small categories become visible."));
  bar->addWidget(m_countedBox);
  bar->addStretch(1);
  layout->addLayout(bar);
  m_device = new QLabel(this);
  m_device->setWordWrap(true);
  m_device->setStyleSheet(QStringLiteral("color:#555"));
  layout->addWidget(m_device);

  m_views = new QStackedWidget(this);
  m_empty = new QLabel(m_views);
  m_empty->setObjectName(QStringLiteral("memoryEmpty"));
  m_empty->setWordWrap(true);
  m_empty->setAlignment(Qt::AlignCenter);
  m_empty->setStyleSheet(QStringLiteral("color:#555;font-size:11pt"));
  m_views->addWidget(m_empty);
  auto* content = new QWidget(m_views);
  auto* cl = new QVBoxLayout(content);
  cl->setContentsMargins(0, 0, 0, 0);
  m_timeline = new MemoryTimeline(content);
  cl->addWidget(m_timeline, 1);
  m_bar = new MemoryBar(content);
  cl->addWidget(m_bar);
  m_views->addWidget(content);
  layout->addWidget(m_views, 1);

  m_forecaster = new MemoryForecaster(m_context.session, this);
  connect(m_forecaster, &MemoryForecaster::forecastReady, this,
          [this](quint64 ticket, const MemoryForecastPair& f) {
            if (ticket != m_forecastTicket) return;
            // The allocator's peak: what the per-step peak curve measures (on the CPU too, for
            // runs that record the counted peak).
            setForecast(f.forecast.peak_bytes);
            Q_EMIT forecastShown(m_runId);
          });
  connect(m_forecaster, &MemoryForecaster::forecastFailed, this,
          [this](quint64 ticket, const UserMessage&) {
            // A run whose parent run is gone, a model folder moved away: no line, and no alarm
            // either; the measurement is what this page is about.
            if (ticket != m_forecastTicket) return;
            setForecast(0);
            Q_EMIT forecastShown(m_runId);
          });
  m_history = new RunHistoryReader(m_context.session, this);
  connect(m_history, &RunHistoryReader::historyRead, this, &MemoryPage::onHistory);
  connect(m_history, &RunHistoryReader::readFailed, this,
          [this](quint64 ticket, const UserMessage&) {
            // A writer holding the file a moment: the next runsChanged (every second while a run
            // lives) asks again; a stored run is asked again when chosen again.
            if (ticket == m_historyTicket) m_reading = false;
          });
  connect(m_runBox, &QComboBox::currentIndexChanged, this, [this](int i) {
    if (i >= 0) showRun(m_runBox->itemData(i).toLongLong());
  });
  connect(m_compareBox, &QComboBox::currentIndexChanged, this, [this](int i) {
    if (i >= 0) compareWith(m_compareBox->itemData(i).toLongLong());
  });
  connect(m_countedBox, &QCheckBox::toggled, this, &MemoryPage::setCountedOnly);
  connect(m_context.session, &ProjectSession::runsChanged, this, &MemoryPage::onRunsChanged);
  connect(m_context.session, &ProjectSession::closed, this, [this] {
    showRun(0);
    compareWith(0);
    m_runsKey.clear();
    const QSignalBlocker a(m_runBox), b(m_compareBox);
    m_runBox->clear();
    m_compareBox->clear();
    updateState();
  });
  RunController* runs = m_context.runs;
  connect(runs, &RunController::runStarted, this, [this](qint64 id) {
    m_context.session->reloadRuns();
    showRun(id);
  });
  connect(runs, &RunController::stepsFinished, this, &MemoryPage::onSteps);
  connect(runs, &RunController::rolledBack, this, [this](qint64 runId, qint64 step) {
    if (runId != m_runId) return;
    // The steps after the checkpoint are trained again: their samples and marks go now.
    while (!m_samples.isEmpty() && m_samples.lastKey() > step)
      m_samples.remove(m_samples.lastKey());
    while (!m_outOfMemory.isEmpty() && m_outOfMemory.lastKey() > step)
      m_outOfMemory.remove(m_outOfMemory.lastKey());
    rebuild();
    updateMarkers();
    updateBar();
  });
  connect(runs, &RunController::runFinished, this, [this] { updateState(); });
  setMode(false, false);
  updateState();
}

void MemoryPage::showRun(qint64 runId) {
  m_runId = runId;
  m_samples.clear();
  m_liveFrom = -1;
  m_read = false;
  m_reading = false;
  m_historyTicket = 0;
  m_modeSet = false;
  m_timeline->clearPoints();
  m_bar->clear();
  m_outOfMemory.clear();
  updateMarkers();
  {
    const QSignalBlocker blocker(m_runBox);
    m_runBox->setCurrentIndex(m_runBox->findData(runId));
  }
  if (runId != 0) readHistory(-1);
  requestForecast();
  updateState();
}

void MemoryPage::requestForecast() {
  m_forecastTicket = 0;
  m_checkpointing.clear();
  setForecast(0);
  const auto run = m_context.session->run(m_runId);
  if (!run) return;
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(run->config_json);
  } catch (const std::exception&) {
    return;  // a run's stored config is the engine's own; unreadable means no forecast
  }
  m_checkpointing = checkpointingOf(run->config_json);
  m_forecastTicket = m_forecaster->request(config);
}

void MemoryPage::updateMarkers() {
  QList<MemoryTimeline::Marker> markers;
  for (auto it = m_outOfMemory.cbegin(); it != m_outOfMemory.cend(); ++it)
    markers << MemoryTimeline::Marker{static_cast<double>(it.key()),
                                      tr("OOM", "out of memory, a short mark on the plot"),
                                      tr("out of memory: micro-batch now %1").arg(it.value())};
  m_timeline->setMarkers(markers);
}

void MemoryPage::compareWith(qint64 runId) {
  m_compareId = runId;
  m_compareTicket = 0;
  {
    const QSignalBlocker blocker(m_compareBox);
    m_compareBox->setCurrentIndex(qMax(0, m_compareBox->findData(runId)));
  }
  m_comparePoints.clear();
  m_timeline->setLinePoints(kCompareLine, {});
  m_timeline->setLineName(kCompareLine, compareName());
  if (runId != 0) m_compareTicket = m_history->read({runId});
  if (m_compareTicket == 0) Q_EMIT comparisonShown(0);
}

void MemoryPage::setForecast(qint64 peakBytes) {
  m_forecast = qMax<qint64>(0, peakBytes);
  m_timeline->setReference(static_cast<double>(m_forecast), forecastName());
}

QString MemoryPage::forecastName() const {
  // The run's recomputation beside its forecast: two runs compared show what checkpointing saved.
  if (m_checkpointing == QLatin1String("full")) return tr("forecast peak (full recomputation)");
  if (m_checkpointing == QLatin1String("selective"))
    return tr("forecast peak (selective recomputation)");
  return tr("forecast peak");
}

QString MemoryPage::emptyText() const {
  return m_views->currentWidget() == m_empty ? m_empty->text() : QString();
}

void MemoryPage::readHistory(qint64 afterStep) {
  m_historyTicket = m_history->read({m_runId}, afterStep);
  m_reading = m_historyTicket != 0;
}

void MemoryPage::onHistory(quint64 ticket, const QList<RunHistory>& histories) {
  if (ticket == m_compareTicket && ticket != 0) {
    QVector<QPointF> points;
    for (const RunHistory& h : histories) {
      for (const auto& [step, s] : samplesOf(h))
        points.append(QPointF(static_cast<double>(step), static_cast<double>(peakOf(s))));
    }
    m_comparePoints = points;
    m_timeline->setLinePoints(kCompareLine, points);
    Q_EMIT comparisonShown(m_compareId);
    return;
  }
  if (ticket != m_historyTicket || ticket == 0) return;
  m_reading = false;
  m_read = true;
  const qint64 lastBefore = m_samples.isEmpty() ? -1 : m_samples.lastKey();
  QList<qint64> added;
  bool inOrder = true;
  for (const RunHistory& h : histories) {
    if (h.runId != m_runId) continue;
    for (const auto& [step, s] : samplesOf(h)) {
      // From the first live step on, this window's worker tells the run's samples itself.
      if (m_samples.contains(step) || (m_liveFrom >= 0 && step >= m_liveFrom)) continue;
      m_samples.insert(step, s);
      added << step;
      inOrder = inOrder && step > lastBefore;
    }
  }
  bool oomAdded = false;
  for (const RunHistory& h : histories) {
    if (h.runId != m_runId) continue;
    const auto it = h.metrics.find("memory/out_of_memory");
    if (it == h.metrics.end()) continue;
    for (const auto& [step, micro] : it->second) {
      if (m_liveFrom >= 0 && step >= m_liveFrom) continue;
      m_outOfMemory.insert(step, static_cast<qint64>(micro));
      oomAdded = true;
    }
  }
  if (oomAdded) updateMarkers();
  if (!added.isEmpty()) {
    if (inOrder && m_modeSet)
      appendToTimeline(added);
    else
      rebuild();
    updateBar();
  }
  updateState();
  Q_EMIT historyShown(m_runId);
}

void MemoryPage::onSteps(qint64 runId, const QList<deeptune::StepMetrics>& steps) {
  if (runId != m_runId || steps.isEmpty()) return;
  bool needRebuild = !m_modeSet;
  if (m_liveFrom < 0) {
    // A resumed run trains again from its checkpoint: what was recorded after it is superseded.
    m_liveFrom = steps.first().step;
    while (!m_samples.isEmpty() && m_samples.lastKey() >= m_liveFrom) {
      m_samples.remove(m_samples.lastKey());
      needRebuild = true;
    }
    while (!m_outOfMemory.isEmpty() && m_outOfMemory.lastKey() >= m_liveFrom)
      m_outOfMemory.remove(m_outOfMemory.lastKey());
  }
  QList<qint64> added;
  bool oomAdded = false;
  for (const auto& s : steps) {
    if (s.out_of_memory_retries > 0) {
      m_outOfMemory.insert(s.step, s.micro_batch);
      oomAdded = true;
    }
    if (!m_samples.isEmpty() && s.step <= m_samples.lastKey()) needRebuild = true;
    m_samples.insert(s.step, s.memory);
    added << s.step;
    if (isCudaSample(s.memory) != m_cuda) needRebuild = true;
    if (!m_cuda && hasPeak(s.memory) != m_cpuPeak) needRebuild = true;
  }
  if (needRebuild)
    rebuild();
  else
    appendToTimeline(added);
  if (oomAdded) updateMarkers();
  updateBar();
  updateState();
}

void MemoryPage::setMode(bool cuda, bool cpuPeak) {
  m_cuda = cuda;
  m_cpuPeak = !cuda && cpuPeak;
  m_modeSet = true;
  QList<MemoryTimeline::Layer> layers;
  for (const Category& c : categories(cuda, m_cpuPeak).mid(0, layerCount()))
    layers << MemoryTimeline::Layer{c.name, c.color};
  QList<MemoryTimeline::Line> lines = {
      {cuda || m_cpuPeak ? tr("peak allocated (per step)") : tr("resident (per step)"),
       QColor(0xd6, 0x27, 0x28)},
      {tr("compared run"), QColor(0xe3, 0x77, 0xc2), Qt::DashLine},
  };
  if (m_countedOnly)
    lines.clear();  // totals would flatten the counted categories again
  else if (cuda || m_cpuPeak)
    lines << MemoryTimeline::Line{tr("allocated (end of step)"), QColor(0x30, 0x30, 0x30),
                                  Qt::DotLine};
  if (cuda && !m_countedOnly)
    lines << MemoryTimeline::Line{tr("reserved"), QColor(0x17, 0xa2, 0xb8), Qt::DashDotLine};
  m_timeline->setSeries(layers, lines);
  m_timeline->setYAxisLabel(cuda ? tr("device memory (CUDA)") : tr("host memory (process)"));
  if (cuda)
    m_device->setText(
        tr("Device memory as LibTorch's caching allocator and the CUDA driver report it, every "
           "step. Hover the timeline for a step's numbers, the legend entries below for what "
           "each category counts."));
  else if (m_cpuPeak)
    m_device->setText(
        tr("Host memory: this run trained on the CPU. The trainer counts its tensors' bytes "
           "itself, so each step's peak is measured and the activations and temporaries at that "
           "peak have a number, comparable with the forecast; the rest of the process's resident "
           "size is shown above them. The allocator's cache is shown for CUDA runs only."));
  else
    m_device->setText(
        tr("Host memory: this run was recorded before the trainer counted the step's peak on the "
           "CPU. The timeline shows the process's resident size and the part of it the "
           "trainer's tensors account for; activations are inside the rest of the process."));
  restoreComparison();  // setSeries dropped every point
}

QString MemoryPage::compareName() const {
  const auto run = m_context.session->run(m_compareId);
  if (!run) return tr("compared run");
  const QString name = QString::fromStdString(run->name);
  const QString mode = checkpointingOf(run->config_json);
  if (mode == QLatin1String("full")) return tr("peak of '%1' (full recomputation)").arg(name);
  if (mode == QLatin1String("selective"))
    return tr("peak of '%1' (selective recomputation)").arg(name);
  return tr("peak of '%1'").arg(name);
}

void MemoryPage::restoreComparison() {
  m_timeline->setLineName(kCompareLine, compareName());
  m_timeline->setLinePoints(kCompareLine, m_comparePoints);
}

int MemoryPage::layerCount() const {
  // Counted: the four tensor categories, and the activations the step's peak shows (CUDA, and
  // CPU samples that carry the peak).
  const int all = static_cast<int>(categories(m_cuda, m_cpuPeak).size());
  return m_countedOnly ? (m_cuda || m_cpuPeak ? 5 : 4) : all;
}

void MemoryPage::setCountedOnly(bool on) {
  if (on == m_countedOnly) return;
  m_countedOnly = on;
  {
    const QSignalBlocker blocker(m_countedBox);
    m_countedBox->setChecked(on);
  }
  m_modeSet = false;  // the layers change
  rebuild();
}

void MemoryPage::rebuild() {
  bool cuda = false, peak = false;
  for (const auto& s : std::as_const(m_samples)) {
    cuda = cuda || isCudaSample(s);
    peak = peak || hasPeak(s);
  }
  if (!m_modeSet || cuda != m_cuda || (!cuda && peak != m_cpuPeak))
    setMode(cuda, peak);
  else
    m_timeline->clearPoints();
  restoreComparison();
  appendToTimeline(m_samples.keys());
}

void MemoryPage::appendToTimeline(const QList<qint64>& steps) {
  if (!m_modeSet) setMode(m_cuda, m_cpuPeak);
  const int n = layerCount();
  QVector<double> x;
  QVector<QVector<double>> layers(n);
  QVector<QPointF> peak, allocated, reserved;
  for (qint64 step : steps) {
    const MemorySample& s = m_samples[step];
    const double k = static_cast<double>(step);
    x << k;
    const auto sizes = categorySizes(s, m_cuda, m_cpuPeak);
    for (int l = 0; l < n; ++l) layers[l] << static_cast<double>(sizes[l]);
    peak << QPointF(k, static_cast<double>(peakOf(s)));
    allocated << QPointF(k, static_cast<double>(s.allocated));
    reserved << QPointF(k, static_cast<double>(s.reserved));
  }
  m_timeline->appendSteps(x, layers);
  if (m_countedOnly) return;
  m_timeline->appendLinePoints(kPeakLine, peak);
  if (m_cuda || m_cpuPeak) m_timeline->appendLinePoints(kAllocatedLine, allocated);
  if (m_cuda) m_timeline->appendLinePoints(kReservedLine, reserved);
}

void MemoryPage::updateBar() {
  if (m_samples.isEmpty()) {
    m_bar->clear();
    return;
  }
  const qint64 step = m_samples.lastKey();
  const MemorySample& s = m_samples.last();
  const auto cats = categories(m_cuda, m_cpuPeak);
  const auto sizes = categorySizes(s, m_cuda, m_cpuPeak);
  QList<MemoryBar::Segment> segments;
  qint64 total = 0;
  for (int i = 0; i < cats.size(); ++i) {
    segments << MemoryBar::Segment{QString::fromLatin1(cats[i].key), cats[i].name, cats[i].color,
                                   sizes[i], cats[i].toolTip};
    total += sizes[i];
  }
  if (m_cuda) {
    const QString of =
        s.device_total > 0
            ? tr("%1 in use of the device's %2").arg(bytesText(total), bytesText(s.device_total))
            : tr("%1 in use on the device").arg(bytesText(total));
    m_bar->setHeadline(tr("Step %1: %2 (reserved %3, peak allocated %4)")
                           .arg(step)
                           .arg(of, bytesText(s.reserved), bytesText(s.peak_allocated)));
    m_bar->setSegments(segments, s.device_total);
  } else if (m_cpuPeak) {
    m_bar->setHeadline(tr("Step %1: %2 resident in host memory (peak of counted tensors %3)")
                           .arg(step)
                           .arg(bytesText(s.resident), bytesText(s.peak_allocated)));
    m_bar->setSegments(segments);
  } else {
    m_bar->setHeadline(
        tr("Step %1: %2 resident in host memory").arg(step).arg(bytesText(s.resident)));
    m_bar->setSegments(segments);
  }
}

bool MemoryPage::isLive(qint64 runId) const {
  if (m_context.runs->isBusy() && m_context.runs->currentRunId() == runId) return true;
  const auto run = m_context.session->run(runId);
  return run && (run->status == deeptune::RunStatus::kRunning ||
                 run->status == deeptune::RunStatus::kPaused);
}

void MemoryPage::updateState() {
  QString text;
  const auto run = m_context.session->run(m_runId);
  const QString name = run ? QString::fromStdString(run->name) : QString();
  if (!m_context.session->isOpen())
    text = tr("Open a project to see the memory its runs use.");
  else if (m_context.session->runs().empty())
    text =
        tr("This project has no runs yet. Start one on the Train page: its memory appears "
           "here step by step.");
  else if (m_runId == 0 || !run)
    text = tr("Choose a run above.");
  else if (m_samples.isEmpty() && isLive(m_runId))
    text = tr("Waiting for the first step of run '%1'…").arg(name);
  else if (m_samples.isEmpty() && !m_read)
    text = tr("Reading the memory samples of run '%1'…").arg(name);
  else if (m_samples.isEmpty())
    text = tr("Run '%1' has no memory samples: it was trained before DeepTune recorded memory, or "
              "stopped before its first step. Runs trained from now on record it every step.")
               .arg(name);
  m_empty->setText(text);
  m_views->setCurrentWidget(text.isEmpty() ? m_views->widget(1) : m_empty);
  m_device->setVisible(text.isEmpty());
}

void MemoryPage::fillRunBoxes() {
  QString key;
  for (const auto& r : m_context.session->runs())
    key += QStringLiteral("%1:%2|").arg(r.id).arg(QString::fromStdString(r.name));
  if (key == m_runsKey) return;
  m_runsKey = key;
  const QSignalBlocker a(m_runBox), b(m_compareBox);
  m_runBox->clear();
  m_compareBox->clear();
  m_compareBox->addItem(tr("none"), 0);
  for (const auto& r : m_context.session->runs()) {
    m_runBox->addItem(QString::fromStdString(r.name), static_cast<qlonglong>(r.id));
    m_compareBox->addItem(QString::fromStdString(r.name), static_cast<qlonglong>(r.id));
  }
  m_runBox->setCurrentIndex(m_runBox->findData(m_runId));
  m_compareBox->setCurrentIndex(qMax(0, m_compareBox->findData(m_compareId)));
}

void MemoryPage::onRunsChanged() {
  if (!m_context.session->isOpen()) return;
  fillRunBoxes();
  const auto& runs = m_context.session->runs();
  if (m_compareId != 0 && !m_context.session->run(m_compareId)) compareWith(0);
  if (m_runId == 0 || !m_context.session->run(m_runId)) {
    showRun(runs.empty() ? 0 : runs.back().id);
    return;
  }
  // Trained by another process: read what it recorded since the last step shown.
  const bool ours = m_context.runs->isBusy() && m_context.runs->currentRunId() == m_runId;
  if (!ours && isLive(m_runId) && !m_reading)
    readHistory(m_samples.isEmpty() ? -1 : m_samples.lastKey());
  updateState();
}
