// Every item model of the workbench under QAbstractItemModelTester, plus the lazy preview's
// promise: a million-row JSONL opens with one block read, and scrolling fetches more.
#include <QAbstractItemModelTester>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "datasetpreviewmodel.h"
#include "datasetsmodel.h"
#include "deeptune/project.h"
#include "deeptune/store.h"
#include "gui_support.h"
#include "projectsession.h"
#include "runsmodel.h"

class TstModels : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void previewModelOnEveryFormat_data();
  void previewModelOnEveryFormat();
  void previewShowsMalformedRows();
  void previewOpensMillionRowsLazily();
  void previewRefusesUnreadableFiles();
  void previewDetectsFormatAndGuessesMapping();
  void datasetsModel();
  void runsModelUpdatesInPlace();

 private:
  QString write(const QString& name, const QByteArray& bytes);
  QTemporaryDir m_dir;
};

QString TstModels::write(const QString& name, const QByteArray& bytes) {
  QFile f(m_dir.filePath(name));
  if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) qFatal("cannot write");
  f.write(bytes);
  return f.fileName();
}

void TstModels::initTestCase() {
  QVERIFY(m_dir.isValid());
}

void TstModels::previewModelOnEveryFormat_data() {
  QTest::addColumn<QString>("name");
  QTest::addColumn<QByteArray>("bytes");
  QTest::addColumn<int>("format");
  QTest::addColumn<QStringList>("columns");
  QTest::addColumn<int>("rows");
  QTest::addColumn<QString>("lastCell");
  QTest::newRow("jsonl") << "a.jsonl"
                         << QByteArray("{\"q\":\"x\",\"n\":1}\n\n{\"q\":\"y\",\"n\":null}\n")
                         << int(deeptune::DataFormat::kJsonl) << QStringList{"q", "n"} << 2
                         << QString();
  QTest::newRow("csv") << "a.csv" << QByteArray("text,label\n\"a, b\",pos\n\"multi\nline\",neg\n")
                       << int(deeptune::DataFormat::kCsv) << QStringList{"text", "label"} << 2
                       << QStringLiteral("neg");
  QTest::newRow("json") << "a.json" << QByteArray("[{\"t\":\"one\"},{\"t\":\"two\"}]")
                        << int(deeptune::DataFormat::kJson) << QStringList{"t"} << 2
                        << QStringLiteral("two");
  QTest::newRow("txt") << "a.txt" << QByteArray("first\n\nsecond\nthird\n")
                       << int(deeptune::DataFormat::kText) << QStringList{"text"} << 3
                       << QStringLiteral("third");
}

void TstModels::previewModelOnEveryFormat() {
  QFETCH(QString, name);
  QFETCH(QByteArray, bytes);
  QFETCH(int, format);
  QFETCH(QStringList, columns);
  QFETCH(int, rows);
  QFETCH(QString, lastCell);
  DatasetPreviewModel model;
  QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
  QCOMPARE(model.setFile(write(name, bytes), static_cast<deeptune::DataFormat>(format)), QString());
  QCOMPARE(model.columns(), columns);
  QCOMPARE(model.rowCount(), rows);
  QCOMPARE(model.columnCount(), columns.size());
  QVERIFY(model.atEnd());
  QCOMPARE(model.index(rows - 1, columns.size() - 1).data().toString(), lastCell);
  QCOMPARE(model.headerData(0, Qt::Horizontal).toString(), columns.first());
  model.clear();
  QCOMPARE(model.rowCount(), 0);
}

void TstModels::previewShowsMalformedRows() {
  DatasetPreviewModel model;
  QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
  const QString path =
      write("mixed.jsonl", "{\"a\":\"1\"}\n{\"a\": [1]}\nnot json\n{\"a\":\"4\"}\n");
  QCOMPARE(model.setFile(path, deeptune::DataFormat::kJsonl), QString());
  QCOMPARE(model.rowCount(), 4);
  QVERIFY(model.index(1, 0).data().toString().contains(QStringLiteral("mixed.jsonl:2")));
  QVERIFY(model.index(2, 0).data().toString().contains(QStringLiteral("mixed.jsonl:3")));
  QVERIFY(model.index(1, 0).data(Qt::ForegroundRole).isValid());
  QCOMPARE(model.index(3, 0).data().toString(), QStringLiteral("4"));
  QCOMPARE(model.headerData(3, Qt::Vertical).toString(), QStringLiteral("4"));  // file line
}

void TstModels::previewOpensMillionRowsLazily() {
  // ~50 MB: one JSON object per line.
  const QString path = m_dir.filePath(QStringLiteral("million.jsonl"));
  {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    QByteArray block;
    for (int i = 0; i < 1000000; ++i) {
      block += "{\"prompt\":\"question number " + QByteArray::number(i) +
               "\",\"response\":\"answer " + QByteArray::number(i * 7) + "\"}\n";
      if (block.size() > (1 << 20)) {
        f.write(block);
        block.clear();
      }
    }
    f.write(block);
  }
  DatasetPreviewModel model;
  QSignalSpy indexed(&model, &DatasetPreviewModel::rowsIndexed);
  QElapsedTimer timer;
  timer.start();
  QCOMPARE(model.setFile(path, deeptune::DataFormat::kJsonl), QString());
  const qint64 openMs = timer.elapsed();
  QCOMPARE(model.rowCount(), DatasetPreviewModel::kFetchBlock);  // one block, not the file
  QVERIFY(model.canFetchMore({}));
  QVERIFY(model.progress() < 0.01);
  QCOMPARE(model.index(1999, 1).data().toString(), QStringLiteral("answer 13993"));
  model.fetchMore({});
  QCOMPARE(model.rowCount(), 2 * DatasetPreviewModel::kFetchBlock);
  QCOMPARE(indexed.count(), 2);
  qInfo("1M-row JSONL: opened with its first %d rows in %lld ms", DatasetPreviewModel::kFetchBlock,
        openMs);
  {
    // The tester re-checks the whole model on every insertion: a few blocks are enough.
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    for (int i = 0; i < 3; ++i) model.fetchMore({});
    QVERIFY(model.rowCount() >= 5 * DatasetPreviewModel::kFetchBlock);
  }
  // Fetching to the end works and the last row is right.
  while (model.canFetchMore({})) model.fetchMore({});
  QCOMPARE(model.rowCount(), 1000000);
  QCOMPARE(model.index(999999, 0).data().toString(), QStringLiteral("question number 999999"));
}

void TstModels::previewRefusesUnreadableFiles() {
  DatasetPreviewModel model;
  const QString missing = m_dir.filePath(QStringLiteral("missing.jsonl"));
  const QString error = model.setFile(missing, deeptune::DataFormat::kJsonl);
  QVERIFY(error.contains(QStringLiteral("missing.jsonl")));
  QCOMPARE(model.rowCount(), 0);
  QCOMPARE(model.columnCount(), 0);
  const QString utf16 = write("wide.txt", QByteArray("\xff\xfeh\0i\0", 6));
  QVERIFY(model.setFile(utf16, deeptune::DataFormat::kText).contains(QStringLiteral("wide.txt")));
}

void TstModels::previewDetectsFormatAndGuessesMapping() {
  // What the Add dataset dialog offers first: the format read from the file, the engine's mapping.
  DatasetPreviewModel model;
  const QString csv = write("tickets.csv", "sentence,label\nmy card was charged twice,billing\n");
  QCOMPARE(model.setFile(csv), QString());
  QCOMPARE(model.format(), deeptune::DataFormat::kCsv);
  QCOMPARE(model.rowCount(), 1);
  QCOMPARE(model.guessedMapping()->kind(), deeptune::MappingKind::kTextLabel);
  QCOMPARE(model.guessedMapping()->text, std::string("sentence"));
  const QString jsonl = write("pairs.data", "{\"question\":\"a\",\"answer\":\"b\"}\n");
  QCOMPARE(model.setFile(jsonl), QString());
  QCOMPARE(model.format(), deeptune::DataFormat::kJsonl);
  QCOMPARE(model.guessedMapping()->kind(), deeptune::MappingKind::kPromptResponse);
  // A registered dataset's format by name; an unknown name is an error, not a crash.
  QCOMPARE(model.setFile(csv, std::string("csv")), QString());
  QVERIFY(!model.setFile(csv, std::string("parquet")).isEmpty());
  QCOMPARE(model.rowCount(), 0);
  QVERIFY(!model.guessedMapping().has_value());
}

void TstModels::datasetsModel() {
  DatasetsModel model;
  QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
  deeptune::DatasetRecord a;
  a.id = 1;
  a.name = "dates";
  a.format = "jsonl";
  a.rows = 2000;
  a.mapping_json = R"({"prompt":"prompt","response":"response"})";
  deeptune::DatasetRecord b = a;
  b.id = 2;
  b.name = "tickets";
  b.mapping_json = R"({"text":"text","label":"label"})";
  model.setDatasets({a, b});
  QCOMPARE(model.rowCount(), 2);
  QCOMPARE(model.index(0, DatasetsModel::kMapping).data().toString(),
           QStringLiteral("prompt → response"));
  QCOMPARE(model.index(1, DatasetsModel::kMapping).data().toString(),
           QStringLiteral("text + label"));
  QCOMPARE(model.rowOf(QStringLiteral("tickets")), 1);
  QCOMPARE(model.rowOf(QStringLiteral("nope")), -1);
  QCOMPARE(model.index(1, 0).data(DatasetsModel::kIdRole).toLongLong(), 2);
  // Statistics as registered; a damaged document says why instead of showing nothing.
  a.stats_json = R"({"rows": 2000, "train_rows": 1800, "val_rows": 200})";
  b.stats_json = "{not json";
  model.setDatasets({a, b});
  QCOMPARE(model.statsAt(0).error, QString());
  QCOMPARE(model.statsAt(0).stats.val_rows, size_t{200});
  QVERIFY(!model.statsAt(1).error.isEmpty());
  model.setDatasets({});
  QCOMPARE(model.rowCount(), 0);
}

void TstModels::runsModelUpdatesInPlace() {
  const QString path = m_dir.filePath(QStringLiteral("runs.dtproj"));
  ProjectSession session;
  QCOMPARE(session.create(path, false).headline, QString());
  auto store = deeptune::ProjectStore::open(path.toStdString());  // a connection of the test's own
  deeptune::RunRecord r;
  r.name = "alpha";
  r.config_json = R"({"data":{"dataset":"d"},"train":{"mode":"lora","lr":0.001},"lora":{"r":8}})";
  r.max_steps = 100;
  store->create_run(r);
  r.name = "beta";
  store->create_run(r);
  session.reloadRuns();
  RunsModel model(&session);
  QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
  model.setRuns(session.runs());
  QCOMPARE(model.rowCount(), 2);
  QCOMPARE(model.index(0, RunsModel::kRank).data().toString(), QStringLiteral("8"));
  QCOMPARE(model.index(0, RunsModel::kLearningRate).data().toString(), QStringLiteral("0.001"));
  QVERIFY(model.flags(model.index(0, RunsModel::kName)) & Qt::ItemIsEditable);
  QVERIFY(!(model.flags(model.index(0, RunsModel::kStatus)) & Qt::ItemIsEditable));

  // Same runs, new values: dataChanged, no reset (a selection survives the refresh).
  QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
  QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
  store->heartbeat(session.runs()[0].id, 42);
  session.reloadRuns();
  model.setRuns(session.runs());
  QCOMPARE(reset.count(), 0);
  QCOMPARE(changed.count(), 1);
  QCOMPARE(model.index(0, RunsModel::kProgress).data().toString(), QStringLiteral("42 / 100"));
  // A run removed: reset.
  store->delete_run(session.runs()[1].id);
  session.reloadRuns();
  model.setRuns(session.runs());
  QCOMPARE(reset.count(), 1);
  QCOMPARE(model.rowCount(), 1);
  // Rename through setData writes the project file.
  QVERIFY(model.setData(model.index(0, RunsModel::kName), QStringLiteral("gamma")));
  QVERIFY(store->find_run("gamma").has_value());
}

QTEST_MAIN(TstModels)
#include "tst_models.moc"
