// Couplings and their contractions. Shapes and dtypes are validated in Python
// (python/pspin/_validate.py); the checks here only keep bad calls from crashing.
#include <cstring>
#include <stdexcept>
#include <string>

#include "pspin/couplings/couplings.hpp"
#include "pspin/kernels/fields.hpp"
#include "pspin/kernels/second_order.hpp"
#include "interrupt.hpp"
#include "pybind11.hpp"

namespace {

template <class T>
using Array = py::array_t<T, py::array::c_style | py::array::forcecast>;

template <class T>
int batch_size(const Array<T>& a, int n, const char* what) {
  if (a.ndim() != 2 || a.shape(1) != n)
    throw std::invalid_argument(std::string(what) + " must have shape (b, " + std::to_string(n) + ")");
  if (a.shape(0) < 1) throw std::invalid_argument(std::string(what) + " must hold at least one configuration");
  return int(a.shape(0));
}

// A RankChain whose exchanges are a Python object's pieces/receive/pass_on/share methods
// (pspin.mpi implements them with mpi4py, so the core needs no MPI to build). Called from
// kernels that run without the GIL, and never from a parallel region (samplers refuse
// chained couplings): one pass at a time, in the same order on every rank.
template <class T>
class PyRankChain final : public pspin::RankChain<T> {
 public:
  explicit PyRankChain(py::object impl) : impl_(std::move(impl)) {}
  ~PyRankChain() override {
    py::gil_scoped_acquire gil;
    impl_ = py::object();
  }
  int pieces(std::size_t bytes) override {
    py::gil_scoped_acquire gil;
    return impl_.attr("pieces")(bytes).template cast<int>();
  }
  void receive(int piece, std::uint64_t inputs, double* d, std::size_t nd, T* t, std::size_t nt) override {
    call("receive", piece, inputs, d, nd, t, nt);
  }
  void pass_on(int piece, std::uint64_t inputs, double* d, std::size_t nd, T* t, std::size_t nt) override {
    call("pass_on", piece, inputs, d, nd, t, nt);
  }
  void share(std::uint64_t inputs, double* d, std::size_t nd, T* t, std::size_t nt) override {
    call("share", -1, inputs, d, nd, t, nt);
  }

 private:
  // piece < 0: share(). Every Python object is made and dropped under the GIL (the
  // kernels call in without it).
  void call(const char* method, int piece, std::uint64_t inputs, double* d, std::size_t nd, T* t, std::size_t nt) {
    py::gil_scoped_acquire gil;
    // Views of the kernel's buffers (base None: no copy, no ownership); they stay valid until
    // share() returns, so sends still in flight after pass_on may read them.
    py::array_t<double> dv({py::ssize_t(nd)}, {py::ssize_t(sizeof(double))}, d, py::none());
    py::array_t<T> tv({py::ssize_t(nt)}, {py::ssize_t(sizeof(T))}, t, py::none());
    if (piece < 0) impl_.attr(method)(inputs, dv, tv);
    else impl_.attr(method)(piece, inputs, dv, tv);
  }
  py::object impl_;
};

template <class T>
void bind_one(py::module_& m, const char* name) {
  using C = pspin::Couplings<T>;
  py::class_<C>(m, name)
      .def(py::init([](int n, std::vector<int> degrees, std::vector<double> coefficients, bool multiset, int rank,
                       int ranks) {
             py::gil_scoped_release release;
             return std::make_unique<C>(n, degrees, coefficients, multiset, rank, ranks);
           }),
           py::arg("n"), py::arg("degrees"), py::arg("coefficients"), py::arg("multiset"), py::arg("rank") = 0,
           py::arg("ranks") = 1,
           "Uninitialised storage: fill with generate() over the tasks held, or set_values().\n"
           "With ranks > 1, only the tasks of rank `rank` (own_tasks) are held.")
      .def_static("task_count", &C::task_count, py::arg("n"), py::arg("degrees"), py::arg("multiset"),
                  "Tasks of the whole model (the most ranks it splits over).")
      .def_static("held_values", &C::held_values, py::arg("n"), py::arg("degrees"), py::arg("multiset"),
                  py::arg("rank"), py::arg("ranks"), "Values rank `rank` of `ranks` would hold (nothing allocated).")
      .def_property_readonly("own_tasks", [](const C& c) { return py::make_tuple(c.own_begin(), c.own_end()); },
                             "Tasks [first, last) held here.")
      .def_property_readonly("complete", &C::complete, "Whether every coupling is held here.")
      .def("set_chain", [](C& c, py::object impl) {
             c.set_chain(impl.is_none() ? nullptr : std::make_shared<PyRankChain<T>>(std::move(impl)));
           }, py::arg("chain"),
           "Sum over ranks through chain.pieces(bytes), receive/pass_on(piece, inputs, doubles, values) and\n"
           "share(inputs, doubles, values) (None: this process alone).")
      .def("generate", [](C& c, std::uint64_t seed, int task_begin, int task_end) {
             pspin_py::PyInterrupt interrupt;  // Ctrl-C: the couplings are garbage (the model is not built)
             {
               py::gil_scoped_release release;
               c.generate(seed, task_begin, task_end);
             }
             interrupt.raise_if_stopped();
           }, py::arg("seed"), py::arg("task_begin"), py::arg("task_end"),
           "Gaussian couplings of tasks [task_begin, task_end) from the 64-bit key seed.")
      .def_property_readonly("n", &C::n)
      .def_property_readonly("multiset", &C::multiset)
      .def_property_readonly("n_values", &C::n_values)
      .def_property_readonly("n_tasks", [](const C& c) { return c.tasks().size(); })
      .def_property_readonly("nbytes", [](const C& c) { return c.stored_values() * sizeof(T); })
      .def("block_size", [](const C& c, int b) { return c.block(b).size(); })
      .def("values", [](const C& c, int b) {
             if (b < 0 || b >= c.n_blocks()) throw std::out_of_range("no such degree block");
             const auto& blk = c.block(b);
             if (!blk.complete()) throw std::invalid_argument("this rank holds only part of the couplings");
             Array<T> out(py::ssize_t(blk.size()));
             std::memcpy(out.mutable_data(), blk.values.get(), blk.size() * sizeof(T));
             return out;
           }, py::arg("block"), "Copy of the packed couplings of one degree block.")
      .def("set_values", [](C& c, int b, const Array<T>& v) {
             if (b < 0 || b >= c.n_blocks()) throw std::out_of_range("no such degree block");
             auto& blk = c.block(b);
             if (!blk.complete()) throw std::invalid_argument("this rank holds only part of the couplings");
             if (v.ndim() != 1 || std::uint64_t(v.shape(0)) != blk.size())
               throw std::invalid_argument("packed values have the wrong length");
             std::memcpy(blk.values.get(), v.data(), blk.size() * sizeof(T));
           }, py::arg("block"), py::arg("values"))
      .def("energy_and_fields", [](const C& c, const Array<T>& s, bool want_fields) {
             const int n = c.n();
             const int b = batch_size(s, n, "states");
             const int B = pspin::padded_batch<T>(b);
             py::array_t<double> energies(b);
             py::object fields = py::none();
             std::vector<double> e(B);
             pspin_py::PyInterrupt interrupt;
             if (want_fields) {
               Array<T> f({py::ssize_t(b), py::ssize_t(n)});
               T* fp = f.mutable_data();
               {
                 py::gil_scoped_release release;
                 std::vector<T> x(std::size_t(n) * B, T(0)), g(std::size_t(n) * B);
                 pspin::to_batch_layout(s.data(), nullptr, b, n, B, x.data());
                 pspin::energy_and_fields(c, x.data(), B, g.data(), e.data());
                 pspin::from_batch_layout(g.data(), nullptr, b, n, B, fp);
               }
               fields = f;
             } else {
               py::gil_scoped_release release;
               std::vector<T> x(std::size_t(n) * B, T(0));
               pspin::to_batch_layout(s.data(), nullptr, b, n, B, x.data());
               pspin::energy_and_fields<T>(c, x.data(), B, nullptr, e.data());
             }
             interrupt.raise_if_stopped();
             std::memcpy(energies.mutable_data(), e.data(), b * sizeof(double));
             return py::make_tuple(energies, fields);
           }, py::arg("states"), py::arg("want_fields"),
           "Energies H (b,) and, if asked, local fields -dH/ds (b, n) in one pass.")
      .def("fields_jvp", [](const C& c, const Array<T>& s, const Array<T>& v, bool want_fields) {
             const int n = c.n();
             const int b = batch_size(s, n, "states");
             if (batch_size(v, n, "vectors") != b) throw std::invalid_argument("states and vectors differ in batch size");
             Array<T> out({py::ssize_t(b), py::ssize_t(n)});
             py::object fields = py::none();
             T* op = out.mutable_data();
             T* fp = nullptr;
             if (want_fields) {
               Array<T> f({py::ssize_t(b), py::ssize_t(n)});
               fp = f.mutable_data();
               fields = f;
             }
             pspin_py::PyInterrupt interrupt;
             {
               py::gil_scoped_release release;
               // The JVP kernel needs no padding of the batch.
               std::vector<T> x(std::size_t(n) * b), y(std::size_t(n) * b), r(std::size_t(n) * b),
                   f(want_fields ? std::size_t(n) * b : 0);
               pspin::to_spin_major(s.data(), nullptr, b, n, b, x.data());
               pspin::to_spin_major(v.data(), nullptr, b, n, b, y.data());
               pspin::fields_jvp(c, x.data(), y.data(), b, r.data(), want_fields ? f.data() : nullptr);
               pspin::from_spin_major(r.data(), nullptr, b, n, b, op);
               if (want_fields) pspin::from_spin_major(f.data(), nullptr, b, n, b, fp);
             }
             interrupt.raise_if_stopped();
             return py::make_tuple(out, fields);
           }, py::arg("states"), py::arg("vectors"), py::arg("want_fields") = false,
           "Directional derivative of the fields (b, n), and the fields if asked, in one pass.")
      .def("fields_jacobian", [](const C& c, const Array<T>& s) {
             const int n = c.n();
             if (s.ndim() != 1 || s.shape(0) != n) throw std::invalid_argument("state must have shape (n,)");
             py::array_t<double> out({py::ssize_t(n), py::ssize_t(n)});
             double* op = out.mutable_data();
             pspin_py::PyInterrupt interrupt;
             {
               py::gil_scoped_release release;
               pspin::fields_jacobian(c, s.data(), op);
             }
             interrupt.raise_if_stopped();
             return out;
           }, py::arg("state"), "Jacobian of the fields (n, n), float64.");
}

}  // namespace

void bind_couplings(py::module_& m) {
  bind_one<double>(m, "CouplingsF64");
  bind_one<float>(m, "CouplingsF32");
  m.def("tuple_indices", [](int n, int p, bool multiset) {
    const pspin::TupleLayout L(n, p, multiset);
    py::array_t<std::int32_t> out({py::ssize_t(L.size()), py::ssize_t(p)});
    std::int32_t* o = out.mutable_data();
    {
      py::gil_scoped_release release;
      for (pspin::RowCursor row(L, 0, L.first_index_end()); row.valid(); row.advance())
        for (int k = row.lo(); k < n; ++k) {
          std::int32_t* t = o + (row.offset + std::uint64_t(k - row.lo())) * p;
          for (int m2 = 0; m2 < p - 1; ++m2) t[m2] = row.prefix[m2];
          t[p - 1] = k;
        }
    }
    return out;
  }, py::arg("n"), py::arg("p"), py::arg("multiset"), "Index tuples of the packed layout, (size, p), in storage order.");
  m.def("tuple_count", [](int n, int p, bool multiset) { return pspin::TupleLayout(n, p, multiset).size(); },
        py::arg("n"), py::arg("p"), py::arg("multiset"));
}
