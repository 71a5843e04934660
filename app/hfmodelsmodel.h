// The Hugging Face models found on this computer, one row each: name, architecture, parameters
// (1.1B, 494M), dtype, context length, size on disk and whether it can be trained on (the reason
// when not is the row's tooltip).
#pragma once

#include <QAbstractTableModel>
#include <QList>

#include "deeptune/hf_models.h"

class HfModelsModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { kName, kArchitecture, kParameters, kDtype, kContext, kSize, kStatus, kColumnCount };
  static constexpr int kPathRole = Qt::UserRole + 1;     // the model folder (QString)
  static constexpr int kProblemRole = Qt::UserRole + 2;  // "" when usable (QString)
  static constexpr int kSortRole = Qt::UserRole + 3;     // numbers as numbers, for sorting

  explicit HfModelsModel(QObject* parent = nullptr);

  void setModels(const QList<deeptune::HfModelInfo>& models);
  const deeptune::HfModelInfo* modelAt(int row) const;
  int rowOfPath(const QString& path) const;  // -1 when absent

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

  // 1704 -> "1.7K", 494032768 -> "494M", 1100048384 -> "1.1B": two significant digits below
  // ten of a unit, whole units above, as model cards name sizes.
  static QString parameterText(qint64 parameters);

 private:
  QList<deeptune::HfModelInfo> m_models;
};
