#!/bin/bash
# One spherical p = 3 model at n = 8000 in float32 (341 GB of packed couplings) split over
# 64 MPI ranks on 16 nodes (docs/mpi.md): each rank generates and holds 5.3 GB, one rank
# per NUMA domain with 16 threads streaming its share. L-BFGS from 64 starts, then the
# lowest Hessian eigenvalues at the lowest minimum (Lanczos): bit-identical to one process
# with the same seed, had one process the memory.
#
#   sbatch examples/slurm_distributed.sh
#   pspin show runs/p3n8000-minima.h5
#
# Layout: --ntasks-per-node = NUMA domains per node (4 here), --cpus-per-task = cores per
# domain; OMP_NUM_THREADS follows --cpus-per-task. The ranks on a node check together that
# their shares fit its memory before anything is allocated.
#
#SBATCH --job-name=pspin-dist
#SBATCH --nodes=16
#SBATCH --ntasks-per-node=4
#SBATCH --cpus-per-task=16
#SBATCH --mem=0
#SBATCH --time=02:00:00

set -euo pipefail
export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK}
export OMP_PROC_BIND=close OMP_PLACES=cores
export PSPIN_MPI_TIMEOUT=900  # a rank silent this long is gone: the others raise RankTimeout
mkdir -p runs

# srun gives stdin to one task only, so the script goes on the command line.
read -r -d '' SCRIPT <<'PY' || true
from mpi4py import MPI

import pspin
from pspin.mpi import DistributedSphericalPSpin

comm = MPI.COMM_WORLD
model = DistributedSphericalPSpin(comm, 8000, 3, seed=2026, dtype="float32")
result = pspin.minimize(model, n_starts=64, seed=1, gtol=1e-5)
lowest = result.states[result.energies.argmin()]
eigenvalues = pspin.landscape.smallest_hessian_eigenvalues(model, lowest, k=8)
if comm.rank == 0:
    result.save("runs/p3n8000-minima.h5")
    print("lowest energy per spin", result.energies.min() / model.n)
    print("smallest Hessian eigenvalues", eigenvalues)
    print("exchanges on rank 0:", model.exchange_stats)
PY

# -m mpi4py: an uncaught exception on any rank aborts them all instead of leaving them waiting.
srun python -m mpi4py -c "$SCRIPT"
