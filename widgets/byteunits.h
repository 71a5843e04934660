// Sizes in bytes for people: binary units (KiB, MiB, GiB, TiB), three significant digits.
#pragma once

#include <QString>

QString formatBytes(double bytes);
// The same with a fixed unit (1 << 10, 1 << 20, ...) chosen for a whole axis; unitName gets it.
double byteUnitFor(double bytes);
QString byteUnitName(double unit);
