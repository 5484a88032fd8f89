#include "citypipe/core/line_reader.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include "citypipe/core/signals.h"

namespace citypipe {

namespace {
const std::string stdin_name = "<stdin>";
constexpr unsigned char gzip_magic[2] = {0x1f, 0x8b};
constexpr std::size_t gzip_in_bytes = 256 * 1024;
}  // namespace

// zlib's inflate state and its input buffer, kept across files.
struct LineReader::Gzip {
  z_stream z{};
  std::vector<unsigned char> in = std::vector<unsigned char>(gzip_in_bytes);
  bool member_done = false;  // at the end of a gzip member: the file may end, or another follow
  Gzip() {
    if (inflateInit2(&z, 15 + 16) != Z_OK) throw std::bad_alloc();  // 15 + 16: gzip format only
  }
  ~Gzip() { inflateEnd(&z); }
  Gzip(const Gzip&) = delete;
  Gzip& operator=(const Gzip&) = delete;
};

LineReader::LineReader(std::vector<std::string> files, std::size_t max_line_bytes,
                       std::size_t padding, std::size_t chunk_bytes)
    : files_(std::move(files)), max_line_(max_line_bytes), padding_(padding) {
  if (files_.empty()) files_.push_back("-");
  buf_.resize(max_line_ + chunk_bytes + padding_);
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
  if (name == "-") {
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
  gzip_active_ = false;
  line_no_ = 0;
  begin_ = end_ = 0;
  skipping_ = false;
  return true;
}

bool LineReader::read_some(char* dst, std::size_t room, std::size_t& got) {
  for (;;) {
    if (stop_requested()) return false;
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
  const std::size_t room = buf_.size() - padding_ - end_;
  if (before_read_) before_read_();
  if (gzip_active_) return inflate_more(room);
  std::size_t got = 0;
  if (!read_some(buf_.data() + end_, room, got)) {
    eof_ = status_.is_ok() && !stop_requested();
    return false;
  }
  if (at_file_start_) {  // is it gzip? A pipe may hand over its first byte alone.
    at_file_start_ = false;
    auto* head = reinterpret_cast<unsigned char*>(buf_.data() + end_);
    std::size_t more = 0;
    if (got == 1 && head[0] == gzip_magic[0] && room > 1 && read_some(buf_.data() + end_ + 1, 1, more)) got += more;
    if (!status_.is_ok()) return false;
    if (got >= 2 && head[0] == gzip_magic[0] && head[1] == gzip_magic[1]) {
      if (!gzip_) gzip_ = std::make_unique<Gzip>();
      inflateReset(&gzip_->z);
      gzip_->member_done = false;
      if (gzip_->in.size() < got) gzip_->in.resize(got);
      std::memcpy(gzip_->in.data(), head, got);
      gzip_->z.next_in = gzip_->in.data();
      gzip_->z.avail_in = static_cast<uInt>(got);
      gzip_active_ = true;
      return inflate_more(room);
    }
  }
  end_ += got;
  return true;
}

// Decompresses into buf_[end_, end_ + room) until at least one byte came out.
bool LineReader::inflate_more(std::size_t room) {
  Gzip& g = *gzip_;
  g.z.next_out = reinterpret_cast<Bytef*>(buf_.data() + end_);
  g.z.avail_out = static_cast<uInt>(room);
  while (g.z.avail_out == room) {
    if (g.z.avail_in == 0) {
      std::size_t got = 0;
      if (!read_some(reinterpret_cast<char*>(g.in.data()), g.in.size(), got)) {
        if (!status_.is_ok() || stop_requested()) return false;
        if (!g.member_done) {
          status_ = Status::error(exit_data, display_name_ + ": truncated gzip data (the file ends inside "
                                                             "a compressed stream)");
          return false;
        }
        eof_ = true;
        return false;
      }
      g.z.next_in = g.in.data();
      g.z.avail_in = static_cast<uInt>(got);
    }
    if (g.member_done) {  // more bytes after a member: the next member of a concatenation
      inflateReset(&g.z);
      g.member_done = false;
    }
    const int rc = inflate(&g.z, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      g.member_done = true;
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      status_ = Status::error(exit_data, display_name_ + ": corrupt gzip data (" +
                                             (g.z.msg != nullptr ? g.z.msg : "zlib error " + std::to_string(rc)) + ")");
      return false;
    }
  }
  end_ += room - g.z.avail_out;
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

}  // namespace citypipe
