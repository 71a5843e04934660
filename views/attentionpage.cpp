// The page keeps the index of the displayed probe (steps, statistics) and a small cache of
// unpacked steps; everything it draws comes from those, so moving the slider back and forth, or
// changing layer, head or view, reads nothing again. Snapshots of the run this window trains are
// unpacked in the background like stored ones and merged into the index (the store writes them in
// batches, so a read may not have them yet).
#include "attentionpage.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>

#include "heatmapplot.h"
#include "projectsession.h"
#include "runcontroller.h"

namespace {
constexpr int kThumbnail = 44;    // pixels per grid cell: a 12 x 12 grid stays on screen
constexpr int kPlayMs = 400;      // per step while playing: slow enough to follow a head
constexpr int kCachedSteps = 24;  // unpacked steps kept (a step of a 12 x 12 model is ~150 MB)
// ... and at most these bytes of them: a step of 32 layers x 32 heads at 512 tokens is 1 GiB, so
// the shown step, the compared one and both neighbours of the slider still fit.
constexpr qsizetype kCachedBytes = qsizetype(4) << 30;
constexpr int kAdaptersKept = 4;  // adapter comparisons kept (two forwards each to recompute)
// Neighbours are read this long after the last switch: reads a user flicking through heads or
// steps would outrun take the cores (two on the machine the page is sized for) from the reads of
// what is shown.
constexpr int kPrefetchDelayMs = 120;

// A token as the tokenizer spells it, with the space markers of byte-level and SentencePiece
// vocabularies ("<0x20>", "Ġ", "▁") shown as one visible space sign.
QString readableToken(QString token) {
  const QChar space(0x2423);
  token.replace(QStringLiteral("<0x20>"), space);
  token.replace(QChar(0x0120), space);
  token.replace(QChar(0x2581), space);
  return token;
}
}  // namespace

AttentionPage::AttentionPage(const WorkbenchContext& context, QWidget* parent)
    : QWidget(parent), m_context(context) {
  m_reader = new AttentionReader(context.session, this);
  m_reader->setThumbnailSide(kThumbnail);

  m_runBox = new QComboBox(this);
  m_runBox->setMinimumContentsLength(16);
  m_probeBox = new QComboBox(this);
  m_probeBox->setMinimumContentsLength(24);
  m_layerBox = new QSpinBox(this);
  m_headBox = new QSpinBox(this);
  m_viewBox = new QComboBox(this);
  m_viewBox->addItem(tr("One head"), kOneHead);
  m_viewBox->addItem(tr("Mean over heads (layer)"), kHeadMean);
  m_viewBox->addItem(tr("Difference between two steps"), kDifference);
  m_viewBox->addItem(tr("Adapter on / off"), kAdapter);
  m_viewBox->setItemData(
      m_viewBox->count() - 1,
      tr("The probe through the checkpoint at or before the step, with the adapters on minus off"),
      Qt::ToolTipRole);
  m_compareBox = new QComboBox(this);
  m_compareBox->setVisible(false);
  m_compareBox->setToolTip(tr("The step subtracted from the current one"));

  auto* top = new QHBoxLayout;
  top->addWidget(new QLabel(tr("Run:"), this));
  top->addWidget(m_runBox);
  top->addWidget(new QLabel(tr("Probe:"), this));
  top->addWidget(m_probeBox, 1);
  top->addWidget(new QLabel(tr("Layer:"), this));
  top->addWidget(m_layerBox);
  top->addWidget(new QLabel(tr("Head:"), this));
  top->addWidget(m_headBox);
  top->addWidget(new QLabel(tr("View:"), this));
  top->addWidget(m_viewBox);
  top->addWidget(m_compareBox);

  m_play = new QPushButton(tr("Play"), this);
  m_play->setCheckable(true);
  m_slider = new QSlider(Qt::Horizontal, this);
  m_slider->setPageStep(1);
  m_stepLabel = new QLabel(this);
  m_stepLabel->setMinimumWidth(110);
  m_playTimer = new QTimer(this);
  m_playTimer->setInterval(kPlayMs);
  m_prefetchTimer = new QTimer(this);
  m_prefetchTimer->setSingleShot(true);
  m_prefetchTimer->setInterval(kPrefetchDelayMs);
  connect(m_prefetchTimer, &QTimer::timeout, this, &AttentionPage::prefetchNeighbours);
  auto* steps = new QHBoxLayout;
  steps->addWidget(m_play);
  steps->addWidget(m_slider, 1);
  steps->addWidget(m_stepLabel);

  m_message = new QLabel(this);
  m_message->setWordWrap(true);
  m_message->setStyleSheet(QStringLiteral("color:#b00020"));
  m_message->setVisible(false);
  m_note = new QLabel(this);
  m_note->setWordWrap(true);  // the adapter view's note is long: wrap, not widen the heatmap's pane

  m_heatmap = new HeatmapPlot(this);
  m_heatmap->setAxisTitles(tr("key token"), tr("query token"));
  m_heatmap->setMinimumSize(420, 360);

  m_grid = new QTableWidget(this);
  m_grid->setEditTriggers(QAbstractItemView::NoEditTriggers);
  m_grid->setSelectionMode(QAbstractItemView::SingleSelection);
  m_grid->setIconSize(QSize(kThumbnail, kThumbnail));
  m_grid->horizontalHeader()->setDefaultSectionSize(kThumbnail + 6);
  m_grid->verticalHeader()->setDefaultSectionSize(kThumbnail + 6);
  m_grid->setToolTip(
      tr("Every head of the step on one colour scale (0 to the step's largest weight); click one "
         "to show it"));

  m_stats = new QTableWidget(this);
  m_stats->setColumnCount(6);
  m_stats->setHorizontalHeaderLabels(
      {tr("Layer"), tr("Head"), tr("Entropy"), tr("Sink"), tr("Previous"), tr("Max")});
  m_stats->setEditTriggers(QAbstractItemView::NoEditTriggers);
  m_stats->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_stats->verticalHeader()->setVisible(false);
  // Sized to the contents once per shape (drawStats), not ResizeToContents: that measures every
  // row's text again at each cell set, quadratic in the heads (minutes at 32 x 32).
  m_stats->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);

  m_entropy = new HeatmapPlot(this);
  m_entropy->setAxisTitles(tr("step"), tr("layer, head"));
  m_entropy->setScaleTitle(tr("entropy (nats)"));
  m_entropy->setMinimumHeight(200);

  auto* left = new QWidget(this);
  auto* leftLayout = new QVBoxLayout(left);
  leftLayout->setContentsMargins(0, 0, 0, 0);
  leftLayout->addWidget(m_note);
  leftLayout->addWidget(m_heatmap, 1);
  auto* right = new QSplitter(Qt::Vertical, this);
  right->addWidget(m_grid);
  right->addWidget(m_stats);
  right->addWidget(m_entropy);
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(left);
  split->addWidget(right);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  split->setSizes({700, 440});

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addLayout(steps);
  layout->addWidget(m_message);
  layout->addWidget(split, 1);

  connect(m_reader, &AttentionReader::runsListed, this, &AttentionPage::onRunsListed);
  connect(m_reader, &AttentionReader::indexRead, this, &AttentionPage::onIndex);
  connect(m_reader, &AttentionReader::stepsRead, this, &AttentionPage::onSteps);
  connect(m_reader, &AttentionReader::adapterComputed, this,
          [this](quint64 ticket, const AttentionStep& tuned, const AttentionStep& base) {
            onAdapter(ticket, tuned, base);
          });
  connect(m_reader, &AttentionReader::readFailed, this,
          [this](quint64 ticket, const UserMessage& m) {
            const QString text = m.headline + '\n' + m.detail;
            if (ticket == m_adapterTicket) {
              m_adapterError = text;
              m_adapterPending = {};  // asked again when the step or the view changes
              redraw();
              return;
            }
            m_reads.clear();  // a failed read is asked for again when its step is shown
            setMessage(text);
          });
  if (m_context.session) {
    connect(m_context.session, &ProjectSession::runsChanged, this, &AttentionPage::listRuns);
    connect(m_context.session, &ProjectSession::opened, this, [this] {
      m_index = {};
      m_cache.clear();
      listRuns();
    });
    connect(m_context.session, &ProjectSession::closed, this, [this] {
      m_index = {};
      m_cache.clear();
      m_runBox->clear();
      m_probeBox->clear();
      redraw();
    });
  }
  if (m_context.runs) {
    connect(m_context.runs, &RunController::attentionCaptured, this, &AttentionPage::onSnapshot);
    // The store has all of a finished run: read its index again (tokens, steps not seen live).
    connect(m_context.runs, &RunController::runFinished, this, [this](qint64 runId) {
      if (runId == m_index.runId) requestIndex(m_index.probe);
    });
  }

  connect(m_runBox, &QComboBox::activated, this,
          [this](int i) { showRun(m_runBox->itemData(i).toLongLong()); });
  connect(m_probeBox, &QComboBox::activated, this,
          [this](int i) { showRun(m_index.runId, m_probeBox->itemData(i).toInt()); });
  connect(m_slider, &QSlider::valueChanged, this, [this] {
    if (m_updating) return;
    updateStepControls();
    requestShown();
  });
  connect(m_viewBox, &QComboBox::currentIndexChanged, this, [this] {
    m_compareBox->setVisible(view() == kDifference);
    m_adapterError.clear();
    m_headBox->setEnabled(view() != kHeadMean);
    requestShown();
  });
  connect(m_compareBox, &QComboBox::currentIndexChanged, this, [this] {
    if (!m_updating) requestShown();
  });
  for (QSpinBox* box : {m_layerBox, m_headBox})
    connect(box, &QSpinBox::valueChanged, this, [this] {
      if (!m_updating) requestShown();  // a new layer may need reading
    });
  connect(m_play, &QPushButton::toggled, this, [this](bool on) {
    m_play->setText(on ? tr("Pause") : tr("Play"));
    if (on)
      m_playTimer->start();
    else
      m_playTimer->stop();
  });
  connect(m_playTimer, &QTimer::timeout, this, [this] {
    if (m_slider->maximum() <= 0) return;
    m_slider->setValue(m_slider->value() >= m_slider->maximum() ? 0 : m_slider->value() + 1);
  });
  connect(m_grid, &QTableWidget::cellClicked, this, &AttentionPage::selectHead);
  connect(m_stats, &QTableWidget::cellClicked, this, [this](int row, int) {
    if (m_index.heads > 0) selectHead(row / m_index.heads, row % m_index.heads);
  });
  connect(m_entropy, &HeatmapPlot::cellClicked, this, [this](int row, int column) {
    if (m_index.heads > 0) selectHead(row / m_index.heads, row % m_index.heads);
    m_slider->setValue(column);
  });
  redraw();
}

qint64 AttentionPage::currentStep() const {
  const int i = m_slider->value();
  return i >= 0 && i < m_index.steps.size() ? m_index.steps[i] : -1;
}
int AttentionPage::layer() const {
  return m_layerBox->value();
}
int AttentionPage::head() const {
  return m_headBox->value();
}
AttentionPage::View AttentionPage::view() const {
  return static_cast<View>(m_viewBox->currentData().toInt());
}
void AttentionPage::setView(View v) {
  m_viewBox->setCurrentIndex(m_viewBox->findData(v));
}
void AttentionPage::setComparedStep(qint64 step) {
  m_compareBox->setCurrentIndex(m_compareBox->findData(step));
}
QString AttentionPage::message() const {
  return m_message->isVisible() ? m_message->text() : QString();
}

QString AttentionPage::heatmapNote() const {
  return m_note->text();
}

void AttentionPage::selectHead(int layer, int head) {
  m_updating = true;
  m_layerBox->setValue(layer);
  m_headBox->setValue(head);
  m_updating = false;
  requestShown();
}

void AttentionPage::setMessage(const QString& text) {
  m_message->setText(text);
  m_message->setVisible(!text.isEmpty());
}

void AttentionPage::listRuns() {
  if (!m_context.session || !m_context.session->isOpen()) return;
  QList<qint64> ids;
  for (const auto& r : m_context.session->runs()) ids.append(r.id);
  m_runsTicket = m_reader->listRuns(ids);
}

void AttentionPage::onRunsListed(quint64 ticket, const QList<qint64>& runIds) {
  if (ticket != m_runsTicket) return;
  QList<qint64> ids = runIds;
  if (m_liveRunId != 0 && !ids.contains(m_liveRunId)) ids.append(m_liveRunId);
  m_runBox->clear();
  for (qint64 id : ids) {
    QString name;
    for (const auto& r : m_context.session->runs())
      if (r.id == id) name = QString::fromStdString(r.name);
    m_runBox->addItem(tr("%1 (#%2)").arg(name).arg(id), id);
  }
  if (ids.contains(m_index.runId))
    m_runBox->setCurrentIndex(m_runBox->findData(m_index.runId));
  else if (!ids.isEmpty())
    showRun(ids.last());  // the newest
  else
    redraw();
  Q_EMIT runsListed();
}

const AttentionStep* AttentionPage::adapterStep(bool tuned) const {
  const Shown key{m_index.runId, m_index.probe, currentStep()};
  for (const auto& [k, maps] : m_adapters)
    if (k == key) return tuned ? &maps.tuned : &maps.base;
  return nullptr;
}

void AttentionPage::showRun(qint64 runId, int probe) {
  m_cache.clear();
  m_reads.clear();
  m_gridShown = m_statsShown = {};
  m_adapterError.clear();
  m_liveTickets.clear();
  m_unpacking.clear();
  m_index = {};
  m_index.runId = runId;
  m_shownStep = -1;
  const int i = m_runBox->findData(runId);
  if (i >= 0) m_runBox->setCurrentIndex(i);
  m_indexTicket = 0;
  if (runId != 0) requestIndex(probe);
  updateStepControls();
  redraw();
}

void AttentionPage::requestIndex(int probe) {
  m_indexTicket = m_reader->readIndex(m_index.runId, probe);
  m_indexPending = m_indexTicket != 0;
}

void AttentionPage::onIndex(quint64 ticket, const AttentionIndex& index) {
  if (ticket != m_indexTicket) return;
  m_indexPending = false;
  const bool atEnd = m_slider->value() >= m_slider->maximum();
  AttentionIndex merged = index;
  // Live steps unpacked before the store had written them.
  for (const AttentionStep& s : std::as_const(m_cache)) {
    if (s.probe != merged.probe || merged.steps.contains(s.step)) continue;
    const auto at = std::lower_bound(merged.steps.begin(), merged.steps.end(), s.step);
    const auto pos = at - merged.steps.begin();
    merged.steps.insert(pos, s.step);
    merged.stats.insert(pos, s.stats);
  }
  if (merged.probe < 0 && merged.runId == m_liveRunId && !m_liveSnapshots.isEmpty())
    merged.probe = m_liveSnapshots.first().probe;  // tokens follow with a later read
  if (merged.runId == m_liveRunId) {
    merged.layers = std::max(merged.layers, m_index.layers);
    merged.heads = std::max(merged.heads, m_index.heads);
  }
  m_index = merged;
  m_updating = true;
  m_probeBox->clear();
  for (const AttentionProbe& p : m_index.probes) {
    QString start;
    for (const QString& t : p.tokens.mid(0, 8)) start += readableToken(t);
    m_probeBox->addItem(tr("%1: %2…").arg(p.source, start.simplified()), p.probe);
  }
  m_probeBox->setCurrentIndex(m_probeBox->findData(m_index.probe));
  m_slider->setRange(0, std::max(0, int(m_index.steps.size()) - 1));
  if (atEnd) m_slider->setValue(m_slider->maximum());
  m_updating = false;
  updateStepControls();
  drawEntropy();
  unpackLive();
  requestShown();
  Q_EMIT indexShown(m_index.runId);
}

void AttentionPage::onSnapshot(qint64 runId, const deeptune::AttentionSnapshot& snapshot) {
  if (m_liveRunId != runId) {
    m_liveRunId = runId;
    m_liveSnapshots.clear();
    listRuns();
  }
  if (m_index.runId != 0 && m_index.runId != runId) return;  // read from the store if chosen
  // Kept until the index holds the step: the store writes in batches, so the first reads of a
  // live run may lack the probes and the first steps.
  m_liveSnapshots.append(snapshot);
  if (m_index.runId == 0) {
    showRun(runId);
    return;
  }
  if (m_index.probe < 0) {
    if (!m_indexPending) requestIndex(-1);
    return;
  }
  unpackLive();
}

void AttentionPage::unpackLive() {
  if (m_index.runId != m_liveRunId || m_index.probe < 0) return;
  for (auto it = m_liveSnapshots.begin(); it != m_liveSnapshots.end();) {
    if (it->probe != m_index.probe || m_index.steps.contains(it->step)) {
      it = m_liveSnapshots.erase(it);  // another probe (read from the store if chosen) or known
      continue;
    }
    if (!m_unpacking.contains(it->step)) {
      m_unpacking.insert(it->step);
      m_liveTickets.append(m_reader->unpack(m_liveRunId, *it));
    }
    ++it;
  }
}

void AttentionPage::onSteps(quint64 ticket, const QList<AttentionStep>& steps) {
  const bool live = m_liveTickets.removeOne(ticket);
  if (!live && !m_reads.contains(ticket)) return;
  const bool whole = live || m_reads.take(ticket).whole;
  bool added = false, needed = false;
  const qint64 current = currentStep();
  const qint64 compared = m_compareBox->currentData().toLongLong();
  for (const AttentionStep& s : steps) {
    if (live) m_unpacking.remove(s.step);
    needed = needed || s.step == current || (view() == kDifference && s.step == compared);
    if (s.runId != m_index.runId || s.probe != m_index.probe) continue;
    const auto cached = m_cache.find(s.step);
    if (cached != m_cache.end()) {
      cached->merge(s);
      continue;
    }
    if (!whole) continue;  // a layer of a step dropped from the cache meanwhile
    AttentionStep& inserted = *m_cache.insert(s.step, s);
    // A step read from its previews has the statistics of its read layers only; the index has
    // all of them (parsed from the same rows).
    const qsizetype at = m_index.steps.indexOf(s.step);
    if (!live && at >= 0 && m_index.stats[at].size() == s.layers)
      inserted.stats = m_index.stats[at];
    if (live && !m_index.steps.contains(s.step)) {
      const auto at = std::lower_bound(m_index.steps.begin(), m_index.steps.end(), s.step);
      const auto pos = at - m_index.steps.begin();
      m_index.steps.insert(pos, s.step);
      m_index.stats.insert(pos, s.stats);
      m_index.layers = std::max(m_index.layers, s.layers);
      m_index.heads = std::max(m_index.heads, s.heads);
      added = true;
    }
  }
  if (added) {
    // Follow the newest step while the slider is at the end (and not playing).
    const bool atEnd = m_slider->value() >= m_slider->maximum() - (m_index.steps.size() > 1);
    m_updating = true;
    m_slider->setRange(0, int(m_index.steps.size()) - 1);
    if (atEnd && !m_playTimer->isActive()) m_slider->setValue(m_slider->maximum());
    m_updating = false;
    updateStepControls();
    drawEntropy();
  }
  trimCache();
  // A prefetched neighbour arriving does not redraw what is on screen.
  if (added || needed || m_shownStep != currentStep()) requestShown();
}

void AttentionPage::trimCache() {
  // Keep what is on screen and the slider's neighbours; drop the steps farthest from it first.
  const int at = m_slider->value();
  const qint64 compared = view() == kDifference ? m_compareBox->currentData().toLongLong() : -1;
  QList<qint64> keys = m_cache.keys();
  const auto distance = [&](qint64 step) {
    if (step == compared) return 0;
    const auto i = std::lower_bound(m_index.steps.begin(), m_index.steps.end(), step);
    return int(std::abs((i - m_index.steps.begin()) - at));
  };
  std::sort(keys.begin(), keys.end(),
            [&](qint64 a, qint64 b) { return distance(a) > distance(b); });
  qsizetype bytes = 0;
  for (const AttentionStep& s : std::as_const(m_cache)) bytes += s.bytes();
  for (qint64 step : keys) {
    if (distance(step) <= 1 || (m_cache.size() <= kCachedSteps && bytes <= kCachedBytes)) break;
    bytes -= m_cache[step].bytes();
    m_cache.remove(step);
  }
}

bool AttentionPage::ensureRead(qint64 step, int layer) {
  const auto cached = m_cache.constFind(step);
  if (cached != m_cache.constEnd() && (cached->hasLayer(layer) || layer >= cached->layers))
    return true;  // (a layer the step does not have: the heatmap says so)
  bool wholeAsked = false, layerAsked = false;
  for (const Read& r : std::as_const(m_reads)) {
    if (r.step != step) continue;
    wholeAsked = wholeAsked || r.whole;
    layerAsked = layerAsked || r.layer == layer || r.layer < 0;
  }
  const bool whole = cached == m_cache.constEnd();
  if (whole ? wholeAsked : layerAsked) return false;  // a prefetch may have asked already
  const quint64 ticket = whole ? m_reader->readSteps(m_index.runId, m_index.probe, {step}, layer)
                               : m_reader->readLayer(m_index.runId, m_index.probe, step, layer);
  if (ticket != 0) m_reads.insert(ticket, {step, layer, whole});
  return false;
}

void AttentionPage::prefetchNeighbours() {
  // Reads the slider's next and previous steps (their thumbnails and the shown layer) while the
  // user looks at this one, so that stepping (or Play) finds them unpacked. One read each, the
  // next first: the step wanted next arrives without waiting for the other.
  if (m_index.probe < 0) return;
  for (int i : {m_slider->value() + 1, m_slider->value() - 1})
    if (i >= 0 && i < m_index.steps.size()) ensureRead(m_index.steps[i], layer());
}

void AttentionPage::updateStepControls() {
  const qint64 step = currentStep();
  m_stepLabel->setText(step < 0 ? tr("no steps")
                                : tr("step %1 (%2 of %3)")
                                      .arg(step)
                                      .arg(m_slider->value() + 1)
                                      .arg(m_index.steps.size()));
  m_slider->setEnabled(m_index.steps.size() > 1);
  m_play->setEnabled(m_index.steps.size() > 1);
  const qint64 compared = m_compareBox->currentData().toLongLong();
  const bool had = m_compareBox->count() > 0;
  if (m_compareBox->count() != m_index.steps.size()) {
    const bool updating = m_updating;
    m_updating = true;
    m_compareBox->clear();
    for (qint64 s : m_index.steps) m_compareBox->addItem(tr("minus step %1").arg(s), s);
    const int i = had ? m_compareBox->findData(compared) : 0;
    m_compareBox->setCurrentIndex(std::max(0, i));
    m_updating = updating;
  }
}

void AttentionPage::requestShown() {
  const qint64 step = currentStep();
  if (step < 0) {
    redraw();
    return;
  }
  // The step whole (thumbnails, statistics) and the shown layer's maps; its other layers are read
  // when a head of theirs is shown.
  bool ready = ensureRead(step, layer());
  if (view() == kDifference)
    ready = ensureRead(m_compareBox->currentData().toLongLong(), layer()) && ready;
  if (!ready) {
    m_prefetchTimer->stop();  // what is shown first
    return;
  }
  if (view() == kAdapter) requestAdapter();
  redraw();
  m_prefetchTimer->start();
}

void AttentionPage::requestAdapter() {
  const Shown key{m_index.runId, m_index.probe, currentStep()};
  if (adapterStep(true) || key == m_adapterPending || m_index.probe < 0) return;
  m_adapterPending = key;
  m_adapterError.clear();
  m_adapterTicket = m_reader->computeAdapter(key.runId, key.probe, key.step);
}

void AttentionPage::onAdapter(quint64 ticket, const AttentionStep& tuned,
                              const AttentionStep& base) {
  if (ticket != m_adapterTicket) return;
  m_adapters.append({m_adapterPending, {tuned, base}});
  while (m_adapters.size() > kAdaptersKept) m_adapters.removeFirst();
  m_adapterPending = {};
  if (view() == kAdapter) redraw();
}

QStringList AttentionPage::tokenLabels(int size) const {
  QStringList tokens;
  for (const AttentionProbe& p : m_index.probes)
    if (p.probe == m_index.probe) tokens = p.tokens;
  const int length = int(tokens.size());
  QStringList out;
  for (int i = 0; i < size; ++i) {
    // A pooled cell covers tokens [i t / n, (i + 1) t / n): labelled by the first.
    const int t = size > 0 && length > size ? int(qint64(i) * length / size) : i;
    out.append(t < length ? readableToken(tokens[t]) : QString::number(i));
  }
  return out;
}

void AttentionPage::redraw() {
  const bool open = m_context.session && m_context.session->isOpen();
  const qint64 step = currentStep();
  const auto cached = m_cache.constFind(step);
  const bool drawable =
      cached != m_cache.constEnd() && (cached->hasLayer(layer()) || layer() >= cached->layers);
  if (!open || m_runBox->count() == 0 || step < 0 || !drawable) {
    if (!open)
      setMessage(tr("Open a project to see the attention its runs recorded."));
    else if (m_runBox->count() == 0)
      setMessage(
          tr("No run of this project has recorded attention yet. Runs capture it for their "
             "probes (probe.text, probe.rows; the first validation row by default) every "
             "probe.attention_every steps."));
    else if (step < 0 && m_index.probe < 0 && !m_indexPending)
      setMessage(tr("This run has no attention probes."));
    else if (!m_message->text().isEmpty() && m_index.runId != 0 && m_cache.isEmpty())
      ;  // keep a read error
    else
      setMessage(QString());
    m_heatmap->clear();
    m_note->clear();
    return;
  }
  const AttentionStep& current = m_cache[step];
  m_updating = true;
  m_layerBox->setRange(0, std::max(0, current.layers - 1));
  m_headBox->setRange(0, std::max(0, current.heads - 1));
  m_updating = false;
  const AttentionStep* compared = nullptr;
  if (view() == kDifference) {
    auto it = m_cache.constFind(m_compareBox->currentData().toLongLong());
    if (it != m_cache.constEnd() && it->hasLayer(layer())) compared = &it.value();
  }
  QString error = current.error;
  if (error.isEmpty() && compared) error = compared->error;
  setMessage(error.isEmpty() ? QString() : tr("A stored attention map is damaged: %1").arg(error));
  if (view() == kAdapter) {
    const AttentionStep* tuned = adapterStep(true);
    if (!m_adapterError.isEmpty()) {
      setMessage(m_adapterError);
      m_heatmap->clear();
      m_note->setText(tr("No adapter comparison for step %1.").arg(step));
      Q_EMIT adapterShown(-1);
    } else if (tuned) {
      drawHeatmap(*tuned, adapterStep(false));
      Q_EMIT adapterShown(tuned->step);
    } else {
      m_heatmap->clear();
      m_note->setText(tr("Running the probe through the checkpoint with the adapters on and off…"));
    }
  } else {
    drawHeatmap(current, compared);
  }
  drawGrid(current);
  drawStats(current);
  m_shownStep = step;
  Q_EMIT stepShown(step);
}

void AttentionPage::drawHeatmap(const AttentionStep& step, const AttentionStep* compared) {
  const int n = step.size;
  const int l = layer(), h = head();
  const qsizetype cells = qsizetype(n) * n;
  const bool bad = l >= step.maps.size() || step.maps[l].size() < cells * step.heads ||
                   (compared && (l >= compared->maps.size() || compared->size != n ||
                                 compared->maps[l].size() < cells * compared->heads));
  if (bad || n == 0) {
    m_heatmap->clear();
    m_note->setText(tr("Layer %1 has no map to show at this step.").arg(l));
    return;
  }
  QVector<float> values(cells);
  QString title;
  if (view() == kHeadMean) {
    for (int k = 0; k < step.heads; ++k) {
      const QVector<float> head = step.headMap(l, k);
      for (qsizetype i = 0; i < cells; ++i) values[i] += head[i];
    }
    for (float& v : values) v /= float(step.heads);
    title = tr("mean of %1 heads").arg(step.heads);
  } else {
    values = step.headMap(l, h);
    if (compared && h < compared->heads) {
      const QVector<float> before = compared->headMap(l, h);
      for (qsizetype i = 0; i < cells; ++i) values[i] -= before[i];
    }
    if (view() == kAdapter)
      title = tr("adapters on minus off");
    else if (compared)
      title = tr("step %1 minus step %2").arg(step.step).arg(compared->step);
    else
      title = tr("weight");
  }
  const QStringList labels = tokenLabels(n);
  m_heatmap->setScaleTitle(title);
  m_heatmap->setCellToolTip([labels](int row, int column, double value) {
    return tr("query '%1' (%2) -> key '%3' (%4): %5")
        .arg(labels.value(row))
        .arg(row)
        .arg(labels.value(column))
        .arg(column)
        .arg(value, 0, 'f', 3);
  });
  m_heatmap->setMatrix(n, n, values, compared ? HeatmapPlot::kDiverging : HeatmapPlot::kSequential);
  m_heatmap->setLabels(labels, labels);
  QString note;
  if (view() == kHeadMean)
    note = tr("Step %1, layer %2, all heads").arg(step.step).arg(l);
  else if (view() == kAdapter)
    note = tr("Checkpoint of step %1 (the newest at or before step %2), layer %3, head %4: "
              "adapters on minus off")
               .arg(step.step)
               .arg(currentStep())
               .arg(l)
               .arg(h);
  else
    note = tr("Step %1, layer %2, head %3").arg(step.step).arg(l).arg(h);
  if (n < step.length)
    note += QStringLiteral(" — ") + tr("%1 tokens, max-pooled to %2 x %2").arg(step.length).arg(n);
  if (m_heatmap->columnLabelStep() > 1)
    note += QStringLiteral(" — ") + tr("one label per %1 tokens").arg(m_heatmap->columnLabelStep());
  m_note->setText(note);
}

void AttentionPage::drawGrid(const AttentionStep& step) {
  const Shown shown{step.runId, step.probe, step.step};
  if (shown == m_gridShown && m_grid->rowCount() == step.layers &&
      m_grid->columnCount() == step.heads) {
    m_grid->setCurrentCell(layer(), head());
    return;
  }
  m_gridShown = shown;
  // One scale for all: 0 to the largest weight of any head at this step (not 0..1, which would
  // leave every thumbnail of a model whose largest weights are ~0.3 dark; not each head's own
  // maximum, which would make a diffuse head look as sharp as a focused one).
  m_thumbnailRange = step.maxWeight;
  const int side = step.thumbnailSide;
  const qsizetype cells = qsizetype(side) * side;
  if (m_grid->rowCount() != step.layers || m_grid->columnCount() != step.heads) {
    m_grid->clear();
    m_grid->setRowCount(step.layers);
    m_grid->setColumnCount(step.heads);
    QStringList rows, columns;
    for (int l = 0; l < step.layers; ++l) rows.append(tr("L%1").arg(l));
    for (int h = 0; h < step.heads; ++h) columns.append(tr("H%1").arg(h));
    m_grid->setVerticalHeaderLabels(rows);
    m_grid->setHorizontalHeaderLabels(columns);
  }
  for (int l = 0; l < step.layers; ++l)
    for (int h = 0; h < step.heads; ++h) {
      QTableWidgetItem* item = m_grid->item(l, h);
      if (!item) {
        item = new QTableWidgetItem;
        item->setToolTip(tr("layer %1, head %2").arg(l).arg(h));
        m_grid->setItem(l, h, item);
      }
      if (l < step.thumbnails.size() && step.thumbnails[l].size() >= cells * step.heads &&
          side > 0) {
        const float* map = step.thumbnails[l].constData() + h * cells;
        item->setText(QString());
        item->setData(Qt::DecorationRole, QPixmap::fromImage(HeatmapPlot::thumbnail(
                                              map, side, m_thumbnailRange, kThumbnail)));
      } else {
        item->setData(Qt::DecorationRole, QVariant());
        item->setText(tr("bad"));
      }
    }
  m_grid->setCurrentCell(layer(), head());
}

void AttentionPage::drawStats(const AttentionStep& step) {
  const Shown shown{step.runId, step.probe, step.step};
  if (shown == m_statsShown && m_stats->rowCount() == step.layers * step.heads) {
    m_stats->selectRow(layer() * step.heads + head());
    return;
  }
  m_statsShown = shown;
  const bool reshaped = m_stats->rowCount() != step.layers * step.heads;
  m_stats->setRowCount(step.layers * step.heads);
  for (int l = 0; l < step.layers; ++l)
    for (int h = 0; h < step.heads; ++h) {
      const int row = l * step.heads + h;
      const deeptune::HeadStats s = l < step.stats.size() && h < step.stats[l].size()
                                        ? step.stats[l][h]
                                        : deeptune::HeadStats{};
      const double values[] = {s.entropy, s.sink, s.previous, s.max};
      QString texts[6] = {QString::number(l), QString::number(h)};
      for (int c = 0; c < 4; ++c) texts[2 + c] = QString::number(values[c], 'f', 3);
      for (int c = 0; c < 6; ++c) {
        // Items are kept from step to step: only their text changes.
        if (QTableWidgetItem* item = m_stats->item(row, c))
          item->setText(texts[c]);
        else
          m_stats->setItem(row, c, new QTableWidgetItem(texts[c]));
      }
    }
  if (reshaped) m_stats->resizeColumnsToContents();
  m_stats->selectRow(layer() * step.heads + head());
}

void AttentionPage::drawEntropy() {
  const int heads = m_index.heads, rows = m_index.layers * heads;
  const int columns = int(m_index.steps.size());
  QVector<float> values(qsizetype(rows) * columns);
  for (int c = 0; c < columns; ++c) {
    const auto& layers = m_index.stats[c];
    for (int l = 0; l < layers.size() && l < m_index.layers; ++l)
      for (int h = 0; h < layers[l].size() && h < heads; ++h)
        values[qsizetype(l * heads + h) * columns + c] = float(layers[l][h].entropy);
  }
  QStringList stepLabels, headLabels;
  for (qint64 s : m_index.steps) stepLabels.append(QString::number(s));
  for (int r = 0; r < rows; ++r) headLabels.append(tr("L%1 H%2").arg(r / heads).arg(r % heads));
  const QList<qint64> steps = m_index.steps;
  m_entropy->setCellToolTip([steps, heads](int row, int column, double value) {
    return tr("layer %1, head %2, step %3: entropy %4")
        .arg(row / heads)
        .arg(row % heads)
        .arg(steps.value(column))
        .arg(value, 0, 'f', 3);
  });
  m_entropy->setMatrix(rows, columns, values, HeatmapPlot::kSequential);
  m_entropy->setLabels(stepLabels, headLabels);
}
