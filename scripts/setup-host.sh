#!/usr/bin/env bash
# Installs and configures what Brickyard's `local` system needs on a Debian or
# Ubuntu build host: buildah + podman on runc, skopeo, umoci, mmdebstrap,
# squashfs-tools, Open MPI, MPICH, Slurm + munge and the distribution registry.
# Idempotent: a second run checks with dpkg-query and does not touch apt.
#
# Usage: scripts/setup-host.sh [--with-charliecloud]
#   --with-charliecloud  also install charliecloud (its charliecloud-builders
#                        package Depends on docker.io, so it brings dockerd,
#                        containerd and apparmor; hence optional).
# Exit codes: 0 ready, 1 a step failed, 2 this host or user cannot run it.
set -euo pipefail

BY_PROG=setup-host
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=scripts/lib/containers-env.sh
. "$here/lib/containers-env.sh"

with_charliecloud=0
for arg in "$@"; do
  case $arg in
    --with-charliecloud) with_charliecloud=1 ;;
    -h | --help)
      sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *) by_die "unknown argument '$arg' (usage: setup-host.sh [--with-charliecloud])" 2 ;;
  esac
done

# Everything comes from Debian main; --no-install-recommends keeps crun,
# fuse-overlayfs, slirp4netns and friends out: crun fails on hybrid cgroups and
# the others are only for rootless use. containernetworking-plugins is named so
# that apt does not have to choose the provider of podman's network stack
# (CNI is what podman 4.3 was measured with; --network=host needs none).
PACKAGES=(
  buildah podman runc conmon containernetworking-plugins skopeo umoci uidmap
  mmdebstrap squashfs-tools
  siftool charliecloud-runtime squashfuse # SIF files (build --sif) and running their root file system with ch-run
  openmpi-bin libopenmpi-dev mpich libmpich-dev
  slurm-wlm munge
  docker-registry curl chromium
  jq # the docs read JSON records with it, and test/docs runs the docs
  debian-archive-keyring # Ubuntu hosts build the Debian base from Debian's mirror (build-base.sh)
  shellcheck             # rendered job scripts are linted in test/render
  gcc-aarch64-linux-gnu  # Debian 12's GCC for aarch64: checks catalog/toolchains.yaml's Arm target flags
)
((with_charliecloud)) && PACKAGES+=(charliecloud)

# Which command proves each package on hosts without dpkg.
declare -A PKG_CMD=(
  [buildah]=buildah [podman]=podman [runc]=runc [conmon]=conmon
  [containernetworking-plugins]=/usr/lib/cni/bridge [skopeo]=skopeo
  [umoci]=umoci [uidmap]=newuidmap [mmdebstrap]=mmdebstrap
  [squashfs-tools]=mksquashfs [openmpi-bin]=mpirun.openmpi
  [libopenmpi-dev]=mpicc.openmpi [mpich]=mpirun.mpich [libmpich-dev]=mpicc.mpich
  [slurm-wlm]=slurmctld [munge]=munged [docker-registry]=docker-registry
  [curl]=curl [chromium]=chromium [jq]=jq [charliecloud]=ch-run
  [siftool]=siftool [charliecloud-runtime]=ch-run [squashfuse]=squashfuse
  [debian-archive-keyring]=/usr/share/keyrings/debian-archive-keyring.gpg
  [shellcheck]=shellcheck [gcc-aarch64-linux-gnu]=aarch64-linux-gnu-gcc
)

# --- 1. Can this host use apt? ---------------------------------------------
if [[ ! -r /etc/debian_version ]] || ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
  # shellcheck source=/dev/null
  os=$( (. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown}") || echo unknown)
  missing_cmds=()
  for p in "${PACKAGES[@]}"; do
    c=${PKG_CMD[$p]}
    if [[ $c == /* ]]; then [[ -e $c ]] || missing_cmds+=("$c ($p)"); else command -v "$c" >/dev/null || missing_cmds+=("$c ($p)"); fi
  done
  by_log "this script installs with apt on Debian/Ubuntu only; this host is: $os"
  if ((${#missing_cmds[@]})); then
    by_log "missing commands (Debian package in brackets):"
    printf '  %s\n' "${missing_cmds[@]}" >&2
    by_log "install your distribution's equivalents of those packages, then write the container settings by hand:"
  else
    by_log "all commands are present; check the container settings by hand:"
  fi
  by_log "  $BY_CONTAINERS_DROPIN: [engine] runtime=\"runc\", cgroup_manager=\"cgroupfs\", events_logger=\"file\"; [containers] default_ulimits=[\"nofile=20000:20000\",\"nproc=32768:32768\"]"
  by_log "  $BY_STORAGE_CONF: [storage] driver=\"overlay\" (or \"vfs\")"
  exit 2
fi

# --- 2. What is missing? ---------------------------------------------------
# ${db:Status-Abbrev} is "ii " for an installed package; "rc " and unknown
# packages count as missing.
missing=()
declare -A status=()
while IFS=$'\t' read -r name st; do
  status[$name]=$st
done < <(dpkg-query -W -f='${Package}\t${db:Status-Abbrev}\n' "${PACKAGES[@]}" 2>/dev/null || true)
for p in "${PACKAGES[@]}"; do
  [[ ${status[$p]:-} == "ii " ]] || missing+=("$p")
done

# The desired container settings. The limits are clamped to this host's hard
# limits: root may lack CAP_SYS_RESOURCE (it does on the measured hosts, hard
# NOFILE 20000), and runc then cannot set rlimits above the hard limit, which is
# why podman's own defaults (1048576) fail with "error setting rlimit type 7".
clamp() { # clamp WANT HARD
  if [[ $2 == unlimited ]] || (($1 <= $2)); then echo "$1"; else echo "$2"; fi
}
nofile=$(clamp 20000 "$(ulimit -Hn)")
nproc=$(clamp 32768 "$(ulimit -Hu)")

containers_conf() {
  cat <<EOF
# Written by Brickyard scripts/setup-host.sh; rerun it rather than editing.
# crun refuses hybrid cgroups ("cgroups in hybrid mode not supported"), so
# runc; cgroupfs and the file events logger because there is no systemd to
# talk to; ulimits within the hard limits root has here (podman's defaults
# exceed them: "error setting rlimit type 7: operation not permitted").
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
}

storage_conf() { # storage_conf DRIVER
  cat <<EOF
# Written by Brickyard scripts/setup-host.sh; rerun it rather than editing.
# overlay as root: podman run takes 0.3 s instead of the 3 to 16 s vfs needs
# to copy the whole image per container. vfs only where overlay cannot mount.
[storage]
driver = "$1"
runroot = "$BY_RUNROOT"
graphroot = "$BY_GRAPHROOT"
EOF
  if [[ $1 == overlay ]]; then
    printf '\n[storage.options.overlay]\nmountopt = "nodev"\n'
  fi
}

# The driver an existing store was created with; switching would hide its
# images, and podman refuses a store whose database names another driver.
existing_driver() {
  local d
  for d in overlay vfs; do
    if [[ -d $BY_GRAPHROOT/$d-layers ]]; then
      echo "$d"
      return
    fi
  done
}

desired_driver=overlay
[[ -n $(existing_driver) ]] && desired_driver=$(existing_driver)

config_stale=()
[[ -f $BY_CONTAINERS_DROPIN && $(<"$BY_CONTAINERS_DROPIN") == "$(containers_conf)" ]] || config_stale+=("$BY_CONTAINERS_DROPIN")
if [[ ! -f $BY_STORAGE_CONF ]] || ! grep -q '^# Written by Brickyard' "$BY_STORAGE_CONF"; then
  config_stale+=("$BY_STORAGE_CONF")
fi

# --- 3. Not root: report and stop -----------------------------------------
if ((EUID != 0)); then
  if ((${#missing[@]} == 0 && ${#config_stale[@]} == 0)); then
    exit 0
  fi
  ((${#missing[@]})) && by_log "missing packages: ${missing[*]}"
  ((${#config_stale[@]})) && by_log "missing or outdated container settings: ${config_stale[*]}"
  by_log "run as root: sudo $0${*:+ $*}"
  by_log "(or by hand: apt-get update && apt-get install -y --no-install-recommends ${missing[*]:-<nothing>})"
  exit 2
fi

# --- 4. Install ------------------------------------------------------------
if ((${#missing[@]})); then
  t0=$(by_now)
  by_log "installing ${#missing[@]} package(s): ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_opts=(-o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  # Always refresh the lists before installing: a fresh machine has stale or no
  # lists, and a failed fetch would otherwise show up as "unable to locate".
  apt-get "${apt_opts[@]}" -q update >/dev/null || by_die "apt-get update failed (run it by hand to see why)"
  if ! out=$(apt-get "${apt_opts[@]}" -q -y install --no-install-recommends "${missing[@]}" 2>&1); then
    tail -n 30 <<<"$out" >&2
    by_die "apt-get install failed for: ${missing[*]}"
  fi
  still=()
  for p in "${missing[@]}"; do
    [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) == "ii " ]] || still+=("$p")
  done
  ((${#still[@]} == 0)) || by_die "still not installed after apt-get install: ${still[*]}"
  by_log "installed in $(by_elapsed "$t0") s"
  if ((with_charliecloud)); then
    by_log "charliecloud notes: run ch-image with /usr/bin first on PATH and USER set (export PATH=/usr/bin:\$PATH USER=root)"
  fi
fi

# --- 5. Container settings -------------------------------------------------
# write_file PATH CONTENT: atomic replace, only when the content differs.
write_file() {
  local path=$1 content=$2 tmp
  if [[ -f $path && $(<"$path") == "$content" ]]; then
    return 0
  fi
  mkdir -p -- "$(dirname -- "$path")"
  if [[ -f $path ]] && ! grep -q '^# Written by Brickyard' "$path" && [[ ! -e $path.brickyard-orig ]]; then
    cp -p -- "$path" "$path.brickyard-orig"
    by_log "kept the previous $path as $path.brickyard-orig"
  fi
  tmp=$(mktemp "$path.XXXXXX")
  printf '%s\n' "$content" >"$tmp"
  chmod 0644 "$tmp"
  mv -f -- "$tmp" "$path"
  by_log "wrote $path"
}

# podman 4.3 / buildah 1.28 read drop-ins from containers.conf.d (verified:
# `podman info` reports runc, cgroupfs and the file logger with only the
# drop-in present), so the distribution's containers.conf stays untouched.
write_file "$BY_CONTAINERS_DROPIN" "$(containers_conf)"

# Whoever exports CONTAINERS_CONF replaces every system file, drop-ins included.
if [[ -n ${CONTAINERS_CONF:-} ]]; then
  by_warn "CONTAINERS_CONF=$CONTAINERS_CONF is set here; podman then ignores $BY_CONTAINERS_DROPIN"
fi

fresh_store=0
[[ -n $(existing_driver) ]] || fresh_store=1
write_file "$BY_STORAGE_CONF" "$(storage_conf "$desired_driver")"

# --- 6. Verify what podman and buildah actually use ------------------------
probe() {
  podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.CgroupManager}} {{.Host.EventLogger}} {{.Store.GraphDriverName}}' 2>&1
}
if ! got=$(probe); then
  if ((fresh_store)) && [[ $desired_driver == overlay ]]; then
    # Fresh store and overlay cannot mount here (e.g. the graphroot sits on
    # overlayfs inside a container): fall back to vfs.
    by_warn "overlay storage does not work here ($got); falling back to vfs"
    rm -rf -- "${BY_GRAPHROOT:?}/overlay" "$BY_GRAPHROOT"/overlay-* "$BY_GRAPHROOT/libpod"
    write_file "$BY_STORAGE_CONF" "$(storage_conf vfs)"
    got=$(probe) || by_die "podman info fails with vfs storage too: $got"
  else
    by_die "podman info failed: $got"
  fi
fi
read -r rt cgm evl drv <<<"$got"
[[ $rt == runc && $cgm == cgroupfs && $evl == file ]] ||
  by_die "podman does not use the settings of $BY_CONTAINERS_DROPIN (runtime=$rt cgroup_manager=$cgm events_logger=$evl)"
bdrv=$(buildah info --format '{{index .store "GraphDriverName"}}' 2>&1) || by_die "buildah info failed: $bdrv"
[[ $bdrv == "$drv" ]] || by_die "buildah uses storage driver '$bdrv' but podman uses '$drv'"
if [[ $drv != overlay ]]; then
  by_warn "storage driver is $drv (an existing store was kept); for overlay: podman system reset, then rerun this script"
fi

if ((${#missing[@]} || ${#config_stale[@]})); then
  by_log "ready: podman/buildah use runtime=$rt cgroup_manager=$cgm events_logger=$evl storage=$drv ulimits nofile=$nofile nproc=$nproc"
fi
