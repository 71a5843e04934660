// What a config's training step will hold in memory at its peak, and whether that fits the device
// it would train on (the engine's forecast_memory), computed in the background. Requests made
// while one computes collapse: only the newest is computed next, and only its answer is reported,
// with the ticket request() returned.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "deeptune/session.h"
#include "projectservice.h"

class MemoryForecaster : public ProjectService {
  Q_OBJECT
 public:
  explicit MemoryForecaster(ProjectSession* session, QObject* parent = nullptr);

  // `config` is a RunConfig JSON document (a draft, or a run's stored config). Returns the ticket
  // forecastReady or forecastFailed will carry (never 0).
  quint64 request(const nlohmann::json& config);
  quint64 latestTicket() const { return m_ticket; }

 Q_SIGNALS:
  void forecastReady(quint64 ticket, const deeptune::MemoryForecast& forecast);
  void forecastFailed(quint64 ticket, const UserMessage& message);

 private:
  void startNext();

  std::optional<nlohmann::json> m_next;  // the newest request not yet started
  quint64 m_ticket = 0;
};

Q_DECLARE_METATYPE(deeptune::MemoryForecast)
