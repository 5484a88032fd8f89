// The names of the view options (--sort, --spark) against the fields in the data.
#include <algorithm>

#include <fmt/format.h>

#include "app.h"
#include "citypipe/core/suggest.h"

namespace tui_top {

namespace {

std::string joined(const std::vector<std::string>& names) {
  return names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "));
}

citypipe::Status unknown(std::string_view option, const std::string& name,
                         const std::vector<std::string>& valid) {
  const std::string message = fmt::format("{}: no field '{}' in the input{} (valid: {})", option, name,
                                          citypipe::did_you_mean(name, valid), joined(valid));
  return citypipe::Status::error(citypipe::exit_usage, message);
}

}  // namespace

std::size_t field_index_for(const std::vector<std::string>& fields, const std::string& name) {
  auto it = std::find(fields.begin(), fields.end(), name);
  return it == fields.end() ? 0 : static_cast<std::size_t>(it - fields.begin());
}

std::optional<std::size_t> sort_column_for(const citypipe::DashboardSnapshot& snapshot,
                                           const std::string& name) {
  if (name.empty() || name == "key") return 0;
  if (name == "records") return 1;
  if (name == "anomalies") return 2;
  auto it = std::find(snapshot.fields.begin(), snapshot.fields.end(), name);
  if (it == snapshot.fields.end()) return std::nullopt;
  return 3 + static_cast<std::size_t>(it - snapshot.fields.begin());
}

citypipe::Status ViewNameCheck::check(const Options& options, const std::vector<std::string>& fields,
                                      std::uint64_t records, bool ended) {
  if (done_ || (records < check_after && !ended)) return {};
  done_ = true;
  const std::string& sort = options.sort;
  if (!sort.empty() && sort != "key" && sort != "records" && sort != "anomalies" &&
      std::find(fields.begin(), fields.end(), sort) == fields.end()) {
    std::vector<std::string> valid = {"key", "records", "anomalies"};
    valid.insert(valid.end(), fields.begin(), fields.end());
    return unknown("--sort", sort, valid);
  }
  const std::string& spark = options.spark_field;
  if (!spark.empty() && std::find(fields.begin(), fields.end(), spark) == fields.end())
    return unknown("--spark", spark, fields);
  return {};
}

void ignore_control_lines(citypipe::RecordInput& input) {
  input.on_control([](std::string_view) { return true; });
}

}  // namespace tui_top
