// Registration of the engine value types used across threads.
#include "metatypes.h"

#include "attentionreader.h"
#include "datatokenservice.h"
#include "hfmodelscanner.h"
#include "memoryforecaster.h"
#include "modelsummarizer.h"
#include "runexporter.h"
#include "runhistoryreader.h"
#include "runremover.h"
#include "usermessage.h"

void registerDeepTuneMetaTypes() {
  qRegisterMetaType<deeptune::StepMetrics>();
  qRegisterMetaType<QList<deeptune::StepMetrics>>();
  qRegisterMetaType<deeptune::EvalMetrics>();
  qRegisterMetaType<deeptune::LogLine>();
  qRegisterMetaType<deeptune::RunState>();
  qRegisterMetaType<deeptune::RunStatus>();
  qRegisterMetaType<deeptune::AttentionSnapshot>();
  qRegisterMetaType<AttentionStep>();
  qRegisterMetaType<AttentionIndex>();
  qRegisterMetaType<UserMessage>();
  qRegisterMetaType<deeptune::ModelSummary>();
  qRegisterMetaType<deeptune::MemoryForecast>();
  qRegisterMetaType<MemoryForecastPair>();
  qRegisterMetaType<deeptune::HfModelInfo>();
  qRegisterMetaType<QList<deeptune::HfModelInfo>>();
  qRegisterMetaType<QList<deeptune::RunDependent>>();
  qRegisterMetaType<QList<RunHistory>>();
  qRegisterMetaType<deeptune::TokenStats>();
  qRegisterMetaType<deeptune::ExamplePreview>();
  qRegisterMetaType<deeptune::ExportProgress>();
  qRegisterMetaType<deeptune::ExportResult>();
}
