// RunConfig: defaults, JSON round trip, every rejection (type, range, unknown key, cross-field),
// --set overrides and advisories. Errors must name the key in where() and what(). Also the JSON
// input helpers config files are read with (deeptune/json_input.h): hostile text fails with a line.
#include <sys/stat.h>
#include <unistd.h>

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>
#include <optional>
#include <set>
#include <string>

#include "deeptune/config.h"
#include "deeptune/error.h"
#include "deeptune/json_input.h"
#include "hostile/guards.h"
#include "support/test_support.h"

using deeptune::test::input_error_of;
using deeptune::test::q;

using deeptune::ConfigKeyInfo;
using deeptune::InputError;
using deeptune::RunConfig;
using nlohmann::json;

namespace {

// Sets a dotted key ("train.lr" or "seed") in a nested document.
void set_dotted(json& doc, const std::string& key, const json& value) {
  const auto dot = key.find('.');
  if (dot == std::string::npos) {
    doc[key] = value;
  } else {
    doc[key.substr(0, dot)][key.substr(dot + 1)] = value;
  }
}

// The document from the seed's table, written out by hand (not by to_json).
const char* kSeedDocument = R"({
  "seed": 42, "device": "auto",
  "data": {"dataset": "", "val_fraction": 0.1, "max_length": 256, "chat_template": "auto"},
  "model": {"source": "preset:tiny", "task": "causal_lm"},
  "attention": {"kind": "standard", "temperature": 1.0},
  "lora": {"r": 16, "alpha": 32, "dropout": 0.05, "targets": ["q_proj", "v_proj"], "rslora": false},
  "train": {"mode": "lora", "lr": 3e-4, "batch_size": 64, "micro_batch_size": 16,
            "weight_decay": 0.05, "max_steps": 1000, "warmup_steps": 50, "schedule": "cosine",
            "grad_clip": 1.0, "label_smoothing": 0.0, "precision": "fp32",
            "gradient_checkpointing": "off",
            "eval_every": 100, "checkpoint_every": 200, "nonfinite_patience": 3,
            "nonfinite_lr_factor": 0.5},
  "probe": {"text": [], "rows": [], "attention_every": 50}
})";

}  // namespace

class TestConfig : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void defaultsMatchSeedTable();
  void probesTakeTextsAndRowNumbers();
  void toJsonHasDocumentedShape();
  void emptyDocumentGivesDefaults();
  void roundTrip();
  void integralFloatAcceptedForInt();
  void rejectsBadValue_data();
  void rejectsBadValue();
  void everySchemaKeyRejectsWrongTypeAndRange();
  void rangeMessageShowsValueAndRange();
  void whereWithoutOrigin();
  void rejectsNonObjects();
  void unknownKey_data();
  void unknownKey();
  void crossField_data();
  void crossField();
  void overrides_data();
  void overrides();
  void overrideErrors_data();
  void overrideErrors();
  void advisories();
  void schemaDescribesEveryKey();
  void enumNames();
  void enumChoicesRoundTrip();

  void parseJsonRefuses_data();
  void parseJsonRefuses();
  void parseJsonDepthLimit();
  void readJsonFile();
  void readJsonFileRefusesNonRegularFiles();
};

void TestConfig::defaultsMatchSeedTable() {
  const RunConfig c;
  QCOMPARE(c.seed, uint64_t{42});
  QVERIFY(c.device == deeptune::DeviceChoice::kAuto);
  QCOMPARE(c.data.dataset, std::string());
  QCOMPARE(c.data.val_fraction, 0.1);
  QCOMPARE(c.data.max_length, 256);
  QCOMPARE(c.model.source, std::string("preset:tiny"));
  QVERIFY(c.model.task == deeptune::Task::kCausalLm);
  QVERIFY(c.attention.kind == deeptune::AttentionKind::kStandard);
  QCOMPARE(c.attention.temperature, 1.0);
  QCOMPARE(c.lora.r, 16);
  QCOMPARE(c.lora.alpha, 32.0);
  QCOMPARE(c.lora.dropout, 0.05);
  QCOMPARE(c.lora.targets, (std::vector<std::string>{"q_proj", "v_proj"}));
  QCOMPARE(c.lora.rslora, false);
  QVERIFY(c.train.mode == deeptune::TrainMode::kLora);
  QCOMPARE(c.train.lr, 3e-4);
  QCOMPARE(c.train.batch_size, 64);
  QCOMPARE(c.train.micro_batch_size, 16);
  QCOMPARE(c.train.weight_decay, 0.05);
  QCOMPARE(c.train.max_steps, 1000);
  QCOMPARE(c.train.warmup_steps, 50);
  QVERIFY(c.train.schedule == deeptune::Schedule::kCosine);
  QCOMPARE(c.train.grad_clip, 1.0);
  QCOMPARE(c.train.label_smoothing, 0.0);
  QVERIFY(c.train.precision == deeptune::Precision::kFp32);
  QCOMPARE(c.train.eval_every, 100);
  QCOMPARE(c.train.checkpoint_every, 200);
  QCOMPARE(c.accumulation_steps(), 4);
  QVERIFY(c.advisories().empty());
}

void TestConfig::toJsonHasDocumentedShape() {
  const json expected = json::parse(kSeedDocument);
  const json actual = RunConfig().to_json();
  // json's == compares numbers by value, so the hand-written 32 equals the stored 32.0.
  QVERIFY2(actual == expected, actual.dump().c_str());
  // And the hand-written document parses to the defaults.
  QVERIFY(RunConfig::from_json(expected, "seed.json").to_json() == expected);
  QVERIFY(actual["lora"]["r"].is_number_integer());
  QVERIFY(actual["train"]["lr"].is_number_float());
}

void TestConfig::emptyDocumentGivesDefaults() {
  const RunConfig c = RunConfig::from_json(json::object(), "empty.json");
  QCOMPARE(q(c.to_json().dump()), q(RunConfig().to_json().dump()));
  // A partial section keeps defaults for its other keys.
  const RunConfig partial = RunConfig::from_json(json::parse(R"({"train":{"lr":0.001}})"));
  QCOMPARE(partial.train.lr, 0.001);
  QCOMPARE(partial.train.batch_size, 64);
  QCOMPARE(partial.lora.r, 16);
}

void TestConfig::roundTrip() {
  RunConfig c;
  c.seed = 18446744073709551615ull;  // the largest seed must survive JSON unchanged
  c.device = deeptune::DeviceChoice::kCuda;
  c.data.dataset = "support tickets";
  c.data.val_fraction = 0.25;
  c.data.max_length = 1024;
  c.data.chat_template = deeptune::ChatTemplate::kDeepSeekR1;
  c.model.source = "preset:small";
  c.model.task = deeptune::Task::kClassification;
  c.attention.kind = deeptune::AttentionKind::kTemperature;
  c.attention.temperature = 0.7;
  c.lora.r = 8;
  c.lora.alpha = 16.5;
  c.lora.dropout = 0.0;
  c.lora.targets = {"q_proj", "k_proj", "v_proj", "o_proj"};
  c.lora.rslora = true;
  c.train.mode = deeptune::TrainMode::kFull;
  c.train.lr = 1.5e-5;
  c.train.batch_size = 128;
  c.train.micro_batch_size = 32;
  c.train.weight_decay = 0.0;
  c.train.max_steps = 5000;
  c.train.warmup_steps = 5000;
  c.train.schedule = deeptune::Schedule::kLinear;
  c.train.grad_clip = 0.0;
  c.train.label_smoothing = 0.1;
  c.train.precision = deeptune::Precision::kBf16;
  c.train.eval_every = 0;
  c.train.checkpoint_every = 0;

  const json doc = c.to_json();
  // Through text, as the project file stores it.
  const RunConfig back = RunConfig::from_json(json::parse(doc.dump()), "rt.json");
  QCOMPARE(q(back.to_json().dump()), q(doc.dump()));
  QCOMPARE(back.seed, c.seed);
  QVERIFY(back.device == deeptune::DeviceChoice::kCuda);
  QCOMPARE(back.data.dataset, c.data.dataset);
  QCOMPARE(back.data.max_length, 1024);
  QVERIFY(back.data.chat_template == deeptune::ChatTemplate::kDeepSeekR1);
  QVERIFY(doc.at("data").at("chat_template") == json("deepseek_r1"));
  QVERIFY(back.model.task == deeptune::Task::kClassification);
  QVERIFY(back.attention.kind == deeptune::AttentionKind::kTemperature);
  QCOMPARE(back.attention.temperature, 0.7);
  QCOMPARE(back.lora.alpha, 16.5);
  QCOMPARE(back.lora.targets, c.lora.targets);
  QCOMPARE(back.lora.rslora, true);
  QVERIFY(back.train.mode == deeptune::TrainMode::kFull);
  QCOMPARE(back.train.lr, 1.5e-5);
  QCOMPARE(back.train.warmup_steps, 5000);
  QVERIFY(back.train.schedule == deeptune::Schedule::kLinear);
  QVERIFY(back.train.precision == deeptune::Precision::kBf16);
  QCOMPARE(back.accumulation_steps(), 4);
  QCOMPARE(doc["device"].get<std::string>(), std::string("cuda"));
  QCOMPARE(doc["train"]["precision"].get<std::string>(), std::string("bf16"));
}

void TestConfig::integralFloatAcceptedForInt() {
  const RunConfig c = RunConfig::from_json(
      json::parse(R"({"seed": 7.0, "train": {"batch_size": 64.0, "micro_batch_size": 8.0}})"));
  QCOMPARE(c.seed, uint64_t{7});
  QCOMPARE(c.train.batch_size, 64);
  QCOMPARE(c.train.micro_batch_size, 8);
  // Float keys take integers too.
  QCOMPARE(RunConfig::from_json(json::parse(R"({"lora":{"alpha":64}})")).lora.alpha, 64.0);
}

void TestConfig::rejectsBadValue_data() {
  QTest::addColumn<QString>("key");
  QTest::addColumn<QString>("value");  // JSON text
  QTest::addColumn<QString>("expected");

  auto row = [](const char* name, const char* key, const char* value, const char* expected) {
    QTest::newRow(name) << key << value << expected;
  };
  const char* kRange = "outside the allowed range";
  const char* kInt = "expected an integer";
  const char* kNumber = "expected a number";

  row("seed negative", "seed", "-1", kRange);
  row("seed fractional", "seed", "1.5", kInt);
  row("seed string", "seed", "\"42\"", kInt);
  row("device unknown", "device", "\"tpu\"", "is not one of auto, cpu, cuda");
  row("device number", "device", "1", "expected one of");
  row("dataset number", "data.dataset", "3", "expected a string");
  row("val_fraction high", "data.val_fraction", "0.6", kRange);
  row("val_fraction negative", "data.val_fraction", "-0.1", kRange);
  row("val_fraction string", "data.val_fraction", "\"0.1\"", kNumber);
  row("max_length low", "data.max_length", "7", kRange);
  row("max_length high", "data.max_length", "131073", kRange);
  row("max_length fractional", "data.max_length", "256.5", kInt);
  row("max_length bool", "data.max_length", "true", kInt);
  row("chat_template unknown", "data.chat_template", "\"vicuna\"",
      "is not one of auto, chatml, llama3, deepseek_r1, mistral, llama2");
  row("source empty", "model.source", "\"\"", "accepted forms");
  row("source scheme", "model.source", "\"s3://bucket/llama\"", "accepted forms");
  row("source bare preset", "model.source", "\"preset:\"", "accepted forms");
  row("source number", "model.source", "5", "expected a string");
  row("task unknown", "model.task", "\"seq2seq\"", "is not one of causal_lm, classification");
  row("task null", "model.task", "null", "expected one of");
  row("attention kind", "attention.kind", "\"flash\"", "is not one of standard, temperature");
  row("temperature low", "attention.temperature", "0.001", kRange);
  row("temperature high", "attention.temperature", "101", kRange);
  row("temperature string", "attention.temperature", "\"hot\"", kNumber);
  row("r zero", "lora.r", "0", kRange);
  row("r high", "lora.r", "4097", kRange);
  row("r fractional", "lora.r", "2.5", kInt);
  row("alpha zero", "lora.alpha", "0", kRange);
  row("alpha high", "lora.alpha", "100001", kRange);
  row("alpha bool", "lora.alpha", "false", kNumber);
  row("dropout high", "lora.dropout", "0.95", kRange);
  row("dropout negative", "lora.dropout", "-0.1", kRange);
  row("targets empty", "lora.targets", "[]", "at least one");
  row("targets string", "lora.targets", "\"q_proj\"", "expected a list of strings");
  row("targets number entry", "lora.targets", "[\"q_proj\", 1]", "entry 1 must be a string");
  row("targets empty entry", "lora.targets", "[\"\"]", "entry 0 is an empty string");
  row("rslora string", "lora.rslora", "\"yes\"", "expected true or false");
  row("rslora number", "lora.rslora", "1", "expected true or false");
  row("mode unknown", "train.mode", "\"partial\"", "is not one of lora, full");
  row("lr zero", "train.lr", "0", kRange);
  row("lr high", "train.lr", "1.5", kRange);
  row("lr string", "train.lr", "\"fast\"", kNumber);
  row("batch zero", "train.batch_size", "0", kRange);
  row("batch high", "train.batch_size", "65537", kRange);
  row("batch fractional", "train.batch_size", "3.5", kInt);
  row("micro zero", "train.micro_batch_size", "0", kRange);
  row("micro high", "train.micro_batch_size", "65537", kRange);
  row("micro list", "train.micro_batch_size", "[16]", kInt);
  row("weight_decay high", "train.weight_decay", "1.5", kRange);
  row("weight_decay negative", "train.weight_decay", "-0.01", kRange);
  row("max_steps zero", "train.max_steps", "0", kRange);
  row("max_steps high", "train.max_steps", "1000000001", kRange);
  row("max_steps huge", "train.max_steps", "1e300", kInt);
  row("warmup negative", "train.warmup_steps", "-1", kRange);
  row("warmup high", "train.warmup_steps", "1000000001", kRange);
  row("schedule unknown", "train.schedule", "\"step\"", "is not one of cosine, linear, constant");
  row("grad_clip negative", "train.grad_clip", "-1", kRange);
  row("grad_clip high", "train.grad_clip", "1e7", kRange);
  row("label_smoothing high", "train.label_smoothing", "0.6", kRange);
  row("precision unknown", "train.precision", "\"fp8\"", "is not one of fp32, bf16, fp16");
  row("eval_every negative", "train.eval_every", "-1", kRange);
  row("eval_every string", "train.eval_every", "\"often\"", kInt);
  row("checkpoint negative", "train.checkpoint_every", "-1", kRange);
  row("checkpoint high", "train.checkpoint_every", "1e10", kRange);
  row("checkpoint object", "train.checkpoint_every", "{}", kInt);
}

void TestConfig::rejectsBadValue() {
  QFETCH(QString, key);
  QFETCH(QString, value);
  QFETCH(QString, expected);

  json doc = RunConfig().to_json();
  set_dotted(doc, key.toStdString(), json::parse(value.toStdString()));
  const auto error = input_error_of([&] { RunConfig::from_json(doc, "run.json"); });
  QVERIFY2(error.has_value(), qPrintable("accepted " + key + " = " + value));
  QCOMPARE(q(error->where()), "run.json: " + key);
  QVERIFY2(q(error->what()).contains(key), error->what());
  QVERIFY2(q(error->message()).contains(expected), error->what());
}

// Complements the hand-written rows: no key in the table escapes type and range checking.
void TestConfig::everySchemaKeyRejectsWrongTypeAndRange() {
  for (const ConfigKeyInfo& info : deeptune::config_schema()) {
    const json wrong = info.type == "string" || info.type == "enum" ? json(12) : json("text");
    json doc = json::object();
    set_dotted(doc, info.key, wrong);
    auto error = input_error_of([&] { RunConfig::from_json(doc, "x.json"); });
    QVERIFY2(error.has_value(), info.key.c_str());
    QCOMPARE(q(error->where()), q("x.json: " + info.key));

    std::vector<double> outside;
    if (info.min) outside.push_back(*info.min - 1);
    if (info.max) outside.push_back(*info.max + 1);
    for (double v : outside) {
      json bad = json::object();
      set_dotted(bad, info.key, v);
      error = input_error_of([&] { RunConfig::from_json(bad, "x.json"); });
      QVERIFY2(error.has_value(), qPrintable(q(info.key) + " = " + QString::number(v)));
      QCOMPARE(q(error->where()), q("x.json: " + info.key));
      QVERIFY2(q(error->message()).contains("outside the allowed range"), error->what());
    }
  }
}

void TestConfig::rangeMessageShowsValueAndRange() {
  auto error = input_error_of(
      [] { RunConfig::from_json(json::parse(R"({"train":{"lr":1.5}})"), "run.json"); });
  QVERIFY(error);
  QCOMPARE(q(error->message()), QString("value 1.5 is outside the allowed range (0.0, 1.0]"));
  QCOMPARE(q(error->what()),
           QString("run.json: train.lr: value 1.5 is outside the allowed range (0.0, 1.0]"));

  error = input_error_of(
      [] { RunConfig::from_json(json::parse(R"({"train":{"batch_size":70000}})"), "r.json"); });
  QVERIFY(error);
  QCOMPARE(q(error->message()), QString("value 70000 is outside the allowed range [1, 65536]"));

  error = input_error_of([] { RunConfig::from_json(json::parse(R"({"seed":-5})")); });
  QVERIFY(error);
  QCOMPARE(q(error->message()), QString("value -5 is outside the allowed range >= 0"));
}

void TestConfig::whereWithoutOrigin() {
  const auto error =
      input_error_of([] { RunConfig::from_json(json::parse(R"({"lora":{"r":0}})")); });
  QVERIFY(error);
  QCOMPARE(q(error->where()), QString("lora.r"));
  QVERIFY(q(error->what()).startsWith("lora.r: "));
}

void TestConfig::rejectsNonObjects() {
  auto error = input_error_of([] { RunConfig::from_json(json::array({1, 2}), "list.json"); });
  QVERIFY(error);
  QCOMPARE(q(error->where()), QString("list.json"));
  QVERIFY2(q(error->message()).contains("must be a JSON object"), error->what());

  error = input_error_of([] { RunConfig::from_json(json::parse(R"({"train": 5})"), "r.json"); });
  QVERIFY(error);
  QCOMPARE(q(error->where()), QString("r.json: train"));
  QVERIFY2(q(error->message()).contains("expected an object"), error->what());

  error = input_error_of([] { RunConfig::from_json(json::parse(R"({"lora": null})"), "r.json"); });
  QVERIFY(error);
  QCOMPARE(q(error->where()), QString("r.json: lora"));
}

void TestConfig::unknownKey_data() {
  QTest::addColumn<QString>("document");
  QTest::addColumn<QString>("key");
  QTest::addColumn<QString>("suggestion");  // empty: none expected

  QTest::newRow("typo in section") << R"({"train":{"lrr":0.001}})"
                                   << "train.lrr"
                                   << "train.lr";
  QTest::newRow("swapped letters") << R"({"lora":{"aplha":8}})"
                                   << "lora.aplha"
                                   << "lora.alpha";
  QTest::newRow("top-level typo") << R"({"sed":1})"
                                  << "sed"
                                  << "seed";
  QTest::newRow("section typo") << R"({"trian":{}})"
                                << "trian"
                                << "train";
  QTest::newRow("far from anything") << R"({"train":{"momentum":0.9}})"
                                     << "train.momentum"
                                     << "";
  QTest::newRow("unknown top level") << R"({"optimizer":"adam"})"
                                     << "optimizer"
                                     << "";
}

void TestConfig::unknownKey() {
  QFETCH(QString, document);
  QFETCH(QString, key);
  QFETCH(QString, suggestion);

  const auto error = input_error_of(
      [&] { RunConfig::from_json(json::parse(document.toStdString()), "run.json"); });
  QVERIFY(error);
  QCOMPARE(q(error->where()), "run.json: " + key);
  QVERIFY2(q(error->message()).contains("unknown key '" + key + "'"), error->what());
  if (suggestion.isEmpty()) {
    QVERIFY2(!q(error->message()).contains("did you mean"), error->what());
    QVERIFY2(q(error->message()).contains("known keys here"), error->what());
  } else {
    QVERIFY2(q(error->message()).contains("did you mean '" + suggestion + "'"), error->what());
  }
}

void TestConfig::crossField_data() {
  QTest::addColumn<int>("batch");
  QTest::addColumn<int>("micro");
  QTest::addColumn<int>("maxSteps");
  QTest::addColumn<int>("warmup");
  QTest::addColumn<QString>("key");  // empty: accepted
  QTest::addColumn<QString>("mentions");

  QTest::newRow("not a multiple") << 64 << 24 << 1000 << 50 << "train.batch_size"
                                  << "train.micro_batch_size";
  QTest::newRow("micro above batch") << 64 << 128 << 1000 << 50 << "train.micro_batch_size"
                                     << "train.batch_size";
  QTest::newRow("warmup above max") << 64 << 16 << 100 << 101 << "train.warmup_steps"
                                    << "train.max_steps";
  QTest::newRow("micro equals batch") << 64 << 64 << 1000 << 50 << ""
                                      << "";
  QTest::newRow("warmup equals max") << 64 << 16 << 100 << 100 << ""
                                     << "";
  QTest::newRow("micro of one") << 7 << 1 << 10 << 0 << ""
                                << "";
}

void TestConfig::crossField() {
  QFETCH(int, batch);
  QFETCH(int, micro);
  QFETCH(int, maxSteps);
  QFETCH(int, warmup);
  QFETCH(QString, key);
  QFETCH(QString, mentions);

  json doc = {{"train",
               {{"batch_size", batch},
                {"micro_batch_size", micro},
                {"max_steps", maxSteps},
                {"warmup_steps", warmup}}}};
  const auto error = input_error_of([&] { RunConfig::from_json(doc, "run.json"); });
  if (key.isEmpty()) {
    QVERIFY2(!error, error ? error->what() : "");
    QCOMPARE(RunConfig::from_json(doc).accumulation_steps(), batch / micro);
    return;
  }
  QVERIFY(error);
  QCOMPARE(q(error->where()), "run.json: " + key);
  QVERIFY2(q(error->message()).contains(key), error->what());
  QVERIFY2(q(error->message()).contains(mentions), error->what());
}

void TestConfig::overrides_data() {
  QTest::addColumn<QString>("assignment");
  QTest::addColumn<QString>("key");
  QTest::addColumn<QString>("expected");  // JSON text of the stored value

  QTest::newRow("float") << "train.lr=1e-3"
                         << "train.lr"
                         << "0.001";
  QTest::newRow("int") << "train.batch_size=128"
                       << "train.batch_size"
                       << "128";
  QTest::newRow("integral float to int") << "lora.r=8.0"
                                         << "lora.r"
                                         << "8";
  QTest::newRow("bool") << "lora.rslora=true"
                        << "lora.rslora"
                        << "true";
  QTest::newRow("enum bare") << "device=cpu"
                             << "device"
                             << "\"cpu\"";
  QTest::newRow("enum quoted") << "train.precision=\"bf16\""
                               << "train.precision"
                               << "\"bf16\"";
  QTest::newRow("string with colon") << "model.source=preset:small"
                                     << "model.source"
                                     << "\"preset:small\"";
  QTest::newRow("numeric-looking name") << "data.dataset=2024"
                                        << "data.dataset"
                                        << "\"2024\"";
  QTest::newRow("value with =") << "data.dataset=a=b"
                                << "data.dataset"
                                << "\"a=b\"";
  QTest::newRow("list json") << R"(lora.targets=["q_proj","o_proj"])"
                             << "lora.targets"
                             << R"(["q_proj","o_proj"])";
  QTest::newRow("list commas") << "lora.targets=q_proj, k_proj,v_proj"
                               << "lora.targets"
                               << R"(["q_proj","k_proj","v_proj"])";
  QTest::newRow("list single") << "lora.targets=gate_proj"
                               << "lora.targets"
                               << R"(["gate_proj"])";
  QTest::newRow("top level int") << "seed=7"
                                 << "seed"
                                 << "7";
}

void TestConfig::overrides() {
  QFETCH(QString, assignment);
  QFETCH(QString, key);
  QFETCH(QString, expected);

  json doc = json::parse(R"({"train":{"lr":0.0002}})");
  RunConfig::apply_override(doc, assignment.toStdString());
  const std::string k = key.toStdString();
  const auto dot = k.find('.');
  const json stored = dot == std::string::npos ? doc[k] : doc[k.substr(0, dot)][k.substr(dot + 1)];
  QCOMPARE(q(stored.dump()), q(json::parse(expected.toStdString()).dump()));
  // The result is a valid document that reads back to the value and keeps what was there.
  const json read_back = RunConfig::from_json(doc, "override").to_json();
  const json value =
      dot == std::string::npos ? read_back[k] : read_back[k.substr(0, dot)][k.substr(dot + 1)];
  QCOMPARE(q(value.dump()), q(stored.dump()));
  if (key != "train.lr") QCOMPARE(read_back["train"]["lr"].get<double>(), 0.0002);

  // Overrides also start from an empty document.
  json empty;
  RunConfig::apply_override(empty, assignment.toStdString());
  QVERIFY(empty.is_object());
  RunConfig::from_json(empty);
}

void TestConfig::overrideErrors_data() {
  QTest::addColumn<QString>("assignment");
  QTest::addColumn<QString>("where");
  QTest::addColumn<QString>("expected");

  QTest::newRow("unknown key") << "train.lrr=1e-3"
                               << "train.lrr"
                               << "did you mean 'train.lr'";
  QTest::newRow("unknown section") << "optim.lr=1"
                                   << "optim.lr"
                                   << "unknown key 'optim.lr'";
  QTest::newRow("section only") << "train=1"
                                << "train"
                                << "is a section";
  QTest::newRow("missing =") << "train.lr"
                             << "train.lr"
                             << "KEY=VALUE";
  QTest::newRow("missing key") << "=5"
                               << "=5"
                               << "missing the key";
  QTest::newRow("wrong type") << "train.lr=fast"
                              << "train.lr"
                              << "expected a number";
  QTest::newRow("out of range") << "lora.r=0"
                                << "lora.r"
                                << "outside the allowed range";
  QTest::newRow("bad enum") << "device=tpu"
                            << "device"
                            << "is not one of";
  QTest::newRow("empty list entry") << "lora.targets=q_proj,,v_proj"
                                    << "lora.targets"
                                    << "empty string";
}

void TestConfig::overrideErrors() {
  QFETCH(QString, assignment);
  QFETCH(QString, where);
  QFETCH(QString, expected);

  json doc = RunConfig().to_json();
  const json before = doc;
  const auto error =
      input_error_of([&] { RunConfig::apply_override(doc, assignment.toStdString()); });
  QVERIFY2(error, qPrintable("accepted " + assignment));
  QCOMPARE(q(error->where()), where);
  QVERIFY2(q(error->message()).contains(expected), error->what());
  QCOMPARE(q(doc.dump()), q(before.dump()));  // a rejected override leaves the document alone
}

void TestConfig::advisories() {
  RunConfig c;
  QVERIFY(c.advisories().empty());

  c.train.lr = 0.005;
  auto lines = c.advisories();
  QCOMPARE(lines.size(), size_t{1});
  QCOMPARE(q(lines[0]), QString::fromUtf8("train.lr = 0.005 is outside the recommended "
                                          "1e-05 \u2026 0.001"));

  c.train.batch_size = 8;
  c.train.micro_batch_size = 8;
  c.train.weight_decay = 0.2;
  lines = c.advisories();
  QCOMPARE(lines.size(), size_t{3});
  QVERIFY(q(lines[1]).startsWith("train.batch_size = 8 is outside the recommended 16"));
  QVERIFY(q(lines[2]).startsWith("train.weight_decay = 0.2 "));

  // The edges of the recommended range are inside it.
  RunConfig edges;
  edges.train.lr = 1e-3;
  edges.train.batch_size = 256;
  edges.train.weight_decay = 0.01;
  QVERIFY(edges.advisories().empty());
}

// Probes: texts and row numbers (written as numbers or strings, kept as strings), empty lists
// allowed; anything else named by key and entry.
void TestConfig::probesTakeTextsAndRowNumbers() {
  json doc = json::parse(R"({"probe": {"text": ["Count 3:"], "rows": [0, "12"],
                                        "attention_every": 10}})");
  const auto c = RunConfig::from_json(doc);
  QCOMPARE(c.probe.text, std::vector<std::string>{"Count 3:"});
  QCOMPARE(c.probe.rows, (std::vector<std::string>{"0", "12"}));
  QCOMPARE(c.probe.attention_every, 10);
  QCOMPARE(c.to_json()["probe"]["rows"], json::parse(R"(["0", "12"])"));
  QVERIFY(RunConfig().probe.text.empty() && RunConfig().probe.rows.empty());
  json set = RunConfig().to_json();
  RunConfig::apply_override(set, "probe.rows=3,4");
  QCOMPARE(RunConfig::from_json(set).probe.rows, (std::vector<std::string>{"3", "4"}));
  RunConfig::apply_override(set, "probe.rows=[]");
  QVERIFY(RunConfig::from_json(set).probe.rows.empty());
  for (const char* bad : {R"({"probe": {"rows": ["first"]}})", R"({"probe": {"rows": [-1]}})",
                          R"({"probe": {"rows": [1.5]}})", R"({"probe": {"text": [""]}})",
                          R"({"probe": {"attention_every": -1}})"}) {
    const auto error = input_error_of([&] { RunConfig::from_json(json::parse(bad), "run.json"); });
    QVERIFY2(error, bad);
    QVERIFY2(q(error->where()).startsWith("run.json: probe."), error->what());
  }
}

void TestConfig::schemaDescribesEveryKey() {
  const auto& schema = deeptune::config_schema();
  QCOMPARE(schema.size(), size_t{34});
  std::set<std::string> keys;
  const json defaults = RunConfig().to_json();
  for (const auto& info : schema) {
    QVERIFY2(keys.insert(info.key).second, info.key.c_str());
    QVERIFY2(!info.help.empty(), info.key.c_str());
    QVERIFY2(info.type == "enum" ? !info.choices.empty() : info.choices.empty(), info.key.c_str());
    const auto dot = info.key.find('.');
    const json value = dot == std::string::npos
                           ? defaults.at(info.key)
                           : defaults.at(info.key.substr(0, dot)).at(info.key.substr(dot + 1));
    QCOMPARE(q(info.default_value.dump()), q(value.dump()));
  }
  auto find = [&](const std::string& key) {
    for (const auto& info : schema)
      if (info.key == key) return info;
    return ConfigKeyInfo{};
  };
  const ConfigKeyInfo lr = find("train.lr");
  QCOMPARE(lr.type, std::string("float"));
  QCOMPARE(lr.recommended_min.value_or(-1), 1e-5);
  QCOMPARE(lr.recommended_max.value_or(-1), 1e-3);
  QCOMPARE(lr.max.value_or(-1), 1.0);
  const ConfigKeyInfo batch = find("train.batch_size");
  QCOMPARE(batch.type, std::string("int"));
  QCOMPARE(batch.recommended_min.value_or(-1), 16.0);
  QCOMPARE(batch.recommended_max.value_or(-1), 256.0);
  QCOMPARE(find("train.weight_decay").recommended_max.value_or(-1), 0.1);
  QCOMPARE(find("lora.targets").type, std::string("list"));
  QCOMPARE(find("train.schedule").choices,
           (std::vector<std::string>{"cosine", "linear", "constant"}));
  QCOMPARE(
      find("data.chat_template").choices,
      (std::vector<std::string>{"auto", "chatml", "llama3", "deepseek_r1", "mistral", "llama2"}));
}

void TestConfig::enumNames() {
  QCOMPARE(deeptune::to_string(deeptune::DeviceChoice::kCuda), std::string("cuda"));
  QCOMPARE(deeptune::to_string(deeptune::Task::kClassification), std::string("classification"));
  QCOMPARE(deeptune::to_string(deeptune::AttentionKind::kTemperature), std::string("temperature"));
  QCOMPARE(deeptune::to_string(deeptune::TrainMode::kFull), std::string("full"));
  QCOMPARE(deeptune::to_string(deeptune::Schedule::kConstant), std::string("constant"));
  QCOMPARE(deeptune::to_string(deeptune::Precision::kFp16), std::string("fp16"));
  QCOMPARE(deeptune::to_string(deeptune::ChatTemplate::kDeepSeekR1), std::string("deepseek_r1"));
}

// Every name of every enum key reads back as itself, and a wrong one is refused with the list.
void TestConfig::enumChoicesRoundTrip() {
  int enums = 0;
  for (const ConfigKeyInfo& info : deeptune::config_schema()) {
    if (info.type != "enum") continue;
    ++enums;
    QVERIFY2(info.choices.size() >= 2, info.key.c_str());
    for (const std::string& choice : info.choices) {
      json doc = json::object();
      set_dotted(doc, info.key, choice);
      json back = RunConfig::from_json(doc).to_json();
      const auto dot = info.key.find('.');
      const json& value = dot == std::string::npos
                              ? back[info.key]
                              : back[info.key.substr(0, dot)][info.key.substr(dot + 1)];
      QCOMPARE(q(value.get<std::string>()), q(choice));
    }
    json doc = json::object();
    set_dotted(doc, info.key, "bogus");
    const auto error = input_error_of([&] { RunConfig::from_json(doc); });
    QVERIFY(error);
    for (const std::string& choice : info.choices)
      QVERIFY2(q(error->message()).contains(q(choice)), error->what());
  }
  QCOMPARE(enums, 8);
}

// --- JSON input --------------------------------------------------------------------------------

void TestConfig::parseJsonRefuses_data() {
  QTest::addColumn<QByteArray>("text");
  QTest::addColumn<int>("first_line");
  QTest::addColumn<QString>("at");       // what follows "run.json" in where()
  QTest::addColumn<QString>("message");  // a fragment of the message

  QTest::newRow("syntax error, line 3") << QByteArray("{\n  \"a\": 1,\n  \"b\": }\n") << 1 << ":3"
                                        << "invalid JSON at column 8: syntax error";
  QTest::newRow("syntax error, counted from first_line")
      << QByteArray("{\"a\": 1,\n\"b\" 2}") << 41 << ":42"
      << "invalid JSON at column 5";
  QTest::newRow("cut off: names the last line with text")
      << QByteArray("{\n \"train\": {\"lr\": [1,\n\n  \n") << 1 << ":2"
      << "unexpected end of input; expected '[', '{', or a literal (is the file truncated?)";
  QTest::newRow("number too large") << QByteArray("{\"train\": {\"lr\": 1e400}}") << 1 << ":1"
                                    << "the number 1e400 is out of range (a double holds up to "
                                       "about 1.8e308) at column 18";
  QTest::newRow("number too large after the same text in a string")
      << QByteArray("{\"s\": \"-1e400\",\n \"n\": [0, -1e400]}") << 1 << ":2"
      << "-1e400 is out of range (a double holds up to about 1.8e308) at column 11";
  QTest::newRow("integer too large for any number")
      << QByteArray("[" + QByteArray(400, '9') + "]") << 1 << ":1"
      << "is out of range";
  QTest::newRow("100000 levels of arrays")
      << QByteArray(100000, '[') + QByteArray(100000, ']') << 1 << ":1"
      << "JSON nested deeper than 512 levels at column 513";
  QTest::newRow("deep objects inside a string-laden line")
      << "{\"a\": \"[[[\\\"{{\", \"b\":" + QByteArray(600, '{') << 1 << ":1"
      << "JSON nested deeper than 512 levels at column 533";
  QTest::newRow("NUL byte")
      << QByteArray("{}\0{\"a\": 1}", 12) << 1 << ":1"
      << "a NUL byte (not allowed in JSON text; is the file UTF-16?) at column 3";
  QTest::newRow("UTF-16") << QByteArray("\xFF\xFE{\0}\0", 6) << 1 << ":1"
                          << "a NUL byte";
  QTest::newRow("empty") << QByteArray(" \r\n\t") << 1 << ""
                         << "no JSON value: the text is empty";
}

void TestConfig::parseJsonRefuses() {
  QFETCH(QByteArray, text);
  QFETCH(int, first_line);
  QFETCH(QString, at);
  QFETCH(QString, message);
  const std::string_view view(text.constData(), size_t(text.size()));
  // Any other exception escapes and fails the test.
  const auto error =
      input_error_of([&] { deeptune::parse_json(view, "run.json", size_t(first_line)); });
  QVERIFY2(error, "expected deeptune::InputError");
  QCOMPARE(q(error->where()), "run.json" + at);
  QVERIFY2(q(error->message()).contains(message), error->what());
}

// 512 levels parse (and copy, compare and print: all recursive in nlohmann); 513 do not.
void TestConfig::parseJsonDepthLimit() {
  const size_t limit = deeptune::kMaxJsonDepth;
  const std::string deepest = std::string(limit, '[') + std::string(limit, ']');
  const json value = deeptune::parse_json(deepest, "deep.json");
  const json copy = value;
  QVERIFY(copy == value);
  QCOMPARE(copy.dump(), deepest);
  const std::string one_more = "[" + deepest + "]";
  const auto error = input_error_of([&] { deeptune::parse_json(one_more, "deep.json"); });
  QVERIFY(error);
  QCOMPARE(q(error->where()), QString("deep.json:1"));
}

void TestConfig::readJsonFile() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const auto write = [&](const QString& name, const QByteArray& bytes) {
    QFile file(dir.filePath(name));
    if (!file.open(QIODevice::WriteOnly)) qFatal("cannot write test file");
    file.write(bytes);
    return dir.filePath(name).toStdString();
  };
  const std::string good =
      write("good.json", "\xEF\xBB\xBF{\"seed\": 7,\n \"train\": {\"lr\": 0.001}}\n");
  QCOMPARE(deeptune::read_json_object_file(good)["train"]["lr"].get<double>(), 0.001);
  QCOMPARE(deeptune::read_json_file(write("list.json", "[1, 2]")).size(), size_t{2});

  const auto error_of = [](auto&& f) {
    const auto error = input_error_of(f);
    return error ? q(error->what()) : QString("no InputError");
  };
  const std::string list = write("top.json", "[{\"seed\": 1}]");
  QCOMPARE(error_of([&] { deeptune::read_json_object_file(list); }),
           q(list) + ": the top level must be a JSON object, found an array");
  const std::string number = write("n.json", "\n\n  12");
  QCOMPARE(error_of([&] { deeptune::read_json_object_file(number); }),
           q(number) + ": the top level must be a JSON object, found a number");
  const std::string big = write("big.json", "{\n\"train\": {\"lr\": 1e400}}");
  QVERIFY(error_of([&] {
            deeptune::read_json_object_file(big);
          }).startsWith(q(big) + ":2: the number 1e400"));
  const std::string missing = dir.filePath("absent.json").toStdString();
  QCOMPARE(error_of([&] { deeptune::read_json_file(missing); }), q(missing) + ": does not exist");
  const std::string empty = write("empty.json", "");
  QCOMPARE(error_of([&] { deeptune::read_json_file(empty); }),
           q(empty) + ": no JSON value: the text is empty");

  if (::geteuid() == 0) {
    qInfo("running as root: the unreadable-file case is skipped (root reads any file)");
  } else {
    const std::string locked = write("locked.json", "{}");
    QVERIFY(QFile::setPermissions(q(locked), QFileDevice::WriteOwner));
    QVERIFY(error_of([&] {
              deeptune::read_json_file(locked);
            }).startsWith(q(locked) + ": cannot be read: Permission denied"));
  }
}

void TestConfig::readJsonFileRefusesNonRegularFiles() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string fifo = dir.filePath("config.json").toStdString();
  QCOMPARE(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string folder = dir.filePath("folder.json").toStdString();
  QVERIFY(QDir().mkpath(q(folder)));
  for (const auto& [path, kind] : {std::pair{fifo, "FIFO"}, std::pair{folder, "folder"}}) {
    const auto result =
        deeptune::test::call_guarded(fifo, [p = path] { deeptune::read_json_object_file(p); });
    QVERIFY2(!result.blocked, "blocked opening the FIFO");
    QVERIFY2(result.input_error, result.other_error.value_or("no exception").c_str());
    QCOMPARE(result.input_error->where(), path);
    QVERIFY2(q(result.input_error->what()).contains(kind), result.input_error->what());
  }
}

QTEST_GUILESS_MAIN(TestConfig)
#include "tst_config.moc"
