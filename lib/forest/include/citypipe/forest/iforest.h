// Isolation Forest (Liu, Ting and Zhou, ICDM 2008) as plain data and
// functions: training on rows of doubles, scoring, no I/O. Scores are the
// paper's s = 2^(-E(h)/c(psi)) in [0,1], higher meaning more anomalous, the
// same as scikit-learn's -score_samples for the same trees.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace citypipe {

// c(n): the average path length of an unsuccessful search in a binary search
// tree of n points, c(0) = c(1) = 0, c(2) = 1 (as scikit-learn defines it).
double average_path_length(double n);

// One isolation tree in a flat array. Children of a split are adjacent
// (left, left + 1) and follow their parent; a leaf points at itself with an
// infinite split, so walking a fixed `depth` steps from the root always ends
// on the leaf a point falls into, without branches.
class IsolationTree {
 public:
  struct Node {
    double split;            // x[feature] < split goes left; +inf at a leaf
    std::uint32_t feature;
    std::uint32_t left;      // left child; a leaf's own index
  };

  // The nodes as stored in a model file: left[i] == 0 marks a leaf (the root
  // is nobody's child); size[i] is the number of training samples at node i.
  // Fails (nullopt, with error set) unless every child follows its parent,
  // every index is in range and every feature is below n_features.
  static std::optional<IsolationTree> make(std::vector<std::uint32_t> feature,
                                           std::vector<double> split,
                                           std::vector<std::uint32_t> left,
                                           std::vector<std::uint32_t> size,
                                           std::size_t n_features, std::string& error);

  // h(x): edges from the root to x's leaf plus c(leaf size).
  double path_length(const double* x) const {
    std::uint32_t i = 0;
    for (std::uint32_t d = 0; d < depth_; ++d)
      i = nodes_[i].left + static_cast<std::uint32_t>(x[nodes_[i].feature] >= nodes_[i].split);
    return leaf_value_[i];
  }
  // As path_length, but a NaN x[feature] takes both branches, weighted by the
  // share of training samples that went each way.
  double path_length_missing(const double* x) const;

  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<double>& leaf_values() const { return leaf_value_; }
  const std::vector<std::uint32_t>& sizes() const { return size_; }
  std::uint32_t depth() const { return depth_; }
  bool is_leaf(std::uint32_t i) const { return nodes_[i].left == i; }

 private:
  friend class IsolationForest;
  void finish();  // leaf values and depth from the structure

  std::vector<Node> nodes_;
  std::vector<double> leaf_value_;  // depth + c(size) at leaves
  std::vector<std::uint32_t> size_;
  std::uint32_t depth_ = 0;
};

struct ForestParams {
  std::size_t trees = 100;
  std::size_t sample = 256;  // psi, drawn without replacement (fewer if fewer rows)
  std::uint64_t seed = 0;
};

// For the flat walks: rank(x), how many of a feature's sorted distinct cuts
// are <= x, in one step. x's bucket, of equal width between the first and the
// last cut, tells how many cuts lie in the buckets before it; those of its
// own bucket that are <= x are then counted. Exact, because a value's bucket
// never decreases as the value grows.
struct RankIndex {
  double lo = 0, scale = 0;              // bucket(x) = (x - lo) * scale, clamped
  std::uint32_t last = 0;                // the last bucket; 0: no index, binary search
  std::uint32_t span = 0;                // most cuts in one bucket
  std::vector<std::uint32_t> first;      // per bucket, how many cuts lie in buckets before it
  std::vector<double> padded;            // the cuts, then eight NaN (never <= x)
};

class IsolationForest {
 public:
  IsolationForest() = default;
  // Builds from trees already made (a model file); psi is the sample size used.
  IsolationForest(std::vector<IsolationTree> trees, std::size_t n_features, std::size_t psi);

  // Trains on n_rows rows of n_features doubles (row-major). Each tree draws
  // psi = min(sample, n_rows) rows, splits a random non-constant attribute
  // uniformly in its range, up to height ceil(log2 psi). The same rows,
  // parameters and seed give the same forest everywhere. Rows containing NaN
  // must be left out by the caller.
  static IsolationForest train(const double* rows, std::size_t n_rows, std::size_t n_features,
                               const ForestParams& params);

  // The anomaly score of one row.
  double score(const double* x) const;
  // Scores of n rows (row-major) into out, each exactly equal to score();
  // tree by tree, so that each tree stays in cache while a batch goes
  // through it.
  void score_batch(const double* rows, std::size_t n, double* out) const;
  // As score, NaN meaning a missing field (see path_length_missing).
  double score_missing(const double* x) const;

  const std::vector<IsolationTree>& trees() const { return trees_; }
  std::size_t n_features() const { return n_features_; }
  std::size_t psi() const { return psi_; }

 private:
  double to_score(double mean_path) const;
  void flatten();
  void score_batch_nodes(const double* rows, std::size_t n, double* out) const;
  void score_batch_flat(const double* rows, std::size_t n, double* out) const;
  void score_batch_wide(const double* rows, std::size_t n, double* out) const;
  void score_batch_narrow(const double* rows, std::size_t n, double* out) const;

  // The trees again, for score_batch with AVX2: each padded to a complete
  // binary tree in heap order (a leaf above the bottom becomes splits that
  // always go left), each split replaced by its rank among the forest's
  // distinct splits of its feature. x >= split is then rank(x) >= rank(split),
  // rank(v) being how many cuts are <= v: exact, and integer compares. The top
  // levels are walked eight rows per vector (a level's nodes are a table
  // indexed by lane), the rest row by row. With AVX-512 and trees of at most
  // 8 levels (psi <= 256), every level is walked sixteen rows per vector, or
  // 32 when the ranks fit in 16 bits with the feature.
  struct Flat {
    struct Tree {
      std::uint32_t nodes, tables, leaves, depth;  // offsets into node, table, leaf
      std::uint32_t levels, levels16;              // offsets into level, level16
    };
    std::vector<std::vector<double>> cuts;  // per feature, sorted, distinct
    std::vector<RankIndex> index;           // per feature
    std::vector<std::uint64_t> node;        // heap order: rank of the split | column offset << 32
    std::vector<std::uint32_t> table;       // top levels: rank | feature << 28, 8 entries at least
    std::vector<std::uint32_t> level;       // every level, rank << 3 | feature, 16 entries at least
    std::vector<std::uint16_t> level16;     // the same in 16 bits, 32 entries at least
    std::vector<double> leaf;               // path length at each bottom slot
    std::vector<Tree> trees;
    bool usable = false;  // else the nodes are walked (no AVX2, deep trees, many fields)
    bool wide = false;    // usable, and level is walked with AVX-512
    bool narrow = false;  // wide, and level16 is walked instead: every rank fits in 13 bits
  };

  std::vector<IsolationTree> trees_;
  std::size_t n_features_ = 0;
  std::size_t psi_ = 0;
  double c_psi_ = 0;  // c(psi), the score's scale
  Flat flat_;
};

// The threshold that flags a share p of the training scores: their (1 - p)
// quantile with linear interpolation, as scikit-learn's contamination does.
double contamination_threshold(std::vector<double> scores, double p);

}  // namespace citypipe
