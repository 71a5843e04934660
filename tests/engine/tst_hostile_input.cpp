// Hostile dataset files: several hundred malformed inputs per format, generated from valid ones
// with a fixed seed (truncations, byte flips, deep nesting, huge numbers, NUL bytes, invalid
// UTF-8, UTF-16, BOMs, CRLF, empty files, FIFOs, folders, unreadable files). For each one
// read_table, RowCursor and register_dataset must succeed or throw an InputError naming the file,
// and a refused registration must leave the project file byte for byte as it was; what must be
// refused (or accepted) is checked too. deeptune-cli `data add` runs over a subset of them.
#include <sys/stat.h>
#include <unistd.h>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>
#include <functional>
#include <optional>
#include <vector>

#include "deeptune/data.h"
#include "deeptune/error.h"
#include "deeptune/project.h"
#include "deeptune/row_cursor.h"
#include "deeptune/store.h"
#include "hostile/guards.h"
#include "support/test_support.h"

using deeptune::DataFormat;
using deeptune::InputError;
using deeptune::ProjectStore;
using deeptune::RowCursor;
using deeptune::Table;
using deeptune::test::q;

namespace {

// Every generated input derives from this seed; a failure message repeats it.
constexpr quint32 kSeed = 20250107;

// What a case must lead to, beyond "InputError naming the file, or success".
enum class Expect {
  kEither,
  kRefuse,  // read_table refuses it
  kAccept,  // read_table reads the same rows as from the original
  kPrefix,  // a truncation: refused, or read as the original's first rows (never a row cut short)
};

struct Case {
  QString description;  // "csv: truncated after byte 1021"
  DataFormat format;
  QByteArray bytes;
  Expect expect;
  std::string path;  // where it was written
};

QByteArray readBytes(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QString extension(DataFormat format) {
  return q(deeptune::to_string(format));  // "jsonl", "json", "csv", "txt": also the extensions
}

// The first `lines` lines of a bundled sample file, each with its line break.
QByteArray sampleHead(const char* name, int lines) {
  const QByteArray all = readBytes(QStringLiteral(DEEPTUNE_SOURCE_DIR "/resources/sample/") + name);
  qsizetype end = 0;
  for (int k = 0; k < lines && end >= 0; ++k) end = all.indexOf('\n', end) + 1;
  return all.left(end);
}

QStringList rowsOf(const Table& table) {
  QStringList out;
  for (const auto& row : table.rows) {
    QStringList cells;
    for (const std::string& cell : row) cells << q(cell);
    out << cells.join(QChar(0x1F));
  }
  return out;
}

// A valid file per format, all from the bundled samples so they hold non-ASCII text and quotes.
QByteArray validFile(DataFormat format) {
  const QByteArray jsonl = sampleHead("dates_fr.jsonl", 24);
  switch (format) {
    case DataFormat::kJsonl:
      return jsonl;
    case DataFormat::kJson: {
      QList<QByteArray> objects = jsonl.trimmed().split('\n');
      return "[\n  " + objects.join(",\n  ") + "\n]\n";
    }
    case DataFormat::kCsv:
      return sampleHead("tickets.csv", 30);
    case DataFormat::kText: {
      QByteArray text;
      for (const QByteArray& line : jsonl.trimmed().split('\n'))
        text += line.mid(12, line.indexOf("\", ") - 12) + "\n";  // the prompt's text
      return text;
    }
  }
  return {};
}

QByteArray utf16(const QByteArray& utf8, bool big_endian, bool bom) {
  QByteArray out;
  if (bom) out += big_endian ? QByteArray("\xFE\xFF", 2) : QByteArray("\xFF\xFE", 2);
  for (const QChar c : QString::fromUtf8(utf8)) {
    const char hi = char(c.unicode() >> 8), lo = char(c.unicode() & 0xFF);
    out += big_endian ? QByteArray{hi, lo} : QByteArray{lo, hi};
  }
  return out;
}

bool isStructured(DataFormat format) {
  return format == DataFormat::kJsonl || format == DataFormat::kJson;
}

// Several hundred cases for one format, all from `rng`.
std::vector<Case> generateCases(DataFormat format, QRandomGenerator& rng) {
  const QByteArray valid = validFile(format);
  const QString name = extension(format);
  std::vector<Case> cases;
  const auto add = [&](const QString& what, const QByteArray& bytes, Expect expect) {
    cases.push_back({name + ": " + what, format, bytes, expect, {}});
  };
  const auto at = [&] { return rng.bounded(int(valid.size())); };

  // About 150 truncations spread over the file (an odd step, so cuts land on every kind of byte),
  // and one at every byte of the last row.
  const qsizetype step = (valid.size() / 150) | 1;
  for (qsizetype cut = 1; cut < valid.size(); cut += step)
    add(QString("truncated after byte %1").arg(cut), valid.left(cut),
        format == DataFormat::kText ? Expect::kEither : Expect::kPrefix);
  const qsizetype last_row_end =
      format == DataFormat::kJson ? valid.lastIndexOf('}') : valid.size() - 2;
  const qsizetype last_row = valid.lastIndexOf('\n', last_row_end) + 1;
  for (qsizetype cut = last_row; cut < valid.size(); ++cut)
    add(QString("truncated in the last row after byte %1").arg(cut), valid.left(cut),
        format == DataFormat::kText ? Expect::kEither : Expect::kPrefix);

  // Random byte flips: one to four bytes set to random values.
  for (int k = 0; k < 80; ++k) {
    QByteArray bytes = valid;
    QStringList where;
    for (int n = 1 + rng.bounded(4); n > 0; --n) {
      const int i = at();
      bytes[i] = char(rng.bounded(256));
      where << QString("%1=0x%2").arg(i).arg(uchar(bytes[i]), 2, 16, QChar('0'));
    }
    add("bytes flipped: " + where.join(", "), bytes, Expect::kEither);
  }

  // Structural characters inserted where they break the most.
  const QByteArray specials[] = {"\"", "\n", "\r", ",", "{",  "[",
                                 "]",  "}",  "\\", ":", "\t", "\"\""};
  for (int k = 0; k < 60; ++k) {
    const QByteArray special = specials[rng.bounded(int(std::size(specials)))];
    const int i = at();
    add(QString("'%1' inserted at byte %2")
            .arg(QString::fromLatin1(special.toPercentEncoding()))
            .arg(i),
        QByteArray(valid).insert(i, special), Expect::kEither);
  }

  // NUL bytes and invalid UTF-8 anywhere: always refused.
  for (int k = 0; k < 15; ++k) {
    const int i = at();
    add(QString("NUL byte inserted at byte %1").arg(i), QByteArray(valid).insert(i, '\0'),
        Expect::kRefuse);
  }
  const QByteArray invalid_utf8[] = {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                                     "\x80",     "\xFF",         "\xE9t\xE9",
                                     "\xE2\x82", "\xF0\x9F\x98"};
  for (int k = 0; k < 24; ++k) {
    const QByteArray bad = invalid_utf8[k % int(std::size(invalid_utf8))];
    // Never split an existing sequence: insert before an ASCII byte.
    int i = at();
    while (uchar(valid[i]) >= 0x80) i = at();
    add(QString("invalid UTF-8 %1 at byte %2").arg(QString::fromLatin1(bad.toHex())).arg(i),
        QByteArray(valid).insert(i, bad), Expect::kRefuse);
  }

  // Deep nesting and huge numbers as the first row's response, the text moved to a new key so
  // the JSON stays valid (for CSV and plain text they are text at the start of the file).
  const bool structured = isStructured(format);
  const qsizetype value = structured ? valid.indexOf("\"response\": ") + 12 : 0;
  const QByteArray moved = structured ? ", \"moved\": " : "";
  for (const int depth : {513, 5000, 100000, 1000000}) {
    const QByteArray nested = QByteArray(depth, '[') + QByteArray(depth, ']');
    add(QString("a value nested %1 deep").arg(depth),
        QByteArray(valid).insert(value, nested + moved),
        structured ? Expect::kRefuse : Expect::kEither);
    add(QString("a value opening %1 brackets, cut off").arg(depth),
        valid.left(value) + QByteArray(depth, structured ? '{' : '['),
        structured ? Expect::kRefuse : Expect::kEither);
  }
  for (const QByteArray& number : {QByteArray("1e400"), QByteArray("-1e400"),
                                   QByteArray("2.5E+99999"), QByteArray(400, '9')}) {
    add("the number " + QString::fromLatin1(number.left(12)) + " in the first row",
        QByteArray(valid).insert(value, number + moved),
        structured ? Expect::kRefuse : Expect::kEither);
  }

  // Encodings and line ends.
  for (const bool big_endian : {false, true})
    for (const bool bom : {false, true})
      add(QString("UTF-16%1%2").arg(big_endian ? "BE" : "LE", bom ? " with BOM" : ""),
          utf16(valid, big_endian, bom), Expect::kRefuse);
  add("UTF-8 byte-order mark", "\xEF\xBB\xBF" + valid, Expect::kAccept);
  add("CRLF line ends", QByteArray(valid).replace("\n", "\r\n"), Expect::kAccept);
  add("two byte-order marks", "\xEF\xBB\xBF\xEF\xBB\xBF" + valid, Expect::kEither);
  add("empty", QByteArray(), Expect::kRefuse);
  add("blank lines only", " \n\r\n\t\n", Expect::kRefuse);
  add("one line break", "\n", Expect::kRefuse);
  return cases;
}

// A project whose file must not change when a registration is refused: its bytes (and the WAL's,
// where committed pages land first) are compared with the store closed, so this process never
// opens the file outside SQLite while SQLite holds it.
QByteArray projectBytes(const QString& project) {
  return readBytes(project) + readBytes(project + "-wal");
}

// In memory where the system offers it: a few hundred registrations succeed, and on a disk their
// commits' fsyncs would take most of the suite's time. Nothing here needs to survive a crash.
QString scratchTemplate() {
  const QFileInfo shm(QStringLiteral("/dev/shm"));
  const QString base = shm.isDir() && shm.isWritable() ? shm.filePath() : QDir::tempPath();
  return base + QStringLiteral("/tst_hostile_input-XXXXXX");
}

}  // namespace

class TstHostileInput : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void cleanupTestCase();
  void fuzzFormat_data();
  void fuzzFormat();
  void nonRegularFiles();
  void cliDataAddRefuses();
  void sampleNeverOverwrites();

 private:
  // Runs every reader over `c` and returns what went wrong ("" when all is as it must be).
  QString check(Case& c, const std::optional<Table>& original);
  QString checkCursor(const Case& c, bool table_accepted);
  QString checkRegistration(const Case& c);
  void report(const QStringList& failures, int cases);

  QTemporaryDir m_dir{scratchTemplate()};
  QString m_project;
  int m_registered = 0;         // datasets in m_project
  std::vector<Case> m_refused;  // every format's cases that must be refused, for the CLI
};

void TstHostileInput::initTestCase() {
  QVERIFY(m_dir.isValid());
  qInfo("seed %u; inputs are written to %s", kSeed, qPrintable(m_dir.path()));
  m_project = m_dir.filePath("hostile.dtproj");
  ProjectStore::create(m_project.toStdString(), "hostile");
}

void TstHostileInput::cleanupTestCase() {
  // Failing inputs stay on disk to be looked at.
  if (QTest::currentTestFailed()) m_dir.setAutoRemove(false);
}

void TstHostileInput::report(const QStringList& failures, int cases) {
  if (failures.isEmpty()) return;
  m_dir.setAutoRemove(false);
  QFAIL(qPrintable(QString("%1 of %2 inputs went wrong (seed %3; inputs kept in %4). First ones:\n")
                       .arg(failures.size())
                       .arg(cases)
                       .arg(kSeed)
                       .arg(m_dir.path()) +
                   QStringList(failures.mid(0, 12)).join("\n")));
}

QString TstHostileInput::checkCursor(const Case& c, bool table_accepted) {
  const QString file = q(c.path);
  try {
    RowCursor cursor(c.path, c.format);
    while (!cursor.at_end())
      if (cursor.index_more(64) == 0) return "RowCursor: index_more added nothing before at_end()";
    for (size_t i = 0; i < cursor.indexed_rows(); ++i) {
      const std::string error = cursor.row(i).error;
      if (error.empty()) continue;
      if (table_accepted) return "RowCursor shows an error read_table does not: " + q(error);
      if (!q(error).startsWith(file + ":"))
        return "RowCursor row error without the file: " + q(error);
    }
  } catch (const InputError& e) {
    if (table_accepted) return "RowCursor refuses what read_table reads: " + q(e.what());
    if (!q(e.what()).startsWith(file)) return "RowCursor error without the file: " + q(e.what());
  } catch (const std::exception& e) {
    return QString("RowCursor threw something else than InputError: ") + e.what();
  }
  return {};
}

QString TstHostileInput::checkRegistration(const Case& c) {
  const QByteArray before = projectBytes(m_project);
  std::optional<InputError> refused;
  try {
    auto store = ProjectStore::open(m_project.toStdString());
    deeptune::DatasetSource source;
    source.path = c.path;
    source.name = "case-" + std::to_string(m_registered + 1);
    deeptune::register_dataset(*store, source);  // format from the extension, mapping guessed
    ++m_registered;
  } catch (const InputError& e) {
    refused = e;
  } catch (const std::exception& e) {
    return QString("register_dataset threw something else than InputError: ") + e.what();
  }
  if (!refused) {
    auto store = ProjectStore::open(m_project.toStdString());
    if (int(store->datasets().size()) != m_registered) return "registered, but no dataset added";
    return {};
  }
  if (!q(refused->what()).startsWith(q(c.path)))
    return "register_dataset error without the file: " + q(refused->what());
  if (projectBytes(m_project) != before) return "a refused registration changed the project file";
  return {};
}

QString TstHostileInput::check(Case& c, const std::optional<Table>& original) {
  std::optional<Table> table;
  std::optional<InputError> refused;
  try {
    table = deeptune::read_table(c.path, c.format);
  } catch (const InputError& e) {
    refused = e;
  } catch (const std::exception& e) {
    return QString("read_table threw something else than InputError: ") + e.what();
  }
  if (refused && !q(refused->what()).startsWith(q(c.path)))
    return "read_table error without the file: " + q(refused->what());
  switch (c.expect) {
    case Expect::kEither:
      break;
    case Expect::kRefuse:
      if (table) return "read_table accepted it";
      break;
    case Expect::kAccept:
      if (!table) return "read_table refused it: " + q(refused->what());
      if (rowsOf(*table) != rowsOf(*original))
        return "read_table read other rows than the original";
      break;
    case Expect::kPrefix:
      if (table) {
        const QStringList rows = rowsOf(*table);
        if (rows != rowsOf(*original).mid(0, rows.size()))
          return "a truncation read as rows the original does not have: " +
                 QString(rows.last()).replace(QChar(0x1F), " | ");
      }
      break;
  }
  if (QString problem = checkCursor(c, bool(table)); !problem.isEmpty()) return problem;
  return checkRegistration(c);
}

void TstHostileInput::fuzzFormat_data() {
  QTest::addColumn<DataFormat>("format");
  for (const DataFormat format :
       {DataFormat::kJsonl, DataFormat::kJson, DataFormat::kCsv, DataFormat::kText})
    QTest::newRow(deeptune::to_string(format).c_str()) << format;
}

void TstHostileInput::fuzzFormat() {
  QFETCH(DataFormat, format);
  // One generator per format, so a format's cases do not depend on which others ran.
  QRandomGenerator rng(kSeed + quint32(format));
  std::vector<Case> cases = generateCases(format, rng);
  QVERIFY2(cases.size() >= 300, qPrintable(QString::number(cases.size())));

  const QString original_path = m_dir.filePath("original." + extension(format));
  QFile original_file(original_path);
  QVERIFY(original_file.open(QIODevice::WriteOnly));
  original_file.write(validFile(format));
  original_file.close();
  const std::optional<Table> original = deeptune::read_table(original_path.toStdString(), format);

  QStringList failures;
  int refused = 0;
  for (size_t k = 0; k < cases.size(); ++k) {
    Case& c = cases[k];
    const QString path =
        m_dir.filePath(QString("%1-%2.%3").arg(extension(format)).arg(k).arg(extension(format)));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(c.bytes);
    file.close();
    c.path = path.toStdString();
    const int before = m_registered;
    const QString problem = check(c, original);
    if (m_registered == before) ++refused;
    if (!problem.isEmpty())
      failures << QString("case %1 (%2), file %3: %4").arg(k).arg(c.description, path, problem);
    if (c.expect == Expect::kRefuse) m_refused.push_back(c);
  }
  qInfo("%s: %d inputs, %d refused", qPrintable(extension(format)), int(cases.size()), refused);
  report(failures, int(cases.size()));
  // Both outcomes must be common for the checks above to mean anything.
  QVERIFY2(refused > 100 && int(cases.size()) - refused > 20,
           qPrintable(QString("%1 of %2 refused").arg(refused).arg(cases.size())));
}

// FIFOs, folders, links to them and unreadable files: refused up front, without blocking.
void TstHostileInput::nonRegularFiles() {
  const std::string fifo = m_dir.filePath("pipe.jsonl").toStdString();
  QCOMPARE(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string folder = m_dir.filePath("folder.csv").toStdString();
  QVERIFY(QDir().mkpath(q(folder)));
  const std::string link = m_dir.filePath("link-to-pipe.csv").toStdString();
  QCOMPARE(::symlink(fifo.c_str(), link.c_str()), 0);
  const std::string dangling = m_dir.filePath("dangling.txt").toStdString();
  QCOMPARE(::symlink("nowhere.txt", dangling.c_str()), 0);
  std::vector<std::pair<std::string, QString>> paths = {
      {fifo, "FIFO"}, {folder, "folder"}, {link, "FIFO"}, {dangling, "does not exist"}};
  if (::geteuid() == 0) {
    qInfo("running as root: the unreadable-file case is skipped (root reads any file)");
  } else {
    const QString locked = m_dir.filePath("locked.csv");
    QFile file(locked);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(validFile(DataFormat::kCsv));
    file.close();
    QVERIFY(QFile::setPermissions(locked, QFileDevice::WriteOwner));
    paths.push_back({locked.toStdString(), "Permission denied"});
  }

  const std::vector<std::pair<QString, std::function<void(const std::string&)>>> calls = {
      {"detect_format", [](const std::string& p) { deeptune::detect_format(p); }},
      {"read_table", [](const std::string& p) { deeptune::read_table(p, DataFormat::kCsv); }},
      {"RowCursor", [](const std::string& p) { RowCursor cursor(p, DataFormat::kJsonl); }},
      {"register_dataset", [&](const std::string& p) {
         auto store = ProjectStore::open(m_project.toStdString());
         deeptune::register_dataset(*store, {p, "special", std::nullopt, std::nullopt});
       }}};
  for (const auto& [path, kind] : paths) {
    for (const auto& [name, call] : calls) {
      const QByteArray before = projectBytes(m_project);
      const auto result = deeptune::test::call_guarded(fifo, [&, p = path] { call(p); });
      const QString context = name + " on " + q(path);
      QVERIFY2(!result.blocked, qPrintable(context + ": blocked opening the FIFO"));
      QVERIFY2(result.input_error,
               qPrintable(context + ": " + q(result.other_error.value_or("no exception"))));
      QVERIFY2(q(result.input_error->what()).startsWith(q(path)), result.input_error->what());
      QVERIFY2(q(result.input_error->what()).contains(kind), result.input_error->what());
      QCOMPARE(projectBytes(m_project), before);
    }
    m_refused.push_back({"special file: " + kind, DataFormat::kCsv, {}, Expect::kRefuse, path});
  }
}

// The built CLI over a subset of what must be refused: exit status 2, "error: <file>" on stderr,
// and the project file untouched. Two processes at a time, each with its own project copy.
void TstHostileInput::cliDataAddRefuses() {
  QVERIFY2(!m_refused.empty(), "run with fuzzFormat and nonRegularFiles first");
  // 86 spread evenly over every format and kind of damage, and every special file: each run
  // starts LibTorch, about half a second of CPU.
  std::vector<const Case*> chosen;
  std::vector<const Case*> fuzzed, special;
  for (const Case& c : m_refused)
    (c.description.startsWith("special file") ? special : fuzzed).push_back(&c);
  constexpr size_t kFuzzed = 86;
  for (size_t i = 0; i < kFuzzed && i < fuzzed.size(); ++i)
    chosen.push_back(fuzzed[i * fuzzed.size() / kFuzzed]);
  chosen.insert(chosen.end(), special.begin(), special.end());

  QString projects[2];
  QByteArray baseline[2];
  for (int lane = 0; lane < 2; ++lane) {
    projects[lane] = m_dir.filePath(QString("cli-%1.dtproj").arg(lane));
    QVERIFY(QFile::copy(m_project, projects[lane]));
    baseline[lane] = projectBytes(projects[lane]);
  }

  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("OMP_NUM_THREADS", "1");
  QStringList failures;
  for (size_t k = 0; k < chosen.size(); k += 2) {
    QProcess processes[2];
    const size_t lanes = std::min<size_t>(2, chosen.size() - k);
    for (size_t lane = 0; lane < lanes; ++lane) {
      QProcess& p = processes[lane];
      p.setProcessEnvironment(env);
      p.setStandardInputFile(QProcess::nullDevice());
      p.start(QStringLiteral(DEEPTUNE_CLI_PATH),
              {"data", "add", projects[lane], q(chosen[k + lane]->path)});
    }
    for (size_t lane = 0; lane < lanes; ++lane) {
      QProcess& p = processes[lane];
      const Case& c = *chosen[k + lane];
      const bool finished = p.waitForFinished(30'000);
      if (!finished) p.kill(), p.waitForFinished();
      const QString err = QString::fromUtf8(p.readAllStandardError());
      const QString context = QString("%1 (%2): ").arg(q(c.path), c.description);
      const QString file_name = QFileInfo(q(c.path)).fileName();
      if (!finished)
        failures << context + "did not finish in 30 s";
      else if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 2)
        failures << context + QString("exit %1, stderr: %2").arg(p.exitCode()).arg(err.left(300));
      else if (!err.contains("error: ") || !err.contains(file_name))
        failures << context + "stderr does not say error: and the file: " + err.left(300);
      else if (projectBytes(projects[lane]) != baseline[lane])
        failures << context + "the project file changed";
    }
  }
  qInfo("deeptune-cli data add: %d inputs", int(chosen.size()));
  report(failures, int(chosen.size()));
  QVERIFY(chosen.size() >= kFuzzed + 4);
}

// `init --sample` in a folder that already has a sample-data/: files with the bundled bytes are
// reused, anything else under a bundled name (the user's own file, a FIFO) is left alone and the
// sample goes to the next free sample-data-N.
void TstHostileInput::sampleNeverOverwrites() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const auto add_sample = [&](const QString& name) {
    auto store = ProjectStore::create(dir.filePath(name).toStdString(), "sample");
    deeptune::add_sample_content(*store);
    QStringList paths;
    for (const auto& d : store->datasets()) paths << q(d.path);
    return paths;
  };
  const QStringList first = add_sample("a.dtproj");
  QCOMPARE(first, QStringList({"sample-data/dates.jsonl", "sample-data/dates_fr.jsonl",
                               "sample-data/tickets.csv"}));
  const QByteArray tickets = readBytes(dir.filePath("sample-data/tickets.csv"));
  QVERIFY(!tickets.isEmpty());

  // Same bytes: a second sample project in the folder shares the files.
  QCOMPARE(add_sample("b.dtproj"), first);
  QVERIFY(!QFileInfo::exists(dir.filePath("sample-data-2")));

  // The user's own tickets.csv stays as it is.
  const QByteArray own = "text,label\nmy own ticket,mine\n";
  {
    QFile file(dir.filePath("sample-data/tickets.csv"));
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write(own);
  }
  const QStringList beside = add_sample("c.dtproj");
  QCOMPARE(beside, QStringList({"sample-data-2/dates.jsonl", "sample-data-2/dates_fr.jsonl",
                                "sample-data-2/tickets.csv"}));
  QCOMPARE(readBytes(dir.filePath("sample-data/tickets.csv")), own);
  QCOMPARE(readBytes(dir.filePath("sample-data-2/tickets.csv")), tickets);

  // A FIFO under a bundled name is never opened; a file named like the next folder is skipped.
  const std::string fifo = dir.filePath("sample-data-2/dates.jsonl").toStdString();
  QVERIFY(QFile::remove(q(fifo)));
  QCOMPARE(::mkfifo(fifo.c_str(), 0600), 0);
  {
    QFile file(dir.filePath("sample-data-3"));
    QVERIFY(file.open(QIODevice::WriteOnly));
  }
  QStringList fourth;
  const auto result = deeptune::test::call_guarded(fifo, [&] { fourth = add_sample("d.dtproj"); });
  QVERIFY2(!result.blocked, "opened the FIFO in sample-data-2");
  QVERIFY2(
      !result.input_error && !result.other_error,
      result.input_error ? result.input_error->what() : result.other_error.value_or("").c_str());
  QCOMPARE(fourth, QStringList({"sample-data-4/dates.jsonl", "sample-data-4/dates_fr.jsonl",
                                "sample-data-4/tickets.csv"}));
  QCOMPARE(readBytes(dir.filePath("sample-data/tickets.csv")), own);
}

QTEST_GUILESS_MAIN(TstHostileInput)
#include "tst_hostile_input.moc"
