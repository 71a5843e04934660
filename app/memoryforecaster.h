// What a config's training step will hold in memory at its peak, and whether that fits the device
// it would train on (the engine's forecast_memory), computed in the background. Requests made
// while one computes collapse: only the newest is computed next, and only its answer is reported,
// with the ticket request() returned. Beside the config's own forecast comes the one that shows
// what gradient checkpointing changes (see MemoryForecastPair), from the same background job.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "deeptune/config.h"
#include "deeptune/session.h"
#include "projectservice.h"

// A config's forecast and the same config with the other gradient checkpointing choice worth
// comparing it with: with checkpointing on, the forecast without it (what checkpointing saves);
// with it off, the forecast with full checkpointing (what it would need), computed only when the
// config is tight or will not fit. Both at the same micro-batch, so only recomputation differs.
struct MemoryForecastPair {
  deeptune::MemoryForecast forecast;
  deeptune::GradientCheckpointing checkpointing = deeptune::GradientCheckpointing::kOff;
  std::optional<deeptune::MemoryForecast> alternative;

  deeptune::GradientCheckpointing alternativeCheckpointing() const {
    return checkpointing == deeptune::GradientCheckpointing::kOff
               ? deeptune::GradientCheckpointing::kFull
               : deeptune::GradientCheckpointing::kOff;
  }
  // Bytes on the device that checkpointing saves (checkpointing on), or would save (off); 0 when
  // there is no alternative.
  int64_t savedBytes() const;

  // Computes the alternative for `forecast`, the forecast of `config` (blocking: call it in a
  // background job). An alternative the engine cannot forecast is left out, never an error.
  static MemoryForecastPair compute(const deeptune::RunConfig& config,
                                    const deeptune::MemoryForecast& forecast,
                                    const std::string& projectPath, int labels);
};

class MemoryForecaster : public ProjectService {
  Q_OBJECT
 public:
  explicit MemoryForecaster(ProjectSession* session, QObject* parent = nullptr);

  // `config` is a RunConfig JSON document (a draft, or a run's stored config). Returns the ticket
  // forecastReady or forecastFailed will carry (never 0).
  quint64 request(const nlohmann::json& config);
  quint64 latestTicket() const { return m_ticket; }

 Q_SIGNALS:
  void forecastReady(quint64 ticket, const MemoryForecastPair& forecast);
  void forecastFailed(quint64 ticket, const UserMessage& message);

 private:
  void startNext();

  std::optional<nlohmann::json> m_next;  // the newest request not yet started
  quint64 m_ticket = 0;
};

Q_DECLARE_METATYPE(deeptune::MemoryForecast)
Q_DECLARE_METATYPE(MemoryForecastPair)
