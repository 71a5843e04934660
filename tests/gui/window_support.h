// Helpers for suites that drive the whole window: one opened with its settings kept in a temporary
// folder, and a run trained to its end through the Train page, as a user starts one.
#pragma once

#include <QDeadlineTimer>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <functional>
#include <memory>

#include "configdraft.h"
#include "gui_support.h"
#include "mainwindow.h"
#include "runcontroller.h"
#include "trainpage.h"

namespace deeptune::test {

// A shown main window whose settings live in `dir` (not the user's).
inline std::unique_ptr<MainWindow> openWindow(const QTemporaryDir& dir) {
  isolateSettings(dir.filePath(QStringLiteral("settings")));
  auto window = std::make_unique<MainWindow>();
  window->show();
  return window;
}

// Makes `config` the draft and trains it as run `name` from the Train page until the run ends;
// `duringRun`, when given, is called again and again while it trains. Returns how it ended
// (kCreated when it did not start or did not end within five minutes).
inline deeptune::RunStatus trainThroughWindow(MainWindow& window, const nlohmann::json& config,
                                              const QString& name,
                                              const std::function<void()>& duringRun = {}) {
  window.draft()->setDocument(config);
  RunController* runs = window.runController();
  QSignalSpy finished(runs, &RunController::runFinished);
  if (!window.trainPage()->startRun(name)) return deeptune::RunStatus::kCreated;
  QDeadlineTimer deadline(300000);
  while (finished.isEmpty() && !deadline.hasExpired()) {
    if (duringRun && runs->isBusy())
      duringRun();
    else
      finished.wait(200);
  }
  return finished.isEmpty() ? deeptune::RunStatus::kCreated
                            : finished.first().at(1).value<deeptune::RunStatus>();
}

}  // namespace deeptune::test
