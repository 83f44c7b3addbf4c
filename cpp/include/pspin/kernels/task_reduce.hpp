// Sum per-task buffers in task order, so the result does not depend on which
// thread ran which task.
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

template <class T, class Out>
void reduce_task_buffers(const T* buffers, int n_tasks, std::size_t size, Out* out) {
  constexpr std::size_t kBlock = 4096;
  const std::size_t n_blocks = (size + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (double(size) * n_tasks > kMinParallelWork)
  for (std::size_t blk = 0; blk < n_blocks; ++blk) {
    const std::size_t lo = blk * kBlock, hi = std::min(size, lo + kBlock);
    for (std::size_t i = lo; i < hi; ++i) out[i] = Out(buffers[i]);
    for (int t = 1; t < n_tasks; ++t) {
      const T* src = buffers + std::size_t(t) * size;
      for (std::size_t i = lo; i < hi; ++i) out[i] += Out(src[i]);
    }
  }
}

}  // namespace pspin
