// Second derivatives: Hessian-vector products (batched) and the dense Hessian.
// Both return derivatives of the local fields h = -dH/ds; the caller negates.
#pragma once
#include <algorithm>
#include <vector>

#include "pspin/couplings/couplings.hpp"
#include "pspin/kernels/row_products.hpp"
#include "pspin/kernels/task_reduce.hpp"
#include "pspin/platform/interrupt.hpp"

namespace pspin {
namespace detail {

// Directional derivative of the prefix products along v:
// d_full = sum_m v_m leave_one[m], d_leave_one[m] = sum_{l != m} v_l leave_two[m][l].
template <class T>
void directional_prefix(const int* prefix, int len, const T* V, int B, const T* leave_one,
                        const T* leave_two, T* d_full, T* d_leave_one) {
  for (int b = 0; b < B; ++b) {
    T df = T(0);
    for (int m = 0; m < len; ++m) {
      df += V[std::size_t(prefix[m]) * B + b] * leave_one[m * B + b];
      T dl = T(0);
      for (int l = 0; l < len; ++l)
        if (l != m) dl += V[std::size_t(prefix[l]) * B + b] * leave_two[(m * len + l) * B + b];
      d_leave_one[m * B + b] = dl;
    }
    d_full[b] = df;
  }
}

// out: directional derivative of the fields along V; fields (optional): the fields
// themselves, from the same sweep.
template <class T>
void hvp_task(const DegreeBlock<T>& blk, const Task& task, const T* S, const T* V, int B, T* out, T* fields,
              const Interrupt& stop) {
  const TupleLayout& L = blk.layout;
  const T* J = blk.origin();
  const int n = L.n, len = L.p - 1;
  std::vector<T> leave(len * B), full(B), leave2(len * len * B), dfull(B), dleave(len * B), r(B), dr(B);
  InterruptMeter meter(stop);
  for (RowCursor row(L, task.first_begin, task.first_end); row.valid(); row.advance()) {
    const int lo = row.lo();
    if (meter.stop((4.0 * (n - lo) + len * len) * B)) return;
    const T* jk = J + row.offset - lo;
    prefix_products(row.prefix, len, S, B, B, leave.data(), full.data());
    prefix_products_leave_two(row.prefix, len, S, B, B, leave2.data());
    directional_prefix(row.prefix, len, V, B, leave.data(), leave2.data(), dfull.data(), dleave.data());
    if (B == 1) {
      T r1 = T(0), dr1 = T(0);
      const T df = dfull[0];
#pragma omp simd reduction(+ : r1, dr1)
      for (int k = lo; k < n; ++k) {
        r1 += jk[k] * S[k];
        dr1 += jk[k] * V[k];
        out[k] += jk[k] * df;
        if (fields) fields[k] += jk[k] * full[0];
      }
      r[0] = r1;
      dr[0] = dr1;
    } else {
      std::fill(r.begin(), r.end(), T(0));
      std::fill(dr.begin(), dr.end(), T(0));
      for (int k = lo; k < n; ++k) {
        const T a = jk[k];
        const T* sk = S + std::size_t(k) * B;
        const T* vk = V + std::size_t(k) * B;
        T* ok = out + std::size_t(k) * B;
#pragma omp simd
        for (int b = 0; b < B; ++b) {
          r[b] += a * sk[b];
          dr[b] += a * vk[b];
          ok[b] += a * dfull[b];
        }
        if (fields) {
          T* fk = fields + std::size_t(k) * B;
#pragma omp simd
          for (int b = 0; b < B; ++b) fk[b] += a * full[b];
        }
      }
    }
    for (int m = 0; m < len; ++m) {
      T* om = out + std::size_t(row.prefix[m]) * B;
      for (int b = 0; b < B; ++b) om[b] += dr[b] * leave[m * B + b] + r[b] * dleave[m * B + b];
      if (fields) {
        T* fm = fields + std::size_t(row.prefix[m]) * B;
        for (int b = 0; b < B; ++b) fm[b] += r[b] * leave[m * B + b];
      }
    }
  }
}

// Accumulates each unordered pair of tuple positions once into A; the field
// Jacobian is A + A^T (repeated indices land on the diagonal twice, as they must).
template <class T>
void hessian_task(const DegreeBlock<T>& blk, const Task& task, const T* s, double* A, const Interrupt& stop) {
  const TupleLayout& L = blk.layout;
  const T* J = blk.origin();
  const int n = L.n, len = L.p - 1;
  std::vector<T> leave(len), leave2(len * len);
  T full;
  InterruptMeter meter(stop);
  for (RowCursor row(L, task.first_begin, task.first_end); row.valid(); row.advance()) {
    const int lo = row.lo();
    if (meter.stop(double(len + 1) * (n - lo) + len * len)) return;
    const T* jk = J + row.offset - lo;
    prefix_products(row.prefix, len, s, 1, 1, leave.data(), &full);
    prefix_products_leave_two(row.prefix, len, s, 1, 1, leave2.data());
    double r = 0.0;
    for (int k = lo; k < n; ++k) r += double(jk[k]) * s[k];
    for (int m = 0; m < len; ++m) {
      double* a_row = A + std::size_t(row.prefix[m]) * n;
      const double lm = leave[m];
#pragma omp simd
      for (int k = lo; k < n; ++k) a_row[k] += double(jk[k]) * lm;
      for (int l = m + 1; l < len; ++l) A[std::size_t(row.prefix[m]) * n + row.prefix[l]] += r * double(leave2[m * len + l]);
    }
  }
}

}  // namespace detail

// Directional derivative of the fields along V, for a spin-major batch (n x B),
// and optionally the fields themselves from the same pass.
template <class T>
void fields_jvp(const Couplings<T>& C, const T* S, const T* V, int B, T* out, T* fields_out = nullptr) {
  const int n = C.n();
  const auto& tasks = C.tasks();
  const int first = C.own_begin(), held = C.own_end() - C.own_begin();
  const std::size_t nb = std::size_t(n) * B;
  const std::size_t per_task = fields_out ? 2 * nb : nb;  // [jvp | fields] per task
  T* buf = zeroed_workspace<T, 2>(std::size_t(held) * per_task);
  const Interrupt stop;  // polled between rows; a stopped call's outputs are garbage
  parallel_tasks(held, double(C.n_values()) * B > kMinParallelWork, stop, [&](std::int64_t task) {
    const int t = first + int(task);
    if (stop.stopped()) return;
    T* base = buf + std::size_t(task) * per_task;
    detail::hvp_task(C.block(tasks[t].block), tasks[t], S, V, B, base, fields_out ? base + nb : nullptr, stop);
  });
  if (stop.stopped()) return;
  std::vector<T> reduced(per_task);
  const std::uint64_t inputs = C.chain() ? fingerprint(V, nb * sizeof(T), fingerprint(S, nb * sizeof(T))) : 0;
  double* no_doubles = nullptr;
  fold_across_ranks(C, inputs, no_doubles, 0, reduced.data(), per_task, 1,
                    [&](std::size_t, std::size_t, std::size_t lo, std::size_t hi, bool fresh) {
                      accumulate_task_buffers(buf, held, per_task, reduced.data(), fresh, lo, hi);
                    });
  std::copy(reduced.begin(), reduced.begin() + nb, out);
  if (fields_out) std::copy(reduced.begin() + nb, reduced.end(), fields_out);
}

// Jacobian of the fields at one configuration s, dense n x n in double.
// Tasks are merged into at most kGroups contiguous groups, each with one n x n buffer
// (couplings split over 2 or 4 ranks split at group boundaries).
template <class T>
void fields_jacobian(const Couplings<T>& C, const T* s, double* out) {
  constexpr int kGroups = 4;
  const int n = C.n();
  const auto& tasks = C.tasks();
  const int n_tasks = int(tasks.size());
  const std::vector<int> first_task = held_task_groups(n_tasks, std::min(kGroups, n_tasks), C.own_begin(), C.own_end());
  const int groups = int(first_task.size()) - 1;
  const std::size_t nn = std::size_t(n) * n;
  double* buf = zeroed_workspace<double, 3>(std::size_t(groups) * nn);
  const Interrupt stop;  // polled between rows; a stopped call's outputs are garbage
  parallel_tasks(groups, double(C.n_values()) * 3 > kMinParallelWork, stop, [&](std::int64_t group) {
    const int g = int(group);
    for (int t = first_task[g]; t < first_task[g + 1] && !stop.stopped(); ++t)
      detail::hessian_task(C.block(tasks[t].block), tasks[t], s, buf + std::size_t(g) * nn, stop);
  });
  if (stop.stopped()) return;
  T* no_values = nullptr;
  fold_across_ranks(C, C.chain() ? fingerprint(s, std::size_t(n) * sizeof(T)) : 0, out, nn, no_values, 0, 1,
                    [&](std::size_t lo, std::size_t hi, std::size_t, std::size_t, bool fresh) {
                      accumulate_task_buffers(buf, groups, nn, out, fresh, lo, hi);
                    });
  // Symmetrise: out = A + A^T.
#pragma omp parallel for schedule(static) if (double(nn) > kMinParallelWork)
  for (int i = 0; i < n; ++i)
    for (int j = i; j < n; ++j) {
      const double v = out[std::size_t(i) * n + j] + out[std::size_t(j) * n + i];
      out[std::size_t(i) * n + j] = v;
      out[std::size_t(j) * n + i] = v;
    }
}

}  // namespace pspin
