// RunConfig <-> JSON. One table of key descriptors drives parsing, validation, to_json, overrides,
// advisories and the schema the GUI reads, so a key's rules are written down exactly once.
#include <algorithm>
#include <cmath>
#include <functional>
#include <type_traits>
#include <utility>

#include "core/enum_names.h"
#include "deeptune/config.h"
#include "deeptune/error.h"

namespace deeptune {
namespace {

using nlohmann::json;

// ---- enum names ---------------------------------------------------------------------------------

constexpr EnumName<DeviceChoice> kDeviceNames[] = {
    {DeviceChoice::kAuto, "auto"}, {DeviceChoice::kCpu, "cpu"}, {DeviceChoice::kCuda, "cuda"}};
constexpr EnumName<Task> kTaskNames[] = {{Task::kCausalLm, "causal_lm"},
                                         {Task::kClassification, "classification"}};
constexpr EnumName<AttentionKind> kAttentionNames[] = {
    {AttentionKind::kStandard, "standard"}, {AttentionKind::kTemperature, "temperature"}};
constexpr EnumName<TrainMode> kTrainModeNames[] = {{TrainMode::kLora, "lora"},
                                                   {TrainMode::kFull, "full"}};
constexpr EnumName<Schedule> kScheduleNames[] = {{Schedule::kCosine, "cosine"},
                                                 {Schedule::kLinear, "linear"},
                                                 {Schedule::kConstant, "constant"}};
constexpr EnumName<Precision> kPrecisionNames[] = {
    {Precision::kFp32, "fp32"}, {Precision::kBf16, "bf16"}, {Precision::kFp16, "fp16"}};
constexpr EnumName<GradientCheckpointing> kCheckpointingNames[] = {
    {GradientCheckpointing::kOff, "off"},
    {GradientCheckpointing::kFull, "full"},
    {GradientCheckpointing::kSelective, "selective"}};
constexpr EnumName<ChatTemplate> kChatTemplateNames[] = {
    {ChatTemplate::kAuto, "auto"},       {ChatTemplate::kChatMl, "chatml"},
    {ChatTemplate::kLlama3, "llama3"},   {ChatTemplate::kDeepSeekR1, "deepseek_r1"},
    {ChatTemplate::kMistral, "mistral"}, {ChatTemplate::kLlama2, "llama2"}};

// Overloaded on a value of the enum so the templates below find the table from the type alone.
const auto& enum_names(DeviceChoice) {
  return kDeviceNames;
}
const auto& enum_names(Task) {
  return kTaskNames;
}
const auto& enum_names(AttentionKind) {
  return kAttentionNames;
}
const auto& enum_names(TrainMode) {
  return kTrainModeNames;
}
const auto& enum_names(Schedule) {
  return kScheduleNames;
}
const auto& enum_names(Precision) {
  return kPrecisionNames;
}
const auto& enum_names(GradientCheckpointing) {
  return kCheckpointingNames;
}
const auto& enum_names(ChatTemplate) {
  return kChatTemplateNames;
}

// ---- value <-> json for the member types a key can have -----------------------------------------

json encode(int v) {
  return v;
}
json encode(uint64_t v) {
  return v;
}
json encode(double v) {
  return v;
}
json encode(bool v) {
  return v;
}
json encode(const std::string& v) {
  return v;
}
json encode(const std::vector<std::string>& v) {
  return v;
}
template <typename E, std::enable_if_t<std::is_enum_v<E>, int> = 0>
json encode(E v) {
  return name_of(enum_names(v), v);
}

// decode() receives values already checked by normalize(), so conversions cannot fail.
void decode(const json& v, int* out) {
  *out = v.get<int>();
}
void decode(const json& v, uint64_t* out) {
  *out = v.get<uint64_t>();
}
void decode(const json& v, double* out) {
  *out = v.get<double>();
}
void decode(const json& v, bool* out) {
  *out = v.get<bool>();
}
void decode(const json& v, std::string* out) {
  *out = v.get<std::string>();
}
void decode(const json& v, std::vector<std::string>* out) {
  *out = v.get<std::vector<std::string>>();
}
template <typename E, std::enable_if_t<std::is_enum_v<E>, int> = 0>
void decode(const json& v, E* out) {
  *out = *value_of(enum_names(E{}), v.get<std::string>());
}

enum class KeyType { kInt, kFloat, kBool, kString, kEnum, kList };

const char* type_name(KeyType t) {
  switch (t) {
    case KeyType::kInt:
      return "int";
    case KeyType::kFloat:
      return "float";
    case KeyType::kBool:
      return "bool";
    case KeyType::kString:
      return "string";
    case KeyType::kEnum:
      return "enum";
    case KeyType::kList:
      return "list";
  }
  return "?";
}

template <typename T>
KeyType key_type_of() {
  if constexpr (std::is_same_v<T, bool>) {
    return KeyType::kBool;
  } else if constexpr (std::is_integral_v<T>) {
    return KeyType::kInt;
  } else if constexpr (std::is_floating_point_v<T>) {
    return KeyType::kFloat;
  } else if constexpr (std::is_enum_v<T>) {
    return KeyType::kEnum;
  } else if constexpr (std::is_same_v<T, std::string>) {
    return KeyType::kString;
  } else {
    static_assert(std::is_same_v<T, std::vector<std::string>>, "unsupported config member type");
    return KeyType::kList;
  }
}

// ---- the key table ------------------------------------------------------------------------------

// Extra check for a string key; returns an error message, or "" when the value is acceptable.
using StringCheck = std::function<std::string(const std::string&)>;

struct KeyDescriptor {
  ConfigKeyInfo info;
  KeyType type = KeyType::kString;
  bool min_exclusive = false;  // (min, max] instead of [min, max]
  std::function<json(const RunConfig&)> get;
  std::function<void(RunConfig&, const json&)> set;  // value already normalized
  StringCheck check;

  KeyDescriptor& range(std::optional<double> lo, std::optional<double> hi) {
    info.min = lo;
    info.max = hi;
    return *this;
  }
  KeyDescriptor& above(double lo, double hi) {
    range(lo, hi);
    min_exclusive = true;
    return *this;
  }
  KeyDescriptor& recommended(double lo, double hi) {
    info.recommended_min = lo;
    info.recommended_max = hi;
    return *this;
  }
  KeyDescriptor& help(std::string text) {
    info.help = std::move(text);
    return *this;
  }
  KeyDescriptor& checked_by(StringCheck fn) {
    check = std::move(fn);
    return *this;
  }
  // A list key whose empty list is meaningful (nothing chosen).
  KeyDescriptor& may_be_empty() {
    info.may_be_empty = true;
    return *this;
  }
  // An int key that also takes the string "auto", held as 0 (outside the hard range).
  KeyDescriptor& or_auto() {
    info.accepts_auto = true;
    auto get_int = get;
    auto set_int = set;
    get = [get_int](const RunConfig& c) {
      json v = get_int(c);
      return v == 0 ? json("auto") : v;
    };
    set = [set_int](RunConfig& c, const json& v) { set_int(c, v.is_string() ? json(0) : v); };
    return *this;
  }
};

// `ref` is a generic lambda returning the member of a (const or mutable) RunConfig.
template <typename T, typename Ref>
KeyDescriptor make_key(std::string key, Ref ref) {
  KeyDescriptor d;
  d.info.key = std::move(key);
  d.type = key_type_of<T>();
  d.info.type = type_name(d.type);
  if constexpr (std::is_enum_v<T>) d.info.choices = names_of(enum_names(T{}));
  d.get = [ref](const RunConfig& c) { return encode(ref(c)); };
  d.set = [ref](RunConfig& c, const json& v) { decode(v, &ref(c)); };
  return d;
}

template <typename T>
KeyDescriptor top_key(std::string key, T RunConfig::*member) {
  return make_key<T>(
      std::move(key), [member](auto& c) -> auto& { return c.*member; });
}

template <typename S, typename T>
KeyDescriptor section_key(std::string key, S RunConfig::*section, T S::*member) {
  return make_key<T>(
      std::move(key), [ section, member ](auto& c) -> auto& { return (c.*section).*member; });
}

// The one place that decides which model sources are accepted: a preset, an earlier run, or a
// Hugging Face model folder (a path; whether it holds a model is checked when a run is created).
std::string check_model_source(const std::string& source) {
  for (const std::string prefix : {"preset:", "run:"})
    if (source.compare(0, prefix.size(), prefix) == 0 && source.size() > prefix.size()) return "";
  const bool path = !source.empty() && source.find(':') == std::string::npos;
  if (path) return "";
  return "unsupported model source \"" + source +
         "\"; accepted forms: \"preset:NAME\" (e.g. \"preset:tiny\"), \"run:NAME\" (the "
         "final weights of an earlier run of the project) or the path of a Hugging Face model "
         "folder (config.json, *.safetensors, tokenizer.json)";
}

constexpr double kBillion = 1e9;

std::vector<KeyDescriptor> build_table() {
  std::vector<KeyDescriptor> t;
  t.push_back(top_key("seed", &RunConfig::seed)
                  .range(0, std::nullopt)
                  .help("Random seed for initialisation, shuffling and dropout"));
  t.push_back(
      top_key("device", &RunConfig::device).help("Where to train: auto picks CUDA when available"));

  t.push_back(section_key("data.dataset", &RunConfig::data, &DataSpec::dataset)
                  .help("Name of a dataset registered in the project"));
  t.push_back(section_key("data.val_fraction", &RunConfig::data, &DataSpec::val_fraction)
                  .range(0, 0.5)
                  .help("Share of rows held out for validation"));
  t.push_back(section_key("data.max_length", &RunConfig::data, &DataSpec::max_length)
                  .range(8, 131072)
                  .help("Tokens per example after truncation"));
  t.push_back(section_key("data.chat_template", &RunConfig::data, &DataSpec::chat_template)
                  .help("How a messages dataset becomes text: auto follows the tokenizer's chat "
                        "template (ChatML when it has none), or name the family"));

  t.push_back(
      section_key("model.source", &RunConfig::model, &ModelSpec::source)
          .checked_by(check_model_source)
          .help("Model to start from: preset:NAME, or run:NAME to continue from an earlier run"));
  t.push_back(section_key("model.task", &RunConfig::model, &ModelSpec::task)
                  .help("causal_lm: next-token prediction; classification: a label per example"));

  t.push_back(section_key("attention.kind", &RunConfig::attention, &AttentionSpec::kind)
                  .help("Attention variant"));
  t.push_back(
      section_key("attention.temperature", &RunConfig::attention, &AttentionSpec::temperature)
          .range(0.01, 100)
          .help("Softmax temperature T (scores / (sqrt(d) * T)); used by kind=temperature"));

  t.push_back(
      section_key("lora.r", &RunConfig::lora, &LoraSpec::r).range(1, 4096).help("LoRA rank"));
  t.push_back(section_key("lora.alpha", &RunConfig::lora, &LoraSpec::alpha)
                  .above(0, 100000)
                  .help("LoRA scale numerator: scale = alpha / r"));
  t.push_back(section_key("lora.dropout", &RunConfig::lora, &LoraSpec::dropout)
                  .range(0, 0.9)
                  .help("Dropout on the LoRA input"));
  t.push_back(section_key("lora.targets", &RunConfig::lora, &LoraSpec::targets)
                  .help("Module names that get adapters (a name matches itself or a .suffix)"));
  t.push_back(section_key("lora.rslora", &RunConfig::lora, &LoraSpec::rslora)
                  .help("Rank-stabilised scale alpha / sqrt(r)"));

  t.push_back(section_key("train.mode", &RunConfig::train, &TrainSpec::mode)
                  .help("lora: train adapters only; full: train every weight"));
  t.push_back(section_key("train.lr", &RunConfig::train, &TrainSpec::lr)
                  .above(0, 1)
                  .recommended(1e-5, 1e-3)
                  .help("Peak learning rate of AdamW"));
  t.push_back(section_key("train.batch_size", &RunConfig::train, &TrainSpec::batch_size)
                  .range(1, 65536)
                  .recommended(16, 256)
                  .help("Examples per optimizer step"));
  t.push_back(section_key("train.micro_batch_size", &RunConfig::train, &TrainSpec::micro_batch_size)
                  .range(1, 65536)
                  .or_auto()
                  .help("Examples per forward pass; batch_size must be a multiple of it. auto: "
                        "the largest that the memory forecast fits on the device"));
  t.push_back(section_key("train.weight_decay", &RunConfig::train, &TrainSpec::weight_decay)
                  .range(0, 1)
                  .recommended(0.01, 0.1)
                  .help("Decoupled weight decay of AdamW"));
  t.push_back(section_key("train.max_steps", &RunConfig::train, &TrainSpec::max_steps)
                  .range(1, kBillion)
                  .help("Optimizer steps to run"));
  t.push_back(section_key("train.warmup_steps", &RunConfig::train, &TrainSpec::warmup_steps)
                  .range(0, kBillion)
                  .help("Steps of linear warmup before the schedule starts"));
  t.push_back(section_key("train.schedule", &RunConfig::train, &TrainSpec::schedule)
                  .help("Learning-rate decay after warmup"));
  t.push_back(section_key("train.grad_clip", &RunConfig::train, &TrainSpec::grad_clip)
                  .range(0, 1e6)
                  .help("Max global gradient norm; 0 disables clipping"));
  t.push_back(section_key("train.label_smoothing", &RunConfig::train, &TrainSpec::label_smoothing)
                  .range(0, 0.5)
                  .help("Label smoothing of the cross-entropy loss"));
  t.push_back(section_key("train.precision", &RunConfig::train, &TrainSpec::precision)
                  .help("Compute precision (bf16/fp16 use autocast; weights stay fp32)"));
  t.push_back(section_key("train.gradient_checkpointing", &RunConfig::train,
                          &TrainSpec::gradient_checkpointing)
                  .help("Recompute in backward instead of keeping: off; full (each layer from its "
                        "input: least memory, about a third more compute); selective (norms, "
                        "the MLP activation and the attention softmax only)"));
  t.push_back(section_key("train.eval_every", &RunConfig::train, &TrainSpec::eval_every)
                  .range(0, kBillion)
                  .help("Optimizer steps between evaluations; 0 = only at the end"));
  t.push_back(section_key("train.checkpoint_every", &RunConfig::train, &TrainSpec::checkpoint_every)
                  .range(0, kBillion)
                  .help("Optimizer steps between checkpoints; 0 = only at stop/end"));
  t.push_back(
      section_key("train.nonfinite_patience", &RunConfig::train, &TrainSpec::nonfinite_patience)
          .range(0, 1000)
          .help("NaN/inf steps skipped in a row before going back to the last checkpoint; 0 = "
                "fail at the first"));
  t.push_back(
      section_key("train.nonfinite_lr_factor", &RunConfig::train, &TrainSpec::nonfinite_lr_factor)
          .range(0.01, 1)
          .help("Learning-rate factor applied at each return to the last checkpoint"));

  t.push_back(section_key("probe.text", &RunConfig::probe, &ProbeSpec::text)
                  .may_be_empty()
                  .help("Texts whose attention maps are captured while the run trains"));
  t.push_back(section_key("probe.rows", &RunConfig::probe, &ProbeSpec::rows)
                  .may_be_empty()
                  .checked_by([](const std::string& row) -> std::string {
                    const bool digits = !row.empty() && row.size() <= 9 &&
                                        row.find_first_not_of("0123456789") == std::string::npos;
                    return digits ? "" : "'" + row + "' is not a row number (0, 1, 2, ...)";
                  })
                  .help("Dataset rows (numbers from 0) whose attention maps are captured; with no "
                        "text and no row, the first row"));
  t.push_back(section_key("probe.attention_every", &RunConfig::probe, &ProbeSpec::attention_every)
                  .range(0, kBillion)
                  .help("Optimizer steps between attention captures (also at the first and last "
                        "step); 0 = none"));

  // Defaults are read off a default-constructed RunConfig so the initialisers in config.h stay
  // the single source of defaults.
  const RunConfig defaults;
  for (auto& d : t) d.info.default_value = d.get(defaults);
  return t;
}

const std::vector<KeyDescriptor>& key_table() {
  static const std::vector<KeyDescriptor> table = build_table();
  return table;
}

const KeyDescriptor* find_key(const std::string& key) {
  for (const auto& d : key_table()) {
    if (d.info.key == key) return &d;
  }
  return nullptr;
}

bool is_section(const std::string& name) {
  for (const auto& d : key_table()) {
    const auto dot = d.info.key.find('.');
    if (dot != std::string::npos && d.info.key.compare(0, dot, name) == 0 && dot == name.size()) {
      return true;
    }
  }
  return false;
}

// Splits "section.name" into its parts; top-level keys have an empty section.
std::pair<std::string, std::string> split_key(const std::string& key) {
  const auto dot = key.find('.');
  if (dot == std::string::npos) return {"", key};
  return {key.substr(0, dot), key.substr(dot + 1)};
}

// ---- messages -----------------------------------------------------------------------------------

std::string where_of(const std::string& origin, const std::string& key) {
  if (origin.empty()) return key;
  if (key.empty()) return origin;
  return origin + ": " + key;
}

// A short rendering of a JSON value for messages: long lists or strings are cut.
std::string describe(const json& v) {
  std::string text = v.dump();
  constexpr size_t kMaxChars = 60;
  if (text.size() > kMaxChars) text = text.substr(0, kMaxChars) + "...";
  if (v.is_string()) return "string " + text;
  if (v.is_object()) return "object " + text;
  if (v.is_array()) return "list " + text;
  return text;
}

std::string format_bound(const KeyDescriptor& d, double x) {
  if (d.type == KeyType::kInt) return std::to_string(static_cast<long long>(x));
  return json(x).dump();
}

std::string describe_range(const KeyDescriptor& d) {
  const auto& lo = d.info.min;
  const auto& hi = d.info.max;
  if (lo && hi) {
    return std::string(d.min_exclusive ? "(" : "[") + format_bound(d, *lo) + ", " +
           format_bound(d, *hi) + "]";
  }
  if (lo) return std::string(d.min_exclusive ? "> " : ">= ") + format_bound(d, *lo);
  if (hi) return "<= " + format_bound(d, *hi);
  return "any";
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Closest known key or section name within edit distance 2 (typos, not guesses), or "".
std::string closest_key(const std::string& unknown) {
  constexpr size_t kMaxDistance = 2;
  std::string best;
  size_t best_distance = kMaxDistance + 1;
  auto consider = [&](const std::string& candidate) {
    const size_t dist = edit_distance(unknown, candidate);
    if (dist < best_distance) {
      best = candidate;
      best_distance = dist;
    }
  };
  for (const auto& d : key_table()) {
    consider(d.info.key);
    const auto dot = d.info.key.find('.');
    if (dot != std::string::npos) consider(d.info.key.substr(0, dot));
  }
  return best;
}

// Names that may follow `section` ("" = the top level): keys and, at the top, section names.
std::string names_in(const std::string& section) {
  std::vector<std::string> names;
  for (const auto& d : key_table()) {
    const auto dot = d.info.key.find('.');
    std::string name;
    if (section.empty()) {
      name = d.info.key.substr(0, dot);
    } else if (dot == section.size() && d.info.key.compare(0, dot, section) == 0) {
      name = d.info.key.substr(dot + 1);
    }
    if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(name);
    }
  }
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

InputError unknown_key_error(const std::string& origin, const std::string& key) {
  std::string message = "unknown key '" + key + "'";
  const std::string suggestion = closest_key(key);
  if (!suggestion.empty()) {
    message += "; did you mean '" + suggestion + "'?";
  } else {
    const auto [section, name] = split_key(key);
    const std::string known = is_section(section) || section.empty() ? names_in(section) : "";
    if (!known.empty()) message += "; known keys here: " + known;
  }
  return InputError(where_of(origin, key), message);
}

// ---- validation of one value --------------------------------------------------------------------

// Checks `v` against the key's type and hard range and returns it in canonical form (ints as JSON
// integers, floats as doubles). Throws InputError(where, ...) otherwise.
json normalize(const KeyDescriptor& d, const json& v, const std::string& where) {
  auto check_range = [&](double x, const std::string& shown) {
    const auto& lo = d.info.min;
    const auto& hi = d.info.max;
    const bool below = lo && (d.min_exclusive ? x <= *lo : x < *lo);
    const bool over = hi && x > *hi;
    if (below || over) {
      throw InputError(where,
                       "value " + shown + " is outside the allowed range " + describe_range(d));
    }
  };

  switch (d.type) {
    case KeyType::kInt: {
      if (d.info.accepts_auto && v == "auto") return v;
      if (v.is_number_unsigned()) {
        check_range(static_cast<double>(v.get<uint64_t>()), v.dump());
        return v;
      }
      if (v.is_number_integer()) {
        check_range(static_cast<double>(v.get<int64_t>()), v.dump());
        return v;
      }
      if (v.is_number_float()) {
        const double x = v.get<double>();
        // 2^53: beyond it a double no longer holds every integer, so "64.0"-style values are
        // only accepted where they are exact.
        constexpr double kExactIntegerLimit = 9007199254740992.0;
        if (std::isfinite(x) && std::trunc(x) == x && std::fabs(x) <= kExactIntegerLimit) {
          check_range(x, v.dump());
          return x < 0 ? json(static_cast<int64_t>(x)) : json(static_cast<uint64_t>(x));
        }
      }
      throw InputError(where, std::string(d.info.accepts_auto ? "expected an integer or \"auto\""
                                                              : "expected an integer") +
                                  ", got " + describe(v));
    }
    case KeyType::kFloat: {
      if (!v.is_number()) throw InputError(where, "expected a number, got " + describe(v));
      const double x = v.get<double>();
      if (!std::isfinite(x)) throw InputError(where, "expected a finite number, got " + v.dump());
      check_range(x, v.dump());
      return x;
    }
    case KeyType::kBool:
      if (!v.is_boolean()) throw InputError(where, "expected true or false, got " + describe(v));
      return v;
    case KeyType::kString: {
      if (!v.is_string()) throw InputError(where, "expected a string, got " + describe(v));
      if (d.check) {
        const std::string problem = d.check(v.get<std::string>());
        if (!problem.empty()) throw InputError(where, problem);
      }
      return v;
    }
    case KeyType::kEnum: {
      std::string choices;
      for (const auto& c : d.info.choices) choices += (choices.empty() ? "" : ", ") + c;
      if (!v.is_string()) {
        throw InputError(where, "expected one of " + choices + ", got " + describe(v));
      }
      const auto s = v.get<std::string>();
      if (std::find(d.info.choices.begin(), d.info.choices.end(), s) == d.info.choices.end()) {
        throw InputError(where, "\"" + s + "\" is not one of " + choices);
      }
      return v;
    }
    case KeyType::kList: {
      if (!v.is_array()) throw InputError(where, "expected a list of strings, got " + describe(v));
      if (v.empty() && !d.info.may_be_empty)
        throw InputError(where, "the list must name at least one entry");
      json canonical = v;
      for (size_t i = 0; i < v.size(); ++i) {
        if (d.check && v[i].is_number_integer()) canonical[i] = std::to_string(v[i].get<int64_t>());
      }
      for (size_t i = 0; i < canonical.size(); ++i) {
        const json& item = canonical[i];
        if (!item.is_string()) {
          throw InputError(
              where, "entry " + std::to_string(i) + " must be a string, got " + describe(item));
        }
        if (item.get<std::string>().empty()) {
          throw InputError(where, "entry " + std::to_string(i) + " is an empty string");
        }
        if (d.check) {
          const std::string problem = d.check(item.get<std::string>());
          if (!problem.empty())
            throw InputError(where, "entry " + std::to_string(i) + ": " + problem);
        }
      }
      return canonical;
    }
  }
  return v;
}

void check_cross_fields(const RunConfig& c, const std::string& origin) {
  const auto& t = c.train;
  if (t.micro_batch_size == kAutoMicroBatch) {
    // resolved against the memory forecast when the run starts
  } else if (t.micro_batch_size > t.batch_size) {
    throw InputError(where_of(origin, "train.micro_batch_size"),
                     "train.micro_batch_size (" + std::to_string(t.micro_batch_size) +
                         ") must not exceed train.batch_size (" + std::to_string(t.batch_size) +
                         ")");
  }
  if (t.micro_batch_size != kAutoMicroBatch && t.batch_size % t.micro_batch_size != 0) {
    throw InputError(where_of(origin, "train.batch_size"),
                     "train.batch_size (" + std::to_string(t.batch_size) +
                         ") must be a multiple of train.micro_batch_size (" +
                         std::to_string(t.micro_batch_size) + ")");
  }
  if (t.warmup_steps > t.max_steps) {
    throw InputError(where_of(origin, "train.warmup_steps"),
                     "train.warmup_steps (" + std::to_string(t.warmup_steps) +
                         ") must not exceed train.max_steps (" + std::to_string(t.max_steps) + ")");
  }
}

const json* find_value(const json& doc, const std::string& key) {
  const auto [section, name] = split_key(key);
  const json* parent = &doc;
  if (!section.empty()) {
    const auto it = doc.find(section);
    if (it == doc.end()) return nullptr;
    parent = &*it;
  }
  const auto it = parent->find(name);
  return it == parent->end() ? nullptr : &*it;
}

void reject_unknown_keys(const json& doc, const std::string& origin) {
  for (const auto& [name, value] : doc.items()) {
    if (is_section(name)) {
      if (!value.is_object()) {
        throw InputError(where_of(origin, name),
                         "expected an object (a section of keys), got " + describe(value));
      }
      for (const auto& [inner, inner_value] : value.items()) {
        (void)inner_value;
        if (!find_key(name + "." + inner)) throw unknown_key_error(origin, name + "." + inner);
      }
    } else if (name.find('.') != std::string::npos && find_key(name)) {
      // A dotted key at the top level is a known key written flat; say how to nest it.
      const auto [section, inner] = split_key(name);
      throw InputError(where_of(origin, name), "keys are nested: write {\"" + section + "\": {\"" +
                                                   inner + "\": ...}} instead");
    } else if (!find_key(name)) {
      throw unknown_key_error(origin, name);
    }
  }
}

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

// The JSON value an override's text stands for, before validation.
json override_value(const KeyDescriptor& d, const std::string& text) {
  const json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  const bool parses = !parsed.is_discarded();
  switch (d.type) {
    case KeyType::kString:
    case KeyType::kEnum:
      // "data.dataset=2024" names a dataset called "2024", not the number.
      return parses && parsed.is_string() ? parsed : json(text);
    case KeyType::kList: {
      if (parses && parsed.is_array()) return parsed;
      const std::string list = parses && parsed.is_string() ? parsed.get<std::string>() : text;
      json items = json::array();
      size_t start = 0;
      while (true) {
        const auto comma = list.find(',', start);
        items.push_back(trim(list.substr(start, comma - start)));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      return items;
    }
    default:
      return parses ? parsed : json(text);
  }
}

}  // namespace

// ---- public API ---------------------------------------------------------------------------------

json RunConfig::to_json() const {
  json doc = json::object();
  for (const auto& d : key_table()) {
    const auto [section, name] = split_key(d.info.key);
    if (section.empty()) {
      doc[name] = d.get(*this);
    } else {
      doc[section][name] = d.get(*this);
    }
  }
  return doc;
}

RunConfig RunConfig::from_json(const json& doc, const std::string& origin) {
  if (!doc.is_object()) {
    throw InputError(origin,
                     "the top level of a run config must be a JSON object, got " + describe(doc));
  }
  reject_unknown_keys(doc, origin);
  RunConfig config;
  for (const auto& d : key_table()) {
    const json* value = find_value(doc, d.info.key);
    if (value) d.set(config, normalize(d, *value, where_of(origin, d.info.key)));
  }
  check_cross_fields(config, origin);
  return config;
}

void RunConfig::apply_override(json& doc, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos) {
    throw InputError(assignment, "expected KEY=VALUE (e.g. train.lr=1e-3)");
  }
  const std::string key = trim(assignment.substr(0, eq));
  if (key.empty()) throw InputError(assignment, "missing the key before '='");
  if (is_section(key)) {
    throw InputError(
        key, "'" + key + "' is a section, not a key; set one of its keys (" + names_in(key) + ")");
  }
  const KeyDescriptor* d = find_key(key);
  if (!d) throw unknown_key_error("", key);
  // Checked now so the error names the --set that caused it, not the merged document.
  const json value = normalize(*d, override_value(*d, assignment.substr(eq + 1)), key);

  if (doc.is_null()) doc = json::object();
  if (!doc.is_object())
    throw InputError(key, "cannot apply an override: the config is not an object");
  const auto [section, name] = split_key(key);
  if (section.empty()) {
    doc[name] = value;
    return;
  }
  json& target = doc[section];
  if (target.is_null()) target = json::object();
  if (!target.is_object()) {
    throw InputError(section, "expected an object (a section of keys), got " + describe(target));
  }
  target[name] = value;
}

std::vector<std::string> RunConfig::advisories() const {
  std::vector<std::string> out;
  for (const auto& d : key_table()) {
    const auto& lo = d.info.recommended_min;
    const auto& hi = d.info.recommended_max;
    if (!lo && !hi) continue;
    const json value = d.get(*this);
    const double x = value.get<double>();
    if ((lo && x < *lo) || (hi && x > *hi)) {
      out.push_back(d.info.key + " = " + value.dump() + " is outside the recommended " +
                    (lo ? format_bound(d, *lo) : "-inf") + " \u2026 " +
                    (hi ? format_bound(d, *hi) : "inf"));
    }
  }
  return out;
}

const std::vector<ConfigKeyInfo>& config_schema() {
  static const std::vector<ConfigKeyInfo> schema = [] {
    std::vector<ConfigKeyInfo> out;
    for (const auto& d : key_table()) out.push_back(d.info);
    return out;
  }();
  return schema;
}

std::string to_string(DeviceChoice v) {
  return name_of(kDeviceNames, v);
}
std::string to_string(Task v) {
  return name_of(kTaskNames, v);
}
std::string to_string(AttentionKind v) {
  return name_of(kAttentionNames, v);
}
std::string to_string(TrainMode v) {
  return name_of(kTrainModeNames, v);
}
std::string to_string(Schedule v) {
  return name_of(kScheduleNames, v);
}
std::string to_string(Precision v) {
  return name_of(kPrecisionNames, v);
}
std::string to_string(GradientCheckpointing v) {
  return name_of(kCheckpointingNames, v);
}
std::string to_string(ChatTemplate v) {
  return name_of(kChatTemplateNames, v);
}

}  // namespace deeptune
