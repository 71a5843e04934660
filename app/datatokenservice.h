// The Data page's token view, computed in the background (the engine's dataset_token_stats and
// preview_example): token counts of a dataset with the tokenizer of the model the draft config
// starts from, and one example as the trainer will feed it. Requests of each kind collapse while
// one computes: only the newest is computed next, and only its answer is reported.
#pragma once

#include <QString>
#include <nlohmann/json.hpp>
#include <optional>

#include "deeptune/data_preview.h"
#include "projectservice.h"

class DataTokenService : public ProjectService {
  Q_OBJECT
 public:
  explicit DataTokenService(ProjectSession* session, QObject* parent = nullptr);

  // `config` is a RunConfig JSON document (the draft); `dataset` a registered dataset's name.
  void requestStats(const QString& dataset, const nlohmann::json& config);
  // `row` is 0-based.
  void requestPreview(const QString& dataset, const nlohmann::json& config, int row);

 Q_SIGNALS:
  void statsReady(const QString& dataset, const deeptune::TokenStats& stats);
  void statsFailed(const UserMessage& message);
  void previewReady(const QString& dataset, const deeptune::ExamplePreview& preview);
  void previewFailed(const UserMessage& message);

 private:
  struct Request {
    QString dataset;
    nlohmann::json config;
    int row = 0;
  };
  void startStats();
  void startPreview();

  std::optional<Request> m_nextStats, m_nextPreview;  // the newest requests not yet started
  bool m_statsRunning = false, m_previewRunning = false;
};

Q_DECLARE_METATYPE(deeptune::TokenStats)
Q_DECLARE_METATYPE(deeptune::ExamplePreview)
