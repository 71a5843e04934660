// deeptune [PROJECT]: the workbench window, opened on PROJECT when given. --screenshot FILE
// renders the window (after the project loads) to a PNG and quits: how the README's picture is
// made under Xvfb.
#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QScreen>
#include <QTimer>

#include "appsettings.h"
#include "mainwindow.h"
#include "metatypes.h"
#include "translations.h"
#include "versions.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QCoreApplication::setOrganizationName(QStringLiteral("DeepTune"));
  QCoreApplication::setApplicationName(QStringLiteral("Workbench"));
  QCoreApplication::setApplicationVersion(engineVersion());
  QGuiApplication::setApplicationDisplayName(QStringLiteral("DeepTune Workbench"));
  installTranslations(app, AppSettings::language());
  registerDeepTuneMetaTypes();

  QCommandLineParser parser;
  parser.setApplicationDescription(
      QCoreApplication::translate("main", "DeepTune Workbench: LoRA fine-tuning you can watch."));
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument(QStringLiteral("project"),
                               QCoreApplication::translate("main", "Project file to open"),
                               QStringLiteral("[PROJECT]"));
  QCommandLineOption screenshot(
      QStringLiteral("screenshot"),
      QCoreApplication::translate("main", "Save a PNG of the window and quit"),
      QStringLiteral("FILE"));
  QCommandLineOption page(QStringLiteral("page"),
                          QCoreApplication::translate("main", "Page to show first"),
                          QStringLiteral("NAME"));
  parser.addOption(screenshot);
  parser.addOption(page);
  parser.process(app);

  MainWindow window;
  if (parser.isSet(page))
    for (int i = 0; i < MainWindow::kPageCount; ++i)
      if (MainWindow::pageKey(static_cast<MainWindow::Page>(i)) == parser.value(page))
        window.showPage(static_cast<MainWindow::Page>(i));
  window.show();
  if (!parser.positionalArguments().isEmpty())
    window.openProject(parser.positionalArguments().first());

  if (parser.isSet(screenshot)) {
    const QString file = parser.value(screenshot);
    // Let the pages load, the summaries compute and the plots replot before grabbing.
    QTimer::singleShot(2500, &window, [&window, file] {
      const bool ok = window.grab().save(file);
      QCoreApplication::exit(ok ? 0 : 1);
    });
  }
  return app.exec();
}
