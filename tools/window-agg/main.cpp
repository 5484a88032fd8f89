// window-agg: event-time windowed aggregation of NDJSON readings, one output
// record per key and window; the Flink stage of a city pipeline as one pipe.
#include "citypipe/core/tool.h"
#include "window_agg.h"

namespace {

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::size_t from = 0;
  for (std::size_t comma; (comma = text.find(',', from)) != std::string::npos; from = comma + 1)
    out.push_back(text.substr(from, comma - from));
  out.push_back(text.substr(from));
  return out;
}

// Field names given on the command line that no record has are typos,
// usually: warned of after the first records, with a suggestion; and a hint
// when every line was rejected for lacking the time field.
void watch_typos(citypipe::Tool& tool, const citypipe::WindowAggOptions& o) {
  if (tool.app().count("--fields") > 0) tool.watch_fields("--fields", split_commas(o.fields));
  if (tool.app().count("--key") > 0) tool.watch_fields("--key", split_commas(o.key));
  tool.watch_fields("--count-true", o.count_true);
  if (!o.processing_time) tool.watch_fields("--time-field", {o.time_field});
  tool.on_all_rejected([](const std::string& reason) {
    return reason.find("time field") != std::string::npos
               ? std::string("is the time field named differently? (--time-field)")
               : std::string();
  });
}

}  // namespace

int main(int argc, char** argv) {
  citypipe::Tool tool("window-agg",
                      "Event-time windowed aggregation: one NDJSON record per key and window");
  citypipe::WindowAggOptions o;
  auto& app = tool.app();
  app.add_option("-w,--window", o.windows,
                 "tumble:SIZE, slide:SIZE,STEP or session:GAP; repeatable (default tumble:1m)")
      ->type_name("SPEC")
      ->allow_extra_args(false);
  app.add_option("-k,--key", o.key, "Group by these fields, comma-separated; '' for one group (default zone)")
      ->type_name("FIELDS");
  app.add_option("-f,--fields", o.fields,
                 "Numeric fields to aggregate (default: the numeric fields of the first record but time, key and id fields)")
      ->type_name("FIELDS");
  app.add_option("-a,--agg", o.aggregates,
                 "count,avg,min,max,sum,stddev,first,last,pN (default count,avg,min,max)")
      ->type_name("LIST");
  app.add_option("--count-true", o.count_true,
                 "Count records whose boolean FIELD is true, as FIELD_count; repeatable (default anomaly, if the first record has it)")
      ->type_name("FIELD")
      ->allow_extra_args(false);
  app.add_option("-t,--time-field", o.time_field, "Event time field: RFC 3339 or epoch (default ts)")
      ->type_name("FIELD");
  app.add_flag("--processing-time", o.processing_time, "Use the arrival time instead of the event time");
  app.add_option("--offset", o.offset, "Shift window starts from the epoch by D, may be negative (default 0)")
      ->type_name("D");
  app.add_option("-l,--lateness", o.lateness, "Watermark = highest event time seen - D (default 0)")
      ->type_name("D");
  app.add_option("--late", o.late_file, "Write late records to FILE")->type_name("FILE");
  app.add_option("--idle-timeout", o.idle_timeout,
                 "With no input for D of wall time, advance the watermark with the wall clock")
      ->type_name("D");
  app.add_flag("--emit-empty", o.emit_empty, "Also emit count-0 windows for keys seen before");
  if (auto rc = tool.parse(argc, argv)) return *rc;
  watch_typos(tool, o);

  citypipe::WindowAgg agg(tool, o);
  if (auto s = agg.setup(); !s.is_ok()) return tool.finish(s);
  return tool.finish(agg.run());
}
