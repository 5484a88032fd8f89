// What iforest-score trains, saves and scores with: one Isolation Forest per
// key value plus a global one, each with its threshold; the versioned JSON
// model file; and the streaming trainer (warm-up, then retraining on a
// sliding window, iForestASD-style). No I/O: text in, text out.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "citypipe/forest/iforest.h"
#include "citypipe/forest/rules.h"
#include "citypipe/core/status.h"

namespace citypipe {

inline constexpr int iforest_model_version = 1;

struct ForestSettings {
  ForestParams params;
  std::optional<double> contamination;  // threshold from training scores when set
  double threshold = 0.6;               // otherwise this fixed one
};

// The forest's own severity: none at or below the threshold t, then low up to
// t + 0.05, medium up to t + 0.10, high above.
Severity forest_severity(double score, double threshold);

struct KeyedForest {
  IsolationForest forest;
  double threshold = 0.6;
  std::size_t training_size = 0;
};

class IforestModel {
 public:
  std::vector<std::string> fields;  // the row layout, in order
  std::string by;                   // key field; empty for a single forest
  ForestSettings settings;
  std::size_t training_size = 0;
  KeyedForest global;
  std::map<std::string, KeyedForest, std::less<>> per_key;

  // Trains the global forest on all n rows (row-major, fields.size() wide,
  // no NaN) and, when by is set, one forest per key value with at least two
  // rows (keys[i] is row i's key; an empty key joins the global forest
  // only). Per-key forests get seeds derived from the seed and the key, so
  // each is reproducible on its own.
  static IforestModel train(std::vector<std::string> fields, std::string by,
                            const ForestSettings& settings, const double* rows, std::size_t n,
                            const std::vector<std::string>& keys);

  // The forest for a key: its own, or the global one (fallback = true) when
  // the key was not seen in training or the model has no keys.
  const KeyedForest& forest_for(std::string_view key, bool& fallback) const;

  // The model file: one JSON object and a newline.
  std::string to_json() const;
  // Reads a model file; a corrupt file or another version fails with
  // errc::corrupt and a message saying which.
  static Status from_json(std::string_view text, IforestModel& out);
};

struct OnlineSettings {
  std::size_t warmup = 0;         // 0: train once, at the end of input
  std::size_t retrain_every = 0;  // 0: never retrain
  std::size_t window = 0;         // rows kept for retraining; 0: warmup (or all)
};

// Collects rows, trains after the warm-up and retrains every retrain_every
// rows on the most recent window rows. Training seeds advance with each
// retraining, so a run is reproducible as a whole.
class OnlineDetector {
 public:
  OnlineDetector(std::vector<std::string> fields, std::string by, ForestSettings settings,
                 OnlineSettings online);

  // Adds one complete row (fields.size() values, no NaN) and its key.
  // Returns true when this row completed a training or retraining.
  bool add(const double* x, std::string_view key);
  // Whether the next add() will (re)train, so that the caller can first
  // finish scoring with the model it has.
  bool next_add_trains() const;
  // Trains on what the window holds (end of input before the warm-up was
  // reached). False when it holds fewer than two rows.
  bool train_now();

  bool trained() const { return trainings_ > 0; }
  std::size_t trainings() const { return trainings_; }
  std::size_t rows_seen() const { return seen_; }
  const IforestModel& model() const { return model_; }

 private:
  std::vector<std::string> fields_;
  std::string by_;
  ForestSettings settings_;
  OnlineSettings online_;
  std::size_t capacity_;  // 0: unbounded
  std::vector<double> rows_;
  std::vector<std::string> keys_;
  std::size_t head_ = 0;  // next slot to overwrite once full
  std::size_t seen_ = 0;
  std::size_t since_training_ = 0;
  std::size_t trainings_ = 0;
  IforestModel model_;
};

}  // namespace citypipe
