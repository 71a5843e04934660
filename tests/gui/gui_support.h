// Helpers for the GUI suites: settings kept in a temporary folder, the bundled sample written out,
// a short run config, and a run for hand-written attention maps.
#pragma once

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QSettings>
#include <QStandardPaths>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "deeptune/config.h"
#include "deeptune/sample_data.h"
#include "deeptune/store.h"

namespace deeptune::test {

// Keeps the suite away from the user's settings and documents.
inline void isolateSettings(const QString& dir) {
  QStandardPaths::setTestModeEnabled(true);
  QCoreApplication::setOrganizationName(QStringLiteral("DeepTuneTest"));
  QCoreApplication::setApplicationName(QStringLiteral("WorkbenchTest"));
  QSettings::setDefaultFormat(QSettings::IniFormat);
  QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, dir);
  QSettings().clear();
}

// Writes one bundled sample file into `dir`; returns its path.
inline QString writeSample(const QString& dir, const std::string& name) {
  for (const auto& f : deeptune::sample_files()) {
    if (f.name != name) continue;
    QFile out(QDir(dir).filePath(QString::fromStdString(name)));
    if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate)) return {};
    out.write(f.data, static_cast<qint64>(f.size));
    return out.fileName();
  }
  return {};
}

// A completed run that was never trained (no checkpoint, no metrics) with one text probe of
// these tokens (ids 0, 1, ...), for attention maps written by the caller. Returns its id.
inline int64_t createProbedRun(deeptune::ProjectStore& store, const std::string& name,
                               const std::vector<std::string>& tokens) {
  deeptune::RunRecord run;
  run.name = name;
  run.config_json = deeptune::RunConfig{}.to_json().dump();
  run.status = deeptune::RunStatus::kCompleted;
  const int64_t id = store.create_run(run);
  deeptune::AttentionProbeRecord probe;
  probe.run_id = id;
  probe.source = "text";
  probe.tokens = tokens;
  for (size_t i = 0; i < tokens.size(); ++i) probe.ids.push_back(static_cast<int32_t>(i));
  store.put_attention_probes({probe});
  return id;
}

// A LoRA run on the tiny preset that takes a few seconds on one CPU core.
inline nlohmann::json shortRunConfig(const std::string& dataset, int steps) {
  deeptune::RunConfig c;
  c.data.dataset = dataset;
  c.data.max_length = 48;
  c.model.source = "preset:tiny";
  c.train.lr = 1e-3;
  c.train.batch_size = 8;
  c.train.micro_batch_size = 8;
  c.train.max_steps = steps;
  c.train.warmup_steps = 2;
  c.train.eval_every = 5;
  c.train.checkpoint_every = 10;
  c.device = deeptune::DeviceChoice::kCpu;
  return c.to_json();
}

}  // namespace deeptune::test
