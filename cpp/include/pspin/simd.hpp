// Fixed-width SIMD vectors through the GCC/Clang vector extension: one 64-byte
// vector per batch chunk. Arrays of these stay in registers where plain arrays
// of scalars were spilled to the stack.
#pragma once

namespace pspin {

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

}  // namespace pspin
