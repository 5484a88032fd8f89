#include "citypipe/core/output.h"

#include <cerrno>
#include <cstring>

#include <unistd.h>

namespace citypipe {

Output::Output(int fd, bool line_buffered)
    : fd_(fd), line_buffered_(line_buffered || ::isatty(fd) == 1) {
  buf_.reserve(flush_threshold * 2);
}

Output::~Output() { flush(); }

void Output::flush() {
  if (!ok()) {
    buf_.clear();
    return;
  }
  std::size_t done = 0;
  while (done < buf_.size()) {
    const ssize_t n = ::write(fd_, buf_.data() + done, buf_.size() - done);
    if (n >= 0) {
      done += static_cast<std::size_t>(n);
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EPIPE) {
      broken_pipe_ = true;
      break;
    } else {
      error_ = Status::error(errc::io, std::string("write error: ") + std::strerror(errno));
      break;
    }
  }
  buf_.clear();
}

}  // namespace citypipe
