// Couplings of a (mixed) p-spin Hamiltonian
//   H(s) = - sum_p sum_{tuples t of degree p} K_t s_t1 ... s_tp,
// one packed block per degree. K_t already includes the mixture coefficient c_p
// and, for the isotropic ensemble, the multiplicity factor of repeated indices.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
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
  // Packed positions [first_stored, first_stored + stored) are held: all of them in one
  // process, a rank's share when the couplings are split over ranks.
  std::uint64_t first_stored = 0;
  std::uint64_t stored = 0;
  StreamArray<T> values;  // uninitialised on purpose: first touch by the filling threads

  std::uint64_t size() const { return layout.size(); }
  bool complete() const { return stored == size(); }
  // Storage addressed by packed position (only held positions may be read). Computed on
  // integers: a rank's slab starts far into the layout, before its own allocation.
  const T* origin() const {
    return reinterpret_cast<const T*>(reinterpret_cast<std::uintptr_t>(values.get()) - first_stored * sizeof(T));
  }
  T* origin() { return reinterpret_cast<T*>(reinterpret_cast<std::uintptr_t>(values.get()) - first_stored * sizeof(T)); }
};

// Sums that span ranks (couplings split over MPI ranks). Each rank computes the
// partial sums of the task groups it holds; the running total then passes from
// rank to rank in rank order, each adding its groups in task order: the additions
// are exactly those one process makes, so results are bit-identical to it. The
// sums travel in pieces, so that the hops of a long chain overlap (rank k adds piece
// c while rank k - 1 sends piece c + 1); every element still sees the same additions.
// `inputs` fingerprints the arguments, so ranks given different states are caught.
template <class T>
class RankChain {
 public:
  virtual ~RankChain() = default;
  // How many pieces sums of `bytes` bytes travel in (the same on every rank).
  virtual int pieces(std::size_t bytes) = 0;
  // Overwrites piece (d, t) with the running sums of the ranks before this one (the first keeps zeros).
  virtual void receive(int piece, std::uint64_t inputs, double* d, std::size_t nd, T* t, std::size_t nt) = 0;
  // Hands the piece on to the next rank (it may still be in flight on return).
  virtual void pass_on(int piece, std::uint64_t inputs, double* d, std::size_t nd, T* t, std::size_t nt) = 0;
  // After the last piece: on return every rank holds the totals, whole.
  virtual void share(std::uint64_t inputs, double* d, std::size_t nd, T* t, std::size_t nt) = 0;
};

// 64-bit fingerprint of an argument array (FNV-1a over 8-byte words): cheap next to a
// pass over the couplings, and enough to tell two ranks' inputs apart.
inline std::uint64_t fingerprint(const void* data, std::size_t bytes, std::uint64_t h = 1469598103934665603ull) {
  const unsigned char* c = static_cast<const unsigned char*>(data);
  std::size_t i = 0;
  for (; i + 8 <= bytes; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, c + i, 8);
    h = (h ^ w) * 1099511628211ull;
  }
  for (; i < bytes; ++i) h = (h ^ c[i]) * 1099511628211ull;
  return h;
}

// The tasks of one process, fixed by the layouts alone: ~64k tuples each keeps task
// overhead small yet balances two threads well; at most 64 per degree.
inline std::vector<Task> plan_tasks(const std::vector<TupleLayout>& layouts) {
  std::vector<Task> tasks;
  for (std::size_t d = 0; d < layouts.size(); ++d) {
    const std::uint64_t count = std::max<std::uint64_t>(1, std::min<std::uint64_t>(64, layouts[d].size() >> 16));
    const std::vector<int> bounds = layouts[d].split_first_indices(int(count));
    for (std::size_t t = 0; t + 1 < bounds.size(); ++t) tasks.push_back({int(d), bounds[t], bounds[t + 1]});
  }
  return tasks;
}

// Tasks [first, last) held by rank `rank` of `ranks`.
inline std::pair<int, int> rank_tasks(int n_tasks, int rank, int ranks) {
  if (ranks < 1 || rank < 0 || rank >= ranks) throw std::invalid_argument("rank must lie in [0, ranks)");
  return {int(std::int64_t(n_tasks) * rank / ranks), int(std::int64_t(n_tasks) * (rank + 1) / ranks)};
}

// Packed range (first position, count) of degree block `block` covered by tasks [own_begin, own_end).
inline std::pair<std::uint64_t, std::uint64_t> held_range(const TupleLayout& layout, int block,
                                                          const std::vector<Task>& tasks, int own_begin, int own_end) {
  int lo = -1, hi = -1;
  for (int t = own_begin; t < own_end; ++t)
    if (tasks[t].block == block) {
      if (lo < 0) lo = tasks[t].first_begin;
      hi = tasks[t].first_end;
    }
  if (lo < 0) return {0, 0};
  return {layout.offset_of_first(lo), layout.offset_of_first(hi) - layout.offset_of_first(lo)};
}

template <class T>
class Couplings {
 public:
  // Allocates (uninitialised) storage for each degree; fill with generate() or set_values().
  // Split over `ranks` ranks, this one (`rank`) holds only the tasks
  // [rank * T / ranks, (rank + 1) * T / ranks) of the T tasks a whole process has.
  Couplings(int n, const std::vector<int>& degrees, const std::vector<double>& coefficients, bool multiset,
            int rank = 0, int ranks = 1)
      : n_(n), multiset_(multiset) {
    if (degrees.empty() || degrees.size() != coefficients.size())
      throw std::invalid_argument("degrees and coefficients must be non-empty and of equal length");
    for (double c : coefficients)
      if (!std::isfinite(c)) throw std::invalid_argument("coefficient is not finite");
    const std::vector<TupleLayout> layouts = layouts_of(n, degrees, multiset);
    tasks_ = plan_tasks(layouts);
    std::tie(own_begin_, own_end_) = rank_tasks(int(tasks_.size()), rank, ranks);
    for (std::size_t d = 0; d < degrees.size(); ++d) {
      DegreeBlock<T> block;
      block.layout = layouts[d];
      block.coefficient = coefficients[d];
      std::tie(block.first_stored, block.stored) = held_range(layouts[d], int(d), tasks_, own_begin_, own_end_);
      block.values = allocate_stream<T>(block.stored);
      blocks_.push_back(std::move(block));
    }
  }

  static std::vector<TupleLayout> layouts_of(int n, const std::vector<int>& degrees, bool multiset) {
    std::vector<TupleLayout> layouts;
    for (int p : degrees) layouts.emplace_back(n, p, multiset);
    return layouts;
  }
  // Tasks of the whole model: the most ranks it splits over.
  static int task_count(int n, const std::vector<int>& degrees, bool multiset) {
    return int(plan_tasks(layouts_of(n, degrees, multiset)).size());
  }
  // Values that rank `rank` of `ranks` holds, without allocating them (memory checks).
  static std::uint64_t held_values(int n, const std::vector<int>& degrees, bool multiset, int rank, int ranks) {
    const std::vector<TupleLayout> layouts = layouts_of(n, degrees, multiset);
    const std::vector<Task> tasks = plan_tasks(layouts);
    const auto own = rank_tasks(int(tasks.size()), rank, ranks);
    std::uint64_t total = 0;
    for (std::size_t d = 0; d < layouts.size(); ++d) total += held_range(layouts[d], int(d), tasks, own.first, own.second).second;
    return total;
  }

  int n() const { return n_; }
  bool multiset() const { return multiset_; }
  int n_blocks() const { return int(blocks_.size()); }
  const DegreeBlock<T>& block(int b) const { return blocks_[b]; }
  DegreeBlock<T>& block(int b) { return blocks_[b]; }
  const std::vector<Task>& tasks() const { return tasks_; }
  // Values of the whole model, held here or not: work estimates and groupings use it,
  // so they do not depend on how the couplings are split.
  std::uint64_t n_values() const {
    std::uint64_t total = 0;
    for (const auto& b : blocks_) total += b.size();
    return total;
  }
  std::uint64_t stored_values() const {
    std::uint64_t total = 0;
    for (const auto& b : blocks_) total += b.stored;
    return total;
  }
  // The tasks held here: [own_begin, own_end).
  int own_begin() const { return own_begin_; }
  int own_end() const { return own_end_; }
  bool complete() const { return own_begin_ == 0 && own_end_ == int(tasks_.size()); }
  RankChain<T>* chain() const { return chain_.get(); }
  // For consumers that read any coupling (dense tables, samplers): they run on one
  // process, and samplers sweep ladders on several threads, where a rank chain must see
  // one pass at a time.
  void require_whole(const char* who) const {
    if (!complete() || chain_)
      throw std::invalid_argument(std::string(who) + " needs couplings held whole by one process");
  }
  void set_chain(std::shared_ptr<RankChain<T>> chain) { chain_ = std::move(chain); }

  // Gaussian couplings with E[H(s)H(s')] = n xi(s.s'/n) / 2, xi(q) = sum_p c_p^2 q^p,
  // for tasks [task_begin, task_end) (callers fill all tasks, in slices they can
  // interrupt between). Value number e of degree p is normal number e of stream p
  // (fill_normals): the same for every thread layout and slicing.
  void generate(std::uint64_t seed, int task_begin, int task_end) {
    if (task_begin < own_begin_ || task_end > own_end_ || task_begin > task_end)
      throw std::out_of_range("task range out of bounds (or not held by this rank)");
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
    T* out = blk.origin();
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
  int own_begin_ = 0, own_end_ = 0;
  std::shared_ptr<RankChain<T>> chain_;
};

// Groups of consecutive tasks as a whole process makes them (group q holds tasks
// [q T / groups, (q + 1) T / groups)), cut to the tasks held here: the bounds of the
// groups this rank sums. Where rank boundaries fall on group boundaries, the groups
// are the whole process's own, and so are the sums.
inline std::vector<int> held_task_groups(int n_tasks, int groups, int own_begin, int own_end) {
  std::vector<int> bounds{own_begin};
  for (int q = 1; q < groups; ++q) {
    const int t = int(std::int64_t(q) * n_tasks / groups);
    if (t > own_begin && t < own_end) bounds.push_back(t);
  }
  if (own_end > own_begin) bounds.push_back(own_end);
  return bounds;
}

// The outputs (d, t): the partial sums of the ranks before this one (if the couplings are
// split), plus this rank's own, handed on. fold_held(d_lo, d_hi, t_lo, t_hi, fresh) adds
// this rank's sums to d[d_lo, d_hi) and t[t_lo, t_hi), overwriting them when `fresh` (one
// process: zeroing fused into the sum's own pass); t is cut into pieces at multiples of
// `t_width` (a row of the caller's buffers).
template <class T, class Fold>
void fold_across_ranks(const Couplings<T>& C, std::uint64_t inputs, double* d, std::size_t nd, T* t,
                       std::size_t nt, std::size_t t_width, Fold&& fold_held) {
  RankChain<T>* chain = C.chain();
  if (!chain) return fold_held(std::size_t(0), nd, std::size_t(0), nt, true);
  std::fill(d, d + nd, 0.0);  // the first rank's running sums
  std::fill(t, t + nt, T(0));
  const std::size_t rows = nt / t_width;
  const std::size_t most = std::max<std::size_t>({std::size_t(1), nd, rows});
  const std::size_t pieces = std::min<std::size_t>(most, std::max(1, chain->pieces(nd * sizeof(double) + nt * sizeof(T))));
  for (std::size_t c = 0; c < pieces; ++c) {
    const std::size_t d_lo = nd * c / pieces, d_hi = nd * (c + 1) / pieces;
    const std::size_t t_lo = rows * c / pieces * t_width, t_hi = rows * (c + 1) / pieces * t_width;
    chain->receive(int(c), inputs, d + d_lo, d_hi - d_lo, t + t_lo, t_hi - t_lo);
    fold_held(d_lo, d_hi, t_lo, t_hi, false);
    chain->pass_on(int(c), inputs, d + d_lo, d_hi - d_lo, t + t_lo, t_hi - t_lo);
  }
  chain->share(inputs, d, nd, t, nt);
}

}  // namespace pspin
