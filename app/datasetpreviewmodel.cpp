// Lazy table over RowCursor.
#include "datasetpreviewmodel.h"

#include <QBrush>
#include <QColor>
#include <QScopedValueRollback>

#include "deeptune/row_cursor.h"

DatasetPreviewModel::DatasetPreviewModel(QObject* parent) : QAbstractTableModel(parent) {}
DatasetPreviewModel::~DatasetPreviewModel() = default;

QString DatasetPreviewModel::setFile(const QString& path, const std::string& formatName) {
  try {
    return setFile(path, deeptune::data_format_from_string(formatName));
  } catch (const std::exception& e) {
    clear();
    return QString::fromStdString(e.what());
  }
}

QString DatasetPreviewModel::setFile(const QString& path,
                                     std::optional<deeptune::DataFormat> format) {
  beginResetModel();
  m_cursor.reset();
  m_rows = 0;
  QString error;
  try {
    m_format = format ? *format : deeptune::detect_format(path.toStdString());
    m_cursor = std::make_unique<deeptune::RowCursor>(path.toStdString(), m_format);
    m_rows = static_cast<int>(m_cursor->index_more(kFetchBlock));
  } catch (const std::exception& e) {
    m_cursor.reset();
    m_rows = 0;
    error = QString::fromStdString(e.what());
  }
  endResetModel();
  if (m_cursor) Q_EMIT rowsIndexed(m_rows, m_cursor->at_end());
  return error;
}

void DatasetPreviewModel::clear() {
  beginResetModel();
  m_cursor.reset();
  m_rows = 0;
  endResetModel();
}

QString DatasetPreviewModel::path() const {
  return m_cursor ? QString::fromStdString(m_cursor->path()) : QString();
}

QStringList DatasetPreviewModel::columns() const {
  QStringList out;
  if (m_cursor)
    for (const auto& c : m_cursor->columns()) out << QString::fromStdString(c);
  return out;
}

std::optional<deeptune::FieldMapping> DatasetPreviewModel::guessedMapping() const {
  if (!m_cursor || m_cursor->columns().empty()) return std::nullopt;
  return deeptune::guess_mapping(m_cursor->columns());
}

bool DatasetPreviewModel::atEnd() const {
  return !m_cursor || m_cursor->at_end();
}
double DatasetPreviewModel::progress() const {
  return m_cursor ? m_cursor->progress() : 0.0;
}

int DatasetPreviewModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : m_rows;
}

int DatasetPreviewModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() || !m_cursor ? 0 : static_cast<int>(m_cursor->columns().size());
}

QVariant DatasetPreviewModel::data(const QModelIndex& index, int role) const {
  if (!m_cursor || !index.isValid() || index.row() >= m_rows) return {};
  if (role != Qt::DisplayRole && role != Qt::ToolTipRole && role != Qt::ForegroundRole) return {};
  const auto row = m_cursor->row(static_cast<size_t>(index.row()));
  if (!row.error.empty()) {
    if (role == Qt::ForegroundRole) return QBrush(QColor(0xb0, 0x20, 0x20));
    return index.column() == 0 ? QVariant(QString::fromStdString(row.error)) : QVariant();
  }
  if (role == Qt::ForegroundRole) return {};
  const size_t column = static_cast<size_t>(index.column());
  if (column >= row.cells.size()) return {};
  QString text = QString::fromStdString(row.cells[column]);
  if (role == Qt::ToolTipRole) return text;
  // One line per cell in the table: show line breaks as a visible mark, cut long texts.
  text.replace(QLatin1Char('\n'), QChar(0x23CE));
  if (text.size() > kMaxCellChars) text = text.left(kMaxCellChars) + QChar(0x2026);
  return text;
}

QVariant DatasetPreviewModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole || !m_cursor || section < 0) return {};
  if (orientation == Qt::Horizontal) {
    const auto& cols = m_cursor->columns();
    return static_cast<size_t>(section) < cols.size() ? QString::fromStdString(cols[section])
                                                      : QVariant();
  }
  if (section >= m_rows) return {};
  // The row's line in the file, so a user can find it in an editor.
  return QString::number(m_cursor->row(static_cast<size_t>(section)).source_line);
}

bool DatasetPreviewModel::canFetchMore(const QModelIndex& parent) const {
  return !parent.isValid() && m_cursor && !m_cursor->at_end();
}

void DatasetPreviewModel::fetchMore(const QModelIndex& parent) {
  // Views (and QAbstractItemModelTester) may ask for more from inside the insertion signals.
  if (m_fetching || !canFetchMore(parent)) return;
  const QScopedValueRollback<bool> guard(m_fetching, true);
  // Index first (it may find fewer rows than asked), then announce exactly what was added.
  const size_t before = m_cursor->indexed_rows();
  size_t added = 0;
  try {
    added = m_cursor->index_more(kFetchBlock);
  } catch (const std::exception&) {
    added = m_cursor->indexed_rows() - before;
  }
  if (added == 0) {
    Q_EMIT rowsIndexed(m_rows, m_cursor->at_end());
    return;
  }
  beginInsertRows({}, m_rows, m_rows + static_cast<int>(added) - 1);
  m_rows += static_cast<int>(added);
  endInsertRows();
  Q_EMIT rowsIndexed(m_rows, m_cursor->at_end());
}
