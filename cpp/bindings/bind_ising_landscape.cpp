// Ising landscape: single-flip descent and exact enumeration of one-flip-stable
// states. Arguments are validated in python/pspin/landscape/_ising.py; the long
// calls release the GIL and are made in slices, so Python answers Ctrl-C
// between them.
#include <cstring>
#include <limits>
#include <string>

#include "pspin/landscape/ising_descent.hpp"
#include "pspin/landscape/ising_enumeration.hpp"
#include "interrupt.hpp"
#include "pybind11.hpp"

namespace {

template <class T>
using Array = py::array_t<T, py::array::c_style | py::array::forcecast>;

template <class T>
int batch_rows(const Array<T>& a, int n, const char* what) {
  if (a.ndim() != 2 || a.shape(1) != n || a.shape(0) < 1)
    throw std::invalid_argument(std::string(what) + " must have shape (b, " + std::to_string(n) + "), b >= 1");
  return int(a.shape(0));
}

template <class T>
void bind_dense(py::module_& m, const char* name) {
  using D = pspin::IsingDense<T>;
  py::class_<D>(m, name)
      .def(py::init([](const pspin::Couplings<T>& c) {
             pspin_py::PyInterrupt interrupt;
             std::unique_ptr<D> d;
             {
               py::gil_scoped_release release;
               d = std::make_unique<D>(c);
             }
             interrupt.raise_if_stopped();
             return d;
           }),
           py::arg("couplings"), "Dense couplings of an Ising model with degrees 2 and/or 3.")
      .def_property_readonly("n", [](const D& d) { return d.n; })
      .def(
          "descend",
          [](const D& d, const pspin::Couplings<T>& couplings, const Array<T>& initial, std::uint64_t first_start,
             pspin::IsingMethod method, std::int64_t max_iterations, std::int64_t record_every, std::uint64_t order_key) {
            const int n = d.n;
            if (couplings.n() != n) throw std::invalid_argument("couplings and dense couplings differ in n");
            const int b = batch_rows(initial, n, "initial states");
            if (max_iterations < 1 || record_every < 0) throw std::invalid_argument("bad iteration limits");
            pspin::IsingDescentSettings opt;
            opt.method = method;
            opt.max_iterations = max_iterations;
            opt.record_every = record_every;
            opt.order_key = order_key;
            Array<T> states({py::ssize_t(b), py::ssize_t(n)});
            std::memcpy(states.mutable_data(), initial.data(), sizeof(T) * std::size_t(b) * n);
            T* sp = states.mutable_data();
            std::vector<pspin::IsingDescentOutcome> out;
            pspin_py::PyInterrupt interrupt;
            {
              py::gil_scoped_release release;
              out = pspin::ising_descend_batch(couplings, d, sp, b, first_start, opt);
            }
            interrupt.raise_if_stopped();
            py::array_t<double> energies(b);
            py::array_t<std::int64_t> unstable(b), iterations(b);
            py::array_t<bool> converged(b);
            std::size_t longest = 0;
            for (int r = 0; r < b; ++r) {
              energies.mutable_at(r) = out[r].energy;
              unstable.mutable_at(r) = out[r].unstable;
              iterations.mutable_at(r) = out[r].iterations;
              converged.mutable_at(r) = out[r].converged;
              longest = std::max(longest, out[r].trajectory.size());
            }
            py::object trajectory = py::none();
            if (record_every > 0) {
              py::array_t<double> tr({py::ssize_t(b), py::ssize_t(longest)});
              double* tp = tr.mutable_data();
              std::fill(tp, tp + std::size_t(b) * longest, std::numeric_limits<double>::quiet_NaN());
              for (int r = 0; r < b; ++r)
                std::copy(out[r].trajectory.begin(), out[r].trajectory.end(), tp + std::size_t(r) * longest);
              trajectory = tr;
            }
            return py::make_tuple(states, energies, unstable, converged, iterations, trajectory);
          },
          py::arg("couplings"), py::arg("initial"), py::arg("first_start"), py::arg("method"),
          py::arg("max_iterations"), py::arg("record_every"), py::arg("order_key"),
          "Descend from each row of initial (b, n); start r uses the random orders of start first_start + r.\n"
          "couplings are the packed couplings the dense ones came from (fresh fields are computed from them).\n"
          "Returns (states, energies, unstable, converged, iterations, trajectory or None).");
}

}  // namespace

void bind_ising_landscape(py::module_& m) {
  // The method names users pass live in python/pspin/landscape/_ising.py only.
  py::enum_<pspin::IsingMethod>(m, "IsingMethod")
      .value("Greedy", pspin::IsingMethod::Greedy)
      .value("Random", pspin::IsingMethod::Random);
  bind_dense<double>(m, "IsingDenseF64");
  bind_dense<float>(m, "IsingDenseF32");
  using E = pspin::IsingEnumerator;
  py::class_<E>(m, "IsingEnumerator")
      .def(py::init([](const pspin::IsingDense<double>& d) { return std::make_unique<E>(d); }), py::arg("dense"))
      .def(py::init([](const pspin::IsingDense<float>& d) { return std::make_unique<E>(d); }), py::arg("dense"))
      .def_property_readonly("n", &E::n)
      .def_property_readonly("mirror", &E::mirror, "Whether only s_{n-1} = +1 is walked (no odd degree).")
      .def_property_readonly("n_tasks", &E::n_tasks)
      .def_property_readonly("states_per_task", &E::states_per_task)
      .def(
          "run",
          [](const E& e, std::uint64_t task_begin, std::uint64_t task_end, std::uint64_t limit) {
            std::vector<std::uint64_t> codes;
            pspin_py::PyInterrupt interrupt;
            {
              py::gil_scoped_release release;
              codes = e.run(task_begin, task_end, limit);
            }
            interrupt.raise_if_stopped();
            py::array_t<std::uint64_t> out(py::ssize_t(codes.size()));
            std::copy(codes.begin(), codes.end(), out.mutable_data());
            return out;
          },
          py::arg("task_begin"), py::arg("task_end"), py::arg("limit"),
          "Codes (bit j set: s_j = -1) of the stable states of tasks [task_begin, task_end), without mirrors;\n"
          "more than limit codes: the walk stopped early because more than limit states are stable.");
}
