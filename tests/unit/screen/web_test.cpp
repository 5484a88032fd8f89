#include "citypipe/screen/web.h"

#include <cmath>
#include <string>

#include <catch2/catch.hpp>

#include "citypipe/core/json_record.h"

using namespace citypipe;

namespace {

DashboardSnapshot sample() {
  DashboardSnapshot s;
  s.records = 61;
  s.anomalies = 3;
  s.has_time = true;
  s.newest_time = *parse_rfc3339("2026-11-22T14:00:59Z");
  s.span = 60000;
  s.fields = {"temperature", "aqi"};
  auto add = [&](std::string key, std::uint64_t n, std::uint64_t anomalies, double temp) {
    KeyRow r;
    r.key = std::move(key);
    r.records = n;
    r.anomalies = anomalies;
    r.fields = {{true, temp, true, temp + 0.25}, {true, 40, true, 40}};
    r.series = {std::vector<double>(60, temp), std::vector<double>(60, 40.0)};
    r.series[0][10] = temp + 3;
    s.rows.push_back(r);
  };
  add("Harbor", 20, 0, 19.5);
  add("Downtown", 30, 3, 25);
  add("<img src=x onerror=alert(1)>", 10, 0, 15);
  add("</script><script>alert(2)</script>", 1, 0, 1);
  s.alerts.push_back({s.newest_time, "Downtown", "city-0003", "high", "temperature"});
  s.alerts.push_back({s.newest_time, "\"><svg onload=alert(3)>", "x'y", "medium", "<b>aqi</b>"});
  return s;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("text is escaped for HTML, attributes, URLs and scripts", "[web]") {
  CHECK(html_escape(R"(<a href="x" title='y'>&</a>)") ==
        "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
  CHECK(url_encode("a b&c=d/é") == "a%20b%26c%3Dd%2F%C3%A9");
  std::string js;
  append_js_string(js, "</script>\"\\\n\xe2\x80\xa8\xff&");
  CHECK(js == R"("\u003c/script\u003e\"\\\n\u2028\ufffd\u0026")");
}

TEST_CASE("hostile keys and alert texts render as text, never as markup", "[web]") {
  const auto s = sample();
  WebView v;
  for (auto kind : {PageKind::live, PageKind::report}) {
    PageOptions o;
    o.kind = kind;
    const std::string page = render_page(s, v, {false, 0, 0}, o);
    CHECK(page.find("<img") == std::string::npos);
    CHECK(page.find("<svg onload") == std::string::npos);
    CHECK(page.find("<b>") == std::string::npos);
    CHECK(page.find("</script><script>") == std::string::npos);
    CHECK(page.find("&lt;img src=x onerror=alert(1)&gt;") != std::string::npos);
    CHECK(page.find("&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;") != std::string::npos);
    CHECK(page.find("&quot;&gt;&lt;svg onload=alert(3)&gt;") != std::string::npos);
    CHECK(page.find("x&#39;y") != std::string::npos);
    // In attributes too: data-key and the SVG titles.
    CHECK(page.find(R"(data-key="&lt;img src=x onerror=alert(1)&gt;")") != std::string::npos);
  }
  const std::string json = render_state_json(s, v, {false, 0, 0}, 10);
  CHECK(json.find('<') == std::string::npos);
  CHECK(json.find("\\u003c/script\\u003e") != std::string::npos);
}

TEST_CASE("the report is self-contained: no script, no fetch, every key", "[web]") {
  const auto s = sample();
  PageOptions o;
  o.kind = PageKind::report;
  const std::string page = render_page(s, {}, {false, 0, 0}, o);
  CHECK(page.find("<script") == std::string::npos);
  CHECK(page.find("<link") == std::string::npos);
  CHECK(page.find("src=\"") == std::string::npos);
  CHECK(page.find("http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'") != std::string::npos);
  CHECK(page.find("<style>") != std::string::npos);
  for (const auto& r : s.rows) CHECK(page.find(html_escape(r.key)) != std::string::npos);
  CHECK(count(page, "<tr data-key=") == 4);
  CHECK(count(page, "<svg class=\"spark\"") == 8);  // one per key and field
  CHECK(count(page, "<svg class=\"chart\"") == 4);  // the charted field, per key
  CHECK(page.find("4.92% of records") != std::string::npos);
  CHECK(page.find("/s<") == std::string::npos);  // no rates for a replay
}

TEST_CASE("the live page links its script and style and carries the controls", "[web]") {
  const auto s = sample();
  WebView v;
  v.view.sort_column = 1;
  const std::string page = render_page(s, v, {true, 1500, 2}, {});
  CHECK(page.find(R"(<script src="/app.js" defer></script>)") != std::string::npos);
  CHECK(page.find(R"(<link rel="stylesheet" href="/style.css">)") != std::string::npos);
  CHECK(page.find(R"(<form id="controls")") != std::string::npos);
  CHECK(page.find(R"(<option value="records" selected>)") != std::string::npos);
  CHECK(page.find("1500/s") != std::string::npos);
  CHECK(count(page, "<script") == 1);  // only the external one
  CHECK(page.find("style=\"") == std::string::npos);  // no inline styles: the CSP forbids them
}

TEST_CASE("the view comes from the query and goes back into links", "[web]") {
  const std::vector<std::string> fields = {"temperature", "aqi"};
  WebView base;
  auto v = web_view_from_query({{"sort", "aqi"}, {"reverse", "1"}, {"filter", "Down"},
                                {"anomalies", "1"}, {"chart", "aqi"}, {"pause", "1"}, {"x", "y"}},
                               fields, base);
  CHECK(v.view.sort_column == 4);
  CHECK(v.view.reverse);
  CHECK(v.view.filter == "Down");
  CHECK(v.view.anomalies_only);
  CHECK(v.view.paused);
  CHECK(v.chart_field == 1);
  CHECK(web_view_query(v, fields) == "sort=aqi&reverse=1&filter=Down&anomalies=1&chart=aqi&pause=1");
  // Unknown values leave the base; a long filter is refused.
  auto w = web_view_from_query({{"sort", "nosuch"}, {"chart", "nosuch"},
                                {"filter", std::string(max_filter_bytes + 1, 'a')}},
                               fields, v);
  CHECK(w.view.sort_column == 4);
  CHECK(w.chart_field == 1);
  CHECK(w.view.filter == "Down");
  CHECK(web_view_query(WebView{}, fields).empty());
}

TEST_CASE("rows follow the view in the page and in the JSON", "[web]") {
  const auto s = sample();
  WebView v;
  v.view.sort_column = 1;  // records, largest first
  const std::string json = render_state_json(s, v, {true, 10, 1}, 10);
  JsonParser parser;
  JsonRecord record;
  std::string error;
  REQUIRE(parser.parse(json.substr(0, json.size() - 1), record, error));
  CHECK(record.find("records")->number == 61);
  CHECK(json.find(R"("rows":[{"key":"Downtown")") != std::string::npos);
  CHECK(json.find(R"("records_per_s":10)") != std::string::npos);
  v.view.anomalies_only = true;
  const std::string fragment = render_dashboard_html(s, v, {true, 10, 1}, {});
  CHECK(count(fragment, "<tr data-key=") == 1);
  v.view.anomalies_only = false;
  v.view.filter = "HAR";
  CHECK(count(render_dashboard_html(s, v, {true, 10, 1}, {}), "<tr data-key=\"Harbor\"") == 1);
}

TEST_CASE("charts are inline SVG paths scaled to the series, with gaps", "[web]") {
  const double nan = std::nan("");
  const std::string line = svg_chart({1, 2, 3}, 100, 20, "spark", "t");
  CHECK(line.rfind(R"(<svg class="spark" viewBox="0 0 100 20")", 0) == 0);
  CHECK(line.find(R"(<path class="line" d="M2.0 18.0L50.0 10.0L98.0 2.0")") != std::string::npos);
  const std::string gaps = svg_chart({1, 2, nan, 3, 4, nan, 5}, 100, 30, "chart", "t");
  CHECK(count(gaps, "M") == 4);  // two runs, each a line and an area
  CHECK(count(svg_chart({1, 2, nan, 3, 4}, 100, 20, "spark", "t"), "M") == 2);  // sparklines: lines only
  CHECK(count(gaps, "<circle") == 1);  // a lone bucket
  CHECK(svg_chart({nan, nan}, 10, 10, "c", "t").find("<path") == std::string::npos);
  CHECK(svg_chart({}, 10, 10, "c", "<t>").find("<title>&lt;t&gt;</title>") != std::string::npos);
}
