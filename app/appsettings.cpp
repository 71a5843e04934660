// QSettings under the organisation/application names set in main(); tests switch QSettings to a
// temporary folder so they never touch the user's settings.
#include "appsettings.h"

#include <QFileInfo>
#include <QSettings>

namespace {
const char* const kGeometry = "window/geometry";
const char* const kState = "window/state";
const char* const kLastPage = "window/lastPage";
const char* const kLanguage = "ui/language";
const char* const kRecent = "projects/recent";
}  // namespace

QByteArray AppSettings::windowGeometry() { return QSettings().value(kGeometry).toByteArray(); }
void AppSettings::setWindowGeometry(const QByteArray& g) { QSettings().setValue(kGeometry, g); }
QByteArray AppSettings::windowState() { return QSettings().value(kState).toByteArray(); }
void AppSettings::setWindowState(const QByteArray& s) { QSettings().setValue(kState, s); }
QString AppSettings::lastPage() { return QSettings().value(kLastPage).toString(); }
void AppSettings::setLastPage(const QString& page) { QSettings().setValue(kLastPage, page); }
QString AppSettings::language() { return QSettings().value(kLanguage).toString(); }
void AppSettings::setLanguage(const QString& l) { QSettings().setValue(kLanguage, l); }

QStringList AppSettings::recentProjects() { return QSettings().value(kRecent).toStringList(); }

void AppSettings::addRecentProject(const QString& path) {
  const QString absolute = QFileInfo(path).absoluteFilePath();
  QStringList list = recentProjects();
  list.removeAll(absolute);
  list.prepend(absolute);
  while (list.size() > kMaxRecentProjects) list.removeLast();
  QSettings().setValue(kRecent, list);
}

void AppSettings::removeRecentProject(const QString& path) {
  QStringList list = recentProjects();
  list.removeAll(QFileInfo(path).absoluteFilePath());
  QSettings().setValue(kRecent, list);
}

void AppSettings::clearRecentProjects() { QSettings().remove(kRecent); }
