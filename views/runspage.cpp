// Overlay and comparison follow the selection; the list refreshes in place once a second while
// runs change, keeping the selection. Curves are read and runs deleted in the background, through
// RunHistoryReader and RunRemover (app/).
#include "runspage.h"

#include <QBrush>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QTableWidget>
#include <QVBoxLayout>
#include <nlohmann/json.hpp>
#include <set>

#include "configdraft.h"
#include "liveplot.h"
#include "memoryforecaster.h"
#include "memoryforecastlabel.h"
#include "messagebanner.h"
#include "projectsession.h"
#include "runcontroller.h"
#include "runsmodel.h"

namespace {

// Ten distinguishable colours (the usual categorical palette).
const QColor kPalette[] = {{0x1f, 0x77, 0xb4}, {0xff, 0x7f, 0x0e}, {0x2c, 0xa0, 0x2c},
                           {0xd6, 0x27, 0x28}, {0x94, 0x67, 0xbd}, {0x8c, 0x56, 0x4b},
                           {0xe3, 0x77, 0xc2}, {0x7f, 0x7f, 0x7f}, {0xbc, 0xbd, 0x22},
                           {0x17, 0xbe, 0xcf}};

void flatten(const nlohmann::json& j, const std::string& prefix,
             std::map<std::string, std::string>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) flatten(v, prefix.empty() ? k : prefix + "." + k, out);
    return;
  }
  out[prefix] = j.is_string() ? j.get<std::string>() : j.dump();
}

}  // namespace

RunsPage::RunsPage(const WorkbenchContext& context, QWidget* parent)
    : QWidget(parent), m_context(context) {
  auto* layout = new QVBoxLayout(this);
  auto* bar = new QHBoxLayout;
  m_show = new QPushButton(tr("Show in Train"), this);
  m_rename = new QPushButton(tr("Rename"), this);
  m_duplicate = new QPushButton(tr("Duplicate as new config"), this);
  m_resume = new QPushButton(tr("Resume"), this);
  m_delete = new QPushButton(tr("Delete…"), this);
  m_delete->setObjectName(QStringLiteral("deleteRunButton"));
  for (QPushButton* b : {m_show, m_rename, m_duplicate, m_resume}) bar->addWidget(b);
  bar->addStretch(1);
  bar->addWidget(m_delete);
  layout->addLayout(bar);
  m_banner = new MessageBanner(this);
  layout->addWidget(m_banner);

  auto* split = new QSplitter(Qt::Vertical, this);
  m_model = new RunsModel(m_context.session, this);
  m_table = new QTableView(split);
  m_table->setModel(m_model);
  m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
  m_table->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
  m_table->verticalHeader()->hide();
  m_table->horizontalHeader()->setStretchLastSection(true);
  split->addWidget(m_table);

  auto* compare = new QSplitter(Qt::Horizontal, split);
  auto* plotBox = new QWidget(compare);
  auto* pv = new QVBoxLayout(plotBox);
  pv->setContentsMargins(0, 0, 0, 0);
  auto* metricRow = new QHBoxLayout;
  metricRow->addWidget(new QLabel(tr("Compare:"), plotBox));
  m_metric = new QComboBox(plotBox);
  m_metric->addItem(tr("Validation loss"), QStringLiteral("val/loss"));
  m_metric->addItem(tr("Training loss"), QStringLiteral("train/loss"));
  m_metric->addItem(tr("Learning rate"), QStringLiteral("train/lr"));
  m_metric->addItem(tr("Gradient norm"), QStringLiteral("train/grad_norm"));
  m_metric->addItem(tr("Tokens/s"), QStringLiteral("train/tokens_per_s"));
  metricRow->addWidget(m_metric);
  metricRow->addStretch(1);
  pv->addLayout(metricRow);
  m_overlay = new LivePlot(plotBox);
  m_overlay->setAxisLabels(tr("step"), QString());
  pv->addWidget(m_overlay, 1);
  compare->addWidget(plotBox);
  m_configs = new QTableWidget(compare);
  m_configs->verticalHeader()->setDefaultSectionSize(20);
  compare->addWidget(m_configs);
  split->addWidget(compare);
  layout->addWidget(split, 1);

  connect(m_context.session, &ProjectSession::runsChanged, this, &RunsPage::refresh);
  connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
    updateComparison();
    updateButtons();
  });
  connect(m_metric, &QComboBox::currentIndexChanged, this, &RunsPage::updateComparison);
  connect(m_model, &RunsModel::renameFailed, this, &RunsPage::showError);
  connect(m_rename, &QPushButton::clicked, this, [this] {
    const auto rows = m_table->selectionModel()->selectedRows(RunsModel::kName);
    if (!rows.isEmpty()) m_table->edit(rows.first());
  });
  connect(m_show, &QPushButton::clicked, this, [this] {
    const auto ids = selectedRunIds();
    if (!ids.isEmpty()) Q_EMIT showRequested(ids.first());
  });
  connect(m_duplicate, &QPushButton::clicked, this, [this] {
    const auto ids = selectedRunIds();
    if (!ids.isEmpty()) duplicateRun(ids.first());
  });
  connect(m_resume, &QPushButton::clicked, this, [this] {
    const auto ids = selectedRunIds();
    if (!ids.isEmpty()) resumeRun(ids.first());
  });
  connect(m_delete, &QPushButton::clicked, this, &RunsPage::confirmDelete);
  connect(m_context.runs, &RunController::busyChanged, this, &RunsPage::updateButtons);
  m_history = new RunHistoryReader(m_context.session, this);
  connect(m_history, &RunHistoryReader::historyRead, this, &RunsPage::showCurves);
  connect(m_history, &RunHistoryReader::readFailed, this,
          [this](quint64 ticket, const UserMessage& message) {
            if (ticket == m_curvesTicket) showError(message);
          });
  m_remover = new RunRemover(m_context.session, this);
  m_resumeCheck = new MemoryForecaster(m_context.session, this);
  connect(m_resumeCheck, &MemoryForecaster::forecastReady, this,
          [this](quint64 ticket, const MemoryForecastPair& f) { onResumeForecast(ticket, &f); });
  connect(m_resumeCheck, &MemoryForecaster::forecastFailed, this,
          [this](quint64 ticket, const UserMessage&) {
            // No forecast: the engine checks the run itself when it resumes and says what fails.
            onResumeForecast(ticket, nullptr);
          });
  connect(m_context.session, &ProjectSession::closed, this, [this] {
    m_resumeTicket = 0;
    m_resumeId = 0;
  });
  connect(m_remover, &RunRemover::busyChanged, this, &RunsPage::updateButtons);
  connect(m_remover, &RunRemover::dependentsFound, this, &RunsPage::askToDelete);
  connect(m_remover, &RunRemover::lookupFailed, this,
          [this](qint64, const UserMessage& message) { showError(message); });
  connect(m_remover, &RunRemover::removeFailed, this,
          [this](qint64, const UserMessage& message) { showError(message); });
  connect(m_remover, &RunRemover::removed, this, &RunsPage::runDeleted);
  updateButtons();
}

void RunsPage::refresh() {
  const auto ids = selectedRunIds();
  m_model->setRuns(m_context.session->runs());
  if (m_model->rowCount() > 0 && selectedRunIds() != ids) selectRuns(ids);
  m_table->resizeColumnsToContents();
  updateComparison();
  updateButtons();
}

QList<qint64> RunsPage::selectedRunIds() const {
  QList<qint64> ids;
  for (const QModelIndex& i : m_table->selectionModel()->selectedRows())
    ids << i.data(RunsModel::kIdRole).toLongLong();
  std::sort(ids.begin(), ids.end());
  return ids;
}

void RunsPage::selectRuns(const QList<qint64>& ids) {
  QItemSelection selection;
  for (qint64 id : ids) {
    const int row = m_model->rowOfId(id);
    if (row >= 0)
      selection.select(m_model->index(row, 0), m_model->index(row, RunsModel::kColumnCount - 1));
  }
  m_table->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect);
}

void RunsPage::updateComparison() {
  const auto ids = selectedRunIds();
  // The runs list refreshes every second while something trains: rebuild only when the selection,
  // a selected run's progress or the metric changed, so a zoomed overlay is not reset for nothing.
  QString key = m_metric->currentData().toString();
  for (qint64 id : ids)
    if (const auto run = m_context.session->run(id))
      key += QStringLiteral("|%1:%2:%3").arg(id).arg(run->last_step).arg(int(run->status));
  if (key == m_compared) return;
  m_compared = key;
  m_configs->clear();
  m_configs->setRowCount(0);
  m_configs->setColumnCount(0);
  if (!m_context.session->isOpen() || ids.isEmpty()) {
    m_curvesTicket = 0;
    m_overlay->clearSeries();
    return;
  }
  m_curvesTicket = m_history->read(ids);  // the overlay is replaced when the curves arrive
  std::vector<std::map<std::string, std::string>> configs;
  QStringList names;
  for (qint64 id : ids) {
    const auto run = m_context.session->run(id);
    if (!run) continue;
    names << QString::fromStdString(run->name);
    try {
      std::map<std::string, std::string> flat;
      flatten(nlohmann::json::parse(run->config_json), "", flat);
      configs.push_back(std::move(flat));
    } catch (const std::exception& e) {
      m_banner->showMessage(MessageBanner::Kind::kError, tr("The run's config cannot be read"),
                            QString::fromStdString(e.what()));
      return;
    }
  }
  // Keys in a stable order; rows whose values differ are marked and listed first.
  std::set<std::string> keys;
  for (const auto& c : configs)
    for (const auto& [k, v] : c) keys.insert(k);
  std::vector<std::pair<bool, std::string>> rows;
  for (const auto& k : keys) {
    bool differs = false;
    for (const auto& c : configs) {
      const auto a = c.find(k);
      const auto b = configs.front().find(k);
      if ((a == c.end()) != (b == configs.front().end()) ||
          (a != c.end() && b != configs.front().end() && a->second != b->second))
        differs = true;
    }
    rows.emplace_back(!differs, k);
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  m_configs->setColumnCount(static_cast<int>(configs.size()));
  m_configs->setHorizontalHeaderLabels(names);
  m_configs->setRowCount(static_cast<int>(rows.size()));
  QStringList keyLabels;
  const QBrush marked(QColor(0xff, 0xf0, 0xb3));
  for (int r = 0; r < static_cast<int>(rows.size()); ++r) {
    const auto& [same, key] = rows[r];
    keyLabels << QString::fromStdString(key);
    for (int c = 0; c < static_cast<int>(configs.size()); ++c) {
      const auto it = configs[c].find(key);
      auto* item = new QTableWidgetItem(
          it == configs[c].end() ? QStringLiteral("—") : QString::fromStdString(it->second));
      item->setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled);
      if (!same && configs.size() > 1) {
        item->setBackground(marked);
        QFont f = item->font();
        f.setBold(true);
        item->setFont(f);
      }
      m_configs->setItem(r, c, item);
    }
  }
  m_configs->setVerticalHeaderLabels(keyLabels);
  m_configs->resizeColumnsToContents();
}

void RunsPage::showCurves(quint64 ticket, const QList<RunHistory>& histories) {
  if (ticket != m_curvesTicket) return;  // the selection changed since this was asked for
  const std::string metric = m_metric->currentData().toString().toStdString();
  m_overlay->clearSeries();
  m_overlay->setTitle(m_metric->currentText());
  int colour = 0;
  for (const RunHistory& h : histories) {
    const auto run = m_context.session->run(h.runId);
    if (!run) continue;
    const int series = m_overlay->addSeries(QString::fromStdString(run->name),
                                            kPalette[colour++ % 10], metric == "val/loss");
    if (const auto it = h.metrics.find(metric); it != h.metrics.end()) {
      QVector<QPointF> points;
      for (const auto& [step, v] : it->second) points.append(QPointF(double(step), v));
      m_overlay->setPoints(series, points);
    }
  }
  Q_EMIT comparisonUpdated();
}

void RunsPage::updateButtons() {
  const auto ids = selectedRunIds();
  const auto run = ids.size() == 1 ? m_context.session->run(ids.first()) : std::nullopt;
  const bool busy = m_context.runs->isBusy();
  m_show->setEnabled(run.has_value());
  m_rename->setEnabled(run.has_value());
  m_duplicate->setEnabled(run.has_value());
  m_resume->setEnabled(run && deeptune::is_resumable(*run) && !busy && !isResuming());
  m_delete->setEnabled(run && !m_remover->isBusy() &&
                       !(busy && m_context.runs->currentRunId() == run->id));
  // The banner explains a selected failed run; it leaves other messages (a refused rename) alone.
  const QString failedHeadline =
      run ? tr("Run '%1' failed").arg(QString::fromStdString(run->name)) : QString();
  if (run && run->status == deeptune::RunStatus::kFailed && !run->error_text.empty()) {
    m_banner->showMessage(MessageBanner::Kind::kError, failedHeadline,
                          QString::fromStdString(run->error_text));
    m_showsRunFailure = true;
  } else if (m_showsRunFailure) {
    m_banner->clearMessage();
    m_showsRunFailure = false;
  }
}

void RunsPage::showError(const UserMessage& message) {
  m_banner->showMessage(MessageBanner::Kind::kError, message.headline, message.detail);
  m_showsRunFailure = false;
}

void RunsPage::confirmDelete() {
  // What depends on the run is looked up first (in the background), then the question says it.
  const auto ids = selectedRunIds();
  if (ids.size() == 1) m_remover->findDependents(ids.first());
}

void RunsPage::askToDelete(qint64 id, const QList<deeptune::RunDependent>& dependents) {
  const auto run = m_context.session->run(id);
  if (!run) return;
  QStringList consequences;
  bool breaksSome = false;
  for (const auto& d : dependents) {
    const QString name = QString::fromStdString(d.name);
    breaksSome = breaksSome || d.needs_parent;
    consequences << (d.needs_parent
                         ? tr("• '%1' has not started yet and cannot start without it.").arg(name)
                         : tr("• '%1' started from its weights and keeps its own copy.").arg(name));
  }
  QString informative;
  if (!dependents.isEmpty())
    informative = tr("%n run(s) start from this run's weights:", nullptr,
                     static_cast<int>(dependents.size())) +
                  QLatin1Char('\n') + consequences.join(QLatin1Char('\n')) + QStringLiteral("\n\n");
  informative += tr("Exports written elsewhere are kept. This cannot be undone.");
  auto* box = new QMessageBox(QMessageBox::Warning, tr("Delete run"),
                              tr("Delete run '%1' with its metrics, logs and checkpoints?")
                                  .arg(QString::fromStdString(run->name)),
                              QMessageBox::Cancel, this);
  box->setInformativeText(informative);
  QPushButton* yes = box->addButton(tr("Delete"), QMessageBox::DestructiveRole);
  box->setDefaultButton(QMessageBox::Cancel);
  box->setAttribute(Qt::WA_DeleteOnClose);
  // Forced only past what the user was shown: a run that came to depend on it meanwhile still
  // makes the engine refuse, and the banner names it.
  connect(box, &QMessageBox::finished, this, [this, box, yes, id, breaksSome] {
    if (box->clickedButton() == yes) deleteRun(id, breaksSome);
  });
  box->open();
}

bool RunsPage::deleteRun(qint64 id, bool force) {
  return m_remover->remove(id, force);
}

void RunsPage::duplicateRun(qint64 id) {
  const auto run = m_context.session->run(id);
  if (!run) return;
  try {
    m_context.draft->setDocument(nlohmann::json::parse(run->config_json));
  } catch (const std::exception& e) {
    m_banner->showMessage(MessageBanner::Kind::kError, tr("The run's config cannot be read"),
                          QString::fromStdString(e.what()));
    return;
  }
  m_banner->showMessage(
      MessageBanner::Kind::kSuccess,
      tr("The config of '%1' is now the draft").arg(QString::fromStdString(run->name)),
      tr("Change it in Model & LoRA or Hyperparameters, then start it in Train."));
  Q_EMIT runDuplicated();
}

bool RunsPage::resumeRun(qint64 id) {
  const auto run = m_context.session->run(id);
  if (!run || !deeptune::is_resumable(*run) || isResuming() || m_context.runs->isBusy())
    return false;
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(run->config_json);
  } catch (const std::exception&) {
    // Unreadable: no forecast to ask about; the engine reads it again and says what is wrong.
    finishResume(id);
    return true;
  }
  m_resumeId = id;
  m_resumeTicket = m_resumeCheck->request(config);
  updateButtons();
  return true;
}

void RunsPage::onResumeForecast(quint64 ticket, const MemoryForecastPair* forecast) {
  if (ticket != m_resumeTicket || ticket == 0) return;  // the project closed meanwhile
  m_resumeTicket = 0;
  const qint64 id = m_resumeId;
  m_resumeId = 0;
  if (forecast && forecast->forecast.fit == deeptune::MemoryFit::kWontFit &&
      !MemoryForecastLabel::askToStartAnyway(this, *forecast, true)) {
    m_banner->showMessage(MessageBanner::Kind::kInfo, tr("The run was not resumed"),
                          MemoryForecastLabel::describe(*forecast, false));
    m_showsRunFailure = false;
    updateButtons();
    Q_EMIT resumeDeclined(id);
    return;
  }
  finishResume(id);
}

void RunsPage::finishResume(qint64 id) {
  // The session may have closed, or another run started, while the question was open.
  const bool resumed = m_context.session->isOpen() && !m_context.runs->isBusy() &&
                       m_context.runs->resumeRun(m_context.session->path(), id);
  updateButtons();
  if (resumed) Q_EMIT resumeRequested(id);
}
