// The translation sources hold every tr() string of the sources (lupdate scans them into a
// temporary file, whose (context, source, comment) set must equal each committed file's), are
// complete (no unfinished, empty or vanished entry in either language), and the compiled
// catalogue the application loads really translates.
#include <QCoreApplication>
#include <QFile>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QTranslator>
#include <QXmlStreamReader>
#include <QtTest>

class TstI18n : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void sourcesMatchTheCode_data();
  void sourcesMatchTheCode();
  void sourcesAreComplete_data();
  void sourcesAreComplete();
  void chineseIsChinese();
  void compiledCatalogueTranslates();

 private:
  QTemporaryDir m_dir;
  QString m_scanned;  // lupdate's .ts of the current sources
};

namespace {

struct Entry {
  QString context, source, comment, translation, type;
  QStringList numerus;
  QString key() const {
    return context + QStringLiteral(" | ") + source + QStringLiteral(" | ") + comment;
  }
};

QList<Entry> readTs(const QString& path) {
  QList<Entry> out;
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return out;
  QXmlStreamReader xml(&f);
  QString context;
  Entry current;
  while (!xml.atEnd()) {
    xml.readNext();
    if (!xml.isStartElement()) continue;
    const auto name = xml.name();
    if (name == QLatin1String("name")) {
      context = xml.readElementText();
    } else if (name == QLatin1String("message")) {
      current = Entry{context, {}, {}, {}, {}, {}};
    } else if (name == QLatin1String("source")) {
      current.source = xml.readElementText();
    } else if (name == QLatin1String("comment")) {
      current.comment = xml.readElementText();
    } else if (name == QLatin1String("translation")) {
      current.type = xml.attributes().value(QLatin1String("type")).toString();
      // Numerus messages hold <numerusform> children; plain ones hold text.
      QString text;
      while (!(xml.isEndElement() && xml.name() == QLatin1String("translation")) && !xml.atEnd()) {
        xml.readNext();
        if (xml.isCharacters()) text += xml.text();
        if (xml.isStartElement() && xml.name() == QLatin1String("numerusform"))
          current.numerus << xml.readElementText();
      }
      current.translation = text.trimmed();
      out << current;
    }
  }
  return out;
}

QSet<QString> keys(const QList<Entry>& entries) {
  QSet<QString> out;
  for (const Entry& e : entries) out.insert(e.key());
  return out;
}

QStringList sorted(const QSet<QString>& set) {
  QStringList list(set.begin(), set.end());
  list.sort();
  return list;
}

void addCatalogueRows() {
  QTest::addColumn<QString>("file");
  QTest::newRow("en") << QStringLiteral(DEEPTUNE_SOURCE_DIR "/i18n/deeptune_en.ts");
  QTest::newRow("zh_CN") << QStringLiteral(DEEPTUNE_SOURCE_DIR "/i18n/deeptune_zh_CN.ts");
}

}  // namespace

void TstI18n::initTestCase() {
  // The same scan i18n/update.sh makes, into a file of our own: the committed ones stay as they
  // are.
  QVERIFY(m_dir.isValid());
  m_scanned = m_dir.filePath(QStringLiteral("scanned.ts"));
  QProcess lupdate;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert(QStringLiteral("LUPDATE"), QStringLiteral(DEEPTUNE_LUPDATE));
  lupdate.setProcessEnvironment(env);
  lupdate.setProcessChannelMode(QProcess::MergedChannels);
  lupdate.start(QStringLiteral("bash"),
                {QStringLiteral(DEEPTUNE_SOURCE_DIR "/i18n/update.sh"), m_scanned});
  QVERIFY(lupdate.waitForFinished(120000));
  QVERIFY2(lupdate.exitCode() == 0, lupdate.readAll().constData());
  QVERIFY2(readTs(m_scanned).size() > 200, qPrintable(m_scanned));
}

void TstI18n::sourcesMatchTheCode_data() {
  addCatalogueRows();
}

void TstI18n::sourcesMatchTheCode() {
  QFETCH(QString, file);
  const QSet<QString> code = keys(readTs(m_scanned));
  const QSet<QString> committed = keys(readTs(file));
  const QStringList missing = sorted(code - committed);
  const QStringList stale = sorted(committed - code);
  QVERIFY2(missing.isEmpty(),
           qPrintable(QStringLiteral("%1 tr() string(s) of the sources missing from %2 (run "
                                     "i18n/update.sh, then translate):\n%3")
                          .arg(missing.size())
                          .arg(file, missing.join('\n'))));
  QVERIFY2(stale.isEmpty(),
           qPrintable(QStringLiteral("%1 entr(ies) of %2 no longer in the sources:\n%3")
                          .arg(stale.size())
                          .arg(file, stale.join('\n'))));
}

void TstI18n::sourcesAreComplete_data() {
  addCatalogueRows();
}

void TstI18n::sourcesAreComplete() {
  QFETCH(QString, file);
  const auto entries = readTs(file);
  QVERIFY2(entries.size() > 200, qPrintable(file));
  QStringList missing;
  for (const Entry& e : entries) {
    const bool empty =
        e.numerus.isEmpty() ? e.translation.isEmpty() : e.numerus.contains(QString());
    if (!e.type.isEmpty() || empty) missing << e.context + QStringLiteral(": ") + e.source;
  }
  QVERIFY2(missing.isEmpty(), qPrintable(QStringLiteral("%1 untranslated in %2:\n%3")
                                             .arg(missing.size())
                                             .arg(file, missing.join('\n'))));
}

void TstI18n::chineseIsChinese() {
  // Every translation with letters in its source has Chinese characters in it, except names
  // that stay as they are (formats, module names, units).
  const auto entries = readTs(QStringLiteral(DEEPTUNE_SOURCE_DIR "/i18n/deeptune_zh_CN.ts"));
  int chinese = 0;
  for (const Entry& e : entries) {
    const QString t = e.numerus.isEmpty() ? e.translation : e.numerus.join(' ');
    for (QChar c : t)
      if (c.unicode() >= 0x4e00 && c.unicode() <= 0x9fff) {
        ++chinese;
        break;
      }
  }
  QVERIFY2(chinese >= entries.size() * 9 / 10,
           qPrintable(QStringLiteral("%1 of %2 contain Chinese").arg(chinese).arg(entries.size())));
}

void TstI18n::compiledCatalogueTranslates() {
  QTranslator zh;
  QVERIFY(zh.load(QStringLiteral(":/i18n/deeptune_zh_CN.qm")));
  QCoreApplication::installTranslator(&zh);
  QCOMPARE(QCoreApplication::translate("MainWindow", "Train"), QStringLiteral("训练"));
  QCOMPARE(QCoreApplication::translate("TrainPage", "The run failed"), QStringLiteral("运行失败"));
  QCoreApplication::removeTranslator(&zh);
  QCOMPARE(QCoreApplication::translate("MainWindow", "Train"), QStringLiteral("Train"));
}

QTEST_GUILESS_MAIN(TstI18n)
#include "tst_i18n.moc"
