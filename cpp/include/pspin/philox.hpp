// Philox4x32-10 counter-based generator (Salmon et al., SC'11) and the
// Gaussian draws built on it. A draw is a pure function of (key, counter),
// so any thread layout reproduces the same numbers.
#pragma once
#include <array>
#include <cmath>
#include <cstdint>

namespace pspin {

using Philox4x32Counter = std::array<std::uint32_t, 4>;
using Philox4x32Key = std::array<std::uint32_t, 2>;

inline Philox4x32Counter philox4x32_10(Philox4x32Counter ctr, Philox4x32Key key) {
  constexpr std::uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr std::uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = std::uint64_t(kMul0) * ctr[0];
    const std::uint64_t p1 = std::uint64_t(kMul1) * ctr[2];
    const std::uint32_t hi0 = std::uint32_t(p0 >> 32), lo0 = std::uint32_t(p0);
    const std::uint32_t hi1 = std::uint32_t(p1 >> 32), lo1 = std::uint32_t(p1);
    ctr = {hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0};
    key[0] += kWeyl0;
    key[1] += kWeyl1;
  }
  return ctr;
}

inline Philox4x32Key philox_key(std::uint64_t seed) {
  return {std::uint32_t(seed), std::uint32_t(seed >> 32)};
}

// 53-bit uniform in (0, 1]: never 0, so log() below is finite.
inline double uniform_open0(std::uint32_t lo, std::uint32_t hi) {
  const std::uint64_t bits = ((std::uint64_t(hi) << 32) | lo) >> 11;
  return (double(bits) + 1.0) * 0x1.0p-53;
}

// Two independent standard normals (Box-Muller) from one Philox block.
// `index` numbers the pair inside the stream, `stream` and `purpose` separate
// independent uses of the same key (coupling degree, replica, ...).
inline std::array<double, 2> normal_pair(Philox4x32Key key, std::uint64_t index,
                                         std::uint32_t stream, std::uint32_t purpose) {
  const auto x = philox4x32_10(
      {std::uint32_t(index), std::uint32_t(index >> 32), stream, purpose}, key);
  const double u1 = uniform_open0(x[0], x[1]);
  const double u2 = uniform_open0(x[2], x[3]);
  const double radius = std::sqrt(-2.0 * std::log(u1));
  const double angle = 6.283185307179586476925286766559 * u2;
  return {radius * std::cos(angle), radius * std::sin(angle)};
}

}  // namespace pspin
