// tui-top's web views as pure functions: the dashboard snapshot and a view in,
// an HTML page (with inline SVG charts), an HTML fragment for live updates, or
// JSON out. No I/O. Text from the data is escaped here for the context it
// lands in (HTML text, attribute, URL, JSON inside a page), so that nothing
// from a record can become markup or script.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "citypipe/screen/dashboard.h"
#include "citypipe/screen/render.h"

namespace citypipe {

// What the reader of a page chose: sort, filter, anomalies only, pause (in
// ViewState) and the charted field.
struct WebView {
  ViewState view;
  std::size_t chart_field = 0;  // index into the snapshot's fields
};

// The view a query string asks for: sort=key|records|anomalies|FIELD,
// reverse=1, filter=TEXT (at most max_filter_bytes), anomalies=1, pause=1,
// chart=FIELD. Unknown names and values are ignored; `base` gives the rest.
inline constexpr std::size_t max_filter_bytes = 64;
WebView web_view_from_query(const std::vector<std::pair<std::string, std::string>>& params,
                            const std::vector<std::string>& fields, WebView base);

// The query string (without '?') that asks for view, as links and the live
// updates of a page use it.
std::string web_view_query(const WebView& view, const std::vector<std::string>& fields);

enum class PageKind {
  live,    // served: links /style.css and /app.js, has the view controls
  report,  // one self-contained file: inline CSS, no script, no fetches
};

struct PageOptions {
  PageKind kind = PageKind::live;
  std::size_t max_rows = 200;  // more rows are counted, not drawn
  std::size_t alerts = 20;     // newest anomalies in the feed
};

// The dashboard part of a page (header facts, table with charts, feed): what a
// live page replaces on each update.
std::string render_dashboard_html(const DashboardSnapshot& snapshot, const WebView& view,
                                  const ScreenInfo& info, const PageOptions& options);

// The whole HTML document. A snapshot taken with all_series charts every field.
std::string render_page(const DashboardSnapshot& snapshot, const WebView& view,
                        const ScreenInfo& info, const PageOptions& options);

// The model as one JSON object, for scripts and tests: totals, rates when
// live, fields, rows (after the view's filter and sort) and alerts. Strings
// are escaped so that the text is also safe inside an HTML <script> element.
std::string render_state_json(const DashboardSnapshot& snapshot, const WebView& view,
                              const ScreenInfo& info, std::size_t alerts);

// The stylesheet of both page kinds, and the script of the live page.
std::string_view page_stylesheet();
std::string_view page_script();

// Text for HTML text and quoted attribute values: & < > " ' become entities.
std::string html_escape(std::string_view text);
// A query-string value: every byte but A-Z a-z 0-9 - . _ ~ percent-encoded.
std::string url_encode(std::string_view text);
// A JSON string literal that is also safe in JavaScript and inside <script>:
// < > & U+2028 U+2029 escaped as \uXXXX, invalid UTF-8 as U+FFFD.
void append_js_string(std::string& out, std::string_view text);

// An inline SVG line chart of a series (oldest first, NaN = no data, drawn as
// a gap), scaled between its own min and max; `label` becomes its <title>.
std::string svg_chart(const std::vector<double>& series, int width, int height,
                      std::string_view css_class, std::string_view label);

}  // namespace citypipe
