// The names of the view options (--sort, --spark) against the fields in the data.
#include <algorithm>

#include <fmt/format.h>

#include "app.h"

namespace tui_top {

namespace {

// Optimal string alignment distance: edits, with a swap of neighbours as one.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

std::string joined(const std::vector<std::string>& names) {
  return names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "));
}

citypipe::Status unknown(std::string_view option, const std::string& name,
                         const std::vector<std::string>& valid) {
  std::string message = fmt::format("{}: no field '{}' in the input", option, name);
  if (auto near = closest_name(name, valid)) message += fmt::format("; did you mean {}?", *near);
  message += fmt::format(" (valid: {})", joined(valid));
  return citypipe::Status::error(citypipe::exit_usage, message);
}

}  // namespace

std::optional<std::string> closest_name(std::string_view name, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  std::size_t best_d = std::max<std::size_t>(1, name.size() / 3) + 1;  // at most a third wrong
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(name, c);
    if (d < best_d) best_d = d, best = c;
  }
  return best;
}

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
