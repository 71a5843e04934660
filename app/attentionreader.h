// The attention a run recorded, read and unpacked in the background: which runs have probes, a
// probe's snapshot steps with every step's per-head statistics (an index), and the maps of chosen
// steps as floats. Unpacking a live snapshot goes the same way, so the UI thread never
// decompresses maps itself (a 12-layer, 12-head probe of 512 tokens is 38 M values a step).
#pragma once

#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>

#include "deeptune/attention_map.h"
#include "deeptune/session.h"
#include "projectservice.h"

// One probe's attention at one step, unpacked.
struct AttentionStep {
  qint64 runId = 0;
  int probe = 0;
  qint64 step = 0;
  int layers = 0, heads = 0;
  int length = 0;  // the probe's tokens
  int size = 0;    // the maps' side: min(length, 512), max-pooled when smaller than length
  QVector<QVector<float>> maps;                 // per layer: heads x size x size (empty on error)
  QVector<QVector<deeptune::HeadStats>> stats;  // per layer, per head
  QString error;  // the first layer that could not be unpacked, named; "" when all could
};

struct AttentionProbe {
  int probe = 0;
  QString source;  // "text", "row N", "row N (validation)"
  QStringList tokens;
};

// A run's probes, and of one of them the steps and their statistics.
struct AttentionIndex {
  qint64 runId = 0;
  QList<AttentionProbe> probes;
  int probe = -1;       // the probe the steps belong to (-1: the run has none)
  QList<qint64> steps;  // ascending
  QList<QVector<QVector<deeptune::HeadStats>>> stats;  // per step: per layer, per head
  int layers = 0, heads = 0;
};

class AttentionReader : public ProjectService {
  Q_OBJECT
 public:
  explicit AttentionReader(ProjectSession* session, QObject* parent = nullptr);

  // Each returns the ticket its answer (or readFailed) carries, 0 when no project is open.
  quint64 listRuns(const QList<qint64>& runIds);  // -> runsListed: those with probes
  quint64 readIndex(qint64 runId, int probe);     // -> indexRead (probe < 0: the first)
  quint64 readSteps(qint64 runId, int probe, const QList<qint64>& steps);     // -> stepsRead
  quint64 unpack(qint64 runId, const deeptune::AttentionSnapshot& snapshot);  // -> stepsRead

  // Parses "[[entropy, sink, previous, max], ...]"; throws deeptune::InputError on anything else.
  static QVector<deeptune::HeadStats> parseStats(const std::string& json);

 Q_SIGNALS:
  void runsListed(quint64 ticket, const QList<qint64>& runIds);
  void indexRead(quint64 ticket, const AttentionIndex& index);
  void stepsRead(quint64 ticket, const QList<AttentionStep>& steps);
  void readFailed(quint64 ticket, const UserMessage& message);

 private:
  template <typename T, typename Work, typename Emit>
  quint64 run(Work work, Emit emitValue);
  quint64 m_ticket = 0;
};

Q_DECLARE_METATYPE(AttentionStep)
Q_DECLARE_METATYPE(AttentionIndex)
