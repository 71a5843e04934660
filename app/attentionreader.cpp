// Reads go through a job's own connection (projectservice.h). Unpack errors do not fail a read:
// they are kept in the step, naming run, probe, step and layer, so the page can say which map is
// bad and still show the others.
#include "attentionreader.h"

#include <nlohmann/json.hpp>

#include "deeptune/error.h"
#include "projectsession.h"

namespace {

QString unpackError(qint64 runId, int probe, qint64 step, int layer, const std::string& detail) {
  return AttentionReader::tr("Run %1, probe %2, step %3, layer %4: %5")
      .arg(runId)
      .arg(probe + 1)
      .arg(step)
      .arg(layer)
      .arg(QString::fromStdString(detail));
}

AttentionStep unpackRecords(const std::vector<deeptune::AttentionMapRecord>& records) {
  AttentionStep out;
  if (records.empty()) return out;
  const auto& first = records.front();
  out.runId = first.run_id;
  out.probe = first.probe;
  out.step = first.step;
  out.heads = first.heads;
  out.length = first.length;
  out.size = first.size;
  out.layers = static_cast<int>(records.size());
  for (const auto& r : records) {
    QVector<float> maps;
    QVector<deeptune::HeadStats> stats;
    try {
      if (r.codec != deeptune::kMapsCodec)
        throw deeptune::InputError("codec", "unknown codec '" + r.codec + "'");
      const size_t count = static_cast<size_t>(r.heads) * r.size * r.size;
      const auto values = deeptune::unpack_maps(r.data, count, "attention map");
      maps = QVector<float>(values.begin(), values.end());
      stats = AttentionReader::parseStats(r.stats_json);
    } catch (const std::exception& e) {
      if (out.error.isEmpty())
        out.error = unpackError(r.run_id, r.probe, r.step, r.layer, e.what());
      maps.clear();
    }
    stats.resize(r.heads);
    out.maps.append(maps);
    out.stats.append(stats);
  }
  return out;
}

}  // namespace

AttentionReader::AttentionReader(ProjectSession* session, QObject* parent)
    : ProjectService(session, parent) {}

QVector<deeptune::HeadStats> AttentionReader::parseStats(const std::string& json) {
  QVector<deeptune::HeadStats> out;
  const auto doc = nlohmann::json::parse(json, nullptr, false);
  if (!doc.is_array()) throw deeptune::InputError("stats_json", "not a JSON array");
  for (const auto& head : doc) {
    if (!head.is_array() || head.size() < 4 || !head[0].is_number())
      throw deeptune::InputError("stats_json", "expected [entropy, sink, previous, max]");
    deeptune::HeadStats s;
    s.entropy = head[0].get<double>();
    s.sink = head[1].get<double>();
    s.previous = head[2].get<double>();
    s.max = head[3].get<double>();
    out.append(s);
  }
  return out;
}

template <typename T, typename Work, typename Emit>
quint64 AttentionReader::run(Work work, Emit emitValue) {
  if (!m_session->isOpen()) return 0;
  const quint64 ticket = ++m_ticket;
  start<T>(work, [this, ticket, emitValue](const JobResult<T>& r) {
    if (r.ok())
      emitValue(ticket, r.value);
    else
      Q_EMIT readFailed(ticket, {tr("The run's attention maps cannot be read"), r.error});
  });
  return ticket;
}

quint64 AttentionReader::listRuns(const QList<qint64>& runIds) {
  return run<QList<qint64>>(
      [runIds](JobProject& project) {
        QList<qint64> out;
        for (qint64 id : runIds)
          if (!project.store().attention_probes(id).empty()) out.append(id);
        return out;
      },
      [this](quint64 t, const QList<qint64>& v) { Q_EMIT runsListed(t, v); });
}

quint64 AttentionReader::readIndex(qint64 runId, int probe) {
  return run<AttentionIndex>(
      [runId, probe](JobProject& project) {
        AttentionIndex index;
        index.runId = runId;
        for (const auto& p : project.store().attention_probes(runId)) {
          AttentionProbe ap;
          ap.probe = p.probe;
          ap.source = QString::fromStdString(p.source);
          for (const auto& t : p.tokens) ap.tokens.append(QString::fromStdString(t));
          index.probes.append(ap);
        }
        if (index.probes.isEmpty()) return index;
        index.probe = probe < 0 ? index.probes.front().probe : probe;
        // Statistics only: the maps stay on disk until a step is shown.
        QVector<QVector<deeptune::HeadStats>> layers;
        int64_t current = -1;
        auto close_step = [&] {
          if (current < 0) return;
          index.layers = std::max<int>(index.layers, layers.size());
          index.steps.append(current);
          index.stats.append(layers);
          layers.clear();
        };
        for (const auto& r : project.store().attention_stats(runId, index.probe)) {
          if (r.step != current) {
            close_step();
            current = r.step;
          }
          QVector<deeptune::HeadStats> stats;
          try {
            stats = parseStats(r.stats_json);
          } catch (const std::exception&) {
            // Shown as zeros; the step's own read names the bad layer.
          }
          stats.resize(r.heads);
          index.heads = std::max(index.heads, r.heads);
          layers.append(stats);
        }
        close_step();
        return index;
      },
      [this](quint64 t, const AttentionIndex& v) { Q_EMIT indexRead(t, v); });
}

quint64 AttentionReader::readSteps(qint64 runId, int probe, const QList<qint64>& steps) {
  return run<QList<AttentionStep>>(
      [runId, probe, steps](JobProject& project) {
        QList<AttentionStep> out;
        for (qint64 step : steps) {
          AttentionStep s = unpackRecords(project.store().attention_maps(runId, probe, step));
          s.runId = runId;
          s.probe = probe;
          s.step = step;
          out.append(s);
        }
        return out;
      },
      [this](quint64 t, const QList<AttentionStep>& v) { Q_EMIT stepsRead(t, v); });
}

quint64 AttentionReader::unpack(qint64 runId, const deeptune::AttentionSnapshot& snapshot) {
  return run<QList<AttentionStep>>(
      [runId, snapshot](JobProject&) {
        std::vector<deeptune::AttentionMapRecord> records;
        for (int layer = 0; layer < snapshot.layers; ++layer) {
          deeptune::AttentionMapRecord r;
          r.run_id = runId;
          r.probe = snapshot.probe;
          r.step = snapshot.step;
          r.layer = layer;
          r.heads = snapshot.heads;
          r.length = snapshot.length;
          r.size = snapshot.size;
          r.codec = deeptune::kMapsCodec;
          if (layer < static_cast<int>(snapshot.packed.size())) r.data = snapshot.packed[layer];
          nlohmann::json stats = nlohmann::json::array();
          if (layer < static_cast<int>(snapshot.stats.size()))
            for (const auto& h : snapshot.stats[layer])
              stats.push_back({h.entropy, h.sink, h.previous, h.max});
          r.stats_json = stats.dump();
          records.push_back(std::move(r));
        }
        QList<AttentionStep> out;
        out.append(unpackRecords(records));
        out.back().runId = runId;
        out.back().probe = snapshot.probe;
        out.back().step = snapshot.step;
        return out;
      },
      [this](quint64 t, const QList<AttentionStep>& v) { Q_EMIT stepsRead(t, v); });
}
