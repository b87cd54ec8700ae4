#!/bin/bash
# Job script rendered by Brickyard from catalog/recipes/mpi-pingpong/1.0.0/recipe.yaml. Do not edit: change the recipe and render again.
# recipe: mpi-pingpong@1.0.0 (revision 2)
# system: local/debug (x86_64, AMD EPYC (Firecracker VM, 2 vCPUs, SHA-NI, AVX2))
# base: debian-12 = localhost/brickyard/base-debian-12:bookworm (built on the build host)
# MPI: hybrid-pmix (openmpi ABI, block openmpi)
# target flags: -O2 -march=x86-64-v2
#SBATCH --job-name=mpi-pingpong
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=2
#SBATCH --partition=debug

set -euo pipefail

IMAGE="${BRICKYARD_IMAGE:-localhost/brickyard/mpi-pingpong:1.0.0-2-local-debug}"

# Launch
srun --nodes=1 --ntasks-per-node=2 --mpi=pmix podman run --rm --network=host --ipc=host --pid=host --env=PMIX_* --env=SLURM_* --env=OMPI_MCA_* -e "OMPI_MCA_btl_vader_single_copy_mechanism=none" -e "PMIX_MCA_gds=hash" "$IMAGE" "$@"
