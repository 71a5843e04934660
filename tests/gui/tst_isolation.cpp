// Work the pages do beside a training run leaves the run's numbers alone: the Model page computes
// summaries in the background on every edit (rank, targets, base model), and a run trained while
// the page is edited gives bit-identical losses to the same run trained without the edits. Side
// work that drew from LibTorch's global generator (building a model to count it) would shift the
// run's dropout masks and break this.
#include <QtTest>
#include <cstring>

#include "datapage.h"
#include "deeptune/store.h"
#include "modelpage.h"
#include "window_support.h"

using deeptune::RunStatus;

class TstIsolation : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void modelPageEditsLeaveRunLossesIdentical();

 private:
  // Trains the config as run `name` through the Train page; while it trains, `duringRun` is
  // called until the run ends. Returns the run's recorded losses, train then validation.
  std::vector<double> train(const nlohmann::json& config, const QString& name,
                            const std::function<void()>& duringRun = {});

  QTemporaryDir m_dir;
  QString m_project;
  std::unique_ptr<MainWindow> m_window;
};

void TstIsolation::initTestCase() {
  QVERIFY(m_dir.isValid());
  m_window = deeptune::test::openWindow(m_dir);
  m_project = m_dir.filePath(QStringLiteral("isolation.dtproj"));
  QVERIFY(m_window->createProject(m_project, false));
  QSignalSpy added(m_window->dataPage(), &DataPage::datasetAdded);
  QVERIFY(m_window->dataPage()->addDataset(deeptune::test::writeSample(m_dir.path(), "dates.jsonl"),
                                           QStringLiteral("dates")));
  QVERIFY(added.wait(60000));
}

std::vector<double> TstIsolation::train(const nlohmann::json& config, const QString& name,
                                        const std::function<void()>& duringRun) {
  if (deeptune::test::trainThroughWindow(*m_window, config, name, duringRun) !=
      RunStatus::kCompleted)
    return {};
  auto store = deeptune::ProjectStore::open(m_project.toStdString());
  const auto run = store->find_run(name.toStdString());
  // Held in a variable: ranging over a member of the temporary that metrics() returns would read
  // freed memory once the temporary is gone.
  const auto metrics = store->metrics(run->id);
  std::vector<double> losses;
  for (const char* metric : {"train/loss", "val/loss"})
    for (const auto& [step, value] : metrics.at(metric)) losses.push_back(value);
  return losses;
}

void TstIsolation::modelPageEditsLeaveRunLossesIdentical() {
  auto config = deeptune::test::shortRunConfig("dates", 40);
  config["lora"]["dropout"] = 0.1;  // every step draws dropout masks from the run's generator
  const auto alone = train(config, QStringLiteral("alone"));
  QVERIFY(alone.size() > 40);

  // The same run again, while the Model page is edited as a user would: rank, targets, base model
  // (a preset, then the weights of the run above). Each edit's summary must have been computed
  // while the run was training, or this proves nothing.
  ModelPage* page = m_window->modelPage();
  m_window->showPage(MainWindow::kModel);
  ConfigDraft* draft = m_window->draft();
  const nlohmann::json edits[][2] = {
      {"/lora/r", 4},
      {"/lora/targets", nlohmann::json::array({"q_proj", "k_proj", "v_proj", "o_proj"})},
      {"/model/source", "preset:small"},
      {"/lora/r", 32},
      {"/model/source", "run:alone"},
      {"/lora/targets", nlohmann::json::array({"gate_proj", "up_proj", "down_proj"})},
      {"/model/source", "preset:tiny"},
  };
  int summaries = 0;
  size_t next = 0;
  QSignalSpy updated(page, &ModelPage::summaryUpdated);
  QSignalSpy steps(m_window->runController(), &RunController::stepsFinished);
  const auto edited = train(config, QStringLiteral("edited"), [&] {
    const auto& [pointer, value] = edits[next++ % std::size(edits)];
    const QString key = QString::fromStdString(pointer.get<std::string>()).mid(1).replace('/', '.');
    updated.clear();
    draft->setValue(key, value);
    // Counted when it arrived while the run was between its first and last step.
    if (updated.wait(10000) && !steps.isEmpty() && m_window->runController()->isBusy()) ++summaries;
  });
  QVERIFY2(summaries >= 3,
           qPrintable(QStringLiteral("%1 summaries during the run").arg(summaries)));
  QCOMPARE(edited.size(), alone.size());
  for (size_t i = 0; i < alone.size(); ++i)
    QVERIFY2(std::memcmp(&alone[i], &edited[i], sizeof(double)) == 0,
             qPrintable(QStringLiteral("loss %1: %2 alone, %3 with the edits")
                            .arg(i)
                            .arg(alone[i], 0, 'g', 17)
                            .arg(edited[i], 0, 'g', 17)));
}

QTEST_MAIN(TstIsolation)
#include "tst_isolation.moc"
