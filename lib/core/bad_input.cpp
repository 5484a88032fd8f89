#include "citypipe/core/bad_input.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace citypipe {

BadInput::BadInput(std::string tool, bool strict, std::size_t max_messages)
    : tool_(std::move(tool)), strict_(strict), max_messages_(max_messages) {}

BadInput::~BadInput() {
  if (reject_ != nullptr) std::fclose(reject_);
}

Status BadInput::open_reject_file(const std::string& path) {
  reject_ = std::fopen(path.c_str(), "w");
  if (reject_ == nullptr)
    return Status::error(exit_io, fmt::format("{}: {}", path, std::strerror(errno)));
  return Status::ok();
}

bool BadInput::report(std::string_view file, std::uint64_t line, std::string_view reason,
                      std::string_view raw, bool complete) {
  ++count_;
  if (count_ <= max_messages_ || strict_)
    fmt::print(stderr, "{}: {}:{}: {}\n", tool_, file, line, reason);
  if (reject_ != nullptr) {
    std::fwrite(raw.data(), 1, raw.size(), reject_);
    if (complete) std::fputc('\n', reject_);
    std::fflush(reject_);  // a reject file must hold every line even if we are killed
  }
  if (strict_) stopped_ = true;
  return !strict_;
}

void BadInput::continue_raw(std::string_view bytes, bool last) {
  if (reject_ == nullptr) return;
  std::fwrite(bytes.data(), 1, bytes.size(), reject_);
  if (last) {
    std::fputc('\n', reject_);
    std::fflush(reject_);
  }
}

void BadInput::print_summary() const {
  if (count_ > max_messages_ && !strict_)
    fmt::print(stderr, "{}: {} bad lines in all ({} not shown)\n", tool_, count_,
               count_ - max_messages_);
}

}  // namespace citypipe
