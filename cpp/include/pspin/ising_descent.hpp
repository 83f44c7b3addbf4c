// Zero-temperature single-flip descent of Ising models with degrees 2 and 3
// (pure or mixed) to one-flip-stable states, batched over starts.
//
// Conventions: h_i = -dH/ds_i, flipping spin i changes H by dE_i = 2 s_i h_i.
// A state is one-flip stable when every dE_i >= 0: a flip that leaves the
// energy unchanged is not taken (ties have probability zero for Gaussian
// couplings, and refusing them is what makes the descent terminate).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "pspin/couplings.hpp"
#include "pspin/parallel.hpp"
#include "pspin/philox.hpp"

namespace pspin {

// Dense symmetric couplings. The packed i<j<k layout scatters the couplings
// of one spin, while a flip of spin i needs exactly W[i,:] (degree 2) and the
// slice T[i,:,:] (degree 3) contiguously. Entries with a repeated index are
// zero, so a spin's own flip never changes its own field.
template <class T>
struct IsingDense {
  int n = 0;
  std::vector<T> w;  // n x n; empty without a degree-2 term
  std::vector<T> t;  // n x n x n; empty without a degree-3 term

  explicit IsingDense(const Couplings<T>& c) : n(c.n()) {
    if (c.multiset()) throw std::invalid_argument("Ising couplings must use distinct indices");
    const std::size_t nn = std::size_t(n) * n;
    for (int b = 0; b < c.n_blocks(); ++b) {
      const auto& blk = c.block(b);
      const TupleLayout& L = blk.layout;
      if (L.p == 2) w.assign(nn, T(0));
      else if (L.p == 3) t.assign(nn * n, T(0));
      else throw std::invalid_argument("Ising landscape kernels support degrees 2 and 3 only");
      for (RowCursor row(L, 0, L.first_index_end()); row.valid(); row.advance()) {
        const T* v = blk.values.get() + row.offset - row.lo();
        for (int k = row.lo(); k < n; ++k) {
          const std::size_t i = row.prefix[0];
          if (L.p == 2) {
            w[i * n + k] = w[k * n + i] = v[k];
          } else {
            const std::size_t j = row.prefix[1];
            t[(i * n + j) * n + k] = t[(i * n + k) * n + j] = v[k];
            t[(j * n + i) * n + k] = t[(j * n + k) * n + i] = v[k];
            t[(k * n + i) * n + j] = t[(k * n + j) * n + i] = v[k];
          }
        }
      }
    }
  }

  bool has2() const { return !w.empty(); }
  bool has3() const { return !t.empty(); }
  // Multiply-adds of one incremental field update, for parallel-work thresholds.
  double flip_cost() const { return (has2() ? n : 0) + (has3() ? double(n) * n : 0.0); }

  // Fields of each degree from scratch: h2 = W s, h3_i = (1/2) s^T T_i s.
  void fields(const T* s, double* h2, double* h3) const {
    for (int i = 0; i < n; ++i) {
      h2[i] = 0.0;
      h3[i] = 0.0;
    }
    if (has2())
      for (int i = 0; i < n; ++i) {
        const T* row = w.data() + std::size_t(i) * n;
        double acc = 0.0;
        for (int j = 0; j < n; ++j) acc += double(row[j]) * double(s[j]);
        h2[i] = acc;
      }
    if (has3())
      for (int i = 0; i < n; ++i) {
        const T* slice = t.data() + std::size_t(i) * n * n;
        double acc = 0.0;
        for (int j = 0; j < n; ++j) {
          double inner = 0.0;
          for (int k = 0; k < n; ++k) inner += double(slice[std::size_t(j) * n + k]) * double(s[k]);
          acc += double(s[j]) * inner;
        }
        h3[i] = 0.5 * acc;
      }
  }

  // Total field and energy from scratch: H = -(1/2) s.h2 - (1/3) s.h3 (Euler's
  // relation for homogeneous terms).
  double fields_and_energy(const T* s, double* h, std::vector<double>& scratch) const {
    scratch.resize(std::size_t(n));
    double* h3 = scratch.data();
    fields(s, h, h3);
    double e2 = 0.0, e3 = 0.0;
    for (int i = 0; i < n; ++i) {
      e2 += double(s[i]) * h[i];
      e3 += double(s[i]) * h3[i];
      h[i] += h3[i];
    }
    return -0.5 * e2 - e3 / 3.0;
  }

  // Adds the field change caused by flipping spin i (s is the state before
  // the flip). The degree-3 change -2 s_i T_i s is summed as columns so it
  // vectorises without reassociating a dot product.
  void add_flip(int i, const T* s, double* h) const {
    const double c = -2.0 * double(s[i]);
    if (has2()) {
      const T* row = w.data() + std::size_t(i) * n;
      for (int j = 0; j < n; ++j) h[j] += c * double(row[j]);
    }
    if (has3()) {
      const T* slice = t.data() + std::size_t(i) * n * n;
      for (int k = 0; k < n; ++k) {
        const double ck = c * double(s[k]);
        const T* col = slice + std::size_t(k) * n;
        for (int j = 0; j < n; ++j) h[j] += ck * double(col[j]);
      }
    }
  }

  int count_unstable(const T* s, const double* h) const {
    int bad = 0;
    for (int i = 0; i < n; ++i) bad += double(s[i]) * h[i] < 0.0;
    return bad;
  }
};

enum class IsingMethod { Greedy, Random };

struct IsingDescentSettings {
  IsingMethod method = IsingMethod::Greedy;
  std::int64_t max_iterations = 0;  // flips (greedy) or sweeps (random)
  std::int64_t record_every = 0;    // 0: no trajectory
  std::uint64_t order_key = 0;      // Philox key of the random sweep orders
};

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

// Descends from the state s (overwritten by the endpoint). Incremental fields
// drift by rounding, so a state they call stable is confirmed with fields
// recomputed from scratch, and only a state stable by fresh fields is
// reported converged (also one reached exactly as the budget ran out).
template <class T>
IsingDescentOutcome ising_descend_one(const IsingDense<T>& d, T* s, std::uint64_t start,
                                      const IsingDescentSettings& opt) {
  const int n = d.n;
  IsingDescentOutcome out;
  std::vector<double> h(n), scratch;
  std::vector<int> order(opt.method == IsingMethod::Random ? n : 0);
  double energy = d.fields_and_energy(s, h.data(), scratch);
  const Philox4x32Key key = philox_key(opt.order_key);
  const auto record = [&](std::int64_t it) {
    if (opt.record_every > 0 && it % opt.record_every == 0) out.trajectory.push_back(energy / n);
  };
  const auto flip = [&](int i) {
    energy += 2.0 * double(s[i]) * h[i];
    d.add_flip(i, s, h.data());
    s[i] = -s[i];
  };
  record(0);
  std::int64_t it = 0;
  bool stopped = false;
  while (!stopped && it < opt.max_iterations) {
    bool moved = false;
    if (opt.method == IsingMethod::Greedy) {
      int best = -1;
      double lowest = 0.0;
      for (int i = 0; i < n; ++i) {
        const double lambda = double(s[i]) * h[i];
        if (lambda < lowest) {
          lowest = lambda;
          best = i;
        }
      }
      if (best >= 0) {
        flip(best);
        moved = true;
      }
    } else {
      random_sweep_order(key, start, std::uint32_t(it), order.data(), n);
      for (int i : order)
        if (double(s[i]) * h[i] < 0.0) {
          flip(i);
          moved = true;
        }
    }
    // A greedy step that finds nothing to flip is a check, not an iteration;
    // a random sweep counts either way.
    if (moved || opt.method == IsingMethod::Random) record(++it);
    if (!moved) {
      energy = d.fields_and_energy(s, h.data(), scratch);
      stopped = d.count_unstable(s, h.data()) == 0;
    }
  }
  if (stopped && opt.record_every > 0 && it % opt.record_every != 0)
    out.trajectory.push_back(energy / n);  // the state no longer changes: this is its energy at the next record
  out.energy = d.fields_and_energy(s, h.data(), scratch);
  out.unstable = d.count_unstable(s, h.data());
  out.converged = out.unstable == 0;
  out.iterations = it;
  return out;
}

// Starts r = 0..b-1 of a batch whose first start has global number
// first_start; states is (b, n) row-major and is overwritten by the endpoints.
template <class T>
std::vector<IsingDescentOutcome> ising_descend_batch(const IsingDense<T>& d, T* states, int b,
                                                     std::uint64_t first_start,
                                                     const IsingDescentSettings& opt) {
  std::vector<IsingDescentOutcome> out(b);
  const double work = double(b) * d.n * d.flip_cost();
#pragma omp parallel for schedule(dynamic, 1) if (b > 1 && work > kMinParallelWork)
  for (int r = 0; r < b; ++r)
    out[r] = ising_descend_one(d, states + std::size_t(r) * d.n, first_start + std::uint64_t(r), opt);
  return out;
}

}  // namespace pspin
