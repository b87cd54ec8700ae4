#!/bin/bash
# Job script rendered by Brickyard from catalog/recipes/pytorch-ofi/2.7.1/recipe.yaml. Do not edit: change the recipe and render again.
# recipe: pytorch-ofi@2.7.1 (revision 1), extends pytorch-mpi@2.7.1
# system: alps/normal (aarch64, 4x NVIDIA Grace 72-core (Arm Neoverse-V2), 4x NVIDIA GH200 120GB (Hopper))
# base: debian-12 = docker.io/library/debian:bookworm-20260918@sha256:9a2bafc2cebc397fc253a4b80c6d4bc425eb5a2a819cd25ada003c7facd48f1d
# MPI: cxi-hook (mpich ABI, block mpich)
# target flags: -O2 -march=armv9-a+i8mm+bf16 -mtune=cortex-a710
#SBATCH --job-name=pytorch-ofi
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=4
#SBATCH --cpus-per-task=72
#SBATCH --partition=normal
# Give your account or project when you submit: sbatch --account=<account> <this script>

set -euo pipefail

IMAGE="${BRICKYARD_IMAGE:-pytorch-ofi_2.7.1-1_alps-normal.sqsh}"
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

[annotations]
com.hooks.aws_ofi_nccl.enabled = "true"
com.hooks.aws_ofi_nccl.variant = "cuda-dl"
BRICKYARD_EOF

# Launch
srun --nodes=2 --ntasks-per-node=4 --mpi=pmi2 --cpus-per-task=72 --gpus-per-task=1 --gpu-bind=closest --environment="$EDF" /opt/venv/bin/python3 "$@"
