#!/bin/bash
# Complexity of the spherical p = 3 model at n = 14 over 200 disorder samples, one sample
# per task of a SLURM job array, then one merge.
#
#   sbatch examples/slurm_array.sh            # 200 census tasks, 2 cores each
#   sbatch --dependency=afterok:<jobid> --wrap "pspin merge counts/p3n14.sample-*.h5"
#
# Sample i gets its couplings and starts from SeedSequence(seed).spawn(...)[i], so a task's
# file depends only on the run file and its index, never on the array size, the node or
# the order the tasks run. A task that is requeued or preempted (SIGTERM) finds its file
# already written and exits at once, or redoes only its own sample. The merged file
# (a ComplexityResult) holds the per-sample counts, the annealed and quenched complexity
# with jackknife / standard errors, and the exact finite-n Kac-Rice value beside them:
#
#   pspin show counts/p3n14.h5
#   pspin plot counts/p3n14.h5
#
#SBATCH --job-name=pspin-census
#SBATCH --array=0-199%50
#SBATCH --cpus-per-task=2
#SBATCH --mem=1G
#SBATCH --time=00:20:00
#SBATCH --output=logs/%x-%A_%a.log
#SBATCH --requeue
#SBATCH --signal=TERM@60

set -euo pipefail
mkdir -p counts logs

# The run file: the same for every task (written once; the tasks only read it).
RUN=counts/p3n14.toml
if [ ! -f "$RUN" ]; then
    cat > "$RUN.tmp.$SLURM_ARRAY_TASK_ID" <<'TOML'
# pspin census / pspin entropy run file (flags override these keys)
model = "spherical"
n = 14
p = 3
ensemble = "isotropic"   # the ensemble the exact finite-n Kac-Rice count is exact for
seed = 20261206          # root seed of the whole run: never change it between tasks
samples = 200            # disorder samples; the array indices must be 0 .. samples-1
n_starts = 2000          # L-BFGS starts per sample
bins = 20                # energy bins of the merged complexity
output = "counts/p3n14.h5"
TOML
    mv -n "$RUN.tmp.$SLURM_ARRAY_TASK_ID" "$RUN" 2>/dev/null || rm -f "$RUN.tmp.$SLURM_ARRAY_TASK_ID"
fi

# One disorder sample per task: writes counts/p3n14.sample-NNNNN.h5 (skipped if it exists).
srun pspin census "$RUN" --sample-index "$SLURM_ARRAY_TASK_ID" --threads "${SLURM_CPUS_PER_TASK:-1}"

# Several samples per task instead (e.g. --array=0-19 with 10 samples each):
#   A=$((SLURM_ARRAY_TASK_ID * 10)); pspin census "$RUN" --samples "$A:$((A + 10))"
#
# Without a scheduler, the same files and the merged result in one command:
#   pspin entropy counts/p3n14.toml
