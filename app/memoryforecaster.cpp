// The forecast runs in the thread pool: it asks the device how much is free, and a run:NAME source
// reads the project.
#include "memoryforecaster.h"

#include "modelsummarizer.h"

int64_t MemoryForecastPair::savedBytes() const {
  if (!alternative) return 0;
  return checkpointing == deeptune::GradientCheckpointing::kOff
             ? forecast.device_bytes - alternative->device_bytes
             : alternative->device_bytes - forecast.device_bytes;
}

MemoryForecastPair MemoryForecastPair::compute(const deeptune::RunConfig& config,
                                               const deeptune::MemoryForecast& forecast,
                                               const std::string& projectPath, int labels) {
  MemoryForecastPair pair;
  pair.forecast = forecast;
  pair.checkpointing = config.train.gradient_checkpointing;
  const bool off = pair.checkpointing == deeptune::GradientCheckpointing::kOff;
  // Off and fitting: nothing to suggest, and a second forecast would only cost time.
  if (off && forecast.fit == deeptune::MemoryFit::kFits) return pair;
  deeptune::RunConfig other = config;
  other.train.gradient_checkpointing = pair.alternativeCheckpointing();
  // The micro-batch the forecast resolved (auto picks per checkpointing choice): the same rows.
  if (forecast.micro_batch > 0)
    other.train.micro_batch_size = static_cast<int>(forecast.micro_batch);
  try {
    pair.alternative = deeptune::forecast_memory(other, projectPath, labels);
  } catch (const std::exception&) {
    // The config's own forecast stands; the comparison is a hint, not a verdict.
  }
  return pair;
}

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
  start<MemoryForecastPair>(
      [config, labels](JobProject& project) {
        const auto parsed = deeptune::RunConfig::from_json(config);
        return MemoryForecastPair::compute(
            parsed, deeptune::forecast_memory(parsed, project.path(), labels), project.path(),
            labels);
      },
      [this, ticket](const JobResult<MemoryForecastPair>& r) {
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
