#include "citypipe/window/engine.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "citypipe/core/util.h"

namespace citypipe {

namespace {

constexpr time_ms max_window = 1000LL * 86400 * 366 * 100;  // a century

}  // namespace

std::string WindowSpec::name() const {
  switch (kind) {
    case window_kind::tumble: return "tumble:" + format_duration(size);
    case window_kind::slide: return "slide:" + format_duration(size) + "," + format_duration(step);
    case window_kind::session: return "session:" + format_duration(size);
  }
  return {};
}

std::optional<WindowSpec> parse_window_spec(std::string_view text, std::string& error) {
  const std::size_t colon = text.find(':');
  const std::string_view kind = text.substr(0, colon);
  const std::string_view args = colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
  auto duration = [&](std::string_view d, const char* what) -> std::optional<time_ms> {
    auto v = parse_duration(d);
    if (!v || *v <= 0 || *v > max_window) {
      error = "window '" + std::string(text) + "': bad " + what + " '" + std::string(d) + "'";
      return std::nullopt;
    }
    return v;
  };
  WindowSpec spec;
  if (kind == "tumble" || kind == "session") {
    spec.kind = kind == "tumble" ? window_kind::tumble : window_kind::session;
    auto size = duration(args, kind == "tumble" ? "size" : "gap");
    if (!size) return std::nullopt;
    spec.size = *size;
    spec.step = kind == "tumble" ? *size : 0;
    return spec;
  }
  if (kind == "slide") {
    const std::size_t comma = args.find(',');
    if (comma == std::string_view::npos) {
      error = "window '" + std::string(text) + "': expected slide:SIZE,STEP";
      return std::nullopt;
    }
    auto size = duration(args.substr(0, comma), "size");
    if (!size) return std::nullopt;
    auto step = duration(args.substr(comma + 1), "step");
    if (!step) return std::nullopt;
    if (*step > *size) {
      error = "window '" + std::string(text) + "': the step is longer than the size";
      return std::nullopt;
    }
    if (*size / std::gcd(*size, *step) > 100000) {
      error = "window '" + std::string(text) + "': size and step need a common divisor of at least size/100000";
      return std::nullopt;
    }
    spec.kind = *step == *size ? window_kind::tumble : window_kind::slide;
    spec.size = *size;
    spec.step = *step;
    return spec;
  }
  error = "window '" + std::string(text) + "': expected tumble:SIZE, slide:SIZE,STEP or session:GAP";
  return std::nullopt;
}

WindowEngine::WindowEngine(WindowConfig config)
    : config_(std::move(config)),
      scratch_(fresh_accumulator()),
      empty_(fresh_accumulator()) {
  for (const auto& spec : config_.windows) {
    DefState d;
    d.spec = spec;
    d.pane = spec.kind == window_kind::session ? 0 : std::gcd(spec.size, spec.step);
    defs_.push_back(std::move(d));
  }
  one_paned_ = defs_.size() == 1 && defs_[0].spec.kind != window_kind::session && !config_.emit_empty;
}

std::uint32_t WindowEngine::intern_key(std::string_view key) {
  // A known key is found by its view (StringHash); only a new one is copied.
  if (auto known = key_ids_.find(key); known != key_ids_.end()) return known->second;
  const auto id = static_cast<std::uint32_t>(keys_.size());
  key_ids_.emplace(std::string(key), id);
  keys_.emplace_back(key);
  key_first_time_.push_back(std::numeric_limits<time_ms>::max());
  for (auto& d : defs_) d.keys.emplace_back();
  return id;
}

time_ms WindowEngine::align(time_ms t, time_ms unit) const {
  return config_.offset + floor_div(t - config_.offset, unit) * unit;
}

bool WindowEngine::add_any(std::uint32_t key, time_ms t, std::span<const double> values,
                           std::span<const std::uint8_t> trues, std::int64_t position) {
  bool late = false;
  for (auto& d : defs_)
    late |= d.spec.kind == window_kind::session ? add_session(d, key, t, values, trues, position)
                                                : add_paned(d, key, t, values, trues, position);
  key_first_time_[key] = std::min(key_first_time_[key], t);
  saw(t);
  if (late) ++late_;
  return late;
}

bool WindowEngine::add_paned(DefState& d, std::uint32_t key, time_ms t,
                             std::span<const double> values, std::span<const std::uint8_t> trues,
                             std::int64_t position) {
  const time_ms size = d.spec.size, step = d.spec.step;
  KeyState& ks = d.keys[key];
  Slot* slot = ks.cached;
  // A key's records mostly fall in the pane of its last one: no divisions then.
  // Every time in a pane has the same latest window, since panes divide steps.
  if (in_cached_pane(ks, t)) {
    if (has_time_ && ks.cached_last_end <= watermark_) return true;
  } else {
    const time_ms last_start = align(t, step);  // the latest window holding t
    if (has_time_ && last_start + size <= watermark_) return true;
    const time_ms pane_start = align(t, d.pane);
    auto it = ks.slots.find(pane_start);
    if (it == ks.slots.end()) {
      // A window is due once for each key with data in it: register the open
      // windows holding this pane that had no data of this key yet.
      for (time_ms s = last_start; s + size > pane_start; s -= step) {
        const time_ms e = s + size;
        if (has_time_ && e <= watermark_) break;
        auto other = ks.slots.lower_bound(s);
        if (other == ks.slots.end() || other->first >= e) d.due[e].push_back(key);
      }
      it = ks.slots.emplace(pane_start, Slot{pane_start + d.pane, fresh_accumulator()}).first;
    }
    slot = &it->second;
    ks.cached = slot;
    ks.cached_start = pane_start;
    ks.cached_last_end = last_start + size;
  }
  slot->acc.add(t, values, trues);
  slot->oldest = std::min(slot->oldest, position);
  if (config_.emit_empty) {
    auto first_end_after = [&](time_ms x) { return align(x - size, step) + size + step; };
    time_ms candidate = first_end_after(t);
    if (has_time_ && candidate <= watermark_) candidate = first_end_after(watermark_);
    if (!d.next_empty_end || candidate < *d.next_empty_end) d.next_empty_end = candidate;
  }
  return false;
}

bool WindowEngine::add_session(DefState& d, std::uint32_t key, time_ms t,
                               std::span<const double> values, std::span<const std::uint8_t> trues,
                               std::int64_t position) {
  const time_ms gap = d.spec.size;
  KeyState& ks = d.keys[key];
  // Sessions of a key are disjoint, so those overlapping [t, t + gap) are a run.
  auto last = ks.slots.lower_bound(t + gap);
  auto first = last;
  while (first != ks.slots.begin() && std::prev(first)->second.end > t) --first;
  if (first == last) {
    if (has_time_ && t + gap <= watermark_) return true;
    auto it = ks.slots.emplace(t, Slot{t + gap, fresh_accumulator()}).first;
    d.sessions.emplace(t + gap, key, t);
    it->second.acc.add(t, values, trues);
    it->second.oldest = position;
    return false;
  }
  auto target = first;
  time_ms end = std::max(t + gap, std::prev(last)->second.end);
  d.sessions.erase({target->second.end, key, target->first});
  for (auto it = std::next(first); it != last;) {
    target->second.acc.merge(it->second.acc);
    target->second.oldest = std::min(target->second.oldest, it->second.oldest);
    d.sessions.erase({it->second.end, key, it->first});
    it = ks.slots.erase(it);
  }
  if (t < target->first) {
    auto node = ks.slots.extract(target);
    node.key() = t;
    target = ks.slots.insert(std::move(node)).position;
  }
  target->second.end = end;
  d.sessions.emplace(end, key, target->first);
  target->second.acc.add(t, values, trues);
  target->second.oldest = std::min(target->second.oldest, position);
  return false;
}

std::optional<std::int64_t> WindowEngine::oldest_position() const {
  std::optional<std::int64_t> oldest;
  for (const auto& d : defs_)
    for (const auto& ks : d.keys)
      for (const auto& [start, slot] : ks.slots)
        if (!oldest || slot.oldest < *oldest) oldest = slot.oldest;
  return oldest;
}

void WindowEngine::begin_restore() {
  holding_ = true;
  has_time_ = false;
}

void WindowEngine::restore(time_ms watermark) {
  holding_ = false;
  has_time_ = true;
  watermark_ = watermark;
  // The highest event time then was at most this; a record below it moves
  // the watermark no further, as before the restart.
  max_time_ = std::max(max_time_, watermark + config_.lateness);
  emit_until(watermark, watermark, [](const WindowResult&) {});
}

void WindowEngine::advance_watermark(time_ms w) {
  if (has_time_) watermark_ = std::max(watermark_, w);
}

std::optional<time_ms> WindowEngine::watermark() const {
  if (!has_time_) return std::nullopt;
  return watermark_;
}

std::optional<time_ms> WindowEngine::next_end() const {
  std::optional<time_ms> best;
  auto consider = [&](time_ms e) {
    if (!best || e < *best) best = e;
  };
  for (const auto& d : defs_) {
    if (!d.due.empty()) consider(d.due.begin()->first);
    if (!d.sessions.empty()) consider(std::get<0>(*d.sessions.begin()));
    if (config_.emit_empty && d.next_empty_end) consider(*d.next_empty_end);
  }
  return best;
}

std::size_t WindowEngine::emit(const Sink& sink) {
  if (!has_time_) return 0;
  return emit_until(watermark_, watermark_, sink);
}

std::size_t WindowEngine::finish(const Sink& sink) {
  return emit_until(std::numeric_limits<time_ms>::max(), std::nullopt, sink);
}

std::size_t WindowEngine::emit_until(time_ms w, std::optional<time_ms> empty_limit, const Sink& sink) {
  pending_.clear();
  std::vector<std::uint8_t> has_data;
  for (std::uint32_t di = 0; di < defs_.size(); ++di) {
    DefState& d = defs_[di];
    if (d.spec.kind == window_kind::session) {
      while (!d.sessions.empty() && std::get<0>(*d.sessions.begin()) <= w) {
        auto [end, key, start] = *d.sessions.begin();
        pending_.push_back({end, key, di, start, true});
        d.sessions.erase(d.sessions.begin());
      }
      continue;
    }
    if (!config_.emit_empty || !d.next_empty_end) {
      while (!d.due.empty() && d.due.begin()->first <= w) {
        for (std::uint32_t key : d.due.begin()->second)
          pending_.push_back({d.due.begin()->first, key, di, d.due.begin()->first - d.spec.size, true});
        d.due.erase(d.due.begin());
      }
      continue;
    }
    // Every window end in turn, data or not, up to the watermark (or at end
    // of input, up to the last window with data).
    time_ms limit = empty_limit ? *empty_limit : (d.due.empty() ? *d.next_empty_end - 1 : d.due.rbegin()->first);
    has_data.assign(keys_.size(), 0);
    for (time_ms e = *d.next_empty_end; e <= limit; e += d.spec.step) {
      const std::size_t from = pending_.size();
      if (!d.due.empty() && d.due.begin()->first == e) {
        for (std::uint32_t key : d.due.begin()->second) {
          pending_.push_back({e, key, di, e - d.spec.size, true});
          has_data[key] = 1;
        }
        d.due.erase(d.due.begin());
      }
      for (std::uint32_t key = 0; key < keys_.size(); ++key)
        if (!has_data[key] && key_first_time_[key] < e) pending_.push_back({e, key, di, e - d.spec.size, false});
      for (std::size_t i = from; i < pending_.size(); ++i) has_data[pending_[i].key] = 0;
      d.next_empty_end = e + d.spec.step;
    }
  }
  std::sort(pending_.begin(), pending_.end(), [this](const Pending& a, const Pending& b) {
    if (a.end != b.end) return a.end < b.end;
    if (a.key != b.key) return keys_[a.key] < keys_[b.key];
    return a.def < b.def;
  });
  for (const Pending& p : pending_) {
    DefState& d = defs_[p.def];
    KeyState& ks = d.keys[p.key];
    WindowResult r{p.def, p.start, p.end, p.key, &empty_};
    if (!p.has_data) {
      sink(r);
      continue;
    }
    if (d.spec.kind == window_kind::session) {
      auto it = ks.slots.find(p.start);
      r.acc = &it->second.acc;
      sink(r);
      ks.slots.erase(it);
      continue;
    }
    auto it = ks.slots.lower_bound(p.start);
    if (d.pane == d.spec.size) {
      r.acc = &it->second.acc;
    } else {
      scratch_ = fresh_accumulator();
      for (; it != ks.slots.end() && it->first < p.end; ++it) scratch_.merge(it->second.acc);
      r.acc = &scratch_;
    }
    sink(r);
    // No later window of this definition starts before p.start + step.
    const time_ms keep_from = p.start + d.spec.step;
    ks.slots.erase(ks.slots.begin(), ks.slots.lower_bound(keep_from));
    if (ks.cached != nullptr && ks.cached_start < keep_from) ks.cached = nullptr;
  }
  return pending_.size();
}

}  // namespace citypipe
