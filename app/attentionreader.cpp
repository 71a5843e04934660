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
void poolThumbnails(const float* maps, int heads, int n, int side, QVector<float>* out) {
  const qsizetype cells = qsizetype(n) * n;
  for (int h = 0; h < heads; ++h) {
    int64_t pooled = 0;
    const auto t = deeptune::max_pool(maps + h * cells, n, side, &pooled);
    out->append(QVector<float>(t.begin(), t.end()));
  }
}

struct UnpackedLayer {
  QVector<quint16> maps;
  QVector<float> thumbnails;
  QVector<deeptune::HeadStats> stats;
  float max = 0;
  QString error;
};

// `thumbnailSide` 0: no thumbnails, and the largest weight is left 0 (`max` false) or looked
// for in the maps.
UnpackedLayer unpackLayer(const deeptune::AttentionMapRecord& r, int thumbnailSide,
                          bool max = true) {
  UnpackedLayer out;
  try {
    if (r.codec != deeptune::kMapsCodec)
      throw deeptune::InputError("codec", "unknown codec '" + r.codec + "'");
    const size_t count = static_cast<size_t>(r.heads) * r.size * r.size;
    out.maps.resize(qsizetype(count));
    deeptune::unpack_halves(r.data, count, out.maps.data(), "attention map");
    out.stats = AttentionReader::parseStats(r.stats_json);
  } catch (const std::exception& e) {
    out.error = unpackError(r.run_id, r.probe, r.step, r.layer, e.what());
    out.maps.clear();
  }
  out.stats.resize(r.heads);
  if (out.maps.isEmpty()) return out;
  const qsizetype cells = qsizetype(r.size) * r.size;
  if (thumbnailSide > 0) {
    std::vector<float> head(static_cast<size_t>(cells));
    for (int h = 0; h < r.heads; ++h) {
      deeptune::from_fp16(out.maps.constData() + h * cells, size_t(cells), head.data());
      poolThumbnails(head.data(), 1, r.size, thumbnailSide, &out.thumbnails);
    }
    // Max-pooling keeps the largest weight: look for it in the 2 K thumbnail cells rather than
    // the 256 K cells of each map.
    out.max = *std::max_element(out.thumbnails.cbegin(), out.thumbnails.cend());
  } else if (max) {
    // Weights are >= 0, and the halves of non-negative numbers order like their bits.
    const quint16 top = *std::max_element(out.maps.cbegin(), out.maps.cend());
    deeptune::from_fp16(&top, 1, &out.max);
  }
  return out;
}

// A step of `layers` layers shaped like `r`, no layer read yet.
AttentionStep emptyStep(const deeptune::AttentionMapRecord& r, int layers) {
  AttentionStep out;
  out.runId = r.run_id;
  out.probe = r.probe;
  out.step = r.step;
  out.heads = r.heads;
  out.length = r.length;
  out.size = r.size;
  out.layers = layers;
  out.maps.resize(layers);
  out.loaded.fill(false, layers);
  out.stats.resize(layers);
  return out;
}

AttentionStep unpackRecords(const std::vector<deeptune::AttentionMapRecord>& records,
                            int thumbnailSide) {
  if (records.empty()) return {};
  const auto& first = records.front();
  AttentionStep out = emptyStep(first, 0);  // the layers appended below
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
    out.loaded.append(true);
    out.maxWeight = std::max(out.maxWeight, l.max);
    out.maps.append(std::move(l.maps));
    out.stats.append(std::move(l.stats));
    out.thumbnails.append(std::move(l.thumbnails));
  }
  return out;
}

// Every head's thumbnail from the previews stored with a step (attention_previews' records, by
// layer), pooled again when the page draws smaller ones; a preview that cannot be unpacked leaves
// its layer's thumbnails empty and names the layer in the error.
void unpackPreviews(const std::vector<deeptune::AttentionMapRecord>& previews, int thumbnailSide,
                    AttentionStep* out) {
  const auto& first = previews.front();
  out->thumbnailSide = thumbnailSide > 0 ? std::min(thumbnailSide, first.preview_size) : 0;
  out->thumbnails.resize(out->layers);
  for (const auto& r : previews) {
    if (r.layer < 0 || r.layer >= out->layers || out->thumbnailSide == 0) continue;
    QVector<float>& thumbnails = out->thumbnails[r.layer];
    try {
      const int p = r.preview_size;
      const auto values = deeptune::unpack_maps(r.preview, static_cast<size_t>(r.heads) * p * p,
                                                "attention preview");
      if (p == out->thumbnailSide)
        thumbnails = QVector<float>(values.begin(), values.end());
      else
        poolThumbnails(values.data(), r.heads, p, out->thumbnailSide, &thumbnails);
    } catch (const std::exception& e) {
      if (out->error.isEmpty())
        out->error = unpackError(r.run_id, r.probe, r.step, r.layer, e.what());
      thumbnails.clear();
      continue;
    }
    // Max-pooling keeps the largest weight: the previews hold the step's.
    if (!thumbnails.isEmpty())
      out->maxWeight =
          std::max(out->maxWeight, *std::max_element(thumbnails.cbegin(), thumbnails.cend()));
  }
}

// Puts one layer's maps, read and unpacked, into `out` (shaped already).
void putLayer(const deeptune::AttentionMapRecord& r, AttentionStep* out) {
  if (r.layer < 0 || r.layer >= out->layers) return;
  UnpackedLayer l = unpackLayer(r, 0, false);
  if (out->error.isEmpty()) out->error = l.error;
  out->maps[r.layer] = std::move(l.maps);
  out->stats[r.layer] = std::move(l.stats);
  out->loaded[r.layer] = true;
}

// A step's thumbnails and the maps of `layer` (< 0: every layer's): from the stored previews and
// one layer's row when the step has previews, else the whole step unpacked.
AttentionStep readStep(const deeptune::ProjectStore& store, qint64 runId, int probe, qint64 step,
                       int layer, int thumbnailSide) {
  if (layer >= 0) {
    const auto previews = store.attention_previews(runId, probe, step);
    if (!previews.empty()) {
      // The thumbnails on a second core while this one reads and unpacks the layer (the user
      // waits for both).
      AttentionStep thumbnails;
      thumbnails.layers = previews.back().layer + 1;
      std::thread pooling([&] { unpackPreviews(previews, thumbnailSide, &thumbnails); });
      auto r = store.attention_layer(runId, probe, step, layer);
      if (!r) r = store.attention_layer(runId, probe, step, 0);  // a layer it lacks: the shape
      AttentionStep out;
      if (r) {
        out = emptyStep(*r, thumbnails.layers);
        putLayer(*r, &out);
      }
      pooling.join();
      if (r) {
        out.thumbnails = std::move(thumbnails.thumbnails);
        out.thumbnailSide = thumbnails.thumbnailSide;
        out.maxWeight = thumbnails.maxWeight;
        if (out.error.isEmpty()) out.error = thumbnails.error;
        return out;
      }
    }
  }
  AttentionStep out = unpackRecords(store.attention_maps(runId, probe, step), thumbnailSide);
  out.runId = runId;
  out.probe = probe;
  out.step = step;
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

void AttentionStep::merge(const AttentionStep& other) {
  if (other.runId != runId || other.probe != probe || other.step != step) return;
  if (layers == 0) {
    *this = other;
    return;
  }
  for (int l = 0; l < layers; ++l)
    if (!hasLayer(l) && other.hasLayer(l)) {
      maps[l] = other.maps[l];
      stats[l] = other.stats[l];
      loaded[l] = true;
      if (error.isEmpty()) error = other.error;
    }
  if (!hasThumbnails() && other.hasThumbnails()) {
    thumbnails = other.thumbnails;
    thumbnailSide = other.thumbnailSide;
    maxWeight = other.maxWeight;
  }
}

QVector<float> AttentionStep::headMap(int layer, int head) const {
  const qsizetype cells = qsizetype(size) * size;
  if (layer < 0 || layer >= maps.size() || head < 0 || maps[layer].size() < (head + 1) * cells)
    return {};
  QVector<float> out(cells);
  deeptune::from_fp16(maps[layer].constData() + head * cells, size_t(cells), out.data());
  return out;
}

qsizetype AttentionStep::bytes() const {
  qsizetype n = 0;
  for (const auto& m : maps) n += m.size() * qsizetype(sizeof(quint16));
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

quint64 AttentionReader::readSteps(qint64 runId, int probe, const QList<qint64>& steps, int layer) {
  return run<QList<AttentionStep>>(
      [runId, probe, steps, layer, side = m_thumbnailSide](JobProject& project) {
        QList<AttentionStep> out;
        for (qint64 step : steps)
          out.append(readStep(project.store(), runId, probe, step, layer, side));
        return out;
      },
      [this](quint64 t, const QList<AttentionStep>& v) { Q_EMIT stepsRead(t, v); });
}

quint64 AttentionReader::readLayer(qint64 runId, int probe, qint64 step, int layer) {
  return run<QList<AttentionStep>>(
      [runId, probe, step, layer](JobProject& project) {
        AttentionStep out;
        out.runId = runId;
        out.probe = probe;
        out.step = step;
        if (const auto r = project.store().attention_layer(runId, probe, step, layer)) {
          // Shaped by the layer alone: merge() takes only this layer from it.
          out = emptyStep(*r, std::max(r->layer + 1, 1));
          putLayer(*r, &out);
        }
        return QList<AttentionStep>{out};
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
