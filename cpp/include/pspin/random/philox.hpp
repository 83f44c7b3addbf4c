// Philox4x32-10 counter-based generator (Salmon et al., SC'11). A draw is a
// pure function of (key, counter), so any thread layout reproduces the same numbers.
#pragma once
#include <array>
#include <cmath>
#include <cstdint>

namespace pspin {

using Philox4x32Counter = std::array<std::uint32_t, 4>;
using Philox4x32Key = std::array<std::uint32_t, 2>;

// The rounds on scalars passed by reference: with no array in memory, loops over
// many blocks vectorise.
inline void philox4x32_10_inplace(std::uint32_t& c0, std::uint32_t& c1, std::uint32_t& c2, std::uint32_t& c3,
                                  std::uint32_t k0, std::uint32_t k1) {
  constexpr std::uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr std::uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
#pragma GCC unroll 10
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = std::uint64_t(kMul0) * c0;
    const std::uint64_t p1 = std::uint64_t(kMul1) * c2;
    const std::uint32_t n0 = std::uint32_t(p1 >> 32) ^ c1 ^ k0;
    const std::uint32_t n2 = std::uint32_t(p0 >> 32) ^ c3 ^ k1;
    c1 = std::uint32_t(p1);
    c3 = std::uint32_t(p0);
    c0 = n0;
    c2 = n2;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
}

inline Philox4x32Counter philox4x32_10(Philox4x32Counter ctr, Philox4x32Key key) {
  philox4x32_10_inplace(ctr[0], ctr[1], ctr[2], ctr[3], key[0], key[1]);
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

// 32-bit uniform in [0, 1).
inline double uniform32(std::uint32_t x) { return double(x) * 0x1.0p-32; }

}  // namespace pspin
