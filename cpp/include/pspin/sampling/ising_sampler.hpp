// Single-spin-flip Monte Carlo of Ising p-spin models (any degrees, pure or
// mixed) with cached local fields, for many configurations ("slots") at once.
//
// A sweep visits sites 0..n-1 in order; the uniform for site i of slot s at
// sweep t is Philox at counter (i/4, s, t): independent of threads, of how a
// run is cut into calls and of which slots are swept together. A flip costs
// O(n) (degree 2), O(n^2) (degree 3, dense slices) or C(n-1, p-1) (degree
// p >= 4, couplings/ising_high_degree.hpp) field updates; a rejected attempt costs one
// comparison (flip_thresholds.hpp).
#pragma once
#include <cmath>
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "pspin/couplings/ising_dense.hpp"
#include "pspin/couplings/ising_high_degree.hpp"
#include "pspin/dispatch/simd.hpp"
#include "pspin/kernels/fields.hpp"
#include "pspin/platform/interrupt.hpp"
#include "pspin/random/streams.hpp"
#include "pspin/sampling/flip_thresholds.hpp"

namespace pspin {

template <class T>
class IsingSampler {
 public:
  static constexpr std::uint64_t kRefreshEvery = 1024;

  IsingSampler(const Couplings<T>& couplings, const T* initial, int slots, std::uint64_t seed, IsingUpdate update)
      : C_(couplings), dense_(couplings, true), high_(couplings), n_(couplings.n()), slots_(slots),
        key_(philox_key(seed)), update_(update),
        s_(initial, initial + std::size_t(slots) * couplings.n()),
        h_(std::size_t(slots) * couplings.n()), e_(slots) {
    if (slots < 1) throw std::invalid_argument("need at least one configuration");
    refresh(0, slots);
  }

  int n() const { return n_; }
  int slots() const { return slots_; }
  double energy(int slot) const { return e_[slot]; }
  const T* state(int slot) const { return &s_[std::size_t(slot) * n_]; }


  // Everything besides the states that a bit-identical resume needs: the
  // cached fields (slots x n) and energies (slots).
  std::vector<double> save_aux() const {
    std::vector<double> aux(h_.begin(), h_.end());
    aux.insert(aux.end(), e_.begin(), e_.end());
    return aux;
  }
  void restore(const T* states, const std::vector<double>& aux) {
    if (aux.size() != h_.size() + e_.size()) throw std::invalid_argument("checkpoint data of the wrong size");
    std::copy(states, states + s_.size(), s_.begin());
    std::copy(aux.begin(), aux.begin() + h_.size(), h_.begin());
    std::copy(aux.begin() + h_.size(), aux.end(), e_.begin());
  }

  // Slots are swept ladder by ladder (see Tempering), a ladder's slots in
  // lockstep: block by block for degree 2 (each slot scans the block alone; the
  // block's rows of W then reach every slot's fields chunk by chunk from L1),
  // site by site with degrees >= 3 (one load of the slice of spin i serves every
  // slot that flips it).
  static constexpr bool kSweepsByLadder = true;

  // stop: polled inside the sweep (annealing, which discards the sampler when
  // interrupted, so a sweep may stop half done); none for tempering runs.
  void sweep_slots(int first, int count, const double* beta_of_slot, std::uint64_t sweep,
                   const Interrupt& stop = Interrupt(nullptr)) {
    // Incremental energies drift by rounding; recompute them at sweep indices
    // fixed in advance, so a resumed run refreshes exactly where an unbroken one does.
    if (sweep > 0 && sweep % kRefreshEvery == 0) refresh(first, count);
    // Sweeps of different ladders run concurrently: scratch is per thread.
    thread_local Scratch scratch;
    scratch.resize(count);
    const auto ctr = philox_counter(0, 0, sweep, RandomPurpose::IsingSweep);
    InterruptMeter meter(stop);
    for (int i0 = 0; i0 < n_ && !meter.stop(double(count) * kBlock * 8); i0 += kBlock) {
      const Block block{i0, std::min(kBlock, n_ - i0)};
      for (int a = 0; a < count; ++a) {
        scratch.half_inverse_beta[a] = 0.5 / beta_of_slot[a];
        const std::size_t at_a = std::size_t(a) * kBlock;
        fill_flip_brackets<kBlock>(key_, std::uint32_t(first + a), ctr[2], ctr[3], i0, block.len, update_,
                                   scratch.half_inverse_beta[a], &scratch.lower[at_a], &scratch.upper[at_a],
                                   &scratch.words[at_a]);
      }
      std::fill(scratch.deferred.begin(), scratch.deferred.end(), 0);
      if (count == 1 || (!dense_.has3() && high_.empty())) {
        // Without degree 3 a flip touches only its own block's fields at once
        // (W[block, block] stays in L1), so each slot scans the block alone.
        for (int a = 0; a < count; ++a) sweep_block_alone(first, a, block, scratch);
      } else {
        for (int i = i0; i < i0 + block.len; ++i) {
          int m = 0;
          for (int a = 0; a < count; ++a) {
            const double sh = double(s_[at(first + a, i)]) * h_[at(first + a, i)];
            const std::size_t d = std::size_t(a) * kBlock + (i - i0);
            if (sh < scratch.upper[d] &&
                accept_flip_candidate(sh, scratch.lower[d], scratch.words[d], update_, scratch.half_inverse_beta[a]))
              scratch.flipping[m++] = a;
          }
          if (m > 0) flip_all(i, first, scratch.flipping.data(), m, block, scratch);
          if (meter.stop(double(m) * (dense_.flip_cost() + n_) + count)) return;
        }
      }
      apply_deferred(first, count, block, scratch);
    }
  }

  // Distributed runs (see Tempering::sweep_own): the energy is all the other processes
  // need of a slot after its sweep; nothing is tallied per temperature.
  static constexpr int kOutcomeSize = 1;
  void outcome(int slot, double* out) const { out[0] = e_[slot]; }
  void adopt_outcome(int slot, const double* in) { e_[slot] = in[0]; }
  void tally(const int*) {}

  // A slot's whole state (spins, fields, energy: 2n + 1 values), to copy it between processes.
  int slot_data_size() const { return 2 * n_ + 1; }
  void save_slot(int slot, double* out) const {
    for (int i = 0; i < n_; ++i) out[i] = double(s_[at(slot, i)]);
    std::copy(&h_[at(slot, 0)], &h_[at(slot, 0)] + n_, out + n_);
    out[2 * n_] = e_[slot];
  }
  void load_slot(int slot, const double* in) {
    for (int i = 0; i < n_; ++i) s_[at(slot, i)] = T(in[i]);
    std::copy(in + n_, in + 2 * n_, &h_[at(slot, 0)]);
    e_[slot] = in[2 * n_];
  }

  // Fields and energies from scratch for slots [first, first + count).
  void refresh(int first, int count) {
    std::vector<int> rows(count);
    std::iota(rows.begin(), rows.end(), first);
    fields_of_rows(C_, s_.data(), rows.data(), count, h_.data(), e_.data());
  }

 private:
  // Sites are swept in blocks of kBlock. A degree-2 flip updates the fields of
  // its own block at once and defers the rest of W[i, :] to the end of the
  // block: the fields of later blocks are not read before then, and one pass
  // over a configuration's fields then takes all of the block's flips.
  static constexpr int kBlock = 64;
  struct Block {
    int first, len;
  };
  struct Scratch {
    std::vector<double> lower, upper;  // slots x kBlock: bracket of t / (2 beta), flip_thresholds.hpp
    std::vector<std::uint32_t> words;  // slots x kBlock: the draws
    std::vector<double> half_inverse_beta;
    std::vector<int> flipping;       // slots (offsets from the first) flipping the current site
    std::vector<int> deferred;       // per slot: flips of this block not yet applied beyond it
    std::vector<int> deferred_site;  // slots x kBlock
    std::vector<double> deferred_factor;
    std::vector<const T*> states;  // of the slots flipping the current site
    std::vector<double*> fields;
    void resize(int slots) {
      states.resize(slots);
      fields.resize(slots);
      lower.resize(std::size_t(slots) * kBlock);
      upper.resize(std::size_t(slots) * kBlock);
      words.resize(std::size_t(slots) * kBlock);
      half_inverse_beta.resize(slots);
      flipping.resize(slots);
      deferred.resize(slots);
      deferred_site.resize(std::size_t(slots) * kBlock);
      deferred_factor.resize(std::size_t(slots) * kBlock);
    }
  };

  // One configuration (slot first + offset) through a block: jump from one
  // accepted flip to the next, testing eight sites per step (a flip changes the
  // fields, so the test resumes after it).
  void sweep_block_alone(int first, int offset, const Block& block, Scratch& scratch) {
    const T* s = state(first + offset);
    const double* h = &h_[at(first + offset, 0)];
    // Bracket and draw of site i sit at index base + i of the scratch arrays.
    const std::ptrdiff_t base = std::ptrdiff_t(offset) * kBlock - block.first;
    const double* upper = scratch.upper.data() + std::ptrdiff_t(offset) * kBlock - block.first;
    const int end = block.first + block.len;
    for (int i = block.first;; ++i) {
      for (; i + 8 <= end; i += 8) {
        unsigned mask = 0;
        for (int j = 0; j < 8; ++j) mask |= unsigned(double(s[i + j]) * h[i + j] < upper[i + j]) << j;
        if (mask != 0) {
          i += __builtin_ctz(mask);
          break;
        }
      }
      while (i < end && !(double(s[i]) * h[i] < upper[i])) ++i;
      if (i >= end) return;
      if (accept_flip_candidate(double(s[i]) * h[i], scratch.lower[base + i], scratch.words[base + i], update_,
                                scratch.half_inverse_beta[offset]))
        flip_all(i, first, &offset, 1, block, scratch);
    }
  }

  // Flips spin i in slots first + offsets[0..count): energies, the fields of the
  // block (degree 2) and of every site (degrees >= 3, lockstep so that each row
  // of couplings is read once for all of them).
  void flip_all(int i, int first, const int* offsets, int count, const Block& block, Scratch& scratch) {
    for (int m = 0; m < count; ++m) {
      const int a = offsets[m], slot = first + a;
      const double sign = double(s_[at(slot, i)]);
      e_[slot] += 2.0 * sign * h_[at(slot, i)];
      if (!dense_.has2()) continue;
      const double c = -2.0 * sign;
      if (block.len == kBlock)
        add_rows_to_chunk(dense_.w.get() + block.first, 0, dense_.w_stride, &i, &c, 1, &h_[at(slot, block.first)]);
      else
        dense_.add_flip2_columns(i, c, block.first, block.first + block.len, &h_[at(slot, 0)]);
      const std::size_t d = std::size_t(a) * kBlock + scratch.deferred[a]++;
      scratch.deferred_site[d] = i;
      scratch.deferred_factor[d] = c;
    }
    if (dense_.has3() || !high_.empty()) {
      for (int m = 0; m < count; ++m) {
        scratch.states[m] = &s_[at(first + offsets[m], 0)];
        scratch.fields[m] = &h_[at(first + offsets[m], 0)];
      }
      if (dense_.has3()) dense_.add_flip3(i, count, scratch.states.data(), scratch.fields.data());
      if (!high_.empty()) high_.add_flip(i, count, scratch.states.data(), scratch.fields.data());
    }
    for (int m = 0; m < count; ++m) s_[at(first + offsets[m], i)] = -s_[at(first + offsets[m], i)];
  }

  // The block's deferred degree-2 updates, 64 columns at a time: that chunk of
  // the block's rows of W stays in L1 while each slot adds all its flips to
  // its fields, held in registers. Per column the additions come in flip
  // order, as flipping one at a time would make them.
  void apply_deferred(int first, int count, const Block& block, const Scratch& scratch) {
    if (!dense_.has2()) return;
    // Single-precision rows are widened once per chunk for all slots, not once per slot.
    constexpr bool kWiden = !std::is_same_v<T, double>;
    thread_local std::vector<double> wide;
    std::uint64_t used = 0;  // bit r: row block.first + r is needed
    if (kWiden && count > 1) {
      wide.resize(std::size_t(kBlock) * kBlock);
      for (int a = 0; a < count; ++a)
        for (int r = 0; r < scratch.deferred[a]; ++r)
          used |= std::uint64_t(1) << (scratch.deferred_site[std::size_t(a) * kBlock + r] - block.first);
    }
    for (int j0 = 0; j0 < n_; j0 += kBlock) {
      if (j0 == block.first) continue;  // the block's own columns are up to date
      const int width = std::min(kBlock, n_ - j0);
      if (used != 0 && width == kBlock)
        for (int r = 0; r < block.len; ++r) {
          if (!((used >> r) & 1)) continue;
          const T* row = dense_.w_row(block.first + r) + j0;
          double* dst = &wide[std::size_t(r) * kBlock];
#pragma omp simd
          for (int q = 0; q < kBlock; ++q) dst[q] = double(row[q]);
        }
      for (int a = 0; a < count; ++a) {
        const int k = scratch.deferred[a];
        const int* sites = &scratch.deferred_site[std::size_t(a) * kBlock];
        const double* factors = &scratch.deferred_factor[std::size_t(a) * kBlock];
        double* h = &h_[at(first + a, j0)];
        if (k == 0) continue;
        if (width < kBlock) {
          for (int r = 0; r < k; ++r) dense_.add_flip2_columns(sites[r], factors[r], j0, j0 + width, h - j0);
        } else if (used != 0) {
          add_rows_to_chunk(wide.data(), block.first, kBlock, sites, factors, k, h);
        } else {
          add_rows_to_chunk(dense_.w.get() + j0, 0, dense_.w_stride, sites, factors, k, h);
        }
      }
    }
  }

  // h[0, kBlock) += sum_r factors[r] rows[(sites[r] - first_site) * stride + (0, kBlock)],
  // held in registers, the rows added in order. The chunk goes in pieces of
  // half the register file (one piece on AVX-512, two on AVX2); each column
  // still receives its additions in flip order.
  template <class R>
  // Always inlined: outlined in the module build it ran 10-15% slower.
  __attribute__((always_inline)) static void add_rows_to_chunk(const R* rows, int first_site, std::size_t stride,
                                                               const int* sites, const double* factors, int k,
                                                               double* h) {
    using V = typename Simd<double>::vec;
    using UV = typename Simd<double>::uvec;
    constexpr int kWidth = Simd<double>::width;
    constexpr int kVecs = std::min(kBlock / kWidth, kSimdRegisters / 2);
    for (int q0 = 0; q0 < kBlock; q0 += kVecs * kWidth) {
      V acc[kVecs];
      for (int q = 0; q < kVecs; ++q) acc[q] = *reinterpret_cast<const UV*>(h + q0 + q * kWidth);
      for (int r = 0; r < k; ++r) {
        const R* row = rows + std::size_t(sites[r] - first_site) * stride + q0;
        const V c = V{} + factors[r];
        for (int q = 0; q < kVecs; ++q) acc[q] += c * simd_as_doubles(row + q * kWidth);
      }
      for (int q = 0; q < kVecs; ++q) *reinterpret_cast<UV*>(h + q0 + q * kWidth) = acc[q];
    }
  }

  std::size_t at(int slot, int i) const { return std::size_t(slot) * n_ + i; }

  const Couplings<T>& C_;
  IsingDense<T> dense_;       // degrees 2 and 3
  IsingHighDegree<T> high_;   // degrees 4 and up
  int n_, slots_;
  Philox4x32Key key_;
  IsingUpdate update_;
  AlignedVector<T> s_;  // slots x n; rows start on cache lines when n is a multiple of 8
  AlignedVector<double> h_;
  std::vector<double> e_;
};

}  // namespace pspin
