#include "citypipe/screen/render.h"

#include <cmath>
#include <string>

#include <catch2/catch.hpp>

using namespace citypipe;

namespace {

DashboardSnapshot sample() {
  DashboardSnapshot s;
  s.records = 60;
  s.anomalies = 3;
  s.has_time = true;
  s.newest_time = *parse_rfc3339("2026-11-22T14:00:59Z");
  s.span = 60000;
  s.fields = {"temperature", "aqi"};
  s.spark_field = 0;
  auto add = [&](std::string key, std::uint64_t n, std::uint64_t anomalies, double temp) {
    KeyRow r;
    r.key = std::move(key);
    r.records = n;
    r.anomalies = anomalies;
    r.fields = {{true, temp, true, temp}, {true, 40, true, 40}};
    r.spark.assign(60, temp);
    s.rows.push_back(r);
  };
  add("Harbor", 20, 0, 19.5);
  add("Downtown", 30, 3, 25);
  add("Airport", 10, 0, 15);
  s.alerts.push_back({s.newest_time, "Downtown", "city-0003", "high", "temperature"});
  return s;
}

std::vector<std::string> texts(const std::vector<ScreenLine>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) out.push_back(l.text());
  return out;
}

// Keys of the table rows, in screen order (lines after the KEY heading).
std::vector<std::string> row_keys(const std::vector<std::string>& lines) {
  std::vector<std::string> keys;
  bool in_table = false;
  for (const auto& l : lines) {
    if (l.rfind("KEY", 0) == 0) {
      in_table = true;
      continue;
    }
    if (l.rfind("ALERTS", 0) == 0) break;
    if (in_table && !l.empty() && l[0] != ' ') keys.push_back(l.substr(0, l.find(' ')));
  }
  return keys;
}

ScreenOptions opts(std::size_t w, std::size_t h, bool utf8 = true) {
  ScreenOptions o;
  o.width = w;
  o.height = h;
  o.utf8 = utf8;
  return o;
}

}  // namespace

TEST_CASE("rows sort by key, by numbers largest first, and reverse", "[screen]") {
  const auto s = sample();
  ViewState v;
  CHECK(row_keys(texts(render_screen(s, v, {}, opts(100, 24)))) ==
        std::vector<std::string>{"Airport", "Downtown", "Harbor"});
  v.sort_column = 1;  // records
  CHECK(row_keys(texts(render_screen(s, v, {}, opts(100, 24)))) ==
        std::vector<std::string>{"Downtown", "Harbor", "Airport"});
  v.sort_column = 3;  // temperature average
  v.reverse = true;
  CHECK(row_keys(texts(render_screen(s, v, {}, opts(100, 24)))) ==
        std::vector<std::string>{"Airport", "Harbor", "Downtown"});
  CHECK(sort_column_name(s, 3) == "temperature");
  CHECK(sort_column_count(s) == 5);
}

TEST_CASE("filter and anomalies-only choose rows and alerts", "[screen]") {
  const auto s = sample();
  ViewState v;
  v.filter = "har";
  auto lines = texts(render_screen(s, v, {}, opts(100, 24)));
  CHECK(row_keys(lines) == std::vector<std::string>{"Harbor"});
  bool any_alert = false;
  for (const auto& l : lines) any_alert |= l.find("city-0003") != std::string::npos;
  CHECK_FALSE(any_alert);  // Downtown's alert is filtered out too
  v.filter.clear();
  v.anomalies_only = true;
  lines = texts(render_screen(s, v, {}, opts(100, 24)));
  CHECK(row_keys(lines) == std::vector<std::string>{"Downtown"});
  any_alert = false;
  for (const auto& l : lines) any_alert |= l.find("city-0003") != std::string::npos;
  CHECK(any_alert);
}

TEST_CASE("the screen is exactly the terminal size at every width", "[screen]") {
  auto s = sample();
  for (int i = 0; i < 40; ++i) s.rows.push_back(s.rows[0]);
  for (std::size_t w : {1u, 10u, 20u, 40u, 80u, 120u, 200u}) {
    for (std::size_t h : {1u, 3u, 5u, 10u, 24u, 40u}) {
      const auto lines = render_screen(s, {}, {}, opts(w, h));
      CHECK(lines.size() == h);
      for (const auto& l : lines) CHECK(display_width(l.text()) <= w);
    }
  }
  // Too many rows: the last table line says how many more.
  const auto t = texts(render_screen(s, {}, {}, opts(80, 24)));
  bool more = false;
  for (const auto& l : t) more |= l.find("more rows") != std::string::npos;
  CHECK(more);
}

TEST_CASE("narrow screens drop fields before the key and counts", "[screen]") {
  const auto s = sample();
  const auto wide = texts(render_screen(s, {}, {}, opts(120, 24)));
  const auto narrow = texts(render_screen(s, {}, {}, opts(30, 24)));
  CHECK(wide[2].find("aqi") != std::string::npos);
  CHECK(narrow[2].find("aqi") == std::string::npos);
  CHECK(narrow[2].rfind("KEY", 0) == 0);
  CHECK(narrow[2].find("RECS") != std::string::npos);
}

TEST_CASE("hostile text is escaped", "[screen]") {
  CHECK(escape_text("\x1b]0;pwned\x07", true) == "\\x1b]0;pwned\\x07");
  CHECK(escape_text("a\nb\tc\\", true) == "a\\nb\\tc\\\\");
  CHECK(escape_text("Z\xc3\xbcrich", true) == "Z\xc3\xbcrich");
  CHECK(escape_text("Z\xc3\xbcrich", false) == "Z\\u{00fc}rich");
  CHECK(escape_text("\xc2\x9b" "31m", true) == "\\u{009b}31m");  // C1 CSI
  CHECK(escape_text("\xe2\x80\xae" "evil", true) == "\\u{202e}evil");  // bidi override
  CHECK(escape_text("\xff\xc3", true) == "\\xff\\xc3");
  CHECK(escape_text("\x7f", true) == "\\x7f");

  auto s = sample();
  s.rows[0].key = "\x1b[2J\x1b]0;title\x07";
  s.alerts[0].reasons = "\x1b[31mred";
  for (bool utf8 : {true, false}) {
    for (const auto& l : render_screen(s, {}, {}, opts(120, 24, utf8))) {
      for (char c : l.text()) CHECK((static_cast<unsigned char>(c) >= 0x20 && c != 0x7f));
      if (!utf8)
        for (char c : l.text()) CHECK(static_cast<unsigned char>(c) < 0x80);
    }
  }
}

TEST_CASE("display width counts columns and cut keeps whole characters", "[screen]") {
  CHECK(display_width("abc") == 3);
  CHECK(display_width("\xe2\x96\x81\xe2\x96\x82") == 2);  // two sparkline blocks
  CHECK(display_width("\xe6\x9d\xb1\xe4\xba\xac") == 4);  // wide CJK
  CHECK(cut_to_width("\xe6\x9d\xb1\xe4\xba\xac", 3) == "\xe6\x9d\xb1");
  CHECK(cut_to_width("abc", 10) == "abc");
}

TEST_CASE("sparklines scale, resample and fall back to ASCII", "[screen]") {
  const double nan = std::nan("");
  CHECK(sparkline({0, 7}, 2, false) == "_#");
  CHECK(sparkline({0, 1, 2, 3, 4, 5, 6, 7}, 8, true) == "▁▂▃▄▅▆▇█");
  CHECK(sparkline({0, 0, 7, 7}, 2, false) == "_#");       // two buckets a column
  CHECK(sparkline({1, nan, 3}, 5, false) == "  _ #");      // newest at the right
  CHECK(sparkline({5, 5}, 2, false) == "~~");              // flat: the middle
  CHECK(sparkline({}, 3, true) == "   ");
}

TEST_CASE("numbers fit narrow cells", "[screen]") {
  CHECK(format_value(21.44) == "21.4");
  CHECK(format_value(42) == "42");
  CHECK(format_value(0.625) == "0.62");
  CHECK(format_value(1013.25) == "1013");
  CHECK(format_value(123456) == "123.5k");
  CHECK(format_value(2.5e9) == "2.5G");
  CHECK(format_value(std::nan("")) == "-");
  CHECK(format_count(1234567) == "1234567");
  CHECK(format_count(123456789) == "123.5M");
}

TEST_CASE("the help bar and the filter prompt", "[screen]") {
  const auto s = sample();
  ViewState v;
  auto lines = texts(render_screen(s, v, {}, opts(100, 24)));
  CHECK(lines.back().find("q:quit") != std::string::npos);
  v.editing_filter = true;
  v.filter = "Down";
  lines = texts(render_screen(s, v, {}, opts(100, 24)));
  CHECK(lines.back().rfind("Filter: Down_", 0) == 0);
  const auto help = texts(render_help(opts(80, 24)));
  bool has_keys = false;
  for (const auto& l : help) has_keys |= l.find("anomalies only") != std::string::npos;
  CHECK(has_keys);
}

TEST_CASE("header shows totals, liveness and the newest event time", "[screen]") {
  const auto s = sample();
  ScreenInfo info{true, 1500, 2};
  auto lines = texts(render_screen(s, {}, info, opts(120, 24)));
  CHECK(lines[0].find("tui-top live  60 records  1500/s  anomalies 3 (5.00%, 2/s)") == 0);
  CHECK(lines[1].find("2026-11-22T14:00:59.000Z") != std::string::npos);
  // A replay: a share of records, no rates per second.
  info.live = false;
  lines = texts(render_screen(s, {}, info, opts(120, 24)));
  CHECK(lines[0].find("tui-top input ended  60 records  anomalies 3 (5.00% of records)") == 0);
  CHECK(lines[0].find("/s") == std::string::npos);
}

TEST_CASE("one record is singular", "[screen]") {
  DashboardSnapshot s;
  s.records = 1;
  const auto lines = texts(render_screen(s, {}, {false, 0, 0}, opts(80, 0)));
  CHECK(lines[0].find(" 1 record  ") != std::string::npos);
  CHECK(count_noun(0, "record", "records") == "0 records");
  CHECK(count_noun(2, "record", "records") == "2 records");
}

TEST_CASE("a column of numbers has one format", "[screen]") {
  NumberFormat f;
  for (double v : {0.625, 21.44, 9.0}) f.include(v);
  CHECK(f.format(0.625) == "0.6");  // 1 decimal: the column reaches 21.44
  CHECK(f.format(21.44) == "21.4");
  CHECK(f.format(9) == "9.0");
  CHECK(f.format(-0.01) == "0.0");
  NumberFormat whole;
  for (double v : {42.0, 1013.0, 7.0}) whole.include(v);
  CHECK(whole.format(7) == "7");
  NumberFormat small;
  for (double v : {0.5, 3.25}) small.include(v);
  CHECK(small.format(0.5) == "0.50");
  NumberFormat big;
  for (double v : {1013.25, 980.4}) big.include(v);
  CHECK(big.format(980.4) == "980");  // no decimals from 1000 up
  NumberFormat outlier;
  for (double v : {70.4, 1234567.0}) outlier.include(v);
  CHECK(outlier.format(70.4) == "70.4");
  CHECK(outlier.format(1234567) == "1.2M");
  CHECK(outlier.format(std::nan("")) == "-");

  // In the table: latest and average of every row in one format per column.
  auto snap = sample();
  snap.rows[0].fields[0] = {true, 19, true, 19.25};
  snap.rows[1].fields[0] = {true, 25, true, 25};
  snap.rows[2].fields[0] = {true, 15.5, true, 15};
  const auto lines = texts(render_screen(snap, {}, {}, opts(100, 0)));
  auto has = [&](const std::string& text) {
    for (const auto& l : lines)
      if (l.find(text) != std::string::npos) return true;
    return false;
  };
  CHECK(has("19.0/19.2"));
  CHECK(has("25.0/25.0"));
  CHECK(has("15.5/15.0"));
  CHECK(has("40/40"));  // aqi: whole numbers
}

TEST_CASE("the feed shows keys as wide as the table does", "[screen]") {
  auto s = sample();
  s.alerts.insert(s.alerts.begin(), {s.newest_time, "University District", "city-0007", "low", "aqi"});
  const auto lines = texts(render_screen(s, {}, {}, opts(100, 0)));
  bool whole = false;
  for (const auto& l : lines) whole |= l.find("University District city-0007") != std::string::npos;
  CHECK(whole);
}
