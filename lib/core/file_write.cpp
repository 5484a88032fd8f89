#include "citypipe/core/file_write.h"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace citypipe {

namespace {

Status io_error(const std::string& path, int err) {
  return Status::error(errc::io, fmt::format("cannot write {}: {}", path, std::strerror(err)));
}

// 0 or the errno of the failed write(2).
int write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

std::string dir_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// The path at the end of a chain of symbolic links (which may not exist yet).
bool follow_links(std::string& path, int& err) {
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return true;
    std::vector<char> buf(PATH_MAX + 1);
    const ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size() - 1);
    if (n < 0) {
      err = errno;
      return false;
    }
    std::string target(buf.data(), static_cast<std::size_t>(n));
    path = target[0] == '/' ? target : dir_of(path) + "/" + target;
  }
  err = ELOOP;
  return false;
}

}  // namespace

Status write_file_atomically(const std::string& path, std::string_view text) {
  if (path == "-") {
    if (int err = write_all(1, text)) return io_error("standard output", err);
    return Status::ok();
  }
  std::string target = path;
  int err = 0;
  if (!follow_links(target, err)) return io_error(path, err);

  struct stat st {};
  const bool exists = ::stat(target.c_str(), &st) == 0;
  if (exists && !S_ISREG(st.st_mode)) {
    // A FIFO or a device is not ours to replace: write into it.
    const int fd = ::open(target.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return io_error(path, errno);
    err = write_all(fd, text);
    if (::close(fd) != 0 && err == 0) err = errno;
    if (err) return io_error(path, err);
    return Status::ok();
  }

  const auto slash = target.rfind('/');
  std::string tmp = dir_of(target) + "/." + (slash == std::string::npos ? target : target.substr(slash + 1)) +
                    ".XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) return io_error(path, errno);
  mode_t mode = 0;
  if (exists) {
    mode = st.st_mode & 07777;
  } else {
    const mode_t mask = ::umask(0);  // read, then restored: there is no getter
    ::umask(mask);
    mode = 0666 & ~mask;
  }
  err = write_all(fd, text);
  if (err == 0 && ::fchmod(fd, mode) != 0) err = errno;
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && ::rename(tmp.c_str(), target.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    return io_error(path, err);
  }
  return Status::ok();
}

}  // namespace citypipe
