// Energies and local fields h = -dH/ds for a batch of configurations, in one
// pass over the packed couplings.
//
// Layout: configurations are spin-major, x[i * B + b], with B padded to the
// SIMD chunk so the innermost loop runs over the batch; a batch narrower than
// one chunk is stored configuration after configuration. Each task accumulates
// into its own buffer and the buffers are summed in task order: the result is
// bit-identical for any number of threads.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "pspin/couplings/couplings.hpp"
#include "pspin/dispatch/simd.hpp"
#include "pspin/kernels/row_products.hpp"
#include "pspin/kernels/task_reduce.hpp"
#include "pspin/platform/interrupt.hpp"

namespace pspin {
namespace detail {

// Per-row scratch: prefix products for rows A (this one) and B (the next in the run).
template <class T>
struct RowScratch {
  std::vector<T> leave_a, leave_b, full_a, full_b;
  int prefix_b[kMaxDegree];
  RowScratch(int len, int B) : leave_a(len * B), leave_b(len * B), full_a(B), full_b(B) {}
};

// Row pairs up to this size get their successors prefetched (fields_task_rows).
constexpr std::size_t kShortRowBytes = 4096;

// Fewer configurations than one vector has lanes (B = 1 included), stored one
// after another (x[c * n + i]): vectorise along the row instead of across the
// batch, which would leave most lanes empty. Two consecutive rows of a run
// share the loads of s and g over their common range of last indices, and
// every configuration passes over the pair while its couplings are in L1, so
// a coupling comes from memory once for all. Each configuration's arithmetic
// is that of B = 1: its result does not depend on the others.
template <class T, bool Grad>
void fields_task_rows(const DegreeBlock<T>& blk, const Task& task, const T* X, int count, T* G, double* energy,
                      const Interrupt& stop) {
  const TupleLayout& L = blk.layout;
  const T* J = blk.origin();
  const int n = L.n, len = L.p - 1;
  RowScratch<T> w(len, 1);
  InterruptMeter meter(stop);
  RowCursor row(L, task.first_begin, task.first_end);
  while (row.valid()) {
    const int lo = row.lo();
    if (meter.stop(2.0 * count * (n - lo) + 16.0)) return;
    const T* ja = J + row.offset;
    const T* jak = ja - lo;
    const bool pair = row.next_in_run();
    if (pair) {
      std::copy(row.prefix, row.prefix + len, w.prefix_b);
      ++w.prefix_b[len - 1];
    }
    const T* jb = ja + (n - lo) - (lo + 1);  // row B's value at last index k (pairs only)
    // The next rows follow these in memory. Short rows end before the hardware
    // prefetcher has ramped up on them: ask for the next ones now, so their lines
    // arrive while this pair is summed (on long rows it only competes).
    const std::size_t here = std::size_t(pair ? 2 * (n - lo) - 1 : n - lo) * sizeof(T);
    if (here <= kShortRowBytes) {
      const char* next = reinterpret_cast<const char*>(ja) + here;
      for (std::size_t off = 0; off < here; off += 64) __builtin_prefetch(next + off);
    }
    for (int c = 0; c < count; ++c) {
      const T* s = X + std::size_t(c) * n;
      T* g = Grad ? G + std::size_t(c) * n : nullptr;
      prefix_products(row.prefix, len, s, 1, 1, w.leave_a.data(), w.full_a.data());
      const T fa = w.full_a[0];
      if (pair) {
        prefix_products(w.prefix_b, len, s, 1, 1, w.leave_b.data(), w.full_b.data());
        const T fb = w.full_b[0];
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
        energy[c] += double(fa) * double(ra) + double(fb) * double(rb);
      } else {
        T ra = T(0);
#pragma omp simd reduction(+ : ra)
        for (int k = lo; k < n; ++k) {
          ra += jak[k] * s[k];
          if (Grad) g[k] += jak[k] * fa;
        }
        if (Grad)
          for (int m = 0; m < len; ++m) g[row.prefix[m]] += ra * w.leave_a[m];
        energy[c] += double(fa) * double(ra);
      }
    }
    row.advance();
    if (pair) row.advance();
  }
}

// Sweep of R consecutive rows of one run over NC SIMD vectors of batch lanes
// starting at lane c0. Row r starts at last index lo + r, so the first R-1
// indices are ragged. Each S and G vector loaded serves R rows: G traffic per
// coupling falls as 1/R, and the 2R*NC accumulators and products stay in registers.
template <class T, int R, int NC, bool Grad>
inline void sweep_rows(const T* const* jk, int lo, int k_begin, int k_end, const T* S, T* G, int B, int c0,
                       const T* const* full, T* const* racc) {
  using V = typename Simd<T>::vec;
  using U = typename Simd<T>::uvec;
  constexpr int W = Simd<T>::width;
  V f[R][NC], r[R][NC];
  for (int i = 0; i < R; ++i)
    for (int q = 0; q < NC; ++q) {
      f[i][q] = *reinterpret_cast<const U*>(full[i] + c0 + q * W);
      r[i][q] = k_begin == lo ? V{} : V(*reinterpret_cast<const U*>(racc[i] + c0 + q * W));
    }
  const int ragged_end = std::min(k_end, lo + R - 1);
  for (int k = k_begin; k < ragged_end; ++k) {
    const U* sk = reinterpret_cast<const U*>(S + std::size_t(k) * B + c0);
    U* gk = reinterpret_cast<U*>(G + std::size_t(k) * B + c0);
    for (int i = 0; i < R; ++i) {
      if (i > k - lo) continue;
      const T a = jk[i][k];
      for (int q = 0; q < NC; ++q) {
        r[i][q] += a * sk[q];
        if (Grad) gk[q] += a * f[i][q];
      }
    }
  }
  for (int k = std::max(k_begin, ragged_end); k < k_end; ++k) {
    const U* sk = reinterpret_cast<const U*>(S + std::size_t(k) * B + c0);
    U* gk = reinterpret_cast<U*>(G + std::size_t(k) * B + c0);
    T a[R];
    for (int i = 0; i < R; ++i) a[i] = jk[i][k];
    for (int q = 0; q < NC; ++q) {
      const V s = sk[q];
      V g = Grad ? V(gk[q]) : V{};
      for (int i = 0; i < R; ++i) {
        r[i][q] += a[i] * s;
        if (Grad) g += a[i] * f[i][q];
      }
      if (Grad) gk[q] = g;
    }
  }
  for (int i = 0; i < R; ++i)
    for (int q = 0; q < NC; ++q) *reinterpret_cast<U*>(racc[i] + c0 + q * W) = r[i][q];
}

// Vector registers a sweep of R rows over NC vectors keeps busy: R*NC
// products and R*NC accumulators, one S and one G vector, and two broadcast
// couplings in flight (each is used by its two FMAs right after its load).
constexpr int sweep_registers(int R, int NC) { return 2 * R * NC + 4; }

// Rows swept together: as many as fit the register file, at most eight
// (AVX-512: 8, AVX2 and SSE: 6).
constexpr int kSweepRows = std::min(8, (kSimdRegisters - 4) / 2);

// The rows' last indices go in tiles whose S and G lines and couplings stay
// in L1 while every vector of lanes passes over them; a row's accumulators
// wait in racc between tiles. Tiling leaves each sum in the same order.
template <class T, int R, bool Grad>
inline void sweep_rows_all_lanes(const T* const* jk, int lo, int n, const T* S, T* G, int B, const T* const* full,
                                 T* const* racc, InterruptMeter& stop) {
  constexpr int W = Simd<T>::width;
  constexpr std::size_t kTileBytes = 16 * 1024;
  const int tile = std::max(16, int(kTileBytes / (2 * std::size_t(B) * sizeof(T))));
  for (int k0 = lo; k0 < n; k0 += tile) {
    const int k1 = std::min(n, k0 + tile);
    if (stop.stop(double(R) * (k1 - k0) * B)) return;
    int c = 0;
    if constexpr (sweep_registers(R, 2) <= kSimdRegisters)
      for (; c + 2 * W <= B; c += 2 * W) sweep_rows<T, R, 2, Grad>(jk, lo, k0, k1, S, G, B, c, full, racc);
    for (; c < B; c += W) sweep_rows<T, R, 1, Grad>(jk, lo, k0, k1, S, G, B, c, full, racc);
  }
}

// sweep_rows_all_lanes with the row count `rows` (1..R) as a compile-time constant.
template <class T, int R, bool Grad>
inline void sweep_rows_dispatch(int rows, const T* const* jk, int lo, int n, const T* S, T* G, int B,
                                const T* const* full, T* const* racc, InterruptMeter& stop) {
  if constexpr (R > 1)
    if (rows < R) return sweep_rows_dispatch<T, R - 1, Grad>(rows, jk, lo, n, S, G, B, full, racc, stop);
  sweep_rows_all_lanes<T, R, Grad>(jk, lo, n, S, G, B, full, racc, stop);
}

// B > 1 (padded to a multiple of the SIMD width): vectorise across the batch,
// sweeping up to kSweepRows rows of a run together.
template <class T, bool Grad>
void fields_task_batched(const DegreeBlock<T>& blk, const Task& task, const T* S, int B, T* G,
                         double* energy, const Interrupt& stop) {
  constexpr int kRows = kSweepRows;
  const TupleLayout& L = blk.layout;
  const T* J = blk.origin();
  const int n = L.n, len = L.p - 1;
  std::vector<T> leave(std::size_t(kRows) * len * B), full(std::size_t(kRows) * B), racc(std::size_t(kRows) * B);
  int prefixes[kRows][kMaxDegree];
  const T* jk[kRows];
  const T* fp[kRows];
  T* rp[kRows];
  InterruptMeter meter(stop);
  RowCursor row(L, task.first_begin, task.first_end);
  while (row.valid()) {
    const int lo = row.lo();
    if (meter.stopped()) return;
    int rows = 0;
    for (bool more = true; more && rows < kRows; ++rows) {
      more = row.next_in_run();
      std::copy(row.prefix, row.prefix + len, prefixes[rows]);
      jk[rows] = J + row.offset - (lo + rows);
      fp[rows] = &full[std::size_t(rows) * B];
      rp[rows] = &racc[std::size_t(rows) * B];
      prefix_products(prefixes[rows], len, S, B, B, &leave[std::size_t(rows) * len * B], &full[std::size_t(rows) * B]);
      row.advance();
    }
    sweep_rows_dispatch<T, kRows, Grad>(rows, jk, lo, n, S, G, B, fp, rp, meter);
    for (int i = 0; i < rows; ++i) {
      const T* rr = rp[i];
      if (Grad)
        for (int m = 0; m < len; ++m) {
          T* gm = G + std::size_t(prefixes[i][m]) * B;
          const T* lm = &leave[(std::size_t(i) * len + m) * B];
          for (int v = 0; v < B; ++v) gm[v] += rr[v] * lm[v];
        }
      const T* fr = fp[i];
      for (int v = 0; v < B; ++v) energy[v] += double(fr[v]) * double(rr[v]);
    }
  }
}

}  // namespace detail

// SIMD chunk of the batch loop: one vector register.
template <class T>
constexpr int batch_chunk() { return Simd<T>::width; }

// Whether energy_and_fields reads a batch of B spin-major (x[i * B + b], B a
// multiple of the SIMD chunk) or one configuration after another (B below one
// chunk, B = 1 included).
template <class T>
constexpr bool spin_major_batch(int B) { return B >= batch_chunk<T>(); }

// Round a batch size up to what energy_and_fields needs: whole chunks for the
// spin-major layout, nothing below one chunk.
template <class T>
inline int padded_batch(int b) {
  const int w = batch_chunk<T>();
  if (b < w) return b;
  return (b + w - 1) / w * w;
}

// Rows rows[0..count) of a row-major (., n) array (rows null: rows 0..count-1)
// into lanes 0..count-1 of the spin-major layout x[i * B + j] the kernels read.
// Lanes count..B-1 are not written: callers pass them zeroed, since padding
// lanes must contribute nothing.
template <class T, class In>
void to_spin_major(const In* states, const int* rows, int count, int n, int B, T* x) {
  for (int j = 0; j < count; ++j)
    for (int i = 0; i < n; ++i) x[std::size_t(i) * B + j] = T(states[std::size_t(rows ? rows[j] : j) * n + i]);
}

// The inverse: lane j of spin-major x (n x B) to row rows[j] (rows null: row j) of out.
template <class T, class Out>
void from_spin_major(const T* x, const int* rows, int count, int n, int B, Out* out) {
  for (int j = 0; j < count; ++j)
    for (int i = 0; i < n; ++i) out[std::size_t(rows ? rows[j] : j) * n + i] = Out(x[std::size_t(i) * B + j]);
}

// Rows of a row-major (., n) array into the layout energy_and_fields reads for
// a batch of B = padded_batch(count), and back.
template <class T, class In>
void to_batch_layout(const In* states, const int* rows, int count, int n, int B, T* x) {
  if (spin_major_batch<T>(B)) return to_spin_major(states, rows, count, n, B, x);
  for (int j = 0; j < count; ++j)
    for (int i = 0; i < n; ++i) x[std::size_t(j) * n + i] = T(states[std::size_t(rows ? rows[j] : j) * n + i]);
}

template <class T, class Out>
void from_batch_layout(const T* x, const int* rows, int count, int n, int B, Out* out) {
  if (spin_major_batch<T>(B)) return from_spin_major(x, rows, count, n, B, out);
  for (int j = 0; j < count; ++j)
    for (int i = 0; i < n; ++i) out[std::size_t(rows ? rows[j] : j) * n + i] = Out(x[std::size_t(j) * n + i]);
}

// X: B = padded_batch configurations, spin-major (n x B) or one after another
// (B x n) as spin_major_batch says; fields out (or null for energy only) in the
// same layout; energies out: B values of H (not per spin).
template <class T>
void energy_and_fields(const Couplings<T>& C, const T* X, int B, T* fields_out, double* energy_out) {
  const int n = C.n();
  const auto& tasks = C.tasks();
  const int n_tasks = int(tasks.size());
  const bool grad = fields_out != nullptr;
  // Consecutive tasks run as one group into one buffer. Spin-major batches get
  // as few groups as balance threads (16, or every task) while the buffers of a
  // 64-lane batch stay small next to the couplings; a group's fields touch only
  // spins from its first index on, and its buffer holds just those rows. The
  // grouping depends on n and the couplings only, never on the batch or the thread
  // count: a configuration's sums do not depend on which others share its pass (a
  // descent's active starts, a rank's share of tempering slots). A count below every
  // task is a multiple of 16, so couplings split over 2, 4, 8 or 16 ranks split at
  // group boundaries and their sums stay bit-identical to one process's.
  constexpr double kReferenceLanes = 64.0;
  const bool spin_major = spin_major_batch<T>(B);
  const double buffer_ratio = double(C.n_values()) / (4.0 * double(n) * kReferenceLanes);
  const int merged = std::max(16, int(std::min(buffer_ratio, 1e6)) / 16 * 16);
  const int whole_groups = spin_major ? std::min(n_tasks, merged) : n_tasks;
  const std::vector<int> first_task = held_task_groups(n_tasks, whole_groups, C.own_begin(), C.own_end());
  const int groups = int(first_task.size()) - 1;
  std::vector<int> first_row(groups);
  std::vector<std::size_t> offset(groups + 1, 0);
  for (int q = 0; q < groups; ++q) {
    int first = n;
    for (int t = first_task[q]; t < first_task[q + 1]; ++t) first = std::min(first, tasks[t].first_begin);
    first_row[q] = spin_major ? first : 0;
    offset[q + 1] = offset[q] + std::size_t(n - first_row[q]) * B;
  }
  T* gbuf = grad ? zeroed_workspace<T, 0>(offset.back()) : nullptr;
  double* ebuf = zeroed_workspace<double, 1>(std::size_t(groups) * B);
  const double work = double(C.n_values()) * B;
  const Interrupt stop;  // polled between rows and tiles; a stopped call's outputs are garbage
  parallel_tasks(groups, work > kMinParallelWork, stop, [&](std::int64_t group) {
    const int q = int(group);
    if (stop.stopped()) return;
    // Indexed by absolute spin: row first_row[q] is the buffer's first (offset[q] >= first_row[q] * B).
    T* g = grad ? gbuf + (offset[q] - std::size_t(first_row[q]) * B) : nullptr;
    double* e = ebuf + std::size_t(q) * B;
    for (int t = first_task[q]; t < first_task[q + 1]; ++t) {
      const Task& task = tasks[t];
      const auto& blk = C.block(task.block);
      if (!spin_major) {
        if (grad) detail::fields_task_rows<T, true>(blk, task, X, B, g, e, stop);
        else detail::fields_task_rows<T, false>(blk, task, X, B, g, e, stop);
      } else {
        if (grad) detail::fields_task_batched<T, true>(blk, task, X, B, g, e, stop);
        else detail::fields_task_batched<T, false>(blk, task, X, B, g, e, stop);
      }
    }
  });
  if (stop.stopped()) return;
  const std::size_t nb = std::size_t(n) * B;
  const std::uint64_t inputs = C.chain() ? fingerprint(X, nb * sizeof(T), std::uint64_t(B) << 1 | grad) : 0;
  fold_across_ranks(C, inputs, energy_out, std::size_t(B), fields_out, grad ? nb : 0, std::size_t(B),
                    [&](std::size_t d_lo, std::size_t d_hi, std::size_t t_lo, std::size_t t_hi, bool fresh) {
                      accumulate_task_buffers(ebuf, groups, std::size_t(B), energy_out, fresh, d_lo, d_hi);
                      if (grad)
                        accumulate_task_rows(gbuf, offset.data(), first_row.data(), groups, n, B, fields_out, fresh,
                                             int(t_lo / B), int(t_hi / B));
                    });
  for (int b = 0; b < B; ++b) energy_out[b] = -energy_out[b];
}

// Fields h = -dH/ds and energies H of the listed rows of a row-major (b, n)
// array of any real type, written to the same rows of h (b x n) and energy (b),
// from one pass over the couplings. Always the batched kernel, padded to whole
// SIMD chunks (never the b = 1 path): lanes never mix, so a row's result does
// not depend on which rows share the pass.
template <class T, class In>
void fields_of_rows(const Couplings<T>& C, const In* states, const int* rows, int count, double* h,
                    double* energy) {
  const int n = C.n();
  constexpr int W = batch_chunk<T>();
  const int B = (count + W - 1) / W * W;
  // Reused per thread: this runs every descent step, leapfrog step and field refresh.
  T* x = zeroed_workspace<T, 4>(std::size_t(n) * B);  // padding lanes stay zero
  T* f = zeroed_workspace<T, 5>(std::size_t(n) * B);
  double* e = zeroed_workspace<double, 6>(B);
  to_spin_major(states, rows, count, n, B, x);
  energy_and_fields(C, x, B, f, e);
  for (int j = 0; j < count; ++j) energy[rows[j]] = e[j];
  from_spin_major(f, rows, count, n, B, h);
}

}  // namespace pspin
