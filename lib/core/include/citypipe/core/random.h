// A small, fast, portable random generator (xoshiro256**): the same seed gives
// the same numbers on every platform and library, unlike std:: distributions.
#pragma once

#include <cstdint>

namespace citypipe {

class Random {
 public:
  explicit Random(std::uint64_t seed) {
    for (auto& s : s_) s = splitmix64(seed);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n).
  std::uint64_t below(std::uint64_t n) {
    __extension__ using u128 = unsigned __int128;  // Lemire's multiply-shift, no division
    return static_cast<std::uint64_t>((static_cast<u128>(next()) * n) >> 64);
  }
  bool chance(double p) { return uniform() < p; }
  // Approximately normal (Irwin-Hall of four uniforms: cheap, tails cut at 3.5 sigma).
  double normal(double mean, double sigma) {
    const std::uint64_t r = next();
    const double sum = static_cast<double>((r & 0xffff) + ((r >> 16) & 0xffff) +
                                           ((r >> 32) & 0xffff) + (r >> 48)) *
                       (1.0 / 65536.0);
    return mean + sigma * (sum - 2.0) * 1.7320508075688772;
  }

  static std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace citypipe
