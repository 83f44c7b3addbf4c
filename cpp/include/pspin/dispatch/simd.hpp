// SIMD vectors of the width of the target this file is compiled for, through
// the GCC/Clang vector extension: 64 bytes for AVX-512, 32 for AVX/AVX2, 16
// for SSE2 and NEON. The same sources are compiled once per level (see
// CMakeLists.txt), so nothing here tests the CPU at run time.
//
// Kernels hold arrays of these in registers. How many fit is the register
// count below: blocking factors derive from it, so that an AVX2 build (16
// registers) does not spill the working set sized for AVX-512 (32).
#pragma once
#include <cstddef>
#include <new>
#include <vector>

namespace pspin {

#if defined(__AVX512F__)
inline constexpr int kSimdBytes = 64;
inline constexpr int kSimdRegisters = 32;
#elif defined(__AVX__)
inline constexpr int kSimdBytes = 32;
inline constexpr int kSimdRegisters = 16;
#elif defined(__aarch64__)
inline constexpr int kSimdBytes = 16;
inline constexpr int kSimdRegisters = 32;
#else
inline constexpr int kSimdBytes = 16;
inline constexpr int kSimdRegisters = 16;
#endif

// Allocator for vectors whose rows are read as whole vectors: malloc's 16-byte
// alignment would split every 64-byte load across two cache lines.
template <class T>
struct CacheAligned {
  using value_type = T;
  static constexpr std::align_val_t kAlign{64};
  CacheAligned() = default;
  template <class U>
  CacheAligned(const CacheAligned<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlign)); }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, kAlign); }
  template <class U>
  bool operator==(const CacheAligned<U>&) const noexcept { return true; }
  template <class U>
  bool operator!=(const CacheAligned<U>&) const noexcept { return false; }
};
template <class T>
using AlignedVector = std::vector<T, CacheAligned<T>>;

template <class T>
struct Simd;

template <>
struct Simd<double> {
  typedef double vec __attribute__((vector_size(kSimdBytes)));
  typedef double uvec __attribute__((vector_size(kSimdBytes), aligned(8)));  // unaligned access
  static constexpr int width = kSimdBytes / 8;
};

template <>
struct Simd<float> {
  typedef float vec __attribute__((vector_size(kSimdBytes)));
  typedef float uvec __attribute__((vector_size(kSimdBytes), aligned(4)));
  static constexpr int width = kSimdBytes / 4;
};

// Sum of the lanes in one fixed order, whatever the surrounding code: the
// samplers' results must not depend on which configurations share a pass.
// The upper half is added to the lower half until one lane is left; for eight
// lanes ((a0+a4)+(a2+a6))+((a1+a5)+(a3+a7)).
inline double simd_sum(const Simd<double>::vec& a) {
  constexpr int w = Simd<double>::width;
  double x[w];
  for (int i = 0; i < w; ++i) x[i] = a[i];
  for (int half = w / 2; half >= 1; half /= 2)
    for (int i = 0; i < half; ++i) x[i] += x[i + half];
  return x[0];
}

// One vector of consecutive values (unaligned), widened to doubles.
inline Simd<double>::vec simd_as_doubles(const double* x) { return *reinterpret_cast<const Simd<double>::uvec*>(x); }
inline Simd<double>::vec simd_as_doubles(const float* x) {
  typedef float half __attribute__((vector_size(kSimdBytes / 2), aligned(4)));
  return __builtin_convertvector(*reinterpret_cast<const half*>(x), Simd<double>::vec);
}

}  // namespace pspin
