// Single-spin-flip Monte Carlo of Ising p-spin models (degrees 2 and 3, pure or
// mixed) with cached local fields, for many configurations ("slots") at once.
//
// A sweep visits sites 0..n-1 in order; the uniform for site i of slot s at
// sweep t is Philox at counter (i/4, s, t): independent of threads and of how
// a run is cut into calls. A flip costs O(n) (degree 2) or O(n^2) (degree 3)
// field updates from the dense couplings; a rejected attempt costs O(1).
#pragma once
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "pspin/fields.hpp"
#include "pspin/ising_descent.hpp"
#include "pspin/tempering.hpp"

namespace pspin {

enum class IsingUpdate { Metropolis, HeatBath };

template <class T>
class IsingSampler {
 public:
  static constexpr std::uint64_t kRefreshEvery = 1024;

  IsingSampler(const Couplings<T>& couplings, const T* initial, int slots, std::uint64_t seed, IsingUpdate update)
      : C_(couplings), dense_(couplings), n_(couplings.n()), slots_(slots), key_(philox_key(seed)), update_(update),
        s_(initial, initial + std::size_t(slots) * couplings.n()),
        h_(std::size_t(slots) * couplings.n()), e_(slots) {
    if (slots < 1) throw std::invalid_argument("need at least one configuration");
    refresh();
  }

  int n() const { return n_; }
  int slots() const { return slots_; }
  double energy(int slot) const { return e_[slot]; }
  const T* state(int slot) const { return &s_[std::size_t(slot) * n_]; }
  double overlap(int a, int b) const {
    double acc = 0.0;
    const T* x = state(a);
    const T* y = state(b);
    for (int i = 0; i < n_; ++i) acc += double(x[i]) * double(y[i]);
    return acc / n_;
  }

  // Fields and energies from scratch (one batched pass over the packed couplings).
  void refresh() {
    const int B = padded_batch<T>(slots_);
    std::vector<T> x(std::size_t(n_) * B, T(0)), f(std::size_t(n_) * B);
    std::vector<double> e(B);
    for (int s = 0; s < slots_; ++s)
      for (int i = 0; i < n_; ++i) x[std::size_t(i) * B + s] = s_[std::size_t(s) * n_ + i];
    energy_and_fields(C_, x.data(), B, f.data(), e.data());
    for (int s = 0; s < slots_; ++s) {
      e_[s] = e[s];
      for (int i = 0; i < n_; ++i) h_[std::size_t(s) * n_ + i] = double(f[std::size_t(i) * B + s]);
    }
  }

  // Everything besides the states that a bit-identical resume needs: the
  // cached fields (slots x n) and energies (slots).
  std::vector<double> save_aux() const {
    std::vector<double> aux(h_);
    aux.insert(aux.end(), e_.begin(), e_.end());
    return aux;
  }
  void restore(const T* states, const std::vector<double>& aux) {
    if (aux.size() != h_.size() + e_.size()) throw std::invalid_argument("checkpoint data of the wrong size");
    std::copy(states, states + s_.size(), s_.begin());
    std::copy(aux.begin(), aux.begin() + h_.size(), h_.begin());
    std::copy(aux.begin() + h_.size(), aux.end(), e_.begin());
  }

  void sweep_all(const double* beta_of_slot, std::uint64_t sweep) {
    // Incremental energies drift by rounding; recompute them at sweep indices
    // fixed in advance, so a resumed run refreshes exactly where an unbroken one does.
    if (sweep > 0 && sweep % kRefreshEvery == 0) refresh();
    const double work = double(slots_) * n_ * (1.0 + 0.3 * dense_.flip_cost());
#pragma omp parallel for schedule(dynamic, 1) if (work > kMinParallelWork)
    for (int s = 0; s < slots_; ++s) sweep_one(s, beta_of_slot[s], sweep);
  }

 private:
  void sweep_one(int slot, double beta, std::uint64_t sweep) {
    T* s = &s_[std::size_t(slot) * n_];
    double* h = &h_[std::size_t(slot) * n_];
    double e = e_[slot];
    Philox4x32Counter u{};
    for (int i = 0; i < n_; ++i) {
      if ((i & 3) == 0)
        u = philox4x32_10(philox_counter(std::uint32_t(i >> 2), std::uint32_t(slot), sweep, RandomPurpose::IsingSweep), key_);
      const double r = uniform32(u[i & 3]);
      const double x = beta * 2.0 * double(s[i]) * h[i];  // beta times the energy change of flipping i
      // Beyond kFar, exp(-x) < 2^-32: only r == 0 can accept, so exp is not needed
      // (the outcome is exactly what the full test gives).
      constexpr double kFar = 22.2;
      bool flip;
      if (update_ == IsingUpdate::Metropolis) {
        flip = x <= 0.0 || (x > kFar ? r == 0.0 : r < std::exp(-x));
      } else {  // heat bath: flip with probability 1 / (1 + exp(x))
        flip = x > kFar ? r == 0.0 : r * (1.0 + std::exp(x)) < 1.0;
      }
      if (!flip) continue;
      e += 2.0 * double(s[i]) * h[i];
      dense_.add_flip(i, s, h);
      s[i] = -s[i];
    }
    e_[slot] = e;
  }

  const Couplings<T>& C_;
  IsingDense<T> dense_;
  int n_, slots_;
  Philox4x32Key key_;
  IsingUpdate update_;
  std::vector<T> s_;
  std::vector<double> h_, e_;
};

}  // namespace pspin
