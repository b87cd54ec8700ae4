#!/bin/bash
# Job script rendered by Brickyard from catalog/recipes/lammps-kokkos/20250722.6/recipe.yaml. Do not edit: change the recipe and render again.
# recipe: lammps-kokkos@20250722.6 (revision 2)
# system: perlmutter/gpu (x86_64, AMD EPYC 7763 (Milan) 64-core, 4x NVIDIA A100-SXM4)
# base: debian-12 = docker.io/library/debian:bookworm-20260918@sha256:704583dbf243593da87cf949fc0543ffeca24a28d36c2760dc9545410cb8ed02
# MPI: host-injection (mpich ABI, block mpich)
# target flags: -O2 -march=znver3
#SBATCH --job-name=lammps-kokkos
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=4
#SBATCH --cpus-per-task=16
#SBATCH --constraint=gpu
#SBATCH --qos=regular
#SBATCH --gpus-per-node=4
# Give your account or project when you submit: sbatch --account=<account> <this script>

set -euo pipefail

IMAGE="${BRICKYARD_IMAGE:-localhost/brickyard/lammps-kokkos:20250722.6-2-perlmutter-gpu}"

# Launch
srun --nodes=2 --ntasks-per-node=4 --cpus-per-task=16 --gpus-per-task=1 --gpu-bind=closest podman-hpc run --rm --gpu --mpi --device=/dev/nvidiactl --device=/dev/nvidia-uvm --device=/dev/nvidia-uvm-tools --device=/dev/nvidia0 --device=/dev/nvidia1 --device=/dev/nvidia2 --device=/dev/nvidia3 -v "$SCRATCH:$SCRATCH" "$IMAGE" /opt/lammps/bin/lmp "$@"
