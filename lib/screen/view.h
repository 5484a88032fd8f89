// What every view of the dashboard shows alike, private to the screen area:
// which rows and alerts pass the view's filter, and in which order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "citypipe/screen/dashboard.h"
#include "citypipe/screen/render.h"

namespace citypipe::view {

struct VisibleRow {
  const KeyRow* row;
  std::string key;  // escaped for display
};

struct VisibleAlert {
  const Alert* alert;
  std::string key;  // escaped for display
};

struct Visible {
  std::vector<VisibleRow> rows;      // sorted by the view's column
  std::vector<VisibleAlert> alerts;  // newest first
};

// The rows that pass anomalies-only and the key filter (a case-insensitive
// substring of the escaped key), sorted: the key ascending, numbers largest
// first, `reverse` flips, ties by key; the alerts whose key passes the filter.
Visible select_visible(const DashboardSnapshot& snapshot, const ViewState& view, bool utf8);

// The sort column of the view, or 0 (the key) when out of range.
std::size_t sort_column(const DashboardSnapshot& snapshot, const ViewState& view);

// Decodes the UTF-8 character at s[i] into cp; returns its length, 0 if invalid.
std::size_t decode_utf8(std::string_view s, std::size_t i, std::uint32_t& cp);

// ASCII lower case.
std::string lower(std::string_view s);

}  // namespace citypipe::view
