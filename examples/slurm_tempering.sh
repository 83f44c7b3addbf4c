#!/bin/bash
# Parallel tempering of the spherical p = 3 model at n = 256, 32 temperatures x 2 replicas,
# the 64 configurations split over 4 MPI ranks (docs/mpi_tempering.md): each rank holds the
# couplings and sweeps 16 configurations with 16 threads. Bit-identical to the same run on
# one process; the checkpoint is the single-process format, so a requeued or preempted job
# (SIGTERM: every rank stops after a save) resumes on any number of ranks.
#
#   sbatch examples/slurm_tempering.sh
#   pspin show runs/p3n256-pt.h5
#
#SBATCH --job-name=pspin-pt
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=2
#SBATCH --cpus-per-task=16
#SBATCH --time=04:00:00
#SBATCH --requeue
#SBATCH --signal=TERM@120

set -euo pipefail
export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK}
export OMP_PROC_BIND=close OMP_PLACES=cores
export PSPIN_MPI_TIMEOUT=600  # a rank silent this long is gone: the others raise RankTimeout
mkdir -p runs

# srun gives stdin to one task only, so the script goes on the command line.
read -r -d '' SCRIPT <<'PY' || true
import numpy as np
from mpi4py import MPI

import pspin
import pspin.mpi

comm = MPI.COMM_WORLD
model = pspin.SphericalPSpin(256, 3, seed=1)
pt = pspin.mpi.ParallelTempering(comm, model, np.geomspace(0.5, 2.0, 32), replicas=2, seed=7)
result = pt.run(20_000, burn_in=4_000, sample_every=10, checkpoint="runs/p3n256-pt.ckpt.h5",
                checkpoint_every=600, progress=comm.Get_rank() == 0)
if comm.Get_rank() == 0:
    result.save("runs/p3n256-pt.h5")
PY
srun --cpu-bind=cores python -m mpi4py -c "$SCRIPT"
