#include "view.h"

#include <algorithm>

namespace citypipe::view {

std::size_t decode_utf8(std::string_view s, std::size_t i, std::uint32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t len;
  std::uint32_t min;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1Fu, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0Fu, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07u, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) return 0;
  return len;
}

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
