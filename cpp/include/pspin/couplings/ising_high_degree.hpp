// Incremental local fields of Ising couplings of degree p >= 4.
//
// With H = -sum_tau K_tau prod_{k in tau} s_k and h_j = -dH/ds_j, flipping s_i
// changes h_j by c sum_{tau ∋ i, j} K_tau prod_{tau \ {i, j}} s, c = -2 s_i:
// C(n-1, p-1) couplings per flip, the fewest any exact update reads. Each spin
// keeps its couplings as a table over the (p-1)-subsets K of the other spins,
// in lexicographic order (the packed layout of degree p - 1, with zeros where
// K contains the spin itself), so a row (a prefix of K) runs contiguously over
// the last index k: with P the product of the prefix spins,
//     h_k += c P V_k                          (one axpy over the run)
//     h_m += c P s_m (V . s over the run)     (each prefix spin m, one dot)
// which for p = 3 is the slice update of IsingDense. Storage is p C(n, p)
// values per degree (n C(n, p-1)).
#pragma once
#include <cstdint>
#include <vector>

#include "pspin/couplings/couplings.hpp"
#include "pspin/couplings/tuple_layout.hpp"
#include "pspin/dispatch/simd.hpp"
#include "pspin/platform/huge_pages.hpp"
#include "pspin/platform/parallel.hpp"

namespace pspin {

template <class T>
struct IsingHighDegree {
  struct Degree {
    int p = 0;
    TupleLayout subsets;  // (p-1)-subsets of [0, n)
    std::size_t per_spin = 0;
    StreamArray<T> values;  // n x per_spin
  };
  int n = 0;
  std::vector<Degree> degrees;

  explicit IsingHighDegree(const Couplings<T>& c) : n(c.n()) {
    c.require_whole("the Ising tables of degree >= 4");
    for (int b = 0; b < c.n_blocks(); ++b)
      if (c.block(b).layout.p >= 4) degrees.push_back(build(c.block(b)));
  }

  bool empty() const { return degrees.empty(); }

  // Field changes of flipping spin i in `count` configurations (states s[m]
  // before the flip, fields h[m]); a row of couplings is read once for all.
  void add_flip(int i, int count, const T* const* s, double* const* h) const {
    for (const Degree& d : degrees) {
      const T* table = d.values.get() + std::size_t(i) * d.per_spin;
      const int prefix_len = d.p - 2;
      for (RowCursor row(d.subsets, 0, d.subsets.first_index_end()); row.valid(); row.advance()) {
        bool holds_i = false;
        for (int q = 0; q < prefix_len; ++q) holds_i |= row.prefix[q] == i;
        if (holds_i) continue;  // all zeros
        const T* v = table + row.offset - std::uint64_t(row.lo());  // v[k], k in [lo, n)
        const int lo = row.lo();
        for (int m = 0; m < count; ++m) {
          const T* x = s[m];
          double* y = h[m];
          double cp = -2.0 * double(x[i]);
          for (int q = 0; q < prefix_len; ++q) cp *= double(x[row.prefix[q]]);
          // Explicit vectors (not an omp simd reduction, whose order may differ
          // between inlined copies): see simd_sum.
          using V = typename Simd<double>::vec;
          using UV = typename Simd<double>::uvec;
          constexpr int kW = Simd<double>::width;
          const V vcp = V{} + cp;
          V acc = V{};
          int k = lo;
          for (; k + kW <= n; k += kW) {
            const V w = simd_as_doubles(v + k);
            acc += w * simd_as_doubles(x + k);
            *reinterpret_cast<UV*>(y + k) = *reinterpret_cast<const UV*>(y + k) + vcp * w;
          }
          double dot = simd_sum(acc);
          for (; k < n; ++k) {
            dot += double(v[k]) * double(x[k]);
            y[k] += cp * double(v[k]);
          }
          for (int q = 0; q < prefix_len; ++q) y[row.prefix[q]] += cp * double(x[row.prefix[q]]) * dot;
        }
      }
    }
  }



 private:
  Degree build(const DegreeBlock<T>& blk) const {
    Degree d;
    d.p = blk.layout.p;
    d.subsets = TupleLayout(n, d.p - 1, false);
    d.per_spin = d.subsets.size();
    d.values = allocate_stream<T>(d.per_spin * n);
    const int q = d.p - 1;
    // binom[a][b] = C(a, b) for the lexicographic rank of a q-subset.
    std::vector<std::uint64_t> binom(std::size_t(n + 1) * (q + 1), 0);
    for (int a = 0; a <= n; ++a)
      for (int b = 0; b <= q; ++b) binom[std::size_t(a) * (q + 1) + b] = binomial(std::uint64_t(a), std::uint64_t(b));
    auto C = [&](int a, int b) { return binom[std::size_t(a) * (q + 1) + b]; };
    // rank(K) = sum_m C(n - prev_m - 1, q - m) - C(n - k_m, q - m), prev_0 = -1.
    auto rank = [&](const int* k) {
      std::uint64_t r = 0;
      int prev = -1;
      for (int m = 0; m < q; ++m) {
        r += C(n - prev - 1, q - m) - C(n - k[m], q - m);
        prev = k[m];
      }
      return r;
    };
    const T* v = blk.values.get();
    const TupleLayout& L = blk.layout;
#pragma omp parallel for schedule(static) if (double(d.per_spin) * n > kMinParallelWork)
    for (int i = 0; i < n; ++i) std::fill(d.values.get() + std::size_t(i) * d.per_spin,
                                          d.values.get() + std::size_t(i + 1) * d.per_spin, T(0));
    // Every coupling goes to each of its p spins, under the subset of the others.
#pragma omp parallel for schedule(dynamic, 1) if (double(L.size()) * d.p > kMinParallelWork)
    for (int a = 0; a < L.first_index_end(); ++a) {
      int tuple[kMaxDegree], others[kMaxDegree];
      for (RowCursor row(L, a, a + 1); row.valid(); row.advance()) {
        for (int m = 0; m + 1 < d.p; ++m) tuple[m] = row.prefix[m];
        for (int k = row.lo(); k < n; ++k) {
          tuple[d.p - 1] = k;
          const T value = v[row.offset + std::uint64_t(k - row.lo())];
          for (int m = 0; m < d.p; ++m) {
            int o = 0;
            for (int r = 0; r < d.p; ++r)
              if (r != m) others[o++] = tuple[r];
            d.values[std::size_t(tuple[m]) * d.per_spin + rank(others)] = value;
          }
        }
      }
    }
    return d;
  }
};

}  // namespace pspin
