#include "citypipe/core/bad_input.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace citypipe {

namespace {

constexpr std::size_t max_reasons = 32;

// NUL bytes or many control characters: not text.
bool looks_binary(std::string_view raw) {
  const std::string_view head = raw.substr(0, 256);
  std::size_t control = 0;
  for (unsigned char c : head) {
    if (c == 0) return true;
    if (c < 0x20 && c != '\t' && c != '\r' && c != '\f') ++control;
  }
  return control * 10 > head.size();
}

}  // namespace

BadInput::BadInput(std::string tool, bool strict, std::size_t max_messages)
    : tool_(std::move(tool)), strict_(strict), max_messages_(max_messages) {}

BadInput::~BadInput() {
  if (reject_ != nullptr) std::fclose(reject_);
}

Status BadInput::open_reject_file(const std::string& path) {
  reject_ = std::fopen(path.c_str(), "w");
  if (reject_ == nullptr)
    return Status::error(errc::io, fmt::format("--reject {}: {}", path, std::strerror(errno)));
  reject_path_ = path;
  return Status::ok();
}

bool BadInput::write_reject(std::string_view bytes, bool end_line) {
  if (reject_ == nullptr || !reject_status_.is_ok()) return reject_status_.is_ok();
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), reject_) == bytes.size();
  if (end_line) {
    ok = ok && std::fputc('\n', reject_) != EOF;
    ok = ok && std::fflush(reject_) == 0;  // a reject file must hold every line even if we are killed
  }
  if (!ok) {
    reject_status_ = Status::error(
        errc::io, fmt::format("--reject {}: {}; rejected lines would be lost, stopping", reject_path_,
                              std::strerror(errno != 0 ? errno : EIO)));
  }
  return ok;
}

bool BadInput::report(std::string_view file, std::uint64_t line, std::string_view reason,
                      std::string_view raw, bool complete) {
  ++count_;
  if (count_ <= max_messages_ || strict_)
    fmt::print(stderr, "{}: {}:{}: {}\n", tool_, file, line, reason);
  std::string key(reason.substr(0, 200));
  if (auto it = reasons_.find(key); it != reasons_.end()) ++it->second;
  else if (reasons_.size() < max_reasons) reasons_.emplace(std::move(key), 1);
  if (binary_file_.empty() && looks_binary(raw)) {
    binary_file_ = file;
    gzip_ = raw.size() >= 2 && static_cast<unsigned char>(raw[0]) == 0x1f &&
            static_cast<unsigned char>(raw[1]) == 0x8b;
  }
  if (!write_reject(raw, complete)) return false;
  if (strict_) stopped_ = true;
  return !strict_;
}

void BadInput::continue_raw(std::string_view bytes, bool last) { write_reject(bytes, last); }

void BadInput::print_summary() const {
  if (count_ > max_messages_ && !strict_)
    fmt::print(stderr, "{}: {} bad lines in all ({} not shown)\n", tool_, count_,
               count_ - max_messages_);
}

std::string BadInput::most_common_reason() const {
  const std::pair<const std::string, std::uint64_t>* best = nullptr;
  for (const auto& r : reasons_)
    if (best == nullptr || r.second > best->second) best = &r;
  return best ? best->first : std::string();
}

std::string BadInput::diagnosis(std::string_view hint) const {
  std::string text = count_ == 1 ? std::string("the one input line was rejected")
                                 : fmt::format("all {} input lines were rejected", count_);
  if (!binary_file_.empty()) {
    text += gzip_ ? fmt::format("; {} is gzip-compressed (gunzip it, or use zcat FILE | ...)", binary_file_)
                  : fmt::format("; {} is binary data, not NDJSON text", binary_file_);
    return text;
  }
  const std::string reason = most_common_reason();
  std::uint64_t n = 0;
  if (auto it = reasons_.find(reason); it != reasons_.end()) n = it->second;
  if (!reason.empty()) text += n == count_ ? fmt::format(": {}", reason) : fmt::format(", most ({}) with: {}", n, reason);
  if (!hint.empty()) fmt::format_to(std::back_inserter(text), "; {}", hint);
  return text;
}

}  // namespace citypipe
