// Consume mode: messages to standard output, one per line. At least once: a
// record's offset is stored for commit only once the record was flushed.
// With --acks, exactly once for the whole worker: offsets are committed only
// when the sink acknowledges a checkpoint (citypipe(7), CHECKPOINTS).
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "citypipe/core/control.h"
#include "citypipe/core/json_write.h"
#include "citypipe/core/signals.h"
#include "citypipe/kafka/checkpoints.h"
#include "kafka_conf.h"

namespace kcatin {

namespace {

constexpr int metadata_budget_ms = 30000;
constexpr citypipe::time_ms commit_budget_ms = 30000;
constexpr citypipe::time_ms idle_member_ms = 10000;
// librdkafka's own commit and close wait without a bound (a commit for a
// coordinator that never answers, a close stuck leaving the group): ours wait
// this long at most, and a second signal stops the wait at once.
constexpr citypipe::time_ms one_commit_ms = 5000;
constexpr citypipe::time_ms close_budget_ms = 10000;

// The answer to one commit, written by on_commit_result when it arrives.
struct CommitWait {
  bool done = false;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
};
void on_commit_result(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t*, void* opaque) {
  auto* w = static_cast<CommitWait*>(opaque);
  w->done = true;
  w->err = err;
}
bool give_up_waiting() { return citypipe::signal_count() > 1; }

struct Consumer {
  Consumer(citypipe::Tool& t, const Settings& settings) : tool(t), s(settings) {}
  citypipe::Tool& tool;
  const Settings& s;
  rd_kafka_t* rk = nullptr;
  bool group = false;
  citypipe::OffsetTracker tracker;
  // Per partition: 0 not assigned, 1 assigned, 2 assigned and at its end.
  std::vector<std::uint8_t> state;
  std::size_t assigned = 0, at_end = 0;
  bool had_assignment = false;
  // Offsets flushed but refused by a rebalancing group: committed first thing
  // in the next generation, before anyone reads those partitions again.
  rd_kafka_topic_partition_list_t* owed = nullptr;
  std::map<std::int32_t, std::int64_t> stored;  // partition -> last offset stored
  // --acks: the checkpoints written and the acknowledgements read back.
  bool checkpointed = false;
  citypipe::CheckpointLedger ledger;
  std::map<citypipe::TopicPartition, citypipe::CheckpointLedger::Commit> owed_commits;
  int acks_fd = -1;
  bool acks_closed = false;
  std::string acks_buf;
  citypipe::time_ms last_checkpoint = 0;
  // Whether the last commit of the stored offsets went through (or there was
  // nothing to commit), and why not. Once stopping, a commit that failed is
  // made good only by one that succeeds: "nothing to commit" then means the
  // offsets went with a lost assignment.
  bool stopping = false;
  bool committed = true;
  rd_kafka_resp_err_t commit_error = RD_KAFKA_RESP_ERR_NO_ERROR;

  citypipe::TopicPartition tp(std::int32_t p) const { return {s.topic, p}; }

  std::uint8_t& of(std::int32_t p) {
    const auto i = static_cast<std::size_t>(p);
    if (i >= state.size()) state.resize(i + 1, 0);
    return state[i];
  }
  void assign(std::int32_t p) {
    auto& st = of(p);
    if (st == 0) ++assigned;
    if (st == 2) --at_end;
    st = 1;
    had_assignment = true;
  }
  void revoke(std::int32_t p) {
    auto& st = of(p);
    if (st != 0) --assigned;
    if (st == 2) --at_end;
    st = 0;
    tracker.forget(p);
  }
  void reached_end(std::int32_t p) {
    auto& st = of(p);
    if (st == 1) {
      st = 2;
      ++at_end;
    }
  }
  void got_record(std::int32_t p) {
    auto& st = of(p);
    if (st == 2) {
      st = 1;
      --at_end;
    }
  }
  bool all_at_end() const { return had_assignment && assigned > 0 && at_end == assigned; }

  // Flushes the output; the offsets of what reached it become committable.
  void flush_and_store() {
    tool.out().flush();
    if (!tool.out().ok()) {
      tracker.clear();  // the reader is gone: these records were not delivered
      return;
    }
    store();
  }
  void store() {
    if (!group || !tracker.has_pending()) {
      tracker.clear();
      return;
    }
    auto done = tracker.flushed();
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(done.size()));
    for (const auto& [p, next] : done) {
      rd_kafka_topic_partition_list_add(list, s.topic.c_str(), p)->offset = next;
      stored[p] = next;
    }
    if (auto err = rd_kafka_offsets_store(rk, list); err && s.verbose)
      tool.warn(fmt::format("cannot store offsets: {}", rd_kafka_err2str(err)));
    rd_kafka_topic_partition_list_destroy(list);
  }
  // Commits OFFSETS (null: the stored ones) and waits for the answer, at
  // most BUDGET ms: RD_KAFKA_RESP_ERR__TIMED_OUT if none came.
  rd_kafka_resp_err_t commit_within(const rd_kafka_topic_partition_list_t* offsets, citypipe::time_ms budget) {
    // The answer is served on our own queue only: once it is destroyed, a
    // late one is dropped unserved, and w is not touched again.
    CommitWait w;
    rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
    const auto sent = rd_kafka_commit_queue(rk, offsets, q, on_commit_result, &w);
    const auto deadline = citypipe::wall_clock_ms() + budget;
    for (citypipe::time_ms now; !sent && !w.done && (now = citypipe::wall_clock_ms()) < deadline;) {
      if (give_up_waiting()) break;
      rd_kafka_queue_poll_callback(q, static_cast<int>(std::min<citypipe::time_ms>(100, deadline - now)));
    }
    rd_kafka_queue_destroy(q);
    return sent ? sent : w.err;
  }
  void note_commit(rd_kafka_resp_err_t err) {
    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET && stopping && !committed) return;
    committed = !err || err == RD_KAFKA_RESP_ERR__NO_OFFSET;
    commit_error = committed ? RD_KAFKA_RESP_ERR_NO_ERROR : err;
  }
  // A commit of the stored offsets, waited for BUDGET ms at most; true when
  // done or when there was nothing to commit.
  bool commit(bool quiet = false, citypipe::time_ms budget = one_commit_ms) {
    if (!group) return true;
    const auto err = commit_within(nullptr, budget);
    note_commit(err);
    if (committed) return true;
    if ((!quiet || s.verbose) && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
      tool.warn(fmt::format("cannot commit offsets of group {}: {}", s.group, rd_kafka_err2str(err)));
    return false;
  }
};

std::string list_partitions(const rd_kafka_topic_partition_list_t* parts) {
  std::string out;
  for (int i = 0; i < parts->cnt; ++i) out += fmt::format("{}{}", i ? "," : "", parts->elems[i].partition);
  return out;
}

// The rebalance itself, once our side of it is done: the partitions taken
// or given back, incrementally under the cooperative protocol.
void take(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* parts, bool cooperative) {
  if (!cooperative) {
    rd_kafka_assign(rk, parts);
  } else if (auto* e = rd_kafka_incremental_assign(rk, parts)) {
    rd_kafka_error_destroy(e);
  }
}
void give_back(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* parts, bool cooperative) {
  if (!cooperative) {
    rd_kafka_assign(rk, nullptr);
  } else if (auto* e = rd_kafka_incremental_unassign(rk, parts)) {
    rd_kafka_error_destroy(e);
  }
}

void write_control(Consumer& c, const citypipe::Control& ctl) {
  std::string& out = c.tool.out().buffer();
  out += citypipe::format_control(ctl);
  out += '\n';
}

// With --acks: a partition starts where its last acknowledged checkpoint
// said, and its state comes along (the commit's metadata) in an "assign"
// line; a revoked one gets a "revoke" line so that its state is dropped
// unwritten. Nothing is committed here: only acknowledgements commit.
void on_rebalance_checkpointed(Consumer& c, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                               bool cooperative) {
  rd_kafka_t* rk = c.rk;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (auto e = rd_kafka_committed(rk, parts, 10000))
      c.tool.warn(fmt::format("cannot read committed offsets ({}): reading {} [{}] from the reset position",
                              rd_kafka_err2str(e), c.s.topic, list_partitions(parts)));
    if (c.s.verbose) c.tool.warn(fmt::format("assigned {} [{}]", c.s.topic, list_partitions(parts)));
    for (int i = 0; i < parts->cnt; ++i) {
      rd_kafka_topic_partition_t& e = parts->elems[i];
      citypipe::Control ctl;
      ctl.kind = citypipe::control_kind::assign;
      ctl.tp = c.tp(e.partition);
      ctl.offset = e.offset >= 0 ? e.offset : -1;
      if (e.offset >= 0 && e.metadata != nullptr)
        ctl.state.assign(static_cast<const char*>(e.metadata), e.metadata_size);
      if (e.offset < 0) e.offset = RD_KAFKA_OFFSET_INVALID;  // the reset policy decides
      c.ledger.assigned(ctl.tp, e.offset >= 0 ? std::optional<std::int64_t>(e.offset) : std::nullopt);
      c.assign(e.partition);
      write_control(c, ctl);
    }
    c.tool.out().flush();
    take(rk, parts, cooperative);
    return;
  }
  if (c.s.verbose) c.tool.warn(fmt::format("revoked {} [{}]", c.s.topic, list_partitions(parts)));
  for (int i = 0; i < parts->cnt; ++i) {
    citypipe::Control ctl;
    ctl.kind = citypipe::control_kind::revoke;
    ctl.tp = c.tp(parts->elems[i].partition);
    c.ledger.revoked(ctl.tp);
    c.owed_commits.erase(ctl.tp);
    c.revoke(parts->elems[i].partition);
    write_control(c, ctl);
  }
  c.tool.out().flush();
  give_back(rk, parts, cooperative);
}

void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                  void* opaque) {
  auto* c = static_cast<Consumer*>(opaque);
  const bool cooperative = std::string_view(rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE";
  if (c->checkpointed) {
    on_rebalance_checkpointed(*c, err, parts, cooperative);
    return;
  }
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (c->owed) {
      const auto e = c->commit_within(c->owed, one_commit_ms);
      if (c->stopping && !e) c->note_commit(e);
      if (e && c->s.verbose) c->tool.warn(fmt::format("cannot commit earlier offsets: {}", rd_kafka_err2str(e)));
      rd_kafka_topic_partition_list_destroy(c->owed);
      c->owed = nullptr;
    }
    if (c->s.verbose) c->tool.warn(fmt::format("assigned {} [{}]", c->s.topic, list_partitions(parts)));
    for (int i = 0; i < parts->cnt; ++i) {
      c->assign(parts->elems[i].partition);
      // -o N / -N override the committed position, as in kcat.
      if (c->s.start.where == citypipe::StartOffset::kind::absolute)
        parts->elems[i].offset = c->s.start.value;
      else if (c->s.start.where == citypipe::StartOffset::kind::relative_end)
        parts->elems[i].offset = RD_KAFKA_OFFSET_TAIL(c->s.start.value);
    }
    take(rk, parts, cooperative);
    return;
  }
  // Revoked (or lost): what was written is flushed and committed first, so the
  // next owner starts right after it.
  if (c->s.verbose) c->tool.warn(fmt::format("revoked {} [{}]", c->s.topic, list_partitions(parts)));
  c->flush_and_store();
  // Leaving after a stop, the last commit already covered every record
  // written: another one here could only wait on a group being left (it
  // went unanswered for the 5 s waited, where rd_kafka_commit has no bound).
  const bool done = c->stopping && c->committed;
  if (!done && !rd_kafka_assignment_lost(rk) && !c->commit(true)) {
    // Keep what this consumer delivered but could not commit.
    for (int i = 0; i < parts->cnt; ++i) {
      const auto it = c->stored.find(parts->elems[i].partition);
      if (it == c->stored.end()) continue;
      if (!c->owed) c->owed = rd_kafka_topic_partition_list_new(parts->cnt);
      rd_kafka_topic_partition_list_add(c->owed, c->s.topic.c_str(), it->first)->offset = it->second;
    }
  }
  for (int i = 0; i < parts->cnt; ++i) c->stored.erase(parts->elems[i].partition);
  for (int i = 0; i < parts->cnt; ++i) c->revoke(parts->elems[i].partition);
  give_back(rk, parts, cooperative);
}

bool looks_like_object(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r' || v.back() == '\n'))
    v.remove_suffix(1);
  return v.size() >= 2 && v.front() == '{' && v.back() == '}';
}

void append_record(std::string& out, const rd_kafka_message_t* m, const std::string& topic, bool meta) {
  std::string_view value(static_cast<const char*>(m->payload), m->len);
  if (!meta) {
    out += value;
    out += '\n';
    return;
  }
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.remove_suffix(1);
  citypipe::ObjectWriter w(out, value);
  w.key("_kafka");
  citypipe::ObjectWriter k(out);
  k.key("topic").string(topic);
  k.key("partition").integer(m->partition);
  k.key("offset").integer(m->offset);
  k.key("key");
  if (m->key) k.string(std::string_view(static_cast<const char*>(m->key), m->key_len));
  else k.null();
  rd_kafka_timestamp_type_t tstype;
  const std::int64_t ts = rd_kafka_message_timestamp(m, &tstype);
  k.key("timestamp");
  if (ts >= 0) k.time(ts);
  else k.null();
  out += '}';
  w.finish();
}

// Without a group: every partition (or -p's) from the -o position.
citypipe::Status assign_all(Consumer& c) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(c.rk, c.s.topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  std::string last_error = "no answer";
  int partitions = -1;
  const auto deadline = citypipe::wall_clock_ms() + metadata_budget_ms;
  while (partitions < 0 && !citypipe::stop_requested() && citypipe::wall_clock_ms() < deadline) {
    const auto err = rd_kafka_metadata(c.rk, 0, rkt, &md, 2000);
    if (err) {
      last_error = rd_kafka_err2str(err);
      continue;
    }
    if (md->topic_cnt == 1 && !md->topics[0].err && md->topics[0].partition_cnt > 0)
      partitions = md->topics[0].partition_cnt;
    else if (md->topic_cnt == 1)
      last_error = rd_kafka_err2str(md->topics[0].err);
    rd_kafka_metadata_destroy(md);
    if (partitions < 0) rd_kafka_poll(c.rk, 500);
  }
  rd_kafka_topic_destroy(rkt);
  if (citypipe::stop_requested()) return citypipe::Status::ok();
  if (partitions < 0)
    return citypipe::Status::error(citypipe::exit_unavailable,
                                   fmt::format("no metadata for topic {} from {}: {}", c.s.topic,
                                               c.s.brokers, last_error));
  if (c.s.partition >= partitions)
    return citypipe::Status::error(citypipe::exit_usage,
                                   fmt::format("topic {} has no partition {}", c.s.topic, c.s.partition));
  std::int64_t start = RD_KAFKA_OFFSET_BEGINNING;
  switch (c.s.start.where) {
    case citypipe::StartOffset::kind::beginning:
    case citypipe::StartOffset::kind::stored: break;
    case citypipe::StartOffset::kind::end: start = RD_KAFKA_OFFSET_END; break;
    case citypipe::StartOffset::kind::absolute: start = c.s.start.value; break;
    case citypipe::StartOffset::kind::relative_end: start = RD_KAFKA_OFFSET_TAIL(c.s.start.value); break;
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (std::int32_t p = 0; p < partitions; ++p) {
    if (c.s.partition >= 0 && p != c.s.partition) continue;
    rd_kafka_topic_partition_list_add(list, c.s.topic.c_str(), p)->offset = start;
    c.assign(p);
  }
  const auto err = rd_kafka_assign(c.rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err)
    return citypipe::Status::error(citypipe::exit_unavailable,
                                   fmt::format("cannot read topic {}: {}", c.s.topic, rd_kafka_err2str(err)));
  return citypipe::Status::ok();
}

// --acks: reads what the sink acknowledged so far (without waiting) and
// turns each acknowledgement into commits owed.
void read_acks(Consumer& c) {
  pollfd p{c.acks_fd, POLLIN, 0};
  while (!c.acks_closed && ::poll(&p, 1, 0) > 0) {
    char buf[65536];
    const ssize_t n = ::read(c.acks_fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) break;
    if (n <= 0) {
      // A FIFO's writer came and went; a regular file is only at its end.
      struct stat st {};
      if (n < 0 || (::fstat(c.acks_fd, &st) == 0 && S_ISFIFO(st.st_mode))) c.acks_closed = true;
      break;
    }
    c.acks_buf.append(buf, static_cast<std::size_t>(n));
  }
  std::size_t from = 0;
  for (std::size_t nl; (nl = c.acks_buf.find('\n', from)) != std::string::npos; from = nl + 1) {
    const std::string_view line(c.acks_buf.data() + from, nl - from);
    if (citypipe::control_kind_of(line) != citypipe::control_kind::checkpoint) continue;
    std::string error;
    auto ack = citypipe::parse_control(line, error);
    if (!ack) {
      c.tool.warn(fmt::format("{}: {}", c.s.acks_path, error));
      continue;
    }
    for (auto& commit : c.ledger.acknowledged(*ack)) c.owed_commits[commit.tp] = std::move(commit);
  }
  c.acks_buf.erase(0, from);
}

// Commits what acknowledgements allowed; kept for another try if the group
// refuses (it does while rebalancing).
void commit_owed(Consumer& c, citypipe::time_ms budget = one_commit_ms) {
  if (c.owed_commits.empty()) return;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(c.owed_commits.size()));
  for (const auto& [tp, commit] : c.owed_commits) {
    rd_kafka_topic_partition_t* e = rd_kafka_topic_partition_list_add(list, tp.topic.c_str(), tp.partition);
    e->offset = commit.offset;
    if (!commit.metadata.empty()) {  // freed by the list
      e->metadata = std::malloc(commit.metadata.size());
      std::memcpy(e->metadata, commit.metadata.data(), commit.metadata.size());
      e->metadata_size = commit.metadata.size();
    }
  }
  const auto err = c.commit_within(list, budget);
  if (!err) {
    if (c.s.verbose)
      for (const auto& [tp, commit] : c.owed_commits)
        c.tool.warn(fmt::format("committed {} [{}] at {} ({})", tp.topic, tp.partition, commit.offset, commit.metadata));
    c.owed_commits.clear();
  } else if (c.s.verbose) {
    c.tool.warn(fmt::format("cannot commit offsets of group {} yet: {}", c.s.group, rd_kafka_err2str(err)));
  }
  rd_kafka_topic_partition_list_destroy(list);
}

// Writes a checkpoint line when one is due (or forced) and there is news.
void checkpoint(Consumer& c, bool force) {
  const citypipe::time_ms now = citypipe::wall_clock_ms();
  if (!force && (!c.ledger.changed() || now - c.last_checkpoint < c.s.checkpoint_every)) return;
  c.last_checkpoint = now;
  write_control(c, c.ledger.checkpoint());
  c.tool.out().flush();
}

void serve_acks(Consumer& c) {
  read_acks(c);
  commit_owed(c);
}

// --acks: records and control lines out, acknowledgements in. Ends at -e once
// every partition held is drained and acknowledged, or on a stop signal after
// a last checkpoint was acknowledged.
citypipe::Status loop_checkpointed(Consumer& c) {
  auto& out = c.tool.out();
  const auto gone = [&] {
    return citypipe::Status::error(citypipe::exit_io,
                                   "the pipeline after kafka-cat-in ended (a stage stopped?): offsets stay at the "
                                   "last acknowledged checkpoint");
  };
  const auto sink_gone = [&] {
    return citypipe::Status::error(citypipe::exit_unavailable,
                                   fmt::format("the sink closed {} (it stopped?): offsets stay at the last "
                                               "acknowledged checkpoint", c.s.acks_path));
  };
  bool drained = false;
  citypipe::time_ms unassigned_since = 0;
  std::uint32_t since_service = 0;
  while (!citypipe::stop_requested()) {
    if (!out.ok()) return gone();
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c.rk, 0);
    if (!m) {
      out.flush();
      checkpoint(c, false);
      serve_acks(c);
      if (c.acks_closed) return sink_gone();
      if (c.s.exit_at_end && c.had_assignment && c.assigned == 0) {
        if (!unassigned_since) unassigned_since = citypipe::wall_clock_ms();
        if (citypipe::wall_clock_ms() - unassigned_since > idle_member_ms && c.ledger.outstanding() == 0 &&
            c.owed_commits.empty())
          return citypipe::Status::ok();
      } else {
        unassigned_since = 0;
      }
      if (c.s.exit_at_end && c.all_at_end()) {
        if (!drained) {
          citypipe::Control drain;
          drain.kind = citypipe::control_kind::drain;
          write_control(c, drain);
          checkpoint(c, true);
          drained = true;
        } else if (c.ledger.outstanding() == 0 && c.owed_commits.empty()) {
          return citypipe::Status::ok();
        }
      }
      m = rd_kafka_consumer_poll(c.rk, 100);
      if (!m) continue;
    }
    if (m->err) {
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        c.reached_end(m->partition);
      } else {
        c.tool.warn(fmt::format("consume error on {}: {}", c.s.topic, rd_kafka_message_errstr(m)));
        if (m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
          rd_kafka_message_destroy(m);
          return citypipe::Status::error(citypipe::exit_unavailable, "cannot read topic " + c.s.topic);
        }
      }
      rd_kafka_message_destroy(m);
      continue;
    }
    ++c.tool.stats().in;
    c.got_record(m->partition);
    drained = false;
    const citypipe::TopicPartition tp = c.tp(m->partition);
    if (!looks_like_object({static_cast<const char*>(m->payload), m->len})) {
      const bool go_on = c.tool.bad_input().report(fmt::format("{}[{}]", c.s.topic, m->partition),
                                                   static_cast<std::uint64_t>(m->offset), "not a JSON object",
                                                   {static_cast<const char*>(m->payload), m->len});
      c.ledger.written(tp, m->offset);  // skipped by policy, still done with
      rd_kafka_message_destroy(m);
      if (!go_on) return citypipe::Status::ok();
      continue;
    }
    append_record(out.buffer(), m, c.s.topic, true);
    c.ledger.written(tp, m->offset);
    rd_kafka_message_destroy(m);
    ++c.tool.stats().out;
    out.commit();
    if (++since_service == 1024) {
      since_service = 0;
      checkpoint(c, false);
      serve_acks(c);
    }
  }
  // A stop: nothing more is written after one last checkpoint, which is
  // waited for (records read meanwhile are left to the next reader).
  out.flush();
  if (!out.ok()) return gone();
  checkpoint(c, true);
  const auto deadline = citypipe::wall_clock_ms() + commit_budget_ms;
  for (citypipe::time_ms now; (c.ledger.outstanding() > 0 || !c.owed_commits.empty()) &&
                              (now = citypipe::wall_clock_ms()) < deadline && !give_up_waiting();) {
    if (rd_kafka_message_t* m = rd_kafka_consumer_poll(c.rk, 100)) rd_kafka_message_destroy(m);
    out.flush();
    read_acks(c);
    commit_owed(c, std::min(one_commit_ms, std::max<citypipe::time_ms>(deadline - now, 1)));
    if (c.acks_closed || !out.ok()) break;
  }
  if (c.ledger.outstanding() > 0 || !c.owed_commits.empty())
    c.tool.warn(fmt::format("stopped before the last checkpoint was acknowledged and committed: the next "
                            "reader repeats what followed the one before (nothing is lost)"));
  return citypipe::Status::ok();
}

// Our defaults under the user's -X/-F: fetching tuned for a live stream,
// and for a group, who commits what.
std::vector<std::pair<std::string, std::string>> consumer_defaults(const Settings& s, bool group,
                                                                   bool checkpointed) {
  std::vector<std::pair<std::string, std::string>> defaults = {
      {"enable.partition.eof", s.exit_at_end ? "true" : "false"},
      // Fetch what arrives at once: latency over batching for a live stream.
      {"fetch.wait.max.ms", "100"},
      {"fetch.error.backoff.ms", "50"},
      // librdkafka 2.0 stops fetching a partition while the pre-fetch queue is
      // over a threshold and looks again only when its broker thread wakes,
      // up to a second later: a 50 MB fetch filled the queue at once and the
      // output stalled for most of that second. Small fetches keep the queue
      // under its 64 MiB bound; the count threshold would otherwise come first.
      {"fetch.max.bytes", "1048576"},
      {"queued.min.messages", "1000000"},
  };
  if (checkpointed) {
    defaults.insert(defaults.end(), {
        {"group.id", s.group},
        // Only acknowledgements commit (citypipe(7), CHECKPOINTS).
        {"enable.auto.offset.store", "false"},
        {"enable.auto.commit", "false"},
        {"auto.offset.reset", "earliest"},
    });
  } else if (group) {
    defaults.insert(defaults.end(), {
        {"group.id", s.group},
        // We store offsets ourselves, after the record was flushed; librdkafka
        // commits the stored ones periodically, on revocation and on close.
        {"enable.auto.offset.store", "false"},
        {"enable.auto.commit", "true"},
        {"auto.commit.interval.ms", "1000"},
        {"auto.offset.reset", s.start.where == citypipe::StartOffset::kind::end ? "latest" : "earliest"},
    });
  } else {
    // librdkafka wants a group id even for a plain assign(); nothing is
    // committed under it.
    defaults.insert(defaults.end(), {{"group.id", fmt::format("kafka-cat-in-{}", ::getpid())},
                                     {"enable.auto.commit", "false"}});
  }
  return defaults;
}

// Creates the consumer and joins the group or assigns the partitions.
citypipe::Status open(Consumer& c) {
  const Settings& s = c.s;
  if (c.checkpointed) {
    c.acks_fd = ::open(s.acks_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (c.acks_fd < 0)
      return citypipe::Status::error(citypipe::exit_no_input,
                                     fmt::format("--acks {}: {}", s.acks_path, std::strerror(errno)));
  }
  rd_kafka_conf_t* conf = nullptr;
  if (auto st = make_conf(s, consumer_defaults(s, c.group, c.checkpointed), conf); !st.is_ok()) return st;
  rd_kafka_conf_set_opaque(conf, &c);
  citypipe::report_kafka_events(conf, c.tool, s.verbose);
  if (c.group) rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
  char errstr[512];
  c.rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (!c.rk) {
    rd_kafka_conf_destroy(conf);
    return citypipe::Status::error(citypipe::exit_usage, std::string("cannot create consumer: ") + errstr);
  }
  rd_kafka_poll_set_consumer(c.rk);
  if (!c.group) return assign_all(c);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, s.topic.c_str(), RD_KAFKA_PARTITION_UA);
  citypipe::Status status;
  if (auto err = rd_kafka_subscribe(c.rk, topics))
    status = citypipe::Status::error(citypipe::exit_unavailable,
                                     fmt::format("cannot subscribe to {}: {}", s.topic, rd_kafka_err2str(err)));
  rd_kafka_topic_partition_list_destroy(topics);
  return status;
}

// Without --acks: records out, offsets stored once flushed and committed by
// librdkafka; at the end (or on a signal, or -c) a last commit.
citypipe::Status loop_at_least_once(Consumer& c) {
  citypipe::Tool& tool = c.tool;
  const Settings& s = c.s;
  citypipe::Status status;
  auto& out = tool.out();
  std::uint64_t consumed = 0;
  std::string where;
  citypipe::time_ms end_since = 0, unassigned_since = 0;
  while (status.is_ok() && !citypipe::stop_requested() && out.ok()) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c.rk, 0);
    if (!m) {
      // Nothing ready: what we hold goes downstream before we wait.
      c.flush_and_store();
      // At the end: leave only once the offsets are committed. A group that
      // is rebalancing refuses commits (the mock does, Kafka may): go on
      // serving the rebalance and try again.
      // With -e, a group member left without partitions has nothing to wait for.
      if (s.exit_at_end && c.group && c.had_assignment && c.assigned == 0) {
        if (!unassigned_since) unassigned_since = citypipe::wall_clock_ms();
        if (citypipe::wall_clock_ms() - unassigned_since > idle_member_ms) break;
      } else {
        unassigned_since = 0;
      }
      if (s.exit_at_end && c.all_at_end()) {
        if (c.commit(true)) break;
        if (citypipe::wall_clock_ms() - (end_since ? end_since : (end_since = citypipe::wall_clock_ms())) >
            commit_budget_ms) {
          status = citypipe::Status::error(citypipe::exit_unavailable,
                                           "offsets not committed: the next reader may repeat records");
          break;
        }
      }
      m = rd_kafka_consumer_poll(c.rk, 100);
      if (!m) continue;
    }
    if (m->err) {
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        c.reached_end(m->partition);
      } else {
        tool.warn(fmt::format("consume error on {}: {}", s.topic, rd_kafka_message_errstr(m)));
        if (m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
          status = citypipe::Status::error(citypipe::exit_unavailable, "cannot read topic " + s.topic);
      }
      rd_kafka_message_destroy(m);
      continue;
    }
    ++tool.stats().in;
    c.got_record(m->partition);
    end_since = 0;
    if (s.meta && !looks_like_object({static_cast<const char*>(m->payload), m->len})) {
      where = fmt::format("{}[{}]", s.topic, m->partition);
      const bool go_on = tool.bad_input().report(where, static_cast<std::uint64_t>(m->offset), "not a JSON object",
                                                 {static_cast<const char*>(m->payload), m->len});
      c.tracker.written(m->partition, m->offset);  // skipped by policy, still done with
      rd_kafka_message_destroy(m);
      if (!go_on) break;
      continue;
    }
    append_record(out.buffer(), m, s.topic, s.meta);
    c.tracker.written(m->partition, m->offset);
    rd_kafka_message_destroy(m);
    ++tool.stats().out;
    out.commit();
    if (out.buffer().empty() && out.ok()) c.store();  // commit() just flushed
    if (s.max_records && ++consumed >= s.max_records) break;
  }

  // Clean end (also on a signal or -c): flush and commit, waiting out a
  // rebalance if need be (records arriving meanwhile are left for later),
  // for commit_budget_ms at most; close() then leaves the group (and commits
  // once more on the revocation). consume() says if nothing committed.
  c.flush_and_store();
  c.stopping = true;
  c.committed = true;
  if (c.group && status.is_ok() && !c.commit(true)) {
    const auto deadline = citypipe::wall_clock_ms() + commit_budget_ms;
    for (citypipe::time_ms now; !c.committed && (now = citypipe::wall_clock_ms()) < deadline && !give_up_waiting();) {
      if (rd_kafka_message_t* m = rd_kafka_consumer_poll(c.rk, 100)) rd_kafka_message_destroy(m);
      c.commit(true, std::min(one_commit_ms, std::max<citypipe::time_ms>(deadline - now, 1)));
    }
  }
  return status;
}

// Leaves the group (serving the last revocation) within close_budget_ms;
// false if librdkafka did not finish by then. The close queue also gets
// messages still fetched: it is read as events (a callback poll would abort
// on them, as rd_kafka_consumer_close drops them), the rebalance handed to
// on_rebalance.
bool leave(Consumer& c) {
  rd_kafka_queue_t* q = rd_kafka_queue_new(c.rk);
  if (rd_kafka_error_t* e = rd_kafka_consumer_close_queue(c.rk, q)) {
    c.tool.warn(fmt::format("cannot leave group {}: {}", c.s.group, rd_kafka_error_string(e)));
    rd_kafka_error_destroy(e);
    rd_kafka_queue_destroy(q);
    return true;  // nothing in progress: the handle may be destroyed
  }
  const auto deadline = citypipe::wall_clock_ms() + close_budget_ms;
  while (!rd_kafka_consumer_closed(c.rk) && citypipe::wall_clock_ms() < deadline && !give_up_waiting()) {
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 100);
    if (!ev) continue;
    if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
      on_rebalance(c.rk, rd_kafka_event_error(ev), rd_kafka_event_topic_partition_list(ev), &c);
    rd_kafka_event_destroy(ev);
  }
  const bool closed = rd_kafka_consumer_closed(c.rk);
  rd_kafka_queue_destroy(q);
  return closed;
}

// librdkafka 2.0.2 may never return from the unassign a revocation makes
// while the consumer leaves a group that has just dropped it ("Unknown
// member" under load; the call waits on a group that no longer answers), and
// no timeout reaches it. Past budget, the watchdog ends the process itself,
// with the status the run has (end() is called with a mutex held that the
// destructor takes, so the consumer's own thread cannot go on meanwhile).
class CloseWatchdog {
 public:
  CloseWatchdog(citypipe::time_ms budget, std::function<int()> end)
      : thread_(citypipe::start_thread_without_signals([this, budget, end = std::move(end)] {
          std::unique_lock lock(mutex_);
          if (!done_cv_.wait_for(lock, std::chrono::milliseconds(budget), [this] { return done_; }))
            std::_Exit(end());
        })) {}
  ~CloseWatchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    done_cv_.notify_one();
    thread_.join();
  }
  CloseWatchdog(const CloseWatchdog&) = delete;
  CloseWatchdog& operator=(const CloseWatchdog&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::thread thread_;  // last: started once the rest is ready
};

// Says, once the consumer is closed, that a clean end could not commit its
// last offsets (a group that rebalances as several workers stop at once
// refuses them). Nothing is lost: delivery is at least once, and the next
// reader repeats those records; so the status stays as it is.
void say_uncommitted(const Consumer& c, const citypipe::Status& status) {
  if (status.is_ok() && c.group && !c.checkpointed && !c.committed)
    c.tool.warn(fmt::format("offsets of group {} not committed ({}): the next reader repeats what this one "
                            "wrote since its last commit", c.s.group, rd_kafka_err2str(c.commit_error)));
}

void close(Consumer& c, const citypipe::Status& status) {
  if (c.rk) {
    const CloseWatchdog watchdog(close_budget_ms + 5000, [&c, &status] {
      c.tool.warn(fmt::format("did not leave group {} within {} s (librdkafka is stuck leaving it): ending; "
                              "the group rebalances once the session times out",
                              c.s.group, (close_budget_ms + 5000) / 1000));
      say_uncommitted(c, status);
      return c.tool.finish(status);
    });
    if (leave(c)) {
      rd_kafka_destroy(c.rk);
    } else {
      // Destroying the handle would wait for the close without a bound: it
      // is left to the exit of the process.
      c.tool.warn(fmt::format("did not leave group {} within {} s: the group rebalances once the session "
                              "times out", c.s.group, close_budget_ms / 1000));
    }
  }
  if (c.owed) rd_kafka_topic_partition_list_destroy(c.owed);
  if (c.acks_fd >= 0) ::close(c.acks_fd);
}

}  // namespace

citypipe::Status consume(citypipe::Tool& tool, const Settings& s) {
  Consumer c(tool, s);
  c.group = !s.group.empty();
  c.checkpointed = !s.acks_path.empty();
  citypipe::Status status = open(c);
  if (status.is_ok()) status = c.checkpointed ? loop_checkpointed(c) : loop_at_least_once(c);
  close(c, status);
  say_uncommitted(c, status);
  return status;
}

}  // namespace kcatin
