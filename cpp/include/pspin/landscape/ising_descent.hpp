// Zero-temperature single-flip descent of Ising models with degrees 2 and 3
// (pure or mixed) to one-flip-stable states, batched over starts.
//
// Conventions: h_i = -dH/ds_i, flipping spin i changes H by dE_i = 2 s_i h_i.
// A state is one-flip stable when every dE_i >= 0: a flip that leaves the
// energy unchanged is not taken (ties have probability zero for Gaussian
// couplings, and refusing them is what makes the descent terminate).
#pragma once
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "pspin/couplings/couplings.hpp"
#include "pspin/couplings/ising_dense.hpp"
#include "pspin/kernels/fields.hpp"
#include "pspin/platform/interrupt.hpp"
#include "pspin/platform/parallel.hpp"
#include "pspin/random/philox.hpp"

namespace pspin {

enum class IsingMethod { Greedy, Random };

struct IsingDescentSettings {
  IsingMethod method = IsingMethod::Greedy;
  std::int64_t max_iterations = 0;  // flips (greedy) or sweeps (random)
  std::int64_t record_every = 0;    // 0: no trajectory
  std::uint64_t order_key = 0;      // Philox key of the random sweep orders
};

// Progress of one start, kept across verification rounds.
struct IsingDescentOutcome {
  double energy = 0.0;
  int unstable = 0;
  bool converged = false;  // the endpoint is one-flip stable by fields computed from scratch
  std::int64_t iterations = 0;
  std::vector<double> trajectory;  // energy per spin every record_every iterations
};

// Visiting order of one random sweep: a Fisher-Yates shuffle fed by Philox at
// counter (start, sweep, draw / 4), so it depends on neither the thread nor the
// batch slicing. The multiply-shift index has bias below n / 2^32.
inline void random_sweep_order(Philox4x32Key key, std::uint64_t start, std::uint32_t sweep, int* order, int n) {
  std::iota(order, order + n, 0);
  Philox4x32Counter draws{};
  for (int i = n - 1, used = 4; i > 0; --i, ++used) {
    if (used == 4) {
      const std::uint32_t block = std::uint32_t(n - 1 - i) / 4;
      draws = philox4x32_10({std::uint32_t(start), std::uint32_t(start >> 32), sweep, block}, key);
      used = 0;
    }
    const int j = int((std::uint64_t(draws[used]) * std::uint64_t(i + 1)) >> 32);
    std::swap(order[i], order[j]);
  }
}

// The spin whose flip lowers the energy most (lowest index on ties), or -1.
// A vectorised minimum and then a search for the first block holding it cost
// far less than a scalar arg-min scan, and pick the same spin.
template <class T>
int most_unstable(const T* s, const double* h, int n) {
  double lowest = 0.0;
#pragma omp simd reduction(min : lowest)
  for (int i = 0; i < n; ++i) lowest = std::min(lowest, double(s[i]) * h[i]);
  if (!(lowest < 0.0)) return -1;
  constexpr int kBlock = 8;
  for (int first = 0; first < n; first += kBlock) {
    const int end = std::min(n, first + kBlock);
    bool here = false;
    for (int i = first; i < end; ++i) here |= double(s[i]) * h[i] == lowest;
    if (here)
      for (int i = first; i < end; ++i)
        if (double(s[i]) * h[i] == lowest) return i;
  }
  return -1;
}

// Descends from s with its fields h and energy out.energy, by incremental
// updates, until no flip lowers the energy by those fields or the budget is
// spent. s, h and out are updated in place.
template <class T>
void ising_descend_incremental(const IsingDense<T>& d, T* s, double* h, IsingDescentOutcome& out,
                               std::uint64_t start, const IsingDescentSettings& opt, const Interrupt& stop) {
  const int n = d.n;
  std::vector<int> order(opt.method == IsingMethod::Random ? n : 0);
  const Philox4x32Key key = philox_key(opt.order_key);
  double energy = out.energy;
  std::int64_t it = out.iterations;
  const auto record = [&] {
    if (opt.record_every > 0 && it % opt.record_every == 0) out.trajectory.push_back(energy / n);
  };
  const auto flip = [&](int i) {
    energy += 2.0 * double(s[i]) * h[i];
    d.add_flip(i, s, h);
    s[i] = -s[i];
  };
  if (it == 0 && out.trajectory.empty()) record();
  InterruptMeter meter(stop);
  while (it < opt.max_iterations) {
    if (meter.stop(opt.method == IsingMethod::Greedy ? 2.0 * n + d.flip_cost() : n * d.flip_cost())) break;
    bool moved = false;
    if (opt.method == IsingMethod::Greedy) {
      const int best = most_unstable(s, h, n);
      if (best < 0) break;  // a check, not an iteration
      flip(best);
      moved = true;
    } else {
      random_sweep_order(key, start, std::uint32_t(it), order.data(), n);
      for (int i : order)
        if (double(s[i]) * h[i] < 0.0) {
          flip(i);
          moved = true;
        }
    }
    ++it;
    record();
    if (!moved) break;
  }
  out.energy = energy;
  out.iterations = it;
}

// Starts r = 0..b-1 of a batch whose first start has global number
// first_start; states (b, n) row-major are overwritten by the endpoints.
// Incremental fields drift by rounding, so a start they call stable is
// checked with fields from scratch and resumes from them if it is not: only
// a state stable by fresh fields is reported converged (also one reached
// exactly as the budget ran out).
template <class T>
std::vector<IsingDescentOutcome> ising_descend_batch(const Couplings<T>& c, const IsingDense<T>& d, T* states,
                                                     int b, std::uint64_t first_start,
                                                     const IsingDescentSettings& opt) {
  const int n = d.n;
  std::vector<IsingDescentOutcome> out(b);
  std::vector<double> h(std::size_t(b) * n), energy(b);
  std::vector<int> pending(b);
  std::iota(pending.begin(), pending.end(), 0);
  const Interrupt stop;  // polled every iteration; a stopped call's outcomes are garbage
  fields_of_rows(c, states, pending.data(), int(pending.size()), h.data(), energy.data());
  for (int r = 0; r < b; ++r) out[r].energy = energy[r];
  while (!pending.empty() && !stop.stopped()) {
    const int m = int(pending.size());
    const double work = double(m) * n * d.flip_cost();
    parallel_tasks(m, m > 1 && work > kMinParallelWork, stop, [&](std::int64_t k) {
      const int r = pending[k];
      if (!stop.stopped())
        ising_descend_incremental(d, states + std::size_t(r) * n, h.data() + std::size_t(r) * n, out[r],
                                  first_start + std::uint64_t(r), opt, stop);
    });
    fields_of_rows(c, states, pending.data(), int(pending.size()), h.data(), energy.data());
    std::vector<int> again;
    for (int r : pending) {
      IsingDescentOutcome& o = out[r];
      o.energy = energy[r];
      o.unstable = d.count_unstable(states + std::size_t(r) * n, h.data() + std::size_t(r) * n);
      o.converged = o.unstable == 0;
      if (!o.converged && o.iterations < opt.max_iterations) again.push_back(r);
      // A stopped state no longer changes: its energy is that of the next record.
      if (o.converged && opt.record_every > 0 && o.iterations % opt.record_every != 0)
        o.trajectory.push_back(o.energy / n);
    }
    pending.swap(again);
  }
  return out;
}

}  // namespace pspin
