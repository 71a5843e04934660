// Runs table.
#include "runsmodel.h"

#include <QBrush>
#include <QColor>
#include <QDateTime>
#include <nlohmann/json.hpp>

#include "projectsession.h"

namespace {

nlohmann::json parseOr(const std::string& text) {
  if (text.empty()) return nlohmann::json::object();
  try {
    return nlohmann::json::parse(text);
  } catch (const std::exception&) {
    return nlohmann::json::object();
  }
}

QVariant number(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number()) return {};
  return QString::number(j[key].get<double>(), 'g', 4);
}

QString configText(const nlohmann::json& c, const char* section, const char* key) {
  if (!c.contains(section) || !c[section].contains(key)) return {};
  const auto& v = c[section][key];
  return v.is_string() ? QString::fromStdString(v.get<std::string>())
                       : QString::fromStdString(v.dump());
}

}  // namespace

RunsModel::RunsModel(ProjectSession* session, QObject* parent)
    : QAbstractTableModel(parent), m_session(session) {}

void RunsModel::setRuns(const std::vector<deeptune::RunRecord>& runs) {
  bool sameIds = runs.size() == m_runs.size();
  for (size_t i = 0; sameIds && i < runs.size(); ++i) sameIds = runs[i].id == m_runs[i].id;
  if (!sameIds) {
    beginResetModel();
    m_runs = runs;
    endResetModel();
    return;
  }
  m_runs = runs;
  if (!m_runs.empty()) Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, kColumnCount - 1));
}

const deeptune::RunRecord* RunsModel::runAt(int row) const {
  return row >= 0 && row < static_cast<int>(m_runs.size()) ? &m_runs[row] : nullptr;
}

int RunsModel::rowOfId(qint64 id) const {
  for (size_t i = 0; i < m_runs.size(); ++i)
    if (m_runs[i].id == id) return static_cast<int>(i);
  return -1;
}

int RunsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(m_runs.size());
}

int RunsModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QString RunsModel::statusText(deeptune::RunStatus status) {
  switch (status) {
    case deeptune::RunStatus::kCreated:
      return tr("created");
    case deeptune::RunStatus::kRunning:
      return tr("running");
    case deeptune::RunStatus::kPaused:
      return tr("paused");
    case deeptune::RunStatus::kStopped:
      return tr("stopped");
    case deeptune::RunStatus::kCompleted:
      return tr("completed");
    case deeptune::RunStatus::kFailed:
      return tr("failed");
    case deeptune::RunStatus::kInterrupted:
      return tr("interrupted");
  }
  return {};
}

QString RunsModel::stateText(deeptune::RunState state) {
  switch (state) {
    case deeptune::RunState::kPreparing:
      return tr("preparing");
    case deeptune::RunState::kRunning:
      return statusText(deeptune::RunStatus::kRunning);
    case deeptune::RunState::kPaused:
      return statusText(deeptune::RunStatus::kPaused);
    case deeptune::RunState::kStopped:
      return statusText(deeptune::RunStatus::kStopped);
    case deeptune::RunState::kCompleted:
      return statusText(deeptune::RunStatus::kCompleted);
    case deeptune::RunState::kFailed:
      return statusText(deeptune::RunStatus::kFailed);
  }
  return {};
}

QVariant RunsModel::data(const QModelIndex& index, int role) const {
  const auto* r = index.isValid() ? runAt(index.row()) : nullptr;
  if (!r) return {};
  if (role == kIdRole) return QVariant::fromValue<qint64>(r->id);
  if (role == kStatusRole) return static_cast<int>(r->status);
  if (role == Qt::ForegroundRole && index.column() == kStatus) {
    if (r->status == deeptune::RunStatus::kFailed) return QBrush(QColor(0xb0, 0x20, 0x20));
    if (r->status == deeptune::RunStatus::kCompleted) return QBrush(QColor(0x1b, 0x7a, 0x33));
    return {};
  }
  if (role == Qt::ToolTipRole && index.column() == kStatus && !r->error_text.empty())
    return QString::fromStdString(r->error_text);
  if (role != Qt::DisplayRole && role != Qt::EditRole && role != Qt::ToolTipRole) return {};
  const auto config = parseOr(r->config_json);
  const auto final = parseOr(r->final_metrics_json);
  switch (index.column()) {
    case kName:
      return QString::fromStdString(r->name);
    case kStatus:
      return statusText(r->status);
    case kProgress:
      return QStringLiteral("%1 / %2").arg(r->last_step).arg(r->max_steps);
    case kDataset:
      return configText(config, "data", "dataset");
    case kModel:
      return configText(config, "model", "source");
    case kMode:
      return configText(config, "train", "mode");
    case kLearningRate:
      return configText(config, "train", "lr");
    case kRank:
      return configText(config, "train", "mode") == QLatin1String("lora")
                 ? configText(config, "lora", "r")
                 : QString();
    case kTrainLoss:
      return number(final, "train_loss");
    case kValLoss:
      return number(final, "val_loss");
    case kCreated: {
      const auto t =
          QDateTime::fromString(QString::fromStdString(r->created_at), Qt::ISODateWithMs);
      return t.isValid() ? t.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm"))
                         : QString::fromStdString(r->created_at);
    }
    default:
      return {};
  }
}

QVariant RunsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kName:
      return tr("Run");
    case kStatus:
      return tr("Status");
    case kProgress:
      return tr("Step");
    case kDataset:
      return tr("Dataset");
    case kModel:
      return tr("Base model");
    case kMode:
      return tr("Mode");
    case kLearningRate:
      return tr("Learning rate");
    case kRank:
      return tr("LoRA r");
    case kTrainLoss:
      return tr("Train loss");
    case kValLoss:
      return tr("Val loss");
    case kCreated:
      return tr("Created");
    default:
      return {};
  }
}

Qt::ItemFlags RunsModel::flags(const QModelIndex& index) const {
  Qt::ItemFlags f = QAbstractTableModel::flags(index);
  if (index.isValid() && index.column() == kName) f |= Qt::ItemIsEditable;
  return f;
}

bool RunsModel::setData(const QModelIndex& index, const QVariant& value, int role) {
  auto* r = index.isValid() && index.column() == kName && role == Qt::EditRole
                ? (index.row() < static_cast<int>(m_runs.size()) ? &m_runs[index.row()] : nullptr)
                : nullptr;
  if (!r || !m_session || !m_session->isOpen()) return false;
  const QString name = value.toString().trimmed();
  if (name.isEmpty() || name.toStdString() == r->name) return false;
  if (const UserMessage refused = m_session->renameRun(r->id, name); !refused.isEmpty()) {
    Q_EMIT renameFailed(refused);
    return false;
  }
  r->name = name.toStdString();
  Q_EMIT dataChanged(index, index);
  // Other pages read the session's cached runs: refresh them once the edit has settled.
  QMetaObject::invokeMethod(m_session, &ProjectSession::reloadRuns, Qt::QueuedConnection);
  return true;
}
