// Translators are parented to the application so they live as long as it does.
#include "translations.h"

#include <QCoreApplication>
#include <QLibraryInfo>
#include <QLocale>
#include <QTranslator>

QStringList availableLanguages() { return {QStringLiteral("en"), QStringLiteral("zh_CN")}; }

QString languageDisplayName(const QString& code) {
  if (code == QLatin1String("zh_CN")) return QStringLiteral("简体中文");
  return QStringLiteral("English");
}

QString installTranslations(QCoreApplication& app, const QString& code) {
  QString language = code;
  if (language.isEmpty())
    language = QLocale::system().name().startsWith(QLatin1String("zh")) ? QStringLiteral("zh_CN")
                                                                        : QStringLiteral("en");
  if (!availableLanguages().contains(language)) language = QStringLiteral("en");
  auto* ours = new QTranslator(&app);
  if (ours->load(QStringLiteral(":/i18n/deeptune_%1.qm").arg(language)))
    QCoreApplication::installTranslator(ours);
  // Qt's own strings (standard buttons, file dialogs) when the system has them.
  auto* qt = new QTranslator(&app);
  if (qt->load(QLocale(language), QStringLiteral("qtbase"), QStringLiteral("_"),
               QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
    QCoreApplication::installTranslator(qt);
  QLocale::setDefault(QLocale(language));
  return language;
}
