// What runs have recorded, read in the background: metric points after a step and log lines after
// an id, so a page following a live run asks only for what is new (a run of 100k steps holds half
// a million metric rows: reading them is no work for the UI thread).
#pragma once

#include <QList>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "projectservice.h"

struct RunHistory {
  qint64 runId = 0;
  // metric name ("train/loss", ...) -> (step, value), ascending steps
  std::map<std::string, std::vector<std::pair<int64_t, double>>> metrics;
  std::vector<deeptune::LogRecord> logs;  // in the order written; LogRecord::id increases
};

class RunHistoryReader : public ProjectService {
  Q_OBJECT
 public:
  static constexpr qint64 kNoLogs = -1;

  explicit RunHistoryReader(ProjectSession* session, QObject* parent = nullptr);

  // Reads the metrics with step > afterStep (-1: all) and, unless afterLogId is kNoLogs, the log
  // lines with id > afterLogId (0: all) of each run. Returns the ticket historyRead or readFailed
  // will carry — a page keeps its newest and drops older answers — or 0 when no project is open.
  quint64 read(const QList<qint64>& runIds, qint64 afterStep = -1, qint64 afterLogId = kNoLogs);

 Q_SIGNALS:
  void historyRead(quint64 ticket, const QList<RunHistory>& histories);
  void readFailed(quint64 ticket, const UserMessage& message);

 private:
  quint64 m_ticket = 0;
};

Q_DECLARE_METATYPE(RunHistory)
