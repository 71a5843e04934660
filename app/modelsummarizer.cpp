// The summary runs in the thread pool: with a run:NAME source it reads that run's weights.
#include "modelsummarizer.h"

#include "deeptune/config.h"
#include "projectsession.h"

ModelSummarizer::ModelSummarizer(ProjectSession* session, QObject* parent)
    : ProjectService(session, parent) {}

QList<QPair<QString, QString>> ModelSummarizer::presets() {
  QList<QPair<QString, QString>> out;
  for (const auto& [name, description] : deeptune::model_presets())
    out.append({QString::fromStdString(name), QString::fromStdString(description)});
  return out;
}

namespace {

std::string textAt(const nlohmann::json& doc, const char* pointer) {
  const nlohmann::json::json_pointer p(pointer);
  return doc.contains(p) && doc.at(p).is_string() ? doc.at(p).get<std::string>() : std::string();
}

}  // namespace

int ModelSummarizer::labelCount(const ProjectSession* session, const nlohmann::json& config) {
  if (textAt(config, "/model/task") != "classification") return 0;
  const std::string dataset = textAt(config, "/data/dataset");
  int labels = 0;
  for (const auto& d : session->datasets()) {
    if (d.name != dataset || d.stats_json.empty()) continue;
    try {
      const auto stats = nlohmann::json::parse(d.stats_json);
      if (stats.contains("label_counts")) labels = static_cast<int>(stats["label_counts"].size());
    } catch (const std::exception&) {
    }
  }
  return qMax(2, labels);
}

void ModelSummarizer::request(const nlohmann::json& config) {
  m_next = config;
  if (!isBusy()) startNext();
}

void ModelSummarizer::startNext() {
  const nlohmann::json config = *m_next;
  m_next.reset();
  const int labels = labelCount(m_session, config);
  start<std::pair<deeptune::ModelSummary, MemoryForecastPair>>(
      [config, labels](JobProject& project) {
        // The targets are counted as chosen; an empty list is valid here (nothing adapted yet).
        const auto parsed = deeptune::RunConfig::from_json(config);
        auto summary = deeptune::summarize_model(parsed, labels, project.path());
        auto memory = MemoryForecastPair::compute(parsed, summary.memory, project.path(), labels);
        return std::make_pair(std::move(summary), std::move(memory));
      },
      [this](const JobResult<std::pair<deeptune::ModelSummary, MemoryForecastPair>>& r) {
        if (m_next) {  // the form changed meanwhile: this result is already stale
          startNext();
          return;
        }
        if (r.ok())
          Q_EMIT summaryReady(r.value.first, r.value.second);
        else
          Q_EMIT summaryFailed({tr("Cannot build this model"), r.error});
      });
}
