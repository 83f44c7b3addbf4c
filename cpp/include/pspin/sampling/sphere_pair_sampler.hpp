// Pair rotations with cached fields on the sphere |s|^2 = n: the alternative
// move that geodesic HMC (sphere_sampler.hpp) was chosen over. It is kept as
// the reference bench/bench_sphere_moves.py measures HMC against (the table in
// sphere_sampler.hpp is why HMC is the default) and as an option for small n;
// Python reaches it only as _core.SphericalPairTemperingF64/F32, from the bench
// and the tests, not through ParallelTempering.
//
// One sweep rotates the n/2 disjoint pairs (i, j) of a random matching (shared
// by all slots, drawn from Philox at (block, sweep)) by angles theta ~ U(-a, a),
// each slot its own angle and Metropolis test. The energy change along the
// rotation is exact from the fields h = -dH/ds, the 2 x 2 block of T(s, ., .)
// and the couplings among i, j; accepted moves update the fields of all sites.
// Works on dense symmetric coupling tensors (degrees 2 and 3, pure or mixed,
// either ensemble), n^3 values for degree 3. Per move the rows T[i], T[j]
// (2 n^2 values) are read once for all slots: a sweep costs 2 n^3 multiply-adds
// per slot. Energies and fields are recomputed from scratch (one batched pass)
// every kRefreshEvery sweeps, at fixed sweep indices.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "pspin/couplings/couplings.hpp"
#include "pspin/couplings/tuple_layout.hpp"
#include "pspin/kernels/fields.hpp"
#include "pspin/platform/parallel.hpp"
#include "pspin/random/philox.hpp"
#include "pspin/random/streams.hpp"

namespace pspin {

template <class T>
class SpherePairSampler {
 public:
  static constexpr std::uint64_t kRefreshEvery = 64;

  SpherePairSampler(const Couplings<T>& couplings, const T* initial, int slots, std::vector<double> betas,
                    std::uint64_t seed, double max_angle)
      : C_(couplings), n_(couplings.n()), slots_(slots), key_(philox_key(seed)) {
    couplings.require_whole("the pair-rotation sampler");
    if (slots < 1) throw std::invalid_argument("need at least one configuration");
    if (!(max_angle > 0) || !std::isfinite(max_angle)) throw std::invalid_argument("max_angle must be positive and finite");
    if (n_ < 2) throw std::invalid_argument("pair rotations need n >= 2");
    for (double b : betas)
      if (!(b > 0) || !std::isfinite(b)) throw std::invalid_argument("inverse temperatures must be positive and finite");
    const int R = int(betas.size());
    angle_.resize(R);
    for (int r = 0; r < R; ++r) angle_[r] = std::min(max_angle / std::sqrt(betas[r]), 3.141592653589793);
    attempts_.assign(R, 0.0);
    accepts_.assign(R, 0.0);
    build_dense();
    const std::size_t sn = std::size_t(slots_) * n_;
    s_.resize(sn);
    for (std::size_t k = 0; k < sn; ++k) s_[k] = double(initial[k]);
    for (int s = 0; s < slots_; ++s) {
      double* x = &s_[std::size_t(s) * n_];
      double nn = 0;
      for (int k = 0; k < n_; ++k) nn += x[k] * x[k];
      if (!(nn > 0) || !std::isfinite(nn)) throw std::invalid_argument("initial states must be finite and non-zero");
    }
    h_.resize(sn);
    e_.resize(slots_);
    refresh();
  }

  int n() const { return n_; }
  int slots() const { return slots_; }
  double energy(int slot) const { return e_[slot]; }
  const T* state(int slot) const {
    if constexpr (std::is_same_v<T, double>) return &s_[std::size_t(slot) * n_];
    else return &out_[std::size_t(slot) * n_];
  }
  double overlap(int a, int b) const {
    double acc = 0.0;
    for (int k = 0; k < n_; ++k) acc += s_[std::size_t(a) * n_ + k] * s_[std::size_t(b) * n_ + k];
    return acc / n_;
  }
  const std::vector<double>& step_sizes() const { return angle_; }
  void set_step_sizes(const std::vector<double>& a) {
    if (a.size() != angle_.size()) throw std::invalid_argument("need one step size per temperature");
    for (double x : a)
      if (!(x > 0) || !std::isfinite(x)) throw std::invalid_argument("step sizes must be positive and finite");
    angle_ = a;
  }
  const std::vector<double>& attempts() const { return attempts_; }
  const std::vector<double>& accepts() const { return accepts_; }

  std::vector<double> save_aux() const {
    std::vector<double> aux(h_);
    aux.insert(aux.end(), e_.begin(), e_.end());
    aux.insert(aux.end(), angle_.begin(), angle_.end());
    aux.insert(aux.end(), attempts_.begin(), attempts_.end());
    aux.insert(aux.end(), accepts_.begin(), accepts_.end());
    aux.insert(aux.end(), s_.begin(), s_.end());
    return aux;
  }
  void restore(const T*, const std::vector<double>& aux) {
    const std::size_t sn = s_.size(), R = angle_.size();
    if (aux.size() != 2 * sn + e_.size() + 3 * R) throw std::invalid_argument("checkpoint data of the wrong size");
    auto it = aux.begin();
    std::copy(it, it + sn, h_.begin());
    it += sn;
    std::copy(it, it + e_.size(), e_.begin());
    it += e_.size();
    std::copy(it, it + R, angle_.begin());
    it += R;
    std::copy(it, it + R, attempts_.begin());
    it += R;
    std::copy(it, it + R, accepts_.begin());
    it += R;
    std::copy(it, it + sn, s_.begin());
    sync_out();
  }

  void sweep_all(const double* beta_of_slot, const int* temp_of_slot, std::uint64_t sweep) {
    if (sweep > 0 && sweep % kRefreshEvery == 0) refresh();
    std::vector<int> order(n_);
    pair_order(sweep, order.data());
    const int* r_of = temp_of_slot;
    ui_.resize(std::size_t(slots_) * n_);
    uj_.resize(std::size_t(slots_) * n_);
    std::vector<double> di(slots_), dj(slots_);
    std::vector<char> acc(slots_);
    const bool par = double(slots_) * n_ * n_ * 4 > kMinParallelWork;
    for (int m = 0; 2 * m + 1 < n_; ++m) {
      const int i = order[2 * m], j = order[2 * m + 1];
      // u_i = T[i] . s, u_j = T[j] . s for every slot (degree 3), rows shared by the batch.
      if (t3_) {
        const T* Ti = t3_.get() + std::size_t(i) * n_ * n_;
        const T* Tj = t3_.get() + std::size_t(j) * n_ * n_;
#pragma omp parallel for schedule(static) if (par)
        for (int k = 0; k < n_; ++k) {
          const T* a = Ti + std::size_t(k) * n_;
          const T* b = Tj + std::size_t(k) * n_;
          for (int s = 0; s < slots_; ++s) {
            const double* x = &s_[std::size_t(s) * n_];
            double ra = 0, rb = 0;
#pragma omp simd reduction(+ : ra, rb)
            for (int l = 0; l < n_; ++l) {
              ra += double(a[l]) * x[l];
              rb += double(b[l]) * x[l];
            }
            ui_[std::size_t(s) * n_ + k] = ra;
            uj_[std::size_t(s) * n_ + k] = rb;
          }
        }
      }
      int any = 0;
      for (int s = 0; s < slots_; ++s) {
        const auto u = philox4x32_10(philox_counter(std::uint32_t(m), std::uint32_t(s), sweep, RandomPurpose::SphereMomentum), key_);
        const int r = r_of[s];
        const double theta = angle_[r] * (2.0 * uniform_open0(u[0], u[1]) - 1.0);
        double* x = &s_[std::size_t(s) * n_];
        const double c = std::cos(theta), sn = std::sin(theta);
        const double a = (c - 1.0) * x[i] - sn * x[j], b = sn * x[i] + (c - 1.0) * x[j];
        double quad_ii = 0, quad_ij = 0, quad_jj = 0, cubic = 0;
        if (t3_) {
          const double* ui = &ui_[std::size_t(s) * n_];
          const double* uj = &uj_[std::size_t(s) * n_];
          quad_ii += ui[i];
          quad_ij += ui[j];
          quad_jj += uj[j];
          cubic = (t3(i, i, i) * a * a * a + 3.0 * t3(i, i, j) * a * a * b + 3.0 * t3(i, j, j) * a * b * b +
                   t3(j, j, j) * b * b * b) / 6.0;
        }
        if (w2_) {
          quad_ii += w2(i, i);
          quad_ij += w2(i, j);
          quad_jj += w2(j, j);
        }
        const double* h = &h_[std::size_t(s) * n_];
        const double dE = -(a * h[i] + b * h[j] + 0.5 * (a * a * quad_ii + 2.0 * a * b * quad_ij + b * b * quad_jj) + cubic);
        attempts_[r] += 1.0;
        const double x_acc = -beta_of_slot[s] * dE;
        acc[s] = x_acc >= 0 || std::log(uniform_open0(u[2], u[3])) < x_acc;
        if (!acc[s]) continue;
        accepts_[r] += 1.0;
        any = 1;
        di[s] = a;
        dj[s] = b;
        e_[s] += dE;
      }
      if (!any) continue;
#pragma omp parallel for schedule(static) if (par)
      for (int s = 0; s < slots_; ++s) {
        if (!acc[s]) continue;
        const double a = di[s], b = dj[s];
        double* h = &h_[std::size_t(s) * n_];
        if (t3_) {
          const double* ui = &ui_[std::size_t(s) * n_];
          const double* uj = &uj_[std::size_t(s) * n_];
          const T* Tii = t3_.get() + (std::size_t(i) * n_ + i) * n_;
          const T* Tij = t3_.get() + (std::size_t(i) * n_ + j) * n_;
          const T* Tjj = t3_.get() + (std::size_t(j) * n_ + j) * n_;
          const double aa = 0.5 * a * a, ab = a * b, bb = 0.5 * b * b;
          for (int k = 0; k < n_; ++k)
            h[k] += a * ui[k] + b * uj[k] + aa * double(Tii[k]) + ab * double(Tij[k]) + bb * double(Tjj[k]);
        }
        if (w2_) {
          const T* Wi = w2_.get() + std::size_t(i) * n_;
          const T* Wj = w2_.get() + std::size_t(j) * n_;
          for (int k = 0; k < n_; ++k) h[k] += a * double(Wi[k]) + b * double(Wj[k]);
        }
        double* x = &s_[std::size_t(s) * n_];
        x[i] += a;
        x[j] += b;
      }
    }
    sync_out();
  }

 private:
  double t3(int a, int b, int c) const { return double(t3_[(std::size_t(a) * n_ + b) * n_ + c]); }
  double w2(int a, int b) const { return double(w2_[std::size_t(a) * n_ + b]); }

  // Fisher-Yates from Philox at (draw / 4, ~0u, sweep): the same matching for every slot.
  void pair_order(std::uint64_t sweep, int* order) const {
    for (int k = 0; k < n_; ++k) order[k] = k;
    Philox4x32Counter draws{};
    for (int i = n_ - 1, used = 4; i > 0; --i, ++used) {
      if (used == 4) {
        draws = philox4x32_10(philox_counter(std::uint32_t(n_ - 1 - i) / 4, ~0u, sweep, RandomPurpose::SphereAccept), key_);
        used = 0;
      }
      const int j = int((std::uint64_t(draws[used]) * std::uint64_t(i + 1)) >> 32);
      std::swap(order[i], order[j]);
    }
  }

  // Dense symmetric tensors with H = -sum_p (1/p!) T_p(s, ..., s): an entry of
  // tuple t is K_t times the product of its multiplicities' factorials.
  void build_dense() {
    for (int blk = 0; blk < C_.n_blocks(); ++blk) {
      const auto& B = C_.block(blk);
      const TupleLayout& L = B.layout;
      if (L.p != 2 && L.p != 3) throw std::invalid_argument("pair rotations support degrees 2 and 3 only");
      const T* v = B.values.get();
      if (L.p == 3) {
        const double bytes = double(n_) * n_ * n_ * sizeof(T);
        if (bytes > 4.0e9) throw std::invalid_argument("pair rotations need a dense n^3 tensor: too large for this n");
        t3_.reset(new T[std::size_t(n_) * n_ * n_]());
        for (RowCursor row(L, 0, L.first_index_end()); row.valid(); row.advance()) {
          const int a = row.prefix[0], b = row.prefix[1];
          for (int k = row.lo(); k < n_; ++k) {
            const double f = (a == b && b == k) ? 6.0 : (a == b || b == k) ? 2.0 : 1.0;
            const T val = T(double(v[row.offset + std::uint64_t(k - row.lo())]) * f);
            const int idx[6][3] = {{a, b, k}, {a, k, b}, {b, a, k}, {b, k, a}, {k, a, b}, {k, b, a}};
            for (const auto& q : idx) t3_[(std::size_t(q[0]) * n_ + q[1]) * n_ + q[2]] = val;
          }
        }
      } else {
        w2_.reset(new T[std::size_t(n_) * n_]());
        for (RowCursor row(L, 0, L.first_index_end()); row.valid(); row.advance()) {
          const int a = row.prefix[0];
          for (int k = row.lo(); k < n_; ++k) {
            const T val = T(double(v[row.offset + std::uint64_t(k - row.lo())]) * (a == k ? 2.0 : 1.0));
            w2_[std::size_t(a) * n_ + k] = val;
            w2_[std::size_t(k) * n_ + a] = val;
          }
        }
      }
    }
  }

  // States back to radius sqrt(n), then fields and energies from scratch (one batched pass).
  void refresh() {
    for (int s = 0; s < slots_; ++s) {
      double* x = &s_[std::size_t(s) * n_];
      double nn = 0;
      for (int k = 0; k < n_; ++k) nn += x[k] * x[k];
      const double c = std::sqrt(double(n_) / nn);
      for (int k = 0; k < n_; ++k) x[k] *= c;
    }
    std::vector<int> rows(slots_);
    std::iota(rows.begin(), rows.end(), 0);
    fields_of_rows(C_, s_.data(), rows.data(), slots_, h_.data(), e_.data());
    sync_out();
  }

  void sync_out() {
    if constexpr (!std::is_same_v<T, double>) {
      out_.resize(s_.size());
      for (std::size_t k = 0; k < s_.size(); ++k) out_[k] = T(s_[k]);
    }
  }

  const Couplings<T>& C_;
  int n_, slots_;
  Philox4x32Key key_;
  std::vector<double> angle_, attempts_, accepts_;
  std::vector<double> s_, h_, e_, ui_, uj_;
  std::unique_ptr<T[]> t3_, w2_;
  std::vector<T> out_;
};

}  // namespace pspin
