// A dataset file as a table, read lazily: the first block of rows is indexed when the file is
// set, and more are indexed as the view scrolls (canFetchMore / fetchMore), so a file of a million
// rows opens at once. Cells come from the engine's RowCursor, parsed exactly as training reads
// them; a malformed row shows its error instead of cells.
#pragma once

#include <QAbstractTableModel>
#include <memory>
#include <optional>
#include <string>

#include "deeptune/data.h"

namespace deeptune {
class RowCursor;
}

class DatasetPreviewModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  static constexpr int kFetchBlock = 2000;
  static constexpr int kMaxCellChars = 300;  // the tooltip holds the full text

  explicit DatasetPreviewModel(QObject* parent = nullptr);
  ~DatasetPreviewModel() override;

  // Opens a file, in `format` or in the one detected from its name and first bytes. Returns "" or
  // the error (naming the file) and then shows nothing.
  QString setFile(const QString& path, std::optional<deeptune::DataFormat> format = std::nullopt);
  // A registered dataset's file, in the format it was registered with ("jsonl", "csv", ...).
  QString setFile(const QString& path, const std::string& formatName);
  void clear();

  QString path() const;
  deeptune::DataFormat format() const { return m_format; }  // of the file shown
  QStringList columns() const;
  // The engine's guess of a field mapping from the columns shown (prompt/response, text/label...);
  // none when no file is shown.
  std::optional<deeptune::FieldMapping> guessedMapping() const;
  bool atEnd() const;
  double progress() const;  // share of the file's bytes indexed

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;
  bool canFetchMore(const QModelIndex& parent) const override;
  void fetchMore(const QModelIndex& parent) override;

 Q_SIGNALS:
  void rowsIndexed(int total, bool atEnd);

 private:
  std::unique_ptr<deeptune::RowCursor> m_cursor;
  deeptune::DataFormat m_format = deeptune::DataFormat::kJsonl;
  int m_rows = 0;
  bool m_fetching = false;
};
