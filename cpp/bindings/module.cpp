#include "pybind11.hpp"

// The same sources are compiled once per instruction-set level, each into a
// module of its own name (_core_baseline, _core_v3, ...); pspin/_dispatch.py
// imports exactly one of them.
#ifndef PSPIN_MODULE_NAME
#define PSPIN_MODULE_NAME _core
#endif

PYBIND11_MODULE(PSPIN_MODULE_NAME, m) {
  m.doc() = "pspin compiled core (private; use the pspin package)";
  bind_config(m);
  bind_couplings(m);
  bind_spherical_landscape(m);
  bind_ising_landscape(m);
  bind_sampling(m);
}
