// kafka-mock: librdkafka's built-in mock Kafka cluster on loopback, for trying
// citypipe and for tests. Prints the bootstrap list, then serves until
// SIGINT/SIGTERM or end of standard input, injecting the faults asked for.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <unistd.h>

#include "citypipe/core/event_time.h"
#include "citypipe/core/file_write.h"
#include "citypipe/core/option_checks.h"
#include "citypipe/core/signals.h"
#include "citypipe/core/tool.h"

namespace {

constexpr std::int16_t api_produce = 0;
constexpr std::int16_t api_fetch = 1;

struct Event {
  citypipe::time_ms at = 0;
  std::string what;
  std::function<void()> action;
};

// "ID,AFTER,FOR" as given to --broker-down.
bool parse_down(const std::string& spec, std::int32_t& broker, citypipe::time_ms& after,
                citypipe::time_ms& length) {
  const auto c1 = spec.find(',');
  const auto c2 = c1 == std::string::npos ? c1 : spec.find(',', c1 + 1);
  if (c2 == std::string::npos) return false;
  try {
    std::size_t used = 0;
    broker = std::stoi(spec.substr(0, c1), &used);
    if (used != c1) return false;
  } catch (...) {
    return false;
  }
  auto a = citypipe::parse_duration(spec.substr(c1 + 1, c2 - c1 - 1));
  auto l = citypipe::parse_duration(spec.substr(c2 + 1));
  if (!a || !l) return false;
  after = *a;
  length = *l;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  citypipe::Tool tool("kafka-mock", "A mock Kafka cluster on loopback, for trying and testing", false);
  tool.add_version_line(std::string("librdkafka ") + rd_kafka_version_str());
  auto& app = tool.app();
  int brokers = 3;
  int partitions = 4;
  std::vector<std::string> topics;
  std::vector<std::string> downs;
  int produce_errors = 0;
  int fetch_errors = 0;
  int error_code = 0;
  std::string errors_after = "0s";
  bool no_stdin = false;
  std::string ready_file;
  bool verbose = false;
  app.add_option("--brokers", brokers, "Number of brokers (default 3)")->type_name("N")
      ->check(citypipe::integer_in(1, 64));
  app.add_option("--partitions", partitions,
                 "Partitions of each --topic (default 4; auto-created topics get 4)")
      ->type_name("N")->check(citypipe::integer_in(1, 10000));
  app.add_option("--topic", topics, "Create topic T at start (repeatable)")->type_name("T");
  app.add_option("--broker-down", downs,
                 "Take broker ID (-1: all) down AFTER a delay, FOR a while, e.g. 1,2s,3s (repeatable)")
      ->type_name("ID,AFTER,FOR");
  app.add_option("--produce-errors", produce_errors, "Fail the next N produce requests")
      ->type_name("N")->check(citypipe::integer_in(0, 1000000));
  app.add_option("--fetch-errors", fetch_errors, "Fail the next N fetch requests")
      ->type_name("N")->check(citypipe::integer_in(0, 1000000));
  app.add_option("--error-code", error_code,
                 "Kafka error code of injected errors (default: NOT_ENOUGH_REPLICAS for produce, "
                 "NOT_LEADER_FOR_PARTITION for fetch)")
      ->type_name("CODE");
  app.add_option("--errors-after", errors_after, "Inject the request errors after this delay (default 0s)")
      ->type_name("DURATION")->check(citypipe::duration_check());
  app.add_option("--ready-file", ready_file,
                 "Once the cluster serves, write the bootstrap list to FILE (atomically: it is whole "
                 "when it appears); removed at exit")
      ->type_name("FILE");
  app.add_flag("--no-stdin", no_stdin, "Serve until a signal only, ignoring standard input");
  app.add_flag("-v,--verbose", verbose, "Report faults as they are injected and removed");
  if (auto rc = tool.parse(argc, argv)) return *rc;

  const citypipe::time_ms start = citypipe::wall_clock_ms();
  std::vector<Event> events;
  const auto errors_delay = citypipe::parse_duration(errors_after);  // checked by duration_check

  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", verbose ? "6" : "3", errstr, sizeof errstr);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    return tool.finish(citypipe::Status::error(citypipe::errc::unavailable,
                                               std::string("cannot create the librdkafka handle: ") + errstr));
  }
  rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (!mc) {
    rd_kafka_destroy(rk);
    return tool.finish(citypipe::Status::error(citypipe::errc::unavailable, "cannot start the mock cluster"));
  }
  for (const auto& t : topics) {
    if (auto err = rd_kafka_mock_topic_create(mc, t.c_str(), partitions, std::min(brokers, 3))) {
      rd_kafka_mock_cluster_destroy(mc);
      rd_kafka_destroy(rk);
      return tool.finish(citypipe::Status::error(
          citypipe::errc::unavailable, fmt::format("cannot create topic {}: {}", t, rd_kafka_err2str(err))));
    }
  }

  for (const auto& d : downs) {
    std::int32_t id = 0;
    citypipe::time_ms after = 0, length = 0;
    if (!parse_down(d, id, after, length)) {
      rd_kafka_mock_cluster_destroy(mc);
      rd_kafka_destroy(rk);
      return tool.finish(citypipe::Status::error(citypipe::errc::invalid_argument,
                                                 "--broker-down: expected ID,AFTER,FOR as in 1,2s,3s, got " + d));
    }
    events.push_back({start + after, fmt::format("broker {} down", id),
                      [mc, id] { rd_kafka_mock_broker_set_down(mc, id); }});
    events.push_back({start + after + length, fmt::format("broker {} up", id),
                      [mc, id] { rd_kafka_mock_broker_set_up(mc, id); }});
  }
  auto push_errors = [mc](std::int16_t api, int count, int code) {
    std::vector<rd_kafka_resp_err_t> errs(static_cast<std::size_t>(count),
                                          static_cast<rd_kafka_resp_err_t>(code));
    rd_kafka_mock_push_request_errors_array(mc, api, errs.size(), errs.data());
  };
  if (produce_errors > 0) {
    const int code = error_code ? error_code : RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS;
    events.push_back({start + *errors_delay, fmt::format("{} produce errors ({})", produce_errors, code),
                      [=] { push_errors(api_produce, produce_errors, code); }});
  }
  if (fetch_errors > 0) {
    const int code = error_code ? error_code : RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION;
    events.push_back({start + *errors_delay, fmt::format("{} fetch errors ({})", fetch_errors, code),
                      [=] { push_errors(api_fetch, fetch_errors, code); }});
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& a, const Event& b) { return a.at < b.at; });

  const std::string bootstraps = std::string(rd_kafka_mock_cluster_bootstraps(mc)) + "\n";
  tool.out().buffer() += bootstraps;
  tool.out().flush();
  citypipe::Status status;
  if (!ready_file.empty()) status = citypipe::write_file_atomically(ready_file, bootstraps);

  std::size_t next_event = 0;
  bool stdin_open = !no_stdin;
  while (status.is_ok() && !citypipe::stop_requested()) {
    const citypipe::time_ms now = citypipe::wall_clock_ms();
    while (next_event < events.size() && events[next_event].at <= now) {
      events[next_event].action();
      if (verbose) tool.warn(events[next_event].what);
      ++next_event;
    }
    citypipe::time_ms wait = 200;
    if (next_event < events.size()) wait = std::clamp<citypipe::time_ms>(events[next_event].at - now, 0, 200);
    pollfd p{0, POLLIN, 0};
    const int n = ::poll(&p, stdin_open ? 1 : 0, static_cast<int>(wait));
    if (n > 0 && stdin_open) {
      char buf[4096];
      const ssize_t got = ::read(0, buf, sizeof buf);
      if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) break;  // end of input
    }
  }

  // A stale file would announce a cluster that is gone.
  if (!ready_file.empty() && status.is_ok()) std::remove(ready_file.c_str());
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return tool.finish(status);
}
