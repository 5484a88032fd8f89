// The three ways iforest-score runs over its input: train and keep the
// model, score with a model, or train on the stream itself and score it.
#pragma once

#include <string>
#include <vector>

#include "citypipe/forest/model.h"
#include "citypipe/forest/rules.h"
#include "citypipe/core/tool.h"

struct ScoringConfig {
  std::vector<std::string> fields;  // empty: taken from the first record
  std::string by;
  std::vector<citypipe::Rule> rules;
  bool skip_missing = false;  // score records lacking fields on the trees' other paths
};

// Reads every record and trains on them.
citypipe::Status train_model(citypipe::Tool& tool, citypipe::RecordInput& in, ScoringConfig& cfg,
                             const citypipe::ForestSettings& settings, citypipe::IforestModel& out);

// Scores every record with a loaded model.
citypipe::Status score_with_model(citypipe::Tool& tool, citypipe::RecordInput& in,
                                  ScoringConfig& cfg, const citypipe::IforestModel& model);

// Trains on the input (all of it, or the warm-up, then retraining) and
// scores every record, the buffered warm-up ones included.
citypipe::Status score_online(citypipe::Tool& tool, citypipe::RecordInput& in, ScoringConfig& cfg,
                              const citypipe::ForestSettings& settings,
                              const citypipe::OnlineSettings& online);
