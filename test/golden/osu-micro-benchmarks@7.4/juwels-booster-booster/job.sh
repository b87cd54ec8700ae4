#!/bin/bash
# Job script rendered by Brickyard from catalog/recipes/osu-micro-benchmarks/7.4/recipe.yaml. Do not edit: change the recipe and render again.
# recipe: osu-micro-benchmarks@7.4 (revision 2)
# system: juwels-booster/booster (x86_64, 2x AMD EPYC 7402 24-core (SMT-2, NPS-4), 4x NVIDIA A100 40 GB (NVLink3))
# base: debian-12 = docker.io/library/debian:bookworm-20260918@sha256:704583dbf243593da87cf949fc0543ffeca24a28d36c2760dc9545410cb8ed02
# MPI: hybrid-pmix (openmpi ABI, block openmpi)
# target flags: -O2 -march=znver2
#SBATCH --job-name=osu-micro-benchmarks
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1
#SBATCH --partition=booster
#SBATCH --gres=gpu:4
# Give your account or project when you submit: sbatch --account=<account> <this script>

set -euo pipefail

IMAGE="${BRICKYARD_IMAGE:-osu-micro-benchmarks_7.4-2_juwels-booster-booster.sif}"

# Launch
srun --nodes=2 --ntasks-per-node=1 --mpi=pspmix apptainer exec "$IMAGE" "$@"
