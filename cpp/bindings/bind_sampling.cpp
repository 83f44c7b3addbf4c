// Parallel tempering engines. Arguments are validated in python/pspin/sampling/;
// run() releases the GIL and is called in chunks, between which Python shows
// progress, writes checkpoints and answers Ctrl-C.
#include <cmath>
#include <cstring>

#include "pspin/sampling/ising_sampler.hpp"
#include "pspin/sampling/sphere_pair_sampler.hpp"
#include "pspin/sampling/sphere_sampler.hpp"
#include "pspin/sampling/tempering.hpp"
#include "interrupt.hpp"
#include "pybind11.hpp"

namespace {

template <class T>
using Array = py::array_t<T, py::array::c_style | py::array::forcecast>;

// A sampler and the tempering driver over it, bound to Python as one object.
template <class Sampler>
struct Engine {
  Sampler sampler;
  pspin::Tempering<Sampler> pt;
  template <class... Args>
  Engine(std::vector<double> betas, int ladders, std::uint64_t seed_swaps, Args&&... sampler_args)
      : sampler(std::forward<Args>(sampler_args)...), pt(sampler, std::move(betas), ladders, seed_swaps) {}
};

template <class T>
int checked_slots(const pspin::Couplings<T>& c, const Array<T>& initial, const std::vector<double>& betas, int ladders) {
  const int slots = int(betas.size()) * ladders;
  if (initial.ndim() != 2 || initial.shape(0) != slots || initial.shape(1) != c.n())
    throw std::invalid_argument("initial states must have shape (temperatures * replicas, n)");
  return slots;
}

// The Python face shared by every engine: run in chunks, read and restore state.
template <class T, class E, class Init>
py::class_<E> bind_engine(py::module_& m, const char* name, Init init) {
  return py::class_<E>(m, name)
      .def(std::move(init), py::keep_alive<1, 2>())
      .def("run", [](E& e, int n_sweeps, int sample_every) {
             const int R = e.pt.temperatures(), K = e.pt.ladders(), pairs = K * (K - 1) / 2;
             const int samples = e.pt.samples_in(n_sweeps, sample_every);
             py::array_t<double> energies({samples, R, K}), overlaps({samples, R, pairs});
             double* ep = energies.mutable_data();
             double* qp = overlaps.mutable_data();
             {
               py::gil_scoped_release release;
               e.pt.run(n_sweeps, sample_every, ep, qp);
             }
             return py::make_tuple(energies, overlaps);
           }, py::arg("n_sweeps"), py::arg("sample_every"),
           "n_sweeps sweeps with swaps; returns energies (samples, R, K) and overlaps (samples, R, K(K-1)/2).")
      .def("states", [](const E& e) {
             const int S = e.sampler.slots(), n = e.sampler.n();
             py::array_t<T> out({S, n});
             for (int s = 0; s < S; ++s)
               std::memcpy(out.mutable_data() + std::size_t(s) * n, e.sampler.state(s), n * sizeof(T));
             return out;
           })
      .def("energies", [](const E& e) {
             py::array_t<double> out(e.sampler.slots());
             for (int s = 0; s < e.sampler.slots(); ++s) out.mutable_data()[s] = e.sampler.energy(s);
             return out;
           })
      .def("aux", [](const E& e) {
             const auto a = e.sampler.save_aux();
             return py::array_t<double>(a.size(), a.data());
           }, "Sampler state besides the configurations (cached fields, energies, step sizes).")
      .def("temp_of_slot", [](const E& e) { return py::array_t<int>(e.pt.temp_of_slot().size(), e.pt.temp_of_slot().data()); })
      .def_property_readonly("sweeps_done", [](const E& e) { return e.pt.sweeps_done(); })
      .def("anneal", [](E& e, std::vector<double> schedule, int sweeps_per_step) {
             const int S = e.sampler.slots(), n = e.sampler.n(), steps = int(schedule.size());
             if (steps < 1 || sweeps_per_step < 1) throw std::invalid_argument("empty schedule or sweeps_per_step < 1");
             py::array_t<double> best_e(S), best_x({S, n}), trace({steps, S});
             double* be = best_e.mutable_data();
             double* bx = best_x.mutable_data();
             for (int s = 0; s < S; ++s) {
               be[s] = e.sampler.energy(s);
               const auto* x = e.sampler.state(s);
               for (int i = 0; i < n; ++i) bx[std::size_t(s) * n + i] = double(x[i]);
             }
             double* tr = trace.mutable_data();
             pspin_py::PyInterrupt interrupt;
             {
               py::gil_scoped_release release;
               e.pt.anneal(schedule, sweeps_per_step, be, bx, tr);
             }
             interrupt.raise_if_stopped();
             return py::make_tuple(best_e, best_x, trace);
           }, py::arg("schedule"), py::arg("sweeps_per_step"),
           "Simulated annealing (one label): best energies (slots,), their states (slots, n), energy trace (steps, slots).\n"
           "Interrupted by a signal handler's exception (Ctrl-C), it raises that exception and the engine\n"
           "is left invalid: discard it.")
      .def("betas", [](const E& e) { return py::array_t<double>(e.pt.betas().size(), e.pt.betas().data()); })
      .def("set_betas", [](E& e, const std::vector<double>& betas) { e.pt.set_betas(betas); }, py::arg("betas"))
      .def("stats", [](const E& e) {
             const auto& st = e.pt.stats();
             py::dict d;
             d["attempts"] = py::array_t<std::uint64_t>(st.attempts.size(), st.attempts.data());
             d["accepts"] = py::array_t<std::uint64_t>(st.accepts.size(), st.accepts.data());
             d["round_trips"] = py::array_t<std::uint64_t>(st.round_trips.size(), st.round_trips.data());
             d["phase"] = py::array_t<int>(st.phase.size(), st.phase.data());
             return d;
           })
      .def("restore", [](E& e, const Array<T>& states, std::vector<double> aux, std::vector<int> temp_of_slot,
                         std::uint64_t sweeps, std::vector<std::uint64_t> attempts, std::vector<std::uint64_t> accepts,
                         std::vector<std::uint64_t> round_trips, std::vector<int> phase) {
             const std::size_t S = std::size_t(e.sampler.slots()), n = std::size_t(e.sampler.n());
             if (std::size_t(states.size()) != S * n) throw std::invalid_argument("checkpoint states have the wrong size");
             const pspin::TemperingStats stats{attempts, accepts, round_trips, phase};
             e.pt.check_restore(temp_of_slot, stats);  // before anything is overwritten
             e.sampler.restore(states.data(), aux);
             e.pt.restore(temp_of_slot, sweeps, stats);
           });
}

// The steps of a run split over processes (python/pspin/mpi/tempering.py), which
// exchanges what they return between its own calls.
template <class E>
void bind_distributed(py::class_<E>& c) {
  using PT = decltype(E::pt);
  c.def("sweep_own", [](E& e, int first, int count) {
         if (first < 0 || count < 0 || first + count > e.sampler.slots()) throw std::invalid_argument("slot range out of bounds");
         py::array_t<double> out({count, PT::kOutcomeSize});
         double* p = out.mutable_data();
         {
           py::gil_scoped_release release;
           e.pt.sweep_own(first, count, p);
         }
         return out;
       }, py::arg("first"), py::arg("count"),
       "One sweep of slots [first, first + count) only; returns their outcomes (count, width) for finish_sweep.")
      .def("finish_sweep", [](E& e, const Array<double>& outcomes) {
             if (outcomes.ndim() != 2 || outcomes.shape(0) != e.sampler.slots() || outcomes.shape(1) != PT::kOutcomeSize)
               throw std::invalid_argument("need the outcomes of every slot, shape (slots, width)");
             e.pt.finish_sweep(outcomes.data());
           }, py::arg("outcomes"), "Tallies and swaps from the outcomes of every slot's sweep; the sweep count moves on.")
      .def("sample", [](const E& e) {
             const int R = e.pt.temperatures(), K = e.pt.ladders();
             py::array_t<double> energies({R, K}), overlaps({R, K * (K - 1) / 2});
             e.pt.sample(energies.mutable_data(), overlaps.mutable_data());
             return py::make_tuple(energies, overlaps);
           }, "Energies (R, K) and overlaps (R, K(K-1)/2) of the current slots, as run() records them.")
      .def("save_slots", [](const E& e, int first, int count) {
             if (first < 0 || count < 0 || first + count > e.sampler.slots()) throw std::invalid_argument("slot range out of bounds");
             py::array_t<double> out({count, e.sampler.slot_data_size()});
             e.pt.save_slots(first, count, out.mutable_data());
             return out;
           }, py::arg("first"), py::arg("count"), "Whole slots (count, 2n + 1): positions, fields, energies.")
      .def("load_slots", [](E& e, int first, const Array<double>& data) {
             if (data.ndim() != 2 || data.shape(1) != e.sampler.slot_data_size())
               throw std::invalid_argument("slot data must have shape (count, 2n + 1)");
             e.pt.load_slots(first, int(data.shape(0)), data.data());
           }, py::arg("first"), py::arg("data"), "Overwrite slots [first, first + len(data)) with save_slots() data.");
}

template <class T>
void bind_ising(py::module_& m, const char* name) {
  using E = Engine<pspin::IsingSampler<T>>;
  auto cls = bind_engine<T, E>(m, name, py::init([](const pspin::Couplings<T>& c, const Array<T>& initial, std::vector<double> betas,
                                         int ladders, std::uint64_t seed_moves, std::uint64_t seed_swaps,
                                         pspin::IsingUpdate update) {
    const int slots = checked_slots(c, initial, betas, ladders);
    const T* x = initial.data();
    pspin_py::PyInterrupt interrupt;  // Ctrl-C while building the fields: no engine
    std::unique_ptr<E> engine;
    {
      py::gil_scoped_release release;
      engine = std::make_unique<E>(std::move(betas), ladders, seed_swaps, c, x, slots, seed_moves, update);
    }
    interrupt.raise_if_stopped();
    return engine;
  }));
  bind_distributed(cls);
}

// Spherical models: geodesic HMC (pspin/sampling/sphere_sampler.hpp). One sweep is one
// trajectory of leapfrog_steps steps; step_size is eps at T = 1, eps(T) =
// min(step_size sqrt(T), (pi/2) / leapfrog_steps) until set_step_sizes().
template <class T>
void bind_spherical(py::module_& m, const char* name) {
  using E = Engine<pspin::SphereSampler<T>>;
  auto cls = bind_engine<T, E>(m, name, py::init([](const pspin::Couplings<T>& c, const Array<T>& initial, std::vector<double> betas,
                                         int ladders, std::uint64_t seed_moves, std::uint64_t seed_swaps,
                                         int leapfrog_steps, double step_size) {
    const int slots = checked_slots(c, initial, betas, ladders);
    const T* x = initial.data();
    std::vector<double> b = betas;
    pspin_py::PyInterrupt interrupt;  // Ctrl-C while building the fields: no engine
    std::unique_ptr<E> engine;
    {
      py::gil_scoped_release release;
      engine = std::make_unique<E>(std::move(betas), ladders, seed_swaps, c, x, slots, std::move(b), seed_moves,
                               leapfrog_steps, step_size);
    }
    interrupt.raise_if_stopped();
    return engine;
  }))
      .def("step_sizes", [](const E& e) {
             const auto& s = e.sampler.step_sizes();
             return py::array_t<double>(s.size(), s.data());
           }, "Leapfrog step size per temperature index (before the per-trajectory jitter in [0.9, 1.1]).")
      .def("set_step_sizes", [](E& e, std::vector<double> eps) { e.sampler.set_step_sizes(eps); }, py::arg("eps"),
           "Replace the step size per temperature index. Burn-in only: adapting while measuring breaks detailed balance.")
      .def_property_readonly("leapfrog_steps", [](const E& e) { return e.sampler.leapfrog_steps(); })
      .def("acceptance", [](const E& e) {
             const auto& a = e.sampler.attempts();
             const auto& k = e.sampler.accepts();
             const auto& p = e.sampler.accept_prob_sum();
             py::dict d;
             d["attempts"] = py::array_t<double>(a.size(), a.data());
             d["accepts"] = py::array_t<double>(k.size(), k.data());
             d["accept_prob_sum"] = py::array_t<double>(p.size(), p.data());
             return d;
           }, "Per temperature index, cumulative since the start (restored from checkpoints): trajectories "
              "attempted, accepted, and the sum of min(1, exp(-dH)).");
  bind_distributed(cls);
}

// Pair rotations with cached fields (dense n^3 couplings; degrees 2 and 3): the
// measured alternative to HMC, see pspin/sampling/sphere_pair_sampler.hpp.
// max_angle is the rotation half-width at T = 1, a(T) = min(max_angle sqrt(T), pi).
template <class T>
void bind_spherical_pairs(py::module_& m, const char* name) {
  using E = Engine<pspin::SpherePairSampler<T>>;
  bind_engine<T, E>(m, name, py::init([](const pspin::Couplings<T>& c, const Array<T>& initial, std::vector<double> betas,
                                         int ladders, std::uint64_t seed_moves, std::uint64_t seed_swaps,
                                         double max_angle) {
    const int slots = checked_slots(c, initial, betas, ladders);
    const T* x = initial.data();
    std::vector<double> b = betas;
    pspin_py::PyInterrupt interrupt;  // Ctrl-C while building the fields: no engine
    std::unique_ptr<E> engine;
    {
      py::gil_scoped_release release;
      engine = std::make_unique<E>(std::move(betas), ladders, seed_swaps, c, x, slots, std::move(b), seed_moves, max_angle);
    }
    interrupt.raise_if_stopped();
    return engine;
  }))
      .def("step_sizes", [](const E& e) {
             const auto& s = e.sampler.step_sizes();
             return py::array_t<double>(s.size(), s.data());
           }, "Rotation half-width per temperature index.")
      .def("set_step_sizes", [](E& e, std::vector<double> a) { e.sampler.set_step_sizes(a); }, py::arg("angles"))
      .def("acceptance", [](const E& e) {
             const auto& a = e.sampler.attempts();
             const auto& k = e.sampler.accepts();
             py::dict d;
             d["attempts"] = py::array_t<double>(a.size(), a.data());
             d["accepts"] = py::array_t<double>(k.size(), k.data());
             return d;
           }, "Per temperature index: pair moves attempted and accepted (cumulative).");
}

}  // namespace

// Largest |single - double precision threshold| over the given draws (x = 0,
// where both are +inf, skipped), per update rule: the bracket of
// flip_thresholds.hpp must contain this error with room to spare.
py::tuple flip_threshold_errors(py::array_t<std::uint32_t, py::array::c_style | py::array::forcecast> words) {
  const auto* x = words.data();
  const auto count = words.size();
  double metropolis = 0.0, heat_bath = 0.0;
  {
    py::gil_scoped_release release;
    for (py::ssize_t k = 0; k < count; ++k) {
      if (x[k] == 0) continue;
      using pspin::IsingUpdate;
      metropolis = std::max(metropolis, std::fabs(pspin::flip_threshold_single<IsingUpdate::Metropolis>(x[k]) -
                                                  pspin::flip_threshold<IsingUpdate::Metropolis>(x[k])));
      heat_bath = std::max(heat_bath, std::fabs(pspin::flip_threshold_single<IsingUpdate::HeatBath>(x[k]) -
                                                pspin::flip_threshold<IsingUpdate::HeatBath>(x[k])));
    }
  }
  return py::make_tuple(metropolis, heat_bath);
}

void bind_sampling(py::module_& m) {
  m.def("_flip_threshold_errors", &flip_threshold_errors, py::arg("words"),
        "Largest error of the single-precision flip thresholds over the given 32-bit draws "
        "(Metropolis, heat bath).");
  m.attr("_flip_threshold_bracket") = pspin::kThresholdBracket;
  // The update names users pass live in python/pspin/sampling/tempering.py only.
  py::enum_<pspin::IsingUpdate>(m, "IsingUpdate")
      .value("Metropolis", pspin::IsingUpdate::Metropolis)
      .value("HeatBath", pspin::IsingUpdate::HeatBath);
  bind_ising<double>(m, "IsingTemperingF64");
  bind_ising<float>(m, "IsingTemperingF32");
  bind_spherical<double>(m, "SphericalTemperingF64");
  bind_spherical<float>(m, "SphericalTemperingF32");
  bind_spherical_pairs<double>(m, "SphericalPairTemperingF64");
  bind_spherical_pairs<float>(m, "SphericalPairTemperingF32");
}
