#!/bin/bash
# Job script rendered by Brickyard from catalog/recipes/osu-micro-benchmarks/7.4/recipe.yaml. Do not edit: change the recipe and render again.
# recipe: osu-micro-benchmarks@7.4 (revision 2)
# system: lumi/standard-g (x86_64, AMD EPYC 7A53 "Trento" 64-core, 8x AMD Instinct MI250X (2 GCDs per module))
# base: debian-12 = docker.io/library/debian:bookworm-20260918@sha256:704583dbf243593da87cf949fc0543ffeca24a28d36c2760dc9545410cb8ed02
# MPI: host-injection (mpich ABI, block mpich)
# target flags: -O2 -march=znver3
#SBATCH --job-name=osu-micro-benchmarks
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

IMAGE="${BRICKYARD_IMAGE:-osu-micro-benchmarks_7.4-2_lumi-standard-g.sif}"

# Launch
srun --nodes=2 --ntasks-per-node=1 singularity exec --bind "/opt/cray,/var/spool,/etc/host.conf,/etc/hosts,/etc/nsswitch.conf,/etc/resolv.conf,/etc/ssl/openssl.cnf,/usr/lib64/libcxi.so.1,/usr/lib64/libjansson.so.4,/run/cxi,/scratch/${PROJECT:?set PROJECT to your project id}" "$IMAGE" "$@"
