#include "citypipe/core/line_reader.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <immintrin.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "citypipe/core/cpu.h"
#include "citypipe/core/event_time.h"
#include "citypipe/core/signals.h"

namespace citypipe {

namespace {
const std::string stdin_name = "<stdin>";
constexpr unsigned char gzip_magic[] = {0x1f, 0x8b};
constexpr unsigned char zstd_magic[] = {0x28, 0xb5, 0x2f, 0xfd};
constexpr std::size_t compressed_chunk = 256 * 1024;

// head[0, n) starts with magic; partial: it could, were more bytes read.
bool starts_with(const unsigned char* head, std::size_t n, const unsigned char* magic, std::size_t m,
                 bool& partial) {
  const std::size_t k = std::min(n, m);
  if (std::memcmp(head, magic, k) != 0) return false;
  partial = partial || k < m;
  return k == m;
}
// The newlines in [p, p + n).
std::uint64_t count_newlines_portable(const char* p, std::size_t n) {
  std::uint64_t count = 0;
  std::size_t i = 0;
  const __m128i newline = _mm_set1_epi8('\n');
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    count += static_cast<unsigned>(__builtin_popcount(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, newline)))));
  }
  for (; i < n; ++i) count += p[i] == '\n';
  return count;
}

CITYPIPE_TARGET_AVX2_BEGIN
std::uint64_t count_newlines_avx2(const char* p, std::size_t n) {
  std::uint64_t count = 0;
  std::size_t i = 0;
  const __m256i newline = _mm256_set1_epi8('\n');
  // A match is -1 in its byte: subtracting matches counts them in 32 byte
  // lanes, summed by one SAD every 254 loads, before a lane could wrap.
  const std::size_t pairs = n / 64;
  for (std::size_t b = 0; b < pairs;) {
    const std::size_t stop = std::min(pairs, b + 127);
    __m256i lanes = _mm256_setzero_si256();
    for (; b < stop; ++b) {
      const auto* q = reinterpret_cast<const __m256i*>(p + 64 * b);
      lanes = _mm256_sub_epi8(lanes, _mm256_cmpeq_epi8(_mm256_loadu_si256(q), newline));
      lanes = _mm256_sub_epi8(lanes, _mm256_cmpeq_epi8(_mm256_loadu_si256(q + 1), newline));
    }
    const __m256i sums = _mm256_sad_epu8(lanes, _mm256_setzero_si256());
    count += static_cast<std::uint64_t>(_mm256_extract_epi64(sums, 0) + _mm256_extract_epi64(sums, 1) +
                                        _mm256_extract_epi64(sums, 2) + _mm256_extract_epi64(sums, 3));
  }
  i = 64 * pairs;
  return count + count_newlines_portable(p + i, n - i);
}
CITYPIPE_TARGET_AVX2_END

std::uint64_t count_newlines(const char* p, std::size_t n) {
  return cpu_has_avx2() ? count_newlines_avx2(p, n) : count_newlines_portable(p, n);
}

// Counts a newline at offset at, keeping it when there is room.
inline void found_newline(std::size_t at, std::uint32_t* out, std::size_t room, std::size_t& found) {
  if (found < room) out[found] = static_cast<std::uint32_t>(at);
  ++found;
}

// newline_offsets from offset `from` on, after `found` of them.
std::size_t newline_offsets_portable(std::string_view text, std::size_t from, std::uint32_t* out,
                                     std::size_t room, std::size_t found) {
  const __m128i newline = _mm_set1_epi8('\n');
  std::size_t i = from;
  for (; i + 16 <= text.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + i));
    for (auto m = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, newline))); m != 0; m &= m - 1)
      found_newline(i + static_cast<std::size_t>(std::countr_zero(m)), out, room, found);
  }
  for (; i < text.size(); ++i)
    if (text[i] == '\n') found_newline(i, out, room, found);
  return found;
}

CITYPIPE_TARGET_AVX2_BEGIN
std::size_t newline_offsets_avx2(std::string_view text, std::uint32_t* out, std::size_t room) {
  const __m256i newline = _mm256_set1_epi8('\n');
  std::size_t found = 0, i = 0;
  for (; i + 64 <= text.size(); i += 64) {
    const auto* q = reinterpret_cast<const __m256i*>(text.data() + i);
    const auto low = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_loadu_si256(q), newline)));
    const auto high = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_loadu_si256(q + 1), newline)));
    for (std::uint64_t m = std::uint64_t{high} << 32 | low; m != 0; m &= m - 1)
      found_newline(i + static_cast<std::size_t>(std::countr_zero(m)), out, room, found);
  }
  return newline_offsets_portable(text, i, out, room, found);
}
CITYPIPE_TARGET_AVX2_END

CITYPIPE_TARGET_AVX512_BEGIN
std::size_t newline_offsets_avx512(std::string_view text, std::uint32_t* out, std::size_t room) {
  const __m512i newline = _mm512_set1_epi8('\n');
  std::size_t found = 0, i = 0;
  for (; i + 64 <= text.size(); i += 64) {
    for (std::uint64_t m = _mm512_cmpeq_epi8_mask(_mm512_loadu_si512(text.data() + i), newline); m != 0; m &= m - 1)
      found_newline(i + static_cast<std::size_t>(std::countr_zero(m)), out, room, found);
  }
  return newline_offsets_portable(text, i, out, room, found);
}
CITYPIPE_TARGET_AVX512_END

}  // namespace

std::size_t newline_offsets(std::string_view text, std::uint32_t* out, std::size_t room) {
  if (cpu_has_avx512()) return newline_offsets_avx512(text, out, room);
  return cpu_has_avx2() ? newline_offsets_avx2(text, out, room) : newline_offsets_portable(text, 0, out, room, 0);
}

// The decompressor of a compressed input (gzip by zlib, or zstd) and its input
// buffer, kept across files.
struct LineReader::Decoder {
  enum class Format { gzip, zstd };
  Format format = Format::gzip;
  std::vector<unsigned char> in = std::vector<unsigned char>(compressed_chunk);
  std::size_t in_pos = 0, in_len = 0;
  bool frame_done = false;  // at the end of a gzip member or zstd frame: the file may end here
  z_stream z{};
  ZSTD_DStream* zs = nullptr;

  Decoder() {
    if (inflateInit2(&z, 15 + 16) != Z_OK) throw std::bad_alloc();  // 15 + 16: gzip format only
  }
  ~Decoder() {
    inflateEnd(&z);
    ZSTD_freeDStream(zs);
  }
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  const char* name() const { return format == Format::gzip ? "gzip" : "zstd"; }

  // A new compressed input of format f, whose first bytes are head[0, n).
  void start(Format f, const char* head, std::size_t n) {
    format = f;
    if (f == Format::gzip) {
      inflateReset(&z);
    } else {
      if (zs == nullptr && (zs = ZSTD_createDStream()) == nullptr) throw std::bad_alloc();
      ZSTD_initDStream(zs);
    }
    if (in.size() < n) in.resize(n);
    std::memcpy(in.data(), head, n);
    in_pos = 0;
    in_len = n;
    frame_done = false;
  }

  // Decompresses buffered input into out[0, room): bytes made, or false with error set.
  bool step(char* out, std::size_t room, std::size_t& made, std::string& error) {
    if (format == Format::gzip) {
      if (frame_done) {  // more bytes after a member: the next member of a concatenation
        inflateReset(&z);
        frame_done = false;
      }
      z.next_in = in.data() + in_pos;
      z.avail_in = static_cast<uInt>(in_len - in_pos);
      z.next_out = reinterpret_cast<Bytef*>(out);
      z.avail_out = static_cast<uInt>(room);
      const int rc = inflate(&z, Z_NO_FLUSH);
      in_pos = in_len - z.avail_in;
      made = room - z.avail_out;
      if (rc == Z_STREAM_END) frame_done = true;
      if (rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR) return true;
      error = z.msg != nullptr ? z.msg : "zlib error " + std::to_string(rc);
      return false;
    }
    ZSTD_inBuffer zin{in.data(), in_len, in_pos};
    ZSTD_outBuffer zout{out, room, 0};
    const std::size_t rc = ZSTD_decompressStream(zs, &zout, &zin);
    in_pos = zin.pos;
    made = zout.pos;
    if (ZSTD_isError(rc)) {
      error = ZSTD_getErrorName(rc);
      return false;
    }
    frame_done = rc == 0;
    return true;
  }
};

LineReader::LineReader(std::vector<std::string> files, std::size_t max_line_bytes,
                       std::size_t padding, std::size_t chunk_bytes)
    : files_(std::move(files)), max_line_(max_line_bytes), padding_(padding), chunk_(chunk_bytes) {
  if (files_.empty()) files_.push_back("-");
  buf_.allocate(max_line_ + chunk_bytes + padding_);
}

LineReader::~LineReader() {
  if (fd_ > 0) ::close(fd_);
}

Status LineReader::check_files() const {
  for (const auto& f : files_) {
    if (f == "-") continue;
    const int fd = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::error(exit_no_input, f + ": " + std::strerror(errno));
    ::close(fd);
  }
  return Status::ok();
}

bool LineReader::open_next_file() {
  if (fd_ > 0) ::close(fd_);
  fd_ = -1;
  if (next_file_ >= files_.size()) return false;
  const std::string& name = files_[next_file_++];
  on_stdin_ = name == "-";
  if (on_stdin_) {
    fd_ = 0;
    display_name_ = stdin_name;
  } else {
    fd_ = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
    display_name_ = name;
    if (fd_ < 0) {
      status_ = Status::error(exit_no_input, name + ": " + std::strerror(errno));
      return false;
    }
  }
  eof_ = false;
  at_file_start_ = true;
  decoding_ = false;
  line_no_ = 0;
  begin_ = end_ = 0;
  skipping_ = false;
  return true;
}

namespace {
constexpr int drain_idle_ms = 500;  // a writer stopping flushes at once
constexpr std::int64_t drain_max_ms = 2000;  // a writer that goes on is not waited for
}  // namespace

bool LineReader::drain_ready() {
  if (signal_count() >= 2) return false;  // a second signal: stop now
  if (drain_until_ms_ == 0) {
    struct stat st;
    if (::fstat(fd_, &st) != 0 || !S_ISFIFO(st.st_mode)) return false;
    drain_until_ms_ = wall_clock_ms() + drain_max_ms;
  }
  const std::int64_t left = drain_until_ms_ - wall_clock_ms();
  if (left <= 0) return false;
  pollfd p{fd_, POLLIN, 0};
  const int ready = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left, drain_idle_ms)));
  return ready > 0;  // data or end of file; not on a timeout or a further signal
}

bool LineReader::read_some(char* dst, std::size_t room, std::size_t& got) {
  for (;;) {
    if (stop_requested() && !drain_ready()) return false;
    const ssize_t n = ::read(fd_, dst, room);
    if (n > 0) {
      got = static_cast<std::size_t>(n);
      return true;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    status_ = Status::error(exit_io, "read error: " + display_name_ + ": " + std::strerror(errno));
    return false;
  }
}

bool LineReader::fill() {
  if (begin_ > 0) {  // keep the partial line at the front
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  // A chunk at a time, so that only the bytes in use are ever touched.
  const std::size_t room = std::min(buf_.size() - padding_ - end_, chunk_);
  if (before_read_) before_read_();
  if (decoding_) return decode_more(room);
  std::size_t got = 0;
  if (!read_some(buf_.data() + end_, room, got)) {
    eof_ = status_.is_ok() && !stop_requested();
    return false;
  }
  if (at_file_start_) {  // compressed? A pipe may hand over the magic bytes one by one.
    at_file_start_ = false;
    const auto* head = reinterpret_cast<const unsigned char*>(buf_.data() + end_);
    for (;;) {
      bool partial = false;
      const bool gzip = starts_with(head, got, gzip_magic, sizeof gzip_magic, partial);
      const bool zstd = starts_with(head, got, zstd_magic, sizeof zstd_magic, partial);
      if (gzip || zstd) {
        if (!decoder_) decoder_ = std::make_unique<Decoder>();
        decoder_->start(gzip ? Decoder::Format::gzip : Decoder::Format::zstd, buf_.data() + end_, got);
        decoding_ = true;
        return decode_more(room);
      }
      std::size_t more = 0;
      if (!partial || got >= room || !read_some(buf_.data() + end_ + got, room - got, more)) break;
      got += more;
    }
    if (!status_.is_ok()) return false;
  }
  end_ += got;
  return true;
}

// Decompresses into buf_[end_, end_ + room) until at least one byte came out.
bool LineReader::decode_more(std::size_t room) {
  Decoder& d = *decoder_;
  std::size_t made = 0;
  while (made == 0) {
    if (d.in_pos == d.in_len) {
      std::size_t got = 0;
      if (!read_some(reinterpret_cast<char*>(d.in.data()), d.in.size(), got)) {
        if (!status_.is_ok() || stop_requested()) return false;
        if (!d.frame_done) {
          status_ = Status::error(exit_data, display_name_ + ": truncated " + d.name() +
                                                 " data (the file ends inside a compressed stream)");
          return false;
        }
        eof_ = true;
        return false;
      }
      d.in_pos = 0;
      d.in_len = got;
    }
    std::string error;
    if (!d.step(buf_.data() + end_, room, made, error)) {
      status_ = Status::error(exit_data, display_name_ + ": corrupt " + d.name() + " data (" + error + ")");
      return false;
    }
  }
  end_ += made;
  return true;
}

bool LineReader::next(Line& line) {
  if (!status_.is_ok()) return false;
  for (;;) {
    if (fd_ < 0 || (eof_ && begin_ == end_)) {
      if (!open_next_file()) return false;
      continue;
    }
    const char* start = buf_.data() + begin_;
    const std::size_t avail = end_ - begin_;
    const auto* nl = static_cast<const char*>(std::memchr(start, '\n', avail));
    std::size_t len;
    std::size_t consumed;
    if (nl != nullptr) {
      len = static_cast<std::size_t>(nl - start);
      consumed = len + 1;
    } else if (eof_) {
      len = avail;  // last line without newline
      consumed = avail;
    } else if (avail >= max_line_ + 1 || skipping_) {
      // Over-long line: hand out what we have once, then read past the rest.
      if (!skipping_) {
        skipping_ = true;
        ++line_no_;
        line = Line{std::string_view(start, avail), buf_.size() - begin_, &display_name_, line_no_,
                    true, true};
        begin_ = end_;
        return true;
      }
      if (overlong_sink_) overlong_sink_(std::string_view(start, avail), false);
      begin_ = end_;
      if (!fill() && (!status_.is_ok() || stop_requested())) return false;
      continue;
    } else {
      if (!fill() && (!status_.is_ok() || stop_requested())) return false;
      continue;
    }
    begin_ += consumed;
    if (skipping_) {  // the tail of an over-long line
      skipping_ = false;
      if (overlong_sink_) overlong_sink_(std::string_view(start, len), true);
      continue;
    }
    ++line_no_;
    if (len > max_line_) {
      line = Line{std::string_view(start, len), buf_.size() - (begin_ - consumed), &display_name_,
                  line_no_, true, false};
      return true;
    }
    if (len > 0 && start[len - 1] == '\r') --len;
    line = Line{std::string_view(start, len), buf_.size() - (begin_ - consumed), &display_name_,
                line_no_, false, false};
    return true;
  }
}

bool LineReader::next_block(LineBlock& block) {
  if (!status_.is_ok()) return false;
  for (;;) {
    if (fd_ < 0 || (eof_ && begin_ == end_)) {
      if (!open_next_file()) return false;
      continue;
    }
    const char* start = buf_.data() + begin_;
    const std::size_t avail = end_ - begin_;
    const char* last = skipping_ ? nullptr : static_cast<const char*>(::memrchr(start, '\n', avail));
    if (!skipping_ && last == nullptr && !eof_ && avail < max_line_ + 1) {
      if (!fill() && (!status_.is_ok() || stop_requested())) return false;
      continue;
    }
    if (skipping_ || (last == nullptr && !eof_)) {
      // An over-long line or its rest: next() knows them. A line it returns
      // after the rest is put back, for the block path.
      Line line;
      if (!next(line)) return false;
      if (!line.continues) {
        begin_ = static_cast<std::size_t>(line.text.data() - buf_.data());
        --line_no_;
        continue;
      }
      block.storage.allocate(line.text.size() + padding_);
      std::memcpy(block.storage.data(), line.text.data(), line.text.size());
      block.text = std::string_view(block.storage.data(), line.text.size());
      block.capacity = block.storage.size();
      block.file = on_stdin_ ? &stdin_name : &files_[next_file_ - 1];
      block.first_line = line.number;
      block.lines = 1;
      block.too_long = true;
      return true;
    }
    // The block takes the buffer whole; reading goes on in the block's old
    // storage, from the partial line after the block's lines.
    const std::size_t from = begin_;
    const std::size_t len = last != nullptr ? static_cast<std::size_t>(last - start) + 1 : avail;
    const std::size_t tail = avail - len;
    const std::size_t size = buf_.size();
    block.storage.swap(buf_);
    buf_.allocate(size);
    std::memcpy(buf_.data(), block.storage.data() + from + len, tail);
    begin_ = 0;
    end_ = tail;
    block.text = std::string_view(block.storage.data() + from, len);
    block.capacity = block.storage.size() - from;
    // A name that stays as it is when the next file opens: blocks outlive their file.
    block.file = on_stdin_ ? &stdin_name : &files_[next_file_ - 1];
    block.first_line = line_no_ + 1;
    block.lines = count_newlines(block.text.data(), len) + (last == nullptr ? 1 : 0);
    block.too_long = false;
    line_no_ += block.lines;
    return true;
  }
}

bool reads_live_stdin(const std::vector<std::string>& inputs) {
  return inputs.empty() || std::find(inputs.begin(), inputs.end(), "-") != inputs.end();
}

}  // namespace citypipe
