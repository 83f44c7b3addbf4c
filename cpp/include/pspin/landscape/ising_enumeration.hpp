// Exact enumeration of the one-flip-stable states of an Ising model with
// degrees 2 and 3 (pure or mixed), n <= 62, by Gray-code walks.
//
// A state is encoded as a 64-bit code, bit j set when s_j = -1. Task t fixes
// the spins above the walked ones to the bits of t and visits all settings of
// the walked spins in Gray order: one flip and one incremental field update per
// state. Tasks are fixed by n and the model's symmetry only, and each starts
// from fields computed from scratch, so the states found do not depend on the
// thread count or on how the tasks are sliced into calls.
#pragma once
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "pspin/couplings/ising_dense.hpp"
#include "pspin/dispatch/simd.hpp"
#include "pspin/platform/interrupt.hpp"
#include "pspin/platform/parallel.hpp"

namespace pspin {

class IsingEnumerator {
  using vec = Simd<double>::vec;
  static constexpr int kWidth = Simd<double>::width;

 public:
  static constexpr int kMaxSpins = 62;
  // 2^18 states per task: a few ms each, enough tasks to balance threads at n >= 24.
  static constexpr int kMaxWalkBits = 18;

  template <class T>
  explicit IsingEnumerator(const IsingDense<T>& d)
      : n_(d.n), blocks_((d.n + kWidth - 1) / kWidth), has2_(d.has2()), has3_(d.has3()), flip_cost_(d.flip_cost()) {
    if (n_ < 1 || n_ > kMaxSpins) throw std::invalid_argument("enumeration needs 1 <= n <= 62");
    // Without odd degrees H(s) = H(-s): walk only s_{n-1} = +1 and mirror.
    mirror_ = !has3_;
    const int free_bits = n_ - (mirror_ ? 1 : 0);
    walk_bits_ = std::min(free_bits, kMaxWalkBits);
    n_tasks_ = std::uint64_t(1) << (free_bits - walk_bits_);
    // Rows are padded to whole vectors with zero couplings; a padding lane has
    // s = +1 and h = 0, so it never looks unstable.
    const std::size_t row = std::size_t(blocks_);
    double scale = 0.0;
    if (has2_) w2_.assign(std::size_t(n_) * row, vec{});
    if (has3_) t3_.assign(std::size_t(n_) * n_ * row, vec{});
    for (int i = 0; i < n_; ++i) {
      double bound = 0.0;
      for (int j = 0; j < n_; ++j) {
        if (has2_) {
          const double v = double(d.w_row(i)[j]);
          w2_[i * row + j / kWidth][j % kWidth] = v;
          bound += std::fabs(v);
        }
        if (has3_)
          for (int k = 0; k < n_; ++k) {
            const double v = double(d.coupling3(i, j, k));
            t3_[(std::size_t(i) * n_ + j) * row + k / kWidth][k % kWidth] = v;
            bound += 0.5 * std::fabs(v);
          }
      }
      scale = std::max(scale, bound);
    }
    // Rounding of 2^walk_bits incremental updates stays far below this; a state
    // whose smallest s_i h_i is above -margin is re-checked from scratch with
    // the exact rule (all s_i h_i >= 0), so the answer never rests on drift.
    margin_ = 1e-8 * scale;
  }

  int n() const { return n_; }
  bool mirror() const { return mirror_; }
  std::uint64_t n_tasks() const { return n_tasks_; }
  // Configurations visited per task (the mirror images are not visited).
  std::uint64_t states_per_task() const { return std::uint64_t(1) << walk_bits_; }

  // Codes of the stable states found in tasks [task_begin, task_end), in task
  // order, without the mirror images. Degenerate couplings (exact ties count
  // as stable) can make almost every state stable, so the walk stops once more
  // than `limit` states are found; a result longer than `limit` means that.
  std::vector<std::uint64_t> run(std::uint64_t task_begin, std::uint64_t task_end, std::uint64_t limit) const {
    if (task_begin > task_end || task_end > n_tasks_) throw std::out_of_range("task range out of bounds");
    const std::int64_t count = std::int64_t(task_end - task_begin);
    std::vector<std::vector<std::uint64_t>> found(count);
    const double work = double(count) * double(states_per_task()) * flip_cost_;
    Budget budget{limit};
    const Interrupt stop;  // polled every few thousand states; a stopped call's codes are garbage
    parallel_tasks(count, count > 1 && work > kMinParallelWork, stop, [&](std::int64_t t) {
      if (!stop.stopped()) walk(task_begin + std::uint64_t(t), found[t], budget, stop);
    });
    std::vector<std::uint64_t> out;
    for (const auto& f : found) out.insert(out.end(), f.begin(), f.end());
    return out;
  }

  // The exact rule, with fields summed from scratch in a fixed order.
  bool stable_from_scratch(std::uint64_t code) const {
    std::vector<double> s(n_);
    for (int j = 0; j < n_; ++j) s[j] = spin(code, j);
    for (int i = 0; i < n_; ++i) {
      double h = 0.0;
      for (int j = 0; j < n_; ++j) {
        if (has2_) h += w2_[std::size_t(i) * blocks_ + j / kWidth][j % kWidth] * s[j];
        if (has3_) {
          double inner = 0.0;
          for (int k = 0; k < n_; ++k)
            inner += t3_[(std::size_t(i) * n_ + j) * blocks_ + k / kWidth][k % kWidth] * s[k];
          h += 0.5 * s[j] * inner;
        }
      }
      if (s[i] * h < 0.0) return false;
    }
    return true;
  }

 private:
  struct Budget {
    std::uint64_t limit;
    std::atomic<std::uint64_t> used{0};
    explicit Budget(std::uint64_t l) : limit(l) {}
  };

  static double spin(std::uint64_t code, int j) { return (code >> j) & 1 ? -1.0 : 1.0; }

  // Walks with the block count as a compile-time constant, so that s and h stay in registers.
  static constexpr int kMaxBlocks = (kMaxSpins + kWidth - 1) / kWidth;
  template <int NB = 1>
  void walk(std::uint64_t task, std::vector<std::uint64_t>& found, Budget& budget, const Interrupt& stop) const {
    if constexpr (NB < kMaxBlocks)
      if (blocks_ > NB) return walk<NB + 1>(task, found, budget, stop);
    walk_blocks<NB>(task, found, budget, stop);
  }

  template <int NB>
  void walk_blocks(std::uint64_t task, std::vector<std::uint64_t>& found, Budget& budget,
                   const Interrupt& stop) const {
    if (has2_ && has3_) return walk_task<NB, true, true>(task, found, budget, stop);
    if (has3_) return walk_task<NB, false, true>(task, found, budget, stop);
    walk_task<NB, true, false>(task, found, budget, stop);
  }

  // Whether some s_i h_i < -margin, i.e. the state is surely unstable.
  template <int NB>
  bool surely_unstable(const vec* s, const vec* h) const {
    // Most states show an unstable spin among their first few: a scalar test
    // per spin that stops there beats forming and reducing whole masks.
    for (int b = 0; b < NB; ++b)
      for (int l = 0; l < kWidth; ++l)
        if (s[b][l] * h[b][l] < -margin_) return true;
    return false;
  }

  // The low spins flip most often (spin q every 2^(q+1) steps), so for them the
  // degree-3 rows K_q = T_q s are kept up to date: a flip then costs
  // O(kKeptRows * n) instead of the O(n^2) sum over the slice T_i, which only
  // the rare flips of higher spins pay.
  static constexpr int kKeptRows = 4;

  template <int NB, bool kHas2, bool kHas3>
  void walk_task(std::uint64_t task, std::vector<std::uint64_t>& found, Budget& budget, const Interrupt& stop) const {
    std::uint64_t code = task << walk_bits_;
    vec s[NB], h[NB];
    for (int b = 0; b < NB; ++b)
      for (int l = 0; l < kWidth; ++l) {
        const int j = b * kWidth + l;
        s[b][l] = j < n_ ? spin(code, j) : 1.0;
      }
    initial_fields<NB, kHas2, kHas3>(s, h);
    const int kept = kHas3 ? std::min(kKeptRows, walk_bits_) : 0;
    vec K[kKeptRows][NB];
    for (int q = 0; q < kept; ++q) slice_times_state<NB>(q, s, K[q]);
    // Whether to go on: false once the call's budget of stable states is spent.
    const auto check = [&] {
      if (surely_unstable<NB>(s, h) || !stable_from_scratch(code)) return true;
      found.push_back(code);
      return budget.used.fetch_add(1, std::memory_order_relaxed) < budget.limit;
    };
    if (!check()) return;
    const std::uint64_t steps = states_per_task();
    constexpr std::uint64_t kPollEvery = 4096;  // states between polls
    for (std::uint64_t k = 1; k < steps; ++k) {
      if (k % kPollEvery == 0 && stop.stop(double(kPollEvery) * flip_cost_)) return;
      const int i = __builtin_ctzll(k);
      const double c = -2.0 * s[i / kWidth][i % kWidth];
      if (kHas2) {
        const vec* row = w2_.data() + std::size_t(i) * NB;
        for (int b = 0; b < NB; ++b) h[b] += c * row[b];
      }
      if (kHas3) {
        if (i < kept) {
          for (int b = 0; b < NB; ++b) h[b] += c * K[i][b];
        } else {
          vec fresh[NB];
          slice_times_state<NB>(i, s, fresh);
          for (int b = 0; b < NB; ++b) h[b] += c * fresh[b];
        }
        // K_q[j] gains T[q, j, i] * (-2 s_i); row (q, i) of the slices holds it.
        for (int q = 0; q < kept; ++q) {
          const vec* row = t3_.data() + (std::size_t(q) * n_ + i) * NB;
          for (int b = 0; b < NB; ++b) K[q][b] += c * row[b];
        }
      }
      s[i / kWidth][i % kWidth] = -s[i / kWidth][i % kWidth];
      code ^= std::uint64_t(1) << i;
      if (!check()) return;
    }
  }

  // out = T_i s, summed as columns of the slice so it vectorises.
  template <int NB>
  void slice_times_state(int i, const vec* s, vec* out) const {
    for (int b = 0; b < NB; ++b) out[b] = vec{};
    const vec* slice = t3_.data() + std::size_t(i) * n_ * NB;
    for (int m = 0; m < n_; ++m) {
      const double sm = s[m / kWidth][m % kWidth];
      const vec* col = slice + std::size_t(m) * NB;
      for (int b = 0; b < NB; ++b) out[b] += sm * col[b];
    }
  }

  template <int NB, bool kHas2, bool kHas3>
  void initial_fields(const vec* s, vec* h) const {
    for (int b = 0; b < NB; ++b) h[b] = vec{};
    for (int j = 0; j < n_; ++j) {
      const double sj = s[j / kWidth][j % kWidth];
      if (kHas2) {
        const vec* row = w2_.data() + std::size_t(j) * NB;
        for (int b = 0; b < NB; ++b) h[b] += sj * row[b];
      }
      if (kHas3)
        for (int m = 0; m < n_; ++m) {
          const double c = 0.5 * sj * s[m / kWidth][m % kWidth];
          const vec* col = t3_.data() + (std::size_t(j) * n_ + m) * NB;
          for (int b = 0; b < NB; ++b) h[b] += c * col[b];
        }
    }
  }

  int n_;
  int blocks_;
  bool has2_, has3_;
  bool mirror_ = false;
  int walk_bits_ = 0;
  double flip_cost_ = 0.0;  // multiply-adds per state visited (one flip)
  std::uint64_t n_tasks_ = 1;
  double margin_ = 0.0;
  std::vector<vec> w2_;  // row i: W[i, :], padded to whole vectors
  std::vector<vec> t3_;  // row (i, j): T[i, j, :], padded
};

}  // namespace pspin
