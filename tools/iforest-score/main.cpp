// iforest-score: Isolation Forest plus fixed-threshold rules, trained and
// scored in the pipe.
//
//   iforest-score train [FILE...] -o model.json     train, save the model
//   iforest-score score -m model.json [FILE...]     score with a saved model
//   iforest-score [--warmup N [--retrain-every K]] [FILE...]
//                                                   train on the stream itself
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include "citypipe/core/event_time.h"
#include "citypipe/core/file_write.h"
#include "citypipe/core/option_checks.h"
#include "citypipe/core/signals.h"
#include "citypipe/core/tool.h"
#include "citypipe/forest/model.h"
#include "citypipe/forest/rules.h"
#include "scoring.h"

using namespace citypipe;

namespace {

enum class Mode { train, score, stream };

struct Options {
  Mode mode = Mode::stream;
  std::string output;
  std::string model;
  std::vector<std::string> fields;
  std::string by;
  std::size_t trees = 100;
  std::size_t sample = 256;
  std::uint64_t seed = 0;
  double contamination = 0;
  double threshold = 0.6;
  std::size_t warmup = 0;
  std::size_t retrain_every = 0;
  std::size_t window = 0;
  std::vector<std::string> rule_texts;
  std::string rule_set;
  std::string missing = "reject";
};

Status read_file(const std::string& path, std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::error(errno == ENOENT ? errc::not_found : errc::io, std::strerror(errno));
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  const bool bad = std::ferror(f) != 0;
  std::fclose(f);
  if (bad) return Status::error(errc::io, "read error");
  return Status::ok();
}

// The options whose presence matters, beside their values.
struct Given {
  CLI::Option *seed, *contamination, *threshold, *warmup;
};

Given add_options(CLI::App& app, Options& o) {
  app.add_option("-o,--output", o.output, "train: write the model to FILE (- for standard output)")
      ->type_name("FILE");
  app.add_option("-m,--model", o.model, "Score with the model in FILE")->type_name("FILE");
  app.add_option("--fields", o.fields,
                 "Fields to use, in order (default: the numeric fields of the first record but "
                 "ts, ids and label)")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->type_name("A,B,...");
  app.add_option("--by", o.by, "One forest per value of FIELD, the global one for unseen values")
      ->type_name("FIELD");
  app.add_option("--trees", o.trees, "Trees in the forest (default 100)")
      ->type_name("N")
      ->check(integer_in(1, 100000));
  app.add_option("--sample", o.sample, "Rows drawn per tree, without replacement (default 256)")
      ->type_name("N")
      ->check(integer_in(2, std::int64_t{1} << 24));
  Given g{};
  g.seed = app.add_option("--seed", o.seed, "Seed for training (default: random, saved in the model)")
               ->type_name("N")
               ->check(integer_in(0, INT64_MAX));
  g.contamination = app.add_option("--contamination", o.contamination,
                                   "Threshold at the (1-P) quantile of the training scores")
                        ->type_name("P")
                        ->check(number_in(0.0, 0.5, true));
  g.threshold = app.add_option("--threshold", o.threshold, "Scores above T are anomalies (default 0.6)")
                    ->type_name("T")
                    ->check(number_in(0.0, 1.0));
  g.contamination->excludes(g.threshold);
  g.warmup = app.add_option("--warmup", o.warmup, "Train on the first N records, then score on")
                 ->type_name("N")
                 ->check(integer_in(2, std::int64_t{1} << 40));
  app.add_option("--retrain-every", o.retrain_every, "With --warmup: retrain every N records")
      ->type_name("N")
      ->check(integer_in(1, std::int64_t{1} << 40))
      ->needs(g.warmup);
  app.add_option("--window", o.window, "Retrain on the most recent M records (default: the --warmup N)")
      ->type_name("M")
      ->check(integer_in(2, std::int64_t{1} << 40))
      ->needs(g.warmup);
  app.add_option("--rule", o.rule_texts, "FIELD OP VALUE[:low|medium|high], OP one of > >= < <= == !=; repeatable")
      ->allow_extra_args(false)
      ->type_name("RULE");
  app.add_option("--rules", o.rule_set, "A named rule set: city (temperature<-5, temperature>40, aqi>300, noise_db>100, traffic>500)")
      ->type_name("SET");
  app.add_option("--missing", o.missing,
                 "A record lacking a field: reject (a bad line) or skip-field (score on the other fields)")
      ->type_name("POLICY")
      ->check(CLI::IsMember({"reject", "skip-field"}));
  return g;
}

// The combinations of options that make sense, and the rules and settings
// they give. Errors are usage errors.
Status configure(Options& o, const CLI::App& app, const Given& given, ScoringConfig& cfg,
                 ForestSettings& settings) {
  auto usage = [](std::string message) { return Status::error(errc::invalid_argument, std::move(message)); };
  if (o.mode == Mode::stream && !o.model.empty()) o.mode = Mode::score;
  if (o.mode == Mode::train && o.output.empty()) return usage("train needs -o MODEL");
  if (o.mode == Mode::train && !o.model.empty()) return usage("train takes -o, not -m");
  if (o.mode != Mode::train && !o.output.empty()) return usage("-o is for train");
  if (o.mode == Mode::score && o.model.empty()) return usage("score needs -m MODEL");
  if (o.mode != Mode::stream && *given.warmup) return usage("--warmup is for scoring without a model file");
  if (o.mode == Mode::score) {
    for (const char* opt : {"--by", "--trees", "--sample", "--seed", "--contamination"})
      if (app.count(opt) > 0) return usage(fmt::format("{} applies to training; the model has its own", opt));
  }
  cfg.skip_missing = o.missing == "skip-field";
  if (!o.rule_set.empty()) {
    if (Status s = preset_rules(o.rule_set, cfg.rules); !s.is_ok()) return s;
  }
  for (const auto& text : o.rule_texts) {
    Rule r;
    if (Status s = parse_rule(text, r); !s.is_ok()) return s;
    cfg.rules.push_back(std::move(r));
  }
  cfg.fields = o.fields;
  cfg.by = o.by;
  settings.params = {o.trees, o.sample, *given.seed ? o.seed : 0};
  if (!*given.seed) {
    std::uint64_t s = static_cast<std::uint64_t>(wall_clock_ms()) * 0x9e3779b97f4a7c15ULL;
    s ^= static_cast<std::uint64_t>(getpid()) << 32;
    settings.params.seed = s >> 1;  // fits in int64 too, for JSON readers that care
  }
  if (*given.contamination) settings.contamination = o.contamination;
  settings.threshold = o.threshold;
  return Status::ok();
}

// Reads -m's model and makes the configuration follow it.
Status load_model(const Options& o, bool threshold_given, ScoringConfig& cfg, IforestModel& model) {
  std::string text;
  Status st = read_file(o.model, text);
  if (st.is_ok()) st = IforestModel::from_json(text, model);
  if (!st.is_ok()) return st.with_prefix(o.model);
  if (!o.fields.empty() && o.fields != model.fields)
    return Status::error(errc::invalid_argument, fmt::format("--fields differs from the model's fields ({})",
                                                             fmt::join(model.fields, ",")));
  if (threshold_given) {
    model.global.threshold = o.threshold;
    for (auto& [key, k] : model.per_key) k.threshold = o.threshold;
  }
  cfg.fields = model.fields;
  cfg.by = model.by;
  return Status::ok();
}

// Field names that no record has are typos, usually: say so early, and say
// which when every line was rejected for lacking them.
void watch_fields(Tool& tool, const ScoringConfig& cfg, bool from_model) {
  tool.watch_fields(from_model ? "the model's field" : "--fields", cfg.fields);
  if (!cfg.by.empty()) tool.watch_fields(from_model ? "the model's --by field" : "--by", {cfg.by});
  for (const auto& r : cfg.rules) tool.watch_fields("the rule field", {r.field});
  tool.on_all_rejected([&tool, &cfg, from_model](const std::string&) {
    std::vector<std::string> lacking;
    for (const auto& f : tool.absent_fields())
      if (std::find(cfg.fields.begin(), cfg.fields.end(), f) != cfg.fields.end()) lacking.push_back(f);
    if (lacking.empty()) return std::string();
    return fmt::format("{} {}, which the input lacks{}", from_model ? "the model expects" : "--fields names",
                       fmt::join(lacking, ", "),
                       from_model ? " (a model trained on other data?)" : "");
  });
}

}  // namespace

int main(int argc, char** argv) {
  // Configuration: the mode word, then the options.
  Options o;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "train" || args[0] == "score")) {
    o.mode = args[0] == "train" ? Mode::train : Mode::score;
    args.erase(args.begin());
  }
  Tool tool("iforest-score",
            "Isolation Forest anomaly scores plus threshold rules for NDJSON records.\n"
            "Modes: 'train [FILE...] -o MODEL' saves a model; 'score -m MODEL [FILE...]' (or just -m)\n"
            "scores with it; without -m the forest trains on the input itself (all of it, or\n"
            "the first --warmup N records) and scores every record.");
  const Given given = add_options(tool.app(), o);

  // Arguments; parse() also installs the signal handlers (SIGINT/SIGTERM stop
  // the input, what was read is scored and written, then 130).
  if (auto rc = tool.parse(args)) return *rc;
  ScoringConfig cfg;
  ForestSettings settings;
  if (Status st = configure(o, tool.app(), given, cfg, settings); !st.is_ok()) return tool.finish(st);

  RecordInput in(tool);  // input files are checked here, before the model is read
  if (!in.status().is_ok()) return tool.finish(in.status());
  Status status;
  IforestModel model;
  switch (o.mode) {
    case Mode::score:
      status = load_model(o, given.threshold->count() > 0, cfg, model);
      if (!status.is_ok()) break;
      watch_fields(tool, cfg, true);
      status = score_with_model(tool, in, cfg, model);
      break;
    case Mode::train:
      if (!cfg.fields.empty()) watch_fields(tool, cfg, false);
      status = train_model(tool, in, cfg, settings, model);
      if (status.is_ok() && !stop_requested()) status = write_file_atomically(o.output, model.to_json());
      break;
    case Mode::stream:
      if (!cfg.fields.empty() || !cfg.rules.empty()) watch_fields(tool, cfg, false);
      status = score_online(tool, in, cfg, settings, OnlineSettings{o.warmup, o.retrain_every, o.window});
      break;
  }

  // The exit status.
  if (status.is_ok()) status = in.status();
  return tool.finish(status);
}
