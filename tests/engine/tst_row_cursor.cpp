// Row cursor: rows read a block at a time must agree with read_table on every format, across read
// buffer edges and on random CSV; a 200k-row JSONL opens at once; bad rows come back as errors.
#include <sys/stat.h>

#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <iterator>
#include <optional>
#include <stdexcept>

#include "deeptune/data.h"
#include "deeptune/error.h"
#include "deeptune/row_cursor.h"
#include "hostile/guards.h"
#include "support/test_support.h"

using deeptune::DataFormat;
using deeptune::RowCursor;
using deeptune::Table;
using deeptune::test::input_error_of;
using deeptune::test::q;

Q_DECLARE_METATYPE(deeptune::DataFormat)

namespace {

// The cursor's read buffer (row_cursor.cpp, kReadBuffer): files are built so rows straddle it.
constexpr qsizetype kReadBuffer = qsizetype{1} << 20;

// Keeps embedded zero bytes, which a plain const char* constructor would stop at.
template <size_t N>
QByteArray raw(const char (&s)[N]) {
  return QByteArray(s, static_cast<qsizetype>(N - 1));
}

QStringList to_list(const std::vector<std::string>& items) {
  QStringList out;
  for (const std::string& item : items) out << q(item);
  return out;
}

// One string per row, cells joined by '|' and prefixed with the source line, so a whole table
// compares in one QCOMPARE and a mismatch shows where.
QStringList rows_of(const Table& table) {
  QStringList out;
  for (size_t r = 0; r < table.rows.size(); ++r)
    out << QString::number(table.source_lines[r]) + ":" + to_list(table.rows[r]).join('|');
  return out;
}

QStringList rows_of(const RowCursor& cursor) {
  QStringList out;
  for (size_t r = 0; r < cursor.indexed_rows(); ++r) {
    const RowCursor::Row row = cursor.row(r);
    out << QString::number(row.source_line) + ":" + to_list(row.cells).join('|') +
               (row.error.empty() ? QString() : " ERROR " + q(row.error));
  }
  return out;
}

// Indexes everything `step` rows at a time, checking on the way that a call adds rows until
// at_end() and that at_end() holds as soon as the last row is in.
void index_all(RowCursor& cursor, size_t step) {
  while (!cursor.at_end()) {
    const size_t before = cursor.indexed_rows();
    const size_t added = cursor.index_more(step);
    QVERIFY2(added > 0, "index_more added nothing before at_end()");
    QVERIFY(added <= step);
    QCOMPARE(cursor.indexed_rows(), before + added);
  }
  QCOMPARE(cursor.index_more(step), size_t{0});
  QCOMPARE(cursor.progress(), 1.0);
}

}  // namespace

class TstRowCursor : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();

  void agreesWithReadTable_data();
  void agreesWithReadTable();
  void agreesAcrossReadBuffer_data();
  void agreesAcrossReadBuffer();
  void randomCsvAgreesWithReadTable();

  void badRowsMatchReadTable_data();
  void badRowsMatchReadTable();
  void openErrors_data();
  void openErrors();
  void openRefusesNonRegularFiles();
  void jsonlNoColumns_data();
  void jsonlNoColumns();
  void csvHeaderOnly();
  void jsonlColumnsFromFirstLines();
  void jsonRevealedInSteps();
  void rowOutOfRange();

  void largeJsonl();

 private:
  std::string write(const QString& name, const QByteArray& bytes);

  QTemporaryDir m_dir;
};

std::string TstRowCursor::write(const QString& name, const QByteArray& bytes) {
  const QString path = m_dir.filePath(name);
  QFile file(path);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) qFatal("cannot write test file");
  file.write(bytes);
  return path.toStdString();
}

void TstRowCursor::initTestCase() {
  QVERIFY(m_dir.isValid());
}

// --- agreement with read_table -----------------------------------------------------------------

void TstRowCursor::agreesWithReadTable_data() {
  QTest::addColumn<QString>("name");
  QTest::addColumn<QByteArray>("bytes");
  QTest::addColumn<DataFormat>("format");
  QTest::addColumn<int>("rows");  // pins the case, so a reader that drops rows on both sides fails

  const DataFormat jsonl = DataFormat::kJsonl, json = DataFormat::kJson, csv = DataFormat::kCsv,
                   txt = DataFormat::kText;

  QTest::newRow("jsonl missing keys, numbers, null")
      << "a.jsonl"
      << raw("{\"prompt\": \"hi\", \"response\": \"there\", \"n\": 7}\n"
             "\n"
             "   \n"
             "{\"response\": \"yes\", \"prompt\": \"ok?\", \"flag\": true, \"x\": null, \"f\": "
             "0.5}\n"
             "{\"prompt\": \"caf\\u00e9 \xE2\x98\x95\", \"n\": -3, \"big\": 12345678901234}\r\n")
      << jsonl << 3;
  QTest::newRow("jsonl bom, crlf, blank tail, no final newline")
      << "b.jsonl" << raw("\xEF\xBB\xBF{\"a\": \"1\"}\r\n\r\n\t\r\n{\"a\": \"x, \\\"y\\\"\"}\n \n")
      << jsonl << 2;
  QTest::newRow("jsonl last line unterminated")
      << "c.jsonl" << raw("{\"a\": 1}\n  {\"b\": false}") << jsonl << 2;
  QTest::newRow("csv quoted commas, quotes, newlines")
      << "a.csv"
      << raw("text,label\n\"one, two\",pos\n\"He said \"\"hi\"\"\",neg\n\"line1\nline2\",x\n"
             "last,\"\"\n")
      << csv << 4;
  QTest::newRow("csv crlf inside and outside quotes")
      << "b.csv" << raw("text,label\r\n\"a\r\nb\",x\r\n\r\nc,y\r\n") << csv << 2;
  QTest::newRow("csv bom, blank lines, no final newline after a quoted field")
      << "c.csv" << raw("\xEF\xBB\xBFtext,label\n\n  \nh\xC3\xA9llo,pos\n\n3,\"4\"") << csv << 2;
  QTest::newRow("csv unnamed column, trimmed names, spaces before a quote")
      << "d.csv" << raw(",text , label\n0,x, \"y\"\n1,,\n") << csv << 2;
  QTest::newRow("csv lone cr line ends") << "e.csv" << raw("a,b\r1,2\r\r3,\"4\r5\"\r") << csv << 2;
  QTest::newRow("csv quoted empty single field is a row")
      << "f.csv" << raw("a\n\"\"\n\n\"x\"\n") << csv << 2;
  QTest::newRow("tsv by extension")
      << "g.tsv" << raw("a\tb\n1,5\t\"2\t3\"\n\n  \n\t\n") << csv << 2;
  QTest::newRow("text blank lines, crlf, no final newline")
      << "a.txt" << raw("first line\n\n   \nsecond, line\r\n\t\nthird") << txt << 3;
  QTest::newRow("text bom and trailing blanks")
      << "b.txt" << raw("\xEF\xBB\xBF  indented \n\n\n") << txt << 1;
  QTest::newRow("json array") << "a.json"
                              << raw("[\n  {\"text\": \"first\", \"label\": \"a\"},\n"
                                     "  {\"label\": \"b\", \"text\": \"second\", \"score\": 1.5},\n"
                                     "  {\"text\": \"third\", \"label\": null}\n]\n")
                              << json << 3;
}

void TstRowCursor::agreesWithReadTable() {
  QFETCH(QString, name);
  QFETCH(QByteArray, bytes);
  QFETCH(DataFormat, format);
  QFETCH(int, rows);
  const std::string path = write(name, bytes);
  const Table table = deeptune::read_table(path, format);
  QCOMPARE(int(table.rows.size()), rows);

  // One row per call exercises the lookahead between calls; a large step reads in one go.
  for (const size_t step : {size_t{1}, size_t{1000}}) {
    RowCursor cursor(path, format);
    QCOMPARE(cursor.path(), path);
    QCOMPARE(cursor.format(), format);
    QCOMPARE(cursor.file_size(), uint64_t(bytes.size()));
    QCOMPARE(to_list(cursor.columns()), to_list(table.columns));
    QCOMPARE(cursor.indexed_rows(), size_t{0});
    QVERIFY(!cursor.at_end());
    index_all(cursor, step);
    QCOMPARE(rows_of(cursor), rows_of(table));
  }
}

// Rows that straddle the 1 MiB read buffer at every byte: the scanner's state (inside quotes,
// after a quote, after a CR, inside leading blanks) must carry over from one buffer to the next.
void TstRowCursor::agreesAcrossReadBuffer_data() {
  QTest::addColumn<QString>("name");
  QTest::addColumn<DataFormat>("format");
  QTest::addColumn<QByteArray>("header");
  QTest::addColumn<QByteArray>("filler");  // one row; repeated up to the buffer edge
  QTest::addColumn<QByteArray>("tricky");  // placed so that the edge falls on each of its bytes

  // Long filler rows keep the row count (and the comparison) small.
  const QByteArray cell(4000, 'f');
  QTest::newRow("csv") << "edge.csv" << DataFormat::kCsv << raw("a,b\n") << cell + ",1\n"
                       << raw("\"q,\"\"x\"\"\r\nz\",2\r\n\r\n  \n\"\",\"\r\"\rend,\"\n\"\n");
  QTest::newRow("jsonl") << "edge.jsonl" << DataFormat::kJsonl << QByteArray()
                         << "{\"a\": \"" + cell + "\"}\n"
                         << raw("  \r\n\n{\"a\": 1}\r\n \t {\"a\": \"b\"}\n\n{\"a\": null}\n");
  QTest::newRow("text") << "edge.txt" << DataFormat::kText << QByteArray() << cell + "\n"
                        << raw("x\r\n   \n\n  y z \r\n\t\nlast");
}

void TstRowCursor::agreesAcrossReadBuffer() {
  QFETCH(QString, name);
  QFETCH(DataFormat, format);
  QFETCH(QByteArray, header);
  QFETCH(QByteArray, filler);
  QFETCH(QByteArray, tricky);
  for (qsizetype shift = 0; shift <= tricky.size(); ++shift) {
    const qsizetype target = kReadBuffer - shift;  // where the tricky part starts
    QByteArray bytes = header;
    while (bytes.size() + filler.size() <= target) bytes += filler;
    // Widen the last filler row (inside its first cell) to end exactly at the target.
    QByteArray last = filler;
    last.insert(format == DataFormat::kJsonl ? 7 : 1, QByteArray(target - bytes.size(), 'p'));
    bytes.chop(filler.size());
    bytes += last;
    QCOMPARE(bytes.size(), target);
    bytes += tricky;
    const std::string path = write(QString::number(shift) + name, bytes);
    const Table table = deeptune::read_table(path, format);
    RowCursor cursor(path, format);
    index_all(cursor, 7);
    if (QTest::currentTestFailed()) return;
    QCOMPARE(rows_of(cursor), rows_of(table));
  }
}

// Random files built from the pieces that matter to RFC 4180 (quotes, escaped quotes, CR, LF,
// blank lines, wrong widths) with stray characters mixed in: wherever read_table accepts the file
// the cursor gives the same rows, and wherever it refuses, the cursor shows that message on a row.
void TstRowCursor::randomCsvAgreesWithReadTable() {
  const char* fields[] = {"a",          "",         " ",          "b c",  "\"a,b\"",
                          "\"x\"\"y\"", "\"l\nm\"", "\"c\r\nd\"", "\"\"", "\"e\rf\""};
  const char* ends[] = {"\n", "\r\n", "\r", "\n\n", "\n  \n", "\r\n\r\n"};
  const char* strays[] = {"\"", "\"\"", ",", "\n", "\r", " ", "a"};
  const auto pick = [](QRandomGenerator& random, const auto& list) {
    return list[random.bounded(int(std::size(list)))];
  };
  QRandomGenerator random(20240613);
  int accepted = 0, refused = 0;
  for (int round = 0; round < 3000; ++round) {
    QByteArray bytes = "x,y\n";
    const auto maybe_stray = [&] {
      if (random.bounded(12) == 0) bytes += pick(random, strays);
    };
    for (int record = random.bounded(7); record > 0; --record) {
      const int width = random.bounded(10) < 8 ? 2 : 1 + 2 * random.bounded(2);
      for (int f = 0; f < width; ++f) {
        if (f > 0) bytes += ',';
        maybe_stray();
        bytes += pick(random, fields);
        maybe_stray();
      }
      if (record > 1 || random.bounded(2) == 0) bytes += pick(random, ends);
    }
    // A new name each round: rewriting one file makes ext4 flush it to disk on every close.
    const std::string path = write(QString("fuzz-%1.csv").arg(round), bytes);
    const QString context =
        QString("round %1: %2").arg(round).arg(QString::fromLatin1(bytes.toPercentEncoding()));

    RowCursor cursor(path, DataFormat::kCsv);
    index_all(cursor, 3);
    if (QTest::currentTestFailed()) return;  // one report, not one per round
    const QStringList rows = rows_of(cursor);
    std::optional<Table> table;
    const auto error =
        input_error_of([&] { table = deeptune::read_table(path, DataFormat::kCsv); });
    if (table) {
      ++accepted;
      QVERIFY2(rows == rows_of(*table), qPrintable(context + "\ncursor: " + rows.join("\n")));
    } else if (error->message().rfind("no data rows", 0) == 0) {
      ++refused;
      QVERIFY2(rows.isEmpty(), qPrintable(context));
    } else {
      ++refused;
      const QString expected = " ERROR " + q(error->what());
      QVERIFY2(std::any_of(rows.begin(), rows.end(),
                           [&](const QString& row) { return row.endsWith(expected); }),
               qPrintable(context + "\nread_table: " + q(error->what()) +
                          "\ncursor: " + rows.join("\n")));
    }
  }
  // Both branches must have been taken often for the comparison to mean anything.
  const QString counts = QString("accepted %1, refused %2").arg(accepted).arg(refused);
  QVERIFY2(accepted > 500 && refused > 500, qPrintable(counts));
}

// --- malformed rows ----------------------------------------------------------------------------

void TstRowCursor::badRowsMatchReadTable_data() {
  QTest::addColumn<QString>("name");
  QTest::addColumn<QByteArray>("bytes");
  QTest::addColumn<DataFormat>("format");
  QTest::addColumn<int>("bad");       // index of the malformed row
  QTest::addColumn<int>("line");      // its line
  QTest::addColumn<QString>("text");  // a fragment of its message
  QTest::addColumn<int>("rows");      // rows in all

  const DataFormat jsonl = DataFormat::kJsonl, csv = DataFormat::kCsv, txt = DataFormat::kText;
  QTest::newRow("jsonl bad json") << "bad.jsonl" << raw("{\"a\": 1}\n\n{\"a\": 2,}\n{\"a\": 3}\n")
                                  << jsonl << 1 << 3 << "invalid JSON at column" << 3;
  QTest::newRow("jsonl array line") << "arr.jsonl" << raw("{\"a\":1}\n[1,2]\n{\"a\":3}\n") << jsonl
                                    << 1 << 2 << "expected a JSON object, found an array" << 3;
  QTest::newRow("jsonl nested value")
      << "nest.jsonl" << raw("{\"a\":1}\n{\"a\":{\"b\":2}}\n{\"a\":3}\n") << jsonl << 1 << 2
      << "'a' is an object" << 3;
  QTest::newRow("jsonl nested value under a key beyond the columns")
      << "nest2.jsonl" << raw("{\"a\":1}\n{\"a\":2,\"z\":[1]}\n") << jsonl << 1 << 2
      << "'z' is an array" << 2;
  QTest::newRow("jsonl latin-1") << "latin1.jsonl"
                                 << raw("{\"t\":\"ok\"}\n{\"t\":\"na\xEFve\"}\n{\"t\":\"x\"}\n")
                                 << jsonl << 1 << 2 << "invalid UTF-8 at column 9" << 3;
  QTest::newRow("jsonl cut at the end") << "cut.jsonl" << raw("{\"a\": 1}\n{\"a\": 2, \"b\": \"cu")
                                        << jsonl << 1 << 2 << "is the file truncated?" << 2;
  QTest::newRow("csv short row") << "short.csv" << raw("a,b\n1,2\n3\n4,5\n") << csv << 1 << 3
                                 << "row has 1 fields but the header has 2" << 3;
  QTest::newRow("csv long row after a multi-line field")
      << "long.csv" << raw("a,b\n\"x\ny\",2\n3,4,5\n6,7\n") << csv << 1 << 4
      << "row has 3 fields but the header has 2" << 3;
  QTest::newRow("csv text after the closing quote")
      << "after.csv" << raw("a,b\n1,2\n\"x\"y,2\n3,4\n") << csv << 1 << 3
      << "after the closing quote of field 1" << 3;
  QTest::newRow("csv unterminated quote")
      << "cut.csv" << raw("text,label\nok,pos\n\"never closed,neg\nmore\n") << csv << 1 << 3
      << "unterminated quoted field starting at line 3" << 2;
  QTest::newRow("csv latin-1") << "latin1.csv" << raw("text,label\ncaf\xE9 au lait,pos\nx,y\n")
                               << csv << 0 << 2 << "invalid UTF-8 at column 4 (byte 0xE9" << 2;
  QTest::newRow("text sequence cut by the line end")
      << "cut.txt" << raw("fine\nend \xE2\x82\nafter\n") << txt << 1 << 2
      << "an incomplete multi-byte sequence" << 3;
  QTest::newRow("text sequence cut by the end of the file")
      << "end.txt" << raw("ok\nend \xE2\x82") << txt << 1 << 2 << "cut off at the end" << 2;
  QTest::newRow("csv last row cut inside its last field")
      << "cutlabel.csv" << raw("text,label\nok,pos\n\"a, b\",ne") << csv << 1 << 3
      << "the file ends inside this row" << 2;
  QTest::newRow("csv last row cut before its last field, blank tail")
      << "cutrow.csv" << raw("text,label\nok,pos\nmore text\n") << csv << 1 << 3
      << "row has 1 fields but the header has 2" << 2;
  QTest::newRow("csv nul byte") << "nul.csv" << raw("text,label\nx\0y,b\nok,a\n") << csv << 0 << 2
                                << "a NUL byte at column 2" << 2;
  QTest::newRow("jsonl nul escape") << "nul.jsonl" << raw("{\"t\": \"x\"}\n{\"t\": \"\\u0000\"}\n")
                                    << jsonl << 1 << 2 << "contains a NUL character" << 2;
  QTest::newRow("jsonl number out of range")
      << "big.jsonl" << raw("{\"t\": 1}\n{\"t\": 1E+999}\n{\"t\": 3}\n") << jsonl << 1 << 2
      << "the number 1E+999 is out of range" << 3;
  QTest::newRow("jsonl nested 100000 deep")
      << "deep.jsonl"
      << "{\"t\": 1}\n{\"t\": " + QByteArray(100000, '[') + QByteArray(100000, ']') +
             ", \"u\": 2}\n"
      << jsonl << 1 << 2 << "nested deeper than 512 levels" << 2;
}

void TstRowCursor::badRowsMatchReadTable() {
  QFETCH(QString, name);
  QFETCH(QByteArray, bytes);
  QFETCH(DataFormat, format);
  QFETCH(int, bad);
  QFETCH(int, line);
  QFETCH(QString, text);
  QFETCH(int, rows);
  const std::string path = write(name, bytes);
  const auto expected = input_error_of([&] { deeptune::read_table(path, format); });
  QVERIFY2(expected, "read_table should refuse the file");

  RowCursor cursor(path, format);
  index_all(cursor, 1000);
  QCOMPARE(int(cursor.indexed_rows()), rows);
  for (int r = 0; r < rows; ++r) {
    const RowCursor::Row row = cursor.row(size_t(r));
    QCOMPARE(row.cells.size(), cursor.columns().size());
    if (r != bad) {
      QVERIFY2(row.error.empty(), row.error.c_str());
      QVERIFY(!row.cells[0].empty());
      continue;
    }
    QCOMPARE(int(row.source_line), line);
    QCOMPARE(q(row.error), q(expected->what()));
    QVERIFY2(q(row.error).startsWith(q(path) + ":" + QString::number(line) + ": "),
             row.error.c_str());
    QVERIFY2(q(row.error).contains(text), row.error.c_str());
    for (const std::string& cell : row.cells) QVERIFY(cell.empty());
  }
}

// --- opening -----------------------------------------------------------------------------------

void TstRowCursor::openErrors_data() {
  QTest::addColumn<QString>("name");
  QTest::addColumn<QByteArray>("bytes");  // null: no file at all
  QTest::addColumn<DataFormat>("format");
  QTest::addColumn<QString>("at");  // what follows the path in where()
  QTest::addColumn<QString>("message");

  const DataFormat jsonl = DataFormat::kJsonl, json = DataFormat::kJson, csv = DataFormat::kCsv,
                   txt = DataFormat::kText;
  QTest::newRow("missing jsonl") << "none.jsonl" << QByteArray() << jsonl << ""
                                 << "does not exist";
  QTest::newRow("missing csv") << "none.csv" << QByteArray() << csv << ""
                               << "does not exist";
  QTest::newRow("missing json") << "none.json" << QByteArray() << json << ""
                                << "does not exist";
  QTest::newRow("empty jsonl") << "empty.jsonl" << QByteArray("") << jsonl << ""
                               << "the file is empty";
  QTest::newRow("empty csv") << "empty.csv" << QByteArray("") << csv << ""
                             << "the file is empty";
  QTest::newRow("empty txt") << "empty.txt" << QByteArray("") << txt << ""
                             << "the file is empty";
  QTest::newRow("utf-16le bom") << "u16le.txt" << raw("\xFF\xFEh\0i\0\n\0") << txt << ""
                                << "UTF-16";
  QTest::newRow("utf-16be bom") << "u16be.csv" << raw("\xFE\xFF\0a\0,\0b\0\n") << csv << ""
                                << "save it as UTF-8";
  QTest::newRow("utf-16 without bom") << "u16.jsonl" << raw("{\0}\0\n\0") << jsonl << ""
                                      << "UTF-16";
  QTest::newRow("utf-16 json") << "u16.json" << raw("\xFF\xFE[\0]\0") << json << ""
                               << "UTF-16";
  QTest::newRow("only blank lines csv") << "blank.csv" << raw("\xEF\xBB\xBF\n \n") << csv << ""
                                        << "no header row";
  QTest::newRow("duplicate csv header") << "dup.csv" << raw("\n\na,a\n1,2\n") << csv << ":3"
                                        << "duplicate column name 'a'";
  QTest::newRow("latin-1 csv header") << "h.csv" << raw("caf\xE9,b\n1,2\n") << csv << ":1"
                                      << "invalid UTF-8";
  QTest::newRow("unterminated csv header") << "hq.csv" << raw("\"a,b\n1,2\n") << csv << ":1"
                                           << "unterminated quoted field";
  QTest::newRow("json not an array") << "obj.json" << raw("{\"a\":1}") << json << ""
                                     << "array of objects";
}

void TstRowCursor::openErrors() {
  QFETCH(QString, name);
  QFETCH(QByteArray, bytes);
  QFETCH(DataFormat, format);
  QFETCH(QString, at);
  QFETCH(QString, message);
  const std::string path = bytes.isNull() ? m_dir.filePath(name).toStdString() : write(name, bytes);
  const auto error = input_error_of([&] { RowCursor cursor(path, format); });
  QVERIFY2(error, "expected deeptune::InputError");
  QCOMPARE(q(error->where()), q(path) + at);
  QVERIFY2(q(error->what()).contains(name), error->what());
  QVERIFY2(q(error->message()).contains(message), error->what());
}

// A FIFO or a folder is refused before it is opened (a FIFO would block the preview forever).
void TstRowCursor::openRefusesNonRegularFiles() {
  const std::string fifo = m_dir.filePath("pipe.csv").toStdString();
  QCOMPARE(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string folder = m_dir.filePath("folder.jsonl").toStdString();
  QVERIFY(QDir().mkpath(q(folder)));
  for (const DataFormat format : {DataFormat::kCsv, DataFormat::kJson, DataFormat::kJsonl}) {
    for (const auto& [path, kind] : {std::pair{fifo, "FIFO"}, std::pair{folder, "folder"}}) {
      const auto result =
          deeptune::test::call_guarded(fifo, [&, p = path] { RowCursor cursor(p, format); });
      const QString context = QString("%1 as %2").arg(kind, q(deeptune::to_string(format)));
      QVERIFY2(!result.blocked, qPrintable(context + ": blocked opening the FIFO"));
      QVERIFY2(result.input_error, qPrintable(context + ": no InputError"));
      QCOMPARE(result.input_error->where(), path);
      QVERIFY2(q(result.input_error->what()).contains(kind), result.input_error->what());
    }
  }
}

void TstRowCursor::jsonlNoColumns_data() {
  QTest::addColumn<QByteArray>("bytes");
  QTest::addColumn<QString>("at");
  QTest::addColumn<QString>("message");
  QTest::newRow("blank lines only") << raw("\n  \r\n\t\n") << ""
                                    << "no data rows";
  QTest::newRow("empty objects") << raw("{}\n\n{ }\n") << ""
                                 << "no columns";
  QTest::newRow("no object") << raw("\n[1]\n{\"a\":\n") << ":2"
                             << "expected a JSON object, found an array";
}

// Columns come from the sampled lines; with none to name, the file cannot be shown at all.
void TstRowCursor::jsonlNoColumns() {
  QFETCH(QByteArray, bytes);
  QFETCH(QString, at);
  QFETCH(QString, message);
  const std::string path = write("nocolumns.jsonl", bytes);
  const auto error = input_error_of([&] { RowCursor cursor(path, DataFormat::kJsonl); });
  QVERIFY2(error, "expected deeptune::InputError");
  QCOMPARE(q(error->where()), q(path) + at);
  QVERIFY2(q(error->message()).contains(message), error->what());
}

void TstRowCursor::csvHeaderOnly() {
  const std::string path = write("header.csv", raw("\n text,label\r\n\r\n"));
  RowCursor cursor(path, DataFormat::kCsv);
  QCOMPARE(to_list(cursor.columns()), QStringList({"text", "label"}));
  QVERIFY(cursor.at_end());
  QCOMPARE(cursor.indexed_rows(), size_t{0});
  QCOMPARE(cursor.index_more(10), size_t{0});
  QCOMPARE(cursor.progress(), 1.0);
}

// Keys are sampled from the first 1000 non-blank lines; later keys are not shown, and every row
// keeps the sampled width.
void TstRowCursor::jsonlColumnsFromFirstLines() {
  QByteArray bytes;
  for (int k = 0; k < 999; ++k) {
    bytes += "{\"id\": " + QByteArray::number(k) + "}\n";
    if (k == 500) bytes += "\n{\"id\": -1, \"extra\": \"e\"}\n";  // a blank line, a new key
  }
  bytes += "{\"late\": \"x\", \"id\": 7}\n";  // line 1002: the 1001st object
  const std::string path = write("sample.jsonl", bytes);
  RowCursor cursor(path, DataFormat::kJsonl);
  QCOMPARE(to_list(cursor.columns()), QStringList({"id", "extra"}));
  index_all(cursor, 400);
  QCOMPARE(cursor.indexed_rows(), size_t{1001});
  const RowCursor::Row extra = cursor.row(501);
  QCOMPARE(to_list(extra.cells), QStringList({"-1", "e"}));
  QCOMPARE(extra.source_line, size_t{503});
  const RowCursor::Row late = cursor.row(1000);
  QVERIFY(late.error.empty());
  QCOMPARE(to_list(late.cells), QStringList({"7", ""}));
  QCOMPARE(late.source_line, size_t{1002});
}

// A JSON array is read whole, but rows still arrive through index_more, like every other format.
void TstRowCursor::jsonRevealedInSteps() {
  const std::string path =
      write("steps.json", raw("[{\"t\": \"a\"}, {\"t\": \"b\", \"n\": 2}, {\"t\": \"c\"}]"));
  RowCursor cursor(path, DataFormat::kJson);
  QCOMPARE(to_list(cursor.columns()), QStringList({"t", "n"}));
  QCOMPARE(cursor.indexed_rows(), size_t{0});
  QCOMPARE(cursor.progress(), 0.0);
  QCOMPARE(cursor.index_more(2), size_t{2});
  QVERIFY(!cursor.at_end());
  QCOMPARE(to_list(cursor.row(1).cells), QStringList({"b", "2"}));
  QCOMPARE(cursor.row(1).source_line, size_t{2});
  QCOMPARE(cursor.index_more(5), size_t{1});
  QVERIFY(cursor.at_end());
  QCOMPARE(cursor.progress(), 1.0);
}

void TstRowCursor::rowOutOfRange() {
  const std::string path = write("range.txt", raw("a\nb\nc\n"));
  RowCursor cursor(path, DataFormat::kText);
  QVERIFY_THROWS_EXCEPTION(std::out_of_range, cursor.row(0));
  QCOMPARE(cursor.index_more(2), size_t{2});
  QCOMPARE(to_list(cursor.row(1).cells), QStringList({"b"}));
  QVERIFY_THROWS_EXCEPTION(std::out_of_range, cursor.row(2));
  cursor.index_more(1);
  QCOMPARE(to_list(cursor.row(2).cells), QStringList({"c"}));
  QVERIFY_THROWS_EXCEPTION(std::out_of_range, cursor.row(3));
}

// --- a large file ------------------------------------------------------------------------------

// 200k rows with a blank line every 1000 rows and one cut-off line in the middle: the first block
// is available after reading a sliver of the file, and every row reads back with its own line.
void TstRowCursor::largeJsonl() {
  constexpr int kRows = 200000;
  constexpr int kBroken = 100000;
  QByteArray bytes;
  bytes.reserve(kRows * 64);
  std::vector<int> lines;
  int line = 0;
  for (int k = 0; k < kRows; ++k) {
    if (k % 1000 == 999) {
      bytes += "\n";
      ++line;
    }
    const QByteArray id = QByteArray::number(k);
    if (k == kBroken)
      bytes += "{\"id\": " + id + ", \"text\": \"cut\n";
    else
      bytes += "{\"id\": " + id + ", \"text\": \"row " + id +
               "\", \"even\": " + (k % 2 == 0 ? "true" : "false") + ", \"note\": null}\n";
    lines.push_back(++line);
  }
  const std::string path = write("large.jsonl", bytes);

  RowCursor cursor(path, DataFormat::kJsonl);
  QCOMPARE(to_list(cursor.columns()), QStringList({"id", "text", "even", "note"}));
  QCOMPARE(cursor.file_size(), uint64_t(bytes.size()));
  QCOMPARE(cursor.index_more(1000), size_t{1000});
  QCOMPARE(cursor.indexed_rows(), size_t{1000});
  QVERIFY(!cursor.at_end());
  QVERIFY2(cursor.progress() > 0.0 && cursor.progress() < 0.05,
           qPrintable(QString::number(cursor.progress())));
  QCOMPARE(to_list(cursor.row(999).cells), QStringList({"999", "row 999", "false", ""}));
  QCOMPARE(cursor.row(999).source_line, size_t(lines[999]));

  double last_progress = cursor.progress();
  while (!cursor.at_end()) {
    QVERIFY(cursor.index_more(25000) > 0);
    QVERIFY(cursor.progress() >= last_progress);
    last_progress = cursor.progress();
  }
  QCOMPARE(cursor.indexed_rows(), size_t{kRows});
  QCOMPARE(cursor.progress(), 1.0);

  const RowCursor::Row last = cursor.row(kRows - 1);
  QVERIFY(last.error.empty());
  QCOMPARE(to_list(last.cells), QStringList({"199999", "row 199999", "false", ""}));
  QCOMPARE(last.source_line, size_t(lines[kRows - 1]));
  QCOMPARE(last.source_line, size_t{kRows + 200});  // a blank line every 1000 rows

  const RowCursor::Row broken = cursor.row(kBroken);
  QCOMPARE(broken.source_line, size_t(lines[kBroken]));
  const QString at = q(path) + ":" + QString::number(lines[kBroken]) + ": ";
  QVERIFY2(q(broken.error).startsWith(at), broken.error.c_str());
  QVERIFY2(q(broken.error).contains("is the file truncated?"), broken.error.c_str());
  QCOMPARE(to_list(broken.cells), QStringList({"", "", "", ""}));

  // Rows on both sides of the broken one, and a scattered sample, read back in any order.
  for (const int k : {kBroken + 1, kBroken - 1, 0, 123457, kBroken + 256, 77, 199744}) {
    const RowCursor::Row row = cursor.row(size_t(k));
    QVERIFY2(row.error.empty(), row.error.c_str());
    QCOMPARE(row.cells[0], std::to_string(k));
    QCOMPARE(row.cells[1], "row " + std::to_string(k));
    QCOMPARE(row.source_line, size_t(lines[size_t(k)]));
  }
}

QTEST_GUILESS_MAIN(TstRowCursor)
#include "tst_row_cursor.moc"
