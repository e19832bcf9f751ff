// SplitMix64: a small, fast generator that gives the same sequence on every
// platform (std:: distributions do not), so a seed reproduces a synthetic
// dataset or a simulated reply everywhere.
#ifndef GROUNDCAP_RNG_H_
#define GROUNDCAP_RNG_H_

#include <cstdint>

namespace groundcap {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  /// Uniform in [lo, hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  /// Uniform integer in [0, n).
  int Below(int n) { return static_cast<int>(Next() % static_cast<uint64_t>(n)); }

 private:
  uint64_t state_;
};

}  // namespace groundcap

#endif  // GROUNDCAP_RNG_H_
