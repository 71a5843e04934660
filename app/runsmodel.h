// Every run of the project: status, key hyperparameters and final metrics. The name is editable
// (renames the run in the project file). Updates in place when only values change, so selections
// survive the once-a-second refresh while a run trains.
#pragma once

#include <QAbstractTableModel>
#include <vector>

#include "deeptune/session.h"
#include "deeptune/store.h"
#include "usermessage.h"

class ProjectSession;

class RunsModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column {
    kName,
    kStatus,
    kProgress,
    kDataset,
    kModel,
    kMode,
    kLearningRate,
    kRank,
    kTrainLoss,
    kValLoss,
    kCreated,
    kColumnCount
  };
  static constexpr int kIdRole = Qt::UserRole + 1;
  static constexpr int kStatusRole = Qt::UserRole + 2;

  explicit RunsModel(ProjectSession* session, QObject* parent = nullptr);

  void setRuns(const std::vector<deeptune::RunRecord>& runs);
  const deeptune::RunRecord* runAt(int row) const;
  int rowOfId(qint64 id) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;
  bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;

  static QString statusText(deeptune::RunStatus status);  // as stored: "completed", ...
  static QString stateText(deeptune::RunState state);     // as reported live: "preparing", ...

 Q_SIGNALS:
  void renameFailed(const UserMessage& message);

 private:
  ProjectSession* m_session;
  std::vector<deeptune::RunRecord> m_runs;
};
