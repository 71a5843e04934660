// Sizes on disk through QLocale's formattedDataSize, so they read as the user's language writes
// them.
#include "hfmodelsmodel.h"

#include <QBrush>
#include <QColor>
#include <QLocale>

HfModelsModel::HfModelsModel(QObject* parent) : QAbstractTableModel(parent) {}

void HfModelsModel::setModels(const QList<deeptune::HfModelInfo>& models) {
  beginResetModel();
  m_models = models;
  endResetModel();
}

const deeptune::HfModelInfo* HfModelsModel::modelAt(int row) const {
  return row >= 0 && row < m_models.size() ? &m_models[row] : nullptr;
}

int HfModelsModel::rowOfPath(const QString& path) const {
  for (int i = 0; i < m_models.size(); ++i)
    if (QString::fromStdString(m_models[i].path) == path) return i;
  return -1;
}

int HfModelsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(m_models.size());
}

int HfModelsModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QString HfModelsModel::parameterText(qint64 parameters) {
  static const struct {
    double scale;
    const char* suffix;
  } kUnits[] = {{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "K"}};
  for (const auto& u : kUnits) {
    const double v = static_cast<double>(parameters) / u.scale;
    // Rounded first, so 999.6M reads 1.0B rather than 1000M.
    if (v >= 0.995) {
      if (v < 9.95) return QString::number(v, 'f', 1) + QLatin1String(u.suffix);
      if (v < 999.5) return QString::number(qRound64(v)) + QLatin1String(u.suffix);
    }
  }
  return QString::number(parameters);
}

QVariant HfModelsModel::data(const QModelIndex& index, int role) const {
  const deeptune::HfModelInfo* m = modelAt(index.row());
  if (!m || index.column() < 0 || index.column() >= kColumnCount) return {};
  const bool usable = m->problem.empty();
  const QString problem = QString::fromStdString(m->problem);
  const QString path = QString::fromStdString(m->path);
  switch (role) {
    case kPathRole:
      return path;
    case kProblemRole:
      return problem;
    case Qt::ToolTipRole:
      return usable ? path : path + QLatin1Char('\n') + problem;
    case Qt::ForegroundRole:
      return usable ? QVariant() : QVariant(QBrush(QColor(0x80, 0x80, 0x80)));
    case Qt::TextAlignmentRole:
      if (index.column() == kParameters || index.column() == kContext || index.column() == kSize)
        return int(Qt::AlignRight | Qt::AlignVCenter);
      return {};
    case kSortRole:
      switch (index.column()) {
        case kParameters:
          return qlonglong(m->parameters);
        case kContext:
          return qlonglong(m->context_length);
        case kSize:
          return qlonglong(m->size_bytes);
        default:
          return data(index, Qt::DisplayRole);
      }
    case Qt::DisplayRole:
      break;
    default:
      return {};
  }
  const QLocale locale;
  // What a folder with a problem could not tell stays blank rather than reading "0".
  switch (index.column()) {
    case kName:
      return QString::fromStdString(m->name);
    case kArchitecture:
      return QString::fromStdString(m->architecture);
    case kParameters:
      return m->parameters > 0 ? parameterText(m->parameters) : QString();
    case kDtype:
      return QString::fromStdString(m->dtype);
    case kContext:
      return m->context_length > 0 ? locale.toString(qlonglong(m->context_length)) : QString();
    case kSize:
      return m->size_bytes > 0 ? locale.formattedDataSize(m->size_bytes, 1) : QString();
    case kStatus:
      return usable ? tr("Ready") : tr("Cannot be used");
    default:
      return {};
  }
}

QVariant HfModelsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kName:
      return tr("Name");
    case kArchitecture:
      return tr("Architecture");
    case kParameters:
      return tr("Parameters");
    case kDtype:
      return tr("Data type", "of the weights, e.g. BF16");
    case kContext:
      return tr("Context", "tokens the model can attend to");
    case kSize:
      return tr("Size on disk");
    case kStatus:
      return tr("Status");
    default:
      return {};
  }
}
