// Train page: start, pause, resume and stop a run; progress with ETA; live plots of training and
// validation loss, learning rate, gradient norm and tokens/s; the log console and run state. It
// shows the run this window trains, or — when another process (deeptune-cli) trains one — that
// run's curves as they are recorded in the project file, reading only what is new each time.
// Before a run starts, its memory forecast is checked; a config that will not fit asks first.
#pragma once

#include <QDateTime>
#include <QMap>
#include <QSet>
#include <QTimer>
#include <QWidget>

#include "metatypes.h"
#include "runhistoryreader.h"
#include "workbenchcontext.h"

class LivePlot;
class MemoryForecaster;
struct MemoryForecastPair;
class MessageBanner;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;

class TrainPage : public QWidget {
  Q_OBJECT
 public:
  explicit TrainPage(const WorkbenchContext& context, QWidget* parent = nullptr);

  // Starts a run from the draft config. Returns false (and says why in the banner) when the
  // config is invalid or a run is already going on (or being started). Otherwise the run's memory
  // is forecast first (in the background): one that will not fit starts only if the user says so
  // (startDeclined follows a no).
  bool startRun(const QString& name = {});
  bool isStarting() const { return m_checkTicket != 0; }
  // Shows a recorded run (its curves, logs and state, read in the background: historyShown
  // follows); follows it live when another process is training it.
  void showRun(qint64 runId);
  qint64 displayedRunId() const { return m_runId; }
  // True from showing a run that another process trains until the records it wrote up to its end
  // are on screen.
  bool isFollowingExternalRun() const { return m_following; }
  RunHistoryReader* historyReader() const { return m_history; }

  LivePlot* lossPlot() const { return m_loss; }
  LivePlot* lrPlot() const { return m_lr; }
  LivePlot* gradNormPlot() const { return m_gradNorm; }
  LivePlot* throughputPlot() const { return m_throughput; }
  MessageBanner* banner() const { return m_banner; }
  QString stateText() const;
  QString logText() const;
  // NaN/inf steps skipped and the learning-rate factor after going back to a checkpoint; empty
  // while neither happened.
  QString healthText() const;

 Q_SIGNALS:
  void historyShown(qint64 runId);  // recorded curves and log lines of the run were added
  void startDeclined();             // a run that will not fit was not started

 private:
  void onSteps(qint64 runId, const QList<deeptune::StepMetrics>& steps);
  void onEval(qint64 runId, const deeptune::EvalMetrics& eval);
  void onLog(qint64 runId, const deeptune::LogLine& line);
  void onState(qint64 runId, deeptune::RunState state, const QString& detail);
  void onFinished(qint64 runId, deeptune::RunStatus status, const QString& error);
  void onRollback(qint64 runId, qint64 step);
  void onStartForecast(quint64 ticket, const MemoryForecastPair* forecast);
  void launch(const QString& configJson, const QString& name);
  void setHealth(qint64 skippedSteps, double lrScale);
  void onRunsChanged();
  void pollExternalRun();
  void appendLog(const QString& level, const QString& text, const QDateTime& when = {});
  void setProgress(qint64 step, qint64 maxSteps, double etaSeconds);
  void setStateText(const QString& text);
  void updateButtons();
  void clearPlots();
  void readHistory();
  void showHistory(quint64 ticket, const QList<RunHistory>& histories);
  void appendRecorded(const std::map<std::string, std::vector<std::pair<int64_t, double>>>& m);
  void appendRecordedLogs(const std::vector<deeptune::LogRecord>& logs);

  WorkbenchContext m_context;
  qint64 m_runId = 0;
  QMap<QString, qint64> m_lastStep;  // metric name -> last step plotted
  qint64 m_lastLogId = 0;            // newest recorded log line in the console
  // This window's own run: the first step its worker delivered (recorded steps from there on are
  // superseded) and when it was asked for (recorded log lines from then on arrive live).
  qint64 m_liveFrom = -1;
  QDateTime m_liveSince;
  QSet<qint64> m_autoShown;  // runs of other processes the page switched to by itself
  RunHistoryReader* m_history;
  quint64 m_historyTicket = 0;  // the newest read for the displayed run
  bool m_reading = false;       // that read has not answered yet
  bool m_following = false;
  QTimer m_follow;
  MemoryForecaster* m_startCheck;
  quint64 m_checkTicket = 0;  // the forecast a start waits for (0: none)
  QString m_checkConfig, m_checkName;
  qint64 m_skipped = 0;
  double m_lrScale = 1.0;

  QLineEdit* m_name;
  QPushButton* m_start;
  QPushButton* m_pause;
  QPushButton* m_resume;
  QPushButton* m_stop;
  QLabel* m_title;
  QLabel* m_state;
  QLabel* m_eta;
  QLabel* m_health;
  QProgressBar* m_progress;
  MessageBanner* m_banner;
  LivePlot* m_loss;
  LivePlot* m_lr;
  LivePlot* m_gradNorm;
  LivePlot* m_throughput;
  int m_trainLoss = 0, m_valLoss = 0, m_lrSeries = 0, m_gradSeries = 0, m_tokSeries = 0;
  QPlainTextEdit* m_log;
};
