// RunConfig: the one JSON document that drives a run, from the GUI and from deeptune-cli alike.
// Every key has a type, a default, a hard range (violations are rejected with a message naming
// the key) and, where the seed's table gives one, a recommended range (outside it: a warning).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace deeptune {

enum class DeviceChoice { kAuto, kCpu, kCuda };
enum class Task { kCausalLm, kClassification };
enum class AttentionKind { kStandard, kTemperature };
enum class TrainMode { kLora, kFull };
enum class Schedule { kCosine, kLinear, kConstant };
enum class Precision { kFp32, kBf16, kFp16 };
// What backward recomputes instead of keeping: nothing; each decoder layer from its input (keeps
// one hidden state per layer); or the cheap parts only (norms, the MLP's activation, the
// attention's scores and softmax).
enum class GradientCheckpointing { kOff, kFull, kSelective };
// How a messages dataset becomes text: detected from the tokenizer's chat template, or a family.
enum class ChatTemplate { kAuto, kChatMl, kLlama3, kDeepSeekR1, kMistral, kLlama2 };

struct DataSpec {
  std::string dataset;        // name (or id) of a dataset registered in the project
  double val_fraction = 0.1;  // share of rows held out for validation, [0, 0.5]
  int max_length = 256;       // tokens per example after truncation, [8, 131072]
  ChatTemplate chat_template = ChatTemplate::kAuto;  // messages datasets only
};

struct ModelSpec {
  std::string source =
      "preset:tiny";  // "preset:NAME", "run:NAME" (an earlier run) or a Hugging Face folder path
  Task task = Task::kCausalLm;
};

struct AttentionSpec {
  AttentionKind kind = AttentionKind::kStandard;
  double temperature = 1.0;  // softmax(scores / (sqrt(d) * T)); only read when kind = temperature
};

// Attention probes: texts or dataset rows whose attention maps the trainer captures while it
// trains (the Attention page). Rows are row numbers of the dataset, written as strings.
struct ProbeSpec {
  std::vector<std::string> text;
  std::vector<std::string> rows;
  int attention_every =
      50;  // optimizer steps between captures (also at step 0 and the last); 0 = off
};

struct LoraSpec {
  int r = 16;
  double alpha = 32.0;
  double dropout = 0.05;
  std::vector<std::string> targets{"q_proj", "v_proj"};
  bool rslora = false;  // scale alpha / sqrt(r) instead of alpha / r
};

inline constexpr int kAutoMicroBatch = 0;

struct TrainSpec {
  TrainMode mode = TrainMode::kLora;
  double lr = 3e-4;
  int batch_size = 64;
  // batch_size must be a multiple; accumulation = batch / micro. kAutoMicroBatch ("auto" in JSON):
  // the largest divisor of batch_size that the memory forecast fits on the device.
  int micro_batch_size = 16;
  double weight_decay = 0.05;
  int max_steps = 1000;
  int warmup_steps = 50;
  Schedule schedule = Schedule::kCosine;
  double grad_clip = 1.0;  // max global gradient norm; 0 disables clipping
  double label_smoothing = 0.0;
  Precision precision = Precision::kFp32;
  GradientCheckpointing gradient_checkpointing = GradientCheckpointing::kOff;
  int eval_every = 100;        // optimizer steps between evaluations; 0 = only at the end
  int checkpoint_every = 200;  // optimizer steps between checkpoints; 0 = only at stop/end
  // A step whose loss or gradient is NaN/inf is skipped (no update); after this many in a row the
  // run goes back to its last checkpoint with the learning rate times nonfinite_lr_factor.
  // 0: the first such step fails the run.
  int nonfinite_patience = 3;
  double nonfinite_lr_factor = 0.5;
};

struct RunConfig {
  uint64_t seed = 42;
  DeviceChoice device = DeviceChoice::kAuto;
  DataSpec data;
  ModelSpec model;
  AttentionSpec attention;
  LoraSpec lora;
  TrainSpec train;
  ProbeSpec probe;

  // Full document with every key (defaults filled in), stable key order.
  nlohmann::json to_json() const;

  // Parses and validates. Missing keys take defaults. Throws InputError whose where() is
  // "<origin>: <key>" (e.g. "run.json: train.lr") for an unknown key, a wrong type or a value
  // outside its hard range. `origin` names the file or source for messages ("" allowed).
  static RunConfig from_json(const nlohmann::json& doc, const std::string& origin = "");

  // Applies one "--set KEY=VALUE" to a JSON document (dotted key). VALUE is parsed as JSON when it
  // parses (numbers, true/false, lists), else taken as a string; for list keys a comma-separated
  // string is also accepted. Throws InputError naming the key if it is unknown.
  static void apply_override(nlohmann::json& doc, const std::string& assignment);

  // Human-readable warnings for values inside the hard range but outside the recommended one
  // (e.g. "train.lr = 0.005 is outside the recommended 1e-05 … 0.001").
  std::vector<std::string> advisories() const;

  // 0 while micro_batch_size is auto (resolved when the run starts).
  int accumulation_steps() const {
    return train.micro_batch_size > 0 ? train.batch_size / train.micro_batch_size : 0;
  }
};

// Description of one key for forms and docs (the Hyperparameters page reads this table).
struct ConfigKeyInfo {
  std::string key;   // dotted, e.g. "train.lr"
  std::string type;  // "int", "float", "bool", "string", "enum", "list"
  nlohmann::json default_value;
  std::optional<double> min, max;                          // hard range (numbers)
  std::optional<double> recommended_min, recommended_max;  // soft range (numbers)
  std::vector<std::string> choices;                        // for enums
  bool accepts_auto = false;  // an int key that also takes "auto" (stored as 0)
  bool may_be_empty = false;  // a list key that may be empty
  std::string help;           // one line
};
const std::vector<ConfigKeyInfo>& config_schema();

// enum <-> string, as written in the JSON ("auto", "causal_lm", "temperature", "bf16", ...)
std::string to_string(DeviceChoice v);
std::string to_string(Task v);
std::string to_string(AttentionKind v);
std::string to_string(TrainMode v);
std::string to_string(Schedule v);
std::string to_string(Precision v);
std::string to_string(GradientCheckpointing v);
std::string to_string(ChatTemplate v);

}  // namespace deeptune
