#!/bin/bash
# Minima of the spherical p = 3 model at n = 200 over 512 disorder samples: a disorder farm
# over MPI ranks, 128 samples per allocation, four allocations as a SLURM job array.
#
#   sbatch examples/slurm_farm.sh          # array tasks 0-3, samples 128*i .. 128*i+127 each
#
# Layout of one array task (one allocation):
#
#   --ntasks=17         17 MPI ranks: rank 0 runs the command (it submits samples and writes
#                       each file as it comes back), ranks 1..16 are the workers.
#   --cpus-per-task=4   4 cores per rank; --threads 4 runs each sample under pspin.threads(4)
#                       (OMP_NUM_THREADS says the same to anything else).
#
# so 16 workers x 4 threads = 64 cores work, and rank 0 mostly waits. Results are
# bit-identical for any layout: many small samples want more ranks and fewer threads
# (--cpus-per-task=1 --threads 1), few large ones fewer ranks and more threads. More
# workers than samples left to do is a warning, not an error (the extra ranks idle).
#
# Sample i is seeded by SeedSequence(seed).spawn(...)[i] whichever task, rank or order runs
# it, so pspin.farm(..., seed=20261206) in Python gives the same numbers for the same i.
# A requeued or preempted task (SIGTERM) finds the samples it finished and does the rest.
#
#   pspin show farm/p3n200.sample-00000.h5
#
#SBATCH --job-name=pspin-farm
#SBATCH --array=0-3
#SBATCH --ntasks=17
#SBATCH --cpus-per-task=4
#SBATCH --mem-per-cpu=1G
#SBATCH --time=01:00:00
#SBATCH --output=logs/%x-%A_%a.log
#SBATCH --requeue
#SBATCH --signal=TERM@120

set -euo pipefail
mkdir -p farm logs

# The run file: the same for every task (written once; the tasks only read it).
RUN=farm/p3n200.toml
if [ ! -f "$RUN" ]; then
    cat > "$RUN.tmp.$SLURM_ARRAY_TASK_ID" <<'TOML'
# pspin minimize run file (flags override these keys)
model = "spherical"
n = 200
p = 3
seed = 20261206          # root seed of the whole farm: never change it between tasks
samples = 512            # disorder samples of the whole farm
n_starts = 256           # L-BFGS descents per sample
output = "farm/p3n200.h5"
TOML
    mv -n "$RUN.tmp.$SLURM_ARRAY_TASK_ID" "$RUN" 2>/dev/null || rm -f "$RUN.tmp.$SLURM_ARRAY_TASK_ID"
fi

PER_TASK=128
A=$((SLURM_ARRAY_TASK_ID * PER_TASK))
export OMP_NUM_THREADS="${SLURM_CPUS_PER_TASK:-1}"

# Rank 0 runs pspin; python -m mpi4py.futures makes the other ranks its workers (the
# default executor there is mpi). Needs pip install 'pspin[mpi]' (mpi4py) on the nodes;
# with the cluster's own MPI, build mpi4py against it instead of the mpich wheel.
srun python -m mpi4py.futures -m pspin minimize "$RUN" --samples "$A:$((A + PER_TASK))" \
    --threads "$OMP_NUM_THREADS"

# On one node without MPI, the same files from a process pool:
#   pspin minimize farm/p3n200.toml --samples 0:128 --executor process --workers 16 --threads 4
# From Python (one file per sample in farm/py, resumable):
#   pspin.farm(functools.partial(pspin.SphericalPSpin, 200, 3),
#              functools.partial(pspin.minimize, n_starts=256), 512, seed=20261206,
#              samples="0:128", out="farm/py", executor=mpi4py.futures.MPIPoolExecutor())
