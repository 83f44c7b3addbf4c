// Ctrl-C for long calls: the Python side of pspin/platform/interrupt.hpp.
//
//   PyInterrupt interrupt;                      // GIL held
//   { py::gil_scoped_release release; kernel(...); }
//   interrupt.raise_if_stopped();               // GIL held again
//
// On the main thread (the only one that runs Python's signal handlers) the
// kernel's polls re-acquire the GIL at most every interrupt_interval() and call
// PyErr_CheckSignals(): a handler that raises (the default SIGINT handler's
// KeyboardInterrupt, a SIGTERM handler that raises) stops the kernel, whose
// outputs are then discarded, and raise_if_stopped() re-raises that exception.
// A handler that only notes the signal lets the call go on to its normal end.
// Other threads install nothing (no GIL traffic, no change at all).
#pragma once
#include <chrono>
#include <optional>

#include "pspin/platform/interrupt.hpp"
#include "pybind11.hpp"

namespace pspin_py {

// Time between signal checks (private test hook: _core._set_interrupt_interval).
inline std::chrono::nanoseconds& interrupt_interval() {
  static std::chrono::nanoseconds interval = std::chrono::milliseconds(50);
  return interval;
}

// Thread identifier of the interpreter's main thread, set at module import.
inline unsigned long& main_thread_ident() {
  static unsigned long ident = 0;
  return ident;
}

class PyInterrupt {
 public:
  PyInterrupt() {
    if (PyThread_get_thread_ident() != main_thread_ident()) return;
    poller_.emplace(&PyInterrupt::check, this, interrupt_interval());
    scope_.emplace(&*poller_);
  }
  ~PyInterrupt() {  // GIL held (normal return or exception out of the binding)
    scope_.reset();
    Py_XDECREF(type_);
    Py_XDECREF(value_);
    Py_XDECREF(traceback_);
  }
  PyInterrupt(const PyInterrupt&) = delete;
  PyInterrupt& operator=(const PyInterrupt&) = delete;

  bool stopped() const { return poller_ && poller_->stopped(); }

  // GIL held: re-raises the exception of the signal handler that stopped the call.
  void raise_if_stopped() {
    scope_.reset();
    if (!stopped()) return;
    if (type_ == nullptr) {
      PyErr_SetNone(PyExc_KeyboardInterrupt);
    } else {
      PyErr_Restore(type_, value_, traceback_);  // steals the references
      type_ = value_ = traceback_ = nullptr;
    }
    throw py::error_already_set();
  }

 private:
  // Runs on the thread that made the call, without the GIL.
  static bool check(void* context) {
    auto* self = static_cast<PyInterrupt*>(context);
    const PyGILState_STATE gil = PyGILState_Ensure();
    const bool stop = PyErr_CheckSignals() != 0;
    if (stop) PyErr_Fetch(&self->type_, &self->value_, &self->traceback_);
    PyGILState_Release(gil);
    return stop;
  }

  std::optional<pspin::InterruptPoller> poller_;
  std::optional<pspin::InterruptScope> scope_;
  PyObject* type_ = nullptr;
  PyObject* value_ = nullptr;
  PyObject* traceback_ = nullptr;
};

}  // namespace pspin_py
