// The versions shown to the user (status bar, About box): the engine's, and the LibTorch it runs
// on.
#pragma once

#include <QString>

QString engineVersion();
QString torchVersion();
