#!/bin/bash
# Job script rendered by Brickyard from catalog/recipes/osu-micro-benchmarks/7.4/recipe.yaml. Do not edit: change the recipe and render again.
# recipe: osu-micro-benchmarks@7.4 (revision 2)
# system: perlmutter/gpu (x86_64, AMD EPYC 7763 (Milan) 64-core, 4x NVIDIA A100-SXM4)
# base: debian-12 = docker.io/library/debian:bookworm-20260918@sha256:704583dbf243593da87cf949fc0543ffeca24a28d36c2760dc9545410cb8ed02
# MPI: host-injection (mpich ABI, block mpich)
# target flags: -O2 -march=znver3
#SBATCH --job-name=osu-micro-benchmarks
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1
#SBATCH --constraint=gpu
#SBATCH --qos=regular
#SBATCH --gpus-per-node=4
# Give your account or project when you submit: sbatch --account=<account> <this script>

set -euo pipefail

IMAGE="${BRICKYARD_IMAGE:-localhost/brickyard/osu-micro-benchmarks:7.4-2-perlmutter-gpu}"

# Launch
srun --nodes=2 --ntasks-per-node=1 podman-hpc run --rm --mpi -v "$SCRATCH:$SCRATCH" "$IMAGE" "$@"
