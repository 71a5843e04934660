// Project-level operations shared by deeptune-cli and the workbench: registering a dataset file
// (read, map, split, statistics, hash) and filling a new project with the bundled sample.
#pragma once

#include <optional>
#include <string>

#include "deeptune/data.h"
#include "deeptune/store.h"

namespace deeptune {

struct DatasetSource {
  std::string path;                     // the file; made absolute, stored relative when inside
  std::string name;                     // default: the file's stem
  std::optional<DataFormat> format;     // default: detect_format()
  std::optional<FieldMapping> mapping;  // default: guess_mapping() over the columns
};

// Refuses anything but a regular file first (a FIFO would block the reader), then reads the
// whole file, applies the mapping, computes statistics over the default split (the
// RunConfig defaults for seed, validation fraction and max length) and records the dataset.
// Throws InputError naming the file (and line) for unreadable or malformed data, a mapping that
// does not fit, or a name already taken — the project is left unchanged in every case.
DatasetRecord register_dataset(ProjectStore& store, const DatasetSource& source);

// The name `add_sample_content` gives the sample's pretraining run (the LoRA preset adapts it).
inline constexpr const char* kSampleBaseRun = "base";

// Writes the bundled sample datasets into <project folder>/sample-data, registers them ("dates",
// "dates-fr", "tickets") and saves the presets "pretrain" (full fine-tune of preset:tiny on
// English dates), "default" (LoRA of that run on French dates) and "tickets-classifier".
// Never overwrites a file: one already there with exactly the bundled bytes is reused (a second
// sample project in the same folder), and when sample-data holds anything else under a bundled
// name (the user's own file, a folder), the sample goes beside it into the first of
// sample-data-2, sample-data-3, ... that is free; InputError when sample-data-100 is taken too.
void add_sample_content(ProjectStore& store);

}  // namespace deeptune
