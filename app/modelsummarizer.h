// What a draft config builds — parameter counts, trainable share, LoRA target choices — computed
// in the background (the engine's summarize_model). Requests made while one computes collapse:
// only the newest is computed next, and only a result for the newest request is reported.
#pragma once

#include <QList>
#include <QPair>
#include <nlohmann/json.hpp>
#include <optional>

#include "deeptune/session.h"
#include "memoryforecaster.h"
#include "projectservice.h"

class ModelSummarizer : public ProjectService {
  Q_OBJECT
 public:
  explicit ModelSummarizer(ProjectSession* session, QObject* parent = nullptr);

  // `config` is a RunConfig JSON document (the draft). A classification task is counted with the
  // labels of the config's dataset (at least two).
  void request(const nlohmann::json& config);

  // The model presets (name, one-line description) a config may start from.
  static QList<QPair<QString, QString>> presets();
  // The labels a classification config is counted with: its dataset's (at least two); 0 for a
  // causal LM. The memory forecast counts a classification head the same way.
  static int labelCount(const ProjectSession* session, const nlohmann::json& config);

 Q_SIGNALS:
  // `memory`: the summary's forecast with what gradient checkpointing changes (MemoryForecastPair).
  void summaryReady(const deeptune::ModelSummary& summary, const MemoryForecastPair& memory);
  void summaryFailed(const UserMessage& message);

 private:
  void startNext();

  std::optional<nlohmann::json> m_next;  // the newest request not yet started
};

Q_DECLARE_METATYPE(deeptune::ModelSummary)
