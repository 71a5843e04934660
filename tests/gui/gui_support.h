// Helpers for the GUI suites: settings kept in a temporary folder, the bundled sample written out,
// and a short run config.
#pragma once

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QSettings>
#include <QStandardPaths>
#include <nlohmann/json.hpp>
#include <string>

#include "deeptune/config.h"
#include "deeptune/sample_data.h"

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
