#!/bin/bash
# Job script rendered by Brickyard from catalog/recipes/mpi-pingpong-gpu/1.0.0/recipe.yaml. Do not edit: change the recipe and render again.
# recipe: mpi-pingpong-gpu@1.0.0 (revision 2), extends mpi-pingpong@1.0.0
# system: alps/normal (aarch64, 4x NVIDIA Grace 72-core (Arm Neoverse-V2), 4x NVIDIA GH200 120GB (Hopper))
# base: debian-12 = docker.io/library/debian:bookworm-20260918@sha256:9a2bafc2cebc397fc253a4b80c6d4bc425eb5a2a819cd25ada003c7facd48f1d
# MPI: cxi-hook (mpich ABI, block mpich)
# target flags: -O2 -march=armv9-a+i8mm+bf16 -mtune=cortex-a710
#SBATCH --job-name=mpi-pingpong-gpu
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1
#SBATCH --partition=normal
# Give your account or project when you submit: sbatch --account=<account> <this script>

set -euo pipefail

IMAGE="${BRICKYARD_IMAGE:-mpi-pingpong-gpu_1.0.0-2_alps-normal.sqsh}"
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
srun --nodes=2 --ntasks-per-node=1 --mpi=pmi2 --environment="$EDF" /usr/local/bin/brickyard-pingpong "$@"
