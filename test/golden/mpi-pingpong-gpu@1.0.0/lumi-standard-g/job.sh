#!/bin/bash
# Job script rendered by Brickyard from catalog/recipes/mpi-pingpong-gpu/1.0.0/recipe.yaml. Do not edit: change the recipe and render again.
# recipe: mpi-pingpong-gpu@1.0.0 (revision 2), extends mpi-pingpong@1.0.0
# system: lumi/standard-g (x86_64, AMD EPYC 7A53 "Trento" 64-core, 8x AMD Instinct MI250X (2 GCDs per module))
# base: debian-12 = docker.io/library/debian:bookworm-20260918@sha256:704583dbf243593da87cf949fc0543ffeca24a28d36c2760dc9545410cb8ed02
# MPI: host-injection (mpich ABI, block mpich)
# target flags: -O2 -march=znver3
#SBATCH --job-name=mpi-pingpong-gpu
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1
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

IMAGE="${BRICKYARD_IMAGE:-mpi-pingpong-gpu_1.0.0-2_lumi-standard-g.sif}"

# Each rank sees its own GPU
GPU_SELECT="$(mktemp)"
cat > "$GPU_SELECT" <<'BRICKYARD_EOF'
#!/bin/bash
export ROCR_VISIBLE_DEVICES=$SLURM_LOCALID; exec "$@"
BRICKYARD_EOF
chmod +x "$GPU_SELECT"

# Launch
srun --nodes=2 --ntasks-per-node=1 "$GPU_SELECT" singularity exec --bind "/opt/cray,/var/spool,/etc/host.conf,/etc/hosts,/etc/nsswitch.conf,/etc/resolv.conf,/etc/ssl/openssl.cnf,/usr/lib64/libcxi.so.1,/usr/lib64/libjansson.so.4,/run/cxi,/scratch/${PROJECT:?set PROJECT to your project id}" "$IMAGE" /usr/local/bin/brickyard-pingpong "$@"
