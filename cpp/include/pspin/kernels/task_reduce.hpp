// Add per-task buffers in task order, so the result does not depend on which
// thread ran which task. The sums go into `out` on top of what it holds: zeros in one
// process, the partial sums of the ranks before this one when couplings are split
// (couplings.hpp, fold_across_ranks).
#pragma once
#include <algorithm>
#include <cstddef>
#include <vector>

#include "pspin/platform/parallel.hpp"

namespace pspin {

// Zeroed scratch of `count` values, kept per calling thread and per Tag: large
// fresh allocations come from mmap and cost a page fault per 4 KiB on every call
// (measured: a quarter of a batched p=2, n=4096 gradient), reused ones do not.
template <class T, int Tag>
T* zeroed_workspace(std::size_t count) {
  thread_local std::vector<T> buffer;
  if (buffer.size() < count) buffer.resize(count);
  std::fill(buffer.begin(), buffer.begin() + count, T(0));
  return buffer.data();
}

// Elements [first, last) of buffers of `size` values each (all of them by default);
// `fresh`: out starts from zero (written, not read).
template <class T, class Out>
void accumulate_task_buffers(const T* buffers, int n_tasks, std::size_t size, Out* out, bool fresh,
                             std::size_t first = 0, std::size_t last = std::size_t(-1)) {
  constexpr std::size_t kBlock = 4096;
  last = std::min(last, size);
  if (first >= last) return;
  const std::size_t n_blocks = (last - first + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (double(last - first) * n_tasks > kMinParallelWork)
  for (std::size_t blk = 0; blk < n_blocks; ++blk) {
    const std::size_t lo = first + blk * kBlock, hi = std::min(last, lo + kBlock);
    if (fresh) std::fill(out + lo, out + hi, Out(0));
    for (int t = 0; t < n_tasks; ++t) {
      const T* src = buffers + std::size_t(t) * size;
      for (std::size_t i = lo; i < hi; ++i) out[i] += Out(src[i]);
    }
  }
}

// Per-task buffers of a (rows x width) array where task t touches only rows
// [first_row[t], rows) and stores just those, from offset[t] on; out is their
// sum in task order is added to out. A batched gradient at n = 4096 would otherwise
// zero and re-read 64 full n x B buffers per call (a quarter of its time).
// Rows [row_begin, row_end) only, when given; `fresh`: out starts from zero.
template <class T, class Out>
void accumulate_task_rows(const T* buffers, const std::size_t* offset, const int* first_row, int n_tasks, int rows,
                          int width, Out* out, bool fresh, int row_begin = 0, int row_end = -1) {
  constexpr int kRowsPerBlock = 64;
  if (row_end < 0 || row_end > rows) row_end = rows;
  if (row_begin >= row_end) return;
  const int n_blocks = (row_end - row_begin + kRowsPerBlock - 1) / kRowsPerBlock;
#pragma omp parallel for schedule(static) if (double(offset[n_tasks]) > kMinParallelWork)
  for (int blk = 0; blk < n_blocks; ++blk) {
    const int r0 = row_begin + blk * kRowsPerBlock, r1 = std::min(row_end, r0 + kRowsPerBlock);
    if (fresh) std::fill(out + std::size_t(r0) * width, out + std::size_t(r1) * width, Out(0));
    for (int t = 0; t < n_tasks; ++t) {
      const int from = std::max(r0, first_row[t]);
      if (from >= r1) continue;
      const T* src = buffers + offset[t] + std::size_t(from - first_row[t]) * width;
      Out* dst = out + std::size_t(from) * width;
      const std::size_t count = std::size_t(r1 - from) * width;
      for (std::size_t i = 0; i < count; ++i) dst[i] += Out(src[i]);
    }
  }
}

}  // namespace pspin
