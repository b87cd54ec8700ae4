#!/bin/bash
# Job script rendered by Brickyard from catalog/recipes/lammps-kokkos/20250722.6/recipe.yaml. Do not edit: change the recipe and render again.
# recipe: lammps-kokkos@20250722.6 (revision 2)
# system: lumi/standard-g (x86_64, AMD EPYC 7A53 "Trento" 64-core, 8x AMD Instinct MI250X (2 GCDs per module))
# base: debian-12 = docker.io/library/debian:bookworm-20260918@sha256:704583dbf243593da87cf949fc0543ffeca24a28d36c2760dc9545410cb8ed02
# MPI: host-injection (mpich ABI, block mpich)
# target flags: -O2 -march=znver3
#SBATCH --job-name=lammps-kokkos
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=8
#SBATCH --cpus-per-task=7
#SBATCH --partition=standard-g
#SBATCH --gpus-per-node=8
# Give your account or project when you submit: sbatch --account=<account> <this script>

set -euo pipefail

# Modules
module load LUMI/25.03
module load partition/G
module load singularity-bindings

# Environment of the partition, its GPUs and the MPI strategy
export NCCL_SOCKET_IFNAME="hsn"
export NCCL_NET_GDR_LEVEL="3"
export CXI_FORK_SAFE="1"
export CXI_FORK_SAFE_HP="1"
export FI_CXI_DISABLE_CQ_HUGETLB="1"
export MPICH_GPU_SUPPORT_ENABLED="1"

IMAGE="${BRICKYARD_IMAGE:-lammps-kokkos_20250722.6-2_lumi-standard-g.sif}"

# Launch
srun --nodes=2 --ntasks-per-node=8 --cpus-per-task=7 --gpus-per-task=1 --gpu-bind=closest singularity exec --bind "/opt/cray,/var/spool,/etc/host.conf,/etc/hosts,/etc/nsswitch.conf,/etc/resolv.conf,/etc/ssl/openssl.cnf,/usr/lib64/libcxi.so.1,/usr/lib64/libjansson.so.4,/run/cxi,/scratch/${PROJECT:?set PROJECT to your project id}" "$IMAGE" /opt/lammps/bin/lmp "$@"
