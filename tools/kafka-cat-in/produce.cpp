// Produce mode: each good NDJSON line becomes one message, its bytes unchanged.
#include <atomic>
#include <cstdlib>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <malloc.h>
#include <pthread.h>

#include <fmt/format.h>

#include "citypipe/core/record_fields.h"
#include "citypipe/core/signals.h"
#include "kafka_conf.h"

namespace kcatin {

namespace {

struct Delivery {
  citypipe::Tool* tool = nullptr;
  bool verbose = false;
  std::uint64_t delivered = 0;
  std::uint64_t failed = 0;
  std::string first_error;
  std::atomic<bool> fatal{false};  // set on the sender thread, read by the reader
  std::atomic<bool> abandoned{false};  // a second signal: purged messages are not failures to report
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* d = static_cast<Delivery*>(opaque);
  if (!m->err) {
    ++d->delivered;
    return;
  }
  if (d->abandoned) return;  // counted as undelivered at the end
  if (d->failed == 0) d->first_error = rd_kafka_err2str(m->err);
  if (++d->failed <= 5)
    d->tool->warn(fmt::format("delivery failed for the record of input line {}: {}",
                              reinterpret_cast<std::uintptr_t>(m->_private), rd_kafka_err2str(m->err)));
}

// Good lines wait here, copied, until the reader is about to wait for input
// (so a trickle goes out at once) or the batch is full, then go to librdkafka
// in one rd_kafka_produce_batch call: one lock and one clock read per batch
// instead of several per message; without keys, all to one partition.
class Batch {
 public:
  static constexpr std::size_t max_messages = 1024;
  static constexpr std::size_t max_bytes = 1 << 20;

  void add(std::string_view value, const void* key, std::size_t key_len, std::uint64_t line) {
    const std::size_t at = bytes_.size();
    bytes_.append(value);
    if (key) bytes_.append(static_cast<const char*>(key), key_len);
    items_.push_back({at, value.size(), key ? key_len : no_key, line});
  }
  bool full() const { return items_.size() >= max_messages || bytes_.size() >= max_bytes; }
  bool empty() const { return items_.empty(); }

  // Hands every message to librdkafka, waiting while its queue is full.
  // Messages it refuses for any other reason are counted in d and warned of.
  void send(rd_kafka_t* rk, rd_kafka_topic_t* topic, std::int32_t partition, Delivery& d) {
    msgs_.resize(items_.size());
    for (std::size_t i = 0; i < items_.size(); ++i) {
      const Item& it = items_[i];
      rd_kafka_message_t& m = msgs_[i];
      m = rd_kafka_message_t{};
      m.payload = bytes_.data() + it.at;
      m.len = it.len;
      if (it.key_len != no_key) {
        m.key = bytes_.data() + it.at + it.len;
        m.key_len = it.key_len;
      }
      m._private = reinterpret_cast<void*>(static_cast<std::uintptr_t>(it.line));
    }
    std::size_t from = 0;
    while (from < msgs_.size() && !d.fatal) {
      rd_kafka_produce_batch(topic, partition, RD_KAFKA_MSG_F_COPY, msgs_.data() + from,
                             static_cast<int>(msgs_.size() - from));
      // A full queue refuses that message and all after it; anything else
      // refuses only the one message.
      std::size_t retry = msgs_.size();
      for (std::size_t i = from; i < msgs_.size(); ++i) {
        const rd_kafka_resp_err_t err = msgs_[i].err;
        if (!err) continue;
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          retry = i;
          break;
        }
        if (d.failed == 0) d.first_error = rd_kafka_err2str(err);
        if (++d.failed <= 5)
          d.tool->warn(fmt::format("cannot send the record of input line {}: {}", items_[i].line,
                                   rd_kafka_err2str(err)));
      }
      from = retry;
      if (from < msgs_.size()) {
        if (citypipe::abandon_requested()) break;  // the queue is full and the user gave up
        rd_kafka_poll(rk, 10);  // let deliveries drain the queue
      }
    }
    count_lost(msgs_.size() - from, d);
    clear();
  }

  // After a fatal error: nothing more can be sent.
  void drop(Delivery& d) {
    count_lost(items_.size(), d);
    clear();
  }

 private:
  static constexpr std::size_t no_key = SIZE_MAX;

  static void count_lost(std::size_t n, Delivery& d) {
    if (n == 0 || (!d.fatal && citypipe::abandon_requested())) return;  // abandoned: counted at the end
    if (d.failed == 0) d.first_error = "fatal producer error";
    d.failed += n;
  }
  void clear() {
    items_.clear();
    bytes_.clear();
  }

  struct Item {
    std::size_t at, len, key_len;
    std::uint64_t line;
  };
  std::string bytes_;  // each value then its key, back to back
  std::vector<Item> items_;
  std::vector<rd_kafka_message_t> msgs_;
};

// Where a batch of records without keys goes: one partition per batch, the
// topic's partitions in turn (from a random one). librdkafka's partitioner
// would run per message (two clock reads, partition look-ups and locks) and
// its sticky choice keeps a flood on one partition, one broker, for
// 2 x linger.ms; a whole batch to one partition makes one produce request of
// it and keeps every broker busy. The partitions come from the topic's
// metadata, asked again every minute (a second after a failure); while
// unknown, librdkafka's partitioner chooses.
class Spread {
 public:
  Spread(rd_kafka_t* rk, rd_kafka_topic_t* topic) : rk_(rk), topic_(topic), next_(std::random_device{}()) {}

  std::int32_t next() {
    const auto now = std::chrono::steady_clock::now();
    if (now >= refresh_at_) refresh(now);
    if (partitions_.empty()) return RD_KAFKA_PARTITION_UA;
    return partitions_[next_++ % partitions_.size()];
  }

 private:
  void refresh(std::chrono::steady_clock::time_point now) {
    const rd_kafka_metadata_t* md = nullptr;
    std::vector<std::int32_t> led;
    if (rd_kafka_metadata(rk_, 0, topic_, &md, 1000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      for (int t = 0; t < md->topic_cnt; ++t) {
        const rd_kafka_metadata_topic_t& mt = md->topics[t];
        if (mt.err) continue;
        for (int i = 0; i < mt.partition_cnt; ++i)
          if (mt.partitions[i].leader >= 0) led.push_back(mt.partitions[i].id);
      }
    }
    if (md) rd_kafka_metadata_destroy(md);
    // Only partitions with a leader: the others would hold their records
    // until one is elected.
    if (!led.empty()) partitions_ = std::move(led);
    refresh_at_ = now + (partitions_.empty() ? std::chrono::seconds(1) : std::chrono::seconds(60));
  }

  rd_kafka_t* rk_;
  rd_kafka_topic_t* topic_;
  std::vector<std::int32_t> partitions_;
  std::size_t next_;
  std::chrono::steady_clock::time_point refresh_at_{};
};

// A thread of its own hands the reader's batches to librdkafka and serves the
// delivery reports (librdkafka's copy and enqueue, and the frees, are as much
// work as reading and validating), so the two halves run side by side. Only
// this thread polls until finish(), so the callbacks never race.
class Sender {
 public:
  // spread: records have no keys and no -p, see Spread.
  Sender(rd_kafka_t* rk, rd_kafka_topic_t* topic, std::int32_t partition, bool spread, Delivery& d)
      : rk_(rk), topic_(topic), partition_(partition), d_(d) {
    if (spread) spread_.emplace(rk, topic);
    thread_ = citypipe::start_thread_without_signals([this] { run(); });
  }
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;
  ~Sender() { finish(); }

  // Queues the batch and gives back an empty one; waits while the sender is
  // max_queued batches behind, so memory stays bounded.
  void submit(Batch& batch) {
    std::unique_lock lock(mu_);
    space_.wait(lock, [this] { return queued_.size() < max_queued; });
    queued_.push_back(std::move(batch));
    if (!spare_.empty()) {
      batch = std::move(spare_.back());
      spare_.pop_back();
    } else {
      batch = Batch();
    }
    work_.notify_one();
  }

  // Sends what is queued and stops the thread.
  void finish() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    work_.notify_one();
    thread_.join();
  }

 private:
  static constexpr std::size_t max_queued = 4;

  void run() {
    pthread_setname_np(pthread_self(), "kafka-send");  // for top and perf
    std::unique_lock lock(mu_);
    for (;;) {
      if (queued_.empty()) {
        if (done_) return;
        // Serve delivery reports now and then while the input is quiet.
        if (!work_.wait_for(lock, std::chrono::milliseconds(20), [this] { return done_ || !queued_.empty(); })) {
          lock.unlock();
          rd_kafka_poll(rk_, 0);
          lock.lock();
        }
        continue;
      }
      Batch batch = std::move(queued_.front());
      queued_.pop_front();
      space_.notify_one();
      lock.unlock();
      if (d_.fatal) batch.drop(d_);
      else batch.send(rk_, topic_, spread_ ? spread_->next() : partition_, d_);
      rd_kafka_poll(rk_, 0);
      lock.lock();
      spare_.push_back(std::move(batch));
    }
  }

  rd_kafka_t* rk_;
  rd_kafka_topic_t* topic_;
  std::int32_t partition_;
  std::optional<Spread> spread_;
  Delivery& d_;
  std::mutex mu_;
  std::condition_variable work_, space_;
  std::deque<Batch> queued_;
  std::vector<Batch> spare_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace

citypipe::Status produce(citypipe::Tool& tool, const Settings& s) {
  // The input files first: a missing one is a usage mistake to report at once.
  citypipe::RecordInput in(tool);
  if (!in.status().is_ok()) return in.status();
  // Every message is a malloc on the sender thread and a free after its
  // delivery report, every request a buffer of a few hundred KiB on a broker
  // thread. With glibc's defaults the threads' heaps are trimmed (madvise)
  // as they empty and refilled at once, a page fault for every page: half the
  // page faults of 1M records, a tenth of the CPU. A fixed trim threshold
  // turns off the adaptive mmap threshold, so that is set too (buffers stay
  // in the heaps). The queue (queue.buffering.max.*) bounds the memory anyway.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
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
  char timeout_text[32] = "60000";
  std::size_t timeout_len = sizeof timeout_text;
  rd_kafka_conf_get(conf, "message.timeout.ms", timeout_text, &timeout_len);
  const long timeout_s = (std::strtol(timeout_text, nullptr, 10) + 999) / 1000;
  rd_kafka_conf_set_opaque(conf, &d);
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  citypipe::report_kafka_events(conf, tool, s.verbose, &d.fatal);
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return citypipe::Status::error(citypipe::errc::invalid_argument, std::string("cannot create producer: ") + errstr);
  }
  rd_kafka_topic_t* topic = rd_kafka_topic_new(rk, s.topic.c_str(), nullptr);

  Batch batch;
  Sender sender(rk, topic, s.partition, s.partition == RD_KAFKA_PARTITION_UA && s.key_field.empty(), d);
  // Before the reader waits for input, pass on what it has read, so a live
  // trickle is sent as it comes.
  in.on_idle([&] {
    if (!batch.empty()) sender.submit(batch);
  });
  if (!s.key_field.empty()) tool.watch_fields("-k", {s.key_field});
  citypipe::JsonRecord rec;
  std::string key;
  while (!d.fatal && in.next(rec)) {
    const void* key_data = nullptr;
    std::size_t key_len = 0;
    if (!s.key_field.empty()) {
      const citypipe::JsonField* f = rec.find(s.key_field);
      const auto text = f != nullptr ? citypipe::key_text(*f, key) : std::nullopt;
      if (!text) {
        if (!in.reject(fmt::format("no key field \"{}\"", s.key_field))) break;
        continue;
      }
      key_data = text->data();
      key_len = text->size();
    }
    batch.add(rec.raw(), key_data, key_len, in.where().number);
    if (batch.full()) sender.submit(batch);
  }
  // Records already read go out on a signal too.
  if (!batch.empty()) sender.submit(batch);
  sender.finish();

  // At end of input or on a signal alike: wait for every delivery report.
  // Undeliverable messages fail after message.timeout.ms, so this ends; after
  // a signal the user hears what is pending, and a second signal (or
  // SIGTERM) gives up at once.
  bool told = false;
  while (rd_kafka_outq_len(rk) > 0 && !citypipe::abandon_requested()) {
    if (citypipe::stop_requested() && !told) {
      told = true;
      tool.warn(fmt::format("waiting up to {} s for {} deliveries; Ctrl-C again to abandon", timeout_s,
                            rd_kafka_outq_len(rk)));
    }
    rd_kafka_flush(rk, 100);
  }
  // Deliveries already on their way get a second; the rest are purged.
  if (citypipe::abandon_requested() && rd_kafka_outq_len(rk) > 0) rd_kafka_flush(rk, 1000);
  if (citypipe::abandon_requested() && rd_kafka_outq_len(rk) > 0) {
    d.abandoned = true;
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT | RD_KAFKA_PURGE_F_NON_BLOCKING);
  }
  rd_kafka_poll(rk, 0);
  rd_kafka_topic_destroy(topic);
  rd_kafka_destroy(rk);

  tool.stats().out = d.delivered;
  tool.stats().set_extra("failed", d.failed);
  const std::uint64_t undelivered = tool.stats().in - d.delivered;
  if (!in.status().is_ok()) return in.status();
  if (d.abandoned || (citypipe::abandon_requested() && undelivered > 0))
    return citypipe::Status::error(citypipe::errc::interrupted,
                                   fmt::format("abandoned: {} of {} records not delivered to {}", undelivered,
                                               tool.stats().in, s.topic));
  if (d.failed > 0 || d.fatal)
    return citypipe::Status::error(
        citypipe::errc::unavailable,
        fmt::format("{} of {} records not delivered to {} ({})", undelivered, tool.stats().in, s.topic,
                    d.fatal ? "fatal producer error" : d.first_error));
  return citypipe::Status::ok();
}

}  // namespace kcatin
