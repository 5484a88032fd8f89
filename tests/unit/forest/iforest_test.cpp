#include "citypipe/forest/iforest.h"
#include "citypipe/forest/model.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <catch2/catch.hpp>

using namespace citypipe;

namespace {

// Rows from a small deterministic generator: n rows of nf values in [0, 1).
std::vector<double> make_rows(std::size_t n, std::size_t nf, std::uint64_t s) {
  std::vector<double> rows(n * nf);
  for (auto& v : rows) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    v = static_cast<double>(s >> 11) * 0x1.0p-53;
  }
  return rows;
}

// root splits x0 at 0.5; left is a leaf of 3 samples, right splits x1 at 2
// into leaves of 1 and 0 samples.
IsolationTree hand_tree() {
  std::string error;
  auto t = IsolationTree::make({0, 0, 1, 0, 0}, {0.5, 0, 2.0, 0, 0}, {1, 0, 3, 0, 0}, {4, 3, 1, 1, 0},
                               2, error);
  REQUIRE(t);
  return *t;
}

}  // namespace

TEST_CASE("c(n) follows the paper and scikit-learn", "[iforest]") {
  CHECK(average_path_length(0) == 0);
  CHECK(average_path_length(1) == 0);
  CHECK(average_path_length(2) == 1);
  // 2 H(n-1) - 2 (n-1)/n with H(i) = ln i + gamma
  CHECK(average_path_length(256) == Approx(2 * (std::log(255.0) + 0.5772156649015329) - 2 * 255.0 / 256));
  CHECK(average_path_length(256) == Approx(10.244770920116851));
}

TEST_CASE("path length is depth plus c(leaf size), on a hand-built tree", "[iforest]") {
  const IsolationTree t = hand_tree();
  CHECK(t.depth() == 2);
  const double left[] = {0.2, 100};
  const double right_low[] = {0.7, 1};
  const double right_high[] = {0.5, 2};  // x >= split goes right, on both splits
  CHECK(t.path_length(left) == Approx(1 + average_path_length(3)));
  CHECK(t.path_length(right_low) == Approx(2.0));
  CHECK(t.path_length(right_high) == Approx(2.0));
  // A missing x1 takes both branches of the x1 split, weighted 1:0 by training sizes.
  const double missing[] = {0.9, std::numeric_limits<double>::quiet_NaN()};
  CHECK(t.path_length_missing(missing) == Approx(2.0));
  const double missing_root[] = {std::numeric_limits<double>::quiet_NaN(), 0};
  CHECK(t.path_length_missing(missing_root) == Approx(0.75 * (1 + average_path_length(3)) + 0.25 * 2.0));
}

TEST_CASE("the score of hand-built trees is 2^(-E(h)/c(psi))", "[iforest]") {
  IsolationForest f({hand_tree(), hand_tree()}, 2, 4);
  const double x[] = {0.7, 1};
  CHECK(f.score(x) == Approx(std::exp2(-2.0 / average_path_length(4))));
  const double y[] = {0.1, 1};
  CHECK(f.score(y) == Approx(std::exp2(-(1 + average_path_length(3)) / average_path_length(4))));
  double batch[2];
  const double rows[] = {0.7, 1, 0.1, 1};
  f.score_batch(rows, 2, batch);
  CHECK(batch[0] == Approx(f.score(x)));
  CHECK(batch[1] == Approx(f.score(y)));
}

TEST_CASE("malformed trees are refused", "[iforest]") {
  std::string error;
  CHECK_FALSE(IsolationTree::make({0}, {0.5}, {1}, {4}, 1, error));  // child out of range
  CHECK_FALSE(IsolationTree::make({0, 0, 0}, {0.5, 0, 0}, {1, 0, 0}, {2, 1, 1}, 0, error));  // feature
  CHECK_FALSE(IsolationTree::make({0, 0, 0, 0, 0}, {0.5, 0.1, 0, 0, 0}, {1, 1, 0, 0, 0}, {2, 1, 1, 0, 0}, 1,
                                  error));  // cycle
  CHECK_FALSE(IsolationTree::make({0, 0}, {0.5, 0}, {0, 0}, {2}, 1, error));  // lengths
  CHECK_FALSE(error.empty());
}

TEST_CASE("training is deterministic under a seed and isolates an outlier", "[iforest]") {
  auto rows = make_rows(2000, 3, 7);
  rows[0] = rows[1] = rows[2] = 25.0;  // row 0 far outside [0,1)^3
  const auto a = IsolationForest::train(rows.data(), 2000, 3, {100, 256, 42});
  const auto b = IsolationForest::train(rows.data(), 2000, 3, {100, 256, 42});
  const auto c = IsolationForest::train(rows.data(), 2000, 3, {100, 256, 43});
  REQUIRE(a.trees().size() == 100);
  CHECK(a.psi() == 256);
  std::vector<double> sa(2000), sb(2000), sc(2000);
  a.score_batch(rows.data(), 2000, sa.data());
  b.score_batch(rows.data(), 2000, sb.data());
  c.score_batch(rows.data(), 2000, sc.data());
  CHECK(sa == sb);
  CHECK(sa != sc);
  for (std::size_t i = 0; i < 2000; i += 97) CHECK(sa[i] == a.score(rows.data() + i * 3));
  // Height limit ceil(log2 256) = 8.
  for (const auto& t : a.trees()) CHECK(t.depth() <= 8);
  CHECK(sa[0] > 0.65);
  double mean = 0, top = 0;
  for (std::size_t i = 1; i < 2000; ++i) {
    mean += sa[i] / 1999;
    top = std::max(top, sa[i]);
  }
  CHECK(sa[0] > top);  // the outlier ranks first
  CHECK(mean < 0.55);  // uniform data scores about 0.5
  CHECK(mean > 0.4);
}

TEST_CASE("contamination sets the threshold at the (1-p) quantile", "[iforest]") {
  std::vector<double> s;
  for (int i = 0; i <= 100; ++i) s.push_back(i / 100.0);
  CHECK(contamination_threshold(s, 0.1) == Approx(0.9));
  CHECK(contamination_threshold({0.1, 0.2, 0.3, 0.4}, 0.5) == Approx(0.25));  // interpolated
  auto rows = make_rows(1000, 2, 3);
  ForestSettings st;
  st.params = {50, 128, 9};
  st.contamination = 0.05;
  auto m = IforestModel::train({"a", "b"}, "", st, rows.data(), 1000, {});
  std::vector<double> scores(1000);
  m.global.forest.score_batch(rows.data(), 1000, scores.data());
  std::size_t above = 0;
  for (double v : scores) above += v > m.global.threshold ? 1 : 0;
  CHECK(above >= 45);
  CHECK(above <= 55);
}

TEST_CASE("forest severity bands above the threshold", "[iforest]") {
  CHECK(forest_severity(0.6, 0.6) == Severity::none);
  CHECK(forest_severity(0.62, 0.6) == Severity::low);
  CHECK(forest_severity(0.68, 0.6) == Severity::medium);
  CHECK(forest_severity(0.75, 0.6) == Severity::high);
  CHECK(forest_severity(std::nan(""), 0.6) == Severity::none);
}

TEST_CASE("a model survives the round trip through its file", "[iforest][model]") {
  auto rows = make_rows(600, 2, 11);
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < 600; ++i) keys.push_back(i % 3 == 0 ? "north" : i % 3 == 1 ? "south" : "");
  ForestSettings st;
  st.params = {20, 64, 5};
  st.contamination = 0.1;
  auto m = IforestModel::train({"x", "y"}, "zone", st, rows.data(), 600, keys);
  REQUIRE(m.per_key.size() == 2);  // the empty key trains no forest of its own
  const std::string text = m.to_json();
  IforestModel back;
  REQUIRE(IforestModel::from_json(text, back).is_ok());
  CHECK(back.fields == m.fields);
  CHECK(back.by == "zone");
  CHECK(back.settings.params.seed == 5);
  CHECK(back.settings.contamination == 0.1);
  CHECK(back.training_size == 600);
  CHECK(back.to_json() == text);
  for (const char* key : {"north", "south", "west"}) {
    bool fa = false, fb = false;
    const auto& ka = m.forest_for(key, fa);
    const auto& kb = back.forest_for(key, fb);
    CHECK(fa == fb);
    CHECK(ka.threshold == kb.threshold);
    for (std::size_t i = 0; i < 600; i += 37) CHECK(ka.forest.score(rows.data() + 2 * i) == kb.forest.score(rows.data() + 2 * i));
  }
}

TEST_CASE("corrupt and foreign models are rejected with a reason", "[iforest][model]") {
  auto rows = make_rows(100, 2, 1);
  auto m = IforestModel::train({"x", "y"}, "", ForestSettings{}, rows.data(), 100, {});
  const std::string good = m.to_json();
  IforestModel out;
  auto fails = [&](std::string text, std::string_view what) {
    Status s = IforestModel::from_json(text, out);
    CHECK(s.kind() == errc::corrupt);
    CHECK(s.message().find(what) != std::string::npos);
  };
  fails("", "invalid JSON");
  fails(good.substr(0, good.size() / 2), "invalid JSON");
  fails("{\"format\":\"something\"}", "format");
  std::string v2 = good;
  v2.replace(v2.find("\"version\":1"), 11, "\"version\":2");
  fails(v2, "version 2 is not supported");
  std::string bad_left = good;
  bad_left.replace(bad_left.find("\"left\":[") + 8, 1, "0,9999");
  fails(bad_left, "tree");
  std::string not_a_tree = good;
  not_a_tree.replace(not_a_tree.find("\"trees\":[{") + 9, 0, "7,");
  fails(not_a_tree, "tree");
  std::string no_size = good;
  no_size.replace(no_size.find("\"size\":["), 7, "\"sise\":");
  fails(no_size, "tree");
  std::string no_trees = good;
  no_trees.replace(no_trees.find("\"trees\":["), 9, "\"tries\":[");
  fails(no_trees, "forest");
  // Found by fuzz_model: a tree without its feature array crashed the loader.
  std::string no_feature = good;
  no_feature.replace(no_feature.find("\"feature\":["), 10, "\"featur_\":");
  fails(no_feature, "tree");
  std::string no_by = good;
  no_by.replace(no_by.find("\"by\":"), 5, "\"b_\":");
  fails(no_by, "no by");
}

TEST_CASE("per-key forests, and the global one for unseen keys", "[iforest][model]") {
  // Two zones with different baselines: 10 in north is normal, in south odd.
  std::vector<double> rows;
  std::vector<std::string> keys;
  auto noise = make_rows(800, 1, 5);
  for (std::size_t i = 0; i < 800; ++i) {
    const bool north = i % 2 == 0;
    rows.push_back((north ? 10.0 : 0.0) + noise[i]);
    keys.push_back(north ? "north" : "south");
  }
  ForestSettings st;
  st.params = {100, 256, 3};
  auto m = IforestModel::train({"v"}, "zone", st, rows.data(), 800, keys);
  bool fb = true;
  const double ten = 10.5;
  CHECK(m.forest_for("north", fb).forest.score(&ten) < 0.5);
  CHECK_FALSE(fb);
  CHECK(m.forest_for("south", fb).forest.score(&ten) > 0.6);
  CHECK(&m.forest_for("east", fb) == &m.global);
  CHECK(fb);
  IforestModel plain = IforestModel::train({"v"}, "", st, rows.data(), 800, keys);
  CHECK(&plain.forest_for("north", fb) == &plain.global);
  CHECK_FALSE(fb);
}

TEST_CASE("the online detector trains after the warm-up and retrains on its window", "[iforest][online]") {
  ForestSettings st;
  st.params = {20, 64, 1};
  OnlineDetector d({"v"}, "", st, OnlineSettings{10, 5, 8});
  auto noise = make_rows(40, 1, 2);
  for (std::size_t i = 0; i < 9; ++i) {
    CHECK_FALSE(d.next_add_trains());
    CHECK_FALSE(d.add(&noise[i], ""));
  }
  CHECK_FALSE(d.trained());
  CHECK(d.next_add_trains());
  CHECK(d.add(&noise[9], ""));  // the 10th row completes the warm-up
  CHECK(d.trainings() == 1);
  CHECK(d.model().training_size == 10);
  for (std::size_t i = 10; i < 14; ++i) CHECK_FALSE(d.add(&noise[i], ""));
  CHECK(d.next_add_trains());
  CHECK(d.add(&noise[14], ""));  // five rows later
  CHECK(d.trainings() == 2);
  CHECK(d.model().training_size == 10);  // window of max(8, warm-up) rows
  // Drift: after a level shift and a retraining, the new level is normal.
  const double shifted = 50.5;
  const double before = d.model().global.forest.score(&shifted);
  for (std::size_t i = 15; i < 40; ++i) {
    const double v = 50 + noise[i];
    d.add(&v, "");
  }
  CHECK(d.trainings() == 7);
  CHECK(d.model().global.forest.score(&shifted) < before);
}

TEST_CASE("the online detector trains at the end when there is no warm-up", "[iforest][online]") {
  OnlineDetector d({"v"}, "", ForestSettings{}, OnlineSettings{});
  const double one = 1;
  CHECK_FALSE(d.add(&one, ""));
  CHECK_FALSE(d.train_now());  // one row is too few
  const double two = 2;
  CHECK_FALSE(d.add(&two, ""));
  CHECK(d.train_now());
  CHECK(d.model().training_size == 2);
}

TEST_CASE("batched scores equal one-at-a-time scores exactly, on every layout", "[iforest]") {
  // 1-8 fields take the padded rank layout, 9 the node walk; sample 2 makes
  // shallow trees (fewer levels than the vector part), 4096 deep ones. With
  // AVX-512, trees of sample <= 256 are walked in 16-bit lanes, or in 32-bit
  // ones when a field has more than 8190 distinct splits (100 trees of one or
  // two fields); CITYPIPE_CPU=avx2 or portable runs the other kernels here.
  struct Layout {
    std::size_t nf, sample, trees;
  };
  std::vector<Layout> layouts{{1, 256, 100}, {2, 256, 100}};
  for (std::size_t nf : {1, 2, 3, 5, 8, 9})
    for (std::size_t sample : {2, 16, 256, 4096}) layouts.push_back({nf, sample, 25});
  for (const auto& [nf, sample, trees] : layouts) {
    {
      auto rows = make_rows(5000, nf, 11 + nf);
      const auto f = IsolationForest::train(rows.data(), 5000, nf, {trees, sample, 5});
      // Probe on the splits themselves (x == split goes right), beside them, on
      // NaN (goes left) and far outside, in a count that is not a whole block.
      std::vector<double> probe(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(300 * nf));
      std::size_t k = 0;
      for (const auto& t : f.trees())
        for (std::uint32_t i = 0; i < t.nodes().size(); ++i, ++k)
          if (!t.is_leaf(i)) {
            const std::size_t at = (k % 300) * nf + t.nodes()[i].feature;
            probe[at] = k % 3 == 0 ? t.nodes()[i].split : std::nextafter(t.nodes()[i].split, k % 3 == 1 ? -1e9 : 1e9);
          }
      probe[nf] = std::numeric_limits<double>::quiet_NaN();
      probe[2 * nf] = 1e308;
      probe[3 * nf] = -1e308;
      std::vector<double> batch(300);
      f.score_batch(probe.data(), 300, batch.data());
      for (std::size_t r = 0; r < 300; ++r) {
        INFO("fields " << nf << ", sample " << sample << ", trees " << trees << ", row " << r);
        REQUIRE(batch[r] == f.score(probe.data() + r * nf));
      }
    }
  }
}

TEST_CASE("batched scores equal one-at-a-time scores on clustered and extreme values", "[iforest]") {
  // Ranks come from equal-width buckets between a field's first and last cut:
  // clustered values crowd many cuts into few buckets (more buckets, or the
  // binary search when too crowded), and values far outside or infinite land
  // in the end buckets. (+infinity is left out: score() walks past a leaf on
  // it, as leaves hold the split +infinity.)
  for (double power : {1.0, 4.0, 12.0, 40.0}) {
    auto rows = make_rows(5000, 3, 7);
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = std::pow(rows[i], power) * (i % 3 == 2 ? -1e6 : 1.0);
    const auto f = IsolationForest::train(rows.data(), 5000, 3, {100, 256, 3});
    std::vector<double> probe(rows.begin(), rows.begin() + 900 * 3);
    std::size_t k = 0;
    for (const auto& t : f.trees())
      for (std::uint32_t i = 0; i < t.nodes().size(); ++i, ++k)
        if (!t.is_leaf(i)) {
          const double s = t.nodes()[i].split;
          probe[(k % 900) * 3 + t.nodes()[i].feature] = k % 3 == 0 ? s : std::nextafter(s, k % 3 == 1 ? -1e300 : 1e300);
        }
    const double inf = std::numeric_limits<double>::infinity();
    const double extremes[] = {-inf, 1e308, -1e308, 0.0, -0.0, std::numeric_limits<double>::denorm_min(),
                               std::numeric_limits<double>::quiet_NaN()};
    for (std::size_t e = 0; e < std::size(extremes); ++e)
      for (std::size_t c = 0; c < 3; ++c) probe[(e * 3 + c) * 3 + c] = extremes[e];
    std::vector<double> batch(900);
    f.score_batch(probe.data(), 900, batch.data());
    for (std::size_t r = 0; r < 900; ++r) {
      INFO("power " << power << ", row " << r);
      REQUIRE(batch[r] == f.score(probe.data() + r * 3));
    }
  }
}
