// Batched descent on the sphere. Arguments are validated in
// python/pspin/landscape/_spherical.py; run() releases the GIL and is called in
// slices so Python can show progress and answer Ctrl-C between them.
#include <cstring>

#include "pspin/landscape/sphere_descent.hpp"
#include "interrupt.hpp"
#include "pybind11.hpp"

namespace {

template <class T>
void bind_descent(py::module_& m, const char* name) {
  using D = pspin::SphereDescent<T>;
  using C = pspin::Couplings<T>;
  py::class_<D>(m, name)
      .def(py::init([](const C& couplings, const py::array_t<double, py::array::c_style | py::array::forcecast>& initial,
                       pspin::SphereMethod method, double step, int memory, double gtol, int record_every) {
             if (initial.ndim() != 2 || initial.shape(1) != couplings.n())
               throw std::invalid_argument("initial states must have shape (b, n)");
             const double* x = initial.data();
             const int b = int(initial.shape(0));
             pspin_py::PyInterrupt interrupt;
             std::unique_ptr<D> d;
             {
               py::gil_scoped_release release;
               d = std::make_unique<D>(couplings, x, b, method, step, memory, gtol, record_every);
             }
             interrupt.raise_if_stopped();
             return d;
           }),
           py::arg("couplings"), py::arg("initial"), py::arg("method"), py::arg("step"), py::arg("memory"),
           py::arg("gtol"), py::arg("record_every"), py::keep_alive<1, 2>())
      .def("run", [](D& d, int max_steps) {
             pspin_py::PyInterrupt interrupt;
             int active;
             {
               py::gil_scoped_release release;
               active = d.run(max_steps);
             }
             interrupt.raise_if_stopped();
             return active;
           }, py::arg("max_steps"),
           "Iterate every active start up to max_steps times; returns the number still active.\n"
           "Interrupted by a signal handler's exception (Ctrl-C), it raises that exception and the\n"
           "descent is left invalid: discard it.")
      .def("states", [](const D& d) {
             py::array_t<double> out({py::ssize_t(d.n_starts()), py::ssize_t(d.n())});
             std::memcpy(out.mutable_data(), d.states().data(), d.states().size() * sizeof(double));
             return out;
           })
      .def("energies", [](const D& d) { return py::array_t<double>(d.energies().size(), d.energies().data()); })
      .def("iterations", [](const D& d) { return py::array_t<int>(d.iterations().size(), d.iterations().data()); })
      .def("grad_norm", [](const D& d) {
             py::array_t<double> out(d.n_starts());
             for (int i = 0; i < d.n_starts(); ++i) out.mutable_data()[i] = d.grad_norm(i);
             return out;
           })
      .def("converged", [](const D& d) {
             py::array_t<bool> out(d.n_starts());
             for (int i = 0; i < d.n_starts(); ++i) out.mutable_data()[i] = d.converged(i);
             return out;
           })
      .def("failed", [](const D& d) {
             py::array_t<bool> out(d.n_starts());
             for (int i = 0; i < d.n_starts(); ++i) out.mutable_data()[i] = d.failed(i);
             return out;
           })
      .def("trajectory", [](const D& d) {
             py::list out;
             for (const auto& t : d.trajectory()) out.append(py::array_t<double>(t.size(), t.data()));
             return out;
           });
}

}  // namespace

void bind_spherical_landscape(py::module_& m) {
  // The method names users pass live in python/pspin/landscape/_spherical.py only.
  py::enum_<pspin::SphereMethod>(m, "SphereMethod")
      .value("GradientDescent", pspin::SphereMethod::GradientDescent)
      .value("LBFGS", pspin::SphereMethod::LBFGS);
  bind_descent<double>(m, "SphereDescentF64");
  bind_descent<float>(m, "SphereDescentF32");
}
