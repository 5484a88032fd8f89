// kafka-cat-in: NDJSON into a Kafka topic (produce, the default) or out of one
// (consume, -C), with kcat's flags where the meaning is the same. The one
// citypipe tool that speaks Kafka; every other tool stays a pipe filter.
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "citypipe/kafka/offsets.h"
#include "citypipe/core/option_checks.h"
#include "citypipe/core/tool.h"
#include "kafka_conf.h"

int main(int argc, char** argv) {
  citypipe::Tool tool("kafka-cat-in", "NDJSON records into and out of a Kafka topic");
  tool.add_version_line(std::string("librdkafka ") + rd_kafka_version_str());
  auto& app = tool.app();
  kcatin::Settings s;
  bool produce_mode = false, consume_mode = false;
  std::vector<std::string> xprops;
  std::string prop_file, offset_text;
  app.add_flag("-P", produce_mode, "Produce: NDJSON from FILE... or standard input into the topic (default)");
  app.add_flag("-C", consume_mode, "Consume: records of the topic to standard output, one per line")
      ->excludes(app.get_option("-P"));
  auto* brokers_opt = app.add_option("-b", s.brokers, "Bootstrap brokers (default $KAFKA_BROKERS, else localhost:9092)")
      ->type_name("BROKERS");
  app.add_option("-t", s.topic, "Topic")->type_name("TOPIC")->required();
  app.add_option("-X", xprops, "Set a librdkafka property (repeatable)")
      ->type_name("prop=value")->allow_extra_args(false);
  app.add_option("-F", prop_file, "Read librdkafka properties (name=value lines) from FILE")
      ->type_name("FILE");
  app.add_option("-k", s.key_field, "Produce: take the message key from this field")->type_name("FIELD");
  app.add_option("-p", s.partition, "Produce to, or consume only, this partition")->type_name("N")
      ->check(citypipe::integer_in(0, 1 << 30));
  app.add_option("-G", s.group, "Consume: join this consumer group (balanced, committed offsets)")
      ->type_name("GROUP");
  app.add_option("-o", offset_text,
                 "Consume: start at beginning (default), end, stored (-G), N, or -N (N before the end)")
      ->type_name("OFFSET");
  app.add_flag("-e", s.exit_at_end, "Consume: exit once every assigned partition is at its end");
  app.add_option("-c", s.max_records, "Consume: exit after N records")->type_name("N")
      ->check(citypipe::integer_in(1, std::int64_t{1} << 62));
  app.add_flag("--meta", s.meta, "Consume: add \"_kafka\":{topic,partition,offset,key,timestamp} to each record");
  std::string checkpoint_every = "1s";
  app.add_option("--acks", s.acks_path,
                 "Consume with -G, exactly once: write checkpoint lines and commit offsets only once the sink "
                 "acknowledges them through PATH, a FIFO (citypipe(7), CHECKPOINTS); implies --meta")
      ->type_name("PATH");
  app.add_option("--checkpoint-every", checkpoint_every, "With --acks: a checkpoint this often (default 1s)")
      ->type_name("D");
  app.add_flag("-v,--verbose", s.verbose, "Report assignments and commits on standard error");
  if (auto rc = tool.parse(argc, argv)) return *rc;

  // -b, else $KAFKA_BROKERS, else localhost:9092 (said, as it is rarely meant).
  const char* env_brokers = std::getenv("KAFKA_BROKERS");
  if (brokers_opt->count() > 0) {
    if (s.brokers.empty()) return tool.usage_error("-b: empty broker list");
  } else if (env_brokers != nullptr) {
    if (*env_brokers == '\0')
      return tool.usage_error("KAFKA_BROKERS is set but empty (did the command that sets it fail?); give -b HOST:PORT");
    s.brokers = env_brokers;
  } else {
    s.brokers = "localhost:9092";
    tool.warn("no -b and no KAFKA_BROKERS: using localhost:9092");
  }
  if (!prop_file.empty()) {
    std::ifstream f(prop_file);
    if (!f) return tool.finish(citypipe::Status::error(citypipe::errc::not_found, "-F: cannot read " + prop_file));
    std::stringstream text;
    text << f.rdbuf();
    if (auto st = citypipe::parse_properties(text.str(), s.properties); !st.is_ok())
      return tool.finish(st.with_prefix(prop_file));
  }
  for (const auto& x : xprops) {
    auto prop = citypipe::split_property(x);
    if (!prop) return tool.usage_error("-X: expected prop=value, got " + x);
    s.properties.push_back(std::move(*prop));
  }
  if (!offset_text.empty()) {
    auto o = citypipe::parse_start_offset(offset_text);
    if (!o) return tool.usage_error("-o: expected beginning, end, stored, N or -N, got " + offset_text);
    s.start = *o;
    s.start_given = true;
  }

  if (auto d = citypipe::parse_duration(checkpoint_every); d && *d > 0) {
    s.checkpoint_every = *d;
  } else {
    return tool.usage_error("--checkpoint-every: expected a duration such as 500ms or 1s, got " + checkpoint_every);
  }
  if (!consume_mode) {
    if (s.start_given || !s.group.empty() || s.exit_at_end || s.max_records || s.meta || !s.acks_path.empty())
      return tool.usage_error("-G, -o, -e, -c, --meta and --acks apply to consume mode (-C)");
    return tool.finish(kcatin::produce(tool, s));
  }
  for (const auto& f : tool.options().inputs)
    if (f != "-") return tool.usage_error("consume mode (-C) reads the topic, not files: " + f);
  if (!s.key_field.empty()) return tool.usage_error("-k applies to produce mode (-P)");
  if (s.start.where == citypipe::StartOffset::kind::stored && s.group.empty())
    return tool.usage_error("-o stored needs a consumer group (-G)");
  if (!s.group.empty() && s.partition >= 0) return tool.usage_error("-p cannot be combined with -G");
  if (!s.acks_path.empty()) {
    if (s.group.empty()) return tool.usage_error("--acks needs a consumer group (-G): offsets are committed to it");
    if (s.start_given || s.max_records)
      return tool.usage_error("--acks resumes where the group's checkpoints say: -o and -c do not apply");
    s.meta = true;  // the stateful stages need each record's partition and offset
  }
  return tool.finish(kcatin::consume(tool, s));
}
