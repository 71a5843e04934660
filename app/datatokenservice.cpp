// Both computations read the dataset file and load the model's tokenizer, so they run in the
// thread pool; the draft is parsed there too (an invalid draft is a failure with the key named).
#include "datatokenservice.h"

DataTokenService::DataTokenService(ProjectSession* session, QObject* parent)
    : ProjectService(session, parent) {}

void DataTokenService::requestStats(const QString& dataset, const nlohmann::json& config) {
  m_nextStats = Request{dataset, config, 0};
  if (!m_statsRunning) startStats();
}

void DataTokenService::requestPreview(const QString& dataset, const nlohmann::json& config,
                                      int row) {
  m_nextPreview = Request{dataset, config, qMax(0, row)};
  if (!m_previewRunning) startPreview();
}

void DataTokenService::startStats() {
  const Request r = *m_nextStats;
  m_nextStats.reset();
  m_statsRunning = true;
  start<deeptune::TokenStats>(
      [r](JobProject& project) {
        return deeptune::dataset_token_stats(project.path(), r.dataset.toStdString(),
                                             deeptune::RunConfig::from_json(r.config));
      },
      [this, r](const JobResult<deeptune::TokenStats>& result) {
        m_statsRunning = false;
        if (m_nextStats) {  // asked again meanwhile: this answer is already stale
          startStats();
          return;
        }
        if (result.ok())
          Q_EMIT statsReady(r.dataset, result.value);
        else
          Q_EMIT statsFailed({tr("Cannot count the tokens of this dataset"), result.error});
      });
}

void DataTokenService::startPreview() {
  const Request r = *m_nextPreview;
  m_nextPreview.reset();
  m_previewRunning = true;
  start<deeptune::ExamplePreview>(
      [r](JobProject& project) {
        return deeptune::preview_example(project.path(), r.dataset.toStdString(),
                                         deeptune::RunConfig::from_json(r.config),
                                         static_cast<size_t>(r.row));
      },
      [this, r](const JobResult<deeptune::ExamplePreview>& result) {
        m_previewRunning = false;
        if (m_nextPreview) {
          startPreview();
          return;
        }
        if (result.ok())
          Q_EMIT previewReady(r.dataset, result.value);
        else
          Q_EMIT previewFailed({tr("Cannot show this example"), result.error});
      });
}
