#include "citypipe/kafka/report.h"

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "citypipe/core/signals.h"

namespace citypipe {

namespace {

struct Reporter {
  Tool* tool = nullptr;
  bool verbose = false;
  std::atomic<bool>* fatal = nullptr;
  std::mutex mu;  // librdkafka calls from its own threads
  std::map<std::string, std::chrono::steady_clock::time_point> said;  // message -> when
  unsigned broker_errors = 0;
};

Reporter g_reporter;

// True when message was not said in the last 30 s (librdkafka repeats a
// broker's failure at every reconnection attempt).
bool fresh(const std::string& message) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(g_reporter.mu);
  auto [it, inserted] = g_reporter.said.try_emplace(message, now);
  if (!inserted && now - it->second < std::chrono::seconds(30)) return false;
  it->second = now;
  return true;
}

// "host:port/id: Connect to ipv4#127.0.0.1:9092 failed: Connection refused
// (after 0ms in state CONNECT)" -> "host:port/id: Connect to ... failed:
// Connection refused": the part that names the broker and the reason, the
// same at every attempt.
std::string stable_part(const char* reason) {
  std::string r(reason);
  if (auto p = r.find(" (after "); p != std::string::npos) r.erase(p);
  if (auto p = r.find(", 1 identical"); p != std::string::npos) r.erase(p);
  if (auto p = r.find(": 1 request(s) timed out"); p != std::string::npos) r.erase(p + 1);
  return r;
}

// A broker that cannot be reached: said once per broker and reason every 30 s.
void broker_failed(const char* reason) {
  const std::string what = stable_part(reason);
  if (!fresh(what)) return;
  {
    std::lock_guard lock(g_reporter.mu);
    ++g_reporter.broker_errors;
  }
  g_reporter.tool->warn("kafka: broker " + what);
}

void on_error(rd_kafka_t* rk, int err, const char* reason, void*) {
  Reporter& r = g_reporter;
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char why[512];
    rd_kafka_fatal_error(rk, why, sizeof why);
    r.tool->warn(std::string("fatal Kafka error: ") + why);
    if (r.fatal) r.fatal->store(true);
    request_stop();
    return;
  }
  if (r.verbose) {
    r.tool->warn(std::string("kafka: ") + reason);
    return;
  }
  switch (err) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR__SSL: broker_failed(reason); break;
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
      if (fresh(reason)) r.tool->warn(std::string("kafka: ") + reason);
      break;
    default: break;
  }
}

// The log callback runs on librdkafka's own threads, so a broker failure is
// heard even while the tool is not polling (error_cb waits for a poll).
void on_log(const rd_kafka_t*, int level, const char* fac, const char* line) {
  if (g_reporter.verbose) {
    if (level <= 6) g_reporter.tool->warn(std::string("kafka: ") + line);
    return;
  }
  if (level > 4 || std::string_view(fac) != "FAIL") return;
  std::string_view text(line);
  if (text.substr(0, 6) == "[thrd:") {
    const auto end = text.find("]: ");
    if (end != std::string_view::npos) text.remove_prefix(end + 3);
  }
  broker_failed(std::string(text).c_str());
}

}  // namespace

void report_kafka_events(rd_kafka_conf_t* conf, Tool& tool, bool verbose, std::atomic<bool>* fatal) {
  g_reporter.tool = &tool;
  g_reporter.verbose = verbose;
  g_reporter.fatal = fatal;
  rd_kafka_conf_set_error_cb(conf, on_error);
  rd_kafka_conf_set_log_cb(conf, on_log);
}

unsigned kafka_broker_errors() {
  std::lock_guard lock(g_reporter.mu);
  return g_reporter.broker_errors;
}

}  // namespace citypipe
