// Exact Monte Carlo moves of spherical p-spin models (|s|^2 = n), for many
// configurations ("slots") at once: geodesic Hamiltonian Monte Carlo (Byrne &
// Girolami 2013, "Geodesic Monte Carlo on embedded manifolds").
//
// One sweep = one HMC trajectory per slot, at the slot's inverse temperature b:
//   v ~ N(0, 1) in R^n, projected on the tangent space at s;
//   L leapfrog steps of size eps, each
//     v += (eps/2) b P_s h(s)            (h = -dH/ds, P_s the tangent projector)
//     (s, v) <- exact geodesic flow for a time eps on the sphere of radius sqrt(n):
//       w = |v| / sqrt(n),  s' = cos(w eps) s + sin(w eps)/w v,
//       v' = -w sin(w eps) s + cos(w eps) v
//     v += (eps/2) b P_s' h(s');
//   accept with min(1, exp(-[b H(s') + |v'|^2/2 - b H(s) - |v|^2/2])).
// The flow is volume preserving and reversible, so the chain leaves
// exp(-b H(s)) ds (ds the uniform measure on the sphere) invariant exactly, for
// any step; the step only sets the acceptance. Rounding is repaired after each
// flow step (s rescaled to radius sqrt(n), v re-projected): |s|^2/n - 1 stays
// at 1e-16.
//
// Cost: the gradients of all slots at one leapfrog step come from ONE batched
// pass over the packed couplings (energy_and_fields, batch padded to the SIMD
// chunk so a slot's numbers never depend on the other slots); the gradient at
// the start of a trajectory is the cached one of the last accepted point. So a
// sweep is L coupling passes for all R*K slots together.
//
// Step size per temperature index r (the slot's current temperature label):
//   eps_r = min(step_size * sqrt(T_r), (pi/2) / L)   by default,
// i.e. eps ~ sqrt(T) (the stiffest tangent mode of b H has frequency ~ sqrt(b)
// to b), capped where free motion on the sphere would already turn s by pi/2
// in one trajectory (w ~ 1: the trajectory length L eps is the turning angle;
// beyond pi/2 it turns back towards s and -s). Each trajectory multiplies eps_r
// by a jitter uniform in [0.9, 1.1] (drawn independently of the state, so
// exactness is kept) to break resonances with the periodic free flow.
// set_step_sizes() replaces the eps_r: call it during burn-in only (adapting
// during measurement breaks detailed balance).
//
// Randomness: Philox at counters built from (slot, sweep, purpose), purposes
// SphereMomentum (normals via fill_normals, stream = slot, normal index =
// sweep * n + i) and SphereAccept (u[0]: accept, u[1]: jitter). No thread or
// batch dependence: results are bit-identical for any OMP_NUM_THREADS, and
// save_aux()/restore() resume bit-identically.
//
// Move choice (issue 5: "pair rotations with cached fields versus HMC on the
// sphere, by measured effective samples per second"). Both are implemented
// (SpherePairSampler in sphere_pair_sampler.hpp) and measured by
// bench/bench_sphere_moves.py:
// p = 3 isotropic, n = 128, 16 chains at one temperature, 1 thread of an idle
// 16-core Xeon, integrated autocorrelation time tau of the energy in sweeps
// (2500 sweeps) and ESS/s = chains * sweeps/s / tau:
//                     T = 1.0: tau  ESS/s     T = 0.7: tau  ESS/s
//   HMC L=4 eps0=0.30          6.0   1276              35.3    282
//   HMC L=5 eps0=0.25          4.9   1477              33.7    246
//   HMC L=8 eps0=0.20          4.5   1027              33.9    157
//   pairs a0=1.3              25.5    351              94.5    139
//   pairs a0=2.0              28.3    330             130.7     94
// HMC wins by 4x at T = 1 and 2x at T = 0.7 (near T_d = 0.61 both slow down),
// and needs only the packed couplings (n^3/6 values, any degree, mixed models),
// while pair rotations need a dense n^3 tensor (128 MiB at n = 256, 8 GiB at
// n = 1024) and degrees <= 3. HMC is the move; the pair sampler stays for
// comparison and small n. Recommended settings: L = 5, step_size = 0.25
// (acceptance ~0.85 at n = 128-256; per leapfrog pass L = 3-5 are equally
// good, L = 8 costs ~1.5x more). For the case (n = 256, 32 temperatures
// x 2 replicas, L = 5): 7.3-8.9 sweeps/s on one thread, 2-thread speed-up
// 1.60-1.93 (median 1.77 of four runs), 8 threads 5.8-6.6x.
#pragma once
#include <algorithm>
#include <cmath>
#include <numeric>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "pspin/kernels/fields.hpp"
#include "pspin/platform/parallel.hpp"
#include "pspin/random/gaussian.hpp"
#include "pspin/random/streams.hpp"

namespace pspin {

template <class T>
class SphereSampler {
 public:
  static constexpr double kHalfPi = 1.5707963267948966;

  SphereSampler(const Couplings<T>& couplings, const T* initial, int slots, std::vector<double> betas,
                std::uint64_t seed, int leapfrog_steps, double step_size)
      : C_(couplings), n_(couplings.n()), slots_(slots), L_(leapfrog_steps), key_(philox_key(seed)),
        betas_(std::move(betas)) {
    couplings.require_whole("the spherical sampler");
    if (slots < 1) throw std::invalid_argument("need at least one configuration");
    if (leapfrog_steps < 1) throw std::invalid_argument("leapfrog_steps must be >= 1");
    if (!(step_size > 0) || !std::isfinite(step_size)) throw std::invalid_argument("step_size must be positive and finite");
    const int R = int(betas_.size());
    if (R < 1) throw std::invalid_argument("need at least one temperature");
    for (double b : betas_)
      if (!(b > 0) || !std::isfinite(b)) throw std::invalid_argument("inverse temperatures must be positive and finite");
    eps_.resize(R);
    for (int r = 0; r < R; ++r) eps_[r] = std::min(step_size / std::sqrt(betas_[r]), kHalfPi / L_);
    attempts_.assign(R, 0.0);
    accepts_.assign(R, 0.0);
    accept_prob_.assign(R, 0.0);
    const std::size_t sn = std::size_t(slots_) * n_;
    s_.resize(sn);
    for (std::size_t k = 0; k < sn; ++k) s_[k] = double(initial[k]);
    for (int s = 0; s < slots_; ++s) {
      double* x = &s_[std::size_t(s) * n_];
      const double nn = dot(x, x);
      if (!(nn > 0) || !std::isfinite(nn)) throw std::invalid_argument("initial states must be finite and non-zero");
      scale_to_sphere(x);
    }
    h_.resize(sn);
    e_.resize(slots_);
    rows_.resize(slots_);
    std::iota(rows_.begin(), rows_.end(), 0);
    evaluate(s_.data(), e_.data(), h_.data());
    sync_out();
  }

  int n() const { return n_; }
  int slots() const { return slots_; }
  int leapfrog_steps() const { return L_; }
  double energy(int slot) const { return e_[slot]; }
  const T* state(int slot) const {
    if constexpr (std::is_same_v<T, double>) return &s_[std::size_t(slot) * n_];
    else return &out_[std::size_t(slot) * n_];
  }
  double overlap(int a, int b) const { return dot(&s_[std::size_t(a) * n_], &s_[std::size_t(b) * n_]) / n_; }

  const std::vector<double>& step_sizes() const { return eps_; }
  void set_step_sizes(const std::vector<double>& eps) {
    if (eps.size() != eps_.size()) throw std::invalid_argument("need one step size per temperature");
    for (double x : eps)
      if (!(x > 0) || !std::isfinite(x)) throw std::invalid_argument("step sizes must be positive and finite");
    eps_ = eps;
  }
  // Per temperature index: trajectories tried, accepted, and the sum of the
  // acceptance probabilities min(1, exp(-dH)) (a lower-variance estimate).
  const std::vector<double>& attempts() const { return attempts_; }
  const std::vector<double>& accepts() const { return accepts_; }
  const std::vector<double>& accept_prob_sum() const { return accept_prob_; }

  // Everything besides the states a bit-identical resume needs: cached fields
  // (slots x n), energies (slots), step sizes, acceptance counters (4 x R), and
  // for single precision the double-precision states (slots x n).
  std::vector<double> save_aux() const {
    std::vector<double> aux(h_);
    aux.insert(aux.end(), e_.begin(), e_.end());
    aux.insert(aux.end(), eps_.begin(), eps_.end());
    aux.insert(aux.end(), attempts_.begin(), attempts_.end());
    aux.insert(aux.end(), accepts_.begin(), accepts_.end());
    aux.insert(aux.end(), accept_prob_.begin(), accept_prob_.end());
    if constexpr (!std::is_same_v<T, double>) aux.insert(aux.end(), s_.begin(), s_.end());
    return aux;
  }
  void restore(const T* states, const std::vector<double>& aux) {
    const std::size_t sn = s_.size(), R = eps_.size();
    const std::size_t want = sn + e_.size() + 4 * R + (std::is_same_v<T, double> ? 0 : sn);
    if (aux.size() != want) throw std::invalid_argument("checkpoint data of the wrong size");
    for (std::size_t k = 0; k < R; ++k)
      if (!(aux[sn + e_.size() + k] > 0)) throw std::invalid_argument("checkpoint step sizes must be positive");
    auto it = aux.begin();
    std::copy(it, it + sn, h_.begin());
    it += sn;
    std::copy(it, it + e_.size(), e_.begin());
    it += e_.size();
    std::copy(it, it + R, eps_.begin());
    it += R;
    std::copy(it, it + R, attempts_.begin());
    it += R;
    std::copy(it, it + R, accepts_.begin());
    it += R;
    std::copy(it, it + R, accept_prob_.begin());
    it += R;
    if constexpr (std::is_same_v<T, double>) std::copy(states, states + sn, s_.begin());
    else std::copy(it, it + sn, s_.begin());
    sync_out();
  }

  void sweep_all(const double* beta_of_slot, const int* temp_of_slot, std::uint64_t sweep) {
    sweep_range(0, slots_, beta_of_slot, temp_of_slot, sweep);
    tally(temp_of_slot);
  }

  // One trajectory for slots [first, first + count) only (arrays indexed by slot, all
  // slots): a slot's numbers depend on its own state, label and counters alone, so a
  // process of a distributed run sweeping its share moves it exactly as sweep_all does.
  // The acceptance counters are left to tally(), which adds in slot order.
  void sweep_range(int first, int count, const double* beta_of_slot, const int* temp_of_slot, std::uint64_t sweep) {
    const std::size_t sn = s_.size();
    x_.resize(sn);
    v_.resize(sn);
    hx_.resize(sn);
    ex_.resize(slots_);
    prob_.resize(slots_);
    accepted_.resize(slots_);
    std::vector<double> eps(slots_), k0(slots_), u_acc(slots_);
    const int* r_of = temp_of_slot;
    const int last = first + count;
    // Per element: ~100 flops for the momenta (Philox + Box-Muller), ~20 per flow step.
    const bool par = count > 1 && double(count) * n_ * 64 > kMinParallelWork;
    for (int s = first; s < last; ++s) {
      const auto u = philox4x32_10(philox_counter(std::uint32_t(s), 0, sweep, RandomPurpose::SphereAccept), key_);
      u_acc[s] = uniform_open0(u[0], u[2]);  // in (0, 1]
      eps[s] = eps_[r_of[s]] * (0.9 + 0.2 * uniform32(u[1]));
    }
    // Momenta and the first half kick.
#pragma omp parallel for schedule(static) if (par)
    for (int s = first; s < last; ++s) {
      const std::size_t row = std::size_t(s) * n_;
      double* v = &v_[row];
      fill_normals(key_, std::uint32_t(s), std::uint32_t(RandomPurpose::SphereMomentum) << 24, sweep * std::uint64_t(n_),
                   n_, v);
      std::copy(&s_[row], &s_[row] + n_, &x_[row]);
      project(&x_[row], v);
      k0[s] = 0.5 * dot(v, v);
      kick(&x_[row], &h_[row], v, 0.5 * eps[s] * beta_of_slot[s]);
    }
    for (int l = 0; l < L_; ++l) {
#pragma omp parallel for schedule(static) if (par)
      for (int s = first; s < last; ++s) {
        const std::size_t row = std::size_t(s) * n_;
        if (l > 0) kick(&x_[row], &hx_[row], &v_[row], eps[s] * beta_of_slot[s]);
        geodesic(&x_[row], &v_[row], eps[s]);
      }
      evaluate(x_.data(), ex_.data(), hx_.data(), first, count);
    }
    // Last half kick, then accept or reject.
    for (int s = first; s < last; ++s) {
      const std::size_t row = std::size_t(s) * n_;
      const double b = beta_of_slot[s];
      double* v = &v_[row];
      kick(&x_[row], &hx_[row], v, 0.5 * eps[s] * b);
      const double dH = b * (ex_[s] - e_[s]) + 0.5 * dot(v, v) - k0[s];
      accepted_[s] = 0.0;
      prob_[s] = std::numeric_limits<double>::quiet_NaN();  // not counted by tally()
      if (!std::isfinite(dH)) continue;
      prob_[s] = dH <= 0 ? 1.0 : std::exp(-dH);
      if (!(dH <= 0 || std::log(u_acc[s]) < -dH)) continue;
      accepted_[s] = 1.0;
      std::copy(&x_[row], &x_[row] + n_, &s_[row]);
      std::copy(&hx_[row], &hx_[row] + n_, &h_[row]);
      e_[s] = ex_[s];
    }
    sync_out(first, count);
  }

  // The last sweep's trajectories into the per-temperature counters, slot by slot in
  // order (the sums of probabilities round the same whoever swept which slot).
  void tally(const int* temp_of_slot) {
    for (int s = 0; s < slots_; ++s) {
      const int r = temp_of_slot[s];
      attempts_[r] += 1.0;
      if (std::isnan(prob_[s])) continue;
      accept_prob_[r] += prob_[s];
      accepts_[r] += accepted_[s];
    }
  }

  // What the other processes of a distributed run need of a slot after its sweep: its
  // energy (swaps) and its trajectory's outcome (tally).
  static constexpr int kOutcomeSize = 3;
  void outcome(int slot, double* out) const {
    out[0] = e_[slot];
    out[1] = prob_[slot];
    out[2] = accepted_[slot];
  }
  void adopt_outcome(int slot, const double* in) {
    e_[slot] = in[0];
    prob_[slot] = in[1];
    accepted_[slot] = in[2];
  }

  // A slot's whole state (position, fields, energy: 2n + 1 values), to copy it between
  // the processes of a distributed run.
  int slot_data_size() const { return 2 * n_ + 1; }
  void save_slot(int slot, double* out) const {
    const std::size_t row = std::size_t(slot) * n_;
    std::copy(&s_[row], &s_[row] + n_, out);
    std::copy(&h_[row], &h_[row] + n_, out + n_);
    out[2 * n_] = e_[slot];
  }
  void load_slot(int slot, const double* in) {
    const std::size_t row = std::size_t(slot) * n_;
    std::copy(in, in + n_, &s_[row]);
    std::copy(in + n_, in + 2 * n_, &h_[row]);
    e_[slot] = in[2 * n_];
    sync_out(slot, 1);
  }

  // The tempering ladder moved (burn-in tuning): per-temperature settings stay
  // attached to the temperature index.
  void set_betas(const std::vector<double>& betas) {
    if (betas.size() != betas_.size()) throw std::invalid_argument("need one inverse temperature per label");
    // Steps scale as sqrt(T) (the thermal width), so a label moved to another
    // temperature keeps its acceptance; the (pi/2)/L cap still holds.
    for (std::size_t r = 0; r < betas.size(); ++r)
      eps_[r] = std::min(eps_[r] * std::sqrt(betas_[r] / betas[r]), kHalfPi / L_);
    betas_ = betas;
  }

 private:
  double dot(const double* a, const double* b) const {
    double acc = 0.0;
    for (int k = 0; k < n_; ++k) acc += a[k] * b[k];
    return acc;
  }
  void scale_to_sphere(double* x) const {
    const double c = std::sqrt(double(n_) / dot(x, x));
    for (int k = 0; k < n_; ++k) x[k] *= c;
  }
  // v <- v - (v.x / n) x, for x on the sphere.
  void project(const double* x, double* v) const {
    const double c = dot(x, v) / n_;
    for (int k = 0; k < n_; ++k) v[k] -= c * x[k];
  }
  // v += a * P_x h
  void kick(const double* x, const double* h, double* v, double a) const {
    const double c = dot(x, h) / n_;
    for (int k = 0; k < n_; ++k) v[k] += a * (h[k] - c * x[k]);
  }
  // Exact geodesic flow for a time t on the sphere of radius sqrt(n).
  void geodesic(double* x, double* v, double t) const {
    const double speed = std::sqrt(dot(v, v));
    if (speed > 0) {
      const double w = speed / std::sqrt(double(n_));
      const double c = std::cos(w * t), sn = std::sin(w * t);
      const double a = sn / w, b = -w * sn;
      for (int k = 0; k < n_; ++k) {
        const double xk = x[k], vk = v[k];
        x[k] = c * xk + a * vk;
        v[k] = b * xk + c * vk;
      }
    }
    scale_to_sphere(x);
    project(x, v);
  }

  // Energies and fields h = -dH/ds of all slots (rows of a slots x n array) in
  // one batched pass; the batch is padded to the SIMD chunk (never the B = 1
  // path), so a slot's result depends on its own state only.
  void evaluate(const double* X, double* energies, double* fields, int first = 0, int count = -1) {
    fields_of_rows(C_, X, rows_.data() + first, count < 0 ? slots_ : count, fields, energies);
  }


  void sync_out(int first = 0, int count = -1) {
    if constexpr (!std::is_same_v<T, double>) {
      out_.resize(s_.size());
      const std::size_t end = count < 0 ? s_.size() : std::size_t(first + count) * n_;
      for (std::size_t k = std::size_t(first) * n_; k < end; ++k) out_[k] = T(s_[k]);
    }
  }

  const Couplings<T>& C_;
  int n_, slots_, L_;
  Philox4x32Key key_;
  std::vector<double> betas_, eps_, attempts_, accepts_, accept_prob_;
  std::vector<double> s_, h_, e_;         // states (double), fields, energies
  std::vector<double> x_, v_, hx_, ex_;   // trajectory scratch
  std::vector<double> prob_, accepted_;   // per slot, the last trajectory: min(1, e^-dH) (NaN: dH not finite), 0/1
  std::vector<T> out_;
  std::vector<int> rows_;
};

}  // namespace pspin
