#!/usr/bin/env bash
# A private two-node Slurm 22.05 cluster on this one machine: two network
# namespaces joined by a veth pair, addresses in a /30 that exists only inside
# them (10.251.0.1 = n1, 10.251.0.2 = n2; no route to or from the host), a
# slurmd in each (own UTS and mount namespace: hostname nI and a private /tmp),
# slurmctld in n1's namespace, one munged whose socket file all share. Every
# file lives under STATE_DIR, which must not be under /tmp (each node hides
# /tmp behind its own). Recipe verified in shared/reference/host-infra.md §6
# (there with a bridge on the host; here a veth pair, so no host address).
#
# Usage: scripts/services/slurm-2node.sh start|stop|status STATE_DIR
#   start   create the namespaces and veth pair, start munged, slurmctld and
#           both slurmds, wait (60 s at most) until both nodes are idle; print
#             export SLURM_CONF=...              the cluster's slurm.conf
#             export BRICKYARD_SLURM_NETNS=...   run Slurm clients inside it:
#                                                nsenter --net=$BRICKYARD_SLURM_NETNS sbatch ...
#             export BRICKYARD_SLURM_SHARED=...  a folder both nodes see
#           (also written to STATE_DIR/env.sh).
#   stop    cancel the jobs, stop the four daemons by pid, delete the
#           namespaces (and with them the veth pair).
#   status  each daemon's state; exit 0 running, 3 stopped, 1 partly.
# Environment: BRICKYARD_2NODE_PREFIX (namespace names, default brickyard-2n),
#              BRICKYARD_2NODE_NET (first three octets, default 10.251.0).
set -euo pipefail

BY_PROG=slurm-2node.sh
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=scripts/lib/containers-env.sh
. "$here/../lib/containers-env.sh"
# shellcheck source=scripts/lib/slurm-common.sh
. "$here/../lib/slurm-common.sh"

usage() { by_die "usage: slurm-2node.sh start|stop|status STATE_DIR" 2; }
(($# == 2)) || usage
action=$1
case $action in start | stop | status) ;; *) usage ;; esac
[[ $action == status ]] || ((EUID == 0)) || by_die "must run as root (network namespaces, munged and the Slurm daemons)" 2
if [[ $action == start ]]; then
  B=$(by_state_dir "$2")
else
  [[ -d $2 ]] || { [[ $action == stop ]] && exit 0; echo "stopped (no $2)"; exit 3; }
  B=$(cd -- "$2" && pwd -P)
fi
[[ $B != *[[:space:]]* ]] || by_die "STATE_DIR '$B' contains whitespace, which slurm.conf cannot hold" 2
((${#B} <= 72)) || by_die "STATE_DIR '$B' is longer than 72 characters (socket paths under it would exceed 107 bytes)" 2
[[ $B != /tmp && $B != /tmp/* ]] || by_die "STATE_DIR '$B' is under /tmp, which each node replaces with its own: use e.g. /var/tmp" 2

prefix=${BRICKYARD_2NODE_PREFIX:-brickyard-2n}
net=${BRICKYARD_2NODE_NET:-10.251.0}
nodes=(n1 n2)
ns() { echo "$prefix-$1"; }
addr() { echo "$net.${1#n}"; }
conf=$B/etc/slurm.conf
munge_pid=$B/munge/munged.pid
ctld_pid=$B/run/slurmctld.pid
slurmd_pid() { echo "$B/run/slurmd-$1.pid"; }
export SLURM_CONF=$conf
# Slurm clients talk to slurmctld, which listens inside n1's namespace.
in_n1() { nsenter --net="/run/netns/$(ns n1)" -- "$@"; }

env_lines() {
  printf 'export SLURM_CONF=%q\n' "$conf"
  printf 'export BRICKYARD_SLURM_NETNS=%q\n' "/run/netns/$(ns n1)"
  printf 'export BRICKYARD_SLURM_SHARED=%q\n' "$B/shared"
}

pidfiles() { echo "$munge_pid" "$ctld_pid" "$(slurmd_pid n1)" "$(slurmd_pid n2)"; }
running_count() {
  local n=0 f
  for f in $(pidfiles); do by_pid_alive "$f" && n=$((n + 1)); done
  echo "$n"
}

log_tails() { by_log_tails "$B"/log/*.log; }

do_stop() {
  if by_pid_alive "$ctld_pid" && [[ -e /run/netns/$(ns n1) ]]; then
    by_slurm_cancel_jobs nsenter --net="/run/netns/$(ns n1)" --
  fi
  by_stop_pidfiles 15 slurmd-n1="$(slurmd_pid n1)" slurmd-n2="$(slurmd_pid n2)" slurmctld="$ctld_pid" munged="$munge_pid"
  # Deleting a namespace deletes the veth end in it, and with it the pair.
  local n
  for n in "${nodes[@]}"; do
    [[ -e /run/netns/$(ns "$n") ]] && ip netns del "$(ns "$n")" 2>/dev/null || true
  done
}

fail() {
  log_tails
  do_stop 2>/dev/null || true
  by_die "$1"
}

case $action in
  status)
    for d in munged:"$munge_pid" slurmctld:"$ctld_pid" slurmd-n1:"$(slurmd_pid n1)" slurmd-n2:"$(slurmd_pid n2)"; do
      if by_pid_alive "${d#*:}"; then echo "${d%%:*}: running (pid $(<"${d#*:}"))"; else echo "${d%%:*}: stopped"; fi
    done
    n=$(running_count)
    if ((n == 4)); then
      echo "nodes: $(timeout 5 nsenter --net="/run/netns/$(ns n1)" -- sinfo -h -N -o '%N=%T' 2>&1 | tr '\n' ' ' || true)"
      exit 0
    fi
    ((n == 0)) && exit 3
    exit 1
    ;;
  stop)
    do_stop
    exit 0
    ;;
esac

# --- start ---------------------------------------------------------------------
by_need_cmd ip nsenter unshare munged munge unmunge slurmctld slurmd sinfo squeue scancel scontrol hostname mount

if (($(running_count) == 4)); then
  by_log "already running in $B"
  env_lines
  exit 0
fi
do_stop 2>/dev/null || true
for n in "${nodes[@]}"; do
  [[ ! -e /run/netns/$(ns "$n") ]] || by_die "network namespace $(ns "$n") exists and is not this cluster's; set BRICKYARD_2NODE_PREFIX"
done

# The network: n1 <-> n2 over a veth pair, a /30 of their own.
ip netns add "$(ns n1)" || fail "cannot create network namespace $(ns n1)"
ip netns add "$(ns n2)" || fail "cannot create network namespace $(ns n2)"
ip link add by2n-eth0 netns "$(ns n1)" type veth peer name by2n-eth0 netns "$(ns n2)" || fail "cannot create the veth pair"
for n in "${nodes[@]}"; do
  ip -n "$(ns "$n")" addr add "$(addr "$n")/30" dev by2n-eth0
  ip -n "$(ns "$n")" link set by2n-eth0 up
  ip -n "$(ns "$n")" link set lo up
done
# (n2's slurmd registering with slurmctld on $(addr n1) below proves the link.)

mkdir -p -- "$B"/etc "$B"/munge "$B"/log "$B"/run "$B"/state "$B"/spool "$B"/tmp "$B"/shared "$B"/tmp-n1 "$B"/tmp-n2
chmod 0755 "$B" "$B"/munge "$B"/etc "$B"/log "$B"/shared
chmod 1777 "$B"/tmp "$B"/tmp-n1 "$B"/tmp-n2
by_munge_key "$B/munge" || fail "cannot write the munge key $B/munge/munge.key"

# Two 1-CPU nodes: one rank each, whatever the host has.
ctl=$(hostname -s) || fail "hostname -s failed"
cat >"$conf" <<EOF
# Two-node Slurm 22.05 in network namespaces $(ns n1), $(ns n2); all state under $B.
# Written by Brickyard scripts/services/slurm-2node.sh at each start (host-infra §6).
ClusterName=brickyard2n
SlurmctldHost=$ctl($(addr n1))
SlurmctldPort=6817
SlurmdPort=6818
SlurmdSpoolDir=$B/spool/%n
SlurmctldPidFile=$ctld_pid
SlurmdPidFile=$B/run/slurmd-%n.pid
SlurmdLogFile=$B/log/slurmd-%n.log
$(by_slurm_conf_common "$B")
NodeName=n1 NodeAddr=$(addr n1) CPUs=1 RealMemory=1000 State=UNKNOWN
NodeName=n2 NodeAddr=$(addr n2) CPUs=1 RealMemory=1000 State=UNKNOWN
PartitionName=pair Nodes=n1,n2 Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
cat >"$B/etc/mpi.conf" <<EOF
PMIxCliTmpDirBase=/tmp
EOF

t0=$(by_now)
why=$(by_start_munged "$B" --force) || fail "$why"
in_n1 slurmctld -i </dev/null >>"$B/log/slurmctld.log" 2>&1 || fail "slurmctld did not start"
started=$(date +%s)
for n in "${nodes[@]}"; do
  mkdir -p -- "$B/spool/$n"
  # nsenter, not `ip netns exec` (which remounts /sys and hides the cgroup tree);
  # own UTS (hostname) and mount namespace (private /tmp: PMIx's per-step folders).
  nsenter --net="/run/netns/$(ns "$n")" -- unshare -mu --propagation private \
    sh -c 'hostname "$1" && mount --bind "$2" /tmp && exec slurmd -N "$1"' slurmd "$n" "$B/tmp-$n" \
    </dev/null >>"$B/log/slurmd-$n.log" 2>&1 || fail "slurmd on $n did not start"
done

# (nsenter without its own `--`: the first `--` ends the client prefix.)
if ! states=$(by_slurm_wait_idle "$started" 240 nsenter --net="/run/netns/$(ns n1)" -- "${nodes[@]}"); then
  fail "the nodes are not both idle after 60 s (states '$states'); logs under $B/log"
fi

env_lines >"$B/env.sh"
by_log "nodes n1 ($(addr n1)) and n2 ($(addr n2)) idle after $(by_elapsed "$t0") s (slurmctld in $(ns n1), state in $B)"
env_lines
