#include "citypipe/core/line_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include "citypipe/core/signals.h"

namespace citypipe {

namespace {
const std::string stdin_name = "<stdin>";
}  // namespace

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
  line_no_ = 0;
  begin_ = end_ = 0;
  skipping_ = false;
  return true;
}

bool LineReader::fill() {
  if (begin_ > 0) {  // keep the partial line at the front
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  const std::size_t room = buf_.size() - padding_ - end_;
  if (before_read_) before_read_();
  for (;;) {
    if (stop_requested()) return false;
    const ssize_t n = ::read(fd_, buf_.data() + end_, room);
    if (n > 0) {
      end_ += static_cast<std::size_t>(n);
      return true;
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    if (errno == EINTR) continue;
    status_ = Status::error(exit_io, "read error: " + display_name_ + ": " + std::strerror(errno));
    return false;
  }
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

bool reads_live_stdin(const std::vector<std::string>& inputs) {
  return inputs.empty() || std::find(inputs.begin(), inputs.end(), "-") != inputs.end();
}

}  // namespace citypipe
