// Single-spin-flip acceptance as one comparison against a number made in advance.
//
// Flipping s_i changes the energy by dE = 2 s_i h_i. Metropolis accepts when
// u < exp(-beta dE), heat bath when u (1 + exp(beta dE)) < 1; both read
//     s_i h_i < t(u) / (2 beta),   t = -ln u  or  ln((1 - u) / u),
// so the right-hand side depends on the random number alone. Making those in
// bulk (vectorised Philox and logarithm) before a sweep looks at any field
// turns a rejected attempt into one comparison, and lets a single chain skip
// runs of rejections eight sites at a time.
#pragma once
#include <cstdint>

#include "pspin/gaussian.hpp"
#include "pspin/philox.hpp"

namespace pspin {

enum class IsingUpdate { Metropolis, HeatBath };

// u = x 2^-32 with x the raw 32-bit draw, so ln u = ln x - 32 ln 2 and
// 1 - u = (2^32 - x) 2^-32; x = 0 (u = 0) accepts every flip: +inf.
template <IsingUpdate kUpdate>
inline double flip_threshold(std::uint32_t x) {
  constexpr double kLn2To32 = 22.18070977791824990137;  // 32 ln 2
  const double zero = double(x == 0);
  const double lx = detail::poly_log(double(x) + zero);
  const double t = kUpdate == IsingUpdate::Metropolis ? kLn2To32 - lx : detail::poly_log(4294967296.0 - double(x)) - lx;
  // t > 0 when x = 0; dividing rather than selecting keeps the loop vectorisable.
  return t / (1.0 - zero);
}

template <IsingUpdate kUpdate, int kMaxCount>
inline void fill_flip_thresholds(Philox4x32Key key, std::uint32_t stream, std::uint32_t c2, std::uint32_t c3,
                                 int first_site, int count, double half_inverse_beta, double* out) {
  static_assert(kMaxCount % 4 == 0, "whole Philox blocks");
  // Two flat loops (draws, then logarithms) so that each vectorises.
  std::uint32_t words[4][kMaxCount / 4];
  const int blocks = (count + 3) / 4;
  const std::uint32_t block0 = std::uint32_t(first_site / 4);
#pragma omp simd
  for (int b = 0; b < blocks; ++b) {
    std::uint32_t x0 = block0 + std::uint32_t(b), x1 = stream, x2 = c2, x3 = c3;
    philox4x32_10_inplace(x0, x1, x2, x3, key[0], key[1]);
    words[0][b] = x0;
    words[1][b] = x1;
    words[2][b] = x2;
    words[3][b] = x3;
  }
  double t[4][kMaxCount / 4];
  for (int w = 0; w < 4; ++w) {
#pragma omp simd
    for (int b = 0; b < blocks; ++b) t[w][b] = flip_threshold<kUpdate>(words[w][b]) * half_inverse_beta;
  }
  for (int k = 0; k < count; ++k) out[k] = t[k % 4][k / 4];
}

// Thresholds t / (2 beta) for sites [first_site, first_site + count) of one
// configuration at one sweep. The draw for site i is word i % 4 of Philox at
// counter (i / 4, stream, c2, c3); first_site must be a multiple of 4.
template <int kMaxCount>
inline void fill_flip_thresholds(Philox4x32Key key, std::uint32_t stream, std::uint32_t c2, std::uint32_t c3,
                                 int first_site, int count, IsingUpdate update, double half_inverse_beta,
                                 double* out) {
  if (update == IsingUpdate::Metropolis)
    fill_flip_thresholds<IsingUpdate::Metropolis, kMaxCount>(key, stream, c2, c3, first_site, count,
                                                             half_inverse_beta, out);
  else
    fill_flip_thresholds<IsingUpdate::HeatBath, kMaxCount>(key, stream, c2, c3, first_site, count,
                                                           half_inverse_beta, out);
}

}  // namespace pspin
