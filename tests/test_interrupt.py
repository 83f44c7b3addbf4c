"""Ctrl-C (and SIGTERM) inside long C++ calls (cpp/include/pspin/platform/interrupt.hpp).

Each long public call runs in a subprocess at a size that takes well over 5 s
uninterrupted (sizes measured on 2 cores; the child reports FINISHED if it ever
completes, which fails the test), gets SIGINT after about a second, and must raise
KeyboardInterrupt within 1.5 s of the signal; the latency is printed (``-s``).
The in-process tests check that polling changes no result: the same call from the
main thread with a check at every opportunity (polling on, interval 0) and from
another thread (no polling) is bit-identical, also while signal handlers that
do not raise run during the call, and a call interrupted in-process leaves
nothing behind (the next call gives the same answer).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pspin
import pytest
from pspin import _core

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

DELAY = 1.0  # seconds between the call starting and the signal
LIMIT = 1.5  # seconds the call may take to answer

# name: (setup, call). The call must take >= 5 s uninterrupted.
CASES = {
    "energy": (
        "m = pspin.SphericalPSpin(400, 3, seed=1); s = m.random_state(8192)",
        "m.energy(s)",
    ),
    "gradient": (
        "m = pspin.SphericalPSpin(400, 3, seed=1); s = m.random_state(4096)",
        "m.gradient(s)",
    ),
    "hessian_vector_product": (
        "m = pspin.SphericalPSpin(400, 3, seed=1); s = m.random_state(512); v = m.random_state(512)",
        "m.hessian_vector_product(s, v)",
    ),
    "hessian": (
        "m = pspin.SphericalPSpin(26, 12, seed=1, dtype='float32'); s = m.random_state()",
        "m.hessian(s)",
    ),
    "model_construction": (
        "pass",
        "pspin.SphericalPSpin(1000, 3, seed=1, dtype='float32')",
    ),
    "minimize_lbfgs": (
        "m = pspin.SphericalPSpin(400, 3, seed=1)",
        "pspin.minimize(m, 64, method='lbfgs', seed=1)",
    ),
    "minimize_gd": (
        "m = pspin.SphericalPSpin(400, 3, seed=1)",
        "pspin.minimize(m, 64, method='gd', seed=1)",
    ),
    "minimize_ising": (
        "m = pspin.IsingPSpin(1024, 2, seed=1)",
        "pspin.minimize(m, 8000, seed=1)",
    ),
    "enumerate_local_minima": (
        "m = pspin.IsingPSpin(31, 2, seed=1)",
        "pspin.enumerate_local_minima(m, max_n=31)",
    ),
    "anneal_sk": (
        "m = pspin.IsingPSpin(1024, 2, seed=1)",
        "pspin.anneal(m, np.geomspace(2.0, 0.1, 2000), n_starts=64, seed=1)",
    ),
    "anneal_ising_p3": (  # polled inside the sweeps, on every thread (warm-up: memory first touched)
        "m = pspin.IsingPSpin(400, 3, seed=1); pspin.anneal(m, [1.0], n_starts=64, seed=1)",
        "pspin.anneal(m, np.geomspace(2.0, 0.1, 400), n_starts=64, seed=1)",
    ),
    "anneal_spherical": (
        "m = pspin.SphericalPSpin(400, 3, seed=1)",
        "pspin.anneal(m, np.geomspace(2.0, 0.1, 40), n_starts=8, seed=1)",
    ),
}

CHILD = """
import os, signal, sys, time
import numpy as np
import pspin
# A child started from a background job inherits SIGINT ignored (POSIX shells do that), and
# Python then keeps it ignored: give it Python's usual handler, as an interactive run has.
signal.signal(signal.SIGINT, signal.default_int_handler)
{handler}
{setup}
print("READY", flush=True)
start = time.perf_counter()
try:
{call}
except {caught}:
    print(f"INTERRUPTED {{time.time():.6f}} {{time.perf_counter() - start:.3f}}", flush=True)
    sys.exit(3)
print(f"FINISHED {{time.perf_counter() - start:.3f}}", flush=True)
"""


def _interrupt(setup: str, call: str, sig: int = signal.SIGINT, handler: str = "", caught: str = "KeyboardInterrupt"):
    """Run the call in a child, signal it DELAY s after it starts; returns (rc, latency or None, output)."""
    code = CHILD.format(
        handler=handler, setup=setup, call=textwrap.indent(call, "    "), caught=caught
    )
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        line = proc.stdout.readline()
        assert line.strip() == "READY", (line, proc.stderr.read())
        time.sleep(DELAY)
        sent = time.time()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
        exited = time.time()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    latency = None
    for word in out.split("\n"):
        if word.startswith("INTERRUPTED"):
            latency = float(word.split()[1]) - sent
    return proc.returncode, latency, exited - sent, out + err


@pytest.mark.parametrize("name", sorted(CASES))
def test_sigint_stops_long_call(name):
    setup, call = CASES[name]
    rc, latency, exit_after, output = _interrupt(setup, call)
    assert rc == 3, f"{name}: not interrupted (rc {rc}):\n{output}"
    print(f"\n{name}: KeyboardInterrupt {latency:.3f} s after SIGINT, process gone after {exit_after:.3f} s")
    assert latency < LIMIT, f"{name}: answered SIGINT after {latency:.2f} s"


def test_sigterm_default_handler_kills_the_process():
    setup, call = CASES["gradient"]
    rc, _, exit_after, output = _interrupt(setup, call, sig=signal.SIGTERM)
    assert rc == -signal.SIGTERM, output
    assert exit_after < LIMIT


def test_sigterm_python_handler_that_raises_stops_the_call():
    handler = textwrap.dedent("""
        class Terminated(Exception):
            pass
        def on_term(signum, frame):
            raise Terminated(signum)
        signal.signal(signal.SIGTERM, on_term)
    """)
    setup, call = CASES["gradient"]
    rc, latency, _, output = _interrupt(setup, call, sig=signal.SIGTERM, handler=handler, caught="Terminated")
    assert rc == 3, output
    print(f"\nSIGTERM with a raising handler: stopped {latency:.3f} s after the signal")
    assert latency < LIMIT


# ------------------------------------------------------------------ results are unchanged

def _in_thread(fn):
    """fn() on a thread that is not the main one: no polling at all."""
    box = {}

    def target():
        box["value"] = fn()

    t = threading.Thread(target=target)
    t.start()
    t.join()
    return box["value"]


@pytest.fixture
def poll_always():
    """Check for signals at every poll (GIL taken every ~65k multiply-adds)."""
    previous = _core._set_interrupt_interval(0.0)
    yield
    _core._set_interrupt_interval(previous)


def _same(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()
    else:
        assert (a == b) or (a != a and b != b)


def _result_arrays(r):
    return {k: v for k, v in vars(r).items() if isinstance(v, np.ndarray)}


def _calls():
    sph = pspin.SphericalPSpin(48, 3, seed=3)
    sph32 = pspin.SphericalPSpin(40, 4, seed=4, dtype="float32")
    ising = pspin.IsingPSpin(64, 2, seed=5)
    ising3 = pspin.IsingPSpin(24, 3, seed=6)
    s = sph.random_state(37, seed=1)
    v = sph.random_state(37, seed=2)
    s32 = sph32.random_state(5, seed=1)
    return {
        "energy": lambda: sph.energy(s),
        "energy_single": lambda: sph.energy(s[0]),
        "gradient": lambda: sph.energy_and_gradient(s),
        "gradient_f32_rows": lambda: sph32.energy_and_gradient(s32),
        "hvp": lambda: sph.hessian_vector_product(s, v),
        "riemannian_hvp": lambda: sph.riemannian_hessian_vector_product(s, v),
        "hessian": lambda: sph.hessian(s[0]),
        "hessian_f32": lambda: sph32.hessian(s32[0]),
        "construction": lambda: pspin.SphericalPSpin(60, 3, seed=7).tensors()[3],
        "construction_ising3": lambda: pspin.IsingPSpin(40, 3, seed=8).energy(np.ones(40)),
        "minimize_lbfgs": lambda: _result_arrays(pspin.minimize(sph, 6, method="lbfgs", seed=1)),
        "minimize_gd": lambda: _result_arrays(pspin.minimize(sph, 3, method="gd", seed=1, max_iter=300)),
        "minimize_ising": lambda: _result_arrays(pspin.minimize(ising, 20, seed=1, record_every=1)),
        "minimize_ising_random": lambda: _result_arrays(pspin.minimize(ising3, 20, method="random", seed=1)),
        "enumerate": lambda: _result_arrays(pspin.enumerate_local_minima(pspin.IsingPSpin(18, 2, seed=9))),
        "enumerate_p3": lambda: _result_arrays(pspin.enumerate_local_minima(pspin.IsingPSpin(14, 3, seed=9))),
        "anneal_sk": lambda: _result_arrays(pspin.anneal(ising, np.geomspace(2, 0.1, 30), n_starts=70, seed=1)),
        "anneal_ising_p3": lambda: _result_arrays(pspin.anneal(ising3, np.geomspace(2, 0.1, 10), n_starts=9, seed=1)),
        "anneal_spherical": lambda: _result_arrays(pspin.anneal(sph, np.geomspace(2, 0.1, 10), n_starts=3, seed=1)),
        "critical_points": lambda: _result_arrays(pspin.critical_points(sph, 3, index=1, seed=1)),
    }


def test_polling_changes_no_result(poll_always):
    for name, call in _calls().items():
        polled = call()  # main thread: polled at every opportunity
        plain = _in_thread(call)  # other thread: never polled
        try:
            _same(polled, plain)
        except AssertionError:
            pytest.fail(f"{name}: results differ with and without polling")


def test_handlers_that_do_not_raise_change_no_result(poll_always):
    """Signals whose handler only notes them (as ParallelTempering.run's) run the
    handler during the call and let it finish with the same result."""
    seen = []
    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: seen.append(signum))
    done = threading.Event()

    def pester():
        while not done.is_set():
            os.kill(os.getpid(), signal.SIGUSR1)
            time.sleep(0.002)

    try:
        calls = _calls()
        reference = {name: _in_thread(call) for name, call in calls.items()}
        sender = threading.Thread(target=pester)
        sender.start()
        try:
            results = {name: call() for name, call in calls.items()}
        finally:
            done.set()
            sender.join()
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert seen
    for name in calls:
        try:
            _same(results[name], reference[name])
        except AssertionError:
            pytest.fail(f"{name}: results differ when signal handlers run during the call")


def test_interrupted_call_leaves_nothing_behind():
    """KeyboardInterrupt inside a kernel (in this process); the next calls are exact."""
    # Under a background job SIGINT starts ignored and Python keeps it so (see CHILD).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _interrupted_call_leaves_nothing_behind()
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupted_call_leaves_nothing_behind() -> None:
    m = pspin.SphericalPSpin(300, 3, seed=2)
    s = m.random_state(2048, seed=1)
    small = s[:16]
    before = m.energy_and_gradient(small)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        for _ in range(100):  # one call takes ~0.5 s on 2 cores
            m.energy(s)
    assert time.perf_counter() - start < 0.3 + LIMIT
    _same(m.energy_and_gradient(small), before)
    _same(_in_thread(lambda: m.energy_and_gradient(small)), before)


def test_interval_hook_checks_its_argument():
    with pytest.raises(ValueError):
        _core._set_interrupt_interval(-1.0)
    with pytest.raises(ValueError):
        _core._set_interrupt_interval(float("nan"))
