// RowCursor: indexes JSONL, CSV and text files row by row through a fixed read buffer, never
// holding the file, and parses rows back in blocks with the same helpers as read_table.
#include "deeptune/row_cursor.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

#include "deeptune/error.h"
#include "deeptune/files.h"
#include "text_util.h"

namespace deeptune {
namespace {

using namespace text_util;

// Large reads keep indexing bound by the disk, not by calls; 1 MiB is nothing next to a GUI.
constexpr size_t kReadBuffer = size_t{1} << 20;
// Rows parsed per read when a view asks for one: a few screenfuls in one seek.
constexpr size_t kBlockRows = 256;
// Blocks kept, so scrolling back and forth across a block edge does not re-read.
constexpr size_t kCachedBlocks = 4;
// JSONL lines whose keys name the columns: enough for optional keys to show up, still instant.
constexpr size_t kColumnSampleLines = 1000;

bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

// The row's own line: up to the first "\n", without a trailing "\r" (as read_table splits lines).
std::string_view first_line(std::string_view slice) {
  std::string_view text = slice.substr(0, slice.find('\n'));
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text;
}

// Reads [start, end) of a file forward through a fixed buffer; offset() is the file position of
// the next byte.
class ForwardReader {
 public:
  ForwardReader() = default;
  ForwardReader(std::ifstream in, std::string path, uint64_t start, uint64_t end)
      : in_(std::move(in)), path_(std::move(path)), buffer_(kReadBuffer), end_(end) {
    seek(start);
  }

  uint64_t offset() const { return buffer_offset_ + pos_; }
  bool has_byte() { return pos_ < size_ || refill(); }
  char byte() const { return buffer_[pos_]; }
  void advance() { ++pos_; }

  // Moves past the next "\n"; false when the file ends first.
  bool skip_past_newline() {
    while (has_byte()) {
      const void* newline = std::memchr(buffer_.data() + pos_, '\n', size_ - pos_);
      if (newline != nullptr) {
        pos_ = static_cast<size_t>(static_cast<const char*>(newline) - buffer_.data()) + 1;
        return true;
      }
      pos_ = size_;
    }
    return false;
  }

  void seek(uint64_t offset) {
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(offset));
    buffer_offset_ = offset;
    pos_ = size_ = 0;
  }

 private:
  bool refill() {
    buffer_offset_ += size_;
    pos_ = size_ = 0;
    // Stop at the size seen on opening, so progress() stays within [0, 1] if the file grows.
    if (buffer_offset_ >= end_) return false;
    const uint64_t want = std::min<uint64_t>(buffer_.size(), end_ - buffer_offset_);
    in_.read(buffer_.data(), static_cast<std::streamsize>(want));
    if (in_.bad()) throw RunError(path_, "read error");
    size_ = static_cast<size_t>(in_.gcount());
    return size_ > 0;
  }

  std::ifstream in_;
  std::string path_;
  std::vector<char> buffer_;
  uint64_t end_ = 0;
  uint64_t buffer_offset_ = 0;  // file position of buffer_[0]
  size_t pos_ = 0;
  size_t size_ = 0;
};

}  // namespace

struct RowCursor::Impl {
  Impl(const std::string& path, DataFormat format);

  size_t index_more(size_t n);
  bool at_end() const {
    return format == DataFormat::kJson ? revealed == table.rows.size() : scan_done;
  }
  size_t indexed_rows() const { return format == DataFormat::kJson ? revealed : offsets.size(); }
  Row row(size_t i);

  // Scanning. The reader always stands at a line start (text, JSONL) or record start (CSV) unless
  // a row has been found but not yet taken (has_pending): that lookahead is what lets at_end()
  // turn true right after the last row.
  bool find_line();
  bool find_record();
  void skip_record(bool in_field);
  void skip_line_end();
  void take_pending();
  uint64_t scanned_end() const { return has_pending ? pending_offset : reader.offset(); }

  // Reading back: bytes of rows [first, first + count) and the slice of one row within them
  // (the row, its line end and any blank lines before the next row).
  std::string read_rows(size_t first, size_t count, uint64_t* base);
  std::string_view slice_of(std::string_view bytes, uint64_t base, size_t k) const;
  Row parse_row(std::string_view slice, size_t row_line) const;

  void sample_jsonl_columns();
  void read_csv_header();

  std::string path;
  DataFormat format;
  std::vector<std::string> columns;
  std::unordered_map<std::string, size_t> column_index;  // JSONL: key -> column
  char delimiter = ',';
  uint64_t file_size = 0;
  uint64_t data_start = 0;  // after a UTF-8 byte-order mark

  ForwardReader reader;
  size_t line = 1;  // line number at the reader's position
  bool scan_done = false;
  bool has_pending = false;
  uint64_t pending_offset = 0;
  size_t pending_line = 0;
  bool pending_in_field = false;  // CSV: leading spaces of the first field were consumed

  std::vector<uint64_t> offsets;  // file position where each indexed row starts
  std::vector<size_t> lines;      // its 1-based line

  Table table;  // JSON only: the whole file
  size_t revealed = 0;

  struct Block {
    size_t first = 0;
    std::vector<Row> rows;
    uint64_t last_used = 0;
  };
  std::ifstream block_in;
  std::vector<Block> blocks;
  uint64_t use_clock = 0;
};

RowCursor::Impl::Impl(const std::string& path_in, DataFormat format_in)
    : path(path_in), format(format_in) {
  require_regular_file(path);
  if (format == DataFormat::kJson) {
    table = read_table(path, format);
    columns = table.columns;
    std::error_code ec;
    const uintmax_t size = std::filesystem::file_size(path, ec);
    file_size = ec ? 0 : size;
    return;
  }
  std::ifstream in = open_or_throw(path);
  in.seekg(0, std::ios::end);
  file_size = static_cast<uint64_t>(std::max<std::streamoff>(in.tellg(), 0));
  if (file_size == 0) throw InputError(path, "the file is empty");
  in.seekg(0);
  char head[3] = {};
  in.read(head, sizeof head);
  const std::string_view start(head, static_cast<size_t>(in.gcount()));
  reject_utf16(start, path);
  if (starts_with(start, kUtf8Bom)) data_start = kUtf8Bom.size();
  reader = ForwardReader(std::move(in), path, data_start, file_size);
  block_in = open_or_throw(path);

  switch (format) {
    case DataFormat::kText:
      columns = {"text"};
      break;
    case DataFormat::kJsonl:
      sample_jsonl_columns();
      break;
    case DataFormat::kCsv:
      delimiter = csv_delimiter(path);
      read_csv_header();
      break;
    case DataFormat::kJson:
      break;
  }
  index_more(0);  // looks ahead, so a file without rows is at_end() from the start
}

// --- scanning ----------------------------------------------------------------------------------

size_t RowCursor::Impl::index_more(size_t n) {
  if (format == DataFormat::kJson) {
    const size_t added = std::min(n, table.rows.size() - revealed);
    revealed += added;
    return added;
  }
  const bool csv = format == DataFormat::kCsv;
  size_t added = 0;
  while (!scan_done) {
    if (!has_pending && !(csv ? find_record() : find_line())) {
      scan_done = true;
      break;
    }
    if (added == n) break;
    const bool in_field = pending_in_field;
    take_pending();
    ++added;
    if (csv) {
      skip_record(in_field);
    } else if (reader.skip_past_newline()) {
      ++line;
    } else {
      scan_done = true;
    }
  }
  return added;
}

void RowCursor::Impl::take_pending() {
  offsets.push_back(pending_offset);
  lines.push_back(pending_line);
  has_pending = false;
}

// Text and JSONL: finds the next line that is not blank (read_table skips whitespace-only lines).
bool RowCursor::Impl::find_line() {
  for (;;) {
    const uint64_t start = reader.offset();
    for (;;) {
      if (!reader.has_byte()) return false;
      const char c = reader.byte();
      if (c == '\n') break;
      if (!is_space(c)) {
        has_pending = true;
        pending_offset = start;
        pending_line = line;
        return true;
      }
      reader.advance();
    }
    reader.advance();
    ++line;
  }
}

// CSV: finds the next record that parse_csv_record would not call blank, i.e. one with something
// other than spaces before its line end (a delimiter counts, even a tab in a TSV).
bool RowCursor::Impl::find_record() {
  for (;;) {
    const uint64_t start = reader.offset();
    for (;;) {
      if (!reader.has_byte()) return false;
      const char c = reader.byte();
      if (c == delimiter || !is_space(c)) {
        has_pending = true;
        pending_offset = start;
        pending_line = line;
        pending_in_field = reader.offset() != start;
        return true;
      }
      if (c == '\n' || c == '\r') break;
      reader.advance();
    }
    skip_line_end();
  }
}

// "\n", "\r\n" or a lone "\r", as parse_csv_record ends a record.
void RowCursor::Impl::skip_line_end() {
  const char c = reader.byte();
  reader.advance();
  ++line;
  if (c == '\r' && reader.has_byte() && reader.byte() == '\n') reader.advance();
}

// CSV: moves past the record that starts here, counting its lines as parse_csv_record does
// ("\n" inside quotes counts; CRLF inside quotes is one line). Malformed quoting does not stop it:
// text after a closing quote is read on as unquoted, and an unclosed quote runs to the end of the
// file; parse_row reports either as the row's error, naming the same line read_table would.
void RowCursor::Impl::skip_record(bool in_field) {
  enum class State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted };
  State state = in_field ? State::kUnquoted : State::kFieldStart;
  while (reader.has_byte()) {
    const char c = reader.byte();
    switch (state) {
      case State::kFieldStart:
        if (c == '"') {
          state = State::kQuoted;
          reader.advance();
        } else {
          state = State::kUnquoted;
        }
        break;
      case State::kQuoted:
        if (c == '"') state = State::kQuoteInQuoted;
        if (c == '\n') ++line;
        reader.advance();
        break;
      case State::kQuoteInQuoted:
        if (c == '"') {  // "" is an escaped quote
          state = State::kQuoted;
          reader.advance();
        } else {
          state = State::kUnquoted;
        }
        break;
      case State::kUnquoted:
        if (c == delimiter) {
          state = State::kFieldStart;
          reader.advance();
        } else if (c == '\n' || c == '\r') {
          skip_line_end();
          return;
        } else {
          reader.advance();
        }
        break;
    }
  }
}

// --- reading rows back -------------------------------------------------------------------------

std::string RowCursor::Impl::read_rows(size_t first, size_t count, uint64_t* base) {
  const size_t last = first + count - 1;
  *base = offsets[first];
  const uint64_t end = last + 1 < offsets.size() ? offsets[last + 1] : scanned_end();
  std::string bytes(end - *base, '\0');
  block_in.clear();
  block_in.seekg(static_cast<std::streamoff>(*base));
  block_in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  // A file cut short since it was indexed gives short rows, which then fail to parse.
  bytes.resize(static_cast<size_t>(std::max<std::streamsize>(block_in.gcount(), 0)));
  return bytes;
}

std::string_view RowCursor::Impl::slice_of(std::string_view bytes, uint64_t base, size_t k) const {
  const uint64_t end = k + 1 < offsets.size() ? offsets[k + 1] : scanned_end();
  const size_t from = static_cast<size_t>(std::min<uint64_t>(offsets[k] - base, bytes.size()));
  const size_t to = static_cast<size_t>(std::min<uint64_t>(end - base, bytes.size()));
  return bytes.substr(from, to - from);
}

RowCursor::Row RowCursor::Impl::parse_row(std::string_view slice, size_t row_line) const {
  Row row;
  row.source_line = row_line;
  const std::string where = at_line(path, row_line);
  try {
    // The slice ends where the next row starts (or at the end of the file), so a sequence cut
    // off there gets read_table's message too.
    validate_text(slice, path, row_line);
    switch (format) {
      case DataFormat::kText:
        row.cells = {std::string(first_line(slice))};
        break;
      case DataFormat::kJsonl: {
        const OrderedJson object = parse_jsonl_object(first_line(slice), path, row_line);
        row.cells.resize(columns.size());
        for (const auto& item : object.items()) {
          // Converted even when not shown: a nested value fails the row as read_table fails.
          std::string text = cell_text(item.value(), where, item.key());
          const auto column = column_index.find(item.key());
          if (column != column_index.end()) row.cells[column->second] = std::move(text);
        }
        break;
      }
      case DataFormat::kCsv: {
        size_t i = 0;
        size_t record_line = row_line;
        CsvRecord record = parse_csv_record(slice, i, record_line, path, delimiter);
        check_csv_row(record, columns.size(), where);
        row.cells = std::move(record.fields);
        break;
      }
      case DataFormat::kJson:
        break;
    }
  } catch (const InputError& e) {
    row.cells.assign(columns.size(), std::string());
    row.error = e.what();
  }
  return row;
}

RowCursor::Row RowCursor::Impl::row(size_t i) {
  if (i >= indexed_rows())
    throw std::out_of_range("RowCursor::row: row " + std::to_string(i) + " of " +
                            std::to_string(indexed_rows()) + " indexed rows");
  if (format == DataFormat::kJson) return Row{table.rows[i], table.source_lines[i], {}};

  const size_t first = i / kBlockRows * kBlockRows;
  Block* slot = nullptr;
  for (Block& block : blocks) {
    if (block.first != first) continue;
    // A block read while it was the last, partly indexed one is read again once it has grown.
    if (i < first + block.rows.size()) {
      block.last_used = ++use_clock;
      return block.rows[i - first];
    }
    slot = &block;
  }
  if (slot == nullptr && blocks.size() < kCachedBlocks) slot = &blocks.emplace_back();
  if (slot == nullptr)
    slot = &*std::min_element(blocks.begin(), blocks.end(), [](const Block& a, const Block& b) {
      return a.last_used < b.last_used;
    });

  const size_t count = std::min(kBlockRows, indexed_rows() - first);
  uint64_t base = 0;
  const std::string bytes = read_rows(first, count, &base);
  slot->first = first;
  slot->rows.clear();
  for (size_t k = first; k < first + count; ++k)
    slot->rows.push_back(parse_row(slice_of(bytes, base, k), lines[k]));
  slot->last_used = ++use_clock;
  return slot->rows[i - first];
}

// --- columns -----------------------------------------------------------------------------------

// Indexes the first lines, collects their keys, then starts over, so the rows are indexed only
// when asked for (the caller counts on index_more for every row it shows).
void RowCursor::Impl::sample_jsonl_columns() {
  index_more(kColumnSampleLines);
  std::optional<InputError> first_error;
  for (size_t first = 0; first < offsets.size(); first += kBlockRows) {
    const size_t count = std::min(kBlockRows, offsets.size() - first);
    uint64_t base = 0;
    const std::string bytes = read_rows(first, count, &base);
    for (size_t k = first; k < first + count; ++k) {
      const std::string_view slice = slice_of(bytes, base, k);
      try {
        validate_text(slice, path, lines[k]);
        // Keys of objects with nested values count too: such rows then show as errors under the
        // right header instead of the file failing to open.
        const OrderedJson object = parse_jsonl_object(first_line(slice), path, lines[k]);
        for (const auto& item : object.items())
          if (column_index.emplace(item.key(), columns.size()).second)
            columns.push_back(item.key());
      } catch (const InputError& e) {
        if (!first_error) first_error = e;
      }
    }
  }
  if (columns.empty()) {
    if (first_error) throw *first_error;
    if (offsets.empty()) throw InputError(path, "no data rows: the file has only blank lines");
    throw InputError(path, scan_done
                               ? "no columns: every object is empty"
                               : "no columns: the first " + std::to_string(kColumnSampleLines) +
                                     " objects are empty");
  }
  reader.seek(data_start);
  line = 1;
  scan_done = has_pending = false;
  offsets.clear();
  lines.clear();
}

// The first record that is not blank names the columns; a bad header fails the file, as it
// would fail read_table.
void RowCursor::Impl::read_csv_header() {
  if (!find_record()) throw InputError(path, "no header row: the file has only blank lines");
  const uint64_t start = pending_offset;
  const size_t header_line = pending_line;
  has_pending = false;
  skip_record(pending_in_field);
  std::string bytes(reader.offset() - start, '\0');
  block_in.seekg(static_cast<std::streamoff>(start));
  block_in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<size_t>(std::max<std::streamsize>(block_in.gcount(), 0)));
  validate_text(bytes, path, header_line);
  size_t i = 0;
  size_t record_line = header_line;
  const CsvRecord header = parse_csv_record(bytes, i, record_line, path, delimiter);
  columns = csv_header_columns(header.fields, at_line(path, header_line));
}

// --- RowCursor ---------------------------------------------------------------------------------

RowCursor::RowCursor(const std::string& path, DataFormat format)
    : impl_(std::make_unique<Impl>(path, format)) {}

RowCursor::~RowCursor() = default;

const std::string& RowCursor::path() const {
  return impl_->path;
}

DataFormat RowCursor::format() const {
  return impl_->format;
}

const std::vector<std::string>& RowCursor::columns() const {
  return impl_->columns;
}

size_t RowCursor::index_more(size_t n) {
  return impl_->index_more(n);
}

size_t RowCursor::indexed_rows() const {
  return impl_->indexed_rows();
}

bool RowCursor::at_end() const {
  return impl_->at_end();
}

double RowCursor::progress() const {
  if (impl_->at_end()) return 1.0;
  if (impl_->format == DataFormat::kJson)
    return static_cast<double>(impl_->revealed) / static_cast<double>(impl_->table.rows.size());
  return std::min(
      1.0, static_cast<double>(impl_->scanned_end()) / static_cast<double>(impl_->file_size));
}

uint64_t RowCursor::file_size() const {
  return impl_->file_size;
}

RowCursor::Row RowCursor::row(size_t i) const {
  // The block cache is the only state row() changes; it is not visible through the interface.
  return impl_->row(i);
}

}  // namespace deeptune
