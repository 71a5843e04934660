// Engine value types carried by queued signals between the training worker and the UI thread,
// and registration of those the services' signals carry.
#pragma once

#include <QList>
#include <QMetaType>

#include "deeptune/session.h"

Q_DECLARE_METATYPE(deeptune::StepMetrics)
Q_DECLARE_METATYPE(deeptune::EvalMetrics)
Q_DECLARE_METATYPE(deeptune::LogLine)
Q_DECLARE_METATYPE(deeptune::RunState)
Q_DECLARE_METATYPE(deeptune::RunStatus)
Q_DECLARE_METATYPE(deeptune::AttentionSnapshot)

// Registers the types above (and their lists) and the services' signal types once, before the
// first queued connection.
void registerDeepTuneMetaTypes();
