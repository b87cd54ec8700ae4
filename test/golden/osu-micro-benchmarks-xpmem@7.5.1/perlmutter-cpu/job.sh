#!/bin/bash
# Job script rendered by Brickyard from catalog/recipes/osu-micro-benchmarks-xpmem/7.5.1/recipe.yaml. Do not edit: change the recipe and render again.
# recipe: osu-micro-benchmarks-xpmem@7.5.1 (revision 1)
# system: perlmutter/cpu (x86_64, 2x AMD EPYC 7763 (Milan) 64-core)
# base: ubuntu-24.04 = docker.io/library/ubuntu:noble-20260911@sha256:496754492fb28b4d3049432f2ca787449331e23fb14f0dd3fffea86bf5a93eb4
# MPI: host-injection (mpich ABI, block mpich)
# target flags: -O2 -march=znver3
#SBATCH --job-name=osu-micro-benchmarks-xpmem
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1
#SBATCH --constraint=cpu
#SBATCH --qos=regular
# Give your account or project when you submit: sbatch --account=<account> <this script>

set -euo pipefail

IMAGE="${BRICKYARD_IMAGE:-localhost/brickyard/osu-micro-benchmarks-xpmem:7.5.1-1-perlmutter-cpu}"

# Launch
srun --nodes=2 --ntasks-per-node=1 podman-hpc run --rm --mpi -v "$SCRATCH:$SCRATCH" "$IMAGE" "$@"
