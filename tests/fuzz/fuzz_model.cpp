// libFuzzer target: the iforest-score model loader. Whatever loads must save
// and load again to the same file, and must score without reading out of
// bounds: every score in [0, 1], the same one-row, batched and missing-aware.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "citypipe/forest/model.h"

namespace {

void check_forest(const citypipe::KeyedForest& k, std::size_t nf) {
  const auto& forest = k.forest;
  if (forest.n_features() != nf) __builtin_trap();
  const double probes[] = {0.0, -1e308, 1e308, 0.5, -3.0, 42.0};
  std::vector<double> rows;
  for (double p : probes)
    for (std::size_t f = 0; f < nf; ++f) rows.push_back(f % 2 ? p : -p);
  const std::size_t n = std::size(probes);
  std::vector<double> batch(n);
  forest.score_batch(rows.data(), n, batch.data());
  for (std::size_t r = 0; r < n; ++r) {
    const double s = forest.score(rows.data() + r * nf);
    if (!(s >= 0 && s <= 1)) __builtin_trap();
    if (std::fabs(s - batch[r]) > 1e-12) __builtin_trap();
    if (std::fabs(s - forest.score_missing(rows.data() + r * nf)) > 1e-12) __builtin_trap();
  }
  // Every field missing: both branches everywhere, still a score.
  std::vector<double> missing(nf, std::numeric_limits<double>::quiet_NaN());
  const double s = forest.score_missing(missing.data());
  if (!(s >= 0 && s <= 1)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  citypipe::IforestModel model;
  if (!citypipe::IforestModel::from_json(text, model).is_ok()) return 0;
  if (model.fields.empty()) __builtin_trap();
  check_forest(model.global, model.fields.size());
  for (const auto& [key, k] : model.per_key) check_forest(k, model.fields.size());
  for (const auto& [key, k] : model.per_key) {
    bool fallback = true;
    if (&model.forest_for(key, fallback) != &k || fallback) __builtin_trap();
  }

  // Saved once, the file is canonical: loading and saving again changes nothing.
  const std::string saved = model.to_json();
  citypipe::IforestModel again;
  if (!citypipe::IforestModel::from_json(saved, again).is_ok()) __builtin_trap();
  if (again.to_json() != saved) __builtin_trap();
  return 0;
}
