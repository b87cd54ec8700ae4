#!/bin/bash
# Job script rendered by Brickyard from catalog/recipes/mpi-pingpong-gpu/1.0.0/recipe.yaml. Do not edit: change the recipe and render again.
# recipe: mpi-pingpong-gpu@1.0.0 (revision 2), extends mpi-pingpong@1.0.0
# system: perlmutter/gpu (x86_64, AMD EPYC 7763 (Milan) 64-core, 4x NVIDIA A100-SXM4)
# base: debian-12 = docker.io/library/debian:bookworm-20260918@sha256:704583dbf243593da87cf949fc0543ffeca24a28d36c2760dc9545410cb8ed02
# MPI: host-injection (mpich ABI, block mpich)
# target flags: -O2 -march=znver3
#SBATCH --job-name=mpi-pingpong-gpu
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1
#SBATCH --constraint=gpu
#SBATCH --qos=regular
#SBATCH --gpus-per-node=4
# Give your account or project when you submit: sbatch --account=<account> <this script>

set -euo pipefail

IMAGE="${BRICKYARD_IMAGE:-localhost/brickyard/mpi-pingpong-gpu:1.0.0-2-perlmutter-gpu}"

# Each rank sees its own GPU
GPU_SELECT="$(mktemp)"
cat > "$GPU_SELECT" <<'BRICKYARD_EOF'
#!/bin/bash
export CUDA_VISIBLE_DEVICES=$((3-SLURM_LOCALID)); exec "$@"
BRICKYARD_EOF
chmod +x "$GPU_SELECT"

# Launch
srun --nodes=2 --ntasks-per-node=1 "$GPU_SELECT" podman-hpc run --rm --gpu --mpi --device=/dev/nvidiactl --device=/dev/nvidia-uvm --device=/dev/nvidia-uvm-tools --device=/dev/nvidia0 --device=/dev/nvidia1 --device=/dev/nvidia2 --device=/dev/nvidia3 -v "$SCRATCH:$SCRATCH" "$IMAGE" /usr/local/bin/brickyard-pingpong "$@"
