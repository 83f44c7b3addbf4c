// Sum per-task buffers in task order, so the result does not depend on which
// thread ran which task.
#pragma once
#include <cstddef>
#include <vector>

#include "pspin/parallel.hpp"

namespace pspin {

template <class T, class Out>
void reduce_task_buffers(const std::vector<T>& buffers, int n_tasks, std::size_t size, Out* out) {
  constexpr std::size_t kBlock = 4096;
  const std::size_t n_blocks = (size + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (double(size) * n_tasks > kMinParallelWork)
  for (std::size_t blk = 0; blk < n_blocks; ++blk) {
    const std::size_t lo = blk * kBlock, hi = std::min(size, lo + kBlock);
    for (std::size_t i = lo; i < hi; ++i) out[i] = Out(buffers[i]);
    for (int t = 1; t < n_tasks; ++t) {
      const T* src = buffers.data() + std::size_t(t) * size;
      for (std::size_t i = lo; i < hi; ++i) out[i] += Out(src[i]);
    }
  }
}

}  // namespace pspin
