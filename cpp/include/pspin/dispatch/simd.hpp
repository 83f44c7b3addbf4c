// Fixed-width SIMD vectors through the GCC/Clang vector extension: one 64-byte
// vector per batch chunk. Arrays of these stay in registers where plain arrays
// of scalars were spilled to the stack.
#pragma once
#include <cstddef>
#include <new>
#include <vector>

namespace pspin {

// Allocator for vectors whose rows are read as whole 64-byte vectors: malloc's
// 16-byte alignment would split every such load across two cache lines.
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
  typedef double vec __attribute__((vector_size(64)));
  typedef double uvec __attribute__((vector_size(64), aligned(8)));  // unaligned access
  static constexpr int width = 8;
};

template <>
struct Simd<float> {
  typedef float vec __attribute__((vector_size(64)));
  typedef float uvec __attribute__((vector_size(64), aligned(4)));
  static constexpr int width = 16;
};

// Sum of the lanes in one fixed order, whatever the surrounding code: the
// samplers' results must not depend on which configurations share a pass.
inline double simd_sum(const Simd<double>::vec& a) {
  static_assert(Simd<double>::width == 8, "the order below is for eight lanes");
  return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
}

// Eight consecutive values (unaligned) widened to one vector of doubles.
inline Simd<double>::vec simd_as_doubles(const double* x) { return *reinterpret_cast<const Simd<double>::uvec*>(x); }
inline Simd<double>::vec simd_as_doubles(const float* x) {
  typedef float f8 __attribute__((vector_size(32), aligned(4)));
  return __builtin_convertvector(*reinterpret_cast<const f8*>(x), Simd<double>::vec);
}

}  // namespace pspin
