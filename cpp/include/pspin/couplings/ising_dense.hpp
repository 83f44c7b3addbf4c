// Dense couplings per spin, for every single-flip Ising kernel (descent,
// enumeration, the sampler). The packed i<j<k layout scatters the couplings of
// one spin, while a flip of spin i needs exactly W[i,:] (degree 2) and the
// slice T[i,:,:] (degree 3) contiguously. A slice is symmetric, so only its
// strict upper triangle is kept, about n^3 / 2 values instead of n^3. Row j of
// a triangle starts at column 8 floor((j + 1) / 8) with zeros up to column j,
// so every row splits into whole SIMD vectors at the same columns as the fields.
// Entries with a repeated index are zero, so a spin's own flip never changes
// its own field.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "pspin/couplings/couplings.hpp"
#include "pspin/couplings/tuple_layout.hpp"
#include "pspin/dispatch/simd.hpp"
#include "pspin/platform/huge_pages.hpp"
#include "pspin/platform/interrupt.hpp"
#include "pspin/platform/parallel.hpp"

namespace pspin {

template <class T>
struct IsingDense {
  static constexpr int kVector = Simd<double>::width;
  int n = 0;
  StreamArray<T> w;  // n rows of w_stride (n used), zero diagonal; null without a degree-2 term
  // An odd number of cache lines per row: rows n doubles apart would put the
  // same columns of many rows into one L1 set (n = 1024: 8 KB apart).
  std::size_t w_stride = 0;
  const T* w_row(int i) const { return w.get() + std::size_t(i) * w_stride; }
  StreamArray<T> t;  // n slices, each the padded upper triangle k > j of T[i, j, k]; null without degree 3
  std::vector<std::ptrdiff_t> row_offset;  // triangle_row(j)
  std::size_t slice_size = 0;

  // Degrees above 3 are an error unless the caller handles them itself
  // (skip_higher_degrees; the sampler does, with IsingHighDegree).
  explicit IsingDense(const Couplings<T>& c, bool skip_higher_degrees = false) : n(c.n()) {
    c.require_whole("the dense Ising tables");
    if (c.multiset()) throw std::invalid_argument("Ising couplings must use distinct indices");
    for (int b = 0; b < c.n_blocks(); ++b) {
      const int p = c.block(b).layout.p;
      if (p != 2 && p != 3 && !skip_higher_degrees)
        throw std::invalid_argument("Ising landscape kernels support degrees 2 and 3 only");
    }
    for (int b = 0; b < c.n_blocks(); ++b) {
      if (c.block(b).layout.p == 2) fill_matrix(c.block(b));
      else if (c.block(b).layout.p == 3) fill_tensor(c.block(b));
    }
  }

  bool has2() const { return bool(w); }
  bool has3() const { return bool(t); }
  static int row_begin(int j) { return (j + 1) / kVector * kVector; }
  // Index in a slice of (j, k), row_begin(j) <= k < n, is triangle_row(j) + k.
  std::ptrdiff_t triangle_row(int j) const { return row_offset[j]; }
  // T[i, j, k] for any indices (zero when two coincide).
  T coupling3(int i, int j, int k) const {
    if (i == j || j == k || i == k) return T(0);
    if (j > k) std::swap(j, k);
    return t[std::size_t(i) * slice_size + std::size_t(triangle_row(j) + k)];
  }
  // Multiply-adds of one incremental field update, for parallel-work thresholds.
  double flip_cost() const { return (has2() ? n : 0) + (has3() ? double(n) * n : 0.0); }

  // Adds the field change caused by flipping spin i (s is the state before
  // the flip).
  void add_flip(int i, const T* s, double* h) const {
    if (has2()) add_flip2(i, s, h);
    if (has3()) add_flip3(i, 1, &s, &h);
  }

  // Degree-2 part of the field change of flipping i.
  void add_flip2(int i, const T* s, double* h) const { add_flip2_columns(i, -2.0 * double(s[i]), 0, n, h); }

  // Degree-2 part of flipping spin i (factor c = -2 s_i before the flip) on
  // columns [j0, j1) only: samplers defer the other columns.
  void add_flip2_columns(int i, double c, int j0, int j1, double* h) const {
    const T* row = w_row(i);
#pragma omp simd
    for (int j = j0; j < j1; ++j) h[j] += c * double(row[j]);
  }

  // Degree-3 part of flipping spin i in `count` configurations (states s[m],
  // fields h[m]): -2 s_i T_i s with T_i = U + U^T (U its upper triangle), so row j
  // of U adds its dot product with s to h_j and scatters s_j U[j, :] into h_k,
  // k > j. Each coupling is read once from memory for all configurations, in
  // groups whose states and fields stay in L1 while the rows pass by; rows go
  // four at a time (same first column), sharing each load and store of s and h.
  // The dot products go to h after the last row: h_j receives nothing after
  // row j, so the sum is the same.
  void add_flip3(int i, int count, const T* const* s, double* const* h) const {
    const T* slice = t.get() + std::size_t(i) * slice_size;
    if constexpr (std::is_same_v<T, double>) {
      add_flip3_from(slice, i, count, s, h);
    } else {
      // Widen the slice and the states once rather than in every row's FMAs
      // (conversions compete with them for the same ports).
      if (count == 1) return add_flip3_from(slice, i, count, s, h);
      thread_local std::vector<double> wide, states;
      thread_local std::vector<const double*> rows;
      wide.resize(slice_size);
      states.resize(std::size_t(count) * n);
      rows.resize(count);
#pragma omp simd
      for (std::size_t q = 0; q < slice_size; ++q) wide[q] = double(slice[q]);
      for (int m = 0; m < count; ++m) {
        double* x = &states[std::size_t(m) * n];
        for (int k = 0; k < n; ++k) x[k] = double(s[m][k]);
        rows[m] = x;
      }
      add_flip3_from(wide.data(), i, count, rows.data(), h);
    }
  }

 private:
  template <class R, class X>
  void add_flip3_from(const R* slice, int i, int count, const X* const* s, double* const* h) const {
    using V = typename Simd<double>::vec;
    using UV = typename Simd<double>::uvec;
    constexpr int kRows = 4;
    constexpr std::size_t kL1Budget = 24 * 1024;
    const int group = std::max(1, int(kL1Budget / (std::size_t(n) * (sizeof(X) + 2 * sizeof(double)))));
    thread_local std::vector<double> dots;
    thread_local std::vector<R> zeros;
    dots.resize(std::size_t(std::min(group, count)) * n);
    if (zeros.size() < std::size_t(n)) zeros.resize(std::size_t(n), R(0));  // never written
    const int vec_end = n - n % kVector;
    for (int m0 = 0; m0 < count; m0 += group) {
      const int m1 = std::min(count, m0 + group);
      for (int j0 = 0; j0 + 1 < n;) {
        const int begin = row_begin(j0);
        const int rows = std::min({kRows, n - 1 - j0, begin + kVector - 1 - j0});  // same row_begin
        const R* row[kRows];
        for (int r = 0; r < kRows; ++r) row[r] = r < rows ? slice + triangle_row(j0 + r) : zeros.data();
        for (int m = m0; m < m1; ++m) {
          const X* x = s[m];
          double* y = h[m];
          const double c = -2.0 * double(x[i]);
          V vc[kRows], acc[kRows];
          for (int r = 0; r < kRows; ++r) {
            vc[r] = V{} + (r < rows ? c * double(x[j0 + r]) : 0.0);
            acc[r] = V{};
          }
          int k = begin;
          for (; k < vec_end; k += kVector) {
            const V xv = simd_as_doubles(x + k);
            V yv = *reinterpret_cast<const UV*>(y + k);
            for (int r = 0; r < kRows; ++r) {
              const V w = simd_as_doubles(row[r] + k);
              acc[r] += w * xv;
              yv += vc[r] * w;
            }
            *reinterpret_cast<UV*>(y + k) = yv;
          }
          double dot[kRows];
          for (int r = 0; r < kRows; ++r) dot[r] = simd_sum(acc[r]);
          for (; k < n; ++k)
            for (int r = 0; r < kRows; ++r) {
              const double v = double(row[r][k]);
              dot[r] += v * double(x[k]);
              y[k] += vc[r][0] * v;
            }
          for (int r = 0; r < rows; ++r) dots[std::size_t(m - m0) * n + j0 + r] = dot[r];
        }
        j0 += rows;
      }
      for (int m = m0; m < m1; ++m) {
        const double c = -2.0 * double(s[m][i]);
        const double* d = &dots[std::size_t(m - m0) * n];
        double* y = h[m];
        const int rows = n - 1;
#pragma omp simd
        for (int j = 0; j < rows; ++j) y[j] += c * d[j];
      }
    }
  }

 public:
  int count_unstable(const T* s, const double* h) const {
    int bad = 0;
    for (int i = 0; i < n; ++i) bad += double(s[i]) * h[i] < 0.0;
    return bad;
  }

 private:
  // The packed index of tuple (a, b, c), a < b < c, is start[a * n + b] + c
  // (degree 2: of (a, b), start[a] + b): one entry per row of the packed layout.
  static std::vector<std::uint64_t> row_starts(const TupleLayout& L) {
    std::vector<std::uint64_t> starts(std::size_t(L.n) * (L.p == 3 ? L.n : 1));
    for (RowCursor row(L, 0, L.first_index_end()); row.valid(); row.advance()) {
      const std::size_t key = L.p == 3 ? std::size_t(row.prefix[0]) * L.n + row.prefix[1] : row.prefix[0];
      starts[key] = row.offset - std::uint64_t(row.lo());
    }
    return starts;
  }

  // Each row (slice) is written whole by one thread: first touch puts it in
  // that thread's memory and no write is shared.
  void fill_matrix(const DegreeBlock<T>& blk) {
    constexpr std::size_t kLine = 64 / sizeof(T);
    const std::size_t lines = (std::size_t(n) + kLine - 1) / kLine;
    w_stride = (lines | 1) * kLine;
    w = allocate_stream<T>(std::size_t(n) * w_stride);
    const auto start = row_starts(blk.layout);
    const T* v = blk.values.get();
#pragma omp parallel for schedule(static) if (double(n) * n > kMinParallelWork)
    for (int i = 0; i < n; ++i) {
      T* row = w.get() + std::size_t(i) * w_stride;
      for (int k = 0; k < i; ++k) row[k] = v[start[k] + i];
      row[i] = T(0);
      for (int k = i + 1; k < n; ++k) row[k] = v[start[i] + k];
    }
  }

  void fill_tensor(const DegreeBlock<T>& blk) {
    row_offset.resize(n);
    std::size_t used = 0;
    for (int j = 0; j < n; ++j) {
      row_offset[j] = std::ptrdiff_t(used) - row_begin(j);
      used += std::size_t(n - row_begin(j));
    }
    slice_size = (used + kVector - 1) / kVector * kVector;
    t = allocate_stream<T>(slice_size * n);
    const auto start = row_starts(blk.layout);
    const T* v = blk.values.get();
    const Interrupt stop;  // polled per slice; a stopped construction is discarded by its caller
#pragma omp parallel for schedule(dynamic, 4) if (double(slice_size) * n > kMinParallelWork)
    for (int i = 0; i < n; ++i) {
      InterruptMeter meter(stop);
      for (int j = 0; j < n && !meter.stop(double(n)); ++j) {
        T* row = t.get() + i * slice_size + triangle_row(j);  // row[k], k >= row_begin(j)
        std::fill(row + row_begin(j), row + j + 1, T(0));
        if (j == i) {
          std::fill(row + j + 1, row + n, T(0));
          continue;
        }
        // T[i, j, k] is J of the sorted triple; with a = min(i, j), b = max(i, j)
        // and k > j >= a it is (a, k, b) below b and (a, b, k) above.
        const int a = std::min(i, j), b = std::max(i, j);
        for (int k = j + 1; k < b; ++k) row[k] = v[start[std::size_t(a) * n + k] + b];
        if (b > j) row[b] = T(0);
        for (int k = std::max(b, j) + 1; k < n; ++k) row[k] = v[start[std::size_t(a) * n + b] + k];
      }
    }
  }

};

}  // namespace pspin
