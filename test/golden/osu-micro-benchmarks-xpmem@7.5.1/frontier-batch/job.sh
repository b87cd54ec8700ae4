#!/bin/bash
# Job script rendered by Brickyard from catalog/recipes/osu-micro-benchmarks-xpmem/7.5.1/recipe.yaml. Do not edit: change the recipe and render again.
# recipe: osu-micro-benchmarks-xpmem@7.5.1 (revision 1)
# system: frontier/batch (x86_64, AMD Optimized 3rd Gen EPYC 64-core, 8x AMD Instinct MI250X (2 GCDs per module))
# base: ubuntu-24.04 = docker.io/library/ubuntu:noble-20260911@sha256:496754492fb28b4d3049432f2ca787449331e23fb14f0dd3fffea86bf5a93eb4
# MPI: host-injection (mpich ABI, block mpich)
# target flags: -O2 -march=znver3
#SBATCH --job-name=osu-micro-benchmarks-xpmem
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1
#SBATCH --partition=batch
#SBATCH --gpus-per-node=8
# Give your account or project when you submit: sbatch --account=<account> <this script>

set -euo pipefail

# Modules
module load cpe/24.11
module load cray-mpich-abi/8.1.31

# Environment of the partition, its GPUs and the MPI strategy
export APPTAINER_CONTAINLIBS="/usr/lib64/libcxi.so.1,/usr/lib64/libjson-c.so.5,/lib64/libtinfo.so.6,/usr/lib64/libnl-3.so.200,/usr/lib64/libgfortran.so.5,/usr/lib64/libjansson.so.4,/usr/lib64/libxpmem.so.0"

IMAGE="${BRICKYARD_IMAGE:-osu-micro-benchmarks-xpmem_7.5.1-1_frontier-batch.sif}"

# Environment inside the container
export APPTAINERENV_LD_LIBRARY_PATH="$CRAY_LD_LIBRARY_PATH:$LD_LIBRARY_PATH:/opt/cray/pe/lib64${APPTAINERENV_LD_LIBRARY_PATH:+:$APPTAINERENV_LD_LIBRARY_PATH}"

# Launch
srun --nodes=2 --ntasks-per-node=1 apptainer exec --bind "/usr/share/libdrm,/var/spool/slurmd,/opt/cray" "$IMAGE" "$@"
