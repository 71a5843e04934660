// Datasets table.
#include "datasetsmodel.h"

#include <nlohmann/json.hpp>

#include "deeptune/data.h"

DatasetsModel::DatasetsModel(QObject* parent) : QAbstractTableModel(parent) {}

void DatasetsModel::setDatasets(const std::vector<deeptune::DatasetRecord>& datasets) {
  beginResetModel();
  m_datasets = datasets;
  endResetModel();
}

const deeptune::DatasetRecord* DatasetsModel::datasetAt(int row) const {
  return row >= 0 && row < static_cast<int>(m_datasets.size()) ? &m_datasets[row] : nullptr;
}

int DatasetsModel::rowOf(const QString& name) const {
  for (size_t i = 0; i < m_datasets.size(); ++i)
    if (QString::fromStdString(m_datasets[i].name) == name) return static_cast<int>(i);
  return -1;
}

int DatasetsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(m_datasets.size());
}

int DatasetsModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

DatasetsModel::Stats DatasetsModel::statsAt(int row) const {
  Stats out;
  const auto* d = datasetAt(row);
  if (!d) return out;
  try {
    out.stats = deeptune::DatasetStats::from_json(
        d->stats_json.empty() ? nlohmann::json() : nlohmann::json::parse(d->stats_json));
  } catch (const std::exception& e) {
    out.error = QString::fromStdString(e.what());
  }
  return out;
}

double DatasetsModel::driftThreshold(size_t valRows, size_t categories) {
  return deeptune::drift_threshold(valRows, categories);
}

QString DatasetsModel::describeMapping(const std::string& mappingJson) {
  try {
    const auto m = deeptune::FieldMapping::from_json(nlohmann::json::parse(mappingJson));
    switch (m.kind()) {
      case deeptune::MappingKind::kPromptResponse:
        return QStringLiteral("%1 → %2").arg(QString::fromStdString(m.prompt),
                                             QString::fromStdString(m.response));
      case deeptune::MappingKind::kTextLabel:
        return QStringLiteral("%1 + %2").arg(QString::fromStdString(m.text),
                                             QString::fromStdString(m.label));
      case deeptune::MappingKind::kText:
        return QString::fromStdString(m.text);
      case deeptune::MappingKind::kMessages:
        return tr("%1 (conversations)").arg(QString::fromStdString(m.messages));
    }
  } catch (const std::exception&) {
  }
  return QString::fromStdString(mappingJson);
}

QVariant DatasetsModel::data(const QModelIndex& index, int role) const {
  const auto* d = index.isValid() ? datasetAt(index.row()) : nullptr;
  if (!d) return {};
  if (role == kIdRole) return QVariant::fromValue<qint64>(d->id);
  if (role != Qt::DisplayRole && role != Qt::ToolTipRole) return {};
  switch (index.column()) {
    case kName:
      return QString::fromStdString(d->name);
    case kFormat:
      return QString::fromStdString(d->format).toUpper();
    case kRows:
      return QVariant::fromValue<qint64>(d->rows);
    case kMapping:
      return describeMapping(d->mapping_json);
    case kPath:
      return QString::fromStdString(d->path);
    default:
      return {};
  }
}

QVariant DatasetsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kName:
      return tr("Name");
    case kFormat:
      return tr("Format");
    case kRows:
      return tr("Rows");
    case kMapping:
      return tr("Mapping");
    case kPath:
      return tr("File");
    default:
      return {};
  }
}
