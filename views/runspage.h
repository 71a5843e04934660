// Runs page: every run of the project with status, key hyperparameters and final metrics. Select
// two or more to overlay their curves and compare their configs side by side (differences
// marked). Rename (edit the name), delete (confirmed), duplicate as a new config, resume.
#pragma once

#include <QWidget>

#include "workbenchcontext.h"

class LivePlot;
class MessageBanner;
class QComboBox;
class QPushButton;
class QTableView;
class QTableWidget;
class RunsModel;

class RunsPage : public QWidget {
  Q_OBJECT
 public:
  explicit RunsPage(const WorkbenchContext& context, QWidget* parent = nullptr);

  RunsModel* runsModel() const { return m_model; }
  LivePlot* overlayPlot() const { return m_overlay; }
  QTableWidget* configTable() const { return m_configs; }
  void selectRuns(const QList<qint64>& ids);
  QList<qint64> selectedRunIds() const;

  // The actions, without confirmation (the buttons confirm first where it matters).
  bool deleteRun(qint64 id);
  void duplicateRun(qint64 id);
  bool resumeRun(qint64 id);

 Q_SIGNALS:
  void runDuplicated();   // the draft now holds that run's config
  void resumeRequested(qint64 id);
  void showRequested(qint64 id);

 private:
  void refresh();
  void updateComparison();
  void updateButtons();
  void confirmDelete();
  void showError(const QString& headline, const QString& detail);

  WorkbenchContext m_context;
  bool m_showsRunFailure = false;  // the banner holds the selected run's failure
  QString m_compared;  // what the overlay and config table show: runs, their progress, metric
  RunsModel* m_model;
  QTableView* m_table;
  MessageBanner* m_banner;
  QComboBox* m_metric;
  LivePlot* m_overlay;
  QTableWidget* m_configs;
  QPushButton* m_show;
  QPushButton* m_rename;
  QPushButton* m_delete;
  QPushButton* m_duplicate;
  QPushButton* m_resume;
};
