// tui-top's screen as a pure function: a dashboard snapshot and the view state
// (sort, filter, modes) in, lines of styled text out, each at most `width`
// columns. Text from the data is escaped here, so nothing from a record can
// reach the terminal as a control character or escape sequence.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "citypipe/screen/dashboard.h"
#include "citypipe/core/event_time.h"

namespace citypipe {

enum class Style : std::uint8_t {
  normal,
  title,        // the header lines
  column,       // table and feed column headings
  sort_column,  // the heading of the sort column
  high,         // severity colours
  medium,
  low,
  alert,        // a non-zero anomaly count
  help,         // the help bar
};

struct Segment {
  std::string text;  // UTF-8, already escaped
  Style style = Style::normal;
};

struct ScreenLine {
  std::vector<Segment> segments;
  std::string text() const;  // the segments joined, without styles
};

// What the user chose with keys.
struct ViewState {
  std::size_t sort_column = 0;  // 0 key, 1 records, 2 anomalies, 3 + i field i
  bool reverse = false;
  std::string filter;           // case-insensitive substring of the key
  bool editing_filter = false;
  bool anomalies_only = false;
  bool paused = false;
  time_ms refresh = 1000;
};

// Facts from outside the model. Rates per second are shown only while input
// is live; a replay shows anomalies as a share of records instead.
struct ScreenInfo {
  bool live = true;  // false once input ended
  double records_per_s = 0;
  double anomalies_per_s = 0;
};

struct ScreenOptions {
  std::size_t width = 80;
  std::size_t height = 24;       // 0: no limit (batch mode), every row
  bool utf8 = true;              // Unicode sparklines and text; ASCII otherwise
  std::size_t batch_alerts = 10;  // alerts shown when height is 0
};

// The whole screen: header, table, alert feed, help bar. With a height, it is
// exactly `height` lines; below 4 lines only the start of the header and the
// help bar, cut to the height.
std::vector<ScreenLine> render_screen(const DashboardSnapshot& snapshot, const ViewState& view,
                                      const ScreenInfo& info, const ScreenOptions& options);

// The help page that '?' shows.
std::vector<ScreenLine> render_help(const ScreenOptions& options);

// Number of sort columns (key, records, anomalies, then each field) and a name.
std::size_t sort_column_count(const DashboardSnapshot& snapshot);
std::string sort_column_name(const DashboardSnapshot& snapshot, std::size_t column);

// Data text made safe to print: control characters, DEL, C1 controls,
// bidirectional and zero-width format characters and invalid UTF-8 become
// \t \n \r \\ \xNN or \u{XXXX}. Without utf8 every non-ASCII character is escaped.
std::string escape_text(std::string_view raw, bool utf8);

// Terminal columns of (escaped) UTF-8 text; East Asian wide characters count 2.
std::size_t display_width(std::string_view text);

// The longest prefix of text at most `width` columns wide.
std::string_view cut_to_width(std::string_view text, std::size_t width);

// A sparkline of `width` characters for the series (oldest first, NaN = no
// data), resampled by averaging and scaled between its own min and max.
std::string sparkline(const std::vector<double>& series, std::size_t width, bool utf8);

// Compact numbers for narrow cells: 21.4, 0.62, 1013, 12.3k, 1.5M.
std::string format_value(double v);
std::string format_count(std::uint64_t n);

// One number format for a whole column, so that its values line up: the same
// decimals for every value, chosen from the largest magnitude (2 below 10, 1
// below 1000, none above) and none when every value is a whole number. Values
// from 100000 up are written with a k/M/G suffix, as format_value does, and do
// not count towards the choice.
class NumberFormat {
 public:
  void include(double v);  // a value the column shows (NaN and infinities ignored)
  std::string format(double v) const;  // "-" for NaN

 private:
  double max_abs_ = 0;
  bool whole_ = true;
};

// "1 record", "2 records", "1.5M records".
std::string count_noun(std::uint64_t n, std::string_view singular, std::string_view plural);

}  // namespace citypipe
