// Row-at-a-time access to a dataset file for previews: rows are indexed as the reader goes, so the
// first rows of a million-row file show at once. Training still reads whole files (read_table).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "deeptune/data.h"

namespace deeptune {

// Reads a dataset file a block of rows at a time, remembering where each row starts, so a preview
// can show the first rows of a huge file at once and fetch more on demand. Not thread-safe.
class RowCursor {
 public:
  struct Row {
    // Same width as columns(); cell text as read_table gives it. All empty when `error` is set.
    std::vector<std::string> cells;
    size_t source_line = 0;  // 1-based line (JSONL/CSV/TXT) or array item (JSON)
    std::string error;       // non-empty when this row is malformed: "<path>:<line>: ..."
  };

  // Opens the file. Columns: CSV header; JSONL keys of the objects in the first 1000 non-blank
  // lines (first-seen order; keys that appear only later are not shown); text: "text"; JSON
  // (array of objects): the file is read whole with read_table (JSON arrays cannot be indexed
  // lazily and must fit in memory for training anyway), so any read_table error throws here.
  // Throws InputError naming the file when it cannot be opened, is empty, is UTF-16, or yields no
  // columns (a JSONL whose sampled lines are all malformed throws the first line's error; a bad
  // CSV header throws its error). No row is indexed yet when the constructor returns.
  RowCursor(const std::string& path, DataFormat format);
  ~RowCursor();
  RowCursor(const RowCursor&) = delete;
  RowCursor& operator=(const RowCursor&) = delete;

  const std::string& path() const;
  DataFormat format() const;
  const std::vector<std::string>& columns() const;

  // Indexes up to n more rows, reading forward from the last indexed position; returns how many
  // were added. Blank lines are skipped as read_table skips them, including trailing ones, so
  // at_end() turns true as soon as the last row is indexed and a call returns 0 only once
  // at_end() already holds (or n == 0). Throws RunError when the file can no longer be read.
  size_t index_more(size_t n);
  size_t indexed_rows() const;
  bool at_end() const;      // every row of the file is indexed
  double progress() const;  // bytes indexed / file size, in [0, 1]; JSON: rows revealed / rows
  uint64_t file_size() const;

  // Cells of indexed row i (throws std::out_of_range when i >= indexed_rows()). Reads from disk
  // through a small cache of 256-row blocks, so a view painting 40 rows does not seek 40 times. A
  // row that does not parse (bad JSON, not an object, nested value, invalid UTF-8, CSV
  // field-count mismatch) comes back with `error` set rather than throwing, so the preview can
  // show it. A JSONL key that is not among columns() is left out.
  Row row(size_t i) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace deeptune
