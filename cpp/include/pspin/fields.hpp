// Energies and local fields h = -dH/ds for a batch of configurations, in one
// pass over the packed couplings.
//
// Layout: configurations are spin-major, x[i * B + b], with B padded to the
// SIMD chunk so the innermost loop runs over the batch. Each task accumulates
// into its own buffer and the buffers are summed in task order: the result is
// bit-identical for any number of threads.
#pragma once
#include <algorithm>
#include <cstring>
#include <vector>

#include "pspin/couplings.hpp"
#include "pspin/row_products.hpp"
#include "pspin/task_reduce.hpp"

namespace pspin {
namespace detail {

// Per-row scratch: prefix products for rows A (this one) and B (the next in the run).
template <class T>
struct RowScratch {
  std::vector<T> leave_a, leave_b, full_a, full_b;
  int prefix_b[kMaxDegree];
  RowScratch(int len, int B) : leave_a(len * B), leave_b(len * B), full_a(B), full_b(B) {}
};

// B = 1: vectorise along the row. Two consecutive rows of a run share the loads
// of s and g over their common range of last indices.
template <class T, bool Grad>
void fields_task_single(const DegreeBlock<T>& blk, const Task& task, const T* s, T* g, double* energy) {
  const TupleLayout& L = blk.layout;
  const T* J = blk.values.get();
  const int n = L.n, len = L.p - 1;
  RowScratch<T> w(len, 1);
  double e = 0.0;
  RowCursor row(L, task.first_begin, task.first_end);
  while (row.valid()) {
    const int lo = row.lo();
    const T* ja = J + row.offset;
    prefix_products(row.prefix, len, s, 1, 1, w.leave_a.data(), w.full_a.data());
    const T fa = w.full_a[0];
    if (row.next_in_run()) {
      std::copy(row.prefix, row.prefix + len, w.prefix_b);
      ++w.prefix_b[len - 1];
      prefix_products(w.prefix_b, len, s, 1, 1, w.leave_b.data(), w.full_b.data());
      const T fb = w.full_b[0];
      const T* jb = ja + (n - lo) - (lo + 1);  // jb[k] is row B's value at last index k
      const T* jak = ja - lo;
      T ra = jak[lo] * s[lo], rb = T(0);
      if (Grad) g[lo] += jak[lo] * fa;
#pragma omp simd reduction(+ : ra, rb)
      for (int k = lo + 1; k < n; ++k) {
        const T a = jak[k], b = jb[k], sk = s[k];
        ra += a * sk;
        rb += b * sk;
        if (Grad) g[k] += a * fa + b * fb;
      }
      if (Grad)
        for (int m = 0; m < len; ++m) {
          g[row.prefix[m]] += ra * w.leave_a[m];
          g[w.prefix_b[m]] += rb * w.leave_b[m];
        }
      e += double(fa) * double(ra) + double(fb) * double(rb);
      row.advance();
      row.advance();
    } else {
      const T* jak = ja - lo;
      T ra = T(0);
#pragma omp simd reduction(+ : ra)
      for (int k = lo; k < n; ++k) {
        ra += jak[k] * s[k];
        if (Grad) g[k] += jak[k] * fa;
      }
      if (Grad)
        for (int m = 0; m < len; ++m) g[row.prefix[m]] += ra * w.leave_a[m];
      e += double(fa) * double(ra);
      row.advance();
    }
  }
  *energy += e;
}

// B > 1 (padded to a multiple of W): vectorise across the batch; the row
// accumulators of a W-chunk stay in registers while the row streams by.
template <class T, int W, bool Grad>
void fields_task_batched(const DegreeBlock<T>& blk, const Task& task, const T* S, int B, T* G,
                         double* energy) {
  const TupleLayout& L = blk.layout;
  const T* J = blk.values.get();
  const int n = L.n, len = L.p - 1;
  RowScratch<T> w(len, B);
  RowCursor row(L, task.first_begin, task.first_end);
  while (row.valid()) {
    const int lo = row.lo();
    const T* jak = J + row.offset - lo;
    prefix_products(row.prefix, len, S, B, B, w.leave_a.data(), w.full_a.data());
    const bool pair = row.next_in_run();
    const T* jbk = jak + (n - lo) - 1;  // row B's value at last index k is jbk[k]
    if (pair) {
      std::copy(row.prefix, row.prefix + len, w.prefix_b);
      ++w.prefix_b[len - 1];
      prefix_products(w.prefix_b, len, S, B, B, w.leave_b.data(), w.full_b.data());
    }
    for (int c = 0; c < B; c += W) {
      T fa[W], fb[W], ra[W], rb[W];
      for (int v = 0; v < W; ++v) {
        fa[v] = w.full_a[c + v];
        fb[v] = pair ? w.full_b[c + v] : T(0);
        ra[v] = T(0);
        rb[v] = T(0);
      }
      int k = lo;
      if (pair) {
        const T a = jak[lo];
        const T* sk = S + std::size_t(lo) * B + c;
        T* gk = G + std::size_t(lo) * B + c;
        for (int v = 0; v < W; ++v) {
          ra[v] += a * sk[v];
          if (Grad) gk[v] += a * fa[v];
        }
        for (k = lo + 1; k < n; ++k) {
          const T a2 = jak[k], b2 = jbk[k];
          const T* sk2 = S + std::size_t(k) * B + c;
          T* gk2 = G + std::size_t(k) * B + c;
#pragma omp simd
          for (int v = 0; v < W; ++v) {
            ra[v] += a2 * sk2[v];
            rb[v] += b2 * sk2[v];
            if (Grad) gk2[v] += a2 * fa[v] + b2 * fb[v];
          }
        }
      } else {
        for (; k < n; ++k) {
          const T a = jak[k];
          const T* sk = S + std::size_t(k) * B + c;
          T* gk = G + std::size_t(k) * B + c;
#pragma omp simd
          for (int v = 0; v < W; ++v) {
            ra[v] += a * sk[v];
            if (Grad) gk[v] += a * fa[v];
          }
        }
      }
      if (Grad)
        for (int m = 0; m < len; ++m) {
          T* ga = G + std::size_t(row.prefix[m]) * B + c;
          const T* la = w.leave_a.data() + m * B + c;
          for (int v = 0; v < W; ++v) ga[v] += ra[v] * la[v];
          if (pair) {
            T* gb = G + std::size_t(w.prefix_b[m]) * B + c;
            const T* lb = w.leave_b.data() + m * B + c;
            for (int v = 0; v < W; ++v) gb[v] += rb[v] * lb[v];
          }
        }
      for (int v = 0; v < W; ++v) energy[c + v] += double(fa[v]) * double(ra[v]) + double(fb[v]) * double(rb[v]);
    }
    row.advance();
    if (pair) row.advance();
  }
}

}  // namespace detail

// SIMD chunk of the batch loop: one 512-bit register.
template <class T>
constexpr int batch_chunk() { return 64 / int(sizeof(T)); }

// Round a batch size up to what the batched kernel needs.
template <class T>
inline int padded_batch(int b) {
  if (b <= 1) return 1;
  const int w = batch_chunk<T>();
  return (b + w - 1) / w * w;
}

// X: spin-major (n x B, B = padded_batch), fields out: n x B (or null for energy
// only), energies out: B values of H (not per spin).
template <class T>
void energy_and_fields(const Couplings<T>& C, const T* X, int B, T* fields_out, double* energy_out) {
  const int n = C.n();
  const auto& tasks = C.tasks();
  const int n_tasks = int(tasks.size());
  const bool grad = fields_out != nullptr;
  std::vector<T> gbuf(grad ? std::size_t(n_tasks) * n * B : 0, T(0));
  std::vector<double> ebuf(std::size_t(n_tasks) * B, 0.0);
  const double work = double(C.n_values()) * B;
#pragma omp parallel for schedule(dynamic, 1) if (work > kMinParallelWork)
  for (int t = 0; t < n_tasks; ++t) {
    const Task& task = tasks[t];
    const auto& blk = C.block(task.block);
    T* g = grad ? gbuf.data() + std::size_t(t) * n * B : nullptr;
    double* e = ebuf.data() + std::size_t(t) * B;
    constexpr int W = batch_chunk<T>();
    if (B == 1) {
      if (grad) detail::fields_task_single<T, true>(blk, task, X, g, e);
      else detail::fields_task_single<T, false>(blk, task, X, g, e);
    } else {
      if (grad) detail::fields_task_batched<T, W, true>(blk, task, X, B, g, e);
      else detail::fields_task_batched<T, W, false>(blk, task, X, B, g, e);
    }
  }
  for (int b = 0; b < B; ++b) {
    double e = 0.0;
    for (int t = 0; t < n_tasks; ++t) e += ebuf[std::size_t(t) * B + b];
    energy_out[b] = -e;
  }
  if (grad) reduce_task_buffers(gbuf, n_tasks, std::size_t(n) * B, fields_out);
}

}  // namespace pspin
