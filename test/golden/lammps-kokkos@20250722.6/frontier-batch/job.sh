#!/bin/bash
# Job script rendered by Brickyard from catalog/recipes/lammps-kokkos/20250722.6/recipe.yaml. Do not edit: change the recipe and render again.
# recipe: lammps-kokkos@20250722.6 (revision 2)
# system: frontier/batch (x86_64, AMD Optimized 3rd Gen EPYC 64-core, 8x AMD Instinct MI250X (2 GCDs per module))
# base: debian-12 = docker.io/library/debian:bookworm-20260918@sha256:704583dbf243593da87cf949fc0543ffeca24a28d36c2760dc9545410cb8ed02
# MPI: host-injection (mpich ABI, block mpich)
# target flags: -O2 -march=znver3
#SBATCH --job-name=lammps-kokkos
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=8
#SBATCH --cpus-per-task=7
#SBATCH --partition=batch
#SBATCH --gpus-per-node=8
# Give your account or project when you submit: sbatch --account=<account> <this script>

set -euo pipefail

# Modules
module load cpe/24.11
module load cray-mpich-abi/8.1.31
module load rocm/6.2.4

# Environment of the partition, its GPUs and the MPI strategy
export APPTAINER_CONTAINLIBS="/usr/lib64/libcxi.so.1,/usr/lib64/libjson-c.so.5,/lib64/libtinfo.so.6,/usr/lib64/libnl-3.so.200,/usr/lib64/libgfortran.so.5,/usr/lib64/libjansson.so.4,/usr/lib64/libxpmem.so.0"
export MPICH_GPU_SUPPORT_ENABLED="1"

IMAGE="${BRICKYARD_IMAGE:-lammps-kokkos_20250722.6-2_frontier-batch.sif}"

# Environment inside the container
export APPTAINERENV_LD_LIBRARY_PATH="$CRAY_MPICH_ROOTDIR/gtl/lib:/opt/rocm/lib:/opt/rocm/lib64:$CRAY_LD_LIBRARY_PATH:$LD_LIBRARY_PATH:/opt/cray/pe/lib64${APPTAINERENV_LD_LIBRARY_PATH:+:$APPTAINERENV_LD_LIBRARY_PATH}"
export APPTAINERENV_LD_PRELOAD="$CRAY_MPICH_ROOTDIR/gtl/lib/libmpi_gtl_hsa.so.0:"

# Launch
srun --nodes=2 --ntasks-per-node=8 --cpus-per-task=7 --gpus-per-task=1 --gpu-bind=closest apptainer exec --rocm --bind "/usr/share/libdrm,/var/spool/slurmd,/opt/cray" "$IMAGE" /opt/lammps/bin/lmp "$@"
