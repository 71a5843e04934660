// Loading the workbench's translations (built from i18n/*.ts into the binary) and Qt's own.
#pragma once

#include <QString>
#include <QStringList>

class QCoreApplication;

// Languages shipped, as codes ("en", "zh_CN").
QStringList availableLanguages();
// The language's own name for the settings list ("English", "简体中文").
QString languageDisplayName(const QString& code);
// Installs translators for `code` ("" = the system's language). Returns the code applied.
QString installTranslations(QCoreApplication& app, const QString& code);
