// Registration of the engine value types used across threads.
#include "metatypes.h"

void registerDeepTuneMetaTypes() {
  qRegisterMetaType<deeptune::StepMetrics>();
  qRegisterMetaType<QList<deeptune::StepMetrics>>();
  qRegisterMetaType<deeptune::EvalMetrics>();
  qRegisterMetaType<deeptune::LogLine>();
  qRegisterMetaType<deeptune::RunState>();
  qRegisterMetaType<deeptune::RunStatus>();
}
