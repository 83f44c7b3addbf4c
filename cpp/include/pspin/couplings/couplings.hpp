// Couplings of a (mixed) p-spin Hamiltonian
//   H(s) = - sum_p sum_{tuples t of degree p} K_t s_t1 ... s_tp,
// one packed block per degree. K_t already includes the mixture coefficient c_p
// and, for the isotropic ensemble, the multiplicity factor of repeated indices.
#pragma once
#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

#include "pspin/couplings/tuple_layout.hpp"
#include "pspin/platform/huge_pages.hpp"
#include "pspin/platform/interrupt.hpp"
#include "pspin/platform/parallel.hpp"
#include "pspin/random/gaussian.hpp"

namespace pspin {

// One unit of parallel work: a range of first indices of one degree.
struct Task {
  int block;
  int first_begin;
  int first_end;
};

template <class T>
struct DegreeBlock {
  TupleLayout layout;
  double coefficient = 1.0;
  StreamArray<T> values;  // uninitialised on purpose: first touch by the filling threads

  std::uint64_t size() const { return layout.size(); }
};

template <class T>
class Couplings {
 public:
  // Allocates (uninitialised) storage for each degree; fill with generate() or set_values().
  Couplings(int n, const std::vector<int>& degrees, const std::vector<double>& coefficients,
            bool multiset)
      : n_(n), multiset_(multiset) {
    if (degrees.empty() || degrees.size() != coefficients.size())
      throw std::invalid_argument("degrees and coefficients must be non-empty and of equal length");
    for (std::size_t d = 0; d < degrees.size(); ++d) {
      DegreeBlock<T> block;
      block.layout = TupleLayout(n, degrees[d], multiset);
      block.coefficient = coefficients[d];
      if (!std::isfinite(block.coefficient)) throw std::invalid_argument("coefficient is not finite");
      block.values = allocate_stream<T>(block.size());
      // ~64k tuples per task keeps task overhead small yet balances two threads well.
      const std::uint64_t tasks = std::max<std::uint64_t>(1, std::min<std::uint64_t>(64, block.size() >> 16));
      const std::vector<int> bounds = block.layout.split_first_indices(int(tasks));
      for (std::size_t t = 0; t + 1 < bounds.size(); ++t) tasks_.push_back({int(d), bounds[t], bounds[t + 1]});
      blocks_.push_back(std::move(block));
    }
  }

  int n() const { return n_; }
  bool multiset() const { return multiset_; }
  int n_blocks() const { return int(blocks_.size()); }
  const DegreeBlock<T>& block(int b) const { return blocks_[b]; }
  DegreeBlock<T>& block(int b) { return blocks_[b]; }
  const std::vector<Task>& tasks() const { return tasks_; }
  std::uint64_t n_values() const {
    std::uint64_t total = 0;
    for (const auto& b : blocks_) total += b.size();
    return total;
  }

  // Gaussian couplings with E[H(s)H(s')] = n xi(s.s'/n) / 2, xi(q) = sum_p c_p^2 q^p,
  // for tasks [task_begin, task_end) (callers fill all tasks, in slices they can
  // interrupt between). Value number e of degree p is normal number e of stream p
  // (fill_normals): the same for every thread layout and slicing.
  void generate(std::uint64_t seed, int task_begin, int task_end) {
    if (task_begin < 0 || task_end > int(tasks_.size()) || task_begin > task_end)
      throw std::out_of_range("task range out of bounds");
    const Philox4x32Key key = philox_key(seed);
    const double work = double(n_values()) * 30.0 * (task_end - task_begin) / double(tasks_.size());
    const Interrupt stop;  // polled between rows; the values of a stopped call are garbage
    parallel_tasks(task_end - task_begin, work > kMinParallelWork, stop, [&](std::int64_t t) {
      if (!stop.stopped()) fill_task(tasks_[task_begin + t], key, stop);
    });
  }

 private:
  void fill_task(const Task& task, Philox4x32Key key, const Interrupt& stop) {
    DegreeBlock<T>& blk = blocks_[task.block];
    const TupleLayout& L = blk.layout;
    const int p = L.p;
    double p_factorial = 1.0;
    for (int k = 2; k <= p; ++k) p_factorial *= k;
    // Var K_t = c_p^2 * (number of orderings of t) / (2 n^(p-1)).
    const double base_var = blk.coefficient * blk.coefficient * p_factorial / (2.0 * std::pow(double(n_), p - 1));
    T* out = blk.values.get();
    std::vector<double> z(L.n);
    InterruptMeter meter(stop);
    for (RowCursor row(L, task.first_begin, task.first_end); row.valid(); row.advance()) {
      if (meter.stop(30.0 * row.length() + 30.0)) return;
      double prefix_std = std::sqrt(base_var), diag_std = prefix_std;
      if (L.multiset) {
        // Divide by prod_i m_i! over the prefix multiplicities, then once more
        // by (c+1) where the last index repeats the prefix's last value c times.
        double denom = 1.0;
        int run = 1;
        for (int m = 1; m < row.prefix_len(); ++m) {
          run = (row.prefix[m] == row.prefix[m - 1]) ? run + 1 : 1;
          denom *= run;
        }
        prefix_std = std::sqrt(base_var / denom);
        diag_std = std::sqrt(base_var / (denom * (run + 1)));
      }
      const int lo = row.lo(), len = row.length();
      fill_normals(key, std::uint32_t(p), 0u, row.offset, len, z.data());
      T* dst = out + row.offset;
      for (int k = 0; k < len; ++k) dst[k] = T(z[k] * prefix_std);
      if (L.multiset && lo == row.prefix[row.prefix_len() - 1]) dst[0] = T(z[0] * diag_std);
    }
  }

  int n_;
  bool multiset_;
  std::vector<DegreeBlock<T>> blocks_;
  std::vector<Task> tasks_;
};

}  // namespace pspin
