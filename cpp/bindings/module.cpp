#include "pybind11.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "pspin compiled core (private; use the pspin package)";
  bind_config(m);
  bind_couplings(m);
  bind_spherical_landscape(m);
  bind_ising_landscape(m);
  bind_sampling(m);
}
