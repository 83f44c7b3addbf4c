// Batched descent on the sphere |s|^2 = n: Riemannian gradient descent (the
// gradient flow the theory describes, with a fixed step) and Riemannian L-BFGS
// with an Armijo backtracking line search (to reach minima fast).
//
// Every start is independent: its iterates depend only on its own data, so the
// result is identical for any thread count, batch size or number of starts. Each
// iteration evaluates all starts that still need a point in one pass over the
// couplings. The optimiser state is double precision whatever the couplings' type.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "pspin/kernels/fields.hpp"
#include "pspin/platform/interrupt.hpp"

namespace pspin {

enum class SphereMethod { GradientDescent, LBFGS };

template <class T>
class SphereDescent {
 public:
  SphereDescent(const Couplings<T>& couplings, const double* initial, int n_starts, SphereMethod method,
                double step, int memory, double gtol, int record_every)
      : C_(couplings), n_(couplings.n()), b_(n_starts), method_(method), step_(step), memory_(memory),
        gtol_(gtol), record_every_(record_every) {
    if (n_starts < 1) throw std::invalid_argument("n_starts must be >= 1");
    if (!(step > 0) || !(gtol > 0) || memory < 1) throw std::invalid_argument("step, gtol and memory must be positive");
    const std::size_t bn = std::size_t(b_) * n_;
    s_.assign(initial, initial + bn);
    g_.assign(bn, 0.0);
    d_.assign(bn, 0.0);
    trial_.assign(bn, 0.0);
    g_trial_.assign(bn, 0.0);
    e_.assign(b_, 0.0);
    e_trial_.assign(b_, 0.0);
    t_.assign(b_, 0.0);
    slope_.assign(b_, 0.0);
    backtracks_.assign(b_, 0);
    iterations_.assign(b_, 0);
    state_.assign(b_, State::Active);
    trajectory_.assign(b_, {});
    if (method_ == SphereMethod::LBFGS) {
      hist_s_.assign(bn * memory_, 0.0);
      hist_y_.assign(bn * memory_, 0.0);
      hist_rho_.assign(std::size_t(b_) * memory_, 0.0);
      hist_len_.assign(b_, 0);
      hist_head_.assign(b_, 0);
    }
    for (int i = 0; i < b_; ++i) normalise(&s_[std::size_t(i) * n_]);
    std::vector<int> all(b_);
    for (int i = 0; i < b_; ++i) all[i] = i;
    evaluate(all, s_.data(), e_.data(), g_.data());
    for (int i = 0; i < b_; ++i) {
      record(i);
      check_converged(i);
    }
  }

  // Runs up to max_steps iterations of every active start; returns how many are still active.
  // Interrupted (platform/interrupt.hpp): returns early, and the descent's state is
  // garbage; the caller discards the object.
  int run(int max_steps) {
    const Interrupt stop;
    for (int step = 0; step < max_steps && !stop.stop(0.0); ++step) {
      std::vector<int> active = starts_in(State::Active);
      if (active.empty()) break;
      if (method_ == SphereMethod::GradientDescent) gd_iteration(active);
      else lbfgs_iteration(active);
    }
    return int(starts_in(State::Active).size());
  }

  int n() const { return n_; }
  int n_starts() const { return b_; }
  const std::vector<double>& states() const { return s_; }
  const std::vector<double>& energies() const { return e_; }
  const std::vector<int>& iterations() const { return iterations_; }
  const std::vector<std::vector<double>>& trajectory() const { return trajectory_; }
  double grad_norm(int i) const { return norm(&g_[std::size_t(i) * n_]) / std::sqrt(double(n_)); }
  bool converged(int i) const { return state_[i] == State::Converged; }
  bool failed(int i) const { return state_[i] == State::Failed; }

 private:
  enum class State { Active, Converged, Failed };

  double dot(const double* a, const double* b) const {
    double acc = 0.0;
    for (int k = 0; k < n_; ++k) acc += a[k] * b[k];
    return acc;
  }
  double norm(const double* a) const { return std::sqrt(dot(a, a)); }
  void normalise(double* x) const {
    const double scale = std::sqrt(double(n_)) / norm(x);
    for (int k = 0; k < n_; ++k) x[k] *= scale;
  }
  // Remove the component along the point x (tangent projection at x).
  void project(const double* x, double* v) const {
    const double c = dot(x, v) / dot(x, x);
    for (int k = 0; k < n_; ++k) v[k] -= c * x[k];
  }

  std::vector<int> starts_in(State st) const {
    std::vector<int> out;
    for (int i = 0; i < b_; ++i)
      if (state_[i] == st) out.push_back(i);
    return out;
  }

  // Energies and Riemannian gradients at points X[idx[j]] (rows of a b x n array).
  // fields_of_rows never takes the b = 1 path, so a start's iterates do not depend
  // on which other starts share the pass.
  void evaluate(const std::vector<int>& idx, const double* X, double* energies, double* grads) {
    const int m = int(idx.size());
    fields_of_rows(C_, X, idx.data(), m, grads, energies);
#pragma omp parallel for schedule(static) if (double(m) * n_ > kMinParallelWork)
    for (int j = 0; j < m; ++j) {
      double* g = grads + std::size_t(idx[j]) * n_;
      for (int k = 0; k < n_; ++k) g[k] = -g[k];
      project(X + std::size_t(idx[j]) * n_, g);
    }
  }

  void record(int i) {
    if (record_every_ > 0 && iterations_[i] % record_every_ == 0) trajectory_[i].push_back(e_[i] / n_);
  }
  void check_converged(int i) {
    if (grad_norm(i) < gtol_) state_[i] = State::Converged;
  }

  void retract(int i, double t) {
    const std::size_t row = std::size_t(i) * n_;
    for (int k = 0; k < n_; ++k) trial_[row + k] = s_[row + k] + t * d_[row + k];
    normalise(&trial_[row]);
  }

  void accept(int i) {
    const std::size_t row = std::size_t(i) * n_;
    std::copy(&trial_[row], &trial_[row] + n_, &s_[row]);
    std::copy(&g_trial_[row], &g_trial_[row] + n_, &g_[row]);
    e_[i] = e_trial_[i];
    ++iterations_[i];
    record(i);
    check_converged(i);
  }

  void gd_iteration(const std::vector<int>& active) {
#pragma omp parallel for schedule(static) if (double(active.size()) * n_ > kMinParallelWork)
    for (int j = 0; j < int(active.size()); ++j) {
      const int i = active[j];
      const std::size_t row = std::size_t(i) * n_;
      for (int k = 0; k < n_; ++k) d_[row + k] = -g_[row + k];
      retract(i, step_);
    }
    evaluate(active, trial_.data(), e_trial_.data(), g_trial_.data());
    for (int i : active) accept(i);
  }

  // Two-loop recursion on the start's history, all vectors projected onto the
  // current tangent space (vector transport by projection).
  void lbfgs_direction(int i) {
    const std::size_t row = std::size_t(i) * n_;
    double* d = &d_[row];
    const double* x = &s_[row];
    for (int k = 0; k < n_; ++k) d[k] = -g_[row + k];
    const int len = hist_len_[i];
    std::vector<double> alpha(len);
    auto slot = [&](int age) {  // age 0 = newest
      return (hist_head_[i] - 1 - age + memory_) % memory_;
    };
    for (int a = 0; a < len; ++a) {
      const int h = slot(a);
      double* sv = &hist_s_[(std::size_t(i) * memory_ + h) * n_];
      double* yv = &hist_y_[(std::size_t(i) * memory_ + h) * n_];
      project(x, sv);
      project(x, yv);
      const double sy = dot(sv, yv);
      hist_rho_[std::size_t(i) * memory_ + h] = sy > 0 ? 1.0 / sy : 0.0;
    }
    for (int a = 0; a < len; ++a) {
      const int h = slot(a);
      const double* sv = &hist_s_[(std::size_t(i) * memory_ + h) * n_];
      const double* yv = &hist_y_[(std::size_t(i) * memory_ + h) * n_];
      alpha[a] = hist_rho_[std::size_t(i) * memory_ + h] * dot(sv, d);
      for (int k = 0; k < n_; ++k) d[k] -= alpha[a] * yv[k];
    }
    if (len > 0) {
      const int h = slot(0);
      const double* sv = &hist_s_[(std::size_t(i) * memory_ + h) * n_];
      const double* yv = &hist_y_[(std::size_t(i) * memory_ + h) * n_];
      const double yy = dot(yv, yv);
      const double gamma = yy > 0 ? dot(sv, yv) / yy : 1.0;
      for (int k = 0; k < n_; ++k) d[k] *= gamma;
    }
    for (int a = len - 1; a >= 0; --a) {
      const int h = slot(a);
      const double* sv = &hist_s_[(std::size_t(i) * memory_ + h) * n_];
      const double* yv = &hist_y_[(std::size_t(i) * memory_ + h) * n_];
      const double beta = hist_rho_[std::size_t(i) * memory_ + h] * dot(yv, d);
      for (int k = 0; k < n_; ++k) d[k] += (alpha[a] - beta) * sv[k];
    }
    project(x, d);
    double slope = dot(d, &g_[row]);
    if (!(slope < -1e-12 * norm(d) * norm(&g_[row]))) {  // not a descent direction: restart
      hist_len_[i] = 0;
      for (int k = 0; k < n_; ++k) d[k] = -g_[row + k];
      slope = dot(d, &g_[row]);
    }
    slope_[i] = slope;
    // Without curvature information, a first step moving each spin by ~step.
    t_[i] = len > 0 ? 1.0 : std::min(1.0, step_ * std::sqrt(double(n_)) / norm(d));
    backtracks_[i] = 0;
  }

  // The step and gradient change of an accepted trial, called before accept()
  // moves the trial into s_ and g_.
  void remember(int i) {
    const std::size_t row = std::size_t(i) * n_;
    const int h = hist_head_[i];
    double* sv = &hist_s_[(std::size_t(i) * memory_ + h) * n_];
    double* yv = &hist_y_[(std::size_t(i) * memory_ + h) * n_];
    for (int k = 0; k < n_; ++k) {
      sv[k] = trial_[row + k] - s_[row + k];
      yv[k] = g_trial_[row + k] - g_[row + k];
    }
    project(&trial_[row], sv);
    project(&trial_[row], yv);
    const double sy = dot(sv, yv);
    if (sy <= 1e-12 * norm(sv) * norm(yv)) return;  // no positive curvature: keep the old history
    hist_head_[i] = (h + 1) % memory_;
    hist_len_[i] = std::min(hist_len_[i] + 1, memory_);
  }

  void lbfgs_iteration(const std::vector<int>& active) {
    constexpr double kArmijo = 1e-4;
    constexpr int kMaxBacktracks = 40;
#pragma omp parallel for schedule(static) if (double(active.size()) * n_ > kMinParallelWork)
    for (int j = 0; j < int(active.size()); ++j) lbfgs_direction(active[j]);
    std::vector<int> searching = active;
    const Interrupt stop;
    while (!searching.empty() && !stop.stopped()) {
      for (int i : searching) retract(i, t_[i]);
      evaluate(searching, trial_.data(), e_trial_.data(), g_trial_.data());
      std::vector<int> again;
      for (int i : searching) {
        // Rounding slack: near convergence the decrease is at the level of the
        // energy's rounding error, eps of the couplings' type times |H|.
        const double slack = 64.0 * double(std::numeric_limits<T>::epsilon()) * std::abs(e_[i]);
        if (e_trial_[i] <= e_[i] + kArmijo * t_[i] * slope_[i] + slack) {
          remember(i);
          accept(i);
        } else if (++backtracks_[i] > kMaxBacktracks) {
          // No decrease along a descent direction: the start sits at the
          // resolution of the arithmetic. It is converged only if gtol holds.
          if (hist_len_[i] > 0) {
            hist_len_[i] = 0;  // retry once from steepest descent next iteration
          } else {
            state_[i] = State::Failed;
          }
        } else {
          t_[i] *= 0.5;
          again.push_back(i);
        }
      }
      searching.swap(again);
    }
  }

  const Couplings<T>& C_;
  int n_, b_;
  SphereMethod method_;
  double step_;
  int memory_;
  double gtol_;
  int record_every_;
  std::vector<double> s_, g_, d_, trial_, g_trial_, e_, e_trial_, t_, slope_;
  std::vector<int> backtracks_, iterations_;
  std::vector<State> state_;
  std::vector<std::vector<double>> trajectory_;
  std::vector<double> hist_s_, hist_y_, hist_rho_;
  std::vector<int> hist_len_, hist_head_;
};

}  // namespace pspin
