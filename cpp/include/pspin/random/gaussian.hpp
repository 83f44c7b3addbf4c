// Standard normals from Philox4x32-10 by Box-Muller, in a form the compiler
// vectorises: log, sin and cos are short polynomials (relative error ~1e-16)
// instead of libm calls. Owning them also makes the couplings bit-identical
// across machines whatever their libm.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "pspin/random/philox.hpp"

namespace pspin {
namespace detail {

template <class To, class From>
inline To bit_cast(From from) {
  static_assert(sizeof(To) == sizeof(From), "same size");
  To to;
  std::memcpy(&to, &from, sizeof to);
  return to;
}

// The IEEE layout of double and float, and how many odd terms of the atanh
// series each precision needs below its rounding error.
template <class F>
struct LogFormat;
template <>
struct LogFormat<double> {
  using Bits = std::uint64_t;
  static constexpr int kMantissaBits = 52, kExponentMask = 0x7ff, kBias = 1023, kLastOdd = 21;
  static constexpr double kSqrt2 = 1.4142135623730951;
  static constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
};
template <>
struct LogFormat<float> {
  using Bits = std::uint32_t;
  static constexpr int kMantissaBits = 23, kExponentMask = 0xff, kBias = 127, kLastOdd = 9;
  static constexpr float kSqrt2 = 1.41421356f;
  static constexpr float kLn2Hi = 0.693145751953125f, kLn2Lo = 1.42860682030941723212e-06f;  // Hi * e exact
};

// log(x) for normal positive x: x = m 2^e with m in [sqrt(1/2), sqrt(2)), then
// log m = 2 atanh(z), z = (m-1)/(m+1), |z| < 0.1716, by its series to z^21
// (double; relative error ~1e-16) or z^9 (float: over every integer x in
// [1, 2^32), within 1.06e-6 of the double result).
template <class F>
inline F poly_log(F x) {
  using L = LogFormat<F>;
  using Bits = typename L::Bits;
  const Bits bits = bit_cast<Bits>(x);
  constexpr Bits kMantissa = (Bits(1) << L::kMantissaBits) - 1, kOne = Bits(L::kBias) << L::kMantissaBits;
  auto e = std::int64_t((bits >> L::kMantissaBits) & L::kExponentMask) - L::kBias;
  F m = bit_cast<F>(Bits((bits & kMantissa) | kOne));
  const bool big = m > L::kSqrt2;
  m = big ? F(0.5) * m : m;
  e = big ? e + 1 : e;
  const F z = (m - F(1)) / (m + F(1)), z2 = z * z;
  F poly = F(1) / F(L::kLastOdd);
#pragma GCC unroll 16
  for (int odd = L::kLastOdd - 2; odd >= 1; odd -= 2) poly = poly * z2 + F(1) / F(odd);
  const F ef = F(e);
  return ef * L::kLn2Hi + (ef * L::kLn2Lo + F(2) * z * poly);
}

// sin and cos of 2 pi u for u in [0, 1]: reduce to phi = 2 pi r, |r| <= 1/8
// (exact in binary), Taylor polynomials (truncation < 1e-19), then rotate by
// the quarter turns q.
inline void sincos_2pi(double u, double* sin_out, double* cos_out) {
  const std::int64_t q = std::int64_t(4.0 * u + 0.5);  // nearest quarter turn, 0..4
  const double r = u - 0.25 * double(q);
  const double phi = 6.283185307179586476925286766559 * r, p2 = phi * phi;
  double sn = 2.8114572543455206e-15;
  sn = -7.647163731819816e-13 + p2 * sn;
  sn = 1.6059043836821613e-10 + p2 * sn;
  sn = -2.505210838544172e-08 + p2 * sn;
  sn = 2.7557319223985893e-06 + p2 * sn;
  sn = -0.0001984126984126984 + p2 * sn;
  sn = 0.008333333333333333 + p2 * sn;
  sn = -0.16666666666666666 + p2 * sn;
  sn = 1.0 + p2 * sn;
  double cs = -1.5619206968586225e-16;
  cs = 4.779477332387385e-14 + p2 * cs;
  cs = -1.1470745597729725e-11 + p2 * cs;
  cs = 2.08767569878681e-09 + p2 * cs;
  cs = -2.755731922398589e-07 + p2 * cs;
  cs = 2.48015873015873e-05 + p2 * cs;
  cs = -0.001388888888888889 + p2 * cs;
  cs = 0.041666666666666664 + p2 * cs;
  cs = -0.5 + p2 * cs;
  cs = 1.0 + p2 * cs;
  sn *= phi;
  const int quadrant = int(q & 3);
  const double s_rot = quadrant == 0 ? sn : quadrant == 1 ? cs : quadrant == 2 ? -sn : -cs;
  const double c_rot = quadrant == 0 ? cs : quadrant == 1 ? -sn : quadrant == 2 ? -cs : sn;
  *sin_out = s_rot;
  *cos_out = c_rot;
}

}  // namespace detail

// Normals number first .. first+count-1 of stream (key, stream, purpose): normal
// e is the (e % 2)-th Box-Muller output of Philox block e / 2, the same numbers as
// normal_pair() up to the last bit of the polynomial log/sin/cos.
// Contraction into FMA is off here: an FMA rounds once where a multiply and an
// add round twice, so the normals, and with them every model's couplings,
// would differ in the last bit between a baseline build and an AVX2 or
// AVX-512 one. The same seed gives the same couplings on every CPU.
#if defined(__clang__)
#define PSPIN_NO_FP_CONTRACT
#elif defined(__GNUC__)
#define PSPIN_NO_FP_CONTRACT __attribute__((optimize("fp-contract=off")))
#else
#define PSPIN_NO_FP_CONTRACT
#endif

PSPIN_NO_FP_CONTRACT inline void fill_normals(Philox4x32Key key, std::uint32_t stream, std::uint32_t purpose, std::uint64_t first,
                         std::int64_t count, double* out) {
#if defined(__clang__)
#pragma clang fp contract(off)
#endif
  constexpr int kChunk = 256;
  double z[2 * kChunk];
  std::uint64_t pair = first >> 1;
  const std::uint64_t last_pair = (first + std::uint64_t(count) - 1) >> 1;
  std::int64_t written = 0;
  std::uint64_t skip = first & 1;  // the first block's first normal precedes the range
  while (pair <= last_pair) {
    const int m = int(std::min<std::uint64_t>(kChunk, last_pair - pair + 1));
#pragma omp simd
    for (int j = 0; j < m; ++j) {
      const std::uint64_t idx = pair + std::uint64_t(j);
      std::uint32_t x0 = std::uint32_t(idx), x1 = std::uint32_t(idx >> 32), x2 = stream, x3 = purpose;
      philox4x32_10_inplace(x0, x1, x2, x3, key[0], key[1]);
      const double u1 = uniform_open0(x0, x1);
      const double u2 = uniform_open0(x2, x3);
      const double radius = std::sqrt(-2.0 * detail::poly_log(u1));
      double sn, cs;
      detail::sincos_2pi(u2, &sn, &cs);
      z[2 * j] = radius * cs;
      z[2 * j + 1] = radius * sn;
    }
    const std::int64_t take = std::min<std::int64_t>(count - written, 2 * m - std::int64_t(skip));
    std::memcpy(out + written, z + skip, std::size_t(take) * sizeof(double));
    written += take;
    skip = 0;
    pair += std::uint64_t(m);
  }
}

}  // namespace pspin
