// The module that chooses the kernel level: built without -march flags so that
// it loads on any CPU of the architecture, and holds no kernels.
#include "pspin/dispatch/cpu_features.hpp"
#include "pybind11.hpp"

PYBIND11_MODULE(_cpu, m) {
  m.doc() = "CPU feature detection for pspin's kernel dispatch (private)";
  m.def("supported_simd_levels", &pspin::supported_simd_levels,
        "Instruction-set levels this CPU and operating system can run, lowest first.");
  m.def("cpu_simd_flags", &pspin::cpu_simd_flags, "The CPU's SIMD extensions that matter to the kernels.");
}
