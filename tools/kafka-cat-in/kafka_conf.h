// What kafka-cat-in's modes share: the settings from the command line and the
// librdkafka configuration built from them.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "citypipe/kafka/offsets.h"
#include "citypipe/kafka/report.h"  // report_kafka_events, for both modes
#include "citypipe/core/status.h"
#include "citypipe/core/tool.h"

namespace kcatin {

struct Settings {
  std::string brokers;
  std::string topic;
  std::vector<std::pair<std::string, std::string>> properties;  // -F then -X, in order
  // produce
  std::string key_field;
  std::int32_t partition = -1;  // RD_KAFKA_PARTITION_UA
  // consume
  std::string group;
  citypipe::StartOffset start;
  bool start_given = false;
  bool exit_at_end = false;
  std::uint64_t max_records = 0;  // 0: no limit
  bool meta = false;
  std::string acks_path;                       // --acks: checkpoints, commits on acknowledgement
  citypipe::time_ms checkpoint_every = 1000;
  bool verbose = false;
};

// A configuration with our defaults, then the user's -F/-X properties on top.
// Fails with errc::invalid_argument naming the property librdkafka refused.
citypipe::Status make_conf(const Settings& s, const std::vector<std::pair<std::string, std::string>>& defaults,
                           rd_kafka_conf_t*& conf);

citypipe::Status produce(citypipe::Tool& tool, const Settings& s);
citypipe::Status consume(citypipe::Tool& tool, const Settings& s);

}  // namespace kcatin
