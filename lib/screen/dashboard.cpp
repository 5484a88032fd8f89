#include "citypipe/screen/dashboard.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "citypipe/core/record_fields.h"
#include "citypipe/core/util.h"

namespace citypipe {

namespace {

constexpr std::size_t npos = static_cast<std::size_t>(-1);
constexpr std::int64_t no_bucket = std::numeric_limits<std::int64_t>::min();

// A proper suffix: "_avg" alone is a name, not an average of "".
bool has_suffix(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.ends_with(suffix);
}

// Cuts at a UTF-8 character boundary so that a kept prefix stays valid text.
std::string_view clip(std::string_view s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

bool truthy(const JsonField& f) {
  switch (f.type) {
    case json_type::boolean: return f.boolean;
    case json_type::number: return f.number != 0;
    case json_type::string: return f.text == "true" || f.text == "1";
    default: return false;
  }
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::uint32_t read_hex4(std::string_view s, std::size_t at, bool& ok) {
  std::uint32_t v = 0;
  ok = at + 4 <= s.size();
  for (std::size_t i = 0; ok && i < 4; ++i) {
    const int h = hex_value(s[at + i]);
    if (h < 0) ok = false;
    v = v * 16 + static_cast<std::uint32_t>(h < 0 ? 0 : h);
  }
  return v;
}

}  // namespace

namespace detail {

std::string join_json_strings(std::string_view text) {
  std::string out;
  if (text.empty() || text.front() != '[') return std::string(text);
  bool first = true;
  std::size_t i = 1;
  while (i < text.size()) {
    const char c = text[i];
    if (c != '"') {
      ++i;
      continue;
    }
    if (!first) out += ", ";
    first = false;
    ++i;
    while (i < text.size() && text[i] != '"') {
      if (text[i] != '\\' || i + 1 >= text.size()) {
        out += text[i++];
        continue;
      }
      const char e = text[i + 1];
      i += 2;
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          bool ok = false;
          std::uint32_t cp = read_hex4(text, i, ok);
          if (!ok) break;
          i += 4;
          if (cp >= 0xD800 && cp < 0xDC00 && i + 6 <= text.size() && text[i] == '\\' &&
              text[i + 1] == 'u') {
            bool ok2 = false;
            const std::uint32_t lo = read_hex4(text, i + 2, ok2);
            if (ok2 && lo >= 0xDC00 && lo < 0xE000) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
              i += 6;
            }
          }
          if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD;  // lone surrogate
          append_utf8(out, cp);
          break;
        }
        default: out += e; break;  // \" \\ \/
      }
    }
    ++i;  // closing quote
  }
  return out;
}

}  // namespace detail

std::string_view Dashboard::measurement_name(std::string_view field, std::string_view time_field) {
  // window-agg's own numbers about a window.
  static constexpr std::array<std::string_view, 5> window_fields = {
      field::window_start, field::window_end, "window_ms", field::count, "anomalies"};
  static constexpr std::array<std::string_view, 12> aggregate_parts = {
      "_min", "_max", "_sum", "_count", "_stddev", "_std", "_var", "_p50", "_p90", "_p95",
      "_p99", "_last"};
  if (field.empty() || field == time_field || !is_measurement_name(field)) return {};
  for (auto n : window_fields)
    if (field == n) return {};
  for (auto suffix : aggregate_parts)
    if (has_suffix(field, suffix)) return {};
  if (has_suffix(field, "_avg")) return field.substr(0, field.size() - 4);
  if (has_suffix(field, "_mean")) return field.substr(0, field.size() - 5);
  return field;
}

Dashboard::Dashboard(DashboardConfig config)
    : config_(std::move(config)),
      bucket_ms_(std::max<time_ms>(1, config_.span / static_cast<time_ms>(std::max<std::size_t>(
                                                          1, config_.buckets)))) {
  config_.buckets = std::max<std::size_t>(1, config_.buckets);
  config_.max_keys = std::max<std::size_t>(1, config_.max_keys);
  config_.max_alerts = std::max<std::size_t>(1, config_.max_alerts);
}

Dashboard::Key& Dashboard::key_for(std::string_view name) {
  if (auto it = key_index_.find(name); it != key_index_.end()) return keys_[it->second];
  if (keys_.size() >= config_.max_keys) {
    keys_capped_ = true;
    name = "(other)";
    if (auto it = key_index_.find(name); it != key_index_.end()) return keys_[it->second];
  }
  Key k;
  k.name = std::string(name);
  k.slot_bucket.assign(config_.buckets, no_bucket);
  grow_fields(k);
  key_index_.emplace(k.name, keys_.size());
  keys_.push_back(std::move(k));
  return keys_.back();
}

void Dashboard::grow_fields(Key& key) const {
  const std::size_t n = field_names_.size();
  key.has_latest.resize(n, false);
  key.latest.resize(n, 0.0);
  key.sum.resize(n * config_.buckets, 0.0);
  key.count.resize(n * config_.buckets, 0);
}

std::size_t Dashboard::field_index(std::size_t position, std::string_view name) {
  if (position < layout_names_.size() && layout_names_[position] == name)
    return layout_index_[position];
  std::size_t index = npos;
  const std::string_view m = measurement_name(name, config_.time_field);
  if (!m.empty()) {
    auto it = std::find(field_names_.begin(), field_names_.end(), m);
    if (it != field_names_.end()) {
      index = static_cast<std::size_t>(it - field_names_.begin());
    } else if (field_names_.size() < config_.max_fields) {
      index = field_names_.size();
      field_names_.emplace_back(clip(m, config_.max_text));
    }
  }
  if (position >= layout_names_.size()) {
    layout_names_.resize(position + 1);
    layout_index_.resize(position + 1, npos);
  }
  layout_names_[position] = std::string(name);
  layout_index_[position] = index;
  return index;
}

void Dashboard::add(const JsonRecord& record, time_ms arrival) {
  ++records_;
  std::string_view key_name = "(none)";
  if (const JsonField* kf = record.find(config_.key_field))
    if (auto text = key_text(*kf, scratch_)) key_name = clip(*text, config_.max_text);
  Key& key = key_for(key_name);
  ++key.records;

  std::optional<time_ms> t = record.time(config_.time_field);
  if (!t) t = record.time(field::window_start);
  const time_ms when = t ? *t : arrival;
  if (!has_time_ || when > newest_) newest_ = when;
  has_time_ = true;

  const JsonField* af = record.find(field::anomaly);
  if (af == nullptr) af = record.find(field::injected_anomaly);
  const bool anomalous = af != nullptr && truthy(*af);
  if (anomalous) {
    ++anomalies_;
    ++key.anomalies;
    add_alert(record, key.name, when);
  }

  const std::size_t buckets = config_.buckets;
  const std::int64_t bucket = floor_div(when, bucket_ms_);
  const auto slot = static_cast<std::size_t>(
      bucket - floor_div(bucket, static_cast<std::int64_t>(buckets)) *
                   static_cast<std::int64_t>(buckets));
  bool in_ring = true;
  if (key.slot_bucket[slot] != bucket) {
    if (key.slot_bucket[slot] > bucket) {
      in_ring = false;  // too old: the slot already holds a newer bucket
    } else {
      for (std::size_t f = 0; f < key.latest.size(); ++f) {
        key.sum[f * buckets + slot] = 0;
        key.count[f * buckets + slot] = 0;
      }
      key.slot_bucket[slot] = bucket;
    }
  }

  const auto& fields = record.fields();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const JsonField& f = fields[i];
    if (f.type != json_type::number || !std::isfinite(f.number)) continue;
    const std::size_t fi = field_index(i, f.key);
    if (fi == npos) continue;
    if (fi >= key.latest.size()) grow_fields(key);
    key.latest[fi] = f.number;
    key.has_latest[fi] = true;
    if (in_ring) {
      key.sum[fi * buckets + slot] += f.number;
      ++key.count[fi * buckets + slot];
    }
  }
}

void Dashboard::add_alert(const JsonRecord& record, std::string_view key, time_ms t) {
  Alert* a;
  if (alerts_.size() < config_.max_alerts) {
    a = &alerts_.emplace_back();
  } else {
    a = &alerts_[alert_next_];
  }
  alert_next_ = (alert_next_ + 1) % config_.max_alerts;
  a->time = t;
  a->key.assign(key);
  a->sensor.clear();
  for (std::string_view name : {field::sensor_id, std::string_view("sensor"), std::string_view("device_id")}) {
    if (auto s = record.string(name)) {
      a->sensor.assign(clip(*s, config_.max_text));
      break;
    }
  }
  a->severity.assign(clip(record.string(field::severity).value_or(""), config_.max_text));
  a->reasons.clear();
  if (const JsonField* r = record.find(field::reasons)) {
    if (r->type == json_type::string) {
      a->reasons.assign(clip(r->text, config_.max_text));
    } else if (r->type == json_type::array) {
      a->reasons = detail::join_json_strings(r->text.substr(0, 4 * config_.max_text));
      a->reasons.resize(clip(a->reasons, config_.max_text).size());
    }
  }
}

DashboardSnapshot Dashboard::snapshot(std::size_t spark_field, bool all_series) const {
  DashboardSnapshot s;
  s.records = records_;
  s.anomalies = anomalies_;
  s.has_time = has_time_;
  s.newest_time = has_time_ ? newest_ : 0;
  s.span = config_.span;
  s.fields = field_names_;
  s.keys_capped = keys_capped_;
  const bool spark = spark_field < field_names_.size();
  if (spark) s.spark_field = spark_field;
  const std::size_t buckets = config_.buckets;
  const std::int64_t newest_bucket = has_time_ ? floor_div(newest_, bucket_ms_) : 0;
  const std::int64_t oldest_bucket = newest_bucket - static_cast<std::int64_t>(buckets) + 1;
  s.rows.reserve(keys_.size());
  for (const Key& k : keys_) {
    KeyRow& row = s.rows.emplace_back();
    row.key = k.name;
    row.records = k.records;
    row.anomalies = k.anomalies;
    row.fields.resize(field_names_.size());
    if (spark) row.spark.assign(buckets, std::nan(""));
    if (all_series) row.series.assign(field_names_.size(), std::vector<double>(buckets, std::nan("")));
    for (std::size_t f = 0; f < field_names_.size() && f < k.latest.size(); ++f) {
      FieldStat& st = row.fields[f];
      st.has_latest = k.has_latest[f];
      st.latest = k.latest[f];
      double sum = 0;
      std::uint64_t n = 0;
      for (std::size_t slot = 0; slot < buckets; ++slot) {
        const std::int64_t b = k.slot_bucket[slot];
        const std::uint32_t c = k.count[f * buckets + slot];
        if (b < oldest_bucket || b > newest_bucket || c == 0) continue;
        sum += k.sum[f * buckets + slot];
        n += c;
        const double bucket_avg = k.sum[f * buckets + slot] / c;
        if (spark && f == spark_field) row.spark[static_cast<std::size_t>(b - oldest_bucket)] = bucket_avg;
        if (all_series) row.series[f][static_cast<std::size_t>(b - oldest_bucket)] = bucket_avg;
      }
      if (n > 0) {
        st.has_avg = true;
        st.avg = sum / static_cast<double>(n);
      }
    }
  }
  s.alerts.reserve(alerts_.size());
  for (std::size_t i = 0; i < alerts_.size(); ++i) {
    const std::size_t at = (alert_next_ + alerts_.size() - 1 - i) % alerts_.size();
    s.alerts.push_back(alerts_[at]);
  }
  return s;
}

void RateMeter::sample(time_ms now, std::uint64_t records, std::uint64_t anomalies) {
  samples_.push_back({now, records, anomalies});
  while (samples_.size() > 2 && samples_[1].t <= now - window_) samples_.erase(samples_.begin());
  const Sample& a = samples_.front();
  const Sample& b = samples_.back();
  if (b.t > a.t) {
    const double seconds = static_cast<double>(b.t - a.t) / 1000.0;
    records_rate_ = static_cast<double>(b.records - a.records) / seconds;
    anomalies_rate_ = static_cast<double>(b.anomalies - a.anomalies) / seconds;
  }
}

}  // namespace citypipe
