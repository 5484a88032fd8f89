#include "scoring.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "citypipe/core/control.h"
#include "citypipe/core/json_write.h"
#include "citypipe/core/record_fields.h"

using namespace citypipe;

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t batch_rows = 256;
constexpr std::size_t tail_room = 256;  // the fixed pieces after a record: under 100 bytes with today's names

// The fixed bytes between the fields this tool adds, spelled once from the
// names of the record contract: ,"anomaly":true,"severity":" and ","reasons":[
const std::string after_score_true = fmt::format(",\"{}\":true,\"{}\":\"", field::anomaly, field::severity);
const std::string after_score_false = fmt::format(",\"{}\":false,\"{}\":\"", field::anomaly, field::severity);
const std::string before_reasons = fmt::format("\",\"{}\":[", field::reasons);
const std::string score_first = fmt::format("\"{}\":", field::score);
const std::string score_next = "," + score_first;
constexpr std::string_view fallback_note = ",\"fallback:global\"";

// A piece of a tail in a fixed-size, zero-padded buffer, so that it is copied
// with a few moves of constant size and no call; ok is false when the piece
// does not fit (longer field names), and the pieces are then put one by one.
template <std::size_t N>
struct Fixed {
  char text[N] = {};
  std::size_t size = 0;
  bool ok = false;
  explicit Fixed(std::string_view piece) : size(piece.size()), ok(piece.size() <= N) {
    if (ok) std::memcpy(text, piece.data(), piece.size());
  }
};

// The head before the score, by whether the record had members, and the
// common tail after it (no rule fired, no fallback) by the forest's severity:
// anomaly, severity and reasons, which follow from it alone.
const Fixed<16> fixed_head[2] = {Fixed<16>(score_next), Fixed<16>(score_first)};
const std::array<Fixed<64>, 4> fixed_tail = [] {
  auto make = [](Severity sev) {
    const bool says = sev != Severity::none;
    return Fixed<64>((says ? after_score_true : after_score_false) + std::string(severity_name(sev)) +
                     before_reasons + (says ? "\"iforest\"" : "") + "]}\n");
  };
  return std::array<Fixed<64>, 4>{make(Severity::none), make(Severity::low), make(Severity::medium),
                                  make(Severity::high)};
}();
const bool fixed_ok = fixed_head[0].ok && fixed_head[1].ok && fixed_tail[0].ok && fixed_tail[1].ok &&
                      fixed_tail[2].ok && fixed_tail[3].ok;

// The measurements (one rule, record_fields.h) other than --by, and other than
// the score this tool writes, so that rescoring a scored stream does not feed
// the old score in.
Status pick_fields(const JsonRecord& r, ScoringConfig& cfg) {
  for (const auto& f : r.fields())
    if (is_measurement(f) && f.key != cfg.by && f.key != field::score) cfg.fields.emplace_back(f.key);
  if (cfg.fields.empty())
    return Status::error(errc::corrupt, "the first record has no numeric measurement fields; give --fields");
  return Status::ok();
}

// The row of one record: true when every field is a number. Missing ones are
// NaN, and `missing` names the first. lookup finds cfg.fields in order.
bool extract(const JsonRecord& r, const ScoringConfig& cfg, FieldLookup& lookup, double* x,
             std::string_view& missing) {
  const FieldHits found = lookup.find(r);
  bool complete = true;
  for (std::size_t j = 0, n = cfg.fields.size(); j < n; ++j) {
    const JsonField* f = found[j];
    if (f != nullptr && f->type == json_type::number) {
      x[j] = f->number;
    } else {
      x[j] = nan;
      if (complete) missing = cfg.fields[j];
      complete = false;
    }
  }
  return complete;
}

// The --by key; empty when absent or null.
std::string_view key_of(const JsonRecord& r, const std::string& by, std::string& scratch) {
  if (by.empty()) return {};
  const JsonField* f = r.find(by);
  return f == nullptr ? std::string_view{} : key_text(*f, scratch).value_or(std::string_view{});
}

// The score rounded to 4 decimals, as append_json_number would print it, but
// without the general shortest-round-trip search (a tenth of the run time).
// Writes at most 8 bytes at to (past the returned length: garbage); returns
// how many make the number.
std::size_t put_score(char* to, double s) {
  if (std::isnan(s)) {
    std::memcpy(to, "null", 4);
    return 4;
  }
  // lround without the library call: t + 0.5 truncated is lround(t) for
  // t >= 0.5; below, the sum may round up to 1 (t = 0.49999999999999994).
  const double t = std::clamp(s, 0.0, 1.0) * 1e4;
  const auto k = t < 0.5 ? 0u : static_cast<unsigned>(t + 0.5);
  if (k == 0 || k == 10000) {
    *to = k == 0 ? '0' : '1';
    return 1;
  }
  // "0.dddd" in one word and one store: bytes stored one by one and read
  // back as a word stalled on store forwarding. Trailing zeros are cut by
  // the place of the last nonzero digit, not by a loop.
  const std::uint64_t digits = std::uint64_t{k / 1000} << 16 | std::uint64_t{k / 100 % 10} << 24 |
                               std::uint64_t{k / 10 % 10} << 32 | std::uint64_t{k % 10} << 40;
  const std::uint64_t word = digits | 0x0000303030302e30;  // little-endian "0.0000"
  std::memcpy(to, &word, 8);
  static_assert(std::endian::native == std::endian::little);
  return static_cast<std::size_t>((63 - std::countl_zero(digits)) / 8 + 1);
}

// A record's text as ObjectWriter(out, raw) starts from it: without trailing
// blanks and its closing brace; empty tells that no member precedes.
std::string_view object_prefix(std::string_view raw, bool& empty) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!raw.empty() && is_space(raw.back())) raw.remove_suffix(1);
  if (!raw.empty() && raw.back() == '}') raw.remove_suffix(1);
  while (!raw.empty() && is_space(raw.back())) raw.remove_suffix(1);
  empty = !raw.empty() && raw.back() == '{';
  return raw;
}

// Records waiting to be scored together: their text, rows, keys and what the
// rules said, kept until a model is there and the batch is full or the input
// pauses.
class Batch {
 public:
  explicit Batch(const ScoringConfig& cfg) : cfg_(cfg), nf_(cfg.fields.size()) {}

  std::size_t size() const { return n_; }
  bool empty() const { return n_ == 0 && controls_.empty(); }

  // A control line, to be written after the records added before it.
  void add_control(std::string_view line) { controls_.emplace_back(n_, std::string(line)); }

  void add(const JsonRecord& r, const double* x, bool complete, std::string_view key) {
    bool empty = false;
    raw_.append(object_prefix(r.raw(), empty));
    rows_.insert(rows_.end(), x, x + nf_);
    all_complete_ = all_complete_ && complete;
    if (!cfg_.by.empty()) {
      if (keys_.size() <= n_) keys_.emplace_back();
      keys_[n_].assign(key);
    }
    Severity sev = Severity::none;
    for (const auto& rule : cfg_.rules) {
      if (!rule.fires(r)) continue;
      sev = max_severity(sev, rule.severity);
      reasons_ += ',';
      append_json_string(reasons_, rule.text);
    }
    // One entry, not one push per vector: this runs for every record.
    entries_.push_back({raw_.size(), reasons_.size(), sev, empty, complete});
    ++n_;
  }

  // Scores (with no model: score null, rules only) and writes every record.
  void flush(const IforestModel* model, Tool& tool) {
    if (n_ == 0) {
      write_controls(tool, 0);
      return;
    }
    scores_.assign(n_, nan);
    thresholds_.assign(n_, model ? model->global.threshold : 1.0);
    fallback_.assign(n_, 0);
    if (model != nullptr) {
      if (model->by.empty() && all_complete_) {
        model->global.forest.score_batch(rows_.data(), n_, scores_.data());
      } else {
        // Complete rows go through their forest's score_batch together (the
        // same scores as one at a time, several times faster).
        forest_.resize(n_);
        order_.clear();
        for (std::size_t i = 0; i < n_; ++i) {
          bool fb = false;
          const KeyedForest& k = model->forest_for(cfg_.by.empty() ? std::string_view{} : keys_[i], fb);
          thresholds_[i] = k.threshold;
          fallback_[i] = fb ? 1 : 0;
          forest_[i] = &k.forest;
          if (entries_[i].complete) order_.push_back(i);
          else scores_[i] = k.forest.score_missing(rows_.data() + i * nf_);
        }
        std::sort(order_.begin(), order_.end(), [&](std::size_t a, std::size_t b) {
          return forest_[a] != forest_[b] ? std::less<>()(forest_[a], forest_[b]) : a < b;
        });
        for (std::size_t run = 0; run < order_.size();) {
          const IsolationForest* f = forest_[order_[run]];
          std::size_t end = run;
          gathered_.clear();
          for (; end < order_.size() && forest_[order_[end]] == f; ++end) {
            const double* x = rows_.data() + order_[end] * nf_;
            gathered_.insert(gathered_.end(), x, x + nf_);
          }
          run_scores_.resize(end - run);
          f->score_batch(gathered_.data(), end - run, run_scores_.data());
          for (std::size_t j = run; j < end; ++j) scores_[order_[j]] = run_scores_[j - run];
          run = end;
        }
      }
    }
    std::string& out = tool.out().buffer();
    // Room for the batch at once, so that no append below reallocates.
    out.reserve(out.size() + raw_.size() + reasons_.size() + n_ * (tail_room + fallback_note.size()));
    std::size_t raw_begin = 0, reasons_begin = 0;
    next_control_ = 0;
    for (std::size_t i = 0; i < n_; ++i) {
      write_controls(tool, i);
      const Entry& e = entries_[i];
      const std::string_view raw(raw_.data() + raw_begin, e.raw_end - raw_begin);
      const std::string_view rule_reasons(reasons_.data() + reasons_begin, e.reasons_end - reasons_begin);
      raw_begin = e.raw_end;
      reasons_begin = e.reasons_end;
      const double s = scores_[i];
      const bool forest_says = !std::isnan(s) && s > thresholds_[i];
      const Severity sev = max_severity(e.rule_severity, forest_severity(s, thresholds_[i]));
      const bool anomaly = forest_says || !rule_reasons.empty();
      anomalies_ += anomaly ? 1 : 0;
      fallbacks_ += fallback_[i];
      // The record, then what this tool adds, put together in one piece.
      out += raw;
      char tail[tail_room];
      std::size_t len = 0;
      if (fixed_ok && rule_reasons.empty() && !fallback_[i] && e.rule_severity == Severity::none) {
        // The common case: the severity is the forest's, and tells the rest.
        const Fixed<16>& head = fixed_head[e.empty ? 1 : 0];
        std::memcpy(tail, head.text, sizeof head.text);
        len = head.size;
        len += put_score(tail + len, s);
        const Fixed<64>& rest = fixed_tail[static_cast<std::size_t>(sev)];
        std::memcpy(tail + len, rest.text, sizeof rest.text);
        out.append(tail, len + rest.size);
        tool.out().commit();
        continue;
      }
      auto put = [&](std::string_view piece) {
        std::memcpy(tail + len, piece.data(), piece.size());
        len += piece.size();
      };
      put(e.empty ? score_first : score_next);
      len += put_score(tail + len, s);
      put(anomaly ? after_score_true : after_score_false);
      put(severity_name(sev));
      put(before_reasons);
      if (forest_says) put("\"iforest\"");
      if (rule_reasons.empty() && !fallback_[i]) {
        put("]}\n");  // the common case: the tail in one piece
        out.append(tail, len);
      } else {
        out.append(tail, len);
        if (!rule_reasons.empty()) out.append(rule_reasons.substr(forest_says ? 0 : 1));
        if (fallback_[i]) out.append(forest_says || !rule_reasons.empty() ? fallback_note : fallback_note.substr(1));
        out.append("]}\n", 3);
      }
      tool.out().commit();
    }
    write_controls(tool, n_);
    tool.stats().out += n_;
    tool.stats().set_extra("anomalies", anomalies_);
    if (!cfg_.by.empty()) tool.stats().set_extra("fallback", fallbacks_);
    clear();
  }

 private:
  // The control lines that came before record i (all that are left when i is n_).
  void write_controls(Tool& tool, std::size_t i) {
    for (; next_control_ < controls_.size() && controls_[next_control_].first <= i; ++next_control_) {
      std::string& out = tool.out().buffer();
      out += controls_[next_control_].second;
      out += '\n';
      tool.out().commit();
    }
    if (i == n_) {
      controls_.clear();
      next_control_ = 0;
    }
  }

  void clear() {
    n_ = 0;
    all_complete_ = true;
    raw_.clear();
    rows_.clear();
    reasons_.clear();
    entries_.clear();
  }

  const ScoringConfig& cfg_;
  std::size_t nf_;
  std::size_t n_ = 0;
  bool all_complete_ = true;
  struct Entry {
    std::size_t raw_end, reasons_end;  // ends of the record's text in raw_ and rule reasons in reasons_
    Severity rule_severity;
    bool empty;     // the record had no members
    bool complete;  // every field a number
  };
  std::string raw_;
  std::vector<double> rows_;
  std::vector<std::string> keys_;
  std::string reasons_;
  std::vector<Entry> entries_;
  std::vector<double> scores_, thresholds_;
  std::vector<std::uint8_t> fallback_;
  std::vector<const IsolationForest*> forest_;  // per row, when rows go by key
  std::vector<std::size_t> order_;              // complete rows, grouped by forest
  std::vector<double> gathered_, run_scores_;
  std::uint64_t anomalies_ = 0, fallbacks_ = 0;
  std::vector<std::pair<std::size_t, std::string>> controls_;  // (records before it, line)
  std::size_t next_control_ = 0;
};

// One record's row, or false when it is to be skipped (rejected).
struct RowReader {
  ScoringConfig& cfg;
  RecordInput& in;
  std::vector<double> x;
  std::string key_scratch;
  Status status;
  FieldLookup lookup;

  enum class Result { complete, partial, skip, stop };

  Result read(const JsonRecord& r) {
    if (cfg.fields.empty()) {
      status = pick_fields(r, cfg);
      if (!status.is_ok()) return Result::stop;
    }
    if (x.size() != cfg.fields.size()) {  // the first record: the fields are known now
      x.resize(cfg.fields.size());
      lookup = FieldLookup(std::vector<FieldName>(cfg.fields.begin(), cfg.fields.end()));
    }
    std::string_view missing;
    if (extract(r, cfg, lookup, x.data(), missing)) return Result::complete;
    if (cfg.skip_missing) return Result::partial;
    return in.reject(fmt::format("no number in field \"{}\"", missing)) ? Result::skip : Result::stop;
  }
  std::string_view key(const JsonRecord& r) { return key_of(r, cfg.by, key_scratch); }
};

}  // namespace

Status train_model(Tool& tool, RecordInput& in, ScoringConfig& cfg, const ForestSettings& settings,
                   IforestModel& out) {
  RowReader rows{cfg, in, {}, {}, {}, {}};
  std::vector<double> data;
  std::vector<std::string> keys;
  std::uint64_t partial = 0;
  in.on_control([](std::string_view) { return true; });  // no records out, so nothing to keep in order with
  JsonRecord r;
  while (in.next(r)) {
    const auto res = rows.read(r);
    if (res == RowReader::Result::stop) break;
    if (res == RowReader::Result::skip) continue;
    if (res == RowReader::Result::partial) {
      ++partial;  // scored later on the remaining paths, but not a training row
      continue;
    }
    data.insert(data.end(), rows.x.begin(), rows.x.end());
    if (!cfg.by.empty()) keys.emplace_back(rows.key(r));
  }
  if (!rows.status.is_ok()) return rows.status;
  if (partial) tool.stats().set_extra("incomplete", partial);
  const std::size_t n = cfg.fields.empty() ? 0 : data.size() / cfg.fields.size();
  if (n < 2)
    return Status::error(errc::corrupt, fmt::format("need at least 2 complete records to train, got {}", n));
  out = IforestModel::train(cfg.fields, cfg.by, settings, data.data(), n, keys);
  tool.stats().set_extra("trained", n);
  return Status::ok();
}

Status score_with_model(Tool& tool, RecordInput& in, ScoringConfig& cfg, const IforestModel& model) {
  RowReader rows{cfg, in, {}, {}, {}, {}};
  Batch batch(cfg);
  in.on_idle([&] { batch.flush(&model, tool); });
  in.on_control([&](std::string_view line) {
    batch.add_control(line);
    batch.flush(&model, tool);
    return true;
  });
  JsonRecord r;
  while (in.next(r)) {
    const auto res = rows.read(r);
    if (res == RowReader::Result::stop) break;
    if (res == RowReader::Result::skip) continue;
    batch.add(r, rows.x.data(), res == RowReader::Result::complete, rows.key(r));
    if (batch.size() >= batch_rows) batch.flush(&model, tool);
  }
  batch.flush(&model, tool);
  return rows.status;
}

namespace {

// Notes on stderr while a live input is only buffered: a replay trains in
// well under a second and hears nothing.
class WarmupNotes {
 public:
  WarmupNotes(Tool& tool, std::size_t warmup) : tool_(tool), warmup_(warmup) {}

  // The reader is about to wait for input and nothing is scored yet.
  void waiting(std::size_t buffered) {
    const double now = tool_.stats().seconds();
    if (now < 2.0 || now - noted_at_ < (noted_ ? 15.0 : 0.0)) return;
    noted_at_ = now;
    if (warmup_ > 0) {
      tool_.warn(fmt::format("warming up: {}/{} records buffered; scores follow the warm-up", buffered, warmup_));
    } else if (!noted_) {
      tool_.warn("training on the whole input: nothing is written before it ends; on a live stream "
                 "give --warmup N or -m MODEL");
    }
    noted_ = true;
  }
  void trained() {
    if (noted_ && warmup_ > 0 && !done_)
      tool_.warn(fmt::format("warmed up after {:.0f} s: scoring", tool_.stats().seconds()));
    done_ = true;
  }

 private:
  Tool& tool_;
  std::size_t warmup_;
  double noted_at_ = 0;
  bool noted_ = false, done_ = false;
};

}  // namespace

Status score_online(Tool& tool, RecordInput& in, ScoringConfig& cfg, const ForestSettings& settings,
                    const OnlineSettings& online) {
  RowReader rows{cfg, in, {}, {}, {}, {}};
  std::optional<OnlineDetector> detector;
  std::optional<Batch> batch;
  WarmupNotes notes(tool, online.warmup);
  Status stop;
  in.on_idle([&] {
    if (batch && detector && detector->trained()) batch->flush(&detector->model(), tool);
    else notes.waiting(detector ? detector->rows_seen() : 0);
  });
  in.on_control([&](std::string_view line) {
    if (control_kind_of(line) == control_kind::checkpoint) {
      stop = Status::error(errc::invalid_argument,
                           "--warmup/--retrain-every keep model state that Kafka checkpoints do not carry; "
                           "train a model with 'iforest-score train' and score with -m in a checkpointed worker");
      return false;
    }
    if (!batch) {  // no record yet: nothing to keep in order with
      tool.out().buffer().append(line).push_back('\n');
      tool.out().commit();
      return true;
    }
    batch->add_control(line);
    if (detector->trained()) batch->flush(&detector->model(), tool);
    return true;
  });
  JsonRecord r;
  while (in.next(r)) {
    const auto res = rows.read(r);
    if (res == RowReader::Result::stop) break;
    if (res == RowReader::Result::skip) continue;
    if (!detector) {  // fields are known from the first record on
      detector.emplace(cfg.fields, cfg.by, settings, online);
      batch.emplace(cfg);
    }
    const std::string_view key = rows.key(r);
    if (res == RowReader::Result::complete) {
      // The records before a retraining are scored by the model they came under.
      if (detector->trained() && detector->next_add_trains()) batch->flush(&detector->model(), tool);
      detector->add(rows.x.data(), key);
      if (detector->trained()) notes.trained();
    }
    batch->add(r, rows.x.data(), res == RowReader::Result::complete, key);
    if (detector->trained() && batch->size() >= batch_rows) batch->flush(&detector->model(), tool);
  }
  if (!stop.is_ok()) return stop;  // nothing written after the checkpoint
  if (!rows.status.is_ok()) return rows.status;
  if (!detector) return Status::ok();
  if (!detector->trained() && !detector->train_now())
    tool.warn(fmt::format("only {} complete records: too few to train, scores are null",
                          detector->rows_seen()));
  batch->flush(detector->trained() ? &detector->model() : nullptr, tool);
  tool.stats().set_extra("trainings", detector->trainings());
  return Status::ok();
}
