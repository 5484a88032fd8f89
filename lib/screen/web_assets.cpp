// The stylesheet and the script of tui-top's web views, as text. The script
// only applies updates the server rendered (and escaped) and reconnects when
// the reader changes the view; no framework, nothing fetched from elsewhere.
#include "citypipe/screen/web.h"

namespace citypipe {

std::string_view page_stylesheet() {
  return R"css(
:root{--bg:#0f1419;--panel:#161d26;--line:#263241;--text:#d7dee7;--muted:#8a99ab;--accent:#4fb3d9;
--chart:#4fb3d9;--area:rgba(79,179,217,.16);--high:#ff5c5c;--medium:#f2b84b;--low:#5fc9e0;--ok:#5cc98a}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
.bar{display:flex;align-items:baseline;gap:14px;padding:12px 20px;background:var(--panel);border-bottom:1px solid var(--line)}
.bar h1{margin:0;font-size:18px;letter-spacing:.5px;color:#fff}
.bar .kind{color:var(--muted)}
.bar .conn{margin-left:auto;color:var(--muted);font-size:12px}
.bar .conn.on{color:var(--ok)}
.bar .conn.off{color:var(--medium)}
.controls{display:flex;flex-wrap:wrap;gap:8px 18px;align-items:center;padding:10px 20px;border-bottom:1px solid var(--line);color:var(--muted)}
.controls input[type=search],.controls select{background:var(--bg);color:var(--text);border:1px solid var(--line);border-radius:4px;padding:3px 6px;font:inherit}
.controls button{background:var(--line);color:var(--text);border:0;border-radius:4px;padding:4px 12px;font:inherit;cursor:pointer}
.controls .check{display:flex;gap:4px;align-items:center}
main{padding:14px 20px}
.summary{display:flex;flex-wrap:wrap;gap:10px;margin-bottom:16px}
.stat{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:120px}
.stat .label{display:block;color:var(--muted);font-size:11px;text-transform:uppercase;letter-spacing:.6px}
.stat .value{display:block;font-size:20px;font-variant-numeric:tabular-nums;color:#fff}
.stat .sub{display:block;color:var(--muted);font-size:12px}
#newest .value{font-size:15px;padding-top:4px}
.state-live{color:var(--ok)!important}.state-ended{color:var(--muted)!important}.state-paused{color:var(--medium)!important}
#anomalies .value{color:var(--high)}
section.keys,section.feed{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:4px 0;margin-bottom:16px;overflow-x:auto}
table{border-collapse:collapse;width:100%}
th,td{padding:5px 10px;text-align:left;white-space:nowrap;border-bottom:1px solid var(--line)}
tbody tr:last-child th,tbody tr:last-child td{border-bottom:0}
thead th{color:var(--muted);font-weight:600;font-size:12px;vertical-align:bottom}
thead th a{color:inherit;text-decoration:none}
thead th a:hover{color:var(--text)}
thead th.sorted{color:var(--accent)}
.hint{display:block;font-weight:400;font-size:11px;color:var(--muted)}
th.key{color:#fff;font-weight:600;max-width:22em;overflow:hidden;text-overflow:ellipsis}
thead th.key{color:var(--muted)}
.num{text-align:right;font-variant-numeric:tabular-nums}
td.anom{color:var(--high);font-weight:600}
td.field{font-variant-numeric:tabular-nums;padding-left:6px}
td.field .vals{display:inline-block;vertical-align:middle;min-width:4.6em;text-align:right;margin-right:6px;line-height:1.15}
td.field .latest{display:block;color:#fff}
td.field .avg{display:block;color:var(--muted);font-size:11px}
thead th.field{text-align:left;padding-left:6px}
svg{vertical-align:middle}
svg .line{fill:none;stroke:var(--chart);stroke-width:1.4;stroke-linejoin:round}
svg .area{fill:var(--area);stroke:none}
svg .dot{fill:var(--chart)}
svg.spark .line{stroke-width:1.1}
td.chart{line-height:1}
td.chart .range{display:block;font-size:11px;color:var(--muted);padding-top:2px}
.feed h2{font-size:13px;margin:6px 12px;color:var(--muted);text-transform:uppercase;letter-spacing:.6px}
.alerts td.time{font-variant-numeric:tabular-nums;color:var(--muted)}
.alerts td.reasons{white-space:normal}
.sev{display:inline-block;min-width:5em;padding:0 6px;border-radius:3px;font-size:12px;text-align:center;background:var(--line)}
.sev-high .sev{background:var(--high);color:#1a0000}
.sev-medium .sev{background:var(--medium);color:#1a1000}
.sev-low .sev{background:var(--low);color:#001318}
.sev-high td.key{color:var(--high)}
.none,.more{color:var(--muted);margin:8px 12px}
footer{padding:6px 20px 18px;color:var(--muted);font-size:12px}
@media print{body{background:#fff;color:#000}.stat,section.keys,section.feed{background:#fff}}
)css";
}

std::string_view page_script() {
  return R"js('use strict';
// tui-top live page: shows the dashboard the server pushes (Server-Sent Events,
// rendered and escaped by the server) and reconnects when the view changes.
(function () {
  var form = document.getElementById('controls');
  var main = document.getElementById('dash');
  var conn = document.getElementById('conn');
  if (!form || !main || !conn) return;
  var source = null;
  var typing = 0;
  function say(text, cls) { conn.textContent = text; conn.className = 'conn ' + cls; }
  function query() {
    var q = new URLSearchParams();
    new FormData(form).forEach(function (value, name) { if (value !== '') q.append(name, value); });
    if (q.get('sort') === 'key') q.delete('sort');
    return q.toString();
  }
  function connect() {
    if (source) { source.close(); source = null; }
    var q = query();
    history.replaceState(null, '', q ? '?' + q : location.pathname);
    if (form.elements.pause.checked) { say('paused', 'off'); return; }
    say('connecting', 'off');
    source = new EventSource('/events' + (q ? '?' + q : ''));
    source.onopen = function () { say('live updates', 'on'); };
    source.onerror = function () { say('reconnecting', 'off'); };
    source.onmessage = function (e) { main.innerHTML = e.data; };
  }
  form.addEventListener('change', connect);
  form.addEventListener('submit', function (e) { e.preventDefault(); connect(); });
  form.elements.filter.addEventListener('input', function () {
    clearTimeout(typing);
    typing = setTimeout(connect, 300);
  });
  main.addEventListener('click', function (e) {
    var a = e.target.closest('a[data-sort]');
    if (!a) return;
    e.preventDefault();
    form.elements.sort.value = a.getAttribute('data-sort');
    form.elements.reverse.checked = a.getAttribute('data-reverse') === '1';
    connect();
  });
  connect();
})();
)js";
}

}  // namespace citypipe
