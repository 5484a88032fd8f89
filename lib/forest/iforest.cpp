#include "citypipe/forest/iforest.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include <immintrin.h>

#include "citypipe/core/cpu.h"
#include "citypipe/core/random.h"

namespace citypipe {

namespace {

constexpr double euler_gamma = 0.5772156649015329;
constexpr double infinity = std::numeric_limits<double>::infinity();
constexpr std::size_t block_rows = 256;   // rows per block in score_batch
constexpr std::uint32_t simd_levels = 5;  // top levels walked eight rows per vector
constexpr std::uint32_t rank_mask = 0x0fffffff;  // ranks below this; a table entry's feature above
constexpr std::uint32_t wide_levels = 8;         // the AVX-512 walk's deepest tree (psi 256)
constexpr std::size_t narrow_max = 8190;         // the 16-bit walk's highest rank of x
constexpr std::uint16_t narrow_pad = 0xfff8;     // a padding node in 16 bits: rank 8191, always left

// The forest's draws over the shared generator: modulo (bias below 2^-40 for any
// sample size) and an open interval, as the models and figures were made with.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : random_(seed) {}
  std::uint64_t next() { return random_.next(); }
  std::uint64_t below(std::uint64_t n) { return random_.next() % n; }
  // Uniform in the open interval (0, 1).
  double unit() { return (static_cast<double>(random_.next() >> 11) + 0.5) * 0x1.0p-53; }

 private:
  Random random_;
};

// The bucket of x in a RankIndex: never decreasing with x (a subtraction and
// a multiplication by a positive number, then a clamp), NaN in bucket 0.
[[gnu::always_inline]] inline std::uint32_t bucket_of(double x, double lo, double scale, std::uint32_t last) {
  const double t = (x - lo) * scale;
  return t >= 0 ? (t < static_cast<double>(last) ? static_cast<std::uint32_t>(t) : last) : 0;
}

constexpr std::uint32_t rank_span_max = 8;  // most cuts a bucket may hold, else binary search

// The index of sorted distinct cuts: the fewest buckets (a power of two from
// about one per cut to eight per cut) that hold at most rank_span_max cuts
// each; none for few cuts or a range that is not finite.
RankIndex make_rank_index(const std::vector<double>& c) {
  RankIndex ix;
  if (c.size() < 32 || c.size() >= rank_mask) return ix;
  const double lo = c.front(), width = c.back() - lo;
  if (!std::isfinite(width) || !(width > 0)) return ix;
  std::vector<std::uint32_t> bucket(c.size());
  for (std::size_t nb = std::bit_ceil(c.size()); nb <= 8 * std::bit_ceil(c.size()); nb *= 2) {
    const double scale = static_cast<double>(nb) / width;
    if (!std::isfinite(scale)) break;
    const auto last = static_cast<std::uint32_t>(nb - 1);
    std::uint32_t span = 0, run = 0;
    for (std::size_t i = 0; i < c.size(); ++i) {
      bucket[i] = bucket_of(c[i], lo, scale, last);
      run = i > 0 && bucket[i] == bucket[i - 1] ? run + 1 : 1;
      span = std::max(span, run);
    }
    if (span > rank_span_max) continue;
    ix.lo = lo;
    ix.scale = scale;
    ix.last = last;
    ix.span = span;
    ix.first.assign(nb, 0);
    // first[b]: the cuts in buckets before b, that is the index of the first cut at or after it.
    std::size_t i = 0;
    for (std::size_t b = 0; b < nb; ++b) {
      while (i < c.size() && bucket[i] < b) ++i;
      ix.first[b] = static_cast<std::uint32_t>(i);
    }
    ix.padded = c;
    // NaN compares false with any x, +infinity included.
    ix.padded.resize(c.size() + rank_span_max, std::numeric_limits<double>::quiet_NaN());
    return ix;
  }
  return ix;
}

}  // namespace

double average_path_length(double n) {
  if (n <= 1) return 0;
  if (n <= 2) return 1;
  return 2.0 * (std::log(n - 1.0) + euler_gamma) - 2.0 * (n - 1.0) / n;
}

std::optional<IsolationTree> IsolationTree::make(std::vector<std::uint32_t> feature,
                                                 std::vector<double> split,
                                                 std::vector<std::uint32_t> left,
                                                 std::vector<std::uint32_t> size,
                                                 std::size_t n_features, std::string& error) {
  const std::size_t n = feature.size();
  if (n == 0 || split.size() != n || left.size() != n || size.size() != n) {
    error = "tree arrays are empty or of different lengths";
    return std::nullopt;
  }
  if (n > std::numeric_limits<std::uint32_t>::max() / 2) {
    error = "tree too large";
    return std::nullopt;
  }
  std::vector<std::uint8_t> parents(n, 0);
  IsolationTree t;
  t.nodes_.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto self = static_cast<std::uint32_t>(i);
    if (left[i] == 0) {
      t.nodes_[i] = {infinity, 0, self};
      continue;
    }
    if (left[i] <= i || std::size_t{left[i]} + 1 >= n) {
      error = "tree node " + std::to_string(i) + " has a child out of order or out of range";
      return std::nullopt;
    }
    if (feature[i] >= n_features || std::isnan(split[i])) {
      error = "tree node " + std::to_string(i) + " has a bad feature or split";
      return std::nullopt;
    }
    if (++parents[left[i]] > 1 || ++parents[left[i] + 1] > 1) {
      error = "tree node " + std::to_string(left[i]) + " has two parents";
      return std::nullopt;
    }
    t.nodes_[i] = {split[i], feature[i], left[i]};
  }
  for (std::size_t i = 1; i < n; ++i)
    if (parents[i] != 1) {
      error = "tree node " + std::to_string(i) + " is unreachable";
      return std::nullopt;
    }
  t.size_ = std::move(size);
  t.finish();
  return t;
}

void IsolationTree::finish() {
  const std::size_t n = nodes_.size();
  std::vector<std::uint32_t> node_depth(n, 0);
  leaf_value_.assign(n, 0.0);
  depth_ = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    if (is_leaf(i)) {
      leaf_value_[i] = node_depth[i] + average_path_length(size_[i]);
      depth_ = std::max(depth_, node_depth[i]);
    } else {
      node_depth[nodes_[i].left] = node_depth[nodes_[i].left + 1] = node_depth[i] + 1;
    }
  }
}

double IsolationTree::path_length_missing(const double* x) const {
  // Recursion depth is the tree's height (ceil(log2 psi)), so this stays shallow.
  auto walk = [&](auto& self, std::uint32_t i) -> double {
    while (!is_leaf(i)) {
      const Node& nd = nodes_[i];
      const double v = x[nd.feature];
      if (!std::isnan(v)) {
        i = nd.left + static_cast<std::uint32_t>(v >= nd.split);
        continue;
      }
      const double nl = size_[nd.left], nr = size_[nd.left + 1];
      const double wl = nl + nr > 0 ? nl / (nl + nr) : 0.5;
      return wl * self(self, nd.left) + (1 - wl) * self(self, nd.left + 1);
    }
    return leaf_value_[i];
  };
  return walk(walk, 0);
}

IsolationForest::IsolationForest(std::vector<IsolationTree> trees, std::size_t n_features,
                                 std::size_t psi)
    : trees_(std::move(trees)), n_features_(n_features), psi_(psi) {
  flatten();
}

IsolationForest IsolationForest::train(const double* rows, std::size_t n_rows,
                                       std::size_t n_features, const ForestParams& params) {
  IsolationForest forest;
  forest.n_features_ = n_features;
  forest.psi_ = std::min(params.sample, n_rows);
  if (n_rows == 0 || n_features == 0 || params.trees == 0) {
    forest.flatten();
    return forest;
  }
  const std::size_t psi = forest.psi_;
  const auto limit = static_cast<std::uint32_t>(std::ceil(std::log2(std::max<double>(2.0, static_cast<double>(psi)))));

  Rng rng(params.seed);
  // One permutation, partially reshuffled per tree: its first psi entries are
  // a uniform sample without replacement each time.
  std::vector<std::uint32_t> perm(n_rows);
  std::iota(perm.begin(), perm.end(), 0u);
  std::vector<std::uint32_t> idx(psi);
  std::vector<std::uint32_t> feats(n_features);
  struct Task {
    std::uint32_t node, begin, end, depth;
  };
  std::vector<Task> stack;

  forest.trees_.reserve(params.trees);
  for (std::size_t t = 0; t < params.trees; ++t) {
    for (std::size_t i = 0; i < psi; ++i) std::swap(perm[i], perm[i + rng.below(n_rows - i)]);
    std::copy(perm.begin(), perm.begin() + static_cast<std::ptrdiff_t>(psi), idx.begin());

    IsolationTree tree;
    tree.nodes_.reserve(2 * psi);
    tree.size_.reserve(2 * psi);
    tree.nodes_.push_back({infinity, 0, 0});
    tree.size_.push_back(static_cast<std::uint32_t>(psi));
    stack.push_back({0, 0, static_cast<std::uint32_t>(psi), 0});
    while (!stack.empty()) {
      const Task task = stack.back();
      stack.pop_back();
      const std::uint32_t n = task.end - task.begin;
      if (task.depth >= limit || n <= 1) {
        tree.nodes_[task.node] = {infinity, 0, task.node};
        continue;
      }
      // A random attribute among those not constant here (as scikit-learn
      // draws again when it hits a constant one).
      std::iota(feats.begin(), feats.end(), 0u);
      std::size_t remaining = n_features;
      std::uint32_t f = 0;
      double lo = 0, hi = 0;
      bool found = false;
      while (remaining > 0 && !found) {
        const std::size_t r = rng.below(remaining);
        f = feats[r];
        std::swap(feats[r], feats[--remaining]);
        lo = hi = rows[idx[task.begin] * n_features + f];
        for (std::uint32_t k = task.begin + 1; k < task.end; ++k) {
          const double v = rows[idx[k] * n_features + f];
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
        found = hi > lo;
      }
      if (!found) {
        tree.nodes_[task.node] = {infinity, 0, task.node};
        continue;
      }
      const double split = lo + rng.unit() * (hi - lo);
      const auto mid = static_cast<std::uint32_t>(
          std::partition(idx.begin() + task.begin, idx.begin() + task.end,
                         [&](std::uint32_t row) { return rows[row * n_features + f] < split; }) -
          idx.begin());
      const auto left = static_cast<std::uint32_t>(tree.nodes_.size());
      tree.nodes_[task.node] = {split, f, left};
      tree.nodes_.push_back({infinity, 0, left});
      tree.nodes_.push_back({infinity, 0, left + 1});
      tree.size_.push_back(mid - task.begin);
      tree.size_.push_back(task.end - mid);
      stack.push_back({left + 1, mid, task.end, task.depth + 1});
      stack.push_back({left, task.begin, mid, task.depth + 1});
    }
    tree.finish();
    forest.trees_.push_back(std::move(tree));
  }
  forest.flatten();
  return forest;
}

double IsolationForest::to_score(double mean_path) const {
  const double c = c_psi_;
  if (c <= 0) return 0.5;  // one training row: nothing can be told apart
  return std::exp2(-mean_path / c);
}

double IsolationForest::score(const double* x) const {
  double sum = 0;
  for (const auto& t : trees_) sum += t.path_length(x);
  return to_score(trees_.empty() ? 0 : sum / static_cast<double>(trees_.size()));
}

double IsolationForest::score_missing(const double* x) const {
  double sum = 0;
  for (const auto& t : trees_) sum += t.path_length_missing(x);
  return to_score(trees_.empty() ? 0 : sum / static_cast<double>(trees_.size()));
}

void IsolationForest::flatten() {
  c_psi_ = average_path_length(static_cast<double>(psi_));
  flat_ = Flat{};
  // The flat layout is walked by AVX2 code only.
  constexpr std::uint32_t max_depth = 16;
  if (!cpu_has_avx2() || n_features_ == 0 || n_features_ > 8) return;
  flat_.cuts.resize(n_features_);
  std::size_t node_total = 0, leaf_total = 0, table_total = 0;
  for (const auto& t : trees_) {
    // A trained tree pads to at most 2 psi slots; a lopsided hand-made one
    // could need far more than it saves.
    const std::size_t slots = std::size_t{1} << std::min(t.depth_, max_depth);
    if (t.depth_ > max_depth || slots > std::max<std::size_t>(4096, 16 * t.nodes_.size())) return;
    node_total += slots - 1;
    leaf_total += slots;
    for (std::uint32_t k = 0; k < std::min(t.depth_, simd_levels); ++k)
      table_total += std::max<std::size_t>(8, std::size_t{1} << k);
    for (std::uint32_t i = 0; i < t.nodes_.size(); ++i)
      if (!t.is_leaf(i)) flat_.cuts[t.nodes_[i].feature].push_back(t.nodes_[i].split);
  }
  for (auto& c : flat_.cuts) {
    std::sort(c.begin(), c.end());
    c.erase(std::unique(c.begin(), c.end()), c.end());
    if (c.size() >= rank_mask) return;
  }
  for (const auto& c : flat_.cuts) flat_.index.push_back(make_rank_index(c));
  if (node_total > std::numeric_limits<std::uint32_t>::max() || leaf_total > std::numeric_limits<std::uint32_t>::max())
    return;
  flat_.node.assign(node_total, std::uint64_t{rank_mask});  // padding: always left
  flat_.leaf.assign(leaf_total, 0.0);
  flat_.table.reserve(table_total);
  flat_.trees.reserve(trees_.size());
  std::size_t node_at = 0, leaf_at = 0;
  bool wide = cpu_has_avx512();
  // 16-bit nodes: rank << 3 | feature, where x is rank << 3 | 7 and rank at
  // most narrow_max, below the padding's rank.
  bool narrow = true;
  for (const auto& c : flat_.cuts) narrow = narrow && c.size() <= narrow_max;
  struct Slot {
    std::uint32_t node, pos, depth;  // the tree's node at heap position pos
  };
  std::vector<Slot> stack;
  for (const auto& t : trees_) {
    const std::uint32_t depth = t.depth_;
    const std::size_t bottom = (std::size_t{1} << depth) - 1;  // heap position of the first bottom slot
    std::uint64_t* node = flat_.node.data() + node_at;
    double* leaf = flat_.leaf.data() + leaf_at;
    stack.push_back({0, 0, 0});
    while (!stack.empty()) {
      const Slot s = stack.back();
      stack.pop_back();
      const IsolationTree::Node& nd = t.nodes_[s.node];
      if (t.is_leaf(s.node)) {
        // Every bottom slot under this one; the walk reaches the leftmost.
        const std::uint32_t below = depth - s.depth;
        const std::size_t first = ((std::size_t{s.pos} + 1) << below) - 1 - bottom;
        std::fill(leaf + first, leaf + first + (std::size_t{1} << below), t.leaf_value_[s.node]);
        continue;
      }
      const auto& c = flat_.cuts[nd.feature];
      const auto rank = static_cast<std::uint64_t>(std::lower_bound(c.begin(), c.end(), nd.split) - c.begin()) + 1;
      node[s.pos] = rank | (std::uint64_t{nd.feature} * block_rows) << 32;
      stack.push_back({nd.left, 2 * s.pos + 1, s.depth + 1});
      stack.push_back({nd.left + 1, 2 * s.pos + 2, s.depth + 1});
    }
    flat_.trees.push_back({static_cast<std::uint32_t>(node_at), static_cast<std::uint32_t>(flat_.table.size()),
                           static_cast<std::uint32_t>(leaf_at), depth, static_cast<std::uint32_t>(flat_.level.size()),
                           static_cast<std::uint32_t>(flat_.level16.size())});
    // A level's nodes as vector tables, padded to a width: rank | feature << 28
    // (AVX2), or rank << 3 | feature (AVX-512).
    auto tables = [&](std::vector<std::uint32_t>& to, std::uint32_t levels, std::size_t min_width, bool wide_form) {
      for (std::uint32_t k = 0; k < levels; ++k) {
        const std::size_t width = std::size_t{1} << k;
        for (std::size_t j = 0; j < std::max(min_width, width); ++j) {
          const std::uint64_t v = j < width ? node[width - 1 + j] : rank_mask;
          const auto feature = static_cast<std::uint32_t>((v >> 32) / block_rows);
          const auto rank = static_cast<std::uint32_t>(v & rank_mask);
          to.push_back(wide_form ? rank << 3 | feature : rank | feature << 28);
        }
      }
    };
    tables(flat_.table, std::min(depth, simd_levels), 8, false);
    if (depth <= wide_levels) {
      const std::size_t at = flat_.level.size();
      tables(flat_.level, depth, 16, true);
      // The 16-bit form: level k from at + 16 k (k < 5), padded to 32 entries.
      for (std::uint32_t k = 0; k < depth; ++k) {
        const std::size_t width = std::size_t{1} << k, from = at + (k < 5 ? 16 * k : 80 + 32 * ((1u << (k - 5)) - 1));
        for (std::size_t j = 0; j < std::max<std::size_t>(32, width); ++j)
          flat_.level16.push_back(j < width && flat_.level[from + j] < rank_mask << 3
                                      ? static_cast<std::uint16_t>(flat_.level[from + j])
                                      : narrow_pad);
      }
    }
    wide = wide && depth <= wide_levels;
    node_at += bottom;
    leaf_at += bottom + 1;
  }
  flat_.usable = true;
  flat_.wide = wide;
  flat_.narrow = wide && narrow;
  if (!wide || narrow) flat_.level = {};
  if (!flat_.narrow) flat_.level16 = {};
}

void IsolationForest::score_batch(const double* rows, std::size_t n, double* out) const {
  if (flat_.narrow) score_batch_narrow(rows, n, out);
  else if (flat_.wide) score_batch_wide(rows, n, out);
  else if (flat_.usable) score_batch_flat(rows, n, out);
  else score_batch_nodes(rows, n, out);
}

// The AVX2 walk of the flat layout, to the end of score_batch_flat; flatten()
// makes the layout only when the CPU has AVX2.
CITYPIPE_TARGET_AVX2_BEGIN
namespace {

// Unroll hints: an ASan build cannot honour them (GCC then warns, an error
// under -Werror), so they are left out there.
#define CITYPIPE_PRAGMA(x) _Pragma(#x)
#if defined(__SANITIZE_ADDRESS__)
#define CITYPIPE_UNROLL(n)
#else
#define CITYPIPE_UNROLL(n) CITYPIPE_PRAGMA(GCC unroll n)
#endif

// The lane's x rank of the feature in bits 28-30 of v; columns at stride
// block_rows from xr, NF of them.
template <int NF>
[[gnu::always_inline]] inline __m256i select_x(const std::uint32_t* xr, __m256i v) {
  auto col = [&](int f) { return _mm256_castsi256_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xr + std::size_t(f < NF ? f : 0) * block_rows))); };
  if constexpr (NF == 1) {
    return _mm256_castps_si256(col(0));
  } else {
    const __m256 b0 = _mm256_castsi256_ps(_mm256_slli_epi32(v, 3));
    const __m256 b1 = _mm256_castsi256_ps(_mm256_slli_epi32(v, 2));
    const __m256 b2 = _mm256_castsi256_ps(_mm256_slli_epi32(v, 1));
    auto pair = [&](int f) { return f + 1 < NF ? _mm256_blendv_ps(col(f), col(f + 1), b0) : col(f); };
    if constexpr (NF == 2) return _mm256_castps_si256(pair(0));
    const __m256 low = _mm256_blendv_ps(pair(0), pair(2), b1);
    if constexpr (NF <= 4) return _mm256_castps_si256(low);
    const __m256 high = NF > 6 ? _mm256_blendv_ps(pair(4), pair(6), b1) : pair(4);
    return _mm256_castps_si256(_mm256_blendv_ps(low, high, b2));
  }
}

// One level for eight rows: the node of each lane's position from the level's
// table, then left or right.
template <int K, int NF>
[[gnu::always_inline]] inline void simd_level(const std::uint32_t* table, __m256i& pos, const std::uint32_t* xr) {
  constexpr int parts = K < 3 ? 1 : 1 << (K - 3);
  __m256i part[parts];
CITYPIPE_UNROLL(16)
  for (int j = 0; j < parts; ++j)
    part[j] = _mm256_permutevar8x32_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(table + 8 * j)), pos);
  int m = parts, shift = 28;
CITYPIPE_UNROLL(4)
  for (int q = 0; q < 4; ++q) {
    if (m <= 1) break;
    const __m256 sel = _mm256_castsi256_ps(_mm256_slli_epi32(pos, shift));
CITYPIPE_UNROLL(8)
    for (int j = 0; j < m / 2; ++j)
      part[j] = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(part[2 * j]), _mm256_castsi256_ps(part[2 * j + 1]), sel));
    m /= 2;
    --shift;
  }
  const __m256i v = part[0];
  // -1 where rank(x) < rank(split): left, 2 pos; else right, 2 pos + 1.
  const __m256i left = _mm256_cmpgt_epi32(_mm256_and_si256(v, _mm256_set1_epi32(rank_mask)), select_x<NF>(xr, v));
  pos = _mm256_add_epi32(_mm256_add_epi32(pos, pos), _mm256_add_epi32(left, _mm256_set1_epi32(1)));
}

template <int NF>
void simd_top(const std::uint32_t* table, std::uint32_t levels, const std::uint32_t* ranks, std::size_t padded,
              std::uint32_t* start) {
  for (std::size_t r = 0; r < padded; r += 16) {
    __m256i a = _mm256_setzero_si256(), b = _mm256_setzero_si256();
    const std::uint32_t* xa = ranks + r;
    const std::uint32_t* xb = ranks + r + 8;
    const std::uint32_t* t = table;
    // Two vectors at once: each level's latency is covered by the other.
#define CITYPIPE_LEVEL(k, width)               \
  if (levels > k) {                            \
    simd_level<k, NF>(t, a, xa);               \
    simd_level<k, NF>(t, b, xb);               \
    t += width;                                \
  }
    CITYPIPE_LEVEL(0, 8)
    CITYPIPE_LEVEL(1, 8)
    CITYPIPE_LEVEL(2, 8)
    CITYPIPE_LEVEL(3, 8)
    CITYPIPE_LEVEL(4, 16)
#undef CITYPIPE_LEVEL
    static_assert(simd_levels == 5);
    const __m256i first = _mm256_set1_epi32(static_cast<int>((1u << levels) - 1));  // heap position of the level
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(start + r), _mm256_add_epi32(a, first));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(start + r + 8), _mm256_add_epi32(b, first));
  }
}

// How many of the sorted cuts are <= each x (0 for NaN): a binary search per
// row, all rows a step at a time so that their loads overlap, no branches.
void ranks_by_search(const std::vector<double>& cuts, const double* x, std::size_t stride, std::size_t m,
                     std::uint32_t* out) {
  std::fill(out, out + m, 0u);
  if (cuts.empty()) return;
  const double* c = cuts.data();
  std::size_t n = cuts.size();
  while (n > 1) {
    const std::size_t half = n / 2;
    for (std::size_t r = 0; r < m; ++r)
      out[r] += static_cast<std::uint32_t>(c[out[r] + half - 1] <= x[r * stride]) * static_cast<std::uint32_t>(half);
    n -= half;
  }
  for (std::size_t r = 0; r < m; ++r) out[r] += c[out[r]] <= x[r * stride] ? 1u : 0u;
}

// The same from the index: the cuts before x's bucket, then those of its
// bucket that are <= x, counted over eight slots at once (the cuts after the
// bucket are all > x, the padding NaN).
void ranks_by_index(const RankIndex& ix, const double* x, std::size_t stride, std::size_t m, std::uint32_t* out) {
  const double lo = ix.lo, scale = ix.scale;
  const std::uint32_t last = ix.last;
  const std::uint32_t* first = ix.first.data();
  const double* c = ix.padded.data();
  for (std::size_t r = 0; r < m; ++r) {
    const double v = x[r * stride];
    const std::uint32_t at = first[bucket_of(v, lo, scale, last)];
    const __m256d vv = _mm256_set1_pd(v);
    const int low = _mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(c + at), vv, _CMP_LE_OQ));
    const int high = _mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(c + at + 4), vv, _CMP_LE_OQ));
    out[r] = at + static_cast<std::uint32_t>(__builtin_popcount(static_cast<unsigned>(low | high << 4)));
  }
  static_assert(rank_span_max == 8);
}

void ranks_of(const std::vector<double>& cuts, const RankIndex& ix, const double* x, std::size_t stride,
              std::size_t m, std::uint32_t* out) {
  if (ix.last == 0) ranks_by_search(cuts, x, stride, m, out);
  else ranks_by_index(ix, x, stride, m, out);
}

}  // namespace

void IsolationForest::score_batch_flat(const double* rows, std::size_t n, double* out) const {
  constexpr std::size_t block = block_rows;
  const std::size_t nf = n_features_;
  std::vector<std::uint32_t> ranks(nf * block);
  alignas(32) std::uint32_t start[block];
  double acc[block];
  for (std::size_t b = 0; b < n; b += block) {
    const std::size_t m = std::min(block, n - b);
    const std::size_t padded = (m + 15) / 16 * 16;
    for (std::size_t f = 0; f < nf; ++f) {
      ranks_of(flat_.cuts[f], flat_.index[f], rows + b * nf + f, nf, m, ranks.data() + f * block);
      std::fill(ranks.data() + f * block + m, ranks.data() + f * block + padded, 0u);
    }
    std::fill(acc, acc + padded, 0.0);
    for (const auto& t : flat_.trees) {
      const std::uint32_t top = std::min(t.depth, simd_levels);
      const std::uint32_t* table = flat_.table.data() + t.tables;
      switch (nf) {
        case 1: simd_top<1>(table, top, ranks.data(), padded, start); break;
        case 2: simd_top<2>(table, top, ranks.data(), padded, start); break;
        case 3: simd_top<3>(table, top, ranks.data(), padded, start); break;
        case 4: simd_top<4>(table, top, ranks.data(), padded, start); break;
        case 5: simd_top<5>(table, top, ranks.data(), padded, start); break;
        case 6: simd_top<6>(table, top, ranks.data(), padded, start); break;
        case 7: simd_top<7>(table, top, ranks.data(), padded, start); break;
        default: simd_top<8>(table, top, ranks.data(), padded, start); break;
      }
      // The levels below, row by row, eight walks at once.
      const std::uint64_t* nd = flat_.node.data() + t.nodes;
      const double* leaf = flat_.leaf.data() + t.leaves;
      const std::size_t bottom = (std::size_t{1} << t.depth) - 1;
      const std::uint32_t rest = t.depth - top;
      for (std::size_t r = 0; r < padded; r += 8) {
        const std::uint32_t* xr = ranks.data() + r;
        std::size_t i0 = start[r], i1 = start[r + 1], i2 = start[r + 2], i3 = start[r + 3], i4 = start[r + 4],
                    i5 = start[r + 5], i6 = start[r + 6], i7 = start[r + 7];
#define CITYPIPE_STEP(k)                                                                          \
  {                                                                                               \
    const std::uint64_t v = nd[i##k];                                                             \
    i##k = 2 * i##k + 1 + (xr[(v >> 32) + k] >= static_cast<std::uint32_t>(v) ? 1 : 0);           \
  }
        for (std::uint32_t d = 0; d < rest; ++d) {
          CITYPIPE_STEP(0) CITYPIPE_STEP(1) CITYPIPE_STEP(2) CITYPIPE_STEP(3)
          CITYPIPE_STEP(4) CITYPIPE_STEP(5) CITYPIPE_STEP(6) CITYPIPE_STEP(7)
        }
#undef CITYPIPE_STEP
        acc[r] += leaf[i0 - bottom];
        acc[r + 1] += leaf[i1 - bottom];
        acc[r + 2] += leaf[i2 - bottom];
        acc[r + 3] += leaf[i3 - bottom];
        acc[r + 4] += leaf[i4 - bottom];
        acc[r + 5] += leaf[i5 - bottom];
        acc[r + 6] += leaf[i6 - bottom];
        acc[r + 7] += leaf[i7 - bottom];
      }
    }
    const double k = trees_.empty() ? 1.0 : static_cast<double>(trees_.size());
    for (std::size_t r = 0; r < m; ++r) out[b + r] = to_score(acc[r] / k);
  }
}
CITYPIPE_TARGET_AVX2_END

// The AVX-512 walk of every level, to the end of score_batch_wide; flatten()
// sets flat_.wide only when the CPU has AVX-512.
CITYPIPE_TARGET_AVX512_BEGIN
namespace {

// The wide walk compares rank(x) * 8 + 7 with rank(split) * 8 + feature:
// the same verdict as the ranks alone, with no mask to take the feature off.
constexpr std::size_t wide_group = 64;  // rows walked together: four vectors hide each other's latency
static_assert(block_rows % wide_group == 0);

// Masked forms throughout: GCC 12's unmasked ones start from an undefined
// vector and warn that it may be used uninitialised.
constexpr __mmask16 all16 = 0xffff;

[[gnu::always_inline]] inline __m512i load16(const std::uint32_t* p) { return _mm512_loadu_si512(p); }

// Each lane's x of the feature in bits 0-2 of v, from NF columns at stride block_rows.
template <int NF>
[[gnu::always_inline]] inline __m512i select_x16(const std::uint32_t* x, __m512i v) {
  auto col = [&](int f) { return load16(x + std::size_t(f < NF ? f : 0) * block_rows); };
  if constexpr (NF == 1) {
    return col(0);
  } else {
    auto bit = [&](int b) { return _mm512_test_epi32_mask(v, _mm512_set1_epi32(1 << b)); };
    const __mmask16 b0 = bit(0);
    auto pair = [&](int f) { return f + 1 < NF ? _mm512_mask_blend_epi32(b0, col(f), col(f + 1)) : col(f); };
    if constexpr (NF == 2) return pair(0);
    const __mmask16 b1 = bit(1);
    const __m512i low = _mm512_mask_blend_epi32(b1, pair(0), pair(2));
    if constexpr (NF <= 4) return low;
    const __m512i high = NF > 6 ? _mm512_mask_blend_epi32(b1, pair(4), pair(6)) : pair(4);
    return _mm512_mask_blend_epi32(bit(2), low, high);
  }
}

// One level for sixteen rows: v holds each lane's node; x >= split goes right.
template <int NF>
[[gnu::always_inline]] inline void wide_step(__m512i v, const std::uint32_t* x, __m512i& pos) {
  const __mmask16 right = _mm512_cmpge_epu32_mask(select_x16<NF>(x, v), v);
  pos = _mm512_add_epi32(pos, pos);
  pos = _mm512_mask_add_epi32(pos, right, pos, _mm512_set1_epi32(1));
}

// One tree for the padded rows of a block (a multiple of wide_group): each
// level's nodes are looked up by position from registers (up to 128 of
// them), then the leaves.
template <int NF>
void wide_tree(const std::uint32_t* tab, std::uint32_t depth, const double* leaf, const std::uint32_t* ranks,
               std::size_t padded, double* acc) {
  constexpr int G = wide_group / 16;
  for (std::size_t r = 0; r < padded; r += wide_group) {
    __m512i pos[G];
    const std::uint32_t* xg[G];
CITYPIPE_UNROLL(4)
    for (int g = 0; g < G; ++g) {
      pos[g] = _mm512_setzero_si512();
      xg[g] = ranks + r + 16 * std::size_t(g);
    }
    const std::uint32_t* t = tab;
    for (std::uint32_t k = 0; k < std::min<std::uint32_t>(depth, 5); ++k, t += 16) {
      const __m512i t0 = load16(t);
CITYPIPE_UNROLL(4)
      for (int g = 0; g < G; ++g) wide_step<NF>(_mm512_maskz_permutexvar_epi32(all16, pos[g], t0), xg[g], pos[g]);
    }
    if (depth > 5) {
      const __m512i t0 = load16(t), t1 = load16(t + 16);
CITYPIPE_UNROLL(4)
      for (int g = 0; g < G; ++g) wide_step<NF>(_mm512_permutex2var_epi32(t0, pos[g], t1), xg[g], pos[g]);
      t += 32;
    }
    if (depth > 6) {
      const __m512i t0 = load16(t), t1 = load16(t + 16), t2 = load16(t + 32), t3 = load16(t + 48);
CITYPIPE_UNROLL(4)
      for (int g = 0; g < G; ++g) {
        const __mmask16 m5 = _mm512_test_epi32_mask(pos[g], _mm512_set1_epi32(32));
        const __m512i a = _mm512_permutex2var_epi32(t0, pos[g], t1);
        const __m512i b = _mm512_permutex2var_epi32(t2, pos[g], t3);
        wide_step<NF>(_mm512_mask_blend_epi32(m5, a, b), xg[g], pos[g]);
      }
      t += 64;
    }
    if (depth > 7) {
CITYPIPE_UNROLL(4)
      for (int g = 0; g < G; ++g) {
        const __mmask16 m5 = _mm512_test_epi32_mask(pos[g], _mm512_set1_epi32(32));
        const __mmask16 m6 = _mm512_test_epi32_mask(pos[g], _mm512_set1_epi32(64));
        const __m512i a = _mm512_permutex2var_epi32(load16(t), pos[g], load16(t + 16));
        const __m512i b = _mm512_permutex2var_epi32(load16(t + 32), pos[g], load16(t + 48));
        const __m512i c = _mm512_permutex2var_epi32(load16(t + 64), pos[g], load16(t + 80));
        const __m512i d = _mm512_permutex2var_epi32(load16(t + 96), pos[g], load16(t + 112));
        wide_step<NF>(_mm512_mask_blend_epi32(m6, _mm512_mask_blend_epi32(m5, a, b), _mm512_mask_blend_epi32(m5, c, d)),
                      xg[g], pos[g]);
      }
    }
    static_assert(wide_levels == 8);
    // The leaves by plain loads: measured faster here than gathers.
    alignas(64) std::uint32_t at[wide_group];
CITYPIPE_UNROLL(4)
    for (int g = 0; g < G; ++g) _mm512_store_si512(at + 16 * g, pos[g]);
    double* a = acc + r;
CITYPIPE_UNROLL(8)
    for (std::size_t j = 0; j < wide_group; ++j) a[j] += leaf[at[j]];
  }
}

}  // namespace

void IsolationForest::score_batch_wide(const double* rows, std::size_t n, double* out) const {
  constexpr std::size_t block = block_rows;
  const std::size_t nf = n_features_;
  alignas(64) std::uint32_t ranks[8 * block];
  alignas(64) double acc[block];
  for (std::size_t b = 0; b < n; b += block) {
    const std::size_t m = std::min(block, n - b);
    const std::size_t padded = (m + wide_group - 1) / wide_group * wide_group;
    for (std::size_t f = 0; f < nf; ++f) {
      std::uint32_t* x = ranks + f * block;
      ranks_of(flat_.cuts[f], flat_.index[f], rows + b * nf + f, nf, m, x);
      std::fill(x + m, x + padded, 0u);
      for (std::size_t r = 0; r < padded; ++r) x[r] = x[r] << 3 | 7;
    }
    std::fill(acc, acc + padded, 0.0);
    for (const auto& t : flat_.trees) {
      const std::uint32_t* tab = flat_.level.data() + t.levels;
      const double* leaf = flat_.leaf.data() + t.leaves;
      switch (nf) {
        case 1: wide_tree<1>(tab, t.depth, leaf, ranks, padded, acc); break;
        case 2: wide_tree<2>(tab, t.depth, leaf, ranks, padded, acc); break;
        case 3: wide_tree<3>(tab, t.depth, leaf, ranks, padded, acc); break;
        case 4: wide_tree<4>(tab, t.depth, leaf, ranks, padded, acc); break;
        case 5: wide_tree<5>(tab, t.depth, leaf, ranks, padded, acc); break;
        case 6: wide_tree<6>(tab, t.depth, leaf, ranks, padded, acc); break;
        case 7: wide_tree<7>(tab, t.depth, leaf, ranks, padded, acc); break;
        default: wide_tree<8>(tab, t.depth, leaf, ranks, padded, acc); break;
      }
    }
    const double k = trees_.empty() ? 1.0 : static_cast<double>(trees_.size());
    for (std::size_t r = 0; r < m; ++r) out[b + r] = to_score(acc[r] / k);
  }
}

namespace {

constexpr __mmask32 all32 = 0xffffffff;
constexpr std::size_t narrow_group = 128;  // rows walked together: eight vectors (measured faster than 2 and 4)
static_assert(block_rows % narrow_group == 0);

[[gnu::always_inline]] inline __m512i load32(const std::uint16_t* p) { return _mm512_loadu_si512(p); }

// As select_x16, for 32 rows of 16 bits.
template <int NF>
[[gnu::always_inline]] inline __m512i select_x32(const std::uint16_t* x, __m512i v) {
  auto col = [&](int f) { return load32(x + std::size_t(f < NF ? f : 0) * block_rows); };
  if constexpr (NF == 1) {
    return col(0);
  } else {
    auto bit = [&](int b) { return _mm512_test_epi16_mask(v, _mm512_set1_epi16(static_cast<short>(1 << b))); };
    const __mmask32 b0 = bit(0);
    auto pair = [&](int f) { return f + 1 < NF ? _mm512_mask_blend_epi16(b0, col(f), col(f + 1)) : col(f); };
    if constexpr (NF == 2) return pair(0);
    const __mmask32 b1 = bit(1);
    const __m512i low = _mm512_mask_blend_epi16(b1, pair(0), pair(2));
    if constexpr (NF <= 4) return low;
    const __m512i high = NF > 6 ? _mm512_mask_blend_epi16(b1, pair(4), pair(6)) : pair(4);
    return _mm512_mask_blend_epi16(bit(2), low, high);
  }
}

template <int NF>
[[gnu::always_inline]] inline void narrow_step(__m512i v, const std::uint16_t* x, __m512i& pos) {
  const __mmask32 right = _mm512_cmpge_epu16_mask(select_x32<NF>(x, v), v);
  pos = _mm512_add_epi16(pos, pos);
  pos = _mm512_mask_add_epi16(pos, right, pos, _mm512_set1_epi16(1));
}

// As wide_tree, 32 rows per vector: levels 0-5 from one register, 6 from two,
// 7 from four; but each row's bottom slot goes to slot[row], for the caller
// to add the leaves of every tree at once.
template <int NF>
void narrow_tree(const std::uint16_t* tab, std::uint32_t depth, const std::uint16_t* xs, std::size_t padded,
                 std::uint8_t* slot) {
  constexpr int G = narrow_group / 32;
  for (std::size_t r = 0; r < padded; r += narrow_group) {
    __m512i pos[G];
    const std::uint16_t* xg[G];
CITYPIPE_UNROLL(4)
    for (int g = 0; g < G; ++g) {
      pos[g] = _mm512_setzero_si512();
      xg[g] = xs + r + 32 * std::size_t(g);
    }
    const std::uint16_t* t = tab;
    for (std::uint32_t k = 0; k < std::min<std::uint32_t>(depth, 6); ++k, t += 32) {
      const __m512i t0 = load32(t);
CITYPIPE_UNROLL(4)
      for (int g = 0; g < G; ++g) narrow_step<NF>(_mm512_maskz_permutexvar_epi16(all32, pos[g], t0), xg[g], pos[g]);
    }
    if (depth > 6) {
      const __m512i t0 = load32(t), t1 = load32(t + 32);
CITYPIPE_UNROLL(4)
      for (int g = 0; g < G; ++g) narrow_step<NF>(_mm512_permutex2var_epi16(t0, pos[g], t1), xg[g], pos[g]);
      t += 64;
    }
    if (depth > 7) {
      const __m512i t0 = load32(t), t1 = load32(t + 32), t2 = load32(t + 64), t3 = load32(t + 96);
CITYPIPE_UNROLL(4)
      for (int g = 0; g < G; ++g) {
        const __mmask32 m6 = _mm512_test_epi16_mask(pos[g], _mm512_set1_epi16(64));
        const __m512i a = _mm512_permutex2var_epi16(t0, pos[g], t1);
        const __m512i b = _mm512_permutex2var_epi16(t2, pos[g], t3);
        narrow_step<NF>(_mm512_mask_blend_epi16(m6, a, b), xg[g], pos[g]);
      }
    }
    static_assert(wide_levels == 8);
    // Each row's bottom slot (below 256), its leaf to be added later.
CITYPIPE_UNROLL(4)
    for (int g = 0; g < G; ++g)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(slot + r + 32 * std::size_t(g)), _mm512_maskz_cvtepi16_epi8(all32, pos[g]));
  }
}

}  // namespace

void IsolationForest::score_batch_narrow(const double* rows, std::size_t n, double* out) const {
  constexpr std::size_t block = block_rows;
  const std::size_t nf = n_features_;
  alignas(64) std::uint32_t ranks[block];
  alignas(64) std::uint16_t xs[8 * block];
  alignas(64) double acc[block];
  const std::size_t trees = flat_.trees.size();
  // Kept from call to call: the tool calls this once per 256 records, each
  // time an allocation and (with 100 trees) 25 KB of zeroing otherwise.
  thread_local std::vector<std::uint8_t> slots;
  thread_local std::vector<const double*> leaf;
  slots.resize(trees * block);
  leaf.resize(trees);
  for (std::size_t i = 0; i < trees; ++i) leaf[i] = flat_.leaf.data() + flat_.trees[i].leaves;
  for (std::size_t b = 0; b < n; b += block) {
    const std::size_t m = std::min(block, n - b);
    const std::size_t padded = (m + narrow_group - 1) / narrow_group * narrow_group;
    for (std::size_t f = 0; f < nf; ++f) {
      ranks_of(flat_.cuts[f], flat_.index[f], rows + b * nf + f, nf, m, ranks);
      std::fill(ranks + m, ranks + padded, 0u);
      std::uint16_t* x = xs + f * block;
      for (std::size_t r = 0; r < padded; ++r) x[r] = static_cast<std::uint16_t>(ranks[r] << 3 | 7);
    }
    for (std::size_t i = 0; i < trees; ++i) {
      const auto& t = flat_.trees[i];
      const std::uint16_t* tab = flat_.level16.data() + t.levels16;
      std::uint8_t* slot = slots.data() + i * block;
      switch (nf) {
        case 1: narrow_tree<1>(tab, t.depth, xs, padded, slot); break;
        case 2: narrow_tree<2>(tab, t.depth, xs, padded, slot); break;
        case 3: narrow_tree<3>(tab, t.depth, xs, padded, slot); break;
        case 4: narrow_tree<4>(tab, t.depth, xs, padded, slot); break;
        case 5: narrow_tree<5>(tab, t.depth, xs, padded, slot); break;
        case 6: narrow_tree<6>(tab, t.depth, xs, padded, slot); break;
        case 7: narrow_tree<7>(tab, t.depth, xs, padded, slot); break;
        default: narrow_tree<8>(tab, t.depth, xs, padded, slot); break;
      }
    }
    // The leaves, sixteen rows at a time, each summed in tree order in a
    // register of its own (no load and store of a running sum per tree).
    for (std::size_t r = 0; r < m; r += 16) {
      double sum[16] = {};
      for (std::size_t i = 0; i < trees; ++i) {
        const std::uint8_t* at = slots.data() + i * block + r;
        const double* lf = leaf[i];
        // Two loads of eight slots each and shifts, not sixteen byte loads:
        // the loads are what bound this loop.
        std::uint64_t w[2];
        std::memcpy(w, at, 16);
CITYPIPE_UNROLL(16)
        for (int j = 0; j < 16; ++j) sum[j] += lf[(w[j / 8] >> (8 * (j % 8))) & 0xff];
      }
      for (int j = 0; j < 16; ++j) acc[r + std::size_t(j)] = sum[j];
    }
    const double k = trees_.empty() ? 1.0 : static_cast<double>(trees_.size());
    for (std::size_t r = 0; r < m; ++r) out[b + r] = to_score(acc[r] / k);
  }
}
CITYPIPE_TARGET_AVX512_END

void IsolationForest::score_batch_nodes(const double* rows, std::size_t n, double* out) const {
  // A block of rows goes through one tree at a time, so that the tree stays
  // in L1. The block is stored column by column: sixteen walks then share one
  // base address, fit in registers, and their loads overlap (measured faster
  // here than 4 or 8 walks, and than row-major blocks).
  constexpr std::size_t block = 256;
  constexpr std::size_t lanes = 16;
  static_assert(block % lanes == 0);
  const std::size_t nf = n_features_;
  std::vector<double> col(nf * block);
  double acc[block];
  for (std::size_t b = 0; b < n; b += block) {
    const std::size_t m = std::min(block, n - b);
    const std::size_t padded = (m + lanes - 1) / lanes * lanes;
    for (std::size_t r = 0; r < padded; ++r)
      for (std::size_t f = 0; f < nf; ++f) col[f * block + r] = r < m ? rows[(b + r) * nf + f] : 0.0;
    std::fill(acc, acc + padded, 0.0);
    for (const auto& t : trees_) {
      const IsolationTree::Node* nd = t.nodes_.data();
      const double* leaf = t.leaf_value_.data();
      const std::uint32_t depth = t.depth_;
      for (std::size_t r = 0; r < padded; r += lanes) {
        const double* xb = col.data() + r;
        std::uint32_t i0 = 0, i1 = 0, i2 = 0, i3 = 0, i4 = 0, i5 = 0, i6 = 0, i7 = 0, i8 = 0, i9 = 0, i10 = 0, i11 = 0, i12 = 0, i13 = 0, i14 = 0, i15 = 0;
        for (std::uint32_t d = 0; d < depth; ++d) {
          i0 = nd[i0].left + static_cast<std::uint32_t>(xb[std::size_t{nd[i0].feature} * block + 0] >= nd[i0].split);
          i1 = nd[i1].left + static_cast<std::uint32_t>(xb[std::size_t{nd[i1].feature} * block + 1] >= nd[i1].split);
          i2 = nd[i2].left + static_cast<std::uint32_t>(xb[std::size_t{nd[i2].feature} * block + 2] >= nd[i2].split);
          i3 = nd[i3].left + static_cast<std::uint32_t>(xb[std::size_t{nd[i3].feature} * block + 3] >= nd[i3].split);
          i4 = nd[i4].left + static_cast<std::uint32_t>(xb[std::size_t{nd[i4].feature} * block + 4] >= nd[i4].split);
          i5 = nd[i5].left + static_cast<std::uint32_t>(xb[std::size_t{nd[i5].feature} * block + 5] >= nd[i5].split);
          i6 = nd[i6].left + static_cast<std::uint32_t>(xb[std::size_t{nd[i6].feature} * block + 6] >= nd[i6].split);
          i7 = nd[i7].left + static_cast<std::uint32_t>(xb[std::size_t{nd[i7].feature} * block + 7] >= nd[i7].split);
          i8 = nd[i8].left + static_cast<std::uint32_t>(xb[std::size_t{nd[i8].feature} * block + 8] >= nd[i8].split);
          i9 = nd[i9].left + static_cast<std::uint32_t>(xb[std::size_t{nd[i9].feature} * block + 9] >= nd[i9].split);
          i10 = nd[i10].left + static_cast<std::uint32_t>(xb[std::size_t{nd[i10].feature} * block + 10] >= nd[i10].split);
          i11 = nd[i11].left + static_cast<std::uint32_t>(xb[std::size_t{nd[i11].feature} * block + 11] >= nd[i11].split);
          i12 = nd[i12].left + static_cast<std::uint32_t>(xb[std::size_t{nd[i12].feature} * block + 12] >= nd[i12].split);
          i13 = nd[i13].left + static_cast<std::uint32_t>(xb[std::size_t{nd[i13].feature} * block + 13] >= nd[i13].split);
          i14 = nd[i14].left + static_cast<std::uint32_t>(xb[std::size_t{nd[i14].feature} * block + 14] >= nd[i14].split);
          i15 = nd[i15].left + static_cast<std::uint32_t>(xb[std::size_t{nd[i15].feature} * block + 15] >= nd[i15].split);
        }
        acc[r + 0] += leaf[i0];
        acc[r + 1] += leaf[i1];
        acc[r + 2] += leaf[i2];
        acc[r + 3] += leaf[i3];
        acc[r + 4] += leaf[i4];
        acc[r + 5] += leaf[i5];
        acc[r + 6] += leaf[i6];
        acc[r + 7] += leaf[i7];
        acc[r + 8] += leaf[i8];
        acc[r + 9] += leaf[i9];
        acc[r + 10] += leaf[i10];
        acc[r + 11] += leaf[i11];
        acc[r + 12] += leaf[i12];
        acc[r + 13] += leaf[i13];
        acc[r + 14] += leaf[i14];
        acc[r + 15] += leaf[i15];
      }
    }
    const double k = trees_.empty() ? 1.0 : static_cast<double>(trees_.size());
    for (std::size_t r = 0; r < m; ++r) out[b + r] = to_score(acc[r] / k);
  }
}

double contamination_threshold(std::vector<double> scores, double p) {
  if (scores.empty()) return 0.5;
  std::sort(scores.begin(), scores.end());
  const double pos = (1.0 - p) * static_cast<double>(scores.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, scores.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return scores[lo] + frac * (scores[hi] - scores[lo]);
}

}  // namespace citypipe
