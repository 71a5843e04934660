// Binary units, as memory is counted by allocators and devices (a "80 GB" H200 shows 139 GiB).
#include "byteunits.h"

#include <cmath>

double byteUnitFor(double bytes) {
  double unit = 1.0;
  const double magnitude = std::abs(bytes);
  while (unit < 1099511627776.0 && magnitude >= unit * 1024.0) unit *= 1024.0;
  return unit;
}

QString byteUnitName(double unit) {
  if (unit >= 1099511627776.0) return QStringLiteral("TiB");
  if (unit >= 1073741824.0) return QStringLiteral("GiB");
  if (unit >= 1048576.0) return QStringLiteral("MiB");
  if (unit >= 1024.0) return QStringLiteral("KiB");
  return QStringLiteral("B");
}

QString formatBytes(double bytes) {
  if (!std::isfinite(bytes)) return QStringLiteral("—");
  const double unit = byteUnitFor(bytes);
  const double v = bytes / unit;
  // Three significant digits: 1.23 GiB, 12.3 MiB, 123 KiB; whole bytes stay whole.
  const int decimals = unit == 1.0 ? 0 : std::abs(v) < 10.0 ? 2 : std::abs(v) < 100.0 ? 1 : 0;
  return QStringLiteral("%1 %2").arg(v, 0, 'f', decimals).arg(byteUnitName(unit));
}
