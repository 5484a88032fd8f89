// Produce mode: each good NDJSON line becomes one message, its bytes unchanged.
#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "citypipe/json_write.h"
#include "citypipe/signals.h"
#include "kafka_conf.h"

namespace kcatin {

namespace {

struct Delivery {
  citypipe::Tool* tool = nullptr;
  bool verbose = false;
  std::uint64_t delivered = 0;
  std::uint64_t failed = 0;
  std::string first_error;
  bool fatal = false;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* d = static_cast<Delivery*>(opaque);
  if (!m->err) {
    ++d->delivered;
    return;
  }
  if (d->failed == 0) d->first_error = rd_kafka_err2str(m->err);
  if (++d->failed <= 5)
    d->tool->warn(fmt::format("delivery failed for the record of input line {}: {}",
                              reinterpret_cast<std::uintptr_t>(m->_private), rd_kafka_err2str(m->err)));
}

void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* d = static_cast<Delivery*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char why[512];
    rd_kafka_fatal_error(rk, why, sizeof why);
    d->fatal = true;
    d->tool->warn(std::string("fatal producer error: ") + why);
  } else if (d->verbose || err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    d->tool->warn(std::string("kafka: ") + reason);
  }
}

void on_log(const rd_kafka_t* rk, int level, const char*, const char* line) {
  auto* d = static_cast<Delivery*>(rd_kafka_opaque(rk));
  if (d && d->verbose && level <= 6) d->tool->warn(std::string("kafka: ") + line);
}

// The key as text: a string's characters, a number or boolean as written.
bool key_text(const citypipe::JsonField& f, std::string& out) {
  out.clear();
  switch (f.type) {
    case citypipe::json_type::string:
    case citypipe::json_type::array:
    case citypipe::json_type::object: out.assign(f.text); return true;
    case citypipe::json_type::number:
      if (f.integral) citypipe::append_json_integer(out, f.integer);
      else citypipe::append_json_number(out, f.number);
      return true;
    case citypipe::json_type::boolean: out = f.boolean ? "true" : "false"; return true;
    case citypipe::json_type::null: return false;
  }
  return false;
}

}  // namespace

citypipe::Status produce(citypipe::Tool& tool, const Settings& s) {
  Delivery d;
  d.tool = &tool;
  d.verbose = s.verbose;
  rd_kafka_conf_t* conf = nullptr;
  // Idempotence gives acks=all and retries without duplicates or reordering;
  // a short linger sends a slow trickle at once and still batches a flood.
  auto st = make_conf(s, {{"enable.idempotence", "true"},
                          {"linger.ms", "1"},
                          {"message.timeout.ms", "60000"}},
                      conf);
  if (!st.is_ok()) return st;
  rd_kafka_conf_set_opaque(conf, &d);
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_error_cb(conf, on_error);
  rd_kafka_conf_set_log_cb(conf, on_log);
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return citypipe::Status::error(citypipe::exit_usage, std::string("cannot create producer: ") + errstr);
  }
  rd_kafka_topic_t* topic = rd_kafka_topic_new(rk, s.topic.c_str(), nullptr);

  citypipe::RecordInput in(tool);
  // Serve delivery reports while waiting for input too, so a live trickle is
  // acknowledged as it goes.
  in.on_idle([rk] { rd_kafka_poll(rk, 0); });
  citypipe::JsonRecord rec;
  std::string key;
  std::uint64_t since_poll = 0;
  while (!d.fatal && in.next(rec)) {
    const void* key_data = nullptr;
    std::size_t key_len = 0;
    if (!s.key_field.empty()) {
      const citypipe::JsonField* f = rec.find(s.key_field);
      if (!f || !key_text(*f, key)) {
        if (!in.reject(fmt::format("no key field \"{}\"", s.key_field))) break;
        continue;
      }
      key_data = key.data();
      key_len = key.size();
    }
    const std::string_view value = rec.raw();
    void* line_no = reinterpret_cast<void*>(static_cast<std::uintptr_t>(in.where().number));
    for (;;) {
      if (rd_kafka_produce(topic, s.partition, RD_KAFKA_MSG_F_COPY, const_cast<char*>(value.data()),
                           value.size(), key_data, key_len, line_no) == 0)
        break;
      const rd_kafka_resp_err_t err = rd_kafka_last_error();
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        if (d.failed == 0) d.first_error = rd_kafka_err2str(err);
        if (++d.failed <= 5)
          tool.warn(fmt::format("cannot send the record of input line {}: {}", in.where().number,
                                rd_kafka_err2str(err)));
        break;
      }
      rd_kafka_poll(rk, 50);  // the local queue is full: let deliveries drain it
    }
    if (++since_poll == 1000) {
      since_poll = 0;
      rd_kafka_poll(rk, 0);
    }
  }

  // At end of input or on a signal alike: wait for every delivery report.
  // Undeliverable messages fail after message.timeout.ms, so this ends.
  while (rd_kafka_outq_len(rk) > 0) rd_kafka_flush(rk, 500);
  rd_kafka_poll(rk, 0);
  rd_kafka_topic_destroy(topic);
  rd_kafka_destroy(rk);

  tool.stats().out = d.delivered;
  tool.stats().set_extra("failed", d.failed);
  if (!in.status().is_ok()) return in.status();
  if (d.failed > 0 || d.fatal)
    return citypipe::Status::error(
        citypipe::exit_unavailable,
        fmt::format("{} of {} records not delivered to {} ({})", tool.stats().in - d.delivered,
                    tool.stats().in, s.topic, d.fatal ? "fatal producer error" : d.first_error));
  return citypipe::Status::ok();
}

}  // namespace kcatin
