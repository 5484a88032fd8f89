#include "view.h"

#include <algorithm>

namespace citypipe::view {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::size_t sort_column(const DashboardSnapshot& snapshot, const ViewState& view) {
  return view.sort_column < sort_column_count(snapshot) ? view.sort_column : 0;
}

namespace {

void sort_rows(std::vector<VisibleRow>& rows, const ViewState& view, std::size_t col) {
  auto number = [col](const KeyRow& r, bool& has) -> double {
    has = true;
    if (col == 1) return static_cast<double>(r.records);
    if (col == 2) return static_cast<double>(r.anomalies);
    const std::size_t f = col - 3;
    has = f < r.fields.size() && r.fields[f].has_avg;
    return has ? r.fields[f].avg : 0;
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const VisibleRow& a, const VisibleRow& b) {
    if (col == 0) return view.reverse ? b.key < a.key : a.key < b.key;
    bool ha = false, hb = false;
    const double va = number(*a.row, ha), vb = number(*b.row, hb);
    if (ha != hb) return ha;  // rows without a value last, either way
    if (va != vb) return view.reverse ? va < vb : va > vb;
    return a.key < b.key;
  });
}

}  // namespace

Visible select_visible(const DashboardSnapshot& snapshot, const ViewState& view, bool utf8) {
  Visible v;
  const std::string needle = lower(view.filter);
  auto passes = [&needle](const std::string& key) {
    return needle.empty() || lower(key).find(needle) != std::string::npos;
  };
  for (const KeyRow& r : snapshot.rows) {
    if (view.anomalies_only && r.anomalies == 0) continue;
    std::string key = escape_text(r.key, utf8);
    if (!passes(key)) continue;
    v.rows.push_back({&r, std::move(key)});
  }
  sort_rows(v.rows, view, sort_column(snapshot, view));
  for (const Alert& a : snapshot.alerts) {
    std::string key = escape_text(a.key, utf8);
    if (!passes(key)) continue;
    v.alerts.push_back({&a, std::move(key)});
  }
  return v;
}

}  // namespace citypipe::view
