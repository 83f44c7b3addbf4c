#include "pspin/dispatch/build_info.hpp"
#include "pspin/dispatch/simd.hpp"
#include "pspin/platform/parallel.hpp"
#include "interrupt.hpp"
#include "pybind11.hpp"

#ifndef PSPIN_VERSION
#define PSPIN_VERSION "unknown"
#endif
#ifndef PSPIN_SIMD_LEVEL
#define PSPIN_SIMD_LEVEL "unknown"
#endif

void bind_config(py::module_& m) {
  m.attr("__version__") = PSPIN_VERSION;
  m.attr("SIMD_LEVEL") = PSPIN_SIMD_LEVEL;
  m.def("build_info", [] {
    py::dict d;
    d["version"] = PSPIN_VERSION;
    d["compiler"] = pspin::compiler_description();
#ifdef _OPENMP
    d["openmp"] = true;
    d["openmp_version"] = int(_OPENMP);
#else
    d["openmp"] = false;
    d["openmp_version"] = 0;
#endif
    d["simd_level"] = PSPIN_SIMD_LEVEL;
    d["simd_width_bits"] = 8 * pspin::kSimdBytes;  // the kernels' vector width, from one place
    d["simd_extensions"] = pspin::simd_extensions();
    d["simd_lanes_float64"] = pspin::Simd<double>::width;
    d["simd_lanes_float32"] = pspin::Simd<float>::width;
    return d;
  }, "Compiler, OpenMP and SIMD settings of the compiled core.");
  // Long calls answer Ctrl-C from the main thread only (where Python runs signal handlers).
  pspin_py::main_thread_ident() = py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
  m.def("_set_interrupt_interval", [](double seconds) {
    if (!(seconds >= 0.0 && seconds <= 3600.0)) throw py::value_error("interval must be in [0, 3600] seconds");
    const double previous = std::chrono::duration<double>(pspin_py::interrupt_interval()).count();
    pspin_py::interrupt_interval() = std::chrono::nanoseconds(std::int64_t(seconds * 1e9));
    return previous;
  }, py::arg("seconds"),
        "Private (tests): seconds between signal checks inside long calls (default 0.05); returns the previous value.");
  m.def("max_threads", &pspin::max_threads, "Threads the next parallel region may use.");
  m.def("set_num_threads", [](int n) {
    if (n < 1) throw py::value_error("number of threads must be >= 1");
    pspin::set_threads(n);
  }, py::arg("n"), "Set the number of OpenMP threads for pspin's kernels.");
}
