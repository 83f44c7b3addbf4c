// The only pybind11 include of the bindings, so every file sees the same casters.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

namespace py = pybind11;

void bind_config(py::module_& m);
void bind_couplings(py::module_& m);
void bind_spherical_landscape(py::module_& m);
void bind_ising_landscape(py::module_& m);
void bind_sampling(py::module_& m);
