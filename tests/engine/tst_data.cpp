// Engine datasets: readers (good and malformed files), encoding checks, field mapping, split,
// statistics and SHA-256. Every input file is written byte by byte into a temporary folder.
#include <sys/stat.h>

#include <QFileInfo>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <functional>
#include <optional>

#include "data/sha256_paths.h"
#include "deeptune/data.h"
#include "deeptune/error.h"
#include "deeptune/text.h"
#include "deeptune/tokenizer.h"
#include "hostile/guards.h"
#include "tokenize/chat_template.h"

using deeptune::DataFormat;
using deeptune::Example;
using deeptune::FieldMapping;
using deeptune::InputError;
using deeptune::MappingKind;
using deeptune::Split;
using deeptune::Table;

Q_DECLARE_METATYPE(deeptune::DataFormat)

namespace {

// Keeps embedded zero bytes, which a plain const char* constructor would stop at.
template <size_t N>
QByteArray raw(const char (&s)[N]) {
  return QByteArray(s, static_cast<qsizetype>(N - 1));
}

template <typename F>
std::optional<InputError> input_error_from(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e;
  }
  return std::nullopt;
}

QStringList to_list(const std::vector<std::string>& items) {
  QStringList out;
  for (const std::string& item : items) out << QString::fromStdString(item);
  return out;
}

// One string per row, cells joined by '|', so a whole table compares in one QCOMPARE.
QStringList rows_of(const Table& table) {
  QStringList out;
  for (const auto& row : table.rows) out << to_list(row).join('|');
  return out;
}

QList<int> lines_of(const Table& table) {
  QList<int> out;
  for (size_t line : table.source_lines) out << static_cast<int>(line);
  return out;
}

QList<int> to_ints(const std::vector<size_t>& v) {
  QList<int> out;
  for (size_t x : v) out << static_cast<int>(x);
  return out;
}

Example text_example(const std::string& text, const std::string& label = "") {
  Example e;
  e.text = text;
  e.label = label;
  return e;
}

}  // namespace

class TstData : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();

  void formatNames();
  void detectFormat_data();
  void detectFormat();
  void detectFormatMissingFile();

  void readJsonl();
  void readJson();
  void readCsv_data();
  void readCsv();
  void readText();
  void readMalformed_data();
  void readMalformed();
  void readMissingFile();
  void readRefusesNonRegularFiles();
  void utf8AndPositions();

  void mappingKind_data();
  void mappingKind();
  void mappingJson();
  void mappingFromJsonRejects();
  void guessMapping_data();
  void guessMapping();
  void guessMappingNoColumns();

  void mapPromptResponse();
  void mapTextLabel();
  void mapMissingColumn();
  void mapEmptyField();
  void mapEmptyFieldJsonItem();

  void splitSizes_data();
  void splitSizes();
  void splitDeterministic();
  void splitPinned();
  void splitRejectsFraction_data();
  void splitRejectsFraction();

  void tokenCounts_data();
  void tokenCounts();
  void statsTextLabel();
  void statsBinsAndEmptyValidation();
  void statsEqualLengths();
  void statsOppositeHalves();
  void statsToJson();
  void statsRejectsBadSplit();

  void chatFamilyDetected_data();
  void chatFamilyDetected();
  void chatDefaultSystemMessage();
  void chatRender_data();
  void chatRender();
  void chatResolve();
  void chatMaskPositions();
  void chatBosNotDoubled();
  void chatWithHfTokenizers_data();
  void chatWithHfTokenizers();
  void mapMessages();
  void mapMessagesMalformed_data();
  void mapMessagesMalformed();
  void statsMessages();

  void sha256Bytes_data();
  void sha256Bytes();
  void sha256File();
  void sha256MissingFile();

 private:
  std::string write(const QString& name, const QByteArray& bytes);

  QTemporaryDir m_dir;
};

std::string TstData::write(const QString& name, const QByteArray& bytes) {
  const QString path = m_dir.filePath(name);
  QFile file(path);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) qFatal("cannot write test file");
  file.write(bytes);
  return path.toStdString();
}

void TstData::initTestCase() {
  QVERIFY(m_dir.isValid());
}

// --- formats -----------------------------------------------------------------------------------

void TstData::formatNames() {
  const std::vector<std::pair<DataFormat, std::string>> names = {{DataFormat::kJsonl, "jsonl"},
                                                                 {DataFormat::kJson, "json"},
                                                                 {DataFormat::kCsv, "csv"},
                                                                 {DataFormat::kText, "txt"}};
  for (const auto& [format, name] : names) {
    QCOMPARE(deeptune::to_string(format), name);
    QCOMPARE(deeptune::data_format_from_string(name), format);
  }
  const auto error = input_error_from([] { deeptune::data_format_from_string("xml"); });
  QVERIFY(error);
  QCOMPARE(error->where(), std::string("data format"));
  QVERIFY(error->message().find("'xml'") != std::string::npos);
}

void TstData::detectFormat_data() {
  QTest::addColumn<QString>("name");
  QTest::addColumn<QByteArray>("bytes");
  QTest::addColumn<DataFormat>("expected");

  // The extension wins, whatever the content.
  QTest::newRow("jsonl") << "a.jsonl" << raw("plain") << DataFormat::kJsonl;
  QTest::newRow("ndjson upper") << "a.NDJSON" << raw("plain") << DataFormat::kJsonl;
  QTest::newRow("json") << "b.json" << raw("{}") << DataFormat::kJson;
  QTest::newRow("csv") << "c.csv" << raw("{}") << DataFormat::kCsv;
  QTest::newRow("tsv") << "d.TSV" << raw("a\tb") << DataFormat::kCsv;
  QTest::newRow("txt") << "e.txt" << raw("[1]") << DataFormat::kText;
  QTest::newRow("md") << "f.md" << raw("# t") << DataFormat::kText;
  QTest::newRow("text") << "g.text" << raw("x,y\n1,2\n") << DataFormat::kText;
  // Otherwise the first bytes decide.
  QTest::newRow("sniff object") << "s1.dat" << raw("\n  {\"a\": 1}\n") << DataFormat::kJsonl;
  QTest::newRow("sniff array") << "s2" << raw("[{\"a\": 1}]") << DataFormat::kJson;
  QTest::newRow("sniff csv with bom")
      << "s3.data" << raw("\xEF\xBB\xBFprompt,response\nhi,there\n") << DataFormat::kCsv;
  QTest::newRow("sniff csv quoted")
      << "s4.dat" << raw("id,\"text\"\n1,\"a, b\"\n") << DataFormat::kCsv;
  QTest::newRow("sniff prose with comma")
      << "s5.log" << raw("Hello, world. It is prose.\nMore.\n") << DataFormat::kText;
  QTest::newRow("sniff words") << "s6.dat" << raw("just words\n") << DataFormat::kText;
  QTest::newRow("sniff csv-like header, fewer commas below")
      << "s7.dat" << raw("one, two, three\nfour\n") << DataFormat::kText;
}

void TstData::detectFormat() {
  QFETCH(QString, name);
  QFETCH(QByteArray, bytes);
  QFETCH(DataFormat, expected);
  QCOMPARE(deeptune::detect_format(write(name, bytes)), expected);
}

void TstData::detectFormatMissingFile() {
  const std::string path = m_dir.filePath("missing.jsonl").toStdString();
  const auto error = input_error_from([&] { deeptune::detect_format(path); });
  QVERIFY(error);
  QCOMPARE(error->where(), path);
}

// --- readers: good files -----------------------------------------------------------------------

void TstData::readJsonl() {
  const std::string path =
      write("good.jsonl", raw("{\"prompt\": \"hi\", \"response\": \"there\", \"n\": 7}\n"
                              "\n"
                              "   \n"
                              "{\"response\": \"yes\", \"prompt\": \"ok?\", \"flag\": true, "
                              "\"x\": null, \"f\": 0.5}\n"
                              "{\"prompt\": \"caf\\u00e9 \xE2\x98\x95\", \"n\": -3}\r\n"));
  const Table table = deeptune::read_table(path, DataFormat::kJsonl);
  QCOMPARE(to_list(table.columns), QStringList({"prompt", "response", "n", "flag", "x", "f"}));
  QCOMPARE(rows_of(table), QStringList({"hi|there|7|||", "ok?|yes||true||0.5",
                                        QString::fromUtf8("café ☕||-3|||")}));
  QCOMPARE(lines_of(table), QList<int>({1, 4, 5}));
  QVERIFY(!table.source_lines_are_items);
}

void TstData::readJson() {
  const std::string path =
      write("good.json", raw("[\n"
                             "  {\"text\": \"first\", \"label\": \"a\"},\n"
                             "  {\"label\": \"b\", \"text\": \"second\", \"score\": 1.5},\n"
                             "  {\"text\": \"third\", \"label\": null}\n"
                             "]\n"));
  const Table table = deeptune::read_table(path, DataFormat::kJson);
  QCOMPARE(to_list(table.columns), QStringList({"text", "label", "score"}));
  QCOMPARE(rows_of(table), QStringList({"first|a|", "second|b|1.5", "third||"}));
  QCOMPARE(lines_of(table), QList<int>({1, 2, 3}));  // array items, not file lines
  QVERIFY(table.source_lines_are_items);
}

void TstData::readCsv_data() {
  QTest::addColumn<QString>("name");
  QTest::addColumn<QByteArray>("bytes");
  QTest::addColumn<QStringList>("columns");
  QTest::addColumn<QStringList>("rows");
  QTest::addColumn<QList<int>>("lines");

  QTest::newRow("plain") << "a.csv" << raw("a,b\n1,2\n3,4\n") << QStringList{"a", "b"}
                         << QStringList{"1|2", "3|4"} << QList<int>{2, 3};
  QTest::newRow("quotes and escaped quotes")
      << "b.csv" << raw("name,quote\nx,\"He said \"\"hi\"\"\"\n\"y\",\"\"\n")
      << QStringList{"name", "quote"} << QStringList{"x|He said \"hi\"", "y|"} << QList<int>{2, 3};
  QTest::newRow("embedded newline and comma")
      << "c.csv" << raw("text,label\n\"one, two\",pos\n\"line1\nline2\",neg\nlast,pos\n")
      << QStringList{"text", "label"} << QStringList{"one, two|pos", "line1\nline2|neg", "last|pos"}
      << QList<int>{2, 3, 5};
  QTest::newRow("crlf, newline in quotes normalised")
      << "d.csv" << raw("text,label\r\n\"a\r\nb\",x\r\nc,y\r\n") << QStringList{"text", "label"}
      << QStringList{"a\nb|x", "c|y"} << QList<int>{2, 4};
  QTest::newRow("utf-8 bom stripped")
      << "e.csv" << raw("\xEF\xBB\xBFtext,label\nh\xC3\xA9llo,pos\n")
      << QStringList{"text", "label"} << QStringList{QString::fromUtf8("héllo|pos")}
      << QList<int>{2};
  // Without a final line break the last row is whole only when its last field's closing quote
  // shows it (else it may be cut off: see readMalformed).
  QTest::newRow("blank lines, no final newline after a quoted field")
      << "f.csv" << raw("a,b\n\n1,2\n\n3,\"4\"") << QStringList{"a", "b"}
      << QStringList{"1|2", "3|4"} << QList<int>{3, 5};
  QTest::newRow("unnamed index column, empty last field")
      << "g.csv" << raw(",text\n0,x\n1,\n") << QStringList{"column_1", "text"}
      << QStringList{"0|x", "1|"} << QList<int>{2, 3};
  QTest::newRow("header names trimmed")
      << "h.csv" << raw("text , label\nx, y\n") << QStringList{"text", "label"}
      << QStringList{"x| y"} << QList<int>{2};
  QTest::newRow("tsv by extension")
      << "i.tsv" << raw("a\tb\n1,5\t\"2\t3\"\n") << QStringList{"a", "b"} << QStringList{"1,5|2\t3"}
      << QList<int>{2};
}

void TstData::readCsv() {
  QFETCH(QString, name);
  QFETCH(QByteArray, bytes);
  QFETCH(QStringList, columns);
  QFETCH(QStringList, rows);
  QFETCH(QList<int>, lines);
  const Table table = deeptune::read_table(write(name, bytes), DataFormat::kCsv);
  QCOMPARE(to_list(table.columns), columns);
  QCOMPARE(rows_of(table), rows);
  QCOMPARE(lines_of(table), lines);
}

void TstData::readText() {
  const std::string path = write("good.txt", raw("first line\n\n   \nsecond, line\r\nthird"));
  const Table table = deeptune::read_table(path, DataFormat::kText);
  QCOMPARE(to_list(table.columns), QStringList({"text"}));
  QCOMPARE(rows_of(table), QStringList({"first line", "second, line", "third"}));
  QCOMPARE(lines_of(table), QList<int>({1, 4, 5}));
}

// --- readers: malformed files ------------------------------------------------------------------

void TstData::readMalformed_data() {
  QTest::addColumn<QString>("name");
  QTest::addColumn<QByteArray>("bytes");
  QTest::addColumn<DataFormat>("format");
  QTest::addColumn<QString>("at");       // what follows the path in where()
  QTest::addColumn<QString>("message");  // a fragment of the message

  const DataFormat jsonl = DataFormat::kJsonl, json = DataFormat::kJson, csv = DataFormat::kCsv,
                   txt = DataFormat::kText;

  // Truncated files.
  QTest::newRow("jsonl cut mid-object")
      << "cut.jsonl" << raw("{\"a\": 1}\n{\"a\": 2, \"b\": \"cu") << jsonl << ":2"
      << "is the file truncated?";
  QTest::newRow("json cut mid-array")
      << "cut.json" << raw("[\n {\"a\": 1},\n {\"a\": 2\n") << json << ":3"
      << "is the file truncated?";
  QTest::newRow("csv cut inside quotes")
      << "cut.csv" << raw("text,label\nok,pos\n\"never closed,neg\nmore\n") << csv << ":3"
      << "unterminated quoted field starting at line 3";
  // Cut inside the last field: "neg" would otherwise become a new label "ne".
  QTest::newRow("csv cut inside the last field")
      << "cut2.csv" << raw("text,label\nok,pos\n\"a, b\",ne") << csv << ":3"
      << "the file ends inside this row";
  QTest::newRow("csv cut before the last field")
      << "cut3.csv" << raw("text,label\nok,pos\nmore text") << csv << ":3"
      << "row has 1 fields but the header has 2 (the file ends inside this row";
  QTest::newRow("csv cut after a row's line break is whole, then cut again")
      << "cut4.csv" << raw("text,label\r\nok,pos\r\nmore,") << csv << ":3"
      << "the file ends inside this row";

  // Wrong encoding.
  QTest::newRow("latin-1 csv") << "latin1.csv" << raw("text,label\ncaf\xE9 au lait,pos\n") << csv
                               << ":2"
                               << "invalid UTF-8 at column 4 (byte 0xE9";
  QTest::newRow("latin-1 jsonl") << "latin1.jsonl" << raw("{\"t\":\"ok\"}\n{\"t\":\"na\xEFve\"}\n")
                                 << jsonl << ":2"
                                 << "invalid UTF-8";
  QTest::newRow("latin-1 json") << "latin1.json" << raw("[\n{\"t\":\"\xE9\"}\n]") << json << ":2"
                                << "invalid UTF-8";
  QTest::newRow("latin-1 txt") << "latin1.txt" << raw("fine\nstill fine\nna\xEFve\n") << txt << ":3"
                               << "invalid UTF-8 at column 3";
  QTest::newRow("utf-16le bom") << "u16le.txt" << raw("\xFF\xFEh\0i\0\n\0") << txt << ""
                                << "UTF-16";
  QTest::newRow("utf-16be bom") << "u16be.csv" << raw("\xFE\xFF\0a\0,\0b\0\n") << csv << ""
                                << "save it as UTF-8";
  QTest::newRow("utf-16 without bom") << "u16.jsonl" << raw("{\0}\0\n\0") << jsonl << ""
                                      << "UTF-16";
  QTest::newRow("overlong 2-byte") << "o2.txt" << raw("ok\n\xC0\xAF\n") << txt << ":2"
                                   << "overlong";
  QTest::newRow("overlong 3-byte") << "o3.txt" << raw("\xE0\x80\xAF") << txt << ":1"
                                   << "overlong";
  QTest::newRow("surrogate") << "sur.txt" << raw("a\nb\nc\xED\xA0\x80\n") << txt << ":3"
                             << "surrogate";
  QTest::newRow("above U+10FFFF") << "max.txt" << raw("\xF4\x90\x80\x80") << txt << ":1"
                                  << "above U+10FFFF";
  QTest::newRow("truncated sequence at end") << "end.txt" << raw("ok\nend \xE2\x82") << txt << ":2"
                                             << "cut off at the end";
  QTest::newRow("lone continuation byte") << "cont.txt" << raw("x\x80") << txt << ":1"
                                          << "continuation byte";

  // NUL bytes, raw or escaped: no text field needs one.
  QTest::newRow("nul byte csv") << "nul.csv" << raw("text,label\nok,a\nx\0y,b\n") << csv << ":3"
                                << "a NUL byte at column 2";
  QTest::newRow("nul byte txt") << "nul.txt" << raw("one\ntwo\0\n") << txt << ":2"
                                << "a NUL byte at column 4";
  QTest::newRow("nul byte jsonl") << "nul.jsonl" << raw("{\"t\": \"a\0\"}\n") << jsonl << ":1"
                                  << "a NUL byte at column 9";
  QTest::newRow("nul escape jsonl value")
      << "nulesc.jsonl" << raw("{\"t\": \"ok\"}\n{\"t\": \"a\\u0000b\"}\n") << jsonl << ":2"
      << "the value of 't' contains a NUL character";
  QTest::newRow("nul escape json key")
      << "nulkey.json" << raw("[{\"t\\u0000\": \"x\"}]") << json << ": item 1"
      << "a key contains a NUL character";

  // Numbers out of range, and nesting deep enough to exhaust the stack of a recursive reader.
  QTest::newRow("jsonl number too large")
      << "big.jsonl" << raw("{\"t\": \"a\", \"n\": 1}\n{\"t\": \"b\", \"n\": 1e400}\n") << jsonl
      << ":2"
      << "the number 1e400 is out of range";
  QTest::newRow("json number too large, multi-line")
      << "big.json" << raw("[\n {\"n\": \"1e400\"},\n {\"n\": -2.5e999}\n]\n") << json << ":3"
      << "the number -2.5e999 is out of range (a double holds up to about 1.8e308) at column 8";
  // A key after the deep value: nlohmann's ordered_json copies the value when it grows the
  // object, recursing once per level (a stack overflow without the bound).
  QTest::newRow("jsonl nested 100000 deep")
      << "deep.jsonl"
      << "{\"t\": \"ok\"}\n{\"t\": " + QByteArray(100000, '[') + QByteArray(100000, ']') +
             ", \"u\": 1}\n"
      << jsonl << ":2"
      << "JSON nested deeper than 512 levels at column 518";
  QTest::newRow("json nested 100000 deep, cut off")
      << "deep.json"
      << "[\n" + QByteArray(100000, '[') << json << ":2"
      << "JSON nested deeper than 512 levels at column 512";

  // Empty files and files without rows.
  QTest::newRow("empty jsonl") << "empty.jsonl" << QByteArray() << jsonl << ""
                               << "empty";
  QTest::newRow("empty json") << "empty.json" << QByteArray() << json << ""
                              << "empty";
  QTest::newRow("empty csv") << "empty.csv" << QByteArray() << csv << ""
                             << "empty";
  QTest::newRow("empty txt") << "empty.txt" << QByteArray() << txt << ""
                             << "empty";
  QTest::newRow("blank jsonl") << "blank.jsonl" << raw("\n  \n") << jsonl << ""
                               << "no data rows";
  QTest::newRow("blank txt") << "blank.txt" << raw("\n \n\t\n") << txt << ""
                             << "no data rows";
  QTest::newRow("only a bom") << "bom.csv" << raw("\xEF\xBB\xBF") << csv << ""
                              << "no header row";
  QTest::newRow("empty json array") << "arr.json" << raw("[]") << json << ""
                                    << "no data rows";
  QTest::newRow("csv header only") << "head.csv" << raw("a,b\n") << csv << ""
                                   << "no data rows";

  // Structure.
  QTest::newRow("jsonl array line") << "arr.jsonl" << raw("{\"a\":1}\n[1,2]\n") << jsonl << ":2"
                                    << "expected a JSON object, found an array";
  QTest::newRow("jsonl scalar line") << "num.jsonl" << raw("{\"a\":1}\n\n42\n") << jsonl << ":3"
                                     << "found a number";
  QTest::newRow("jsonl nested object")
      << "nest.jsonl" << raw("{\"a\":1}\n{\"a\":{\"b\":2}}\n") << jsonl << ":2"
      << "'a' is an object";
  QTest::newRow("jsonl nested array") << "nest2.jsonl" << raw("{\"tags\":[1]}\n") << jsonl << ":1"
                                      << "'tags' is an array";
  QTest::newRow("json not an array") << "obj.json" << raw("{\"a\":1}") << json << ""
                                     << "array of objects";
  QTest::newRow("json item not object")
      << "item.json" << raw("[{\"a\":1}, 5]") << json << ": item 2"
      << "expected an object, found a number";
  QTest::newRow("json nested value")
      << "nest.json" << raw("[{\"a\":1},{\"a\":2},{\"a\":[1]}]") << json << ": item 3"
      << "'a' is an array";
  QTest::newRow("csv short row") << "short.csv" << raw("a,b\n1,2\n3\n") << csv << ":3"
                                 << "row has 1 fields but the header has 2";
  QTest::newRow("csv long row after multi-line field")
      << "long.csv" << raw("a,b\n\"x\ny\",2\n3,4,5\n") << csv << ":4"
      << "row has 3 fields but the header has 2";
  QTest::newRow("csv text after closing quote")
      << "after.csv" << raw("a,b\n\"x\"y,2\n") << csv << ":2"
      << "after the closing quote of field 1";
  QTest::newRow("csv duplicate header") << "dup.csv" << raw("a,a\n1,2\n") << csv << ":1"
                                        << "duplicate column name 'a'";
}

void TstData::readMalformed() {
  QFETCH(QString, name);
  QFETCH(QByteArray, bytes);
  QFETCH(DataFormat, format);
  QFETCH(QString, at);
  QFETCH(QString, message);
  const std::string path = write(name, bytes);
  // Any other exception type escapes and fails the test.
  const auto error = input_error_from([&] { deeptune::read_table(path, format); });
  QVERIFY2(error, "expected deeptune::InputError");
  QCOMPARE(QString::fromStdString(error->where()), QString::fromStdString(path) + at);
  const QString what = QString::fromUtf8(error->what());
  QVERIFY2(what.startsWith(QString::fromStdString(path) + at + ": "), qPrintable(what));
  QVERIFY2(what.contains(name), qPrintable(what));
  QVERIFY2(what.contains(message), qPrintable(what));
}

void TstData::readMissingFile() {
  const std::string path = m_dir.filePath("nowhere.csv").toStdString();
  const auto error = input_error_from([&] { deeptune::read_table(path, DataFormat::kCsv); });
  QVERIFY(error);
  QCOMPARE(error->where(), path);
  QCOMPARE(error->message(), std::string("does not exist"));
}

// A FIFO or a folder given as a dataset is refused before it is opened: opening a FIFO blocks
// until a writer appears, which for a user's mistyped path is forever.
void TstData::readRefusesNonRegularFiles() {
  const std::string fifo = m_dir.filePath("pipe.jsonl").toStdString();
  QCOMPARE(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string folder = m_dir.filePath("folder.csv").toStdString();
  QVERIFY(QDir().mkpath(QString::fromStdString(folder)));
  const std::vector<std::pair<const char*, std::function<void(const std::string&)>>> calls = {
      {"read_table", [](const std::string& p) { deeptune::read_table(p, DataFormat::kJsonl); }},
      {"detect_format", [](const std::string& p) { deeptune::detect_format(p); }},
      {"sha256_file", [](const std::string& p) { deeptune::sha256_file(p); }}};
  for (const auto& [name, call] : calls) {
    for (const auto& [path, kind] : {std::pair{fifo, "FIFO"}, std::pair{folder, "folder"}}) {
      const auto result = deeptune::test::call_guarded(fifo, [&] { call(path); });
      const QString context = QString("%1 on a %2").arg(name, kind);
      QVERIFY2(!result.blocked, qPrintable(context + " blocked opening the FIFO"));
      QVERIFY2(result.input_error, qPrintable(context + " did not throw InputError"));
      QCOMPARE(result.input_error->where(), path);
      QVERIFY2(QString(result.input_error->what()).contains(kind), result.input_error->what());
    }
  }
}

// The one UTF-8 validator (deeptune/text.h) reports where the offence starts, and byte offsets
// become the line and column that messages name.
void TstData::utf8AndPositions() {
  QVERIFY(deeptune::is_valid_utf8("plain, caf\xC3\xA9 \xE2\x98\x95 \xF0\x9F\x98\x80"));
  QVERIFY(deeptune::is_valid_utf8(""));
  const auto bad = deeptune::find_invalid_utf8(
      "ab\xE2\x98\x95"
      "c\xED\xA0\x80");
  QVERIFY(bad);
  QCOMPARE(bad->offset, size_t{6});
  QCOMPARE(QString(bad->reason), QString("an encoded UTF-16 surrogate"));
  QCOMPARE(deeptune::find_invalid_utf8("x\xF0\x9F\x98")->offset, size_t{1});

  const std::string text = "ab\ncd\r\n\nefg";
  const auto at = [&](size_t offset, size_t first_line) {
    const deeptune::TextPosition p = deeptune::position_of(text, offset, first_line);
    return QString("%1:%2").arg(p.line).arg(p.column);
  };
  QCOMPARE(at(0, 1), QString("1:1"));
  QCOMPARE(at(2, 1), QString("1:3"));  // the "\n" itself ends line 1
  QCOMPARE(at(3, 1), QString("2:1"));
  QCOMPARE(at(5, 7), QString("8:3"));  // "\r" is a column of line 8
  QCOMPARE(at(8, 1), QString("4:1"));
  QCOMPARE(at(100, 1), QString("4:4"));  // clamped to the end
}

// --- field mapping -----------------------------------------------------------------------------

void TstData::mappingKind_data() {
  QTest::addColumn<QString>("text");
  QTest::addColumn<QString>("prompt");
  QTest::addColumn<QString>("response");
  QTest::addColumn<QString>("label");
  QTest::addColumn<int>("kind");  // -1: throws

  QTest::newRow("text") << "t"
                        << ""
                        << ""
                        << "" << int(MappingKind::kText);
  QTest::newRow("text+label") << "t"
                              << ""
                              << ""
                              << "l" << int(MappingKind::kTextLabel);
  QTest::newRow("prompt+response") << ""
                                   << "p"
                                   << "r"
                                   << "" << int(MappingKind::kPromptResponse);
  QTest::newRow("nothing") << ""
                           << ""
                           << ""
                           << "" << -1;
  QTest::newRow("prompt only") << ""
                               << "p"
                               << ""
                               << "" << -1;
  QTest::newRow("label only") << ""
                              << ""
                              << ""
                              << "l" << -1;
  QTest::newRow("text+prompt+response") << "t"
                                        << "p"
                                        << "r"
                                        << "" << -1;
}

void TstData::mappingKind() {
  QFETCH(QString, text);
  QFETCH(QString, prompt);
  QFETCH(QString, response);
  QFETCH(QString, label);
  QFETCH(int, kind);
  FieldMapping m;
  m.text = text.toStdString();
  m.prompt = prompt.toStdString();
  m.response = response.toStdString();
  m.label = label.toStdString();
  if (kind >= 0) {
    QCOMPARE(int(m.kind()), kind);
  } else {
    const auto error = input_error_from([&] { m.kind(); });
    QVERIFY(error);
    QCOMPARE(error->where(), std::string("field mapping"));
  }
}

void TstData::mappingJson() {
  FieldMapping pr;
  pr.prompt = "question";
  pr.response = "answer";
  QCOMPARE(pr.to_json().dump(), std::string(R"({"prompt":"question","response":"answer"})"));
  const FieldMapping back = FieldMapping::from_json(pr.to_json());
  QCOMPARE(back.prompt, pr.prompt);
  QCOMPARE(back.response, pr.response);
  QVERIFY(back.text.empty() && back.label.empty());

  FieldMapping tl;
  tl.text = "sentence";
  tl.label = "class";
  QCOMPARE(tl.to_json().dump(), std::string(R"({"label":"class","text":"sentence"})"));
  QCOMPARE(FieldMapping().to_json().dump(), std::string("{}"));
}

void TstData::mappingFromJsonRejects() {
  for (const char* text : {R"({"respone": "x"})", R"({"text": 3})", R"(["text"])"}) {
    const auto error =
        input_error_from([&] { FieldMapping::from_json(nlohmann::json::parse(text)); });
    QVERIFY2(error, text);
    QCOMPARE(error->where(), std::string("field mapping"));
  }
}

void TstData::guessMapping_data() {
  QTest::addColumn<QStringList>("columns");
  QTest::addColumn<QString>("text");
  QTest::addColumn<QString>("prompt");
  QTest::addColumn<QString>("response");
  QTest::addColumn<QString>("label");

  QTest::newRow("prompt/response") << QStringList{"id", "prompt", "response"} << ""
                                   << "prompt"
                                   << "response"
                                   << "";
  QTest::newRow("alpaca") << QStringList{"instruction", "input", "output"} << ""
                          << "instruction"
                          << "output"
                          << "";
  QTest::newRow("question/answer, any case") << QStringList{"Question", "ANSWER"} << ""
                                             << "Question"
                                             << "ANSWER"
                                             << "";
  QTest::newRow("sentence/label") << QStringList{"sentence", "label"} << "sentence"
                                  << ""
                                  << ""
                                  << "label";
  QTest::newRow("content/category") << QStringList{"id", "category", "content"} << "content"
                                    << ""
                                    << ""
                                    << "category";
  QTest::newRow("label before text") << QStringList{"class", "text"} << "text"
                                     << ""
                                     << ""
                                     << "class";
  QTest::newRow("text only") << QStringList{"text", "source"} << "text"
                             << ""
                             << ""
                             << "";
  QTest::newRow("first column") << QStringList{"body", "id"} << "body"
                                << ""
                                << ""
                                << "";
  QTest::newRow("question without answer") << QStringList{"question", "label"} << "question"
                                           << ""
                                           << ""
                                           << "";
}

void TstData::guessMapping() {
  QFETCH(QStringList, columns);
  QFETCH(QString, text);
  QFETCH(QString, prompt);
  QFETCH(QString, response);
  QFETCH(QString, label);
  std::vector<std::string> names;
  for (const QString& c : columns) names.push_back(c.toStdString());
  const FieldMapping m = deeptune::guess_mapping(names);
  QCOMPARE(QString::fromStdString(m.text), text);
  QCOMPARE(QString::fromStdString(m.prompt), prompt);
  QCOMPARE(QString::fromStdString(m.response), response);
  QCOMPARE(QString::fromStdString(m.label), label);
  m.kind();  // every guess is a valid mapping
}

void TstData::guessMappingNoColumns() {
  QVERIFY(input_error_from([] { deeptune::guess_mapping({}); }));
}

void TstData::mapPromptResponse() {
  const std::string path =
      write("pr.jsonl", raw("{\"question\": \"2+2?\", \"answer\": \"4\", \"id\": 1}\n\n"
                            "{\"question\": \"Capital of France?\", \"answer\": \"Paris\"}\n"));
  const Table table = deeptune::read_table(path, DataFormat::kJsonl);
  FieldMapping m;
  m.prompt = "question";
  m.response = "answer";
  const std::vector<Example> examples = deeptune::map_examples(table, m, path);
  QCOMPARE(examples.size(), size_t{2});
  QCOMPARE(examples[0].prompt, std::string("2+2?"));
  QCOMPARE(examples[0].response, std::string("4"));
  QCOMPARE(examples[0].source_line, size_t{1});
  QCOMPARE(examples[1].prompt, std::string("Capital of France?"));
  QCOMPARE(examples[1].response, std::string("Paris"));
  QCOMPARE(examples[1].source_line, size_t{3});
  QVERIFY(examples[1].text.empty() && examples[1].label.empty());
}

void TstData::mapTextLabel() {
  const std::string path = write("tl.csv", raw("label,text\npos,\"good, very\"\nneg,bad\n"));
  const Table table = deeptune::read_table(path, DataFormat::kCsv);
  const std::vector<Example> examples =
      deeptune::map_examples(table, deeptune::guess_mapping(table.columns), path);
  QCOMPARE(examples.size(), size_t{2});
  QCOMPARE(examples[0].text, std::string("good, very"));
  QCOMPARE(examples[0].label, std::string("pos"));
  QCOMPARE(examples[0].source_line, size_t{2});
  QCOMPARE(examples[1].text, std::string("bad"));
  QCOMPARE(examples[1].label, std::string("neg"));
  QCOMPARE(examples[1].source_line, size_t{3});
}

void TstData::mapMissingColumn() {
  const std::string path = write("missing.csv", raw("question,response\nq,r\n"));
  const Table table = deeptune::read_table(path, DataFormat::kCsv);
  FieldMapping m;
  m.prompt = "question";
  m.response = "answer";
  const auto error = input_error_from([&] { deeptune::map_examples(table, m, path); });
  QVERIFY(error);
  QCOMPARE(error->where(), path);
  QCOMPARE(error->message(),
           std::string("column 'answer' not found; columns are: question, response"));
}

void TstData::mapEmptyField() {
  // The key missing from line 3 becomes an empty cell, reported here with its line.
  const std::string path = write("hole.jsonl", raw("{\"prompt\":\"a\",\"response\":\"b\"}\n\n"
                                                   "{\"prompt\":\"c\"}\n"));
  const Table table = deeptune::read_table(path, DataFormat::kJsonl);
  const auto error = input_error_from(
      [&] { deeptune::map_examples(table, deeptune::guess_mapping(table.columns), path); });
  QVERIFY(error);
  QCOMPARE(error->where(), path + ":3");
  QCOMPARE(error->message(), std::string("empty response (column 'response')"));
}

void TstData::mapEmptyFieldJsonItem() {
  const std::string path = write("hole.json", raw("[{\"text\":\"a\"},{\"text\":\"  \"}]"));
  const Table table = deeptune::read_table(path, DataFormat::kJson);
  const auto error = input_error_from(
      [&] { deeptune::map_examples(table, deeptune::guess_mapping(table.columns), path); });
  QVERIFY(error);
  QCOMPARE(error->where(), path + ": item 2");
}

// --- split -------------------------------------------------------------------------------------

void TstData::splitSizes_data() {
  QTest::addColumn<int>("n");
  QTest::addColumn<double>("fraction");
  QTest::addColumn<int>("val");

  QTest::newRow("10 x 0.2") << 10 << 0.2 << 2;
  QTest::newRow("no validation") << 10 << 0.0 << 0;
  QTest::newRow("rounds to 0, at least 1") << 10 << 0.01 << 1;
  QTest::newRow("half rounds up") << 3 << 0.5 << 2;
  QTest::newRow("7 x 0.25") << 7 << 0.25 << 2;
  QTest::newRow("one train row kept") << 2 << 0.9 << 1;
  QTest::newRow("single row trains") << 1 << 0.5 << 0;
  QTest::newRow("nothing") << 0 << 0.2 << 0;
  QTest::newRow("1000 x 0.1") << 1000 << 0.1 << 100;
}

void TstData::splitSizes() {
  QFETCH(int, n);
  QFETCH(double, fraction);
  QFETCH(int, val);
  const Split split = deeptune::split_indices(static_cast<size_t>(n), fraction, 7);
  QCOMPARE(int(split.val.size()), val);
  QCOMPARE(int(split.train.size()), n - val);
  QVERIFY(std::is_sorted(split.train.begin(), split.train.end()));
  QVERIFY(std::is_sorted(split.val.begin(), split.val.end()));
  // Disjoint and covering: merged, they are exactly 0..n-1.
  std::vector<size_t> all = split.train;
  all.insert(all.end(), split.val.begin(), split.val.end());
  std::sort(all.begin(), all.end());
  std::vector<size_t> expected(static_cast<size_t>(n));
  std::iota(expected.begin(), expected.end(), size_t{0});
  QVERIFY(all == expected);
}

void TstData::splitDeterministic() {
  const Split a = deeptune::split_indices(100, 0.2, 1234);
  const Split b = deeptune::split_indices(100, 0.2, 1234);
  QCOMPARE(to_ints(a.train), to_ints(b.train));
  QCOMPARE(to_ints(a.val), to_ints(b.val));
  const Split c = deeptune::split_indices(100, 0.2, 1235);
  QVERIFY(to_ints(a.val) != to_ints(c.val));
  QCOMPARE(c.val.size(), a.val.size());
}

void TstData::splitPinned() {
  // Pinned output: the split must not change with the compiler, library or platform, or old
  // runs could no longer be reproduced from their seed.
  const Split split = deeptune::split_indices(10, 0.3, 42);
  QCOMPARE(to_ints(split.val), QList<int>({0, 5, 9}));
  QCOMPARE(to_ints(split.train), QList<int>({1, 2, 3, 4, 6, 7, 8}));
}

void TstData::splitRejectsFraction_data() {
  QTest::addColumn<double>("fraction");
  QTest::newRow("negative") << -0.1;
  QTest::newRow("one") << 1.0;
  QTest::newRow("nan") << std::nan("");
}

void TstData::splitRejectsFraction() {
  QFETCH(double, fraction);
  const auto error = input_error_from([&] { deeptune::split_indices(10, fraction, 1); });
  QVERIFY(error);
  QCOMPARE(error->where(), std::string("validation fraction"));
}

// --- statistics --------------------------------------------------------------------------------

void TstData::tokenCounts_data() {
  QTest::addColumn<QString>("text");
  QTest::addColumn<QString>("prompt");
  QTest::addColumn<QString>("response");
  QTest::addColumn<QString>("label");
  QTest::addColumn<int>("tokens");

  // Byte tokenizer: one token per UTF-8 byte, plus BOS, plus EOS unless it is a classifier.
  QTest::newRow("text") << "hello"
                        << ""
                        << ""
                        << "" << 7;
  QTest::newRow("text, 2-byte char") << QString::fromUtf8("café") << ""
                                     << ""
                                     << "" << 7;
  QTest::newRow("prompt+response") << ""
                                   << "hi"
                                   << "there"
                                   << "" << 9;
  QTest::newRow("text+label") << "hello"
                              << ""
                              << ""
                              << "pos" << 6;
}

void TstData::tokenCounts() {
  QFETCH(QString, text);
  QFETCH(QString, prompt);
  QFETCH(QString, response);
  QFETCH(QString, label);
  QFETCH(int, tokens);
  Example e;
  e.text = text.toStdString();
  e.prompt = prompt.toStdString();
  e.response = response.toStdString();
  e.label = label.toStdString();
  const auto stats = deeptune::compute_stats({e}, Split{{0}, {}}, deeptune::ByteTokenizer(), 0);
  QCOMPARE(int(stats.min_tokens), tokens);
  QCOMPARE(int(stats.max_tokens), tokens);
}

void TstData::statsTextLabel() {
  // Lengths (bytes + BOS): 2, 4, 7, 3. Two bins over [2, 7]: edges 2, 4.5, 7.
  const std::vector<Example> examples = {text_example("a", "pos"), text_example("abc", "neg"),
                                         text_example("abcdef", "pos"), text_example("ab", "pos")};
  const Split split{{0, 1, 2}, {3}};
  const auto stats = deeptune::compute_stats(examples, split, deeptune::ByteTokenizer(), 4, 2);
  QCOMPARE(stats.rows, size_t{4});
  QCOMPARE(stats.train_rows, size_t{3});
  QCOMPARE(stats.val_rows, size_t{1});
  QCOMPARE(stats.min_tokens, size_t{2});
  QCOMPARE(stats.max_tokens, size_t{7});
  QCOMPARE(stats.mean_tokens, 4.0);
  QCOMPARE(stats.truncated, size_t{1});  // only 7 > 4
  QCOMPARE(stats.token_lengths.edges, (std::vector<double>{2.0, 4.5, 7.0}));
  QCOMPARE(stats.token_lengths.counts, (std::vector<size_t>{3, 1}));
  QCOMPARE(stats.label_counts, (std::map<std::string, size_t>{{"neg", 1}, {"pos", 3}}));
  // Train bins {2, 1} of 3, val bins {1, 0} of 1: 0.5 * (1/3 + 1/3).
  QCOMPARE(stats.length_drift, 1.0 / 3.0);
  // Train labels pos 2/3, neg 1/3; val pos 1: 0.5 * (1/3 + 1/3).
  QCOMPARE(stats.label_drift, 1.0 / 3.0);
}

void TstData::statsBinsAndEmptyValidation() {
  // Lengths (bytes + BOS + EOS): 3, 4, 5, 6. Three bins over [3, 6]; 6 falls in the closed last.
  const std::vector<Example> examples = {text_example("a"), text_example("ab"), text_example("abc"),
                                         text_example("abcd")};
  const auto stats =
      deeptune::compute_stats(examples, Split{{0, 1, 2, 3}, {}}, deeptune::ByteTokenizer(), 0, 3);
  QCOMPARE(stats.token_lengths.edges, (std::vector<double>{3.0, 4.0, 5.0, 6.0}));
  QCOMPARE(stats.token_lengths.counts, (std::vector<size_t>{1, 1, 2}));
  QCOMPARE(stats.mean_tokens, 4.5);
  QCOMPARE(stats.truncated, size_t{0});  // max_length 0: no limit
  QCOMPARE(stats.length_drift, 0.0);     // no validation rows
  QCOMPARE(stats.label_drift, 0.0);
  QVERIFY(stats.label_counts.empty());
}

void TstData::statsEqualLengths() {
  const std::vector<Example> examples(3, text_example("abc"));
  const auto stats =
      deeptune::compute_stats(examples, Split{{0, 1}, {2}}, deeptune::ByteTokenizer(), 4, 20);
  QCOMPARE(stats.token_lengths.edges, (std::vector<double>{5.0, 5.0}));
  QCOMPARE(stats.token_lengths.counts, (std::vector<size_t>{3}));
  QCOMPARE(stats.truncated, size_t{3});
  QCOMPARE(stats.length_drift, 0.0);
}

void TstData::statsOppositeHalves() {
  // Train only short, validation only long, labels likewise: both distances are 1.
  const std::vector<Example> examples = {text_example("a", "x"), text_example("a", "x"),
                                         text_example("abcdefgh", "y")};
  const auto stats =
      deeptune::compute_stats(examples, Split{{0, 1}, {2}}, deeptune::ByteTokenizer(), 0, 4);
  QCOMPARE(stats.token_lengths.counts, (std::vector<size_t>{2, 0, 0, 1}));
  QCOMPARE(stats.length_drift, 1.0);
  QCOMPARE(stats.label_drift, 1.0);
}

void TstData::statsToJson() {
  const std::vector<Example> examples = {text_example("a", "pos"), text_example("abc", "neg"),
                                         text_example("abcdef", "pos"), text_example("ab", "pos")};
  const nlohmann::json j =
      deeptune::compute_stats(examples, Split{{0, 1, 2}, {3}}, deeptune::ByteTokenizer(), 4, 2)
          .to_json();
  const nlohmann::json expected = nlohmann::json::parse(R"({
    "rows": 4, "train_rows": 3, "val_rows": 1,
    "token_lengths": {"edges": [2.0, 4.5, 7.0], "counts": [3, 1]},
    "min_tokens": 2, "max_tokens": 7, "mean_tokens": 4.0, "truncated": 1,
    "label_counts": {"neg": 1, "pos": 3},
    "train_length_counts": [2, 1], "val_length_counts": [1, 0],
    "train_label_counts": {"neg": 1, "pos": 2}, "val_label_counts": {"neg": 0, "pos": 1}})");
  for (const auto& item : expected.items())
    QVERIFY2(j.at(item.key()) == item.value(), item.key().c_str());
  QCOMPARE(j.at("length_drift").get<double>(), 1.0 / 3.0);
  QCOMPARE(j.at("label_drift").get<double>(), 1.0 / 3.0);
  QCOMPARE(j.size(), size_t{15});

  // from_json reads back what to_json wrote; an older document (fewer keys) still reads.
  const auto back = deeptune::DatasetStats::from_json(j);
  QCOMPARE(back.to_json(), j);
  nlohmann::json old = j;
  old.erase("train_length_counts");
  old.erase("val_label_counts");
  const auto partial = deeptune::DatasetStats::from_json(old);
  QVERIFY(partial.train_length_counts.empty());
  QCOMPARE(partial.rows, size_t{4});

  // A damaged document (statistics come back from a project file) names the key at fault.
  for (const auto& [key, value] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"rows", "many"},
           {"label_counts", {1, 2}},
           {"token_lengths", 3},
           {"token_lengths", {{"edges", {1.0, 2.0}}}}}) {
    nlohmann::json damaged = j;
    damaged[key] = value;
    const auto error = input_error_from([&] { deeptune::DatasetStats::from_json(damaged); });
    QVERIFY2(error, key.c_str());
    QCOMPARE(error->where(), "dataset statistics: " + key);
  }

  // The drift warning threshold: 0.1 for large validation sets, higher where chance alone drifts.
  QCOMPARE(deeptune::drift_threshold(100000, 20), 0.1);
  QVERIFY(deeptune::drift_threshold(50, 20) > 0.5);
  QVERIFY(deeptune::drift_threshold(150, 20) < deeptune::drift_threshold(50, 20));
  QCOMPARE(deeptune::drift_threshold(0, 5), 1.0);

  const nlohmann::json empty = deeptune::DatasetStats().to_json();
  QVERIFY(empty.at("label_counts").is_object());
  QVERIFY(empty.at("token_lengths").at("edges").is_array());
}

void TstData::statsRejectsBadSplit() {
  const std::vector<Example> examples = {text_example("a")};
  QVERIFY(input_error_from([&] {
    deeptune::compute_stats(examples, Split{{0}, {1}}, deeptune::ByteTokenizer(), 0);
  }));
  QVERIFY(input_error_from([&] {
    deeptune::compute_stats(examples, Split{{0}, {}}, deeptune::ByteTokenizer(), 0, 0);
  }));
}

// --- SHA-256 -----------------------------------------------------------------------------------

void TstData::sha256Bytes_data() {
  QTest::addColumn<QByteArray>("message");
  QTest::addColumn<QString>("digest");

  // FIPS 180-4 examples (NIST CSRC "SHA256.pdf", "SHA256_2.pdf" and the million-'a' vector).
  QTest::newRow("empty") << QByteArray()
                         << "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  QTest::newRow("abc") << QByteArray("abc")
                       << "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  QTest::newRow("448 bits") << QByteArray(
                                   "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                            << "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
  QTest::newRow("896 bits")
      << QByteArray(
             "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
             "klmnopqrlmnopqrsmnopqrstnopqrstu")
      << "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1";
  QTest::newRow("million a") << QByteArray(1000000, 'a')
                             << "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
  // Lengths around the padding boundary (55 fits one block, 56 needs two), digests from
  // Python's hashlib.
  QTest::newRow("55 a") << QByteArray(55, 'a')
                        << "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318";
  QTest::newRow("56 a") << QByteArray(56, 'a')
                        << "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a";
  QTest::newRow("63 a") << QByteArray(63, 'a')
                        << "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34";
  QTest::newRow("64 a") << QByteArray(64, 'a')
                        << "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb";
  QTest::newRow("65 a") << QByteArray(65, 'a')
                        << "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0";
  QTest::newRow("119 a") << QByteArray(119, 'a')
                         << "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb";
}

void TstData::sha256Bytes() {
  QFETCH(QByteArray, message);
  QFETCH(QString, digest);
  // Both compression paths (the SHA extensions where the CPU has them, and the portable loop).
  for (bool portable : {false, true}) {
    deeptune::detail::sha256_force_portable(portable);
    QCOMPARE(QString::fromStdString(deeptune::sha256_bytes(message.constData(), message.size())),
             digest);
  }
  deeptune::detail::sha256_force_portable(false);
}

void TstData::sha256File() {
  // Three million bytes: several read chunks, the last one partial.
  QByteArray bytes(3000000, '\0');
  for (qsizetype i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 31 + 7) % 251);
  const std::string path = write("blob.bin", bytes);
  const std::string expected = "07df1203cb40935e896dfe90feec56b49591a6ba7f70b20537165122234bc9c0";
  QCOMPARE(deeptune::sha256_file(path), expected);
  QCOMPARE(deeptune::sha256_bytes(bytes.constData(), bytes.size()), expected);
  if (deeptune::detail::sha256_hardware()) qInfo("SHA-256 uses the CPU's SHA extensions");
  deeptune::detail::sha256_force_portable(true);
  QCOMPARE(deeptune::sha256_file(path), expected);
  deeptune::detail::sha256_force_portable(false);
  QCOMPARE(deeptune::sha256_file(write("empty.bin", QByteArray())),
           std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
}

void TstData::sha256MissingFile() {
  const std::string path = m_dir.filePath("absent.bin").toStdString();
  const auto error = input_error_from([&] { deeptune::sha256_file(path); });
  QVERIFY(error);
  QCOMPARE(error->where(), path);
}

// --- chat messages -----------------------------------------------------------------------------

namespace {

using deeptune::chat::ChatFamily;

// Template excerpts written for these tests: each carries only the markers of its family. In
// Jinja source a line break inside a string literal is the escape "\n" (backslash, n).
const char* kChatMlTemplate =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}";

// A ChatML template that puts a fixed system message first when the conversation has none, the
// way Qwen2.5's does (one branch takes the conversation's own, which must not be mistaken for it).
const char* kDefaultSystemTemplate =
    "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + "
    "messages[0]['content'] + '<|im_end|>\\n' }}{%- else %}{{- '<|im_start|>system\\nYou are "
    "a careful assistant.\\nAnswer briefly.<|im_end|>\\n' }}{%- endif %}";

std::vector<deeptune::ChatMessage> messages_from(const QString& json) {
  return deeptune::chat::parse_messages(nlohmann::json::parse(json.toStdString()), "test");
}

// Byte ids shifted by 3, with "<s>" and "</s>" as the specials a Hugging Face tokenizer matches
// in text: enough to see BOS handling.
class SpecialsTokenizer final : public deeptune::Tokenizer {
 public:
  std::vector<int32_t> encode(std::string_view text) const override {
    std::vector<int32_t> ids;
    for (size_t i = 0; i < text.size();) {
      if (text.substr(i, 3) == "<s>") {
        ids.push_back(1);
        i += 3;
      } else if (text.substr(i, 4) == "</s>") {
        ids.push_back(2);
        i += 4;
      } else {
        ids.push_back(static_cast<unsigned char>(text[i++]) + 3);
      }
    }
    return ids;
  }
  std::string decode(const std::vector<int32_t>&) const override { return ""; }
  std::string token_text(int32_t) const override { return ""; }
  int32_t token_id(std::string_view) const override { return -1; }
  bool adds_bos() const override { return true; }
  int32_t vocab_size() const override { return 259; }
  int32_t bos_id() const override { return 1; }
  int32_t eos_id() const override { return 2; }
  int32_t pad_id() const override { return 0; }
  std::string kind() const override { return "test"; }
  nlohmann::json describe() const override { return {}; }
};

}  // namespace

void TstData::chatFamilyDetected_data() {
  QTest::addColumn<QString>("chatTemplate");
  QTest::addColumn<int>("family");
  QTest::newRow("chatml") << kChatMlTemplate << int(ChatFamily::kChatMl);
  QTest::newRow("llama 3") << "{{ bos_token }}{% for m in messages %}{{ '<|start_header_id|>' + "
                              "m['role'] + '<|end_header_id|>\\n\\n' + m['content'] | trim + "
                              "'<|eot_id|>' }}{% endfor %}"
                           << int(ChatFamily::kLlama3);
  QTest::newRow("deepseek-r1")
      << QString::fromUtf8(
             "{{ bos_token }}{% for m in messages %}{% if m['role'] == "
             "'user' %}{{ '<｜User｜>' + m['content'] }}{% else %}{{ "
             "'<｜Assistant｜>' + m['content'] + '<｜end▁of▁sentence｜>' }}"
             "{% endif %}{% endfor %}")
      << int(ChatFamily::kDeepSeekR1);
  QTest::newRow("mistral") << "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' "
                              "%}{{ '[INST] ' + m['content'] + ' [/INST]' }}{% else %}{{ "
                              "m['content'] + eos_token }}{% endif %}{% endfor %}"
                           << int(ChatFamily::kMistral);
  QTest::newRow("llama 2") << "{% if loop.index0 == 0 %}{% set content = '<<SYS>>\\n' + sys + "
                              "'\\n<</SYS>>\\n\\n' + m['content'] %}{% endif %}{{ bos_token "
                              "+ '[INST] ' + content.strip() + ' [/INST]' }}"
                           << int(ChatFamily::kLlama2);
  QTest::newRow("unknown") << "{% for m in messages %}### {{ m['role'] }}: {{ m['content'] }}"
                              "{% endfor %}"
                           << int(ChatFamily::kNone);
  QTest::newRow("empty") << "" << int(ChatFamily::kNone);
}

void TstData::chatFamilyDetected() {
  QFETCH(QString, chatTemplate);
  QFETCH(int, family);
  QCOMPARE(int(deeptune::chat::detect_family(chatTemplate.toStdString())), family);
}

void TstData::chatDefaultSystemMessage() {
  QCOMPARE(deeptune::chat::default_system_message(kDefaultSystemTemplate),
           std::string("You are a careful assistant.\nAnswer briefly."));
  // The system message comes from the conversation only: no default.
  QCOMPARE(deeptune::chat::default_system_message(kChatMlTemplate), std::string());
  QCOMPARE(deeptune::chat::default_system_message(""), std::string());
}

void TstData::chatRender_data() {
  QTest::addColumn<int>("family");
  QTest::addColumn<QString>("messages");  // JSON
  QTest::addColumn<QString>("text");      // the whole rendering
  QTest::addColumn<QString>("trained");   // trained segments joined by '|'

  // A: system and two exchanges; B: one exchange, no system.
  const QString a = R"([{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},
      {"role":"assistant","content":"Hello!"},{"role":"user","content":"2+2?"},
      {"role":"assistant","content":"4"}])";
  const QString b = R"([{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"}])";
  const QString sharegpt = R"([{"from":"human","value":"Hi"},{"from":"gpt","value":"Hello!"}])";
  const QString padded =
      R"([{"role":"user","content":" Hi\n"},{"role":"assistant","content":" Hello! "}])";

  QTest::newRow("chatml, system, two turns")
      << int(ChatFamily::kChatMl) << a
      << "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
         "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n"
         "<|im_start|>assistant\n4<|im_end|>\n"
      << "Hello!<|im_end|>|4<|im_end|>";
  QTest::newRow("chatml, no system")
      << int(ChatFamily::kChatMl) << b
      << "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n"
      << "Hello!<|im_end|>";
  QTest::newRow("chatml, sharegpt roles")
      << int(ChatFamily::kChatMl) << sharegpt
      << "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n"
      << "Hello!<|im_end|>";
  QTest::newRow("llama 3, system, two turns")
      << int(ChatFamily::kLlama3) << a
      << "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
         "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
         "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
         "<|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|>"
         "<|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>"
      << "Hello!<|eot_id|>|4<|eot_id|>";
  QTest::newRow("llama 3, no system, text trimmed")
      << int(ChatFamily::kLlama3) << padded
      << "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
         "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
      << "Hello!<|eot_id|>";
  QTest::newRow("deepseek-r1, system, two turns")
      << int(ChatFamily::kDeepSeekR1) << a
      << QString::fromUtf8(
             "<｜begin▁of▁sentence｜>Be brief.<｜User｜>Hi<｜Assistant｜>Hello!"
             "<｜end▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜>4<｜end▁of▁sentence｜>")
      << QString::fromUtf8("Hello!<｜end▁of▁sentence｜>|4<｜end▁of▁sentence｜>");
  QTest::newRow("deepseek-r1, no system")
      << int(ChatFamily::kDeepSeekR1) << b
      << QString::fromUtf8(
             "<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜>Hello!<｜end▁of▁sentence｜>")
      << QString::fromUtf8("Hello!<｜end▁of▁sentence｜>");
  QTest::newRow("mistral, system, two turns")
      << int(ChatFamily::kMistral) << a
      << "<s>[INST] Be brief.\n\nHi [/INST]Hello!</s>[INST] 2+2? [/INST]4</s>"
      << "Hello!</s>|4</s>";
  QTest::newRow("mistral, no system")
      << int(ChatFamily::kMistral) << b << "<s>[INST] Hi [/INST]Hello!</s>"
      << "Hello!</s>";
  QTest::newRow("llama 2, system, two turns")
      << int(ChatFamily::kLlama2) << a
      << "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s>"
         "<s>[INST] 2+2? [/INST] 4 </s>"
      << "Hello! </s>|4 </s>";
  QTest::newRow("llama 2, no system, text stripped")
      << int(ChatFamily::kLlama2) << padded << "<s>[INST] Hi [/INST] Hello! </s>"
      << "Hello! </s>";
}

void TstData::chatRender() {
  QFETCH(int, family);
  QFETCH(QString, messages);
  QFETCH(QString, text);
  QFETCH(QString, trained);
  deeptune::chat::ChatFormat format;
  format.family = static_cast<ChatFamily>(family);
  const auto segments = deeptune::chat::render(format, messages_from(messages));
  QString whole;
  QStringList trainedParts;
  for (const auto& segment : segments) {
    whole += QString::fromStdString(segment.text);
    if (segment.trained) trainedParts << QString::fromStdString(segment.text);
  }
  QCOMPARE(whole, text);
  QCOMPARE(trainedParts.join('|'), trained);
}

void TstData::chatResolve() {
  using deeptune::ChatTemplate;
  using deeptune::chat::resolve_chat_format;
  // No template (presets, base models): ChatML, and the log says so.
  auto f = resolve_chat_format(ChatTemplate::kAuto, "");
  QVERIFY(f.family == ChatFamily::kChatMl);
  QVERIFY2(f.note.find("no chat template") != std::string::npos, f.note.c_str());
  // Detected from the template, with its default system message.
  f = resolve_chat_format(ChatTemplate::kAuto, kDefaultSystemTemplate);
  QVERIFY(f.family == ChatFamily::kChatMl);
  QCOMPARE(f.default_system, std::string("You are a careful assistant.\nAnswer briefly."));
  const auto withDefault = deeptune::chat::render(
      f, messages_from(R"([{"role":"user","content":"Hi"},{"role":"assistant","content":"Yo"}])"));
  QCOMPARE(withDefault.front().text,
           std::string("<|im_start|>system\nYou are a careful assistant.\nAnswer briefly."
                       "<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"));
  // A family chosen by the user wins over the template.
  f = resolve_chat_format(ChatTemplate::kLlama3, kChatMlTemplate);
  QVERIFY(f.family == ChatFamily::kLlama3);
  QVERIFY(f.default_system.empty());
  f = resolve_chat_format(ChatTemplate::kMistral, "");
  QVERIFY(f.family == ChatFamily::kMistral);
  // An unknown template is refused, naming the file, the families and the key to set.
  const auto error = input_error_from(
      [] { resolve_chat_format(ChatTemplate::kAuto, "{{ messages | join('\\n') }}"); });
  QVERIFY(error);
  QCOMPARE(error->where(), std::string("tokenizer_config.json"));
  for (const char* part :
       {"data.chat_template", "chatml", "llama3", "deepseek_r1", "mistral", "llama2"})
    QVERIFY2(error->message().find(part) != std::string::npos, error->message().c_str());
  // ... unless the user names the family.
  QVERIFY(resolve_chat_format(ChatTemplate::kLlama2, "{{ messages }}").family ==
          ChatFamily::kLlama2);
}

void TstData::chatMaskPositions() {
  // Byte tokenizer: BOS, then one id per byte; the loss covers exactly the bytes of each
  // assistant text and its <|im_end|>.
  deeptune::chat::ChatFormat format;
  const auto messages = messages_from(R"([{"role":"user","content":"Hi"},
      {"role":"assistant","content":"Yo"},{"role":"user","content":"?"},
      {"role":"assistant","content":"!"}])");
  const auto encoded = deeptune::chat::encode_segments(deeptune::chat::render(format, messages),
                                                       deeptune::ByteTokenizer());
  const std::string text =
      "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nYo<|im_end|>\n"
      "<|im_start|>user\n?<|im_end|>\n<|im_start|>assistant\n!<|im_end|>\n";
  QCOMPARE(encoded.ids.size(), text.size() + 1);
  QCOMPARE(encoded.trained.size(), encoded.ids.size());
  QCOMPARE(encoded.ids[0], deeptune::ByteTokenizer::kBos);
  std::string expected(text.size() + 1, '0');
  size_t from = 0;
  for (const std::string answer : {"Yo<|im_end|>", "!<|im_end|>"}) {
    const size_t at = text.find("assistant\n" + answer, from) + std::string("assistant\n").size();
    for (size_t i = 0; i < answer.size(); ++i) expected[1 + at + i] = '1';
    from = at;
  }
  std::string actual;
  for (uint8_t t : encoded.trained) actual += t ? '1' : '0';
  QCOMPARE(actual, expected);
  QCOMPARE(int(std::count(actual.begin(), actual.end(), '1')), 12 + 11);
}

void TstData::chatBosNotDoubled() {
  const SpecialsTokenizer tok;
  const auto messages =
      messages_from(R"([{"role":"user","content":"Hi"},{"role":"assistant","content":"Yo"}])");
  deeptune::chat::ChatFormat format;
  // Mistral's text starts with <s>, which the tokenizer reads as BOS: not added again.
  format.family = ChatFamily::kMistral;
  auto encoded = deeptune::chat::encode_segments(deeptune::chat::render(format, messages), tok);
  QCOMPARE(encoded.ids.front(), 1);
  QCOMPARE(int(std::count(encoded.ids.begin(), encoded.ids.end(), 1)), 1);
  QCOMPARE(encoded.ids.back(), 2);  // </s> trained as the end of the assistant turn
  QCOMPARE(int(encoded.trained.back()), 1);
  // ChatML's text has none: BOS goes first, untrained.
  format.family = ChatFamily::kChatMl;
  encoded = deeptune::chat::encode_segments(deeptune::chat::render(format, messages), tok);
  QCOMPARE(encoded.ids.front(), 1);
  QCOMPARE(int(encoded.trained.front()), 0);
  QCOMPARE(encoded.ids[1], int('<') + 3);
}

// The tokenizer fixtures (tests/interop/fixtures/tokenizers, made with the `tokenizers` library)
// carry chat templates of the families: detected from them, rendered and encoded with the real
// tokenizer, the special tokens become their ids, BOS comes once, and the loss ends on the
// turn's end token.
void TstData::chatWithHfTokenizers_data() {
  QTest::addColumn<QString>("fixture");
  QTest::addColumn<int>("family");
  QTest::addColumn<QString>("endOfTurn");  // the last trained token
  QTest::newRow("qwen2") << "qwen2" << int(ChatFamily::kChatMl) << "<|im_end|>";
  QTest::newRow("llama3") << "llama3" << int(ChatFamily::kLlama3) << "<|eot_id|>";
  QTest::newRow("deepseek_v3") << "deepseek_v3" << int(ChatFamily::kDeepSeekR1)
                               << QString::fromUtf8("<｜end▁of▁sentence｜>");
  // [INST] without <<SYS>>: the Mistral family.
  QTest::newRow("mistral_sp") << "mistral_sp" << int(ChatFamily::kMistral) << "</s>";
  QTest::newRow("llama2_sp") << "llama2_sp" << int(ChatFamily::kMistral) << "</s>";
}

void TstData::chatWithHfTokenizers() {
  QFETCH(QString, fixture);
  QFETCH(int, family);
  QFETCH(QString, endOfTurn);
  const std::string dir = std::string(DEEPTUNE_SOURCE_DIR) + "/tests/interop/fixtures/tokenizers/" +
                          fixture.toStdString();
  if (!QFileInfo::exists(QString::fromStdString(dir + "/tokenizer.json")))
    QSKIP("tokenizer fixture not present");
  const auto tok = deeptune::load_hf_tokenizer(dir);
  const auto format =
      deeptune::chat::resolve_chat_format(deeptune::ChatTemplate::kAuto, tok->chat_template());
  QCOMPARE(int(format.family), family);
  const auto messages = messages_from(R"([{"role":"system","content":"Be brief."},
      {"role":"user","content":"Hi there"},{"role":"assistant","content":"Hello!"},
      {"role":"user","content":"Again?"},{"role":"assistant","content":"Sure."}])");
  const auto encoded =
      deeptune::chat::encode_segments(deeptune::chat::render(format, messages), *tok);
  // The ids are the whole rendering's, as the tokenizer encodes it in one piece.
  std::string whole;
  for (const auto& segment : deeptune::chat::render(format, messages)) whole += segment.text;
  std::vector<int32_t> expected = tok->encode(whole);
  if (tok->adds_bos() && tok->bos_id() >= 0 && expected.front() != tok->bos_id())
    expected.insert(expected.begin(), tok->bos_id());
  QVERIFY(encoded.ids == expected);
  QCOMPARE(encoded.trained.size(), encoded.ids.size());
  const int32_t end = tok->token_id(endOfTurn.toStdString());
  QVERIFY(end >= 0);
  // Each assistant turn ends trained on its end token, which is one id, not its spelling.
  int trainedEnds = 0;
  for (size_t i = 0; i < encoded.ids.size(); ++i)
    if (encoded.ids[i] == end && encoded.trained[i]) ++trainedEnds;
  QCOMPARE(trainedEnds, 2);
  size_t last = encoded.ids.size();
  while (last > 0 && !encoded.trained[last - 1]) --last;
  QCOMPARE(encoded.ids.at(last - 1), end);
  // BOS once at the start when the tokenizer adds one (the text spells it for most families).
  if (tok->adds_bos() && tok->bos_id() >= 0) {
    QCOMPARE(encoded.ids.front(), tok->bos_id());
    QVERIFY(encoded.ids.size() > 1 && encoded.ids[1] != tok->bos_id());
  } else {
    QVERIFY(tok->bos_id() < 0 || encoded.ids.front() != tok->bos_id());
  }
  // The trained ids decode to the answers.
  std::vector<int32_t> trained;
  for (size_t i = 0; i < encoded.ids.size(); ++i)
    if (encoded.trained[i]) trained.push_back(encoded.ids[i]);
  const std::string answers = tok->decode(trained);
  QVERIFY2(
      answers.find("Hello!") != std::string::npos && answers.find("Sure.") != std::string::npos,
      answers.c_str());
  QVERIFY2(answers.find("Hi there") == std::string::npos, answers.c_str());

  // The fixture whose template is none of the families is refused under "auto".
  const auto other = deeptune::load_hf_tokenizer(std::string(DEEPTUNE_SOURCE_DIR) +
                                                 "/tests/interop/fixtures/tokenizers/options");
  const auto error = input_error_from([&] {
    deeptune::chat::resolve_chat_format(deeptune::ChatTemplate::kAuto, other->chat_template());
  });
  QVERIFY(error);
  QCOMPARE(error->where(), std::string("tokenizer_config.json"));
}

void TstData::mapMessages() {
  // OpenAI style in JSONL, ShareGPT style in JSON, and the JSON text in a CSV cell.
  const std::string jsonl = write(
      "chat.jsonl", raw("{\"id\": 1, \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}, "
                        "{\"role\": \"assistant\", \"content\": \"Hello\"}]}\n"
                        "\n"
                        "{\"id\": 2, \"messages\": [{\"role\": \"system\", \"content\": \"S\"}, "
                        "{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", "
                        "\"content\": \"b\"}, {\"role\": \"user\", \"content\": \"c\"}, {\"role\": "
                        "\"assistant\", \"content\": \"d\"}]}\n"));
  Table table = deeptune::read_table(jsonl, DataFormat::kJsonl);
  QCOMPARE(to_list(table.columns), QStringList({"id", "messages"}));
  FieldMapping m = deeptune::guess_mapping(table.columns);
  QCOMPARE(m.messages, std::string("messages"));
  QVERIFY(m.kind() == MappingKind::kMessages);
  auto examples = deeptune::map_examples(table, m, jsonl);
  QCOMPARE(examples.size(), size_t{2});
  QCOMPARE(examples[1].source_line, size_t{3});
  QCOMPARE(examples[1].messages.size(), size_t{5});
  QStringList roles;
  for (const auto& message : examples[1].messages) roles << QString::fromStdString(message.role);
  QCOMPARE(roles, QStringList({"system", "user", "assistant", "user", "assistant"}));
  QCOMPARE(examples[1].messages[4].content, std::string("d"));
  QVERIFY(examples[0].text.empty() && examples[0].prompt.empty());

  const std::string json =
      write("share.json", raw("[{\"conversations\": [{\"from\": \"human\", \"value\": "
                              "\"Q\"}, {\"from\": \"gpt\", \"value\": \"A\"}]}]"));
  table = deeptune::read_table(json, DataFormat::kJson);
  m = deeptune::guess_mapping(table.columns);
  QCOMPARE(m.messages, std::string("conversations"));
  examples = deeptune::map_examples(table, m, json);
  QCOMPARE(examples[0].messages[0].role, std::string("user"));
  QCOMPARE(examples[0].messages[1].role, std::string("assistant"));
  QCOMPARE(examples[0].messages[1].content, std::string("A"));

  const std::string csv =
      write("chat.csv", raw("messages\n\"[{\"\"role\"\":\"\"user\"\",\"\"content\"\":\"\"x\"\"},"
                            "{\"\"role\"\":\"\"assistant\"\",\"\"content\"\":\"\"y\"\"}]\"\n"));
  table = deeptune::read_table(csv, DataFormat::kCsv);
  examples = deeptune::map_examples(table, deeptune::guess_mapping(table.columns), csv);
  QCOMPARE(examples[0].messages[1].content, std::string("y"));

  // The mapping's JSON form.
  FieldMapping chat;
  chat.messages = "conversations";
  QCOMPARE(chat.to_json().dump(), std::string(R"({"messages":"conversations"})"));
  QCOMPARE(FieldMapping::from_json(chat.to_json()).messages, std::string("conversations"));
  chat.text = "t";
  QVERIFY(input_error_from([&] { chat.kind(); }));
}

void TstData::mapMessagesMalformed_data() {
  QTest::addColumn<QByteArray>("line2");  // the second line of a JSONL file; the first is good
  QTest::addColumn<QString>("says");
  QTest::newRow("text, not a list")
      << QByteArray(R"({"messages": "hello"})") << "text that is not JSON";
  QTest::newRow("a number") << QByteArray(R"({"messages": 5})") << "found a number";
  QTest::newRow("list of strings")
      << QByteArray(R"({"messages": ["hi", "there"]})") << "'messages' is an array";
  QTest::newRow("no role") << QByteArray(R"({"messages": [{"content": "x"}]})")
                           << "message 1 has no \"role\"";
  QTest::newRow("no content")
      << QByteArray(R"({"messages": [{"role": "user", "content": "a"}, {"role": "assistant"}]})")
      << "message 2 has no \"content\" text";
  QTest::newRow("content not text")
      << QByteArray(R"({"messages": [{"role": "user", "content": [1]}]})")
      << "message 1 has no \"content\" text";
  QTest::newRow("unknown role") << QByteArray(R"({"messages": [{"role": "bot", "content": "a"}]})")
                                << "unknown role \"bot\"";
  QTest::newRow("late system")
      << QByteArray(R"({"messages": [{"role": "user", "content": "a"}, {"role": "system", )"
                    R"("content": "s"}, {"role": "assistant", "content": "b"}]})")
      << "message 2 is a system message";
  QTest::newRow("no assistant turn")
      << QByteArray(R"({"messages": [{"role": "system", "content": "s"}, {"role": "user", )"
                    R"("content": "a"}]})")
      << "no assistant turn";
  QTest::newRow("empty list") << QByteArray(R"({"messages": []})") << "'messages' is an array";
  QTest::newRow("NUL in content")
      << QByteArray(R"({"messages": [{"role": "assistant", "content": "a\u0000b"}]})")
      << "NUL character";
}

void TstData::mapMessagesMalformed() {
  QFETCH(QByteArray, line2);
  QFETCH(QString, says);
  const QByteArray good = R"({"messages": [{"role": "user", "content": "a"}, )"
                          R"({"role": "assistant", "content": "b"}]})";
  const std::string path = write("bad_chat.jsonl", good + "\n" + line2 + "\n");
  const auto error = input_error_from([&] {
    const Table table = deeptune::read_table(path, DataFormat::kJsonl);
    FieldMapping m;
    m.messages = "messages";
    deeptune::map_examples(table, m, path);
  });
  QVERIFY(error);
  QCOMPARE(QString::fromStdString(error->where()), QString::fromStdString(path + ":2"));
  QVERIFY2(error->message().find(says.toStdString()) != std::string::npos,
           error->message().c_str());
}

void TstData::statsMessages() {
  // ChatML with the byte tokenizer: BOS + one token per byte of the rendering; no EOS added (the
  // turn's <|im_end|> ends it).
  Example e;
  e.messages = {{"user", "Hi"}, {"assistant", "Hello!"}};
  const std::string text =
      "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n";
  auto stats = deeptune::compute_stats({e}, Split{{0}, {}}, deeptune::ByteTokenizer(), 0);
  QCOMPARE(stats.max_tokens, text.size() + 1);
  // Another family counts its own rendering.
  const std::string mistral = "<s>[INST] Hi [/INST]Hello!</s>";
  stats = deeptune::compute_stats({e}, Split{{0}, {}}, deeptune::ByteTokenizer(), 0, 20,
                                  deeptune::ChatTemplate::kMistral);
  QCOMPARE(stats.max_tokens, mistral.size() + 1);
  QCOMPARE(stats.truncated, size_t{0});
  stats = deeptune::compute_stats({e}, Split{{0}, {}}, deeptune::ByteTokenizer(), 20, 20,
                                  deeptune::ChatTemplate::kMistral);
  QCOMPARE(stats.truncated, size_t{1});
}

QTEST_GUILESS_MAIN(TstData)
#include "tst_data.moc"
