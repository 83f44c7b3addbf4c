// Products of the spins on a row's prefix (i1..i_{p-1}), for a batch of
// configurations laid out spin-major: x[i * stride + b].
#pragma once
#include "pspin/couplings/tuple_layout.hpp"

namespace pspin {

// leave_one[m*B + b] = prod_{l != m} x[prefix[l]][b]; full[b] = prod_l x[prefix[l]][b].
// Loops run over the batch innermost so they vectorise; the O(len^2 B) cost is
// small next to the O(n B) sweep of the row.
template <class T>
inline void prefix_products(const int* prefix, int len, const T* x, int stride, int B,
                            T* leave_one, T* full) {
  for (int m = 0; m < len; ++m) {
    T* out = leave_one + m * B;
    for (int b = 0; b < B; ++b) out[b] = T(1);
    for (int l = 0; l < len; ++l) {
      if (l == m) continue;
      const T* xl = x + std::size_t(prefix[l]) * stride;
      for (int b = 0; b < B; ++b) out[b] *= xl[b];
    }
  }
  const T* x0 = x + std::size_t(prefix[0]) * stride;
  for (int b = 0; b < B; ++b) full[b] = leave_one[b] * x0[b];
}

// leave_two[(m*len + l)*B + b] = prod_{j != m, l} x[prefix[j]][b] for m != l.
template <class T>
inline void prefix_products_leave_two(const int* prefix, int len, const T* x, int stride, int B,
                                      T* leave_two) {
  for (int m = 0; m < len; ++m)
    for (int l = 0; l < len; ++l) {
      if (l == m) continue;
      for (int b = 0; b < B; ++b) {
        T prod = T(1);
        for (int j = 0; j < len; ++j)
          if (j != m && j != l) prod *= x[std::size_t(prefix[j]) * stride + b];
        leave_two[(m * len + l) * B + b] = prod;
      }
    }
}

}  // namespace pspin
