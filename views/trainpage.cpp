// Worker batches arrive already coalesced (≤ ~30 per second); each becomes one appendPoints per
// plot, and the plots replot on their own timer, never while hidden. Starting a run waits for its
// memory forecast (computed in the background) before the worker is asked to train.
#include "trainpage.h"

#include <QDateTime>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QStyle>
#include <QVBoxLayout>
#include <limits>

#include "byteunits.h"
#include "configdraft.h"
#include "liveplot.h"
#include "memoryforecaster.h"
#include "memoryforecastlabel.h"
#include "messagebanner.h"
#include "projectsession.h"
#include "runcontroller.h"
#include "runsmodel.h"

namespace {

const QColor kTrain(0x1f, 0x77, 0xb4);
const QColor kVal(0xff, 0x7f, 0x0e);
const QColor kLr(0x2c, 0xa0, 0x2c);
const QColor kGrad(0x94, 0x67, 0xbd);
const QColor kTokens(0x8c, 0x56, 0x4b);

QString formatDuration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return QStringLiteral("—");
  const qint64 s = static_cast<qint64>(seconds + 0.5);
  if (s >= 3600)
    return QStringLiteral("%1:%2:%3")
        .arg(s / 3600)
        .arg((s / 60) % 60, 2, 10, QLatin1Char('0'))
        .arg(s % 60, 2, 10, QLatin1Char('0'));
  return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

}  // namespace

TrainPage::TrainPage(const WorkbenchContext& context, QWidget* parent)
    : QWidget(parent), m_context(context) {
  auto* layout = new QVBoxLayout(this);
  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel(tr("Run name:"), this));
  m_name = new QLineEdit(this);
  m_name->setPlaceholderText(tr("automatic"));
  m_name->setMaximumWidth(200);
  bar->addWidget(m_name);
  m_start = new QPushButton(style()->standardIcon(QStyle::SP_MediaPlay), tr("Start"), this);
  m_pause = new QPushButton(style()->standardIcon(QStyle::SP_MediaPause), tr("Pause"), this);
  m_resume =
      new QPushButton(style()->standardIcon(QStyle::SP_MediaSeekForward), tr("Resume"), this);
  m_stop = new QPushButton(style()->standardIcon(QStyle::SP_MediaStop), tr("Stop"), this);
  for (QPushButton* b : {m_start, m_pause, m_resume, m_stop}) bar->addWidget(b);
  bar->addStretch(1);
  layout->addLayout(bar);

  auto* status = new QHBoxLayout;
  m_title = new QLabel(this);
  QFont bold = m_title->font();
  bold.setBold(true);
  m_title->setFont(bold);
  m_state = new QLabel(this);
  m_progress = new QProgressBar(this);
  m_progress->setRange(0, 1);
  m_progress->setValue(0);
  m_progress->setFormat(tr("step %v of %m"));
  m_eta = new QLabel(this);
  m_eta->setMinimumWidth(120);
  m_health = new QLabel(this);
  m_health->setObjectName(QStringLiteral("runHealth"));
  m_health->setStyleSheet(QStringLiteral("color:#a06000"));
  m_health->setToolTip(
      tr("Steps whose loss or gradient was not a number were skipped without an update; after "
         "several in a row the run went back to its last checkpoint with a lower learning rate."));
  status->addWidget(m_title);
  status->addWidget(m_state);
  status->addWidget(m_progress, 1);
  status->addWidget(m_health);
  status->addWidget(m_eta);
  layout->addLayout(status);
  m_banner = new MessageBanner(this);
  layout->addWidget(m_banner);

  auto* split = new QSplitter(Qt::Vertical, this);
  auto* plots = new QWidget(split);
  auto* grid = new QGridLayout(plots);
  grid->setContentsMargins(0, 0, 0, 0);
  m_loss = new LivePlot(plots);
  m_loss->setTitle(tr("Loss"));
  m_loss->setAxisLabels(tr("step"), tr("loss"));
  m_trainLoss = m_loss->addSeries(tr("training"), kTrain);
  m_valLoss = m_loss->addSeries(tr("validation"), kVal, true);
  m_lr = new LivePlot(plots);
  m_lr->setTitle(tr("Learning rate"));
  m_lr->setAxisLabels(tr("step"), tr("learning rate"));
  m_lrSeries = m_lr->addSeries(tr("learning rate"), kLr);
  m_gradNorm = new LivePlot(plots);
  m_gradNorm->setTitle(tr("Gradient norm"));
  m_gradNorm->setAxisLabels(tr("step"), tr("norm before clipping"));
  m_gradSeries = m_gradNorm->addSeries(tr("gradient norm"), kGrad);
  m_throughput = new LivePlot(plots);
  m_throughput->setTitle(tr("Throughput"));
  m_throughput->setAxisLabels(tr("step"), tr("tokens/s"));
  m_tokSeries = m_throughput->addSeries(tr("tokens/s"), kTokens);
  grid->addWidget(m_loss, 0, 0);
  grid->addWidget(m_lr, 0, 1);
  grid->addWidget(m_gradNorm, 1, 0);
  grid->addWidget(m_throughput, 1, 1);
  split->addWidget(plots);
  m_log = new QPlainTextEdit(split);
  m_log->setReadOnly(true);
  m_log->setMaximumBlockCount(5000);
  m_log->setFont(QFont(QStringLiteral("monospace")));
  m_log->setPlaceholderText(tr("The run's log appears here."));
  split->addWidget(m_log);
  split->setStretchFactor(0, 4);
  split->setStretchFactor(1, 1);
  layout->addWidget(split, 1);

  RunController* runs = m_context.runs;
  connect(m_start, &QPushButton::clicked, this, [this] { startRun(m_name->text().trimmed()); });
  connect(m_pause, &QPushButton::clicked, runs, &RunController::pause);
  connect(m_resume, &QPushButton::clicked, runs, &RunController::resume);
  connect(m_stop, &QPushButton::clicked, runs, &RunController::stop);
  connect(runs, &RunController::runStarted, this, [this](qint64 id) {
    m_banner->clearMessage();
    m_context.session->reloadRuns();
    showRun(id);
  });
  connect(runs, &RunController::stepsFinished, this, &TrainPage::onSteps);
  connect(runs, &RunController::evalFinished, this, &TrainPage::onEval);
  connect(runs, &RunController::logged, this, &TrainPage::onLog);
  connect(runs, &RunController::stateChanged, this, &TrainPage::onState);
  connect(runs, &RunController::runFinished, this, &TrainPage::onFinished);
  connect(runs, &RunController::rolledBack, this, &TrainPage::onRollback);
  m_startCheck = new MemoryForecaster(m_context.session, this);
  connect(m_startCheck, &MemoryForecaster::forecastReady, this,
          [this](quint64 ticket, const MemoryForecastPair& f) { onStartForecast(ticket, &f); });
  connect(m_startCheck, &MemoryForecaster::forecastFailed, this,
          [this](quint64 ticket, const UserMessage&) {
            // No forecast (a run:NAME parent that cannot be read...): the engine checks the
            // config itself when the run is created and says what is wrong.
            onStartForecast(ticket, nullptr);
          });
  connect(runs, &RunController::startFailed, this, [this](const QString& error) {
    // Refused while preparing, the engine may have removed the run it had announced.
    m_context.session->reloadRuns();
    if (m_runId != 0 && !m_context.session->run(m_runId)) {
      showRun(0);
      m_title->clear();
    }
    setStateText(QString());
    m_banner->showMessage(MessageBanner::Kind::kError, tr("The run could not start"), error);
    updateButtons();
  });
  connect(runs, &RunController::busyChanged, this, &TrainPage::updateButtons);
  connect(m_context.session, &ProjectSession::runsChanged, this, &TrainPage::onRunsChanged);
  m_history = new RunHistoryReader(m_context.session, this);
  connect(m_history, &RunHistoryReader::historyRead, this, &TrainPage::showHistory);
  connect(m_history, &RunHistoryReader::readFailed, this,
          [this](quint64 ticket, const UserMessage& message) {
            if (ticket != m_historyTicket) return;
            m_reading = false;
            if (!m_following) {
              m_banner->showMessage(MessageBanner::Kind::kError, message.headline, message.detail);
              return;
            }
            // Following: the writer may hold the lock for a moment; the next second tries again
            // (the timer does while the run lives; the last read is retried here).
            if (!m_follow.isActive())
              QTimer::singleShot(1000, this, [this] {
                if (m_following && !m_reading) readHistory();
              });
          });
  connect(m_context.session, &ProjectSession::closed, this, [this] {
    m_runId = 0;
    m_autoShown.clear();
    m_follow.stop();
    m_following = false;
    m_reading = false;
    m_historyTicket = 0;
    clearPlots();
    m_log->clear();
    m_title->clear();
    m_checkTicket = 0;
    setHealth(0, 1.0);
    setStateText(QString());
    updateButtons();
  });
  m_follow.setInterval(1000);
  connect(&m_follow, &QTimer::timeout, this, &TrainPage::pollExternalRun);
  updateButtons();
}

bool TrainPage::startRun(const QString& name) {
  if (!m_context.session->isOpen() || m_context.runs->isBusy() || isStarting()) return false;
  const QString error = m_context.draft->validationError();
  if (!error.isEmpty()) {
    m_banner->showMessage(MessageBanner::Kind::kError, tr("The run config is not valid"), error);
    return false;
  }
  const auto dataset = m_context.draft->value(QStringLiteral("data.dataset"));
  if (!dataset.is_string() || dataset.get<std::string>().empty()) {
    m_banner->showMessage(MessageBanner::Kind::kError, tr("No dataset chosen"),
                          tr("Pick the dataset to train on in the Data page."));
    return false;
  }
  m_banner->clearMessage();
  m_checkConfig = QString::fromStdString(m_context.draft->document().dump());
  m_checkName = name;
  m_checkTicket = m_startCheck->request(m_context.draft->document());
  setStateText(tr("checking memory…"));
  updateButtons();
  return true;
}

void TrainPage::onStartForecast(quint64 ticket, const MemoryForecastPair* forecast) {
  if (ticket != m_checkTicket || ticket == 0) return;  // the project closed meanwhile
  m_checkTicket = 0;
  // A modal question (object name "memoryQuestion"); tests answer it like a user.
  if (forecast && forecast->forecast.fit == deeptune::MemoryFit::kWontFit &&
      !MemoryForecastLabel::askToStartAnyway(this, *forecast)) {
    setStateText(QString());
    m_banner->showMessage(MessageBanner::Kind::kInfo, tr("The run was not started"),
                          MemoryForecastLabel::describe(*forecast, false));
    updateButtons();
    Q_EMIT startDeclined();
    return;
  }
  // The session may have closed while the question was open.
  if (!m_context.session->isOpen() || m_context.runs->isBusy()) {
    setStateText(QString());
    updateButtons();
    return;
  }
  launch(m_checkConfig, m_checkName);
}

void TrainPage::launch(const QString& configJson, const QString& name) {
  clearPlots();
  m_log->clear();
  setHealth(0, 1.0);
  setStateText(RunsModel::stateText(deeptune::RunState::kPreparing));
  m_context.runs->startRun(m_context.session->path(), configJson, name);
  updateButtons();
}

void TrainPage::onRollback(qint64 runId, qint64 step) {
  if (runId != m_runId) return;
  // The steps after the checkpoint are trained again and arrive again: their points go now.
  for (LivePlot* p : {m_loss, m_lr, m_gradNorm, m_throughput})
    p->removePointsAfter(static_cast<double>(step) + 0.5);
  for (auto it = m_lastStep.begin(); it != m_lastStep.end(); ++it)
    it.value() = qMin(it.value(), step);
  appendLog(QStringLiteral("warning"),
            tr("went back to the checkpoint at step %1 after steps that were not a number; the "
               "curves from there are drawn again")
                .arg(step));
}

void TrainPage::setHealth(qint64 skippedSteps, double lrScale) {
  m_skipped = skippedSteps;
  m_lrScale = lrScale;
  QStringList parts;
  if (skippedSteps > 0) parts << tr("NaN/inf steps skipped: %1").arg(skippedSteps);
  if (lrScale != 1.0)
    parts << tr("learning rate ×%1 after going back").arg(QString::number(lrScale, 'g', 4));
  m_health->setText(parts.isEmpty() ? QString()
                                    : QStringLiteral("▲ ") + parts.join(QStringLiteral(" · ")));
  m_health->setVisible(!parts.isEmpty());
}

QString TrainPage::healthText() const {
  return m_health->text();
}

void TrainPage::clearPlots() {
  for (LivePlot* p : {m_loss, m_lr, m_gradNorm, m_throughput}) p->clearPoints();
  m_lastStep.clear();
}

void TrainPage::showRun(qint64 runId) {
  const auto run = m_context.session->run(runId);
  m_runId = runId;
  clearPlots();
  m_log->clear();
  m_follow.stop();
  m_following = false;
  m_lastLogId = 0;
  m_liveFrom = -1;
  m_historyTicket = 0;
  m_reading = false;
  setHealth(0, 1.0);
  if (!run) return;
  m_title->setText(QString::fromStdString(run->name));
  setStateText(RunsModel::statusText(run->status));
  setProgress(run->last_step, run->max_steps, -1);
  const bool ours = m_context.runs->isBusy() && m_context.runs->currentRunId() == runId;
  m_liveSince = ours ? m_context.runs->requestedAt() : QDateTime();
  readHistory();
  if (!run->error_text.empty() && run->status == deeptune::RunStatus::kFailed)
    m_banner->showMessage(MessageBanner::Kind::kError, tr("The run failed"),
                          QString::fromStdString(run->error_text));
  if (!ours && (run->status == deeptune::RunStatus::kRunning ||
                run->status == deeptune::RunStatus::kPaused)) {
    m_following = true;
    m_follow.start();
    m_banner->showMessage(
        MessageBanner::Kind::kInfo,
        tr("Following run '%1', trained by another process").arg(QString::fromStdString(run->name)),
        tr("Its curves update as it records them (host %1, pid %2).")
            .arg(QString::fromStdString(run->host))
            .arg(run->pid));
  }
  updateButtons();
}

void TrainPage::readHistory() {
  // Only what is new: steps after the series that is furthest behind (appendRecorded drops the
  // repeats of the others) and log lines after the newest shown.
  qint64 after = -1;
  if (!m_lastStep.isEmpty()) {
    after = std::numeric_limits<qint64>::max();
    for (qint64 s : std::as_const(m_lastStep)) after = qMin(after, s);
  }
  m_historyTicket = m_history->read({m_runId}, after, m_lastLogId);
  m_reading = m_historyTicket != 0;
}

void TrainPage::showHistory(quint64 ticket, const QList<RunHistory>& histories) {
  if (ticket != m_historyTicket) return;  // asked for another run, or superseded
  m_reading = false;
  for (const RunHistory& h : histories) {
    if (h.runId != m_runId) continue;
    appendRecorded(h.metrics);
    appendRecordedLogs(h.logs);
  }
  const auto run = m_context.session->run(m_runId);
  const bool live = run && (run->status == deeptune::RunStatus::kRunning ||
                            run->status == deeptune::RunStatus::kPaused);
  if (m_following && !m_follow.isActive() && !live) m_following = false;  // the final read
  Q_EMIT historyShown(m_runId);
}

void TrainPage::appendRecorded(
    const std::map<std::string, std::vector<std::pair<int64_t, double>>>& metrics) {
  struct Target {
    const char* name;
    LivePlot* plot;
    int series;
  };
  const Target targets[] = {{"train/loss", m_loss, m_trainLoss},
                            {"val/loss", m_loss, m_valLoss},
                            {"train/lr", m_lr, m_lrSeries},
                            {"train/grad_norm", m_gradNorm, m_gradSeries},
                            {"train/tokens_per_s", m_throughput, m_tokSeries}};
  const auto skipped = metrics.find("train/skipped_steps");
  const auto scale = metrics.find("train/lr_scale");
  if ((skipped != metrics.end() && !skipped->second.empty()) ||
      (scale != metrics.end() && !scale->second.empty()))
    setHealth(
        skipped != metrics.end() && !skipped->second.empty()
            ? static_cast<qint64>(skipped->second.back().second)
            : m_skipped,
        scale != metrics.end() && !scale->second.empty() ? scale->second.back().second : m_lrScale);
  for (const Target& t : targets) {
    const auto it = metrics.find(t.name);
    if (it == metrics.end()) continue;
    const QString key = QString::fromLatin1(t.name);
    const qint64 last = m_lastStep.value(key, -1);
    QVector<QPointF> points;
    for (const auto& [step, value] : it->second)
      if (step > last && (m_liveFrom < 0 || step < m_liveFrom))
        points.append(QPointF(static_cast<double>(step), value));
    if (points.isEmpty()) continue;
    t.plot->appendPoints(t.series, points);
    m_lastStep[key] = qMax(last, static_cast<qint64>(points.last().x()));
  }
}

void TrainPage::appendRecordedLogs(const std::vector<deeptune::LogRecord>& logs) {
  for (const auto& line : logs) {
    m_lastLogId = qMax(m_lastLogId, static_cast<qint64>(line.id));
    const QDateTime when =
        QDateTime::fromString(QString::fromStdString(line.time), Qt::ISODateWithMs);
    if (m_liveSince.isValid() && when >= m_liveSince) continue;  // this window's run tells it live
    appendLog(QString::fromStdString(line.level), QString::fromStdString(line.text), when);
  }
}

void TrainPage::pollExternalRun() {
  const auto run = m_context.session->run(m_runId);
  if (!run || !m_context.session->isOpen()) {
    m_follow.stop();
    m_following = false;
    return;
  }
  setProgress(run->last_step, run->max_steps, -1);
  setStateText(RunsModel::statusText(run->status));
  if (run->status != deeptune::RunStatus::kRunning && run->status != deeptune::RunStatus::kPaused) {
    // Ended: one last read (replacing any in flight, from the same place) for what it wrote last.
    m_follow.stop();
    readHistory();
    m_banner->showMessage(MessageBanner::Kind::kInfo, tr("Run '%1' ended: %2")
                                                          .arg(QString::fromStdString(run->name),
                                                               RunsModel::statusText(run->status)));
    return;
  }
  if (!m_reading) readHistory();  // one read at a time; a busy file just delays it a second
}

void TrainPage::onRunsChanged() {
  if (!m_context.session->isOpen()) return;
  if (m_context.runs->isBusy()) return;  // our own run feeds the page directly
  if (m_following) {
    if (m_follow.isActive()) pollExternalRun();
    return;
  }
  // A run another process is training shows up here by itself, once: if the user then opens
  // another run, the page stays on that one.
  for (const auto& r : m_context.session->runs()) {
    const bool live =
        r.status == deeptune::RunStatus::kRunning || r.status == deeptune::RunStatus::kPaused;
    if (live && !m_autoShown.contains(r.id)) {
      m_autoShown.insert(r.id);
      showRun(r.id);
      return;
    }
  }
  if (m_runId == 0 && !m_context.session->runs().empty())
    showRun(m_context.session->runs().back().id);
}

void TrainPage::onSteps(qint64 runId, const QList<deeptune::StepMetrics>& steps) {
  if (runId != m_runId || steps.isEmpty()) return;
  if (m_liveFrom < 0) {
    // A resumed run trains again from its checkpoint: what was recorded after it is superseded.
    m_liveFrom = steps.first().step;
    for (LivePlot* p : {m_loss, m_lr, m_gradNorm, m_throughput})
      p->removePointsAfter(static_cast<double>(m_liveFrom) - 0.5);
    for (auto it = m_lastStep.begin(); it != m_lastStep.end(); ++it)
      it.value() = qMin(it.value(), m_liveFrom - 1);
  }
  QVector<QPointF> loss, lr, grad, tokens;
  loss.reserve(steps.size());
  for (const auto& s : steps) {
    const double x = static_cast<double>(s.step);
    loss.append({x, s.loss});
    lr.append({x, s.lr});
    grad.append({x, s.grad_norm});
    tokens.append({x, s.tokens_per_second});
  }
  m_loss->appendPoints(m_trainLoss, loss);
  m_lr->appendPoints(m_lrSeries, lr);
  m_gradNorm->appendPoints(m_gradSeries, grad);
  m_throughput->appendPoints(m_tokSeries, tokens);
  const auto& last = steps.last();
  setHealth(last.skipped_steps, last.lr_scale);
  for (const char* k : {"train/loss", "train/lr", "train/grad_norm", "train/tokens_per_s"})
    m_lastStep[QString::fromLatin1(k)] = last.step;
  setProgress(last.step, last.max_steps, last.eta_seconds);
}

void TrainPage::onEval(qint64 runId, const deeptune::EvalMetrics& eval) {
  if (runId != m_runId) return;
  m_loss->appendPoints(m_valLoss, {QPointF(static_cast<double>(eval.step), eval.loss)});
  m_lastStep[QStringLiteral("val/loss")] = eval.step;
  QString text = tr("validation at step %1: loss %2").arg(eval.step).arg(eval.loss, 0, 'g', 5);
  if (eval.accuracy)
    text += tr(", accuracy %1").arg(*eval.accuracy, 0, 'f', 4);
  else if (eval.perplexity > 0)
    text += tr(", perplexity %1").arg(eval.perplexity, 0, 'g', 5);
  appendLog(QStringLiteral("info"), text);
}

void TrainPage::onLog(qint64 runId, const deeptune::LogLine& line) {
  if (runId != m_runId) return;
  const char* level = line.level == deeptune::LogLevel::kError     ? "error"
                      : line.level == deeptune::LogLevel::kWarning ? "warning"
                                                                   : "info";
  appendLog(QString::fromLatin1(level), QString::fromStdString(line.text));
}

void TrainPage::onState(qint64 runId, deeptune::RunState state, const QString& detail) {
  if (runId != m_runId) return;
  const QString text = RunsModel::stateText(state);
  setStateText(text);
  if (!detail.isEmpty()) appendLog(QStringLiteral("info"), detail);
  updateButtons();
}

void TrainPage::onFinished(qint64 runId, deeptune::RunStatus status, const QString& error) {
  m_context.session->reloadRuns();
  if (runId != m_runId) return;
  setStateText(RunsModel::statusText(status));
  const auto run = m_context.session->run(runId);
  const QString name = run ? QString::fromStdString(run->name) : QString::number(runId);
  switch (status) {
    case deeptune::RunStatus::kCompleted:
      m_banner->showMessage(MessageBanner::Kind::kSuccess, tr("Run '%1' completed").arg(name),
                            run ? QString::fromStdString(run->final_metrics_json) : QString());
      break;
    case deeptune::RunStatus::kStopped:
      m_banner->showMessage(MessageBanner::Kind::kInfo, tr("Run '%1' stopped").arg(name),
                            tr("It can be resumed from its last checkpoint in the Runs page."));
      break;
    default:
      m_banner->showMessage(MessageBanner::Kind::kError, tr("The run failed"), error);
      appendLog(QStringLiteral("error"), error);
  }
  m_eta->clear();
  updateButtons();
}

void TrainPage::appendLog(const QString& level, const QString& text, const QDateTime& when) {
  const QString time = (when.isValid() ? when.toLocalTime() : QDateTime::currentDateTime())
                           .toString(QStringLiteral("HH:mm:ss"));
  QString line = QStringLiteral("%1  %2").arg(time, text);
  if (level == QLatin1String("error"))
    line = QStringLiteral("%1  [%2] %3").arg(time, tr("error"), text);
  else if (level == QLatin1String("warning"))
    line = QStringLiteral("%1  [%2] %3").arg(time, tr("warning"), text);
  m_log->appendPlainText(line);
}

void TrainPage::setProgress(qint64 step, qint64 maxSteps, double etaSeconds) {
  m_progress->setRange(0, static_cast<int>(qMax<qint64>(maxSteps, 1)));
  m_progress->setValue(static_cast<int>(qMin(step, qMax<qint64>(maxSteps, 1))));
  m_eta->setText(etaSeconds >= 0 ? tr("ETA %1").arg(formatDuration(etaSeconds)) : QString());
}

void TrainPage::setStateText(const QString& text) {
  m_state->setText(text);
}
QString TrainPage::stateText() const {
  return m_state->text();
}
QString TrainPage::logText() const {
  return m_log->toPlainText();
}

void TrainPage::updateButtons() {
  const bool open = m_context.session->isOpen();
  const bool busy = m_context.runs->isBusy();
  const bool paused = m_context.runs->state() == deeptune::RunState::kPaused;
  m_start->setEnabled(open && !busy && !isStarting());
  m_name->setEnabled(open && !busy && !isStarting());
  m_pause->setEnabled(busy && !paused);
  m_resume->setEnabled(busy && paused);
  m_stop->setEnabled(busy);
}
