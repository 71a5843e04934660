// deeptune-cli: the headless runner. Same project file and RunConfig as the workbench.
// Exit status: 0 success, 2 bad usage or bad input, 1 failure while running, 130 stopped by Ctrl-C
// (also a run interrupted because the disk filled: 75, "try again later").
// One function per verb; main() only parses the command line and maps errors to exit statuses.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <climits>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "deeptune/attention_map.h"
#include "deeptune/config.h"
#include "deeptune/data.h"
#include "deeptune/error.h"
#include "deeptune/files.h"
#include "deeptune/hf_models.h"
#include "deeptune/json_input.h"
#include "deeptune/project.h"
#include "deeptune/session.h"
#include "deeptune/store.h"
#include "deeptune/version.h"
#include "progress.h"

namespace fs = std::filesystem;
using namespace deeptune;

namespace {

constexpr int kExitOk = 0, kExitFailure = 1, kExitBadInput = 2, kExitTempFailure = 75,
              kExitStopped = 130;

RunControl* g_control = nullptr;
volatile std::sig_atomic_t g_interrupts = 0;

void on_sigint(int) {
  if (++g_interrupts > 1) _exit(kExitStopped);  // second Ctrl-C: leave now (run shows interrupted)
  if (g_control) g_control->request_stop();
}

void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w(header.size());
  for (size_t i = 0; i < header.size(); ++i) w[i] = header[i].size();
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], r[i].size());
  auto line = [&](const std::vector<std::string>& r) {
    std::string s;
    for (size_t i = 0; i < r.size(); ++i) {
      s += r[i];
      if (i + 1 < r.size()) s += std::string(w[i] - r[i].size() + 2, ' ');
    }
    std::printf("%s\n", s.c_str());
  };
  line(header);
  for (const auto& r : rows) line(r);
}

std::string fmt(double v, const char* f = "%.4g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::optional<RunRecord> require_run(ProjectStore& store, const std::string& name) {
  auto r = store.find_run(name);
  if (!r) throw InputError(store.path(), "no run named '" + name + "'");
  return r;
}

// A JSON document stored in the project, or null with a warning naming the row: one bad row must
// not hide the others.
nlohmann::json stored_json(const std::string& text, const std::string& what) {
  if (text.empty()) return nullptr;
  try {
    return parse_json(text, what);
  } catch (const InputError& e) {
    std::fprintf(stderr, "warning: %s\n", e.what());
    return nullptr;
  }
}

// ---- verbs --------------------------------------------------------------------------------------

struct InitArgs {
  std::string project, name;
  bool sample = false;
};

int cmd_init(const InitArgs& a) {
  const auto parent = fs::absolute(a.project).parent_path();
  if (!fs::exists(parent)) fs::create_directories(parent);
  auto store = ProjectStore::create(a.project,
                                    a.name.empty() ? fs::path(a.project).stem().string() : a.name);
  if (a.sample) add_sample_content(*store);
  std::printf("created project %s%s\n", store->path().c_str(),
              a.sample ? " with the sample datasets 'dates', 'dates-fr' and 'tickets'" : "");
  if (a.sample)
    std::printf(
        "next: deeptune-cli train %s --config pretrain --name %s   (the base model)\n"
        "then: deeptune-cli train %s   (LoRA: adapt it to French dates)\n",
        a.project.c_str(), kSampleBaseRun, a.project.c_str());
  return kExitOk;
}

struct DataAddArgs {
  std::string project, file, name, format, text, prompt, response, label, messages;
};

int cmd_data_add(const DataAddArgs& a) {
  auto store = ProjectStore::open(a.project);
  DatasetSource source;
  source.path = a.file;
  source.name = a.name;
  if (!a.format.empty()) source.format = data_format_from_string(a.format);
  if (!a.text.empty() || !a.prompt.empty() || !a.response.empty() || !a.label.empty() ||
      !a.messages.empty()) {
    FieldMapping mapping;
    mapping.text = a.text;
    mapping.prompt = a.prompt;
    mapping.response = a.response;
    mapping.label = a.label;
    mapping.messages = a.messages;
    source.mapping = mapping;
  }
  const DatasetRecord d = register_dataset(*store, source);
  const auto stats = DatasetStats::from_json(parse_json(d.stats_json, "dataset " + d.name));
  std::printf("added dataset '%s' (#%lld): %s, %lld rows, mapping %s\n", d.name.c_str(),
              static_cast<long long>(d.id), d.format.c_str(), static_cast<long long>(d.rows),
              d.mapping_json.c_str());
  std::printf("  tokens per example (byte tokenizer): min %zu, mean %.1f, max %zu\n",
              stats.min_tokens, stats.mean_tokens, stats.max_tokens);
  for (const auto& [label, n] : stats.label_counts)
    std::printf("  label %s: %zu\n", label.c_str(), n);
  return kExitOk;
}

int cmd_data_list(const std::string& project, bool json) {
  auto store = ProjectStore::open(project);
  const auto all = store->datasets();
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& d : all)
      arr.push_back({{"id", d.id},
                     {"name", d.name},
                     {"path", d.path},
                     {"format", d.format},
                     {"mapping", stored_json(d.mapping_json, "dataset " + d.name + ": mapping")},
                     {"rows", d.rows},
                     {"sha256", d.sha256},
                     {"stats", stored_json(d.stats_json, "dataset " + d.name + ": statistics")}});
    std::printf("%s\n", arr.dump(2).c_str());
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& d : all)
    rows.push_back(
        {std::to_string(d.id), d.name, d.format, std::to_string(d.rows), d.mapping_json, d.path});
  print_table({"id", "name", "format", "rows", "mapping", "path"}, rows);
  return kExitOk;
}

// The run config `train` starts from: a JSON file, a project preset, the project's "default"
// preset, or the built-in defaults. `origin` names it for messages.
nlohmann::json base_config(ProjectStore& store, const std::string& config_arg,
                           std::string* origin) {
  const auto presets = store.presets();
  if (!config_arg.empty()) {
    std::error_code ec;
    if (fs::exists(config_arg, ec)) {
      *origin = config_arg;
      return read_json_object_file(config_arg);
    }
    auto it = presets.find(config_arg);
    if (it == presets.end())
      throw InputError("--config",
                       "'" + config_arg + "' is neither a file nor a preset of the project");
    *origin = "preset " + config_arg;
    return parse_json(it->second, "preset " + config_arg);
  }
  if (auto it = presets.find("default"); it != presets.end()) {
    *origin = "preset default";
    return parse_json(it->second, "preset default");
  }
  *origin = "defaults";
  return RunConfig{}.to_json();
}

// Follows a run in this process until it ends; maps how it ended to an exit status.
int run_training(const std::string& project, int64_t run_id, bool json) {
  const auto mode = json                    ? cli::OutputMode::kJson
                    : isatty(STDERR_FILENO) ? cli::OutputMode::kBar
                                            : cli::OutputMode::kLines;
  cli::ProgressPrinter printer(mode);
  RunControl control;
  g_control = &control;
  std::signal(SIGINT, on_sigint);
  std::signal(SIGTERM, on_sigint);
  RunOutcome outcome;
  try {
    outcome = execute_run(project, run_id, printer, control);
  } catch (...) {
    printer.finish();
    g_control = nullptr;
    throw;  // refused before training: nothing was recorded
  }
  printer.finish();
  g_control = nullptr;
  std::signal(SIGINT, SIG_DFL);
  // The outcome says everything; reading the project back could fail on a full disk.
  std::string name = std::to_string(run_id), final_metrics;
  try {
    auto store = ProjectStore::open(project);
    if (const auto run = store->run(run_id)) {
      name = run->name;
      final_metrics = run->final_metrics_json;
    }
  } catch (const Error&) {
  }
  switch (outcome.status) {
    case RunStatus::kCompleted:
      if (!json) std::printf("run '%s' completed: %s\n", name.c_str(), final_metrics.c_str());
      return kExitOk;
    case RunStatus::kStopped:
      std::fprintf(
          stderr, "run '%s' stopped at step %lld; continue it with: deeptune-cli resume %s %s\n",
          name.c_str(), static_cast<long long>(outcome.last_step), project.c_str(), name.c_str());
      return kExitStopped;
    case RunStatus::kInterrupted:
      std::fprintf(stderr,
                   "error: run '%s' interrupted: %s\nfree some space, then continue it with: "
                   "deeptune-cli resume %s %s\n",
                   name.c_str(), outcome.error.c_str(), project.c_str(), name.c_str());
      return kExitTempFailure;
    default:
      std::fprintf(stderr, "error: run '%s' failed: %s\n", name.c_str(), outcome.error.c_str());
      return outcome.error_kind == ErrorKind::kInvalidInput ? kExitBadInput : kExitFailure;
  }
}

struct TrainArgs {
  std::string project, config, name;
  std::vector<std::string> sets;
  bool json = false;
};

int cmd_train(const TrainArgs& a) {
  int64_t run_id = 0;
  {
    auto store = ProjectStore::open(a.project);
    std::string origin;
    auto doc = base_config(*store, a.config, &origin);
    for (const auto& s : a.sets) RunConfig::apply_override(doc, s);
    const auto cfg = RunConfig::from_json(doc, origin == "defaults" ? "" : origin);
    for (const auto& adv : cfg.advisories()) std::fprintf(stderr, "warning: %s\n", adv.c_str());
    run_id = create_run(a.project, cfg, a.name);
    const auto r = store->run(run_id);
    if (!a.json)
      std::printf("run '%s' (#%lld) created from %s\n", r->name.c_str(),
                  static_cast<long long>(run_id), origin.c_str());
  }
  return run_training(a.project, run_id, a.json);
}

struct EstimateArgs {
  std::string project, config, device;
  std::vector<std::string> sets;
  bool json = false, measure = false;
  int steps = 3;
};

std::string binary_bytes(int64_t bytes) {
  char text[32];
  const double b = double(bytes);
  if (bytes >= (int64_t(1) << 30))
    std::snprintf(text, sizeof text, "%.2f GiB", b / double(int64_t(1) << 30));
  else
    std::snprintf(text, sizeof text, "%.1f MiB", b / double(int64_t(1) << 20));
  return text;
}

// The memory forecast of the config `train` would start from (the same --config and --set), and
// with --measure the same step trained for real beside it.
int cmd_estimate(const EstimateArgs& a) {
  std::string origin;
  nlohmann::json doc;
  {
    auto store = ProjectStore::open(a.project);
    doc = base_config(*store, a.config, &origin);
  }
  for (const auto& s : a.sets) RunConfig::apply_override(doc, s);
  if (!a.device.empty()) RunConfig::apply_override(doc, "device=" + a.device);
  const auto cfg = RunConfig::from_json(doc, origin == "defaults" ? "" : origin);
  // A classifier's head is a few numbers per label: two stand for the dataset's labels.
  const int labels = cfg.model.task == Task::kClassification ? 2 : 0;
  const MemoryForecast f = forecast_memory(cfg, a.project, labels);
  std::optional<MemorySample> measured;
  if (a.measure) {
    RunConfig at = cfg;
    at.train.micro_batch_size = int(f.micro_batch);
    measured = measure_step_memory(at, a.project, a.steps, labels);
  }
  const double error = measured && measured->peak_allocated > 0
                           ? (double(f.peak_bytes) - double(measured->peak_allocated)) /
                                 double(measured->peak_allocated)
                           : 0.0;
  if (a.json) {
    nlohmann::json categories = nlohmann::json::object();
    for (const auto& [name, bytes] : f.categories) categories[name] = bytes;
    nlohmann::json out = {{"device", f.device},
                          {"micro_batch", f.micro_batch},
                          {"sequence", f.sequence},
                          {"peak_bytes", f.peak_bytes},
                          {"device_bytes", f.device_bytes},
                          {"categories", categories},
                          {"available_bytes", f.available_bytes},
                          {"total_bytes", f.total_bytes},
                          {"max_micro_batch", f.max_micro_batch},
                          {"fit", to_string(f.fit)}};
    if (measured)
      out["measured"] = {{"steps", a.steps},
                         {"peak_allocated", measured->peak_allocated},
                         {"base_weights", measured->base_weights},
                         {"trainable_weights", measured->trainable_weights},
                         {"gradients", measured->gradients},
                         {"optimizer_state", measured->optimizer_state},
                         {"activations", measured->activations()},
                         {"reserved", measured->reserved},
                         {"device_used", measured->device_used},
                         {"resident", measured->resident},
                         {"peak_error", error}};
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  std::printf("memory forecast for %s on %s: micro-batch %lld x %lld tokens\n", origin.c_str(),
              f.device.c_str(), static_cast<long long>(f.micro_batch),
              static_cast<long long>(f.sequence));
  auto measured_of = [&](const std::string& name) -> std::string {
    if (!measured) return "";
    const MemorySample& m = *measured;
    if (name == "base_weights") return binary_bytes(m.base_weights);
    if (name == "trainable_weights") return binary_bytes(m.trainable_weights);
    if (name == "gradients") return binary_bytes(m.gradients);
    if (name == "optimizer_state") return binary_bytes(m.optimizer_state);
    if (name == "activations") return binary_bytes(m.activations());
    if (name == "allocator_cache" && m.reserved > 0)
      return binary_bytes(m.reserved - m.peak_allocated);
    return "";
  };
  std::printf("  %-18s %12s%s\n", "", "forecast", measured ? "      measured" : "");
  for (const auto& [name, bytes] : f.categories)
    std::printf("  %-18s %12s %13s\n", name.c_str(), binary_bytes(bytes).c_str(),
                measured_of(name).c_str());
  std::printf("  %-18s %12s %13s\n", "peak (allocator)", binary_bytes(f.peak_bytes).c_str(),
              measured ? binary_bytes(measured->peak_allocated).c_str() : "");
  if (measured)
    std::printf("  forecast error: %+.2f%% of the measured peak (step %d of %d)\n", 100.0 * error,
                a.steps, a.steps);
  if (f.available_bytes > 0)
    std::printf("%s: %s needed, %s free of %s\n", to_string(f.fit).c_str(),
                binary_bytes(f.device_bytes).c_str(), binary_bytes(f.available_bytes).c_str(),
                binary_bytes(f.total_bytes).c_str());
  if (f.max_micro_batch > 0)
    std::printf("largest micro-batch that fits: %lld\n", static_cast<long long>(f.max_micro_batch));
  else
    std::printf(
        "no micro-batch fits: shorten data.max_length, or use train.gradient_checkpointing, "
        "LoRA or bf16\n");
  return kExitOk;
}

int cmd_resume(const std::string& project, const std::string& run_name, bool json) {
  int64_t run_id = 0;
  {
    auto store = ProjectStore::open(project);
    const auto r = require_run(*store, run_name);
    // Running or paused runs are refused by the claim itself, naming the process that has them.
    if (r->status == RunStatus::kCreated || r->status == RunStatus::kCompleted ||
        (r->status == RunStatus::kFailed && !is_resumable(*r)))
      throw InputError(r->name, "is " + to_string(r->status) +
                                    "; only stopped or interrupted runs, and failed runs with a "
                                    "checkpoint, can be resumed");
    run_id = r->id;
  }
  return run_training(project, run_id, json);
}

int cmd_runs(const std::string& project, bool json) {
  auto store = ProjectStore::open(project);
  if (!store->read_only_reason().empty())
    std::fprintf(stderr, "note: %s is open read-only (%s)\n", store->path().c_str(),
                 store->read_only_reason().c_str());
  const auto all = store->runs();
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& r : all)
      arr.push_back({{"id", r.id},
                     {"name", r.name},
                     {"status", to_string(r.status)},
                     {"step", r.last_step},
                     {"max_steps", r.max_steps},
                     {"checkpoint_step", r.checkpoint_step},
                     {"config", stored_json(r.config_json, "run " + r.name + ": config")},
                     {"final_metrics",
                      stored_json(r.final_metrics_json, "run " + r.name + ": final metrics")},
                     {"parent_run_id",
                      r.parent_run_id ? nlohmann::json(*r.parent_run_id) : nlohmann::json(nullptr)},
                     {"device", r.device},
                     {"created_at", r.created_at},
                     {"error", r.error_text},
                     {"engine_version", r.engine_version},
                     {"torch_version", r.torch_version}});
    std::printf("%s\n", arr.dump(2).c_str());
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : all) {
    const auto c = stored_json(r.config_json, "run " + r.name + ": config");
    const auto fm = stored_json(r.final_metrics_json, "run " + r.name + ": final metrics");
    // Each cell on its own: a config edited by hand may lack a key or hold the wrong type.
    auto cell = [](const nlohmann::json& j, const char* section, const char* key,
                   auto&& show) -> std::string {
      try {
        if (j.is_object() && j.contains(section) && j[section].contains(key))
          return show(j[section][key]);
      } catch (const nlohmann::json::exception&) {
      }
      return "?";
    };
    auto text = [](const nlohmann::json& v) { return v.get<std::string>(); };
    auto number = [](const nlohmann::json& v) { return fmt(v.get<double>()); };
    const std::string val = fm.is_object() && fm.contains("val_loss") && fm["val_loss"].is_number()
                                ? fmt(fm["val_loss"].get<double>())
                                : "-";
    rows.push_back({std::to_string(r.id), r.name, to_string(r.status),
                    std::to_string(r.last_step) + "/" + std::to_string(r.max_steps),
                    cell(c, "data", "dataset", text), cell(c, "train", "mode", text),
                    cell(c, "train", "lr", number),
                    cell(c, "lora", "r", [](const nlohmann::json& v) { return v.dump(); }), val,
                    r.created_at});
  }
  print_table({"id", "name", "status", "step", "dataset", "mode", "lr", "r", "val_loss", "created"},
              rows);
  return kExitOk;
}

struct BenchArgs {
  std::string model;
  int64_t batch = 8, seq = 1024;
  int steps = 20, warmup = 5;
  std::vector<std::string> sets;
  std::string profile;
  bool json = false;
};

// The training step's speed on random rows: no project is read or written.
int cmd_bench(const BenchArgs& a) {
  nlohmann::json doc = RunConfig{}.to_json();
  doc["model"]["source"] = a.model;
  for (const auto& s : a.sets) RunConfig::apply_override(doc, s);
  const auto cfg = RunConfig::from_json(doc, "");
  BenchOptions o;
  o.batch = a.batch;
  o.seq = a.seq;
  o.steps = a.steps;
  o.warmup = a.warmup;
  o.profile_path = a.profile;
  const BenchResult r = bench_training(cfg, o);
  if (a.json) {
    nlohmann::json out = {{"impl", "deeptune"},
                          {"model", r.model},
                          {"device", r.device},
                          {"batch", a.batch},
                          {"seq", a.seq},
                          {"steps", a.steps},
                          {"warmup", a.warmup},
                          {"parameters", r.parameters},
                          {"trainable", r.trainable},
                          {"tokens_per_s", r.tokens_per_second},
                          {"step_ms", r.median_step_ms},
                          {"step_ms_all", r.step_ms},
                          {"peak_bytes", r.peak_bytes},
                          {"reserved_peak_bytes", r.reserved_bytes},
                          {"device_used_bytes", r.device_used_bytes},
                          {"flops_per_step", r.flops_per_step},
                          {"mfu", r.mfu},
                          {"setup_s", r.setup_seconds},
                          {"first_step_s", r.first_step_seconds},
                          {"losses", r.losses},
                          {"config", doc}};
    std::printf("%s\n", out.dump().c_str());
    return kExitOk;
  }
  std::printf("model:      %s\n", r.model.c_str());
  std::printf("device:     %s\n", r.device.c_str());
  std::printf("parameters: %lld (%lld trainable)\n", static_cast<long long>(r.parameters),
              static_cast<long long>(r.trainable));
  std::printf("batch:      %lld x %lld tokens, %d timed steps after %d warm-up\n",
              static_cast<long long>(a.batch), static_cast<long long>(a.seq), a.steps, a.warmup);
  std::printf("step:       %.1f ms (median)\n", r.median_step_ms);
  std::printf("tokens/s:   %.0f\n", r.tokens_per_second);
  std::printf("peak:       %s allocated, %s reserved\n", binary_bytes(r.peak_bytes).c_str(),
              binary_bytes(r.reserved_bytes).c_str());
  if (r.mfu > 0)
    std::printf("MFU:        %.1f%% (%.3g TFLOP a step)\n", 100.0 * r.mfu, r.flops_per_step / 1e12);
  else
    std::printf("MFU:        - (%.3g TFLOP a step; the device's peak is not known)\n",
                r.flops_per_step / 1e12);
  std::printf("setup:      %.1f s to the model on the device, %.1f s to the end of step 1\n",
              r.setup_seconds, r.first_step_seconds);
  return kExitOk;
}

struct AttentionArgs {
  std::string project, run;
  int probe = 0;
  int64_t step = -1;  // -1: the last snapshot
  int layer = -1, head = -1;
  bool stats = false, json = false;
  std::string adapter;  // "on" / "off": recomputed from a checkpoint instead of read
  bool full = false;    // recomputed, never max-pooled
};

// Stored attention: the probes and their snapshot steps; one head's map (rows = queries); or every
// head's statistics at a step. Reads what the run stored, or with --adapter / --full recomputes the
// probe from the checkpoint at or before the step (adapters on or off; --full: unpooled).
int cmd_attention(const AttentionArgs& a) {
  auto store = ProjectStore::open(a.project);
  const auto r = require_run(*store, a.run);
  const auto probes = store->attention_probes(r->id);
  const std::string where = a.project + ": run " + r->name;
  if (probes.empty())
    throw InputError(where,
                     "has no attention snapshots (probe.attention_every = 0, or it was "
                     "trained before attention was captured)");
  const bool listing = a.layer < 0 && a.head < 0 && !a.stats;
  const bool recompute = !a.adapter.empty() || a.full;
  if (listing && recompute)
    throw InputError(a.adapter.empty() ? "--full" : "--adapter",
                     "recomputes one map or the statistics: give --layer and --head, or --stats");
  if (listing) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : probes)
      out.push_back({{"probe", p.probe},
                     {"source", p.source},
                     {"tokens", p.tokens},
                     {"steps", store->attention_steps(r->id, p.probe)}});
    if (a.json) {
      std::printf("%s\n", out.dump(2).c_str());
      return kExitOk;
    }
    for (const auto& p : out) {
      std::string text;
      for (const auto& t : p["tokens"]) text += t.get<std::string>();
      if (text.size() > 60) text = text.substr(0, 57) + "...";
      std::string steps;
      for (const auto& s : p["steps"]) steps += (steps.empty() ? "" : " ") + s.dump();
      std::printf("probe %d (%s, %zu tokens): %s\n  steps: %s\n", p["probe"].get<int>(),
                  p["source"].get<std::string>().c_str(), p["tokens"].size(), text.c_str(),
                  steps.c_str());
    }
    return kExitOk;
  }
  const auto probe = std::find_if(probes.begin(), probes.end(), [&](const AttentionProbeRecord& p) {
    return p.probe == a.probe;
  });
  if (probe == probes.end())
    throw InputError("--probe", "the run has probes 0.." + std::to_string(probes.size() - 1));
  int64_t step = a.step;
  std::vector<AttentionMapRecord> layers;
  if (recompute) {
    const auto computed =
        compute_attention(a.project, r->name, a.probe, a.adapter != "off", a.full ? 0 : 512,
                          a.step < 0 ? std::nullopt : std::optional<int64_t>(a.step));
    std::fprintf(stderr, "recomputed: %s\n", computed.description.c_str());
    step = computed.snapshot.step;
    layers = to_map_records(computed.snapshot, r->id);
  }
  const auto steps =
      recompute ? std::vector<int64_t>{step} : store->attention_steps(r->id, a.probe);
  if (steps.empty()) throw InputError(where, "has no snapshot of probe " + std::to_string(a.probe));
  if (step < 0) step = steps.back();
  if (!recompute) layers = store->attention_maps(r->id, a.probe, step);
  if (layers.empty()) {
    std::string known;
    for (int64_t s : steps) known += (known.empty() ? "" : ", ") + std::to_string(s);
    throw InputError("--step", "no snapshot at step " + std::to_string(step) + "; steps: " + known);
  }
  if (a.stats) {
    nlohmann::json out = {{"probe", a.probe}, {"step", step}, {"layers", nlohmann::json::array()}};
    for (const auto& l : layers) {
      const auto stats = nlohmann::json::parse(l.stats_json, nullptr, false);
      if (stats.is_discarded() || !stats.is_array())
        throw InputError(where + ", layer " + std::to_string(l.layer), "statistics are not JSON");
      nlohmann::json heads = nlohmann::json::array();
      for (const auto& h : stats)
        heads.push_back(
            {{"entropy", h.at(0)}, {"sink", h.at(1)}, {"previous", h.at(2)}, {"max", h.at(3)}});
      out["layers"].push_back({{"layer", l.layer}, {"heads", heads}});
    }
    if (a.json) {
      std::printf("%s\n", out.dump(2).c_str());
      return kExitOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& l : out["layers"])
      for (size_t h = 0; h < l["heads"].size(); ++h) {
        const auto& st = l["heads"][h];
        rows.push_back({std::to_string(l["layer"].get<int>()), std::to_string(h),
                        fmt(st["entropy"].get<double>()), fmt(st["sink"].get<double>()),
                        fmt(st["previous"].get<double>()), fmt(st["max"].get<double>())});
      }
    std::printf("probe %d at step %lld\n", a.probe, static_cast<long long>(step));
    print_table({"layer", "head", "entropy", "sink", "previous", "max"}, rows);
    return kExitOk;
  }
  if (a.layer < 0 || a.head < 0) throw InputError("--layer", "give both --layer and --head");
  const auto l = std::find_if(layers.begin(), layers.end(),
                              [&](const AttentionMapRecord& m) { return m.layer == a.layer; });
  if (l == layers.end())
    throw InputError("--layer", "layers are 0.." + std::to_string(layers.size() - 1));
  if (a.head >= l->heads)
    throw InputError("--head", "heads are 0.." + std::to_string(l->heads - 1));
  const std::string what = where + ", probe " + std::to_string(a.probe) + ", step " +
                           std::to_string(step) + ", layer " + std::to_string(a.layer);
  if (l->codec != kMapsCodec) throw InputError(what, "unknown codec '" + l->codec + "'");
  const size_t n = size_t(l->size);
  const auto maps = unpack_maps(l->data, size_t(l->heads) * n * n, what);
  const float* head = maps.data() + size_t(a.head) * n * n;
  nlohmann::json weights = nlohmann::json::array();
  for (size_t i = 0; i < n; ++i)
    weights.push_back(std::vector<float>(head + i * n, head + (i + 1) * n));
  if (a.json) {
    nlohmann::json out = {{"probe", a.probe},        {"step", step},        {"layer", a.layer},
                          {"head", a.head},          {"length", l->length}, {"size", l->size},
                          {"tokens", probe->tokens}, {"weights", weights}};
    std::printf("%s\n", out.dump().c_str());
    return kExitOk;
  }
  std::printf("probe %d, step %lld, layer %d, head %d: %d x %d%s (rows: queries)\n", a.probe,
              static_cast<long long>(step), a.layer, a.head, l->size, l->size,
              l->size < l->length ? " (max-pooled)" : "");
  for (size_t i = 0; i < n; ++i) {
    std::string line;
    for (size_t j = 0; j < n; ++j) {
      char cell[16];
      std::snprintf(cell, sizeof cell, "%s%.4f", j ? " " : "", double(head[i * n + j]));
      line += cell;
    }
    std::printf("%s\n", line.c_str());
  }
  return kExitOk;
}

int cmd_metrics(const std::string& project, const std::string& run_name, bool json) {
  auto store = ProjectStore::open(project);
  const auto r = require_run(*store, run_name);
  const auto m = store->metrics(r->id);
  if (json) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [metric, points] : m) {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& [step, v] : points) arr.push_back({step, v});
      j[metric] = arr;
    }
    std::printf("%s\n", j.dump().c_str());
    return kExitOk;
  }
  std::map<int64_t, std::map<std::string, double>> by_step;
  std::vector<std::string> names;
  for (const auto& [metric, points] : m) {
    names.push_back(metric);
    for (const auto& [step, v] : points) by_step[step][metric] = v;
  }
  std::vector<std::string> header{"step"};
  header.insert(header.end(), names.begin(), names.end());
  std::vector<std::vector<std::string>> rows;
  for (const auto& [step, vals] : by_step) {
    std::vector<std::string> row{std::to_string(step)};
    for (const auto& n : names) row.push_back(vals.count(n) ? fmt(vals.at(n)) : "");
    rows.push_back(row);
  }
  print_table(header, rows);
  return kExitOk;
}

std::string megabytes(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, bytes >= (1ull << 30) ? "%.2f GB" : "%.1f MB",
                bytes >= (1ull << 30) ? double(bytes) / double(1ull << 30)
                                      : double(bytes) / double(1ull << 20));
  return text;
}

nlohmann::json check_json(const ExportCheck& c) {
  nlohmann::json probes = nlohmann::json::array();
  for (const auto& p : c.probes)
    probes.push_back({{"prompt", p.prompt},
                      {"positions", p.positions},
                      {"max_abs_diff", p.max_abs_diff},
                      {"top1_agreement", p.top1_agreement}});
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& t : c.tensors)
    tensors.push_back({{"name", t.name}, {"max_error", t.max_error}, {"bound", t.bound}});
  return {{"ran", c.ran},
          {"passed", c.passed},
          {"max_abs_diff", c.max_abs_diff},
          {"top1_agreement", c.top1_agreement},
          {"tolerance", c.tolerance},
          {"min_top1", c.min_top1},
          {"probes", probes},
          {"tensors", tensors},
          {"tokenizer", c.tokenizer},
          {"failures", c.failures}};
}

// Exports, with a progress bar on a terminal; then the check's verdict. A failed check exits 1.
int cmd_export(const std::string& project, const std::string& run_name, const std::string& format,
               const std::string& quant, bool no_check, const std::string& out, bool json) {
  ExportOptions options;
  options.format = export_format_from_string(format);
  options.quant = gguf_quant_from_string(quant);
  options.check = !no_check;
  const bool bar = !json && isatty(STDERR_FILENO);
  std::signal(SIGINT, on_sigint);
  options.on_progress = [bar](const ExportProgress& p) {
    if (bar) {
      const int percent =
          p.bytes_total ? int(100.0 * double(p.bytes_done) / double(p.bytes_total)) : 0;
      std::fprintf(stderr, "\r%s %s: %s of %s (%d%%)   ", p.stage.c_str(),
                   std::filesystem::path(p.file).filename().c_str(),
                   megabytes(p.bytes_done).c_str(), megabytes(p.bytes_total).c_str(), percent);
      std::fflush(stderr);
    }
    return g_interrupts == 0;  // Ctrl-C cancels, removing the partial file
  };
  const auto r = export_run(project, run_name, options, out);
  if (bar) std::fprintf(stderr, "\n");
  const auto& c = r.check;
  if (json) {
    std::printf("%s\n", nlohmann::json{{"files", r.files},
                                       {"bytes_written", r.bytes_written},
                                       {"check", check_json(c)}}
                            .dump()
                            .c_str());
    return c.ran && !c.passed ? kExitFailure : kExitOk;
  }
  for (const auto& f : r.files) std::printf("wrote %s\n", f.c_str());
  std::printf("%s in all\n", megabytes(r.bytes_written).c_str());
  if (!c.ran) {
    std::printf("check: skipped (--no-check); the export is not verified\n");
    return kExitOk;
  }
  std::printf("check: %s\n", c.passed ? "PASSED" : "FAILED");
  for (const auto& p : c.probes) {
    // The first line, at most 30 bytes, cut at a character boundary.
    std::string shown = p.prompt.substr(0, std::min(p.prompt.find('\n'), size_t{30}));
    if (shown.size() < p.prompt.size())
      while (!shown.empty() && (static_cast<unsigned char>(p.prompt[shown.size()]) & 0xC0) == 0x80)
        shown.pop_back();
    std::printf("  probe %-32s %4lld positions  max |dlogit| %.3g  top-1 %.1f%%\n",
                ("\"" + shown + "\"").c_str(), static_cast<long long>(p.positions), p.max_abs_diff,
                100 * p.top1_agreement);
  }
  std::printf("  max |dlogit| %.3g (allowed %.3g), top-1 agreement %.1f%% (required %.0f%%)\n",
              c.max_abs_diff, c.tolerance, 100 * c.top1_agreement, 100 * c.min_top1);
  if (!c.tensors.empty()) {
    const auto worst = std::max_element(c.tensors.begin(), c.tensors.end(), [](auto& a, auto& b) {
      return (a.bound > 0 ? a.max_error / a.bound : a.max_error) <
             (b.bound > 0 ? b.max_error / b.bound : b.max_error);
    });
    std::printf(
        "  %zu tensors dequantised and compared; the closest to its bound: %s "
        "(error %.3g, bound %.3g)\n",
        c.tensors.size(), worst->name.c_str(), worst->max_error, worst->bound);
  }
  if (!c.tokenizer.empty()) std::printf("  tokenizer: %s\n", c.tokenizer.c_str());
  for (const auto& f : c.failures) std::printf("  FAILED: %s\n", f.c_str());
  return c.passed ? kExitOk : kExitFailure;
}

int cmd_generate(const std::string& project, const std::string& run_name, const std::string& prompt,
                 GenerateOptions options, const std::string& device, bool json) {
  if (device != "auto" && device != "cpu")
    throw InputError("--device", "must be auto or cpu, not '" + device + "'");
  if (!json) {
    // Plain mode streams: the prompt, then each piece of text as the model produces it.
    std::printf("%s", prompt.c_str());
    std::fflush(stdout);
    options.on_text = [](const std::string& piece) {
      std::printf("%s", piece.c_str());
      std::fflush(stdout);
      return true;
    };
  }
  // auto: the GPU when there is one and the run did not ask for the CPU; cpu: fp32 on the CPU, the
  // reference numbers the interoperability checks compare transformers with.
  const auto g = device == "cpu" ? generate(project, run_name, prompt, options)
                                 : Generator::for_run(project, run_name)->generate(prompt, options);
  if (json) {
    std::printf("%s\n", nlohmann::json{{"text", g.text},
                                       {"prompt_ids", g.prompt_ids},
                                       {"output_ids", g.output_ids},
                                       {"first_logits", g.first_logits},
                                       {"stop_reason", g.stop_reason},
                                       {"options",
                                        {{"max_tokens", options.max_new_tokens},
                                         {"temperature", options.temperature},
                                         {"top_k", options.top_k},
                                         {"top_p", options.top_p},
                                         {"repetition_penalty", options.repetition_penalty},
                                         {"seed", options.seed},
                                         {"chat", options.chat},
                                         {"stop", options.stop}}}}
                            .dump()
                            .c_str());
  } else {
    std::printf("\n");
  }
  // Speed on stderr, so stdout stays the text: the prompt's forward, then tokens per second of
  // the steps after it (the first token comes from the prompt's forward).
  const size_t steps = g.output_ids.size() > 0 ? g.output_ids.size() - 1 : 0;
  std::fprintf(stderr, "prompt: %zu tokens in %.3f s; %zu tokens at %.1f tokens/s (%s)\n",
               g.prompt_ids.size(), g.prompt_seconds, g.output_ids.size(),
               g.decode_seconds > 0 ? double(steps) / g.decode_seconds : 0.0,
               g.stop_reason.c_str());
  return kExitOk;
}

int cmd_classify(const std::string& project, const std::string& run_name, const std::string& text,
                 bool json) {
  const auto c = classify(project, run_name, text);
  if (json) {
    std::printf("%s\n", nlohmann::json{{"label", c.label},
                                       {"labels", c.labels},
                                       {"logits", c.logits},
                                       {"input_ids", c.input_ids}}
                            .dump()
                            .c_str());
    return kExitOk;
  }
  std::printf("%s\n", c.label.c_str());
  return kExitOk;
}

int cmd_delete(const std::string& project, const std::string& run_name, bool force) {
  int64_t run_id = 0;
  std::string name;
  {
    auto store = ProjectStore::open(project);
    const auto r = require_run(*store, run_name);
    run_id = r->id;
    name = r->name;
  }
  const auto dependents = run_dependents(project, run_id);
  delete_run(project, run_id, force);
  std::printf("deleted run '%s' with its checkpoints\n", name.c_str());
  for (const auto& d : dependents)
    std::printf("  run '%s' started from it: %s\n", d.name.c_str(),
                d.needs_parent ? "it can no longer start" : "it keeps its own copy of the weights");
  return kExitOk;
}

int cmd_config() {
  std::printf("%s\n", RunConfig{}.to_json().dump(2).c_str());
  return kExitOk;
}

std::string human_count(int64_t n) {
  char buf[32];
  if (n >= 1000000000)
    std::snprintf(buf, sizeof buf, "%.1fB", n / 1e9);
  else
    std::snprintf(buf, sizeof buf, "%.0fM", n / 1e6);
  return buf;
}

int cmd_models(bool json) {
  const auto cached = cached_hf_models();
  if (json) {
    nlohmann::json out{{"presets", nlohmann::json::array()},
                       {"cached", nlohmann::json::array()},
                       {"hub", hf_hub_dir()}};
    for (const auto& [n, d] : model_presets())
      out["presets"].push_back({{"source", "preset:" + n}, {"description", d}});
    for (const auto& m : cached)
      out["cached"].push_back({{"name", m.name},
                               {"source", m.path},
                               {"architecture", m.architecture},
                               {"parameters", m.parameters},
                               {"dtype", m.dtype},
                               {"context_length", m.context_length},
                               {"size_bytes", m.size_bytes},
                               {"problem", m.problem}});
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  for (const auto& [n, d] : model_presets()) std::printf("preset:%-16s %s\n", n.c_str(), d.c_str());
  std::printf("\nHugging Face cache %s: %zu model%s\n", hf_hub_dir().c_str(), cached.size(),
              cached.size() == 1 ? "" : "s");
  if (cached.empty()) return kExitOk;
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : cached) {
    char size[32];
    std::snprintf(size, sizeof size, "%.2f GB", m.size_bytes / 1e9);
    rows.push_back({m.name, m.problem.empty() ? m.architecture : "unusable: " + m.problem,
                    human_count(m.parameters), m.dtype, std::to_string(m.context_length), size,
                    m.path});
  }
  print_table({"name", "architecture", "parameters", "dtype", "context", "size", "source"}, rows);
  return kExitOk;
}

std::vector<int32_t> parse_ids(const std::string& text, const char* option) {
  std::vector<int32_t> ids;
  std::string item;
  std::stringstream in(text);
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      const long v = std::stol(item, &used);
      if (used != item.size() || v < 0 || v > INT32_MAX) throw std::invalid_argument(item);
      ids.push_back(static_cast<int32_t>(v));
    } catch (const std::exception&) {
      throw InputError(option, "'" + item + "' is not a token id (a comma-separated list: 1,2,3)");
    }
  }
  return ids;
}

int cmd_tokenize(const std::string& model, const std::string& text, const std::string& file,
                 const std::string& decode_ids, bool json) {
  const auto tok = model_tokenizer(model);
  if (!decode_ids.empty()) {
    const std::string decoded = tok->decode(parse_ids(decode_ids, "--decode"));
    if (json)
      std::printf("%s\n", nlohmann::json{{"text", decoded}}.dump(2).c_str());
    else
      std::printf("%s\n", decoded.c_str());
    return kExitOk;
  }
  if (text.empty() == file.empty())
    throw InputError("tokenize", "give the text with --text or --file (one of them)");
  std::string input = text;
  if (!file.empty()) {
    const auto bytes = read_file_bytes(file);
    input.assign(bytes.begin(), bytes.end());
  }
  const auto ids = tok->encode(input);
  if (json) {
    nlohmann::json tokens = nlohmann::json::array();
    for (int32_t id : ids) tokens.push_back(tok->token_text(id));
    std::printf("%s\n", nlohmann::json{{"ids", ids}, {"tokens", tokens}, {"count", ids.size()}}
                            .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                            .c_str());
    return kExitOk;
  }
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) line += (i ? "," : "") + std::to_string(ids[i]);
  std::printf("%s\n", line.c_str());
  return kExitOk;
}

int cmd_logits(const std::string& model, const std::string& tokens, const std::string& adapter,
               const std::string& out) {
  const auto ids = parse_ids(tokens, "--tokens");
  write_logits(model, ids, adapter, out);
  std::printf("wrote logits (%zu positions) to %s\n", ids.size(), out.c_str());
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "DeepTune Workbench headless runner: LoRA fine-tuning with every step recorded in a project "
      "file"};
  app.require_subcommand(1);
  app.set_version_flag("--version",
                       "deeptune-cli " + engine_version() + " (LibTorch " + torch_version() + ")");

  std::string project, run_name, out_dir, format;
  bool json = false, force = false;
  // The two positional arguments of every verb that acts on one run.
  auto project_and_run = [&](CLI::App* verb) {
    verb->add_option("PROJECT", project, "Project file")->required();
    verb->add_option("RUN", run_name, "Run name or id")->required();
  };
  InitArgs init_args;
  DataAddArgs add;
  TrainArgs train_args;

  auto* init = app.add_subcommand("init", "Create a project file");
  init->add_option("PROJECT", init_args.project, "Project file to create (*.dtproj)")->required();
  init->add_option("--name", init_args.name, "Project name (default: the file name)");
  init->add_flag("--sample", init_args.sample,
                 "Add the bundled sample datasets and a run config that learns in a minute");

  auto* data = app.add_subcommand("data", "Manage the project's datasets");
  data->require_subcommand(1);
  auto* data_add =
      data->add_subcommand("add", "Register a dataset file (JSONL, JSON, CSV or plain text)");
  data_add->add_option("PROJECT", add.project, "Project file")->required();
  data_add->add_option("FILE", add.file, "Dataset file")->required();
  data_add->add_option("--name", add.name, "Dataset name (default: the file name)");
  data_add->add_option("--format", add.format, "jsonl|json|csv|txt (default: detected)");
  data_add->add_option("--text", add.text, "Column holding the text");
  data_add->add_option("--prompt", add.prompt, "Column holding the prompt (with --response)");
  data_add->add_option("--response", add.response, "Column holding the response (loss on it only)");
  data_add->add_option("--label", add.label, "Column holding the class label (with --text)");
  data_add->add_option("--messages", add.messages,
                       "Column holding conversations: lists of {role, content} (loss on the "
                       "assistant turns only)");
  auto* data_list = data->add_subcommand("list", "List the project's datasets");
  data_list->add_option("PROJECT", project, "Project file")->required();
  data_list->add_flag("--json", json, "Print JSON");

  auto* train = app.add_subcommand(
      "train", "Start a new run and follow it to the end (Ctrl-C stops it cleanly)");
  train->add_option("PROJECT", train_args.project, "Project file")->required();
  train->add_option("--config", train_args.config,
                    "Run config: a JSON file or the name of a project preset");
  train->add_option("--set", train_args.sets,
                    "Override one key, e.g. --set train.lr=1e-4 (repeatable)");
  train->add_option("--name", train_args.name, "Run name (default: run, run-2, ...)");
  train->add_flag("--json", train_args.json, "Print progress as JSON lines");

  EstimateArgs estimate_args;
  auto* estimate = app.add_subcommand(
      "estimate",
      "Forecast the memory a training step of a config will need, per category, and the largest "
      "micro-batch that fits");
  estimate->add_option("PROJECT", estimate_args.project, "Project file")->required();
  estimate->add_option("--config", estimate_args.config,
                       "Run config: a JSON file or the name of a project preset");
  estimate->add_option("--set", estimate_args.sets, "Override one key (repeatable)");
  estimate->add_option("--device", estimate_args.device, "cuda or cpu (default: the config's)")
      ->check(CLI::IsMember({"auto", "cuda", "cpu"}));
  estimate->add_flag("--json", estimate_args.json,
                     "Print JSON: peak_bytes, categories (name -> bytes), max_micro_batch, ...");
  estimate->add_flag("--measure", estimate_args.measure,
                     "Also train a few steps on full-length random rows and print the measured "
                     "memory beside the forecast (nothing is written to the project)");
  estimate->add_option("--steps", estimate_args.steps, "Steps measured (the last one counts)")
      ->check(CLI::Range(1, 100));

  AttentionArgs attention_args;
  auto* attention = app.add_subcommand(
      "attention",
      "Show a run's stored attention: its probes and steps, one head's map, or every head's "
      "statistics");
  attention->add_option("PROJECT", attention_args.project, "Project file")->required();
  attention->add_option("RUN", attention_args.run, "Run name or id")->required();
  attention->add_option("--probe", attention_args.probe, "Probe (default 0)")
      ->check(CLI::NonNegativeNumber);
  attention->add_option("--step", attention_args.step, "Snapshot step (default: the last)")
      ->check(CLI::NonNegativeNumber);
  attention->add_option("--layer", attention_args.layer, "Layer of the map to print")
      ->check(CLI::NonNegativeNumber);
  attention->add_option("--head", attention_args.head, "Head of the map to print")
      ->check(CLI::NonNegativeNumber);
  attention->add_flag("--stats", attention_args.stats,
                      "Per-head entropy, sink, previous-token and maximum weight");
  attention
      ->add_option("--adapter", attention_args.adapter,
                   "Recompute from the checkpoint at or before --step with the LoRA adapters "
                   "on or off (a full fine-tune: its weights or the ones it started from)")
      ->check(CLI::IsMember({"on", "off"}));
  attention->add_flag("--full", attention_args.full,
                      "Recompute from the checkpoint without max-pooling a long probe");
  attention->add_flag("--json", attention_args.json, "Print JSON");

  BenchArgs bench_args;
  auto* bench = app.add_subcommand(
      "bench",
      "Time the training step of a preset or Hugging Face folder on random rows (no project)");
  bench
      ->add_option("--model", bench_args.model,
                   "preset:NAME or a Hugging Face folder (config.json alone: random weights)")
      ->required();
  bench->add_option("--batch", bench_args.batch, "Rows per step")->check(CLI::Range(1, 4096));
  bench->add_option("--seq", bench_args.seq, "Tokens per row")->check(CLI::Range(2, 1 << 20));
  bench->add_option("--steps", bench_args.steps, "Timed steps")->check(CLI::Range(1, 10000));
  bench->add_option("--warmup", bench_args.warmup, "Untimed steps first")
      ->check(CLI::Range(0, 10000));
  bench->add_option("--set", bench_args.sets,
                    "Override a run-config key, e.g. --set lora.r=16 (repeatable)");
  bench->add_option("--profile", bench_args.profile,
                    "Also write a Chrome trace of 3 more steps to this file (LibTorch >= 2.1)");
  bench->add_flag("--json", bench_args.json, "Print one JSON line");

  auto* resume = app.add_subcommand(
      "resume",
      "Continue a stopped or interrupted run (or a failed one that has a checkpoint) from its "
      "last checkpoint");
  project_and_run(resume);
  resume->add_flag("--json", json, "Print progress as JSON lines");

  auto* runs = app.add_subcommand("runs", "List the project's runs");
  runs->add_option("PROJECT", project, "Project file")->required();
  runs->add_flag("--json", json, "Print JSON");

  auto* metrics = app.add_subcommand("metrics", "Print a run's recorded metrics");
  project_and_run(metrics);
  metrics->add_flag("--json", json, "Print {metric: [[step, value], ...]}");

  auto* exp = app.add_subcommand("export", "Export a run's latest checkpoint");
  project_and_run(exp);
  std::string quant = "F16";
  bool no_check = false;
  exp->add_option("--format", format,
                  "peft (LoRA adapter for Python's PEFT), hf (merged checkpoint) or gguf "
                  "(llama.cpp / Ollama)")
      ->required();
  exp->add_option("--quant", quant, "GGUF weight type: F16 (default), BF16, Q8_0 or F32");
  exp->add_flag("--no-check", no_check,
                "Skip the check (reload what was written and compare logits with the model)");
  exp->add_flag("--json", json, "Print the files and the check as JSON");
  exp->add_option("--out", out_dir, "Output folder (gguf: also FILE.gguf)")->required();

  std::string prompt;
  GenerateOptions gen_options;
  auto* gen = app.add_subcommand(
      "generate",
      "Continue a prompt with a causal-LM run's latest checkpoint (greedy unless --temperature)");
  project_and_run(gen);
  gen->add_option("--prompt", prompt, "Prompt text, e.g. \"Write 2024-03-15 in words: \"")
      ->required();
  gen->add_option("--max-tokens", gen_options.max_new_tokens, "Most tokens to generate")
      ->check(CLI::Range(1, 4096));
  gen->add_option("--temperature", gen_options.temperature, "Sampling temperature; 0 = greedy")
      ->check(CLI::Range(0.0, 100.0));
  gen->add_option("--top-k", gen_options.top_k, "Sample among the K most likely tokens; 0 = all")
      ->check(CLI::NonNegativeNumber);
  gen->add_option("--top-p", gen_options.top_p,
                  "Sample among the most likely tokens whose probability reaches P")
      ->check(CLI::Range(0.0, 1.0));
  gen->add_option("--repetition-penalty", gen_options.repetition_penalty,
                  "Penalise tokens already in the context (as transformers; 1 = none)")
      ->check(CLI::PositiveNumber);
  gen->add_option("--seed", gen_options.seed, "Seed for sampling (the same on every platform)");
  gen->add_flag("--chat", gen_options.chat,
                "Send the prompt as a user message in the run's chat format");
  gen->add_option("--stop", gen_options.stop,
                  "Stop before this text (repeatable); the stop text is not printed")
      ->take_all();
  std::string gen_device = "auto";
  gen->add_option("--device", gen_device,
                  "auto (the GPU when there is one, as the run allows) or cpu (fp32 reference)");
  gen->add_flag("--json", json, "Print text, token ids and the first step's logits as JSON");

  std::string text;
  auto* cls =
      app.add_subcommand("classify", "Label a text with a classification run's latest checkpoint");
  project_and_run(cls);
  cls->add_option("--text", text, "The text to label")->required();
  cls->add_flag("--json", json, "Print the label, every class's logit and the token ids as JSON");

  auto* del = app.add_subcommand("delete", "Delete a run with its checkpoints and metrics");
  project_and_run(del);
  del->add_flag("--force", force,
                "Delete even when runs that have not started yet start from its weights");

  auto* config =
      app.add_subcommand("config", "Print the full default run config (every key) as JSON");
  auto* models = app.add_subcommand(
      "models", "List the model presets and the Hugging Face models of the local cache");
  models->add_flag("--json", json, "Print as JSON");

  std::string model, tok_file, decode_ids, tokens, adapter, logits_out;
  auto* tokenize = app.add_subcommand(
      "tokenize", "Token ids of a text under a model's tokenizer (or the text of ids)");
  tokenize->add_option("model", model, "A Hugging Face model folder, or PROJECT:RUN")->required();
  tokenize->add_option("--text", text, "The text");
  tokenize->add_option("--file", tok_file, "A file holding the text");
  tokenize->add_option("--decode", decode_ids, "Comma-separated ids to turn back into text");
  tokenize->add_flag("--json", json, "Print ids and token strings as JSON");

  auto* logits = app.add_subcommand(
      "logits", "Write a model's next-token logits at every position (fp32) to a safetensors file");
  logits->add_option("model", model, "A Hugging Face model folder, or PROJECT:RUN")->required();
  logits->add_option("--tokens", tokens, "Comma-separated token ids, e.g. 1,2,3")->required();
  logits->add_option("--adapter", adapter, "A PEFT LoRA adapter folder to apply");
  logits->add_option("--out", logits_out, "The safetensors file to write")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports an unknown verb only as "A subcommand is required"; name the word at fault.
    if (argc > 1 && argv[1][0] != '-' && app.get_subcommands().empty()) {
      std::fprintf(stderr,
                   "error: unknown command '%s'; run with --help for the list of commands\n",
                   argv[1]);
      return kExitBadInput;
    }
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitBadInput;
  }

  try {
    if (*init) return cmd_init(init_args);
    if (*data_add) return cmd_data_add(add);
    if (*data_list) return cmd_data_list(project, json);
    if (*train) return cmd_train(train_args);
    if (*resume) return cmd_resume(project, run_name, json);
    if (*estimate) return cmd_estimate(estimate_args);
    if (*attention) return cmd_attention(attention_args);
    if (*bench) return cmd_bench(bench_args);
    if (*runs) return cmd_runs(project, json);
    if (*metrics) return cmd_metrics(project, run_name, json);
    if (*exp) return cmd_export(project, run_name, format, quant, no_check, out_dir, json);
    if (*gen) return cmd_generate(project, run_name, prompt, gen_options, gen_device, json);
    if (*cls) return cmd_classify(project, run_name, text, json);
    if (*del) return cmd_delete(project, run_name, force);
    if (*config) return cmd_config();
    if (*models) return cmd_models(json);
    if (*tokenize) return cmd_tokenize(model, text, tok_file, decode_ids, json);
    if (*logits) return cmd_logits(model, tokens, adapter, logits_out);
  } catch (const DiskFullError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitTempFailure;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.kind() == ErrorKind::kInvalidInput ? kExitBadInput : kExitFailure;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitFailure;
  }
  return kExitBadInput;
}
