// Products of the spins on a row's prefix (i1..i_{p-1}), for a batch of
// configurations laid out spin-major: x[i * stride + b].
#pragma once
#include "pspin/tuple_layout.hpp"

namespace pspin {

// leave_one[m*B + b] = prod_{l != m} x[prefix[l]][b]; full[b] = prod_l x[prefix[l]][b].
// Recomputed per row in O(len^2 B): rows are O(n) long, so this is negligible.
template <class T>
inline void prefix_products(const int* prefix, int len, const T* x, int stride, int B,
                            T* leave_one, T* full) {
  for (int b = 0; b < B; ++b) {
    for (int m = 0; m < len; ++m) {
      T prod = T(1);
      for (int l = 0; l < len; ++l)
        if (l != m) prod *= x[std::size_t(prefix[l]) * stride + b];
      leave_one[m * B + b] = prod;
    }
    full[b] = leave_one[b] * x[std::size_t(prefix[0]) * stride + b];
  }
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
