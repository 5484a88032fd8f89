#include "citypipe/forest/model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include <simdjson.h>

#include "citypipe/core/hash.h"
#include "citypipe/core/json_write.h"

namespace citypipe {

Severity forest_severity(double score, double threshold) {
  if (!(score > threshold)) return Severity::none;
  if (score <= threshold + 0.05) return Severity::low;
  if (score <= threshold + 0.10) return Severity::medium;
  return Severity::high;
}

namespace {

std::uint64_t key_seed(std::uint64_t seed, std::string_view key) { return seed ^ fnv1a(key); }

KeyedForest train_one(const ForestSettings& s, std::uint64_t seed, const double* rows,
                      std::size_t n, std::size_t nf) {
  KeyedForest k;
  ForestParams p = s.params;
  p.seed = seed;
  k.forest = IsolationForest::train(rows, n, nf, p);
  k.training_size = n;
  if (s.contamination) {
    std::vector<double> scores(n);
    k.forest.score_batch(rows, n, scores.data());
    k.threshold = contamination_threshold(std::move(scores), *s.contamination);
  } else {
    k.threshold = s.threshold;
  }
  return k;
}

}  // namespace

IforestModel IforestModel::train(std::vector<std::string> fields, std::string by,
                                 const ForestSettings& settings, const double* rows,
                                 std::size_t n, const std::vector<std::string>& keys) {
  IforestModel m;
  m.fields = std::move(fields);
  m.by = std::move(by);
  m.settings = settings;
  m.training_size = n;
  const std::size_t nf = m.fields.size();
  m.global = train_one(settings, settings.params.seed, rows, n, nf);
  if (m.by.empty() || keys.size() != n) return m;
  std::map<std::string_view, std::vector<double>> groups;
  for (std::size_t i = 0; i < n; ++i) {
    if (keys[i].empty()) continue;  // no key value: global forest only
    auto& g = groups[keys[i]];
    g.insert(g.end(), rows + i * nf, rows + (i + 1) * nf);
  }
  for (const auto& [key, g] : groups) {
    const std::size_t count = g.size() / nf;
    if (count < 2) continue;
    m.per_key.emplace(std::string(key),
                      train_one(settings, key_seed(settings.params.seed, key), g.data(), count, nf));
  }
  return m;
}

const KeyedForest& IforestModel::forest_for(std::string_view key, bool& fallback) const {
  if (!by.empty()) {
    if (auto it = per_key.find(key); it != per_key.end()) {
      fallback = false;
      return it->second;
    }
  }
  fallback = !by.empty();
  return global;
}

namespace {

void write_forest(std::string& out, const KeyedForest& k) {
  out += "\"training_size\":";
  append_json_integer(out, static_cast<std::int64_t>(k.training_size));
  out += ",\"psi\":";
  append_json_integer(out, static_cast<std::int64_t>(k.forest.psi()));
  out += ",\"threshold\":";
  append_json_number(out, k.threshold);
  out += ",\"trees\":[";
  bool first_tree = true;
  for (const auto& t : k.forest.trees()) {
    if (!first_tree) out += ",\n";
    first_tree = false;
    const auto& nodes = t.nodes();
    auto list = [&](const char* name, auto value) {
      out += '"';
      out += name;
      out += "\":[";
      for (std::uint32_t i = 0; i < nodes.size(); ++i) {
        if (i) out += ',';
        value(i);
      }
      out += ']';
    };
    out += '{';
    list("feature", [&](std::uint32_t i) {
      append_json_integer(out, t.is_leaf(i) ? 0 : nodes[i].feature);
    });
    out += ',';
    list("split", [&](std::uint32_t i) { append_json_number(out, t.is_leaf(i) ? 0 : nodes[i].split); });
    out += ',';
    list("left", [&](std::uint32_t i) { append_json_integer(out, t.is_leaf(i) ? 0 : nodes[i].left); });
    out += ',';
    list("size", [&](std::uint32_t i) { append_json_integer(out, t.sizes()[i]); });
    out += '}';
  }
  out += "]";
}

}  // namespace

std::string IforestModel::to_json() const {
  std::string out;
  out += "{\"format\":\"citypipe-iforest\",\"version\":";
  append_json_integer(out, iforest_model_version);
  out += ",\"fields\":[";
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, fields[i]);
  }
  out += "],\"by\":";
  if (by.empty()) out += "null";
  else append_json_string(out, by);
  out += ",\"trees\":";
  append_json_integer(out, static_cast<std::int64_t>(settings.params.trees));
  out += ",\"sample\":";
  append_json_integer(out, static_cast<std::int64_t>(settings.params.sample));
  out += ",\"seed\":";
  out += std::to_string(settings.params.seed);
  out += ",\"contamination\":";
  if (settings.contamination) append_json_number(out, *settings.contamination);
  else out += "null";
  out += ",\"threshold\":";
  append_json_number(out, global.threshold);
  out += ",\"training_size\":";
  append_json_integer(out, static_cast<std::int64_t>(training_size));
  out += ",\n\"forests\":[\n{\"key\":null,";
  write_forest(out, global);
  out += '}';
  for (const auto& [key, k] : per_key) {
    out += ",\n{\"key\":";
    append_json_string(out, key);
    out += ',';
    write_forest(out, k);
    out += '}';
  }
  out += "]}\n";
  return out;
}

namespace {

namespace dom = simdjson::dom;

Status corrupt(std::string_view why) {
  return Status::error(errc::corrupt, "not a valid citypipe iforest model: " + std::string(why));
}

template <typename T>
bool read_uints(dom::element e, std::vector<T>& out) {
  dom::array a;
  if (e.get_array().get(a)) return false;
  out.clear();
  out.reserve(a.size());
  for (dom::element v : a) {
    std::uint64_t u;
    if (v.get_uint64().get(u) || u > std::numeric_limits<T>::max()) return false;
    out.push_back(static_cast<T>(u));
  }
  return true;
}

bool read_doubles(dom::element e, std::vector<double>& out) {
  dom::array a;
  if (e.get_array().get(a)) return false;
  out.clear();
  out.reserve(a.size());
  for (dom::element v : a) {
    double d;
    if (v.get_double().get(d)) return false;
    out.push_back(d);
  }
  return true;
}

// simdjson 3.0's result<element>::get(element&) does not report a missing
// key, so look fields up with their error checked first.
bool member(dom::object o, std::string_view key, dom::element& out) {
  auto r = o[key];
  if (r.error()) return false;
  out = r.value_unsafe();
  return true;
}

Status read_forest(dom::object f, std::size_t nf, KeyedForest& k) {
  std::uint64_t training_size = 0, psi = 0;
  dom::array trees;
  if (f["training_size"].get_uint64().get(training_size) || f["psi"].get_uint64().get(psi) ||
      f["threshold"].get_double().get(k.threshold) || f["trees"].get_array().get(trees))
    return corrupt("a forest lacks training_size, psi, threshold or trees");
  if (psi < 1 || psi > training_size) return corrupt("a forest's psi is out of range");
  std::vector<IsolationTree> built;
  built.reserve(trees.size());
  std::vector<std::uint32_t> feature, left, size;
  std::vector<double> split;
  for (dom::element t : trees) {
    dom::object to;
    dom::element fe, sp, le, si;
    if (t.get_object().get(to) || !member(to, "feature", fe) || !member(to, "split", sp) ||
        !member(to, "left", le) || !member(to, "size", si) || !read_uints(fe, feature) || !read_doubles(sp, split) ||
        !read_uints(le, left) || !read_uints(si, size))
      return corrupt("a tree lacks its feature, split, left or size arrays");
    std::string error;
    auto tree = IsolationTree::make(std::move(feature), std::move(split), std::move(left),
                                    std::move(size), nf, error);
    if (!tree) return corrupt(error);
    built.push_back(std::move(*tree));
    feature = {}; split = {}; left = {}; size = {};
  }
  k.training_size = training_size;
  k.forest = IsolationForest(std::move(built), nf, psi);
  return Status::ok();
}

}  // namespace

Status IforestModel::from_json(std::string_view text, IforestModel& out) {
  out = IforestModel{};
  dom::parser parser;
  dom::element doc;
  if (auto err = parser.parse(text.data(), text.size(), true).get(doc))
    return corrupt(std::string("invalid JSON: ") + simdjson::error_message(err));
  dom::object root;
  std::string_view format;
  if (doc.get_object().get(root) || root["format"].get_string().get(format) ||
      format != "citypipe-iforest")
    return corrupt("no \"format\":\"citypipe-iforest\"");
  std::int64_t version = 0;
  if (root["version"].get_int64().get(version)) return corrupt("no version");
  if (version != iforest_model_version)
    return Status::error(errc::corrupt, "model file version " + std::to_string(version) +
                                        " is not supported (this iforest-score reads version " +
                                        std::to_string(iforest_model_version) + "); train it again");
  dom::array fields;
  if (root["fields"].get_array().get(fields) || fields.size() == 0) return corrupt("no fields");
  for (dom::element f : fields) {
    std::string_view name;
    if (f.get_string().get(name)) return corrupt("a field name is not a string");
    out.fields.emplace_back(name);
  }
  dom::element by;
  if (!member(root, "by", by)) return corrupt("no by");
  if (!by.is_null()) {
    std::string_view b;
    if (by.get_string().get(b) || b.empty()) return corrupt("by is not a field name");
    out.by = std::string(b);
  }
  std::uint64_t trees = 0, sample = 0, seed = 0, training_size = 0;
  if (root["trees"].get_uint64().get(trees) || root["sample"].get_uint64().get(sample) ||
      root["seed"].get_uint64().get(seed) || root["training_size"].get_uint64().get(training_size))
    return corrupt("trees, sample, seed or training_size missing");
  out.settings.params = {trees, sample, seed};
  out.training_size = training_size;
  dom::element cont;
  if (!member(root, "contamination", cont)) return corrupt("no contamination");
  if (!cont.is_null()) {
    double c;
    if (cont.get_double().get(c)) return corrupt("contamination is not a number");
    out.settings.contamination = c;
  }
  if (root["threshold"].get_double().get(out.settings.threshold)) return corrupt("no threshold");
  dom::array forests;
  if (root["forests"].get_array().get(forests) || forests.size() == 0) return corrupt("no forests");
  bool have_global = false;
  for (dom::element fe : forests) {
    dom::object f;
    if (fe.get_object().get(f)) return corrupt("a forest is not an object");
    dom::element key;
    if (!member(f, "key", key)) return corrupt("a forest has no key");
    KeyedForest k;
    if (Status s = read_forest(f, out.fields.size(), k); !s.is_ok()) return s;
    if (key.is_null()) {
      if (have_global) return corrupt("two global forests");
      have_global = true;
      out.global = std::move(k);
    } else {
      std::string_view name;
      if (key.get_string().get(name)) return corrupt("a forest key is not a string");
      if (out.by.empty()) return corrupt("a keyed forest in a model without by");
      out.per_key.emplace(std::string(name), std::move(k));
    }
  }
  if (!have_global) return corrupt("no global forest");
  return Status::ok();
}

OnlineDetector::OnlineDetector(std::vector<std::string> fields, std::string by,
                               ForestSettings settings, OnlineSettings online)
    : fields_(std::move(fields)),
      by_(std::move(by)),
      settings_(settings),
      online_(online),
      capacity_(online.window != 0 ? std::max(online.window, online.warmup) : online.warmup) {}

bool OnlineDetector::add(const double* x, std::string_view key) {
  const std::size_t nf = fields_.size();
  ++seen_;
  if (capacity_ == 0 || keys_.size() < capacity_) {
    rows_.insert(rows_.end(), x, x + nf);
    keys_.emplace_back(key);
  } else {
    std::copy(x, x + nf, rows_.begin() + static_cast<std::ptrdiff_t>(head_ * nf));
    keys_[head_] = std::string(key);
    head_ = (head_ + 1) % capacity_;
  }
  ++since_training_;
  if (!trained()) {
    if (online_.warmup != 0 && seen_ >= online_.warmup) return train_now();
    return false;
  }
  if (online_.retrain_every != 0 && since_training_ >= online_.retrain_every) return train_now();
  return false;
}

bool OnlineDetector::next_add_trains() const {
  if (!trained()) return online_.warmup != 0 && seen_ + 1 >= online_.warmup && keys_.size() + 1 >= 2;
  return online_.retrain_every != 0 && since_training_ + 1 >= online_.retrain_every;
}

bool OnlineDetector::train_now() {
  const std::size_t nf = fields_.size();
  const std::size_t n = keys_.size();
  if (n < 2) return false;
  ForestSettings s = settings_;
  s.params.seed = settings_.params.seed + trainings_;
  if (head_ == 0) {
    model_ = IforestModel::train(fields_, by_, s, rows_.data(), n, keys_);
  } else {  // oldest first, so that the same rows give the same forest
    std::vector<double> rows;
    std::vector<std::string> keys;
    rows.reserve(rows_.size());
    keys.reserve(n);
    const auto h = static_cast<std::ptrdiff_t>(head_);
    rows.insert(rows.end(), rows_.begin() + h * static_cast<std::ptrdiff_t>(nf), rows_.end());
    rows.insert(rows.end(), rows_.begin(), rows_.begin() + h * static_cast<std::ptrdiff_t>(nf));
    keys.insert(keys.end(), keys_.begin() + h, keys_.end());
    keys.insert(keys.end(), keys_.begin(), keys_.begin() + h);
    model_ = IforestModel::train(fields_, by_, s, rows.data(), n, keys);
  }
  ++trainings_;
  since_training_ = 0;
  return true;
}

}  // namespace citypipe
