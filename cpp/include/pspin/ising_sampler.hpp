// Single-spin-flip Monte Carlo of Ising p-spin models (degrees 2 and 3, pure or
// mixed) with cached local fields, for many configurations ("slots") at once.
//
// A sweep visits sites 0..n-1 in order; the uniform for site i of slot s at
// sweep t is Philox at counter (i/4, s, t): independent of threads, of how a
// run is cut into calls and of which slots are swept together. A flip costs
// O(n) (degree 2) or O(n^2) (degree 3) field updates from the dense couplings;
// a rejected attempt costs O(1).
#pragma once
#include <cmath>
#include <cstdint>
#include <numeric>
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
    refresh(0, slots);
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

  // Slots are swept ladder by ladder (see Tempering): a ladder's slots run in
  // lockstep over the sites, so one load of W[i, :] (or of the slice T[i]) from
  // memory serves every slot that flips spin i at this sweep.
  static constexpr bool kSweepsByLadder = true;

  void sweep_slots(int first, int count, const double* beta_of_slot, std::uint64_t sweep) {
    // Incremental energies drift by rounding; recompute them at sweep indices
    // fixed in advance, so a resumed run refreshes exactly where an unbroken one does.
    if (sweep > 0 && sweep % kRefreshEvery == 0) refresh(first, count);
    std::vector<Philox4x32Counter> draws(count);
    std::vector<int> flipping;
    flipping.reserve(count);
    for (int i = 0; i < n_; ++i) {
      flipping.clear();
      for (int a = 0; a < count; ++a) {
        const int slot = first + a;
        if ((i & 3) == 0)
          draws[a] = philox4x32_10(philox_counter(std::uint32_t(i >> 2), std::uint32_t(slot), sweep, RandomPurpose::IsingSweep), key_);
        if (accept(slot, i, beta_of_slot[a], uniform32(draws[a][i & 3]))) flipping.push_back(slot);
      }
      if (!flipping.empty()) flip_all(i, flipping);
    }
  }

  // Fields and energies from scratch for slots [first, first + count).
  void refresh(int first, int count) {
    std::vector<int> rows(count);
    std::iota(rows.begin(), rows.end(), first);
    fields_of_rows(C_, s_.data(), rows.data(), count, h_.data(), e_.data());
  }

 private:
  bool accept(int slot, int i, double beta, double r) const {
    const double x = beta * 2.0 * double(s_[std::size_t(slot) * n_ + i]) * h_[std::size_t(slot) * n_ + i];
    // Beyond kFar, exp(-x) < 2^-32: only r == 0 can accept, so exp is not
    // needed (the outcome is exactly what the full test gives).
    constexpr double kFar = 22.2;
    if (update_ == IsingUpdate::Metropolis) return x <= 0.0 || (x > kFar ? r == 0.0 : r < std::exp(-x));
    return x > kFar ? r == 0.0 : r * (1.0 + std::exp(x)) < 1.0;  // heat bath: 1 / (1 + e^x)
  }

  // Flips spin i in every listed slot, updating energies and fields. Per slot the
  // arithmetic is that of IsingDense::add_flip, in the same order, whatever the list.
  void flip_all(int i, const std::vector<int>& slots) {
    for (int slot : slots) e_[slot] += 2.0 * double(s_[std::size_t(slot) * n_ + i]) * h_[std::size_t(slot) * n_ + i];
    if (dense_.has2())
      for (int slot : slots) dense_.add_flip2(i, &s_[std::size_t(slot) * n_], &h_[std::size_t(slot) * n_]);
    if (dense_.has3())
      for (int j = 0; j + 1 < n_; ++j)
        for (int slot : slots) dense_.add_flip3_row(i, j, &s_[std::size_t(slot) * n_], &h_[std::size_t(slot) * n_]);
    for (int slot : slots) s_[std::size_t(slot) * n_ + i] = -s_[std::size_t(slot) * n_ + i];
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
