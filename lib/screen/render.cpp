#include "citypipe/screen/render.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "view.h"

namespace citypipe {

namespace {


// Characters that are invisible or reorder or break lines: shown escaped.
bool is_format_char(std::uint32_t cp) {
  return (cp >= 0x80 && cp < 0xA0) || cp == 0xAD || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF ||
         (cp >= 0xFFF9 && cp <= 0xFFFB) || (cp >= 0xE0000 && cp <= 0xE007F);
}

std::size_t char_width(std::uint32_t cp) {
  if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
      (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
      (cp >= 0xFE20 && cp <= 0xFE2F))
    return 0;
  if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
      (cp >= 0x3041 && cp <= 0xA4CF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
      (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
      (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6) ||
      (cp >= 0x1F300 && cp <= 0x1F64F) || (cp >= 0x1F900 && cp <= 0x1F9FF) ||
      (cp >= 0x20000 && cp <= 0x3FFFD))
    return 2;
  return 1;
}

// Builds one line of segments that never grows past the width.
class LineBuilder {
 public:
  explicit LineBuilder(std::size_t width) : width_(width) {}
  LineBuilder& add(std::string_view text, Style style = Style::normal) {
    if (used_ >= width_ || text.empty()) return *this;
    const std::string_view cut = cut_to_width(text, width_ - used_);
    used_ += display_width(cut);
    if (!line_.segments.empty() && line_.segments.back().style == style)
      line_.segments.back().text += cut;
    else
      line_.segments.push_back({std::string(cut), style});
    return *this;
  }
  // Text left-aligned (or right-aligned) in a cell of `w` columns.
  LineBuilder& cell(std::string_view text, std::size_t w, bool right, Style style = Style::normal) {
    const std::string_view cut = cut_to_width(text, w);
    const std::size_t pad = w - display_width(cut);
    std::string s;
    if (right) s.append(pad, ' ');
    s += cut;
    if (!right) s.append(pad, ' ');
    return add(s, style);
  }
  LineBuilder& pad_to(std::size_t col, Style style = Style::normal) {
    if (col > used_) add(std::string(std::min(col, width_) - used_, ' '), style);
    return *this;
  }
  std::size_t used() const { return used_; }
  ScreenLine take() { return std::move(line_); }

 private:
  std::size_t width_;
  std::size_t used_ = 0;
  ScreenLine line_;
};

Style severity_style(std::string_view severity) {
  const std::string s = view::lower(severity);
  if (s == "high" || s == "critical") return Style::high;
  if (s == "medium" || s == "warning") return Style::medium;
  if (s == "low") return Style::low;
  return Style::normal;
}

std::string rate_text(double per_s) { return format_value(per_s) + "/s"; }

std::string cell_text(const FieldStat& st, const NumberFormat& f) {
  if (!st.has_latest && !st.has_avg) return "-";
  std::string s = st.has_latest ? f.format(st.latest) : "-";
  s += '/';
  s += st.has_avg ? f.format(st.avg) : "-";
  return s;
}

}  // namespace

std::string ScreenLine::text() const {
  std::string s;
  for (const auto& seg : segments) s += seg.text;
  return s;
}

std::string escape_text(std::string_view raw, bool utf8) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size();) {
    const auto c = static_cast<unsigned char>(raw[i]);
    if (c >= 0x20 && c < 0x7F) {
      if (c == '\\') out += '\\';
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (c < 0x80) {
      if (c == '\t') out += "\\t";
      else if (c == '\n') out += "\\n";
      else if (c == '\r') out += "\\r";
      else out += fmt::format("\\x{:02x}", c);
      ++i;
      continue;
    }
    std::uint32_t cp = 0;
    const std::size_t len = view::decode_utf8(raw, i, cp);
    if (len == 0) {
      out += fmt::format("\\x{:02x}", c);
      ++i;
      continue;
    }
    if (!utf8 || is_format_char(cp))
      out += fmt::format("\\u{{{:04x}}}", cp);
    else
      out.append(raw.substr(i, len));
    i += len;
  }
  return out;
}

std::size_t display_width(std::string_view text) {
  std::size_t w = 0;
  for (std::size_t i = 0; i < text.size();) {
    std::uint32_t cp = 0;
    const std::size_t len = view::decode_utf8(text, i, cp);
    if (len == 0) {
      ++w;
      ++i;
      continue;
    }
    w += char_width(cp);
    i += len;
  }
  return w;
}

std::string_view cut_to_width(std::string_view text, std::size_t width) {
  std::size_t w = 0;
  for (std::size_t i = 0; i < text.size();) {
    std::uint32_t cp = 0;
    std::size_t len = view::decode_utf8(text, i, cp);
    const std::size_t cw = len == 0 ? 1 : char_width(cp);
    if (len == 0) len = 1;
    if (w + cw > width) return text.substr(0, i);
    w += cw;
    i += len;
  }
  return text;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "-";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  const double a = std::fabs(v);
  if (a >= 1e5) {
    static constexpr std::array<const char*, 5> suffix = {"k", "M", "G", "T", "P"};
    double x = v / 1e3;
    std::size_t i = 0;
    while (std::fabs(x) >= 999.95 && i + 1 < suffix.size()) x /= 1e3, ++i;
    if (std::fabs(x) >= 999.95) return fmt::format("{:.3g}", v);
    return fmt::format("{:.1f}{}", x, suffix[i]);
  }
  if (a >= 1000 || v == std::round(v)) return fmt::format("{:.0f}", v);
  if (a >= 9.995) return fmt::format("{:.1f}", v);
  return fmt::format("{:.2f}", v);
}

namespace {
constexpr double suffix_from = 1e5;  // larger magnitudes take a k/M/G suffix
}  // namespace

void NumberFormat::include(double v) {
  // A huge outlier keeps its suffix and does not take the decimals from the rest.
  if (!std::isfinite(v) || std::fabs(v) >= suffix_from) return;
  max_abs_ = std::max(max_abs_, std::fabs(v));
  whole_ = whole_ && v == std::round(v);
}

std::string NumberFormat::format(double v) const {
  if (std::isnan(v)) return "-";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::fabs(v) >= suffix_from) return format_value(v);
  const int decimals = whole_ || max_abs_ >= 999.5 ? 0 : max_abs_ >= 9.995 ? 1 : 2;
  std::string s = fmt::format("{:.{}f}", v, decimals);
  if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);  // no "-0.0"
  return s;
}

std::string count_noun(std::uint64_t n, std::string_view singular, std::string_view plural) {
  return fmt::format("{} {}", format_count(n), n == 1 ? singular : plural);
}

std::string format_count(std::uint64_t n) {
  if (n < 10'000'000) return fmt::format("{}", n);
  return format_value(static_cast<double>(n));
}

std::string sparkline(const std::vector<double>& series, std::size_t width, bool utf8) {
  static constexpr std::array<std::string_view, 8> blocks = {"▁", "▂", "▃", "▄",
                                                             "▅", "▆", "▇", "█"};
  static constexpr std::string_view ascii = "_.-~=+*#";
  std::string out;
  if (width == 0) return out;
  std::vector<double> cols(width, std::nan(""));
  if (!series.empty()) {
    const std::size_t n = series.size();
    for (std::size_t c = 0; c < width; ++c) {
      // Columns map onto buckets; with more columns than buckets the newest
      // buckets sit at the right edge and the left stays blank.
      std::size_t lo, hi;
      if (width >= n) {
        if (c < width - n) continue;
        lo = c - (width - n);
        hi = lo + 1;
      } else {
        lo = c * n / width;
        hi = (c + 1) * n / width;
      }
      double sum = 0;
      std::size_t k = 0;
      for (std::size_t i = lo; i < hi; ++i)
        if (!std::isnan(series[i])) sum += series[i], ++k;
      if (k > 0) cols[c] = sum / static_cast<double>(k);
    }
  }
  double mn = INFINITY, mx = -INFINITY;
  for (double v : cols)
    if (!std::isnan(v)) mn = std::min(mn, v), mx = std::max(mx, v);
  for (double v : cols) {
    if (std::isnan(v)) {
      out += ' ';
      continue;
    }
    std::size_t level = 3;
    if (mx > mn) level = static_cast<std::size_t>(std::lround((v - mn) / (mx - mn) * 7.0));
    level = std::min<std::size_t>(level, 7);
    if (utf8) out += blocks[level];
    else out += ascii[level];
  }
  return out;
}

std::size_t sort_column_count(const DashboardSnapshot& snapshot) {
  return 3 + snapshot.fields.size();
}

std::string sort_column_name(const DashboardSnapshot& snapshot, std::size_t column) {
  if (column == 0) return "key";
  if (column == 1) return "records";
  if (column == 2) return "anomalies";
  if (column - 3 < snapshot.fields.size()) return escape_text(snapshot.fields[column - 3], true);
  return "key";
}

namespace {

// The screen from top to bottom: header, table, alert feed, help bar.
constexpr std::size_t header_height = 2;
constexpr std::size_t help_height = 1;
// Below this height only (a part of) the header and the help bar fit.
constexpr std::size_t min_height_for_table = header_height + help_height + 1;
// Between the header and the help bar, the feed is shown when there are at
// least this many lines, and then gets at least 1/feed_min_share of them or
// all that the table does not need.
constexpr std::size_t min_room_for_feed = 4;
constexpr std::size_t feed_min_share = 3;

// Column widths (terminal columns).
constexpr std::size_t key_max_width = 24;  // longer keys are cut, in the table and the feed
constexpr std::size_t field_heading_max_width = 11;  // unless the values need more
constexpr std::size_t min_column_width = 3;
constexpr std::size_t spark_min_width = 8;
constexpr std::size_t feed_sensor_max_width = 16;
constexpr std::size_t severity_width = 6;

std::vector<ScreenLine> render_header(const DashboardSnapshot& snap, const ViewState& view,
                                      const ScreenInfo& info, const ScreenOptions& opt,
                                      std::size_t W, std::size_t sort_col) {
  std::vector<ScreenLine> lines;
  {
    LineBuilder b(W);
    b.add("tui-top", Style::title).add(" ", Style::title);
    b.add(info.live ? "live" : "input ended", Style::title);
    if (view.paused) b.add(" PAUSED", Style::title);
    if (view.anomalies_only) b.add(" [anomalies only]", Style::title);
    if (!view.filter.empty() && !view.editing_filter)
      b.add(" filter: " + escape_text(view.filter, opt.utf8), Style::title);
    const double share = snap.records ? 100.0 * static_cast<double>(snap.anomalies) /
                                            static_cast<double>(snap.records)
                                      : 0.0;
    if (info.live)
      b.add(fmt::format("  {}  {}  anomalies {} ({:.2f}%, {})",
                        count_noun(snap.records, "record", "records"), rate_text(info.records_per_s),
                        format_count(snap.anomalies), share, rate_text(info.anomalies_per_s)),
            Style::title);
    else  // a replay: rates per second of reading speed mean nothing
      b.add(fmt::format("  {}  anomalies {} ({:.2f}% of records)",
                        count_noun(snap.records, "record", "records"), format_count(snap.anomalies),
                        share),
            Style::title);
    b.pad_to(W, Style::title);
    lines.push_back(b.take());
  }
  {
    LineBuilder b(W);
    b.add(fmt::format("newest {}  span {}  refresh {}  sort {}{}",
                      snap.has_time ? format_rfc3339(snap.newest_time) : "-",
                      format_duration(snap.span), format_duration(view.refresh),
                      sort_column_name(snap, sort_col), view.reverse ? " (reversed)" : ""));
    if (snap.keys_capped) b.add("  (too many keys: rest in (other))");
    lines.push_back(b.take());
  }
  return lines;
}

// Widths of the table's columns: key, records, anomalies, then the fields
// that fit, then the sparkline.
struct TableLayout {
  std::size_t key_w = 3, rec_w = 4, anom_w = 4;
  std::vector<std::size_t> shown, shown_w;  // field indexes and their widths
  std::vector<NumberFormat> formats;        // per field of the snapshot
  std::size_t spark_w = 0;                  // 0: no sparkline
};

TableLayout layout_table(const DashboardSnapshot& snap, const std::vector<view::VisibleRow>& rows,
                         std::size_t W, bool utf8) {
  TableLayout t;
  for (const auto& r : rows) {
    t.key_w = std::max(t.key_w, display_width(r.key));
    t.rec_w = std::max(t.rec_w, format_count(r.row->records).size());
    t.anom_w = std::max(t.anom_w, format_count(r.row->anomalies).size());
  }
  t.key_w = std::min(t.key_w, key_max_width);
  const std::size_t fixed = t.rec_w + 1 + t.anom_w;
  if (t.key_w + 1 + fixed > W)
    t.key_w = std::max(min_column_width, W > fixed + 1 ? W - fixed - 1 : min_column_width);
  std::size_t used = t.key_w + 1 + fixed;
  t.formats.resize(snap.fields.size());
  for (const auto& r : rows)
    for (std::size_t f = 0; f < snap.fields.size() && f < r.row->fields.size(); ++f) {
      const FieldStat& st = r.row->fields[f];
      if (st.has_latest) t.formats[f].include(st.latest);
      if (st.has_avg) t.formats[f].include(st.avg);
    }
  const bool has_spark = snap.spark_field < snap.fields.size();
  for (std::size_t f = 0; f < snap.fields.size(); ++f) {
    std::size_t w = std::min(display_width(escape_text(snap.fields[f], utf8)), field_heading_max_width);
    w = std::max(w, min_column_width);
    for (const auto& r : rows)
      if (f < r.row->fields.size()) w = std::max(w, cell_text(r.row->fields[f], t.formats[f]).size());
    const std::size_t reserve = has_spark ? 1 + spark_min_width : 0;
    if (used + 1 + w + reserve > W) break;
    t.shown.push_back(f);
    t.shown_w.push_back(w);
    used += 1 + w;
  }
  if (has_spark && W > used + spark_min_width) {
    const std::size_t buckets = snap.rows.empty() ? spark_min_width : snap.rows.front().spark.size();
    t.spark_w = std::min(W - used - 1, std::max(buckets, spark_min_width));
  }
  return t;
}

// The table's heading and rows in a computed layout.
class TableRenderer {
 public:
  TableRenderer(const DashboardSnapshot& snap, const ViewState& view, const TableLayout& layout,
                std::size_t W, std::size_t sort_col, bool utf8)
      : snap_(snap), view_(view), t_(layout), W_(W), sort_col_(sort_col), utf8_(utf8) {}

  ScreenLine heading() const {
    LineBuilder b(W_);
    b.cell(head_text("KEY", 0, t_.key_w), t_.key_w, false, style(0)).add(" ", Style::column);
    b.cell(head_text("RECS", 1, t_.rec_w), t_.rec_w, true, style(1)).add(" ", Style::column);
    b.cell(head_text("ANOM", 2, t_.anom_w), t_.anom_w, true, style(2));
    for (std::size_t i = 0; i < t_.shown.size(); ++i) {
      const std::size_t f = t_.shown[i];
      b.add(" ", Style::column);
      b.cell(head_text(escape_text(snap_.fields[f], utf8_), 3 + f, t_.shown_w[i]), t_.shown_w[i],
             true, style(3 + f));
    }
    if (t_.spark_w > 0)
      b.add(" ", Style::column)
          .cell(escape_text(snap_.fields[snap_.spark_field], utf8_) + " " + format_duration(snap_.span),
                t_.spark_w, false, Style::column);
    b.pad_to(W_, Style::column);
    return b.take();
  }

  ScreenLine row(const view::VisibleRow& r) const {
    LineBuilder b(W_);
    b.cell(r.key, t_.key_w, false).add(" ");
    b.cell(format_count(r.row->records), t_.rec_w, true).add(" ");
    b.cell(format_count(r.row->anomalies), t_.anom_w, true,
           r.row->anomalies ? Style::alert : Style::normal);
    for (std::size_t i = 0; i < t_.shown.size(); ++i) {
      b.add(" ");
      const std::size_t f = t_.shown[i];
      b.cell(f < r.row->fields.size() ? cell_text(r.row->fields[f], t_.formats[f]) : "-",
             t_.shown_w[i], true);
    }
    if (t_.spark_w > 0) b.add(" ").add(sparkline(r.row->spark, t_.spark_w, utf8_));
    return b.take();
  }

  // The last table line when rows do not fit.
  ScreenLine more(std::size_t hidden) const {
    LineBuilder b(W_);
    b.add(fmt::format("... {} more rows (sort, / filter)", hidden));
    return b.take();
  }

 private:
  Style style(std::size_t col) const { return col == sort_col_ ? Style::sort_column : Style::column; }
  std::string head_text(std::string name, std::size_t col, std::size_t w) const {
    if (col != sort_col_) return name;
    const char* arrow = utf8_ ? (view_.reverse ? "▲" : "▼") : (view_.reverse ? "^" : "v");
    return std::string(cut_to_width(name, w > 1 ? w - 1 : 0)) + arrow;
  }

  const DashboardSnapshot& snap_;
  const ViewState& view_;
  const TableLayout& t_;
  std::size_t W_;
  std::size_t sort_col_;
  bool utf8_;
};

// The alert feed: time, key, sensor, severity, reasons.
class FeedRenderer {
 public:
  FeedRenderer(const std::vector<view::VisibleAlert>& alerts, std::size_t W, bool utf8)
      : alerts_(alerts), W_(W), utf8_(utf8) {
    for (const auto& a : alerts_) {
      key_w_ = std::max(key_w_, display_width(a.key));
      sensor_w_ = std::max(sensor_w_, display_width(escape_text(a.alert->sensor, utf8_)));
    }
    key_w_ = std::min(key_w_, key_max_width);  // as wide as in the table
    sensor_w_ = std::min(sensor_w_, feed_sensor_max_width);
  }

  ScreenLine heading() const {
    LineBuilder b(W_);
    b.add(fmt::format("ALERTS {}", alerts_.empty() ? "(none yet)" : "newest first"), Style::column);
    b.pad_to(W_, Style::column);
    return b.take();
  }

  ScreenLine row(std::size_t i) const {
    const Alert& a = *alerts_[i].alert;
    LineBuilder b(W_);
    b.add(format_rfc3339(a.time).substr(11, 12)).add(" ");
    b.cell(alerts_[i].key, key_w_, false).add(" ");
    b.cell(escape_text(a.sensor, utf8_), sensor_w_, false).add(" ");
    const std::string sev = escape_text(a.severity.empty() ? "-" : a.severity, utf8_);
    b.cell(sev, severity_width, false, severity_style(a.severity)).add(" ");
    b.add(escape_text(a.reasons, utf8_));
    return b.take();
  }

 private:
  const std::vector<view::VisibleAlert>& alerts_;
  std::size_t W_;
  bool utf8_;
  std::size_t key_w_ = 3, sensor_w_ = 6;
};

ScreenLine render_help_bar(const ViewState& view, std::size_t W, bool utf8) {
  LineBuilder b(W);
  if (view.editing_filter) {
    b.add("Filter: ", Style::help).add(escape_text(view.filter, utf8), Style::help);
    b.add("_  (Enter keep, Esc clear)", Style::help);
  } else {
    b.add("q:quit p:pause /:filter a:anomalies <>:sort r:reverse m:spark +-:refresh ?:help",
          Style::help);
  }
  b.pad_to(W, Style::help);
  return b.take();
}

// Lines of the table and of the feed (headings included) in `room` lines.
struct HeightSplit {
  std::size_t table = 0, feed = 0;
};

HeightSplit split_height(std::size_t room, std::size_t rows, std::size_t alerts) {
  const std::size_t table_need = 1 + rows;
  const std::size_t feed_need = 1 + std::max<std::size_t>(1, alerts);
  HeightSplit s;
  if (room >= min_room_for_feed)
    s.feed = std::min(feed_need,
                      std::max(room / feed_min_share, room > table_need ? room - table_need : 0));
  s.table = room - s.feed;
  return s;
}

}  // namespace

std::vector<ScreenLine> render_screen(const DashboardSnapshot& snap, const ViewState& view,
                                      const ScreenInfo& info, const ScreenOptions& opt) {
  const std::size_t W = std::max<std::size_t>(opt.width, 1);
  const std::size_t H = opt.height;
  const std::size_t sort_col = view::sort_column(snap, view);
  const view::Visible visible = view::select_visible(snap, view, opt.utf8);
  const TableLayout layout = layout_table(snap, visible.rows, W, opt.utf8);
  const TableRenderer table(snap, view, layout, W, sort_col, opt.utf8);
  const FeedRenderer feed(visible.alerts, W, opt.utf8);

  std::vector<ScreenLine> lines = render_header(snap, view, info, opt, W, sort_col);
  if (H == 0) {  // batch: every row, then a few alerts
    lines.push_back(table.heading());
    for (const auto& r : visible.rows) lines.push_back(table.row(r));
    lines.push_back(feed.heading());
    for (std::size_t i = 0; i < visible.alerts.size() && i < opt.batch_alerts; ++i)
      lines.push_back(feed.row(i));
    return lines;
  }
  if (H < min_height_for_table) {
    lines.resize(std::min(H, lines.size()));
    if (H >= header_height + help_height) lines.push_back(render_help_bar(view, W, opt.utf8));
    return lines;
  }
  const HeightSplit split =
      split_height(H - header_height - help_height, visible.rows.size(), visible.alerts.size());
  lines.push_back(table.heading());
  const std::size_t row_lines = split.table - 1;
  for (std::size_t i = 0; i < row_lines; ++i) {
    if (i >= visible.rows.size())
      lines.emplace_back();
    else if (i + 1 == row_lines && visible.rows.size() > row_lines)
      lines.push_back(table.more(visible.rows.size() - i));
    else
      lines.push_back(table.row(visible.rows[i]));
  }
  if (split.feed > 0) {
    lines.push_back(feed.heading());
    for (std::size_t i = 0; i + 1 < split.feed; ++i)
      lines.push_back(i < visible.alerts.size() ? feed.row(i) : ScreenLine{});
  }
  lines.push_back(render_help_bar(view, W, opt.utf8));
  return lines;
}

std::vector<ScreenLine> render_help(const ScreenOptions& opt) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> keys = {{
      {"q, Ctrl-C", "quit"},
      {"p, space", "pause drawing (input is still read)"},
      {"/", "filter rows and alerts by key text; Enter keeps, Esc clears"},
      {"Esc", "clear the filter"},
      {"a", "anomalies only (table and feed)"},
      {"< >, Left Right", "choose the sort column"},
      {"r", "reverse the sort order"},
      {"m", "cycle the sparkline field"},
      {"+ -", "refresh interval longer / shorter (0.5s to 30s)"},
      {"?", "this help; any key returns"},
      {"cells", "latest value / average over the span of event time"},
      {"feed", "newest anomalies: time, key, sensor, severity, reasons"},
  }};
  const std::size_t W = std::max<std::size_t>(opt.width, 1);
  std::vector<ScreenLine> lines;
  {
    LineBuilder b(W);
    b.add("tui-top help", Style::title).pad_to(W, Style::title);
    lines.push_back(b.take());
  }
  lines.push_back({});
  for (const auto& [k, what] : keys) {
    LineBuilder b(W);
    b.cell(k, 16, false, Style::column).add("  ").add(what);
    lines.push_back(b.take());
  }
  if (opt.height > 0 && lines.size() > opt.height) lines.resize(opt.height);
  return lines;
}

}  // namespace citypipe
