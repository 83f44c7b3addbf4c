// Single-spin-flip acceptance as comparisons against numbers made in advance.
//
// Flipping s_i changes the energy by dE = 2 s_i h_i. Metropolis accepts when
// u < exp(-beta dE), heat bath when u (1 + exp(beta dE)) < 1; both read
//     s_i h_i < t(u) / (2 beta),   t = -ln u  or  ln((1 - u) / u),
// so the right-hand side depends on the random number alone. Making it in
// bulk before a sweep looks at any field turns a rejected attempt into one
// comparison, and lets a single chain skip runs of rejections eight sites at a
// time. The bulk logarithm is single precision (16 lanes, a cheap division)
// and gives a bracket [lower, upper] around the double-precision threshold;
// only an s_i h_i inside the bracket (probability ~1e-5) computes the latter,
// so every decision is the one the double-precision threshold makes.
#pragma once
#include <cstdint>

#include "pspin/random/gaussian.hpp"
#include "pspin/random/philox.hpp"

namespace pspin {

enum class IsingUpdate { Metropolis, HeatBath };

constexpr double kLn2To32 = 22.18070977791824990137;  // 32 ln 2: ln u = ln x - 32 ln 2 for u = x 2^-32

// u = x 2^-32 with x the raw 32-bit draw, so ln u = ln x - 32 ln 2 and
// 1 - u = (2^32 - x) 2^-32; x = 0 (u = 0) accepts every flip: +inf.
template <IsingUpdate kUpdate>
inline double flip_threshold(std::uint32_t x) {
  const double zero = double(x == 0);
  const double lx = detail::poly_log(double(x) + zero);
  const double t = kUpdate == IsingUpdate::Metropolis ? kLn2To32 - lx : detail::poly_log(4294967296.0 - double(x)) - lx;
  // t > 0 when x = 0; dividing rather than selecting keeps the loop vectorisable.
  return t / (1.0 - zero);
}

// Half-width of the bracket: five times the largest error of the single-precision
// threshold (poly_log<float>: 1.06e-6; the heat-bath difference of two logs: 2.03e-6,
// both over all 2^32 draws; tests/test_sampling_thresholds.py samples them).
constexpr double kThresholdBracket = 1.0e-5;

// The single-precision part of the threshold, -ln x (Metropolis) or
// ln(2^32 - x) - ln x (heat bath), in a loop of floats only (16 lanes).
template <IsingUpdate kUpdate>
inline float threshold_log_single(std::uint32_t x) {
  // Integer forms of "x == 0" keep the loops over draws vectorisable.
  const std::uint32_t zero = std::uint32_t(x == 0);
  const float lx = detail::poly_log(float(x | zero));
  if constexpr (kUpdate == IsingUpdate::Metropolis) return -lx;
  return detail::poly_log(float((0u - x) | zero)) - lx;  // 0u - x = 2^32 - x for x > 0
}

template <IsingUpdate kUpdate>
inline double threshold_from_log_single(float log_part, std::uint32_t x) {
  const double t = kUpdate == IsingUpdate::Metropolis ? kLn2To32 + double(log_part) : double(log_part);
  return t / double(1u - std::uint32_t(x == 0));  // +inf at x = 0, as flip_threshold
}

template <IsingUpdate kUpdate>
inline double flip_threshold_single(std::uint32_t x) {
  return threshold_from_log_single<kUpdate>(threshold_log_single<kUpdate>(x), x);
}

template <IsingUpdate kUpdate, int kMaxCount>
inline void fill_brackets(const std::uint32_t* words, int count, double half_inverse_beta, double* lower,
                          double* upper) {
  float log_part[kMaxCount];
#pragma omp simd
  for (int k = 0; k < count; ++k) log_part[k] = threshold_log_single<kUpdate>(words[k]);
#pragma omp simd
  for (int k = 0; k < count; ++k) {
    const double t = threshold_from_log_single<kUpdate>(log_part[k], words[k]);
    lower[k] = (t - kThresholdBracket) * half_inverse_beta;
    upper[k] = (t + kThresholdBracket) * half_inverse_beta;
  }
}

// Bracket [lower, upper] of t / (2 beta) for sites [first_site, first_site + count)
// of one configuration at one sweep, and the raw draws. The draw for site i is
// word i % 4 of Philox at counter (i / 4, stream, c2, c3); first_site must be a
// multiple of 4.
template <int kMaxCount>
inline void fill_flip_brackets(Philox4x32Key key, std::uint32_t stream, std::uint32_t c2, std::uint32_t c3,
                               int first_site, int count, IsingUpdate update, double half_inverse_beta,
                               double* lower, double* upper, std::uint32_t* words) {
  static_assert(kMaxCount % 4 == 0, "whole Philox blocks");
  std::uint32_t w[4][kMaxCount / 4];
  const int blocks = (count + 3) / 4;
  const std::uint32_t block0 = std::uint32_t(first_site / 4);
#pragma omp simd
  for (int b = 0; b < blocks; ++b) {
    std::uint32_t x0 = block0 + std::uint32_t(b), x1 = stream, x2 = c2, x3 = c3;
    philox4x32_10_inplace(x0, x1, x2, x3, key[0], key[1]);
    w[0][b] = x0;
    w[1][b] = x1;
    w[2][b] = x2;
    w[3][b] = x3;
  }
  for (int b = 0; b < blocks; ++b)
    for (int q = 0; q < 4; ++q) words[4 * b + q] = w[q][b];
  if (update == IsingUpdate::Metropolis)
    fill_brackets<IsingUpdate::Metropolis, kMaxCount>(words, count, half_inverse_beta, lower, upper);
  else
    fill_brackets<IsingUpdate::HeatBath, kMaxCount>(words, count, half_inverse_beta, lower, upper);
}

// The decision for an s_i h_i below the bracket's upper end.
inline bool accept_flip_candidate(double sh, double lower, std::uint32_t word, IsingUpdate update,
                                  double half_inverse_beta) {
  if (sh < lower) return true;
  const double t = update == IsingUpdate::Metropolis ? flip_threshold<IsingUpdate::Metropolis>(word)
                                                     : flip_threshold<IsingUpdate::HeatBath>(word);
  return sh < t * half_inverse_beta;
}

}  // namespace pspin
