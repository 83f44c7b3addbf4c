"""Scale check of issue 2: p=3 at n=2000 in float32 (5.3 GB of packed couplings) on a 24 GiB box.

Builds the model, takes a batched gradient, prints build time and peak memory, and shows that a
model that cannot fit is refused with the bytes it needs before anything is allocated.

    python examples/scale_n2000.py
"""

from __future__ import annotations

import resource
import time

import numpy as np
import pspin

start = time.perf_counter()
model = pspin.SphericalPSpin(2000, 3, seed=7, dtype="float32")
built = time.perf_counter() - start
states = model.random_state(8, seed=1)
start = time.perf_counter()
gradient = model.gradient(states)
batched = time.perf_counter() - start
start = time.perf_counter()
energy, _ = model.energy_and_gradient(states[0])
single = time.perf_counter() - start
print(f"n=2000 p=3 float32: {model.nbytes / 1e9:.2f} GB of couplings, built in {built:.1f} s "
      f"({pspin.get_num_threads()} threads)")
print(f"batched gradient b=8: {batched:.2f} s; b=1 energy+gradient: {single:.2f} s "
      f"({model.nbytes / single / 1e9:.1f} GB/s); finite: {bool(np.isfinite(gradient).all())}; e/n = {energy / 2000:+.4f}")
print(f"peak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")
try:
    pspin.SphericalPSpin(4000, 3, dtype="float32")
except MemoryError as exc:
    print(f"MemoryError (as expected): {exc}")
