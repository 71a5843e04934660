// Read from the engine once per call: they are compile-time strings there.
#include "versions.h"

#include "deeptune/version.h"

QString engineVersion() {
  return QString::fromStdString(deeptune::engine_version());
}
QString torchVersion() {
  return QString::fromStdString(deeptune::torch_version());
}
