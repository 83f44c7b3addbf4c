#include "pybind11.hpp"

void bind_spherical_landscape(py::module_& m) { (void)m; }
