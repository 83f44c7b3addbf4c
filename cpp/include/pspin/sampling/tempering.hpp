// Parallel tempering over K independent ladders of R temperatures.
//
// There are R*K configurations ("slots"); slot s belongs to ladder s / R and
// holds temperature index temp_of_slot[s] (0 = the lowest temperature). Swaps
// exchange temperature labels between neighbours of one ladder, never
// configurations. Every random number is Philox at a counter built from
// (sweep, ladder, pair): a run is a pure function of (seed, state, sweep count),
// so stopping and resuming anywhere reproduces it bit for bit.
//
// A Sampler moves slots by one sweep at their inverse temperatures:
//   int n() const; int slots() const;
//   double energy(int slot) const;           // total H
//   const X* state(int slot) const;          // n values
// and either
//   void sweep_all(const double* beta_of_slot, const int* temp_of_slot, std::uint64_t sweep);
//                                            // all slots together; temp_of_slot indexes
//                                            // per-temperature settings (step sizes)
//   double overlap(int a, int b) const;      // s_a . s_b / n
// or, declaring `static constexpr bool kSweepsByLadder = true`,
//   void sweep_slots(int first, int count, const double* beta, std::uint64_t sweep,
//                    const Interrupt& stop);  // stop: polled inside the sweep (annealing)
// for samplers whose slots are independent (then each ladder runs on its own thread).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "pspin/platform/interrupt.hpp"
#include "pspin/platform/parallel.hpp"
#include "pspin/random/philox.hpp"
#include "pspin/random/streams.hpp"

namespace pspin {

// Samplers that keep per-temperature settings (step sizes) follow the ladder when it moves.
template <class S>
auto notify_betas(S& s, const std::vector<double>& betas, int) -> decltype(s.set_betas(betas), void()) {
  s.set_betas(betas);
}
template <class S>
void notify_betas(S&, const std::vector<double>&, long) {}

// Overlap s_a . s_b / n: the sampler's own (spherical single precision: of its float64
// states), else from the states as double, summed in the order run_by_ladder sums.
template <class S>
auto slot_overlap(const S& s, int a, int b, int) -> decltype(s.overlap(a, b)) {
  return s.overlap(a, b);
}
template <class S>
double slot_overlap(const S& s, int a, int b, long) {
  const int n = s.n();
  const auto* x = s.state(a);
  const auto* y = s.state(b);
  double dot = 0.0;
  for (int i = 0; i < n; ++i) dot += double(x[i]) * double(y[i]);
  return dot / n;
}

struct TemperingStats {
  std::vector<std::uint64_t> attempts, accepts;  // per neighbour pair
  std::vector<std::uint64_t> round_trips;        // per slot
  std::vector<int> phase;                        // per slot: 0 none, 1 seen lowest, 2 then highest
};

template <class Sampler>
class Tempering {
 public:
  // Slots swept in lockstep on one thread (annealing runs, or whole ladders):
  // enough to share each coupling row, few enough that their fields stay in L2.
  static constexpr int kLockstepSlots = 64;

  Tempering(Sampler& sampler, std::vector<double> betas, int ladders, std::uint64_t seed)
      : S_(sampler), betas_(std::move(betas)), R_(int(betas_.size())), K_(ladders), key_(philox_key(seed)) {
    if (R_ < 1 || K_ < 1 || S_.slots() != R_ * K_) throw std::invalid_argument("slots must equal temperatures x ladders");
    temp_of_slot_.resize(std::size_t(R_) * K_);
    for (int s = 0; s < R_ * K_; ++s) temp_of_slot_[s] = s % R_;
    stats_.attempts.assign(R_ > 1 ? R_ - 1 : 0, 0);
    stats_.accepts.assign(R_ > 1 ? R_ - 1 : 0, 0);
    stats_.round_trips.assign(std::size_t(R_) * K_, 0);
    stats_.phase.assign(std::size_t(R_) * K_, 0);
    slot_of_temp_ = index_of(temp_of_slot_);
    for (int s = 0; s < R_ * K_; ++s) track_round_trip(s);
  }

  int temperatures() const { return R_; }
  // Samples the next n_sweeps sweeps write (the sizes of run()'s outputs).
  int samples_in(int n_sweeps, int sample_every) const {
    const std::uint64_t every = std::uint64_t(sample_every);
    return int((sweep_ + std::uint64_t(n_sweeps)) / every - sweep_ / every);
  }
  int ladders() const { return K_; }
  std::uint64_t sweeps_done() const { return sweep_; }
  const std::vector<int>& temp_of_slot() const { return temp_of_slot_; }
  const TemperingStats& stats() const { return stats_; }
  int slot_at(int ladder, int temp) const { return slot_of_temp_[std::size_t(ladder) * R_ + temp]; }

  const std::vector<double>& betas() const { return betas_; }
  // New inverse temperatures for the same labels (ladder tuning during burn-in).
  void set_betas(const std::vector<double>& betas) {
    if (int(betas.size()) != R_) throw std::invalid_argument("need one inverse temperature per label");
    betas_ = betas;
    notify_betas(S_, betas_, 0);
  }

  // Restores the label permutation, sweep count and statistics of a checkpoint.
  // Throws, changing nothing, unless the labels are a permutation within each
  // ladder and the statistics have this run's sizes (callers check before they
  // restore the sampler, so a bad checkpoint leaves the engine as it was).
  void check_restore(const std::vector<int>& temp_of_slot, const TemperingStats& stats) const {
    if (temp_of_slot.size() != temp_of_slot_.size()) throw std::invalid_argument("permutation has the wrong size");
    if (stats.attempts.size() != stats_.attempts.size() || stats.accepts.size() != stats_.accepts.size() ||
        stats.round_trips.size() != temp_of_slot_.size() || stats.phase.size() != temp_of_slot_.size())
      throw std::invalid_argument("checkpoint statistics have the wrong size");
    index_of(temp_of_slot);
  }

  void restore(const std::vector<int>& temp_of_slot, std::uint64_t sweeps, const TemperingStats& stats) {
    check_restore(temp_of_slot, stats);
    slot_of_temp_ = index_of(temp_of_slot);
    temp_of_slot_ = temp_of_slot;
    sweep_ = sweeps;
    stats_ = stats;
  }

  // Distributed runs (python/pspin/mpi/tempering.py). Every process holds all slots but
  // sweeps only its own, [first, first + count), with exactly the numbers run() gives
  // them (counters depend on the slot, never on which slots share a pass); the caller
  // gathers every slot's outcome (Sampler::kOutcomeSize values: energy, move tallies)
  // and finish_sweep() then tallies and swaps identically on every process. The other
  // slots keep what load_slots() last gave them and are never swept here.
  static constexpr int kOutcomeSize = Sampler::kOutcomeSize;
  void sweep_own(int first, int count, double* outcomes) {
    check_range(first, count);
    if constexpr (has_ladder_sweeps<Sampler>::value) {
      // Independent slots: lockstep groups on threads, as run_by_ladder groups ladders.
      const int group = std::clamp((count + max_threads() - 1) / max_threads(), 1, kLockstepSlots);
      const int groups = (count + group - 1) / group;
      const double work = double(count) * S_.n();
#pragma omp parallel for schedule(dynamic, 1) if (groups > 1 && work > kMinParallelWork)
      for (int g = 0; g < groups; ++g) {
        const int a0 = first + g * group, a1 = std::min(first + count, a0 + group);
        std::vector<double> beta(a1 - a0);
        for (int a = a0; a < a1; ++a) beta[a - a0] = betas_[temp_of_slot_[a]];
        S_.sweep_slots(a0, a1 - a0, beta.data(), sweep_);
      }
    } else {
      std::vector<double> beta_of_slot(std::size_t(R_) * K_);
      for (int s = 0; s < R_ * K_; ++s) beta_of_slot[s] = betas_[temp_of_slot_[s]];
      S_.sweep_range(first, count, beta_of_slot.data(), temp_of_slot_.data(), sweep_);
    }
    for (int s = first; s < first + count; ++s) S_.outcome(s, outcomes + std::size_t(s - first) * kOutcomeSize);
  }

  // The outcomes of all slots (slots x kOutcomeSize, this process's own included): the
  // move tallies, then the swaps of every ladder, then the sweep count moves on.
  void finish_sweep(const double* outcomes) {
    for (int s = 0; s < R_ * K_; ++s) S_.adopt_outcome(s, outcomes + std::size_t(s) * kOutcomeSize);
    S_.tally(temp_of_slot_.data());
    for (int k = 0; k < K_; ++k) swap_labels(k, sweep_, stats_.attempts.data(), stats_.accepts.data());
    ++sweep_;
  }

  // The measurement run() records after a sampled sweep, of the current slots: energies
  // (R x K, by temperature) and overlaps (R x K(K-1)/2; the slots must be current).
  void sample(double* energies, double* overlaps) const {
    const int pairs = K_ * (K_ - 1) / 2;
    for (int r = 0; r < R_; ++r) {
      for (int k = 0; k < K_; ++k) energies[r * K_ + k] = S_.energy(slot_at(k, r));
      int pair = 0;
      for (int a = 0; a < K_; ++a)
        for (int b = a + 1; b < K_; ++b) overlaps[r * pairs + pair++] = slot_overlap(S_, slot_at(a, r), slot_at(b, r), 0);
    }
  }

  // Whole slots (Sampler::slot_data_size() values each) out of and into the sampler.
  void save_slots(int first, int count, double* out) const {
    check_range(first, count);
    const std::size_t w = std::size_t(S_.slot_data_size());
    for (int s = first; s < first + count; ++s) S_.save_slot(s, out + std::size_t(s - first) * w);
  }
  void load_slots(int first, int count, const double* in) {
    check_range(first, count);
    const std::size_t w = std::size_t(S_.slot_data_size());
    for (int s = first; s < first + count; ++s) S_.load_slot(s, in + std::size_t(s - first) * w);
  }

  // n_sweeps sweeps, each followed by swap attempts; after every sweep whose
  // 1-based global index is a multiple of sample_every, writes the energies
  // (R x K, by temperature) and the overlaps of all ladder pairs (R x K(K-1)/2).
  // Returns the number of samples written.
  int run(int n_sweeps, int sample_every, double* energies_out, double* overlaps_out) {
    const std::uint64_t every = std::uint64_t(sample_every);
    const int samples = samples_in(n_sweeps, sample_every);
    if constexpr (has_ladder_sweeps<Sampler>::value) run_by_ladder(n_sweeps, every, energies_out, overlaps_out);
    else run_in_step(n_sweeps, every, energies_out, overlaps_out);
    return samples;
  }

 private:
  // Output row of the sample taken after `sweep` in a call that started at `start`.
  static int sample_index(std::uint64_t sweep, std::uint64_t start, std::uint64_t every) {
    return int((sweep + 1) / every - start / every) - 1;
  }

  template <class S, class = void>
  struct has_ladder_sweeps : std::false_type {};
  template <class S>
  struct has_ladder_sweeps<S, std::void_t<decltype(S::kSweepsByLadder)>> : std::bool_constant<S::kSweepsByLadder> {};

  // All slots advance together (samplers that batch every slot into one pass).
  void run_in_step(int n_sweeps, std::uint64_t every, double* energies_out, double* overlaps_out) {
    std::vector<double> beta_of_slot(std::size_t(R_) * K_);
    const int pairs = K_ * (K_ - 1) / 2;
    const std::uint64_t start = sweep_;
    for (int t = 0; t < n_sweeps; ++t) {
      const std::uint64_t sweep = start + std::uint64_t(t);
      for (int s = 0; s < R_ * K_; ++s) beta_of_slot[s] = betas_[temp_of_slot_[s]];
      S_.sweep_all(beta_of_slot.data(), temp_of_slot_.data(), sweep);
      for (int k = 0; k < K_; ++k) swap_labels(k, sweep, stats_.attempts.data(), stats_.accepts.data());
      if ((sweep + 1) % every != 0) continue;
      const int idx = sample_index(sweep, start, every);
      sample(energies_out + std::size_t(idx) * R_ * K_, overlaps_out + std::size_t(idx) * R_ * pairs);
    }
    sweep_ = start + std::uint64_t(n_sweeps);
  }

  // Ladders are independent between samples, so each runs the whole call on
  // one thread with no barrier per sweep (a per-sweep barrier stalls whenever
  // another process holds a core). Overlaps need the ladders at equal sweeps:
  // states are copied at sample times and compared afterwards.
  void run_by_ladder(int n_sweeps, std::uint64_t every, double* energies_out, double* overlaps_out) {
    const int n = S_.n(), pairs = K_ * (K_ - 1) / 2;
    const std::uint64_t start = sweep_;
    const int samples = samples_in(n_sweeps, int(every));
    std::vector<double> snapshots(K_ > 1 ? std::size_t(samples) * R_ * K_ * n : 0);
    std::vector<std::uint64_t> attempts(std::size_t(K_) * stats_.attempts.size(), 0),
        accepts(std::size_t(K_) * stats_.accepts.size(), 0);
    const double work = double(n_sweeps) * R_ * K_ * n;
    // Ladders that share a thread also share its sweeps: their slots (contiguous)
    // go through the sampler in lockstep, up to kLockstepSlots of them.
    const int group = std::clamp((K_ + max_threads() - 1) / max_threads(), 1, std::max(1, kLockstepSlots / R_));
    const int groups = (K_ + group - 1) / group;
#pragma omp parallel for schedule(dynamic, 1) if (groups > 1 && work > kMinParallelWork)
    for (int g = 0; g < groups; ++g) {
      const int k0 = g * group, k1 = std::min(K_, k0 + group);
      std::vector<double> beta_of_slot(std::size_t(k1 - k0) * R_);
      for (int t = 0; t < n_sweeps; ++t) {
        const std::uint64_t sweep = start + std::uint64_t(t);
        for (int a = 0; a < (k1 - k0) * R_; ++a) beta_of_slot[a] = betas_[temp_of_slot_[k0 * R_ + a]];
        S_.sweep_slots(k0 * R_, (k1 - k0) * R_, beta_of_slot.data(), sweep);
        for (int k = k0; k < k1; ++k)
          swap_labels(k, sweep, attempts.data() + std::size_t(k) * stats_.attempts.size(),
                      accepts.data() + std::size_t(k) * stats_.accepts.size());
        if ((sweep + 1) % every != 0) continue;
        const int idx = sample_index(sweep, start, every);
        for (int k = k0; k < k1; ++k)
          for (int r = 0; r < R_; ++r) {
            const int slot = slot_at(k, r);
            energies_out[(std::size_t(idx) * R_ + r) * K_ + k] = S_.energy(slot);
            if (K_ > 1) {
              double* dst = &snapshots[((std::size_t(idx) * R_ + r) * K_ + k) * n];
              const auto* x = S_.state(slot);
              for (int i = 0; i < n; ++i) dst[i] = double(x[i]);
            }
          }
      }
    }
    for (int k = 0; k < K_; ++k)
      for (std::size_t r = 0; r < stats_.attempts.size(); ++r) {
        stats_.attempts[r] += attempts[k * stats_.attempts.size() + r];
        stats_.accepts[r] += accepts[k * stats_.accepts.size() + r];
      }
    for (int idx = 0; idx < samples; ++idx)
      for (int r = 0; r < R_; ++r) {
        int pair = 0;
        for (int a = 0; a < K_; ++a)
          for (int b = a + 1; b < K_; ++b) {
            const double* x = &snapshots[((std::size_t(idx) * R_ + r) * K_ + a) * n];
            const double* y = &snapshots[((std::size_t(idx) * R_ + r) * K_ + b) * n];
            double dot = 0.0;
            for (int i = 0; i < n; ++i) dot += x[i] * y[i];
            overlaps_out[(std::size_t(idx) * R_ + r) * pairs + pair++] = dot / n;
          }
      }
    sweep_ = start + std::uint64_t(n_sweeps);
  }

 public:
  // Simulated annealing with one label (R = 1): sweeps_per_step sweeps at each
  // inverse temperature of the schedule, keeping for every slot the lowest energy
  // seen after any sweep (best_energy, slots) and its configuration (best_state,
  // slots x n, as double); trace (steps x slots) gets the energy after each step.
  // The same counters as run(), so it equals the step-by-step Python loop.
  // Interrupted (platform/interrupt.hpp): returns early with the sampler, the
  // sweep count and the outputs garbage; the caller discards the engine.
  void anneal(const std::vector<double>& schedule, int sweeps_per_step, double* best_energy, double* best_state,
              double* trace) {
    if (R_ != 1) throw std::invalid_argument("annealing needs a single temperature label");
    const int n = S_.n(), steps = int(schedule.size());
    const std::uint64_t start = sweep_;
    const Interrupt stop;  // polled after every sweep
    auto keep_best = [&](int slot) {
      if (S_.energy(slot) >= best_energy[slot]) return;
      best_energy[slot] = S_.energy(slot);
      const auto* x = S_.state(slot);
      for (int i = 0; i < n; ++i) best_state[std::size_t(slot) * n + i] = double(x[i]);
    };
    if constexpr (has_ladder_sweeps<Sampler>::value) {
      // Every run follows the same schedule, so groups of runs sweep in lockstep
      // (one load of a coupling row serves each run that flips that spin) and
      // groups go to threads. Grouping changes no run's trajectory.
      const double work = double(steps) * sweeps_per_step * K_ * n;
      const int group = std::clamp((K_ + max_threads() - 1) / max_threads(), 1, kLockstepSlots);
      const int groups = (K_ + group - 1) / group;
      parallel_tasks(groups, groups > 1 && work > kMinParallelWork, stop, [&](std::int64_t g) {
        const int first = int(g) * group, count = std::min(group, K_ - first);
        const InterruptShare share(stop);  // the sweeps poll inside too
        for (int step = 0; step < steps && !stop.stopped(); ++step) {
          const std::vector<double> beta(count, schedule[step]);
          for (int t = 0; t < sweeps_per_step; ++t) {
            S_.sweep_slots(first, count, beta.data(), start + std::uint64_t(step) * sweeps_per_step + t, stop);
            for (int k = first; k < first + count; ++k) keep_best(k);
            if (stop.stop(double(count) * n)) break;
          }
          for (int k = first; k < first + count; ++k) trace[std::size_t(step) * K_ + k] = S_.energy(k);
        }
      });
    } else {
      std::vector<double> beta_of_slot(K_);
      for (int step = 0; step < steps && !stop.stopped(); ++step) {
        set_betas({schedule[step]});
        std::fill(beta_of_slot.begin(), beta_of_slot.end(), schedule[step]);
        for (int t = 0; t < sweeps_per_step; ++t) {
          S_.sweep_all(beta_of_slot.data(), temp_of_slot_.data(), start + std::uint64_t(step) * sweeps_per_step + t);
          for (int k = 0; k < K_; ++k) keep_best(k);
          if (stop.stop(double(K_) * n)) break;
        }
        for (int k = 0; k < K_; ++k) trace[std::size_t(step) * K_ + k] = S_.energy(k);
      }
    }
    sweep_ = start + std::uint64_t(steps) * sweeps_per_step;
    set_betas({schedule.back()});
  }

 private:
  void check_range(int first, int count) const {
    if (first < 0 || count < 0 || first + count > R_ * K_) throw std::invalid_argument("slot range out of bounds");
  }

  // slot_of_temp for the given labels; throws unless they are a permutation within each ladder.
  std::vector<int> index_of(const std::vector<int>& temp_of_slot) const {
    std::vector<int> slot_of_temp(std::size_t(R_) * K_, -1);
    for (int s = 0; s < R_ * K_; ++s) {
      const int t = temp_of_slot[s];
      if (t < 0 || t >= R_ || slot_of_temp[std::size_t(s / R_) * R_ + t] != -1)
        throw std::invalid_argument("temperature labels must be a permutation within each ladder");
      slot_of_temp[std::size_t(s / R_) * R_ + t] = s;
    }
    return slot_of_temp;
  }

  // Round trip: lowest -> highest -> lowest temperature.
  void track_round_trip(int s) {
    const int t = temp_of_slot_[s];
    int& phase = stats_.phase[s];
    if (t == 0) {
      if (phase == 2) ++stats_.round_trips[s];
      phase = 1;
    } else if (t == R_ - 1 && phase == 1) {
      phase = 2;
    }
  }

  // Even pairs on even sweeps, odd pairs on odd sweeps (deterministic alternation).
  // Touches only ladder k's labels and the given counters, so ladders may swap concurrently.
  void swap_labels(int k, std::uint64_t sweep, std::uint64_t* attempts, std::uint64_t* accepts) {
    for (int r = int(sweep & 1); r + 1 < R_; r += 2) {
      const int a = slot_at(k, r), b = slot_at(k, r + 1);
      const double log_ratio = (betas_[r] - betas_[r + 1]) * (S_.energy(a) - S_.energy(b));
      ++attempts[r];
      bool accept = log_ratio >= 0.0;
      if (!accept) {
        const auto u = philox4x32_10(philox_counter(std::uint32_t(r), std::uint32_t(k), sweep, RandomPurpose::Swap), key_);
        accept = uniform32(u[0]) < std::exp(log_ratio);
      }
      if (!accept) continue;
      ++accepts[r];
      temp_of_slot_[a] = r + 1;
      temp_of_slot_[b] = r;
      slot_of_temp_[std::size_t(k) * R_ + r] = b;
      slot_of_temp_[std::size_t(k) * R_ + r + 1] = a;
      track_round_trip(a);
      track_round_trip(b);
    }
  }

  Sampler& S_;
  std::vector<double> betas_;
  int R_, K_;
  Philox4x32Key key_;
  std::uint64_t sweep_ = 0;
  std::vector<int> temp_of_slot_, slot_of_temp_;
  TemperingStats stats_;
};

}  // namespace pspin
