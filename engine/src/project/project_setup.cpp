// Dataset registration and the sample project: the steps `deeptune-cli init/data add` and the
// workbench's Data page share, so both record a dataset identically.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "deeptune/config.h"
#include "deeptune/error.h"
#include "deeptune/files.h"
#include "deeptune/project.h"
#include "deeptune/sample_data.h"
#include "deeptune/tokenizer.h"

namespace fs = std::filesystem;

namespace deeptune {
namespace {

// The sample's configs: each learns visibly within a minute on a 2-core CPU.
RunConfig sample_common() {
  RunConfig c;
  c.data.max_length = 64;
  c.train.lr = 3e-3;
  c.train.batch_size = 32;
  c.train.micro_batch_size = 32;
  c.train.max_steps = 300;
  c.train.warmup_steps = 20;
  c.train.eval_every = 50;
  c.train.checkpoint_every = 100;
  return c;
}

nlohmann::json sample_pretrain_config() {
  RunConfig c = sample_common();
  c.data.dataset = "dates";
  c.model.source = "preset:tiny";
  c.train.mode = TrainMode::kFull;
  return c.to_json();
}

nlohmann::json sample_lora_config() {
  RunConfig c = sample_common();
  c.data.dataset = "dates-fr";
  c.model.source = std::string("run:") + kSampleBaseRun;
  c.lora.targets = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  return c.to_json();
}

nlohmann::json sample_classifier_config() {
  RunConfig c = sample_common();
  c.data.dataset = "tickets";
  c.model.task = Task::kClassification;
  c.model.source = std::string("run:") + kSampleBaseRun;
  return c.to_json();
}

// Whether `file` may serve as the bundled `sample`: absent (it will be written), or a regular file
// with exactly the bundled bytes. Anything else is the user's and is left alone.
bool free_or_same(const fs::path& file, const SampleFile& sample) {
  std::error_code ec;
  const fs::file_status status = fs::status(file, ec);
  if (status.type() == fs::file_type::not_found) return true;
  // Only a regular file is opened: reading a FIFO would block.
  if (status.type() != fs::file_type::regular || fs::file_size(file, ec) != sample.size || ec)
    return false;
  std::ifstream in(file, std::ios::binary);
  std::string bytes(sample.size, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return in.gcount() == static_cast<std::streamsize>(sample.size) &&
         bytes.compare(0, bytes.size(), sample.data, sample.size) == 0;
}

// The first of sample-data, sample-data-2, ... in which every bundled file is free or the same.
fs::path sample_folder(const fs::path& project_dir) {
  constexpr int kMaxFolders = 100;  // beyond that, something else is wrong with the folder
  for (int n = 1; n <= kMaxFolders; ++n) {
    const fs::path dir =
        project_dir / (n == 1 ? std::string("sample-data") : "sample-data-" + std::to_string(n));
    std::error_code ec;
    const fs::file_type type = fs::status(dir, ec).type();
    if (type == fs::file_type::not_found) return dir;
    if (type != fs::file_type::directory) continue;
    const auto& files = sample_files();
    if (std::all_of(files.begin(), files.end(),
                    [&](const SampleFile& f) { return free_or_same(dir / f.name, f); }))
      return dir;
  }
  throw InputError((project_dir / "sample-data").string(),
                   "sample-data and sample-data-2 ... sample-data-" + std::to_string(kMaxFolders) +
                       " all hold other files; move one of them away");
}

}  // namespace

DatasetRecord register_dataset(ProjectStore& store, const DatasetSource& source) {
  const std::string abs = fs::absolute(source.path).lexically_normal().string();
  require_regular_file(abs);  // before anything opens it: a FIFO would block every reader
  const DataFormat format = source.format ? *source.format : detect_format(abs);
  const Table table = read_table(abs, format);
  const FieldMapping mapping = source.mapping ? *source.mapping : guess_mapping(table.columns);
  mapping.kind();  // validates the combination
  const auto examples = map_examples(table, mapping, abs);
  const RunConfig defaults;
  const ByteTokenizer tokenizer;
  const auto split = split_indices(examples.size(), defaults.data.val_fraction, defaults.seed);
  const auto stats = compute_stats(examples, split, tokenizer, defaults.data.max_length);
  DatasetRecord d;
  d.name = source.name.empty() ? fs::path(abs).stem().string() : source.name;
  d.path = store.relativize(abs);
  d.format = to_string(format);
  d.mapping_json = mapping.to_json().dump();
  d.sha256 = sha256_file(abs);
  d.rows = static_cast<int64_t>(examples.size());
  d.stats_json = stats.to_json().dump();
  d.id = store.add_dataset(d);
  return d;
}

void add_sample_content(ProjectStore& store) {
  const fs::path dir = sample_folder(fs::path(store.directory()));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw RunError(dir.string(), "cannot create the folder: " + ec.message());
  for (const auto& f : sample_files()) {
    const fs::path file = dir / f.name;
    if (!fs::exists(file, ec)) write_file_atomic(file.string(), std::string(f.data, f.size));
  }
  FieldMapping prompt_response;
  prompt_response.prompt = "prompt";
  prompt_response.response = "response";
  FieldMapping text_label;
  text_label.text = "text";
  text_label.label = "label";
  register_dataset(store,
                   {(dir / "dates.jsonl").string(), "dates", DataFormat::kJsonl, prompt_response});
  register_dataset(
      store, {(dir / "dates_fr.jsonl").string(), "dates-fr", DataFormat::kJsonl, prompt_response});
  register_dataset(store,
                   {(dir / "tickets.csv").string(), "tickets", DataFormat::kCsv, text_label});
  store.save_preset("pretrain", sample_pretrain_config().dump());
  store.save_preset("default", sample_lora_config().dump());
  store.save_preset("tickets-classifier", sample_classifier_config().dump());
}

}  // namespace deeptune
