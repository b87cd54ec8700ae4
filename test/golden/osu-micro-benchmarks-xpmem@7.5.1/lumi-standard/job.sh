#!/bin/bash
# Job script rendered by Brickyard from catalog/recipes/osu-micro-benchmarks-xpmem/7.5.1/recipe.yaml. Do not edit: change the recipe and render again.
# recipe: osu-micro-benchmarks-xpmem@7.5.1 (revision 1)
# system: lumi/standard (x86_64, 2x AMD EPYC 7763 (Milan) 64-core)
# base: ubuntu-24.04 = docker.io/library/ubuntu:noble-20260911@sha256:496754492fb28b4d3049432f2ca787449331e23fb14f0dd3fffea86bf5a93eb4
# MPI: host-injection (mpich ABI, block mpich)
# target flags: -O2 -march=znver3
#SBATCH --job-name=osu-micro-benchmarks-xpmem
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1
#SBATCH --partition=standard
# Give your account or project when you submit: sbatch --account=<account> <this script>

set -euo pipefail

# Modules
module load LUMI/25.03
module load partition/C
module load singularity-bindings

IMAGE="${BRICKYARD_IMAGE:-osu-micro-benchmarks-xpmem_7.5.1-1_lumi-standard.sif}"

# Launch
srun --nodes=2 --ntasks-per-node=1 singularity exec --bind "/opt/cray,/var/spool,/etc/host.conf,/etc/hosts,/etc/nsswitch.conf,/etc/resolv.conf,/etc/ssl/openssl.cnf,/usr/lib64/libcxi.so.1,/usr/lib64/libjansson.so.4,/run/cxi,/scratch/${PROJECT:?set PROJECT to your project id}" "$IMAGE" "$@"
