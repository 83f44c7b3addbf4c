#!/usr/bin/env bash
# Build the C++ core with AddressSanitizer + UndefinedBehaviorSanitizer and run the
# fast tests against it (issue 12).
#
#   tools/run_sanitized_tests.sh                 # build + the default subset
#   tools/run_sanitized_tests.sh tests/test_x.py -k y   # build + the given pytest args
#
# The sanitized build (CMake option PSPIN_SANITIZE=ON, -O1 -g, one SIMD level) goes
# out of tree into $PSPIN_ASAN_DIR (default /tmp/pspin-asan): build/ holds CMake's
# tree, site/ a PYTHONPATH overlay: site/pspin links every Python file of
# python/pspin and holds the sanitized _core_<level> and _cpu modules, and
# site/sitecustomize.py removes any other finder of `pspin` (an editable install's),
# so the tests and every subprocess they start import the overlay. Nothing is
# installed; the normal install is untouched.
#
# The interpreter is not instrumented, so libasan is preloaded. CPython and numpy
# leak by design at exit, hence detect_leaks=0. Every UBSan report is fatal
# (-fno-sanitize-recover=undefined, halt_on_error=1), and an ASan report aborts the
# process, so any finding fails the run.
#
# Environment: PSPIN_ASAN_DIR, PSPIN_ASAN_LEVEL (baseline|v3; default v3 where the
#   CPU has AVX2 + FMA, else baseline), PSPIN_ASAN_JOBS (build jobs; default nproc),
#   CXX (default g++).
# Exit status: pytest's; 77 when a toolchain piece is missing (cmake, pybind11,
#   a compiler with the sanitizer runtimes), with a note saying which.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${PSPIN_ASAN_DIR:-/tmp/pspin-asan}"
CXX="${CXX:-g++}"
PY="${PYTHON:-python3}"
JOBS="${PSPIN_ASAN_JOBS:-$(nproc 2>/dev/null || echo 2)}"

skip() { echo "run_sanitized_tests: SKIPPED: $*" >&2; exit 77; }

if [[ -z "${PSPIN_ASAN_LEVEL:-}" ]]; then
  if [[ "$(uname -m)" == x86_64 ]] && grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo \
     && grep -qw bmi2 /proc/cpuinfo && grep -qw movbe /proc/cpuinfo; then
    PSPIN_ASAN_LEVEL=v3
  else
    PSPIN_ASAN_LEVEL=baseline
  fi
fi
LEVEL="$PSPIN_ASAN_LEVEL"

# --- toolchain -------------------------------------------------------------------
command -v "$CXX" >/dev/null || skip "no C++ compiler '$CXX'"
command -v cmake >/dev/null || skip "no cmake on PATH (pip install cmake ninja)"
PYBIND11_DIR="$("$PY" -m pybind11 --cmakedir 2>/dev/null)" || skip "pybind11 is not installed for $PY"
LIBASAN="$("$CXX" -print-file-name=libasan.so)"
[[ "$LIBASAN" == /* && -e "$LIBASAN" ]] || skip "$CXX has no libasan.so (Debian: apt-get install libasan8 / gcc)"
# libstdc++ is preloaded too: python does not link it, and without it ASan cannot find the
# real __cxa_throw when its interceptor is installed ("CHECK failed ... real___cxa_throw"),
# so the first C++ exception (a ValueError from the core) would abort.
LIBSTDCXX="$("$CXX" -print-file-name=libstdc++.so)"
[[ "$LIBSTDCXX" == /* && -e "$LIBSTDCXX" ]] || skip "$CXX has no libstdc++.so"
probe_dir="$(mktemp -d)"
trap 'rm -rf "$probe_dir"' EXIT
echo 'int main() { return 0; }' >"$probe_dir/p.cpp"
"$CXX" -fsanitize=address,undefined "$probe_dir/p.cpp" -o "$probe_dir/p" 2>"$probe_dir/err" \
  || skip "$CXX cannot link -fsanitize=address,undefined: $(head -c 300 "$probe_dir/err")"
GENERATOR=()
command -v ninja >/dev/null && GENERATOR=(-G Ninja)

# --- build (incremental: rerunning only recompiles what changed) -----------------
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/pyproject.toml" | head -1)"
t0=$(date +%s)
cache="$DIR/build/CMakeCache.txt"
if [[ ! -f "$cache" ]] || ! grep -qx "PSPIN_SIMD_LEVELS:STRING=$LEVEL" "$cache" \
   || ! grep -qx "CMAKE_HOME_DIRECTORY:INTERNAL=$ROOT" "$cache" || ! grep -qx "PSPIN_SANITIZE:BOOL=ON" "$cache"; then
  rm -rf "$DIR/build"
  cmake -S "$ROOT" -B "$DIR/build" "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_COMPILER="$CXX" -DPSPIN_SANITIZE=ON -DPSPIN_SIMD_LEVELS="$LEVEL" \
    -DPython_EXECUTABLE="$(command -v "$PY")" -Dpybind11_DIR="$PYBIND11_DIR" \
    -DSKBUILD_PROJECT_VERSION="$VERSION" >"$DIR.configure.log" 2>&1 \
    || { cat "$DIR.configure.log" >&2; echo "run_sanitized_tests: cmake configure failed" >&2; exit 2; }
fi
cmake --build "$DIR/build" --parallel "$JOBS" --target "_core_$LEVEL" _cpu
t1=$(date +%s)

# --- overlay ---------------------------------------------------------------------
rm -rf "$DIR/site"
mkdir -p "$DIR/site/pspin"
for entry in "$ROOT"/python/pspin/*; do
  name="$(basename "$entry")"
  case "$name" in __pycache__|_core_*.so|_cpu*.so) continue ;; esac
  ln -s "$entry" "$DIR/site/pspin/$name"
done
cp "$DIR"/build/_core_"$LEVEL".*.so "$DIR"/build/_cpu.*.so "$DIR/site/pspin/"
cat >"$DIR/site/sitecustomize.py" <<'EOF'
# Written by tools/run_sanitized_tests.sh: let `import pspin` find this overlay (the
# sanitized build) instead of an editable install's import hook.
import os
import sys

_overlay = os.path.dirname(os.path.abspath(__file__))
for _finder in list(sys.meta_path):
    try:
        _spec = _finder.find_spec("pspin", None)
    except Exception:
        continue
    if _spec is not None and not (_spec.origin or "").startswith(_overlay):
        sys.meta_path.remove(_finder)
EOF

export PYTHONPATH="$DIR/site${PYTHONPATH:+:$PYTHONPATH}"
export PSPIN_SIMD="$LEVEL"
export LD_PRELOAD="$LIBASAN:$LIBSTDCXX${LD_PRELOAD:+:$LD_PRELOAD}"
# Where reports go: ASan writes one file per process, $DIR/reports/asan.<pid> (pytest
# captures stderr, and a process that aborts would lose it; subprocesses of the tests
# report there too). GCC's UBSan ignores log_path, so its reports go to stderr, which
# pytest does not capture here (-s) and this script scans. Any report fails the run.
# allocator_may_return_null: a failed huge allocation throws std::bad_alloc (MemoryError)
# as it does without ASan, instead of an ASan abort.
rm -rf "$DIR/reports"
mkdir -p "$DIR/reports"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allocator_may_return_null=1:check_initialization_order=1:strict_string_checks=1:log_path=$DIR/reports/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
SANITIZER_PATTERN='runtime error:|ERROR: AddressSanitizer|AddressSanitizer: CHECK failed|SUMMARY: (Address|UndefinedBehavior)Sanitizer'

# The overlay must be what gets imported, and it must be instrumented.
"$PY" - "$DIR/site" "$LEVEL" <<'EOF'
import io
import sys

import pspin

overlay, level = sys.argv[1], sys.argv[2]
mods = [m for n, m in sys.modules.items() if n.startswith("pspin._core_") or n == "pspin._cpu"]
files = sorted(getattr(m, "__file__", None) or "" for m in mods)
assert pspin.__file__.startswith(overlay), f"pspin imported from {pspin.__file__}, not {overlay}"
assert files and all(f.startswith(overlay) for f in files), files
assert pspin.show_config(file=io.StringIO())["simd_level"] == level
print("run_sanitized_tests: imports", ", ".join(f.rsplit("/", 1)[-1] for f in files))
EOF
# The harness itself: a planted heap overflow and a planted signed overflow, in a library
# built with the same flags and loaded the same way, must each leave a report.
cat >"$probe_dir/bug.cpp" <<'EOF'
#include <climits>
#include <cstdlib>
extern "C" int heap_overflow(int i) {
  int* a = static_cast<int*>(std::malloc(4 * sizeof(int)));
  int v = a[i];
  std::free(a);
  return v;
}
extern "C" int signed_overflow(int x) { return x + INT_MAX; }
EOF
"$CXX" -shared -fPIC -O1 -g -fsanitize=address "$probe_dir/bug.cpp" -o "$probe_dir/asan_bug.so"
"$CXX" -shared -fPIC -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
  "$probe_dir/bug.cpp" -o "$probe_dir/ubsan_bug.so"
if ("$PY" -c "import ctypes; ctypes.CDLL('$probe_dir/asan_bug.so').heap_overflow(4)") >/dev/null 2>&1 \
   || ! compgen -G "$DIR/reports/asan.*" >/dev/null; then
  echo "run_sanitized_tests: a planted heap overflow went unreported: the harness is broken" >&2; exit 2
fi
rm -f "$DIR"/reports/*
if "$PY" -c "import ctypes; ctypes.CDLL('$probe_dir/ubsan_bug.so').signed_overflow(1)" >/dev/null 2>"$probe_dir/ubsan.err" \
   || ! grep -Eq "$SANITIZER_PATTERN" "$probe_dir/ubsan.err"; then
  echo "run_sanitized_tests: a planted signed overflow went unreported: the harness is broken" >&2; exit 2
fi
echo "run_sanitized_tests: planted heap overflow and signed overflow both reported"
if command -v readelf >/dev/null; then
  readelf -d "$DIR"/site/pspin/_core_"$LEVEL".*.so | grep -q 'libasan' \
    || { echo "run_sanitized_tests: _core_$LEVEL is not linked with libasan" >&2; exit 2; }
fi

# --- tests -----------------------------------------------------------------------
# The default subset: the test files that drive every binding of the C++ core (all
# contractions, bad input through the core, descents, critical points, enumeration,
# tempering, annealing, spherical moves, checkpoints, interrupts, the hypothesis
# properties), without the slow marker and without a few Monte Carlo averages that
# only repeat those kernels many times. Not the linters, the stub check, the cross
# compile, the theory (pure Python) or test_simd_levels (the overlay holds one level).
# Arguments that are all options (e.g. --durations=20) are added to the subset; any
# path among them replaces it (tests/ runs the whole suite).
DEFAULT_TESTS=(tests/test_models_contractions.py tests/test_models_api.py tests/test_models_bad_input.py
  tests/test_landscape_spherical.py tests/test_landscape_ising.py
  tests/test_sampling_tempering.py tests/test_sampling_spherical_moves.py tests/test_sampling_checkpoint.py
  tests/test_interrupt.py tests/test_properties.py tests/test_split_couplings.py)
DEFAULT_DESELECT="not disorder_averaged_count and not incremental_energies_stay_exact and not high_temperature_energy_isotropic_disorder_average"
positional=0
for arg in "$@"; do [[ "$arg" == -* ]] || positional=1; done
if [[ $positional -eq 0 ]]; then
  existing=()
  for f in "${DEFAULT_TESTS[@]}"; do [[ -e "$ROOT/$f" ]] && existing+=("$f"); done
  set -- "${existing[@]}" -k "$DEFAULT_DESELECT" "$@"
fi
cd "$ROOT"
echo "run_sanitized_tests: level $LEVEL, build $((t1 - t0)) s; pytest $*"
t2=$(date +%s)
rc=0
"$PY" -m pytest -q -s -p no:cacheprovider "$@" 2>&1 | tee "$DIR/pytest.log" || rc=${PIPESTATUS[0]}
t3=$(date +%s)
reports=("$DIR"/reports/*)
if [[ -e "${reports[0]}" ]]; then
  for f in "${reports[@]}"; do echo "===== $f"; cat "$f"; done
  echo "run_sanitized_tests: ${#reports[@]} AddressSanitizer report(s) above (kept in $DIR/reports)" >&2
  [[ $rc -ne 0 ]] || rc=1
fi
if grep -Eq "$SANITIZER_PATTERN" "$DIR/pytest.log"; then
  grep -En -A3 "$SANITIZER_PATTERN" "$DIR/pytest.log" | head -100
  echo "run_sanitized_tests: sanitizer report(s) in the test output above (all of it in $DIR/pytest.log)" >&2
  [[ $rc -ne 0 ]] || rc=1
fi
echo "run_sanitized_tests: level $LEVEL, build $((t1 - t0)) s, tests $((t3 - t2)) s, pytest exit $rc"
exit "$rc"
