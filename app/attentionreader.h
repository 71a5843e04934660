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
  // per layer: heads x size x size in half precision, as stored (headMap converts: a layer is
  // read while the user waits for one of its maps, and halves take half the memory); empty when
  // the layer is bad or not read (loaded says which)
  QVector<QVector<quint16>> maps;
  QVector<bool> loaded;                         // per layer: its maps were read
  QVector<QVector<deeptune::HeadStats>> stats;  // per layer, per head (empty when not read)
  QString error;  // the first layer that could not be unpacked, named; "" when all could
  // What the thumbnail grid draws, prepared with the maps so the UI thread only colours pixels:
  // per layer, heads x thumbnailSide x thumbnailSide, each map max-pooled (a thin diagonal stays
  // visible where sampling would skip it); and the largest weight of every layer and head, the
  // top of the colour range all thumbnails share.
  int thumbnailSide = 0;
  QVector<QVector<float>> thumbnails;
  float maxWeight = 0;
  qsizetype bytes() const;  // what the maps and thumbnails hold in memory
  // One head's map as weights (size x size; empty when the layer has none).
  QVector<float> headMap(int layer, int head) const;
  bool hasLayer(int layer) const { return layer >= 0 && layer < loaded.size() && loaded[layer]; }
  bool hasThumbnails() const { return layers > 0 && thumbnails.size() == layers; }
  // Takes the layers `other` (the same run, probe and step) read that this one lacks, and its
  // thumbnails when this one has none.
  void merge(const AttentionStep& other);
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
  // -> stepsRead. Each step with its thumbnails and the maps of `layer` (every layer when < 0).
  // Thumbnails come from the previews stored with the maps; a step recorded without them (before
  // schema version 5) is read and unpacked whole to pool them.
  quint64 readSteps(qint64 runId, int probe, const QList<qint64>& steps, int layer = -1);
  // -> stepsRead: the step with the maps of `layer` only (no thumbnails), to merge into one read.
  quint64 readLayer(qint64 runId, int probe, qint64 step, int layer);
  quint64 unpack(qint64 runId, const deeptune::AttentionSnapshot& snapshot);  // -> stepsRead
  // The probe through the adapters' checkpoint at or before `step` (the newest when < 0) with the
  // adapters on (tuned) and off (base): loads the model and runs two forwards, in the background.
  // -> adapterComputed (both steps carry the checkpoint's step), or readFailed.
  quint64 computeAdapter(qint64 runId, int probe, qint64 step);

  // The side, in cells, of the thumbnails prepared with every step (0: none).
  void setThumbnailSide(int side) { m_thumbnailSide = side; }

  // Parses "[[entropy, sink, previous, max], ...]"; throws deeptune::InputError on anything else.
  static QVector<deeptune::HeadStats> parseStats(const std::string& json);

 Q_SIGNALS:
  void runsListed(quint64 ticket, const QList<qint64>& runIds);
  void indexRead(quint64 ticket, const AttentionIndex& index);
  void stepsRead(quint64 ticket, const QList<AttentionStep>& steps);
  void adapterComputed(quint64 ticket, const AttentionStep& tuned, const AttentionStep& base,
                       const QString& description);
  void readFailed(quint64 ticket, const UserMessage& message);

 private:
  // `headline`: what readFailed says failed (the detail is the engine's message).
  template <typename T, typename Work, typename Emit>
  quint64 run(Work work, Emit emitValue, const QString& headline = QString());
  quint64 m_ticket = 0;
  int m_thumbnailSide = 0;
};

Q_DECLARE_METATYPE(AttentionStep)
Q_DECLARE_METATYPE(AttentionIndex)
