// Reads go through a job's own connection (projectservice.h). Unpack errors do not fail a read:
// they are kept in the step, naming run, probe, step and layer, so the page can say which map is
// bad and still show the others.
#include "attentionreader.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

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

// Each head's map of a layer (heads x n x n) max-pooled to side x side, appended to `out`.
void poolThumbnails(const QVector<float>& maps, int heads, int n, int side, QVector<float>* out) {
  const qsizetype cells = qsizetype(n) * n;
  for (int h = 0; h < heads; ++h) {
    int64_t pooled = 0;
    const auto t = deeptune::max_pool(maps.constData() + h * cells, n, side, &pooled);
    out->append(QVector<float>(t.begin(), t.end()));
  }
}

struct UnpackedLayer {
  QVector<float> maps, thumbnails;
  QVector<deeptune::HeadStats> stats;
  float max = 0;
  QString error;
};

UnpackedLayer unpackLayer(const deeptune::AttentionMapRecord& r, int thumbnailSide) {
  UnpackedLayer out;
  try {
    if (r.codec != deeptune::kMapsCodec)
      throw deeptune::InputError("codec", "unknown codec '" + r.codec + "'");
    const size_t count = static_cast<size_t>(r.heads) * r.size * r.size;
    const auto values = deeptune::unpack_maps(r.data, count, "attention map");
    out.maps = QVector<float>(values.begin(), values.end());
    out.stats = AttentionReader::parseStats(r.stats_json);
  } catch (const std::exception& e) {
    out.error = unpackError(r.run_id, r.probe, r.step, r.layer, e.what());
    out.maps.clear();
  }
  out.stats.resize(r.heads);
  if (!out.maps.isEmpty()) {
    if (thumbnailSide > 0)
      poolThumbnails(out.maps, r.heads, r.size, thumbnailSide, &out.thumbnails);
    // Max-pooling keeps the largest weight: look for it in the 2 K thumbnail cells rather than
    // the 256 K cells of each map.
    const QVector<float>& all = out.thumbnails.isEmpty() ? out.maps : out.thumbnails;
    out.max = *std::max_element(all.cbegin(), all.cend());
  }
  return out;
}

AttentionStep unpackRecords(const std::vector<deeptune::AttentionMapRecord>& records,
                            int thumbnailSide) {
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
  // Maps smaller than the thumbnail stay as they are (the image scales them up).
  out.thumbnailSide = thumbnailSide > 0 ? std::min(thumbnailSide, first.size) : 0;
  // Layers are independent: unpack them on every core, this job's thread being one (a step of
  // 32 layers x 32 heads at 512 tokens is 1 GiB of floats, seconds on one core).
  const size_t n = records.size();
  const size_t workers =
      std::clamp<size_t>(std::thread::hardware_concurrency(), 1, std::min<size_t>(n, 8));
  std::vector<UnpackedLayer> layers(n);
  const auto work = [&](size_t first) {
    for (size_t i = first; i < n; i += workers)
      layers[i] = unpackLayer(records[i], out.thumbnailSide);
  };
  std::vector<std::thread> threads;
  for (size_t w = 1; w < workers; ++w) threads.emplace_back(work, w);
  work(0);
  for (auto& t : threads) t.join();
  for (UnpackedLayer& l : layers) {
    if (out.error.isEmpty()) out.error = l.error;
    out.maxWeight = std::max(out.maxWeight, l.max);
    out.maps.append(std::move(l.maps));
    out.stats.append(std::move(l.stats));
    out.thumbnails.append(std::move(l.thumbnails));
  }
  return out;
}

// A snapshot as the store would hold it, so that live and recomputed maps unpack like stored ones.
std::vector<deeptune::AttentionMapRecord> snapshotRecords(
    qint64 runId, const deeptune::AttentionSnapshot& snapshot) {
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
  return records;
}

AttentionStep unpackSnapshot(qint64 runId, const deeptune::AttentionSnapshot& snapshot,
                             int thumbnailSide) {
  AttentionStep out = unpackRecords(snapshotRecords(runId, snapshot), thumbnailSide);
  out.runId = runId;
  out.probe = snapshot.probe;
  out.step = snapshot.step;
  return out;
}

struct AdapterMaps {
  AttentionStep tuned, base;
  QString description;
};

}  // namespace

qsizetype AttentionStep::bytes() const {
  qsizetype n = 0;
  for (const auto& m : maps) n += m.size() * qsizetype(sizeof(float));
  for (const auto& t : thumbnails) n += t.size() * qsizetype(sizeof(float));
  return n;
}

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
quint64 AttentionReader::run(Work work, Emit emitValue, const QString& headline) {
  if (!m_session->isOpen()) return 0;
  const quint64 ticket = ++m_ticket;
  const QString failed =
      headline.isEmpty() ? tr("The run's attention maps cannot be read") : headline;
  start<T>(work, [this, ticket, emitValue, failed](const JobResult<T>& r) {
    if (r.ok())
      emitValue(ticket, r.value);
    else
      Q_EMIT readFailed(ticket, {failed, r.error});
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
      [runId, probe, steps, side = m_thumbnailSide](JobProject& project) {
        QList<AttentionStep> out;
        for (qint64 step : steps) {
          AttentionStep s = unpackRecords(project.store().attention_maps(runId, probe, step), side);
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
      [runId, snapshot, side = m_thumbnailSide](JobProject&) {
        return QList<AttentionStep>{unpackSnapshot(runId, snapshot, side)};
      },
      [this](quint64 t, const QList<AttentionStep>& v) { Q_EMIT stepsRead(t, v); });
}

quint64 AttentionReader::computeAdapter(qint64 runId, int probe, qint64 step) {
  return run<AdapterMaps>(
      [runId, probe, step, side = m_thumbnailSide](JobProject& project) {
        const auto record = project.store().run(runId);
        if (!record) throw deeptune::InputError(project.path(), "no run #" + std::to_string(runId));
        // By name: compute_attention takes a name or an id, and a name that looks like another
        // run's id would win over it.
        const std::string run = record->name;
        const std::optional<int64_t> at = step >= 0 ? std::optional<int64_t>(step) : std::nullopt;
        const auto tuned = deeptune::compute_attention(project.path(), run, probe, true, 512, at);
        const auto base = deeptune::compute_attention(project.path(), run, probe, false, 512, at);
        AdapterMaps out;
        out.tuned = unpackSnapshot(runId, tuned.snapshot, side);
        out.base = unpackSnapshot(runId, base.snapshot, side);
        out.description = QString::fromStdString(tuned.description);
        return out;
      },
      [this](quint64 t, const AdapterMaps& v) {
        Q_EMIT adapterComputed(t, v.tuned, v.base, v.description);
      },
      tr("The probe cannot be run through the checkpoint with the adapters on and off"));
}
