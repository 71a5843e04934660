// deeptune-cli: the headless runner. Same project file and RunConfig as the workbench.
// Exit status: 0 success, 2 bad usage or bad input, 1 failure while running, 130 stopped by Ctrl-C.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "deeptune/config.h"
#include "deeptune/data.h"
#include "deeptune/error.h"
#include "deeptune/project.h"
#include "deeptune/session.h"
#include "deeptune/store.h"
#include "deeptune/version.h"
#include "progress.h"

namespace fs = std::filesystem;
using namespace deeptune;

namespace {

constexpr int kExitOk = 0, kExitFailure = 1, kExitBadInput = 2, kExitStopped = 130;

RunControl* g_control = nullptr;
volatile std::sig_atomic_t g_interrupts = 0;

void on_sigint(int) {
  if (++g_interrupts > 1) _exit(kExitStopped);  // second Ctrl-C: leave now (run shows interrupted)
  if (g_control) g_control->request_stop();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open file");
  return std::string(std::istreambuf_iterator<char>(in), {});
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

// ---- data ---------------------------------------------------------------------------------------

struct DataAddArgs {
  std::string project, file, name, format, text, prompt, response, label;
};

DatasetRecord add_dataset(ProjectStore& store, const DataAddArgs& a) {
  DatasetSource source;
  source.path = a.file;
  source.name = a.name;
  if (!a.format.empty()) source.format = data_format_from_string(a.format);
  if (!a.text.empty() || !a.prompt.empty() || !a.response.empty() || !a.label.empty()) {
    FieldMapping mapping;
    mapping.text = a.text;
    mapping.prompt = a.prompt;
    mapping.response = a.response;
    mapping.label = a.label;
    source.mapping = mapping;
  }
  const DatasetRecord d = register_dataset(store, source);
  const auto stats = nlohmann::json::parse(d.stats_json);
  {
    std::printf("added dataset '%s' (#%lld): %s, %lld rows, mapping %s\n", d.name.c_str(),
                static_cast<long long>(d.id), d.format.c_str(), static_cast<long long>(d.rows),
                d.mapping_json.c_str());
    std::printf("  tokens per example (byte tokenizer): min %lld, mean %.1f, max %lld\n",
                stats["min_tokens"].get<long long>(), stats["mean_tokens"].get<double>(),
                stats["max_tokens"].get<long long>());
    for (const auto& [label, n] : stats["label_counts"].items())
      std::printf("  label %s: %lld\n", label.c_str(), n.get<long long>());
  }
  return d;
}

// ---- train --------------------------------------------------------------------------------------

nlohmann::json base_config(ProjectStore& store, const std::string& config_arg,
                           std::string* origin) {
  const auto presets = store.presets();
  if (!config_arg.empty()) {
    if (fs::exists(config_arg)) {
      *origin = config_arg;
      try {
        return nlohmann::json::parse(read_file(config_arg));
      } catch (const nlohmann::json::parse_error& e) {
        throw InputError(config_arg, std::string("invalid JSON: ") + e.what());
      }
    }
    auto it = presets.find(config_arg);
    if (it == presets.end())
      throw InputError("--config",
                       "'" + config_arg + "' is neither a file nor a preset of the project");
    *origin = "preset " + config_arg;
    return nlohmann::json::parse(it->second);
  }
  if (auto it = presets.find("default"); it != presets.end()) {
    *origin = "preset default";
    return nlohmann::json::parse(it->second);
  }
  *origin = "defaults";
  return RunConfig{}.to_json();
}

int run_training(const std::string& project, int64_t run_id, bool json) {
  const auto mode = json                    ? cli::OutputMode::kJson
                    : isatty(STDERR_FILENO) ? cli::OutputMode::kBar
                                            : cli::OutputMode::kLines;
  cli::ProgressPrinter printer(mode);
  RunControl control;
  g_control = &control;
  std::signal(SIGINT, on_sigint);
  std::signal(SIGTERM, on_sigint);
  const auto outcome = execute_run(project, run_id, printer, control);
  printer.finish();
  g_control = nullptr;
  std::signal(SIGINT, SIG_DFL);
  auto store = ProjectStore::open(project);
  const auto run = store->run(run_id);
  switch (outcome.status) {
    case RunStatus::kCompleted:
      if (!json)
        std::printf("run '%s' completed: %s\n", run->name.c_str(), run->final_metrics_json.c_str());
      return kExitOk;
    case RunStatus::kStopped:
      std::fprintf(stderr,
                   "run '%s' stopped at step %lld; continue it with: deeptune-cli resume %s %s\n",
                   run->name.c_str(), static_cast<long long>(outcome.last_step), project.c_str(),
                   run->name.c_str());
      return kExitStopped;
    default:
      std::fprintf(stderr, "error: run '%s' failed: %s\n", run->name.c_str(),
                   outcome.error.c_str());
      return outcome.error_kind == ErrorKind::kInvalidInput ? kExitBadInput : kExitFailure;
  }
}

std::optional<RunRecord> require_run(ProjectStore& store, const std::string& name) {
  auto r = store.find_run(name);
  if (!r) throw InputError(store.path(), "no run named '" + name + "'");
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "DeepTune Workbench headless runner: LoRA fine-tuning with every step recorded in a project "
      "file"};
  app.require_subcommand(1);
  app.set_version_flag("--version",
                       "deeptune-cli " + engine_version() + " (LibTorch " + torch_version() + ")");

  std::string project, file, run_name, config_file, out_dir, format, name;
  std::vector<std::string> sets;
  bool json = false, sample = false;
  DataAddArgs add;

  auto* init = app.add_subcommand("init", "Create a project file");
  init->add_option("PROJECT", project, "Project file to create (*.dtproj)")->required();
  init->add_option("--name", name, "Project name (default: the file name)");
  init->add_flag("--sample", sample,
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
  auto* data_list = data->add_subcommand("list", "List the project's datasets");
  data_list->add_option("PROJECT", project, "Project file")->required();
  data_list->add_flag("--json", json, "Print JSON");

  auto* train = app.add_subcommand(
      "train", "Start a new run and follow it to the end (Ctrl-C stops it cleanly)");
  train->add_option("PROJECT", project, "Project file")->required();
  train->add_option("--config", config_file,
                    "Run config: a JSON file or the name of a project preset");
  train->add_option("--set", sets, "Override one key, e.g. --set train.lr=1e-4 (repeatable)");
  train->add_option("--name", run_name, "Run name (default: run, run-2, ...)");
  train->add_flag("--json", json, "Print progress as JSON lines");

  auto* resume = app.add_subcommand(
      "resume", "Continue a stopped or interrupted run from its last checkpoint");
  resume->add_option("PROJECT", project, "Project file")->required();
  resume->add_option("RUN", run_name, "Run name or id")->required();
  resume->add_flag("--json", json, "Print progress as JSON lines");

  auto* runs = app.add_subcommand("runs", "List the project's runs");
  runs->add_option("PROJECT", project, "Project file")->required();
  runs->add_flag("--json", json, "Print JSON");

  auto* metrics = app.add_subcommand("metrics", "Print a run's recorded metrics");
  metrics->add_option("PROJECT", project, "Project file")->required();
  metrics->add_option("RUN", run_name, "Run name or id")->required();
  metrics->add_flag("--json", json, "Print {metric: [[step, value], ...]}");

  auto* exp = app.add_subcommand("export", "Export a run's latest checkpoint");
  exp->add_option("PROJECT", project, "Project file")->required();
  exp->add_option("RUN", run_name, "Run name or id")->required();
  exp->add_option("--format", format,
                  "peft (LoRA adapter for Python's PEFT) or hf (merged checkpoint)")
      ->required();
  exp->add_option("--out", out_dir, "Output folder")->required();

  std::string prompt;
  int max_tokens = 64;
  auto* gen = app.add_subcommand(
      "generate", "Continue a prompt with a causal-LM run's latest checkpoint (greedy)");
  gen->add_option("PROJECT", project, "Project file")->required();
  gen->add_option("RUN", run_name, "Run name or id")->required();
  gen->add_option("--prompt", prompt, "Prompt text, e.g. \"Write 2024-03-15 in words: \"")
      ->required();
  gen->add_option("--max-tokens", max_tokens, "Most tokens to generate")
      ->check(CLI::Range(1, 4096));
  gen->add_flag("--json", json, "Print text, token ids and the first step's logits as JSON");

  auto* config =
      app.add_subcommand("config", "Print the full default run config (every key) as JSON");

  auto* models = app.add_subcommand("models", "List the model presets");

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
    if (*init) {
      const auto parent = fs::absolute(project).parent_path();
      if (!fs::exists(parent)) fs::create_directories(parent);
      auto store =
          ProjectStore::create(project, name.empty() ? fs::path(project).stem().string() : name);
      if (sample) add_sample_content(*store);
      std::printf("created project %s%s\n", store->path().c_str(),
                  sample ? " with the sample datasets 'dates', 'dates-fr' and 'tickets'" : "");
      if (sample)
        std::printf(
            "next: deeptune-cli train %s --config pretrain --name %s   (the base model)\n"
            "then: deeptune-cli train %s   (LoRA: adapt it to French dates)\n",
            project.c_str(), kSampleBaseRun, project.c_str());
      return kExitOk;
    }
    if (*data_add) {
      auto store = ProjectStore::open(add.project);
      add_dataset(*store, add);
      return kExitOk;
    }
    if (*data_list) {
      auto store = ProjectStore::open(project);
      const auto all = store->datasets();
      if (json) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& d : all)
          arr.push_back({{"id", d.id},
                         {"name", d.name},
                         {"path", d.path},
                         {"format", d.format},
                         {"mapping", nlohmann::json::parse(d.mapping_json)},
                         {"rows", d.rows},
                         {"sha256", d.sha256},
                         {"stats", d.stats_json.empty() ? nlohmann::json()
                                                        : nlohmann::json::parse(d.stats_json)}});
        std::printf("%s\n", arr.dump(2).c_str());
      } else {
        std::vector<std::vector<std::string>> rows;
        for (const auto& d : all)
          rows.push_back({std::to_string(d.id), d.name, d.format, std::to_string(d.rows),
                          d.mapping_json, d.path});
        print_table({"id", "name", "format", "rows", "mapping", "path"}, rows);
      }
      return kExitOk;
    }
    if (*train) {
      int64_t run_id = 0;
      {
        auto store = ProjectStore::open(project);
        std::string origin;
        auto doc = base_config(*store, config_file, &origin);
        for (const auto& s : sets) RunConfig::apply_override(doc, s);
        const auto cfg = RunConfig::from_json(doc, origin == "defaults" ? "" : origin);
        for (const auto& a : cfg.advisories()) std::fprintf(stderr, "warning: %s\n", a.c_str());
        run_id = create_run(project, cfg, run_name);
        const auto r = store->run(run_id);
        if (!json)
          std::printf("run '%s' (#%lld) created from %s\n", r->name.c_str(),
                      static_cast<long long>(run_id), origin.c_str());
      }
      return run_training(project, run_id, json);
    }
    if (*resume) {
      int64_t run_id = 0;
      {
        auto store = ProjectStore::open(project);
        const auto r = require_run(*store, run_name);
        if (!is_resumable(r->status))
          throw InputError(r->name,
                           "is " + to_string(r->status) +
                               "; only stopped, paused or interrupted runs can be resumed");
        run_id = r->id;
      }
      return run_training(project, run_id, json);
    }
    if (*runs) {
      auto store = ProjectStore::open(project);
      const auto all = store->runs();
      if (json) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& r : all)
          arr.push_back({{"id", r.id},
                         {"name", r.name},
                         {"status", to_string(r.status)},
                         {"step", r.last_step},
                         {"max_steps", r.max_steps},
                         {"config", nlohmann::json::parse(r.config_json)},
                         {"final_metrics", r.final_metrics_json.empty()
                                               ? nlohmann::json()
                                               : nlohmann::json::parse(r.final_metrics_json)},
                         {"device", r.device},
                         {"created_at", r.created_at},
                         {"error", r.error_text},
                         {"engine_version", r.engine_version},
                         {"torch_version", r.torch_version}});
        std::printf("%s\n", arr.dump(2).c_str());
      } else {
        std::vector<std::vector<std::string>> rows;
        for (const auto& r : all) {
          const auto c = nlohmann::json::parse(r.config_json);
          const auto fm = r.final_metrics_json.empty()
                              ? nlohmann::json::object()
                              : nlohmann::json::parse(r.final_metrics_json);
          rows.push_back(
              {std::to_string(r.id), r.name, to_string(r.status),
               std::to_string(r.last_step) + "/" + std::to_string(r.max_steps),
               c["data"]["dataset"].get<std::string>(), c["train"]["mode"].get<std::string>(),
               fmt(c["train"]["lr"].get<double>()), std::to_string(c["lora"]["r"].get<int>()),
               fm.contains("val_loss") ? fmt(fm["val_loss"].get<double>()) : "-", r.created_at});
        }
        print_table(
            {"id", "name", "status", "step", "dataset", "mode", "lr", "r", "val_loss", "created"},
            rows);
      }
      return kExitOk;
    }
    if (*metrics) {
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
      } else {
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
      }
      return kExitOk;
    }
    if (*exp) {
      const auto files = export_run(project, run_name, export_format_from_string(format), out_dir);
      for (const auto& f : files) std::printf("wrote %s\n", f.c_str());
      return kExitOk;
    }
    if (*gen) {
      const auto g = generate(project, run_name, prompt, max_tokens);
      if (json)
        std::printf("%s\n", nlohmann::json{{"text", g.text},
                                           {"prompt_ids", g.prompt_ids},
                                           {"output_ids", g.output_ids},
                                           {"first_logits", g.first_logits}}
                                .dump()
                                .c_str());
      else
        std::printf("%s%s\n", prompt.c_str(), g.text.c_str());
      return kExitOk;
    }
    if (*config) {
      std::printf("%s\n", RunConfig{}.to_json().dump(2).c_str());
      return kExitOk;
    }
    if (*models) {
      for (const auto& [n, d] : model_presets())
        std::printf("preset:%-16s %s\n", n.c_str(), d.c_str());
      return kExitOk;
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.kind() == ErrorKind::kInvalidInput ? kExitBadInput : kExitFailure;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitFailure;
  }
  return kExitBadInput;
}
