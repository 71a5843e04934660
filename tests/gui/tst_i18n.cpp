// The translation sources are complete (no unfinished, empty or vanished entry in either
// language) and the compiled catalogue the application loads really translates.
#include <QCoreApplication>
#include <QFile>
#include <QTranslator>
#include <QXmlStreamReader>
#include <QtTest>

class TstI18n : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void sourcesAreComplete_data();
  void sourcesAreComplete();
  void chineseIsChinese();
  void compiledCatalogueTranslates();
};

namespace {

struct Entry {
  QString context, source, translation, type;
  QStringList numerus;
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
      current = Entry{context, {}, {}, {}, {}};
    } else if (name == QLatin1String("source")) {
      current.source = xml.readElementText();
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

}  // namespace

void TstI18n::sourcesAreComplete_data() {
  QTest::addColumn<QString>("file");
  QTest::newRow("en") << QStringLiteral(DEEPTUNE_SOURCE_DIR "/i18n/deeptune_en.ts");
  QTest::newRow("zh_CN") << QStringLiteral(DEEPTUNE_SOURCE_DIR "/i18n/deeptune_zh_CN.ts");
}

void TstI18n::sourcesAreComplete() {
  QFETCH(QString, file);
  const auto entries = readTs(file);
  QVERIFY2(entries.size() > 200, qPrintable(file));
  QStringList missing;
  for (const Entry& e : entries) {
    const bool empty = e.numerus.isEmpty() ? e.translation.isEmpty()
                                           : e.numerus.contains(QString());
    if (!e.type.isEmpty() || empty) missing << e.context + QStringLiteral(": ") + e.source;
  }
  QVERIFY2(missing.isEmpty(), qPrintable(QStringLiteral("%1 untranslated in %2:\n%3")
                                             .arg(missing.size())
                                             .arg(file, missing.mid(0, 20).join('\n'))));
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
  QCOMPARE(QCoreApplication::translate("TrainPage", "The run failed"),
           QStringLiteral("运行失败"));
  QCoreApplication::removeTranslator(&zh);
  QCOMPARE(QCoreApplication::translate("MainWindow", "Train"), QStringLiteral("Train"));
}

QTEST_GUILESS_MAIN(TstI18n)
#include "tst_i18n.moc"
