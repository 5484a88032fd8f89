// Reads lines from named files in order, or standard input, in large chunks.
// Each line knows its file and line number; CRLF and a missing final newline
// are accepted; a line over the size limit is reported, never buffered whole.
// A gzip or zstd compressed input (known by its magic bytes, whatever its
// name) is decompressed as it is read, and its lines are numbered in the decompressed
// text; a truncated or corrupt one ends the input with an error naming it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "citypipe/core/status.h"

namespace citypipe {

struct Line {
  std::string_view text;       // without "\n" or "\r\n"
  std::size_t capacity = 0;    // readable bytes from text.data() (>= text.size() + padding)
  const std::string* file = nullptr;  // "-" shows as "<stdin>"
  std::uint64_t number = 0;    // 1-based line number within file
  bool too_long = false;       // over max_line_bytes: a bad line
  bool continues = false;      // too_long and text is only its head; the rest goes to the overlong sink
};

// Bytes not zeroed when allocated, so that a page is touched only once it is
// written (first touches cost, in a virtual machine more).
class ByteBuffer {
 public:
  char* data() { return data_.get(); }
  const char* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  // At least n bytes, the contents lost when it grows.
  void allocate(std::size_t n) {
    if (n <= size_) return;
    data_.reset(new char[n]);
    size_ = n;
  }
  void swap(ByteBuffer& other) noexcept {
    data_.swap(other.data_);
    std::swap(size_, other.size_);
  }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
};

// Whole lines of one file read in one go, for reading in batches
// (LineReader::next_block). The block owns its bytes, so it may go to another
// thread while the reader reads on.
struct LineBlock {
  ByteBuffer storage;          // exchanged with the reader's buffer; reuse the block
  std::string_view text;       // the lines, each ended by '\n' but perhaps a file's last
  std::size_t capacity = 0;    // readable bytes from text.data() (>= text.size() + padding)
  const std::string* file = nullptr;  // valid as long as the reader
  std::uint64_t first_line = 0;  // the number of its first line in file
  std::uint64_t lines = 0;       // how many lines text holds
  bool too_long = false;         // text is the head of one over-long line, as Line::continues
};

// The offsets of the '\n's in text (under 4 GiB), in order: the first room
// of them into out; returns how many there are.
std::size_t newline_offsets(std::string_view text, std::uint32_t* out, std::size_t room);

// True when inputs include standard input: none named, or "-" among them
// ({"a.ndjson", "-"} too). Such a run may wait on a live pipe, so a tool
// cannot treat it as a replay of files.
bool reads_live_stdin(const std::vector<std::string>& inputs);

// After SIGINT or SIGTERM a reader stops, except on a pipe: there it still
// reads what the writer has written or writes as it stops (it most likely got
// the same signal), until end of file, 500 ms without data, 2 s in all or a
// second signal. So a whole pipeline stopped at once loses nothing between
// its stages.
class LineReader {
 public:
  // files empty or "-" means standard input. max_line_bytes bounds memory;
  // chunk_bytes is the size of one read() (small only in tests).
  LineReader(std::vector<std::string> files, std::size_t max_line_bytes, std::size_t padding = 64,
             std::size_t chunk_bytes = 1 << 20);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Checks that every named file can be opened; exit_no_input otherwise.
  Status check_files() const;

  // Next line, or false at end of all input, on a read or decompression error (see status())
  // or when stop() was called, including from a signal handler.
  bool next(Line& line);

  // The next lines, as many as one read brought, or false as next() is. The
  // lines are raw: a CR before the '\n' is kept, and a line may be longer
  // than max_line_bytes (the caller checks). A line too long to fit the
  // buffer comes alone, as a block with too_long set, whose rest goes to the
  // overlong sink while reading on. Mixes with next().
  bool next_block(LineBlock& block);

  // Reads at most n bytes at a time from now on (n <= the chunk_bytes given
  // at construction): smaller blocks for next_block.
  void set_chunk_bytes(std::size_t n) { chunk_ = std::min(n, chunk_); }

  // Called just before each blocking read(): tools flush their output here,
  // so that a live trickle goes downstream at once.
  void on_before_read(std::function<void()> hook) { before_read_ = std::move(hook); }

  // Receives the rest of an over-long line as it is read past (last: its end),
  // so that a reject file can keep the whole line without holding it in memory.
  void on_overlong_bytes(std::function<void(std::string_view bytes, bool last)> sink) {
    overlong_sink_ = std::move(sink);
  }

  const Status& status() const { return status_; }
  // Display name of the current file ("<stdin>" for standard input).
  const std::string& current_file() const { return display_name_; }
  // True while the current input is standard input: a read may then wait.
  bool reading_stdin() const { return fd_ >= 0 && on_stdin_; }

 private:
  bool open_next_file();
  bool fill();  // reads more bytes; false at end of file or error
  bool read_some(char* dst, std::size_t room, std::size_t& got);  // false at end of file or error
  bool drain_ready();  // after a stop signal: may a pipe still be read?
  bool decode_more(std::size_t room);

  struct Decoder;
  std::unique_ptr<Decoder> decoder_;  // set up on the first compressed input
  bool decoding_ = false;             // the current input is compressed
  bool at_file_start_ = false;     // nothing read yet from the current input

  std::vector<std::string> files_;
  std::size_t next_file_ = 0;
  std::size_t max_line_;
  std::size_t padding_;
  int fd_ = -1;
  bool eof_ = true;
  bool on_stdin_ = false;
  std::int64_t drain_until_ms_ = 0;  // after a stop signal: when reading a pipe ends at the latest
  std::string display_name_;
  std::uint64_t line_no_ = 0;
  std::size_t chunk_;  // bytes per read() at most
  ByteBuffer buf_;
  std::size_t begin_ = 0, end_ = 0;  // unconsumed bytes are buf_[begin_, end_)
  bool skipping_ = false;            // inside an over-long line, discarding
  Status status_;
  std::function<void()> before_read_;
  std::function<void(std::string_view, bool)> overlong_sink_;
};

}  // namespace citypipe
