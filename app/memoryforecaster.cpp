// The forecast runs in the thread pool: it asks the device how much is free, and a run:NAME source
// reads the project.
#include "memoryforecaster.h"

#include "modelsummarizer.h"

MemoryForecaster::MemoryForecaster(ProjectSession* session, QObject* parent)
    : ProjectService(session, parent) {}

quint64 MemoryForecaster::request(const nlohmann::json& config) {
  m_next = config;
  ++m_ticket;
  if (!isBusy()) startNext();
  return m_ticket;
}

void MemoryForecaster::startNext() {
  const nlohmann::json config = *m_next;
  m_next.reset();
  const quint64 ticket = m_ticket;
  const int labels = ModelSummarizer::labelCount(m_session, config);
  start<deeptune::MemoryForecast>(
      [config, labels](JobProject& project) {
        return deeptune::forecast_memory(deeptune::RunConfig::from_json(config), project.path(),
                                         labels);
      },
      [this, ticket](const JobResult<deeptune::MemoryForecast>& r) {
        if (m_next) {  // asked again meanwhile: this answer is already stale
          startNext();
          return;
        }
        if (r.ok())
          Q_EMIT forecastReady(ticket, r.value);
        else
          Q_EMIT forecastFailed(ticket, {tr("Cannot forecast the memory of this config"), r.error});
      });
}
