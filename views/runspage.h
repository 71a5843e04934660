// Runs page: every run of the project with status, key hyperparameters and final metrics. Select
// two or more to overlay their curves and compare their configs side by side (differences
// marked). Rename (edit the name), delete (confirmed), duplicate as a new config, resume.
#pragma once

#include <QWidget>

#include "runhistoryreader.h"
#include "runremover.h"
#include "workbenchcontext.h"

class LivePlot;
class MemoryForecaster;
struct MemoryForecastPair;
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

  // The actions, without confirmation (the Delete button first says what the deletion breaks).
  // deleteRun works in the background: runDeleted, or the reason in the banner, follows. force:
  // also when runs that have not started still need its weights.
  bool deleteRun(qint64 id, bool force = false);
  void duplicateRun(qint64 id);
  // Resumes a resumable run once its config's memory is forecast (in the background); one that
  // will not fit resumes only if the user says so (the Train page's question; resumeDeclined
  // follows a no). False when the run cannot be resumed or a resume is being checked already.
  bool resumeRun(qint64 id);
  bool isResuming() const { return m_resumeTicket != 0; }

  MessageBanner* banner() const { return m_banner; }

 Q_SIGNALS:
  void runDuplicated();             // the draft now holds that run's config
  void resumeRequested(qint64 id);  // resuming: the worker was asked to continue the run
  void resumeDeclined(qint64 id);   // a run that will not fit was not resumed
  void showRequested(qint64 id);
  void runDeleted(qint64 id);
  void comparisonUpdated();  // the overlay holds the selected runs' curves

 private:
  void refresh();
  void updateComparison();
  void showCurves(quint64 ticket, const QList<RunHistory>& histories);
  void updateButtons();
  void confirmDelete();
  void askToDelete(qint64 id, const QList<deeptune::RunDependent>& dependents);
  void showError(const UserMessage& message);
  void onResumeForecast(quint64 ticket, const MemoryForecastPair* forecast);
  void finishResume(qint64 id);  // asks the worker to continue the run

  WorkbenchContext m_context;
  bool m_showsRunFailure = false;  // the banner holds the selected run's failure
  QString m_compared;  // what the overlay and config table show: runs, their progress, metric
  quint64 m_curvesTicket = 0;  // the newest read of the overlay's curves
  RunHistoryReader* m_history;
  RunRemover* m_remover;
  MemoryForecaster* m_resumeCheck;
  quint64 m_resumeTicket = 0;  // the forecast a resume waits for (0: none)
  qint64 m_resumeId = 0;
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
