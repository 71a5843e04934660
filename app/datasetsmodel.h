// The project's registered datasets as a table (name, format, rows, mapping, file).
#pragma once

#include <QAbstractTableModel>
#include <vector>

#include "deeptune/data.h"
#include "deeptune/store.h"

class DatasetsModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { kName, kFormat, kRows, kMapping, kPath, kColumnCount };
  static constexpr int kIdRole = Qt::UserRole + 1;

  explicit DatasetsModel(QObject* parent = nullptr);
  void setDatasets(const std::vector<deeptune::DatasetRecord>& datasets);
  const deeptune::DatasetRecord* datasetAt(int row) const;
  int rowOf(const QString& name) const;  // -1 when absent

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

  // The statistics cached when the dataset was registered; `error` says why there are none.
  struct Stats {
    deeptune::DatasetStats stats;
    QString error;
  };
  Stats statsAt(int row) const;
  // The drift (total-variation distance between the splits' shares over `categories` occupied
  // bins or labels) above which validation does not look like training: the engine's threshold.
  static double driftThreshold(size_t valRows, size_t categories);

  // "prompt → response", "text + label", "text": how the mapping reads, for people.
  static QString describeMapping(const std::string& mappingJson);

 private:
  std::vector<deeptune::DatasetRecord> m_datasets;
};
