#include "citypipe/screen/web.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "citypipe/core/json_write.h"
#include "view.h"

namespace citypipe {

namespace {

constexpr std::size_t no_field = static_cast<std::size_t>(-1);

// Sizes of the inline charts, in CSS pixels.
constexpr int spark_width = 64, spark_height = 22;   // one per field cell, no area
constexpr int chart_width = 180, chart_height = 26;  // the charted field

// Data text as the page shows it: escaped like the terminal does (control and
// format characters visible), then for HTML.
std::string data_text(std::string_view raw) { return html_escape(escape_text(raw, true)); }

std::string sort_name(const std::vector<std::string>& fields, std::size_t column) {
  if (column == 1) return "records";
  if (column == 2) return "anomalies";
  if (column >= 3 && column - 3 < fields.size()) return fields[column - 3];
  return "key";
}

double share_percent(const DashboardSnapshot& s) {
  return s.records ? 100.0 * static_cast<double>(s.anomalies) / static_cast<double>(s.records) : 0.0;
}

std::string rate(double per_s) { return format_value(per_s) + "/s"; }

Style severity_of(std::string_view severity) {
  const std::string s = view::lower(severity);
  if (s == "high" || s == "critical") return Style::high;
  if (s == "medium" || s == "warning") return Style::medium;
  if (s == "low") return Style::low;
  return Style::normal;
}

std::string_view severity_class(Style style) {
  switch (style) {
    case Style::high: return "sev-high";
    case Style::medium: return "sev-medium";
    case Style::low: return "sev-low";
    default: return "sev-none";
  }
}

void stat(std::string& out, std::string_view id, std::string_view label, const std::string& value,
          const std::string& sub = {}) {
  out += fmt::format(R"(<div class="stat" id="{}"><span class="label">{}</span><span class="value">{}</span>)",
                     id, label, value);
  if (!sub.empty()) out += fmt::format(R"(<span class="sub">{}</span>)", sub);
  out += "</div>";
}

const std::vector<double>& series_of(const KeyRow& row, std::size_t field) {
  static const std::vector<double> none;
  return field < row.series.size() ? row.series[field] : none;
}

// "9.8 – 12.1": the range a chart is scaled to, in the column's format.
std::string range_text(const std::vector<double>& series, const NumberFormat& f) {
  double mn = INFINITY, mx = -INFINITY;
  for (double v : series)
    if (!std::isnan(v)) mn = std::min(mn, v), mx = std::max(mx, v);
  if (mn > mx) return {};
  return f.format(mn) + " – " + f.format(mx);
}

void summary(std::string& out, const DashboardSnapshot& s, const WebView& v, const ScreenInfo& info) {
  out += R"(<section class="summary" aria-label="totals">)";
  const char* state = v.view.paused ? "paused" : info.live ? "live" : "input ended";
  const char* state_class = v.view.paused ? "paused" : info.live ? "live" : "ended";
  out += fmt::format(R"(<div class="stat" id="state"><span class="label">Input</span><span class="value state-{}">{}</span></div>)",
                     state_class, state);
  stat(out, "records", s.records == 1 ? "Record" : "Records", format_count(s.records),
       info.live ? rate(info.records_per_s) : std::string());
  stat(out, "anomalies", s.anomalies == 1 ? "Anomaly" : "Anomalies", format_count(s.anomalies),
       info.live ? fmt::format("{:.2f}%, {}", share_percent(s), rate(info.anomalies_per_s))
                 : fmt::format("{:.2f}% of records", share_percent(s)));
  stat(out, "newest", "Newest event", s.has_time ? format_rfc3339(s.newest_time) : "-");
  stat(out, "span", "Span", format_duration(s.span));
  stat(out, "keys", "Keys", format_count(s.rows.size()), s.keys_capped ? "too many: rest in (other)" : "");
  out += "</section>";
}

class TableWriter {
 public:
  TableWriter(const DashboardSnapshot& s, const WebView& v, const PageOptions& o,
              const std::vector<view::VisibleRow>& rows)
      : s_(s), v_(v), o_(o), rows_(rows), sort_(view::sort_column(s, v.view)) {
    formats_.resize(s.fields.size());
    for (const auto& r : rows_)
      for (std::size_t f = 0; f < s.fields.size() && f < r.row->fields.size(); ++f) {
        const FieldStat& st = r.row->fields[f];
        if (st.has_latest) formats_[f].include(st.latest);
        if (st.has_avg) formats_[f].include(st.avg);
      }
    chart_ = v.chart_field < s.fields.size() ? v.chart_field : no_field;
  }

  void write(std::string& out) const {
    out += R"(<section class="keys" aria-label="keys"><table class="keys"><thead><tr>)";
    heading(out, 0, "Key", "key");
    heading(out, 1, "Records", "num");
    heading(out, 2, "Anomalies", "num");
    if (chart_ != no_field)
      out += fmt::format(R"(<th class="chart" scope="col">{}<span class="hint">over {}, min – max</span></th>)",
                         data_text(s_.fields[chart_]), format_duration(s_.span));
    for (std::size_t f = 0; f < s_.fields.size(); ++f)
      heading(out, 3 + f, data_text(s_.fields[f]), "field", "latest, avg");
    out += "</tr></thead><tbody>";
    const std::size_t n = std::min(rows_.size(), o_.max_rows);
    for (std::size_t i = 0; i < n; ++i) row(out, rows_[i]);
    out += "</tbody></table>";
    if (rows_.empty())
      out += R"(<p class="none">No rows yet)" + std::string(v_.view.filter.empty() && !v_.view.anomalies_only ? "" : " for this view") + ".</p>";
    if (rows_.size() > n)
      out += fmt::format(R"(<p class="more">… {} more rows (filter or sort to see them)</p>)",
                         rows_.size() - n);
    out += "</section>";
  }

 private:
  void heading(std::string& out, std::size_t col, const std::string& label, std::string_view cls,
               std::string_view hint = {}) const {
    const bool sorted = col == sort_;
    const char* arrow = sorted ? (v_.view.reverse ? " ▲" : " ▼") : "";
    out += fmt::format(R"(<th class="{}{}" scope="col")", cls, sorted ? " sorted" : "");
    if (sorted) out += v_.view.reverse ? R"( aria-sort="ascending")" : R"( aria-sort="descending")";
    out += ">";
    if (o_.kind == PageKind::live) {
      WebView next = v_;
      next.view.sort_column = col;
      next.view.reverse = sorted && !v_.view.reverse;
      out += fmt::format(R"(<a href="?{}" data-sort="{}" data-reverse="{}">{}{}</a>)",
                         html_escape(web_view_query(next, s_.fields)),
                         html_escape(sort_name(s_.fields, col)), next.view.reverse ? 1 : 0, label, arrow);
    } else {
      out += label;
      out += arrow;
    }
    if (!hint.empty()) out += fmt::format(R"(<span class="hint">{}</span>)", hint);
    out += "</th>";
  }

  void row(std::string& out, const view::VisibleRow& r) const {
    const std::string key = html_escape(r.key);
    out += fmt::format(R"(<tr data-key="{}"><th class="key" scope="row">{}</th><td class="num">{}</td><td class="num{}">{}</td>)",
                       key, key, format_count(r.row->records), r.row->anomalies ? " anom" : "",
                       format_count(r.row->anomalies));
    if (chart_ != no_field) {
      const auto& series = series_of(*r.row, chart_);
      out += R"(<td class="chart">)";
      out += svg_chart(series, chart_width, chart_height, "chart",
                       escape_text(r.row->key, true) + " " + escape_text(s_.fields[chart_], true) +
                           " over " + format_duration(s_.span));
      out += fmt::format(R"(<span class="range">{}</span></td>)", range_text(series, formats_[chart_]));
    }
    for (std::size_t f = 0; f < s_.fields.size(); ++f) {
      out += R"(<td class="field">)";
      if (f < r.row->fields.size() && (r.row->fields[f].has_latest || r.row->fields[f].has_avg)) {
        const FieldStat& st = r.row->fields[f];
        out += fmt::format(R"(<span class="vals"><span class="latest">{}</span><span class="avg">avg {}</span></span>)",
                           st.has_latest ? formats_[f].format(st.latest) : "-",
                           st.has_avg ? formats_[f].format(st.avg) : "-");
        const auto& series = series_of(*r.row, f);
        if (!series.empty())
          out += svg_chart(series, spark_width, spark_height, "spark",
                           escape_text(r.row->key, true) + " " + escape_text(s_.fields[f], true));
      } else {
        out += R"(<span class="latest none">-</span>)";
      }
      out += "</td>";
    }
    out += "</tr>";
  }

  const DashboardSnapshot& s_;
  const WebView& v_;
  const PageOptions& o_;
  const std::vector<view::VisibleRow>& rows_;
  std::size_t sort_;
  std::size_t chart_ = no_field;
  std::vector<NumberFormat> formats_;
};

void feed(std::string& out, const std::vector<view::VisibleAlert>& alerts, std::size_t max) {
  out += R"(<section class="feed" aria-label="newest anomalies"><h2>Newest anomalies</h2>)";
  if (alerts.empty()) {
    out += R"(<p class="none">No anomalies yet.</p></section>)";
    return;
  }
  out += R"(<table class="alerts"><thead><tr><th scope="col">Event time</th><th scope="col">Key</th><th scope="col">Sensor</th><th scope="col">Severity</th><th scope="col">Reasons</th></tr></thead><tbody>)";
  for (std::size_t i = 0; i < alerts.size() && i < max; ++i) {
    const Alert& a = *alerts[i].alert;
    const auto cls = severity_class(severity_of(a.severity));
    out += fmt::format(
        R"(<tr class="{}"><td class="time">{}</td><td class="key">{}</td><td class="sensor">{}</td><td><span class="sev">{}</span></td><td class="reasons">{}</td></tr>)",
        cls, format_rfc3339(a.time), html_escape(alerts[i].key), data_text(a.sensor),
        a.severity.empty() ? "-" : data_text(a.severity), data_text(a.reasons));
  }
  out += "</tbody></table></section>";
}

// The <option>s of a <select>, the chosen one selected.
void options(std::string& out, const std::vector<std::string>& names, std::size_t chosen) {
  for (std::size_t i = 0; i < names.size(); ++i)
    out += fmt::format(R"(<option value="{}"{}>{}</option>)", html_escape(names[i]),
                       i == chosen ? " selected" : "", data_text(names[i]));
}

void controls(std::string& out, const DashboardSnapshot& s, const WebView& v) {
  std::vector<std::string> sorts = {"key", "records", "anomalies"};
  sorts.insert(sorts.end(), s.fields.begin(), s.fields.end());
  out += R"(<form id="controls" class="controls" method="get" action="/" role="search">)";
  out += fmt::format(
      R"(<label>Filter keys <input type="search" name="filter" maxlength="{}" value="{}" autocomplete="off" placeholder="text in the key"></label>)",
      max_filter_bytes, html_escape(v.view.filter));
  out += R"(<label>Sort <select name="sort">)";
  options(out, sorts, view::sort_column(s, v.view));
  out += "</select></label>";
  out += fmt::format(R"(<label class="check"><input type="checkbox" name="reverse" value="1"{}> reverse</label>)",
                     v.view.reverse ? " checked" : "");
  if (!s.fields.empty()) {
    out += R"(<label>Chart <select name="chart">)";
    options(out, s.fields, v.chart_field);
    out += "</select></label>";
  }
  out += fmt::format(R"(<label class="check"><input type="checkbox" name="anomalies" value="1"{}> anomalies only</label>)",
                     v.view.anomalies_only ? " checked" : "");
  out += fmt::format(R"(<label class="check"><input type="checkbox" name="pause" value="1"{}> pause</label>)",
                     v.view.paused ? " checked" : "");
  out += R"(<button type="submit">Apply</button></form>)";
}

void append_hex4(std::string& out, std::uint32_t u) { out += fmt::format("\\u{:04x}", u); }

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string url_encode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~')
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

void append_js_string(std::string& out, std::string_view text) {
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '<': case '>': case '&': append_hex4(out, c); break;
        default:
          if (c < 0x20 || c == 0x7F) append_hex4(out, c);
          else out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    std::uint32_t cp = 0;
    const std::size_t len = view::decode_utf8(text, i, cp);
    if (len == 0) {
      append_hex4(out, 0xFFFD);
      ++i;
    } else {
      if (cp == 0x2028 || cp == 0x2029) append_hex4(out, cp);
      else out.append(text.substr(i, len));
      i += len;
    }
  }
  out += '"';
}

std::string svg_chart(const std::vector<double>& series, int width, int height,
                      std::string_view css_class, std::string_view label) {
  std::string out = fmt::format(
      R"(<svg class="{}" viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-label="{}"><title>{}</title>)",
      css_class, width, height, width, height, html_escape(label), html_escape(label));
  double mn = INFINITY, mx = -INFINITY;
  for (double v : series)
    if (!std::isnan(v)) mn = std::min(mn, v), mx = std::max(mx, v);
  if (series.empty() || mn > mx) return out + "</svg>";
  const double pad = 2.0;
  const double n = static_cast<double>(series.size());
  auto x = [&](std::size_t i) {
    return n <= 1 ? width / 2.0 : pad + (width - 2 * pad) * static_cast<double>(i) / (n - 1);
  };
  auto y = [&](double v) {
    if (mx <= mn) return height / 2.0;
    return pad + (height - 2 * pad) * (1.0 - (v - mn) / (mx - mn));
  };
  // One path per run of buckets with data; a lone bucket is a dot. The area
  // under the line only on charts bigger than a sparkline.
  const bool with_area = height > 24;
  std::string line, area;
  for (std::size_t i = 0; i < series.size();) {
    if (std::isnan(series[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < series.size() && !std::isnan(series[j])) ++j;
    if (j - i == 1) {
      out += fmt::format(R"(<circle class="dot" cx="{:.1f}" cy="{:.1f}" r="1.6"/>)", x(i), y(series[i]));
    } else {
      line += fmt::format("M{:.1f} {:.1f}", x(i), y(series[i]));
      for (std::size_t k = i + 1; k < j; ++k) line += fmt::format("L{:.1f} {:.1f}", x(k), y(series[k]));
      if (with_area) {
        area += fmt::format("M{:.1f} {}", x(i), height);
        for (std::size_t k = i; k < j; ++k) area += fmt::format("L{:.1f} {:.1f}", x(k), y(series[k]));
        area += fmt::format("L{:.1f} {}Z", x(j - 1), height);
      }
    }
    i = j;
  }
  if (!area.empty()) out += fmt::format(R"(<path class="area" d="{}"/>)", area);
  if (!line.empty()) out += fmt::format(R"(<path class="line" d="{}"/>)", line);
  return out + "</svg>";
}

WebView web_view_from_query(const std::vector<std::pair<std::string, std::string>>& params,
                            const std::vector<std::string>& fields, WebView base) {
  WebView v = base;
  auto field = [&fields](const std::string& name) {
    auto it = std::find(fields.begin(), fields.end(), name);
    return it == fields.end() ? no_field : static_cast<std::size_t>(it - fields.begin());
  };
  for (const auto& [name, value] : params) {
    const bool on = value == "1" || value == "on" || value == "true";
    if (name == "sort") {
      if (value == "key") v.view.sort_column = 0;
      else if (value == "records") v.view.sort_column = 1;
      else if (value == "anomalies") v.view.sort_column = 2;
      else if (const std::size_t f = field(value); f != no_field) v.view.sort_column = 3 + f;
    } else if (name == "reverse") {
      v.view.reverse = on;
    } else if (name == "filter") {
      if (value.size() <= max_filter_bytes) v.view.filter = value;
    } else if (name == "anomalies") {
      v.view.anomalies_only = on;
    } else if (name == "pause") {
      v.view.paused = on;
    } else if (name == "chart") {
      if (const std::size_t f = field(value); f != no_field) v.chart_field = f;
    }
  }
  return v;
}

std::string web_view_query(const WebView& v, const std::vector<std::string>& fields) {
  std::vector<std::string> parts;
  if (v.view.sort_column != 0) parts.push_back("sort=" + url_encode(sort_name(fields, v.view.sort_column)));
  if (v.view.reverse) parts.emplace_back("reverse=1");
  if (!v.view.filter.empty()) parts.push_back("filter=" + url_encode(v.view.filter));
  if (v.view.anomalies_only) parts.emplace_back("anomalies=1");
  if (v.chart_field != 0 && v.chart_field < fields.size()) parts.push_back("chart=" + url_encode(fields[v.chart_field]));
  if (v.view.paused) parts.emplace_back("pause=1");
  return fmt::format("{}", fmt::join(parts, "&"));
}

std::string render_dashboard_html(const DashboardSnapshot& s, const WebView& v, const ScreenInfo& info,
                                  const PageOptions& o) {
  const view::Visible visible = view::select_visible(s, v.view, true);
  std::string out;
  out.reserve(4096 + visible.rows.size() * (400 + s.fields.size() * 900));
  summary(out, s, v, info);
  TableWriter(s, v, o, visible.rows).write(out);
  feed(out, visible.alerts, o.alerts);
  return out;
}

std::string render_page(const DashboardSnapshot& s, const WebView& v, const ScreenInfo& info,
                        const PageOptions& o) {
  const bool live = o.kind == PageKind::live;
  std::string out = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="dark">
)";
  if (live) {
    out += R"(<link rel="stylesheet" href="/style.css"><script src="/app.js" defer></script>)";
  } else {
    // No script can run and nothing is fetched, even if markup were injected.
    out += R"(<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">)";
    out += "<style>";
    out += page_stylesheet();
    out += "</style>";
  }
  out += fmt::format("\n<title>tui-top: {}, {}</title></head>\n<body class=\"{}\">",
                     count_noun(s.records, "record", "records"),
                     count_noun(s.anomalies, "anomaly", "anomalies"), live ? "live" : "report");
  out += R"(<header class="bar"><h1>tui-top</h1>)";
  out += live ? R"(<span class="kind">live dashboard</span><span id="conn" class="conn">updates need JavaScript; reload to refresh</span>)"
              : R"(<span class="kind">report at end of input</span>)";
  out += "</header>\n";
  if (live) controls(out, s, v);
  out += fmt::format(R"(<main id="dash" data-paused="{}">)", v.view.paused ? 1 : 0);
  out += render_dashboard_html(s, v, info, o);
  out += "</main>\n<footer>";
  out += live ? "Read-only view of the stream; the data is standard input of tui-top."
              : "Written by tui-top --html: inline CSS and SVG, no scripts, no network fetches.";
  out += "</footer></body></html>\n";
  return out;
}

std::string render_state_json(const DashboardSnapshot& s, const WebView& v, const ScreenInfo& info,
                              std::size_t alerts) {
  const view::Visible visible = view::select_visible(s, v.view, true);
  std::string out = "{";
  auto key = [&out](std::string_view k) {
    if (out.size() > 1 && out.back() != '{' && out.back() != '[') out += ',';
    append_js_string(out, k);
    out += ':';
  };
  auto number = [&out](double d) { append_json_number(out, d); };
  key("live"); out += info.live ? "true" : "false";
  key("records"); out += std::to_string(s.records);
  key("anomalies"); out += std::to_string(s.anomalies);
  key("anomaly_share"); number(share_percent(s) / 100.0);
  key("records_per_s"); info.live ? number(info.records_per_s) : void(out += "null");
  key("anomalies_per_s"); info.live ? number(info.anomalies_per_s) : void(out += "null");
  key("newest");
  if (s.has_time) append_js_string(out, format_rfc3339(s.newest_time)); else out += "null";
  key("span_ms"); out += std::to_string(s.span);
  key("keys_capped"); out += s.keys_capped ? "true" : "false";
  key("fields"); out += '[';
  for (std::size_t f = 0; f < s.fields.size(); ++f) {
    if (f) out += ',';
    append_js_string(out, s.fields[f]);
  }
  out += ']';
  key("view"); out += '{';
  key("sort"); append_js_string(out, sort_name(s.fields, view::sort_column(s, v.view)));
  key("reverse"); out += v.view.reverse ? "true" : "false";
  key("filter"); append_js_string(out, v.view.filter);
  key("anomalies_only"); out += v.view.anomalies_only ? "true" : "false";
  key("chart");
  if (v.chart_field < s.fields.size()) append_js_string(out, s.fields[v.chart_field]); else out += "null";
  out += '}';
  key("rows"); out += '[';
  for (std::size_t i = 0; i < visible.rows.size(); ++i) {
    const KeyRow& r = *visible.rows[i].row;
    if (i) out += ',';
    out += '{';
    key("key"); append_js_string(out, r.key);
    key("records"); out += std::to_string(r.records);
    key("anomalies"); out += std::to_string(r.anomalies);
    for (const char* part : {"latest", "avg"}) {
      key(part); out += '{';
      const bool latest = part[0] == 'l';
      for (std::size_t f = 0; f < s.fields.size() && f < r.fields.size(); ++f) {
        const FieldStat& st = r.fields[f];
        if (latest ? !st.has_latest : !st.has_avg) continue;
        key(s.fields[f]);
        number(latest ? st.latest : st.avg);
      }
      out += '}';
    }
    if (v.chart_field < s.fields.size()) {
      key("chart"); out += '[';
      const auto& series = series_of(r, v.chart_field);
      for (std::size_t b = 0; b < series.size(); ++b) {
        if (b) out += ',';
        number(series[b]);  // NaN: null
      }
      out += ']';
    }
    out += '}';
  }
  out += ']';
  key("alerts"); out += '[';
  for (std::size_t i = 0; i < visible.alerts.size() && i < alerts; ++i) {
    const Alert& a = *visible.alerts[i].alert;
    if (i) out += ',';
    out += '{';
    key("time"); append_js_string(out, format_rfc3339(a.time));
    key("key"); append_js_string(out, a.key);
    key("sensor"); append_js_string(out, a.sensor);
    key("severity"); append_js_string(out, a.severity);
    key("reasons"); append_js_string(out, a.reasons);
    out += '}';
  }
  out += "]}\n";
  return out;
}

}  // namespace citypipe
