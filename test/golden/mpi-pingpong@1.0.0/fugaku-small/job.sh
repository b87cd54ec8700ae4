#!/bin/bash
# Job script rendered by Brickyard from catalog/recipes/mpi-pingpong/1.0.0/recipe.yaml. Do not edit: change the recipe and render again.
# recipe: mpi-pingpong@1.0.0 (revision 2)
# system: fugaku/small (aarch64, Fujitsu A64FX (Armv8.2-A + SVE 512-bit))
# base: debian-12 = docker.io/library/debian:bookworm-20260918@sha256:9a2bafc2cebc397fc253a4b80c6d4bc425eb5a2a819cd25ada003c7facd48f1d
# MPI: container-only (openmpi ABI, block openmpi)
# target flags: -O2 -mcpu=a64fx
#PJM -N mpi-pingpong
#PJM --mpi proc=2
#PJM -L rscunit=rscunit_ft01
#PJM -L rscgrp=small
#PJM -L node=2
#PJM -L elapse=0:10:00
# Give your account or project when you submit: pjsub -g <account> <this script>

set -euo pipefail

IMAGE="${BRICKYARD_IMAGE:-mpi-pingpong_1.0.0-2_fugaku-small.sif}"

# Launch
mpiexec -n 2 singularity exec "$IMAGE" /usr/local/bin/brickyard-pingpong "$@"
