// iforest-score: Isolation Forest plus fixed-threshold rules, trained and
// scored in the pipe.
//
//   iforest-score train [FILE...] -o model.json     train, save the model
//   iforest-score score -m model.json [FILE...]     score with a saved model
//   iforest-score [--warmup N [--retrain-every K]] [FILE...]
//                                                   train on the stream itself
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include "citypipe/core/event_time.h"
#include "citypipe/forest/model.h"
#include "citypipe/forest/rules.h"
#include "citypipe/core/signals.h"
#include "citypipe/core/tool.h"
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
  if (f == nullptr)
    return Status::error(exit_no_input, fmt::format("cannot open: {}", std::strerror(errno)));
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  const bool bad = std::ferror(f) != 0;
  std::fclose(f);
  if (bad) return Status::error(exit_io, std::string("read error"));
  return Status::ok();
}

// Written beside the target and renamed, so a reader never sees half a model.
Status write_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr)
    return Status::error(exit_io, fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status::error(exit_io, fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  }
  return Status::ok();
}

}  // namespace

int main(int argc, char** argv) {
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
  CLI::App& app = tool.app();
  app.add_option("-o,--output", o.output, "train: write the model to FILE")->type_name("FILE");
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
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000}));
  app.add_option("--sample", o.sample, "Rows drawn per tree, without replacement (default 256)")
      ->type_name("N")
      ->check(CLI::Range(std::size_t{2}, std::size_t{1} << 24));
  auto* seed_opt = app.add_option("--seed", o.seed, "Seed for training (default: random, saved in the model)")
                       ->type_name("N");
  auto* cont_opt = app.add_option("--contamination", o.contamination,
                                  "Threshold at the (1-P) quantile of the training scores")
                       ->type_name("P")
                       ->check(CLI::Range(1e-9, 0.5));
  auto* thr_opt = app.add_option("--threshold", o.threshold, "Scores above T are anomalies (default 0.6)")
                      ->type_name("T")
                      ->check(CLI::Range(0.0, 1.0));
  cont_opt->excludes(thr_opt);
  auto* warm_opt = app.add_option("--warmup", o.warmup, "Train on the first N records, then score on")
                       ->type_name("N")
                       ->check(CLI::Range(std::size_t{2}, std::size_t{1} << 40));
  app.add_option("--retrain-every", o.retrain_every, "With --warmup: retrain every N records")
      ->type_name("N")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 40))
      ->needs(warm_opt);
  app.add_option("--window", o.window, "Retrain on the most recent M records (default: the --warmup N)")
      ->type_name("M")
      ->check(CLI::Range(std::size_t{2}, std::size_t{1} << 40))
      ->needs(warm_opt);
  app.add_option("--rule", o.rule_texts, "FIELD OP VALUE[:low|medium|high], OP one of > >= < <= == !=; repeatable")
      ->allow_extra_args(false)
      ->type_name("RULE");
  app.add_option("--rules", o.rule_set, "A named rule set: city (temperature<-5, temperature>40, aqi>300, noise_db>100, traffic>500)")
      ->type_name("SET");
  app.add_option("--missing", o.missing,
                 "A record lacking a field: reject (a bad line) or skip-field (score on the other fields)")
      ->type_name("POLICY")
      ->check(CLI::IsMember({"reject", "skip-field"}));
  if (auto rc = tool.parse(args)) return *rc;

  auto usage = [&](std::string_view message) {
    tool.warn(message);
    return exit_usage;
  };
  if (o.mode == Mode::stream && !o.model.empty()) o.mode = Mode::score;
  if (o.mode == Mode::train && o.output.empty()) return usage("train needs -o MODEL");
  if (o.mode == Mode::train && !o.model.empty()) return usage("train takes -o, not -m");
  if (o.mode != Mode::train && !o.output.empty()) return usage("-o is for train");
  if (o.mode == Mode::score && o.model.empty()) return usage("score needs -m MODEL");
  if (o.mode != Mode::stream && *warm_opt) return usage("--warmup is for scoring without a model file");
  if (o.mode == Mode::score) {
    for (const char* opt : {"--by", "--trees", "--sample", "--seed", "--contamination"})
      if (app.count(opt) > 0) return usage(fmt::format("{} applies to training; the model has its own", opt));
  }

  ScoringConfig cfg;
  cfg.skip_missing = o.missing == "skip-field";
  if (!o.rule_set.empty()) {
    if (Status s = preset_rules(o.rule_set, cfg.rules); !s.is_ok()) return usage(s.message());
  }
  for (const auto& text : o.rule_texts) {
    Rule r;
    if (Status s = parse_rule(text, r); !s.is_ok()) return usage(s.message());
    cfg.rules.push_back(std::move(r));
  }

  ForestSettings settings;
  settings.params = {o.trees, o.sample, *seed_opt ? o.seed : 0};
  if (!*seed_opt) {
    std::uint64_t s = static_cast<std::uint64_t>(wall_clock_ms()) * 0x9e3779b97f4a7c15ULL;
    s ^= static_cast<std::uint64_t>(getpid()) << 32;
    settings.params.seed = s >> 1;  // fits in int64 too, for JSON readers that care
  }
  if (*cont_opt) settings.contamination = o.contamination;
  settings.threshold = o.threshold;

  RecordInput in(tool);
  Status status;
  IforestModel model;
  if (o.mode == Mode::score) {
    std::string text;
    status = read_file(o.model, text);
    if (status.is_ok()) status = IforestModel::from_json(text, model);
    if (!status.is_ok()) {
      status = Status::error(status.code(), fmt::format("{}: {}", o.model, status.message()));
      return tool.finish(status);
    }
    if (!o.fields.empty() && o.fields != model.fields)
      return usage(fmt::format("--fields differs from the model's fields ({})", fmt::join(model.fields, ",")));
    if (*thr_opt) {
      model.global.threshold = o.threshold;
      for (auto& [key, k] : model.per_key) k.threshold = o.threshold;
    }
    cfg.fields = model.fields;
    cfg.by = model.by;
    status = score_with_model(tool, in, cfg, model);
  } else {
    cfg.fields = o.fields;
    cfg.by = o.by;
    if (o.mode == Mode::train) {
      status = train_model(tool, in, cfg, settings, model);
      if (status.is_ok() && !stop_requested()) status = write_file(o.output, model.to_json());
    } else {
      OnlineSettings online{o.warmup, o.retrain_every, o.window};
      status = score_online(tool, in, cfg, settings, online);
    }
  }
  if (status.is_ok()) status = in.status();
  return tool.finish(status);
}
