#!/bin/bash
# Job script rendered by Brickyard from catalog/recipes/osu-micro-benchmarks-xpmem/7.5.1/recipe.yaml. Do not edit: change the recipe and render again.
# recipe: osu-micro-benchmarks-xpmem@7.5.1 (revision 1)
# system: alps/normal (aarch64, 4x NVIDIA Grace 72-core (Arm Neoverse-V2), 4x NVIDIA GH200 120GB (Hopper))
# base: ubuntu-24.04 = docker.io/library/ubuntu:noble-20260911@sha256:11dc1ccb427f0464a2369e645454c272bb0baece7357c892ba69d313b3a332cf
# MPI: cxi-hook (mpich ABI, block mpich)
# target flags: -O2 -mcpu=neoverse-v2
#SBATCH --job-name=osu-micro-benchmarks-xpmem
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1
#SBATCH --partition=normal
# Give your account or project when you submit: sbatch --account=<account> <this script>

set -euo pipefail

IMAGE="${BRICKYARD_IMAGE:-osu-micro-benchmarks-xpmem_7.5.1-1_alps-normal.sqsh}"
case "$IMAGE" in
  /* | ./* | ../*) ;;
  *.sqsh) IMAGE="$PWD/$IMAGE" ;;
esac

# Container Engine environment definition
EDF="$(mktemp --suffix=.toml)"
cat > "$EDF" <<BRICKYARD_EOF
image = "${IMAGE}"
mounts = []

[env]
MPIR_CVAR_CH4_OFI_ENABLE_HMEM = "1"
BRICKYARD_EOF

# Launch
srun --nodes=2 --ntasks-per-node=1 --mpi=pmi2 --environment="$EDF" "$@"
