// Typed access to the workbench's persistent settings (QSettings): window geometry, last page,
// language, recent projects. Keys live here only, so no other file spells a settings string.
#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

class AppSettings {
 public:
  static constexpr int kMaxRecentProjects = 8;

  static QByteArray windowGeometry();
  static void setWindowGeometry(const QByteArray& geometry);
  static QByteArray windowState();
  static void setWindowState(const QByteArray& state);
  static QString lastPage();
  static void setLastPage(const QString& page);
  // "en" or "zh_CN"; empty means the system's language. Applied at the next start.
  static QString language();
  static void setLanguage(const QString& language);
  static QStringList recentProjects();
  static void addRecentProject(const QString& path);  // most recent first, without duplicates
  static void removeRecentProject(const QString& path);
  static void clearRecentProjects();
};
