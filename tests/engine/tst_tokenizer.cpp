// Tokenizers: HfTokenizer against what the Hugging Face `tokenizers` library answered on the
// fixture families (tests/interop/make_tokenizer_fixtures.py), hand-checked BPE behaviour, a
// malformed-file corpus that must give InputErrors naming the file and key, ByteTokenizer
// unchanged, and a throughput report (printed, not asserted).
#include <unistd.h>

#include <QtTest>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "deeptune/error.h"
#include "deeptune/json_input.h"
#include "deeptune/text.h"
#include "deeptune/tokenizer.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using deeptune::ByteTokenizer;
using deeptune::HfTokenizer;
using deeptune::InputError;
using nlohmann::json;

using deeptune::test::input_error_of;
using deeptune::test::q;

namespace {

const fs::path kFixtures = fs::path(DEEPTUNE_SOURCE_DIR) / "tests/interop/fixtures/tokenizers";

std::vector<std::string> fixture_families() {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(kFixtures, ec)) return out;
  for (const auto& entry : fs::directory_iterator(kFixtures))
    if (fs::exists(entry.path() / "expected.json")) out.push_back(entry.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

const HfTokenizer& family_tokenizer(const std::string& family) {
  static std::map<std::string, std::unique_ptr<HfTokenizer>> loaded;
  auto& t = loaded[family];
  if (!t) t = deeptune::load_hf_tokenizer((kFixtures / family).string());
  return *t;
}

const json& family_expected(const std::string& family) {
  static std::map<std::string, json> loaded;
  auto it = loaded.find(family);
  if (it == loaded.end())
    it = loaded
             .emplace(family, deeptune::read_json_object_file(
                                  (kFixtures / family / "expected.json").string()))
             .first;
  return it->second;
}

// The case's input: its raw bytes when given (invalid UTF-8), else its text.
std::string case_input(const json& c) {
  if (!c.contains("bytes")) return c["text"].get<std::string>();
  std::string s;
  for (const auto& b : c["bytes"]) s.push_back(static_cast<char>(b.get<int>()));
  return s;
}

std::vector<int32_t> ids_of(const json& a) {
  return a.get<std::vector<int32_t>>();
}

QString show(const std::vector<int32_t>& ids) {
  QStringList parts;
  for (int32_t id : ids) parts << QString::number(id);
  return "[" + parts.join(",") + "]";
}

// A scratch folder holding one tokenizer.json (and optional extra files).
class Folder {
 public:
  Folder() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("dt_tok_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~Folder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
  }
  std::string path() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// A small valid byte-level BPE tokenizer.json; tests corrupt pieces of it.
json tiny_byte_level() {
  json vocab = json::object();
  // The byte-level alphabet for the letters used, plus Ġ (space), then merges' results.
  const char* alphabet[] = {"a", "b", "c", "h", "e", "t", "\xC4\xA0"};
  int id = 0;
  for (const char* s : alphabet) vocab[s] = id++;
  for (const char* s : {"th", "the",
                        "\xC4\xA0"
                        "the",
                        "ab", "abc"})
    vocab[s] = id++;
  return {{"version", "1.0"},
          {"added_tokens", json::array({{{"id", id},
                                         {"content", "<|end|>"},
                                         {"special", true},
                                         {"normalized", false},
                                         {"lstrip", false},
                                         {"rstrip", false},
                                         {"single_word", false}}})},
          {"normalizer", nullptr},
          {"pre_tokenizer",
           {{"type", "ByteLevel"},
            {"add_prefix_space", false},
            {"use_regex", true},
            {"trim_offsets", true}}},
          {"post_processor", nullptr},
          {"decoder", {{"type", "ByteLevel"}}},
          {"model",
           {{"type", "BPE"},
            {"dropout", nullptr},
            {"unk_token", nullptr},
            {"vocab", vocab},
            {"merges", json::array({"t h", json::array({"th", "e"}), "\xC4\xA0 the", "a b",
                                    json::array({"ab", "c"})})}}}};
}

}  // namespace

class TestTokenizer : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  // ---- against the tokenizers library ---------------------------------------------------------
  void fixtures_data() {
    QTest::addColumn<QString>("family");
    QTest::addColumn<int>("index");
    const auto families = fixture_families();
    if (families.empty()) {
      QTest::newRow("no fixtures") << QString() << -1;
      return;
    }
    for (const std::string& family : families) {
      const json& expected = family_expected(family);
      for (size_t i = 0; i < expected["cases"].size(); ++i) {
        std::string text = expected["cases"][i]["text"].get<std::string>().substr(0, 24);
        for (char& c : text)
          if (c == '\n' || c == '\t' || c == '\r') c = ' ';
        QTest::newRow(qPrintable(q(family) + " #" + QString::number(i) + " " + q(text)))
            << q(family) << static_cast<int>(i);
      }
    }
  }
  void fixtures() {
    QFETCH(QString, family);
    QFETCH(int, index);
    if (index < 0) QSKIP("tests/interop/fixtures/tokenizers/ holds no fixtures yet");
    const HfTokenizer& tok = family_tokenizer(family.toStdString());
    const json& c = family_expected(family.toStdString())["cases"][index];
    const std::string input = case_input(c);

    const std::vector<int32_t> ids = tok.encode(input);
    QCOMPARE(show(ids), show(ids_of(c["ids"])));
    const auto pieces = tok.encode_pieces(input);
    QCOMPARE(pieces.size(), c["tokens"].size());
    for (size_t i = 0; i < pieces.size(); ++i)
      QCOMPARE(q(pieces[i].text), q(c["tokens"][i].get<std::string>()));
    QCOMPARE(show(tok.encode_with_specials(input)), show(ids_of(c["ids_with_specials"])));
    QCOMPARE(q(tok.decode(ids)), q(c["decoded"].get<std::string>()));
    QCOMPARE(q(tok.decode(ids_of(c["ids_with_specials"]))),
             q(c["decoded_with_specials"].get<std::string>()));
  }

  void fixture_configs() {
    const auto families = fixture_families();
    if (families.empty()) QSKIP("tests/interop/fixtures/tokenizers/ holds no fixtures yet");
    for (const std::string& family : families) {
      const HfTokenizer& tok = family_tokenizer(family);
      const json& expected = family_expected(family);
      QCOMPARE(tok.vocab_size(), expected["vocab_size"].get<int32_t>());
      QVERIFY2(!tok.chat_template().empty(), family.c_str());
      QCOMPARE(q(tok.describe()["kind"].get<std::string>()), QString("hf"));
      // make_tokenizer rebuilds it from describe()
      const auto again = deeptune::make_tokenizer(tok.describe());
      QCOMPARE(show(again->encode("Hello world 123")), show(tok.encode("Hello world 123")));
    }
    if (std::find(families.begin(), families.end(), "llama3") != families.end()) {
      const HfTokenizer& t = family_tokenizer("llama3");
      QCOMPARE(t.bos_id(), t.token_id("<|begin_of_text|>"));
      QCOMPARE(t.eos_id(), t.token_id("<|eot_id|>"));
      QCOMPARE(t.pad_id(), t.eos_id());  // no pad_token: falls back to eos
      QVERIFY(t.adds_bos());
      QVERIFY(t.is_special(t.bos_id()));
      QCOMPARE(q(t.token_text(t.eos_id())), QString("<|eot_id|>"));
    }
    if (std::find(families.begin(), families.end(), "qwen2") != families.end()) {
      const HfTokenizer& t = family_tokenizer("qwen2");
      QCOMPARE(t.bos_id(), -1);  // "bos_token": null
      QVERIFY(!t.adds_bos());
      QCOMPARE(t.eos_id(), t.token_id("<|im_end|>"));
      QCOMPARE(t.pad_id(), t.token_id("<|endoftext|>"));
      QVERIFY(q(t.chat_template()).contains("<|im_start|>"));
    }
    if (std::find(families.begin(), families.end(), "deepseek_v3") != families.end()) {
      const HfTokenizer& t = family_tokenizer("deepseek_v3");
      QCOMPARE(t.bos_id(), 0);  // {"content": …} form
      QVERIFY(t.adds_bos());
    }
    if (std::find(families.begin(), families.end(), "mistral_sp") != families.end()) {
      const HfTokenizer& t = family_tokenizer("mistral_sp");
      QVERIFY(q(t.chat_template()).contains("[INST]"));  // the list's "default" entry
      QCOMPARE(q(t.token_text(t.token_id("<0x0A>"))), QString("<0x0A>"));
    }
  }

  // ---- hand-checked behaviour -----------------------------------------------------------------
  void tiny_bpe() {
    Folder f;
    f.write("tokenizer.json", tiny_byte_level().dump());
    const auto tok = deeptune::load_hf_tokenizer(f.path());
    // Ids: alphabet 0–6, th 7, the 8, Ġthe 9, ab 10, abc 11, <|end|> 12.
    QCOMPARE(show(tok->encode("the")), show({8}));
    QCOMPARE(show(tok->encode("the the")), show({8, 9}));
    QCOMPARE(show(tok->encode("abcab")), show({11, 10}));
    QCOMPARE(show(tok->encode("the<|end|>abc")), show({8, 12, 11}));
    QCOMPARE(q(tok->decode({8, 9, 12, 11})), QString("the theabc"));
    QCOMPARE(q(tok->decode_keeping_specials({8, 12})), QString("the<|end|>"));
    QCOMPARE(q(tok->token_text(9)), QString("\xC4\xA0the"));
    QCOMPARE(tok->token_id("<|end|>"), 12);
    QCOMPARE(tok->token_id("nope"), -1);
    QCOMPARE(tok->vocab_size(), 13);
    QCOMPARE(tok->bos_id(), -1);
    QCOMPARE(tok->pad_id(), 0);  // no pad, no eos: 0
    QVERIFY(!tok->adds_bos());
    QVERIFY(tok->chat_template().empty());
    // A character outside the vocabulary (no unk, no byte fallback) is dropped, as tokenizers does.
    QCOMPARE(show(tok->encode("tz")), show({5}));
    // Invalid UTF-8 is U+FFFD (not in this vocabulary, so dropped); nothing crashes.
    QCOMPARE(show(tok->encode("the\xFF")), show({8}));
    QCOMPARE(q(tok->decode({-5, 8, 1000})), QString("the"));
  }

  // Split regexes follow Oniguruma's classes: \w takes combining marks (so "e" + U+0301 stays one
  // pre-token and merges), \s takes U+0085.
  void oniguruma_classes() {
    Folder f;
    json t = tiny_byte_level();
    t["pre_tokenizer"] = {{"type", "Split"},
                          {"pattern", {{"Regex", "\\w+|[^\\w\\s]+"}}},
                          {"behavior", "Removed"},
                          {"invert", true}};
    t["decoder"] = nullptr;
    t["model"]["vocab"] = {{"e", 0}, {"\xCC\x81", 1}, {"e\xCC\x81", 2}, {"x", 3}, {"\xC2\x85", 4}};
    t["model"]["merges"] = json::array({"e \xCC\x81"});
    t["added_tokens"] = json::array();
    f.write("tokenizer.json", t.dump());
    const auto tok = deeptune::load_hf_tokenizer(f.path());
    QCOMPARE(show(tok->encode("e\xCC\x81")), show({2}));
    QCOMPARE(show(tok->encode("x\xC2\x85x")),
             show({3, 3}));  // U+0085 is whitespace: removed, not kept as 4
  }

  void tokenizer_config() {
    Folder f;
    json t = tiny_byte_level();
    t["post_processor"] = {{"type", "TemplateProcessing"},
                           {"single", json::array({{{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
                           {"pair", json::array()},
                           {"special_tokens", json::object()}};
    f.write("tokenizer.json", t.dump());
    f.write("tokenizer_config.json",
            R"({"add_bos_token": true, "add_eos_token": true, "bos_token": {"content": "a"},
                "eos_token": "<|end|>", "chat_template": [{"name": "rag", "template": "R"},
                {"name": "default", "template": "D"}]})");
    f.write("special_tokens_map.json", R"({"pad_token": "b"})");
    const auto tok = deeptune::load_hf_tokenizer(f.path());
    QCOMPARE(tok->bos_id(), 0);
    QCOMPARE(tok->eos_id(), 12);
    QCOMPARE(tok->pad_id(), 1);
    QVERIFY(tok->adds_bos());
    QCOMPARE(show(tok->encode_with_specials("the")), show({0, 8, 12}));
    QCOMPARE(q(tok->chat_template()), QString("D"));

    // add_bos_token false takes away the BOS the template adds (as transformers rebuilds it).
    Folder g;
    t["post_processor"] = {
        {"type", "TemplateProcessing"},
        {"single", json::array({{{"SpecialToken", {{"id", "a"}, {"type_id", 0}}}},
                                {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
        {"special_tokens", {{"a", {{"id", "a"}, {"ids", {0}}, {"tokens", {"a"}}}}}}};
    g.write("tokenizer.json", t.dump());
    g.write("tokenizer_config.json", R"({"add_bos_token": false, "bos_token": "a"})");
    const auto without = deeptune::load_hf_tokenizer(g.path());
    QCOMPARE(show(without->encode_with_specials("the")), show({8}));
    QVERIFY(!without->adds_bos());
    g.write("tokenizer_config.json", R"({"bos_token": "a"})");
    QCOMPARE(show(deeptune::load_hf_tokenizer(g.path())->encode_with_specials("the")),
             show({0, 8}));
  }

  // Without tokenizer_config.json: ids from config.json / generation_config.json (eos may be a
  // list: the first), the template from chat_template.jinja.
  void model_config_fallbacks() {
    Folder f;
    f.write("tokenizer.json", tiny_byte_level().dump());
    f.write("config.json", R"({"bos_token_id": 3, "eos_token_id": [5, 6]})");
    f.write("generation_config.json", R"({"pad_token_id": 4})");
    f.write("chat_template.jinja", "{{ messages }}");
    const auto tok = deeptune::load_hf_tokenizer(f.path());
    QCOMPARE(tok->bos_id(), 3);
    QCOMPARE(tok->eos_id(), 5);
    QCOMPARE(tok->pad_id(), 4);
    QVERIFY(!tok->adds_bos());  // no post-processor adds it
    QCOMPARE(q(tok->chat_template()), QString("{{ messages }}"));
  }

  // One tokenizer shared by threads gives each the answer it gives alone (the BPE cache is
  // shared, the scratch buffers are per thread).
  void concurrent_encoding() {
    const auto families = fixture_families();
    if (families.empty()) QSKIP("no fixtures");
    const HfTokenizer& tok = family_tokenizer(families.front());
    std::vector<std::string> texts;
    for (const auto& c : family_expected(families.front())["cases"]) texts.push_back(case_input(c));
    std::vector<std::vector<int32_t>> alone;
    for (const auto& t : texts) alone.push_back(tok.encode(t));
    std::vector<int> mismatches(4, 0);
    std::vector<std::thread> threads;
    for (int k = 0; k < 4; ++k)
      threads.emplace_back([&, k] {
        for (int round = 0; round < 50; ++round)
          for (size_t i = 0; i < texts.size(); ++i)
            if (tok.encode(texts[(i + k * 7) % texts.size()]) != alone[(i + k * 7) % texts.size()])
              ++mismatches[k];
      });
    for (auto& t : threads) t.join();
    QCOMPARE(mismatches, std::vector<int>(4, 0));
  }

  // ---- malformed files ------------------------------------------------------------------------
  void malformed_data() {
    QTest::addColumn<QString>("tokenizer_json");
    QTest::addColumn<QString>("config_json");
    QTest::addColumn<QString>("expected_where");  // part of InputError::where()
    QTest::addColumn<QString>("expected_message");

    const json good = tiny_byte_level();
    const auto with = [&](auto edit) {
      json t = good;
      edit(t);
      return q(t.dump());
    };
    const std::string text = good.dump();
    QTest::newRow("truncated") << q(text.substr(0, text.size() / 2)) << QString()
                               << "tokenizer.json"
                               << "truncated";
    QTest::newRow("not an object") << "[1, 2]" << QString() << "tokenizer.json"
                                   << "object";
    QTest::newRow("no model") << with([](json& t) { t.erase("model"); }) << QString() << "model"
                              << "missing";
    QTest::newRow("vocab is an array") << with([](json& t) {
      t["model"]["vocab"] = {1, 2};
    }) << QString() << "model.vocab"
                                       << "object";
    QTest::newRow("id is a string") << with([](json& t) { t["model"]["vocab"]["a"] = "0"; })
                                    << QString() << "model.vocab[\"a\"]"
                                    << "integer";
    QTest::newRow("unknown model")
        << with([](json& t) { t["model"]["type"] = "WordPiece"; }) << QString() << "model.type"
        << "supported: BPE";
    QTest::newRow("merge names unknown token")
        << with([](json& t) { t["model"]["merges"][1] = "th zz"; }) << QString()
        << "model.merges[1]"
        << "'zz'";
    QTest::newRow("merge result unknown")
        << with([](json& t) { t["model"]["merges"][0] = "a a"; }) << QString() << "model.merges[0]"
        << "'aa'";
    QTest::newRow("merge of three") << with([](json& t) { t["model"]["merges"][0] = "a b c"; })
                                    << QString() << "model.merges[0]"
                                    << "two tokens";
    QTest::newRow("merge is a number")
        << with([](json& t) { t["model"]["merges"][0] = 7; }) << QString() << "model.merges[0]"
        << "found a number";
    QTest::newRow("bad regex") << with([](json& t) {
      t["pre_tokenizer"] = {{"type", "Split"},
                            {"pattern", {{"Regex", "(\\p{L}+"}}},
                            {"behavior", "Isolated"},
                            {"invert", false}};
    }) << QString() << "pre_tokenizer.pattern.Regex"
                               << "offset";
    QTest::newRow("unknown behaviour") << with([](json& t) {
      t["pre_tokenizer"] = {{"type", "Split"},
                            {"pattern", {{"String", " "}}},
                            {"behavior", "Sideways"},
                            {"invert", false}};
    }) << QString() << "pre_tokenizer.behavior"
                                       << "Sideways";
    QTest::newRow("unknown pre-tokenizer") << with([](json& t) {
      t["pre_tokenizer"] = {{"type", "BertPreTokenizer"}};
    }) << QString() << "pre_tokenizer.type"
                                           << "supported: Split";
    QTest::newRow("unknown normalizer") << with([](json& t) {
      t["normalizer"] = {{"type", "Sequence"},
                         {"normalizers", json::array({{{"type", "Precompiled"}}})}};
    }) << QString() << "normalizer.normalizers[0].type"
                                        << "supported: NFC";
    QTest::newRow("unknown decoder") << with([](json& t) {
      t["decoder"] = {{"type", "WordPiece"}};
    }) << QString() << "decoder.type"
                                     << "supported: ByteLevel";
    QTest::newRow("id out of range")
        << with([](json& t) { t["model"]["vocab"]["a"] = 4000000000LL; }) << QString()
        << "model.vocab[\"a\"]"
        << "out of range";
    QTest::newRow("sparse ids") << with([](json& t) { t["model"]["vocab"]["a"] = 16000000; })
                                << QString() << "model.vocab"
                                << "ids out of range";
    QTest::newRow("negative added id") << with([](json& t) { t["added_tokens"][0]["id"] = -1; })
                                       << QString() << "added_tokens[0].id"
                                       << "out of range";
    QTest::newRow("template id out of range") << with([](json& t) {
      t["post_processor"] = {
          {"type", "TemplateProcessing"},
          {"single", json::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                  {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
          {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {99}}, {"tokens", {"<s>"}}}}}}};
    }) << QString() << "post_processor.special_tokens.<s>.ids[0]"
                                              << "out of range";
    QTest::newRow("duplicate vocab id")
        << with([](json& t) { t["model"]["vocab"]["b"] = 0; }) << QString() << "model.vocab"
        << "duplicate id 0";
    QTest::newRow("duplicate added id") << with([](json& t) {
      t["added_tokens"].push_back(t["added_tokens"][0]);
      t["added_tokens"][1]["content"] = "<|other|>";
    }) << QString() << "added_tokens[1].id"
                                        << "duplicate id";
    QTest::newRow("dropout") << with([](json& t) { t["model"]["dropout"] = 0.1; }) << QString()
                             << "model.dropout"
                             << "dropout";
    QTest::newRow("unk not in vocab") << with([](json& t) { t["model"]["unk_token"] = "<unk>"; })
                                      << QString() << "model.unk_token"
                                      << "<unk>";
    QString deep;
    for (int i = 0; i < 100000; ++i) deep += "{\"type\":\"Sequence\",\"normalizers\":[";
    QTest::newRow("deeply nested") << "{\"model\":" + deep << QString() << "tokenizer.json"
                                   << "";
    QTest::newRow("bad bos in config") << q(text) << R"({"bos_token": "<nope>"})"
                                       << "tokenizer_config.json: bos_token"
                                       << "<nope>";
    QTest::newRow("config wrong type") << q(text) << R"({"eos_token": 5})"
                                       << "tokenizer_config.json: eos_token"
                                       << "a number";
    QTest::newRow("chat template wrong type") << q(text) << R"({"chat_template": 5})"
                                              << "tokenizer_config.json: chat_template"
                                              << "a number";
    QTest::newRow("truncated config") << q(text) << R"({"bos_token": )"
                                      << "tokenizer_config.json"
                                      << "truncated";
  }
  void malformed() {
    QFETCH(QString, tokenizer_json);
    QFETCH(QString, config_json);
    QFETCH(QString, expected_where);
    QFETCH(QString, expected_message);
    Folder f;
    f.write("tokenizer.json", tokenizer_json.toStdString());
    if (!config_json.isEmpty()) f.write("tokenizer_config.json", config_json.toStdString());
    const auto error = input_error_of([&] { deeptune::load_hf_tokenizer(f.path()); });
    QVERIFY2(error.has_value(), "no InputError");
    QVERIFY2(q(error->where()).contains(expected_where), error->what());
    QVERIFY2(q(error->what()).contains(f.path().c_str()), error->what());  // names the file
    QVERIFY2(q(error->message()).contains(expected_message), error->what());
  }

  void missing_file() {
    Folder f;
    const auto error = input_error_of([&] { deeptune::load_hf_tokenizer(f.path()); });
    QVERIFY(error.has_value());
    QVERIFY2(q(error->where()).contains("tokenizer.json"), error->what());
    const auto described = input_error_of([&] {
      deeptune::make_tokenizer(json{{"kind", "hf"}, {"dir", f.path() + "/nope"}});
    });
    QVERIFY(described.has_value());
    QVERIFY(input_error_of([&] { deeptune::make_tokenizer(json{{"kind", "hf"}}); }).has_value());
  }

  // Long runs (one pre-token of a megabyte, or no pre-tokenizer at all), random bytes: no
  // exception, no crash; byte-level families give back exactly what was encoded.
  void long_and_hostile_inputs() {
    const auto families = fixture_families();
    if (families.empty()) QSKIP("no fixtures");
    std::string random_bytes(1 << 18, ' ');
    uint32_t state = 12345;
    for (char& c : random_bytes) {
      state = state * 1664525u + 1013904223u;
      c = static_cast<char>(state >> 24);
    }
    const std::vector<std::string> inputs = {
        std::string(1 << 20, ' '),  std::string(1 << 20, 'a'),    std::string(1 << 20, '7'),
        std::string(1 << 19, '\n'), std::string(1 << 18, '\xFF'), random_bytes};
    for (const std::string& family : families) {
      const HfTokenizer& tok = family_tokenizer(family);
      for (const std::string& input : inputs) {
        std::vector<int32_t> ids;
        try {
          ids = tok.encode(input);
        } catch (const std::exception& e) {
          QFAIL(qPrintable(q(family) + ": " + e.what()));
        }
        if (input[0] == 'a') QVERIFY(!ids.empty());  // (options strips whitespace away)
        for (int32_t id : ids) QVERIFY(id >= 0 && id < tok.vocab_size());
        if (family == "llama3" || family == "deepseek_v3") {
          const auto pieces = tok.decode(ids);
          QVERIFY2(deeptune::is_valid_utf8(pieces), family.c_str());
          if (deeptune::is_valid_utf8(input)) QVERIFY2(pieces == input, family.c_str());
        }
      }
    }
  }

  // ---- ByteTokenizer, unchanged ---------------------------------------------------------------
  void byte_tokenizer() {
    const ByteTokenizer tok;
    QCOMPARE(show(tok.encode("A\xC3\xA9")), show({65, 0xC3, 0xA9}));
    QCOMPARE(q(tok.decode({65, ByteTokenizer::kBos, 0xC3, 0xA9, ByteTokenizer::kEos})),
             QString::fromUtf8("A\xC3\xA9"));
    QCOMPARE(show(tok.encode_with_specials("hi")), show({ByteTokenizer::kBos, 'h', 'i'}));
    QVERIFY(tok.adds_bos());
    QCOMPARE(q(tok.token_text('a')), QString("a"));
    QCOMPARE(q(tok.token_text('\n')), QString("<0x0A>"));
    QCOMPARE(q(tok.token_text(ByteTokenizer::kEos)), QString("<eos>"));
    QCOMPARE(tok.token_id("<0x0A>"), 10);
    QCOMPARE(tok.token_id("<bos>"), ByteTokenizer::kBos);
    QCOMPARE(tok.token_id("zz"), -1);
    QVERIFY(tok.chat_template().empty());
    const auto again = deeptune::make_tokenizer(tok.describe());
    QCOMPARE(q(again->kind()), QString("byte"));
    QVERIFY(input_error_of([] { deeptune::make_tokenizer(json{{"kind", "nope"}}); }).has_value());
  }

  // ---- throughput (reported, not asserted) ----------------------------------------------------
  void throughput() {
    const auto families = fixture_families();
    if (families.empty()) QSKIP("no fixtures to measure on");
    for (const std::string& family : families) {
      const HfTokenizer& tok = family_tokenizer(family);
      // Mixed text: every fixture string, repeated to ~2 MB, as one document per string.
      std::vector<std::string> docs;
      size_t bytes = 0;
      while (bytes < (2u << 20)) {
        for (const auto& c : family_expected(family)["cases"]) {
          docs.push_back(case_input(c));
          bytes += docs.back().size();
        }
      }
      size_t n = 0;
      const auto start = std::chrono::steady_clock::now();
      for (const std::string& d : docs) n += tok.encode(d).size();
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      qInfo("%s: %.1f MB/s (%zu bytes, %zu tokens, %.3f s)", family.c_str(), bytes / 1e6 / seconds,
            bytes, n, seconds);
    }
  }
};

QTEST_GUILESS_MAIN(TestTokenizer)
#include "tst_tokenizer.moc"
