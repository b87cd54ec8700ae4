#!/usr/bin/env bash
# A private single-node Slurm 22.05 cluster with its own munged, on 127.0.0.1,
# with every file (config, munge key and socket, state, spool, pids, logs)
# under STATE_DIR. Config as measured in shared/reference/host-infra.md §2.
#
# Usage: scripts/services/slurm.sh start|stop|status STATE_DIR
#   start   start munged, slurmctld and slurmd; wait (30 s at most) until the
#           node is idle; print `export SLURM_CONF=...` for the caller to eval
#           (also written to STATE_DIR/env.sh):
#             eval "$(scripts/services/slurm.sh start /tmp/slurm)"
#   stop    cancel this cluster's jobs, stop the three daemons by pid and wait.
#   status  print each daemon's state; exit 0 running, 3 stopped, 1 partly.
# Environment: BRICKYARD_SLURMCTLD_PORT (6817), BRICKYARD_SLURMD_PORT (6818).
# Use srun --mpi=pmix for Open MPI and --mpi=pmi2 for MPICH.
set -euo pipefail

BY_PROG=slurm.sh
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=scripts/lib/containers-env.sh
. "$here/../lib/containers-env.sh"
# shellcheck source=scripts/lib/slurm-common.sh
. "$here/../lib/slurm-common.sh"

usage() { by_die "usage: slurm.sh start|stop|status STATE_DIR" 2; }
(($# == 2)) || usage
action=$1
case $action in start | stop | status) ;; *) usage ;; esac
# munged and the Slurm daemons run as root (SlurmUser=root); slurmd starts
# each job's tasks as the submitting user.
[[ $action == status ]] || ((EUID == 0)) || by_die "must run as root (munged, slurmctld and slurmd run as root here)" 2
if [[ $action == start ]]; then
  B=$(by_state_dir "$2")
else
  [[ -d $2 ]] || { [[ $action == stop ]] && exit 0; echo "stopped (no $2)"; exit 3; }
  B=$(cd -- "$2" && pwd -P)
fi

# slurm.conf cannot quote paths, and unix socket paths end at 107 bytes.
[[ $B != *[[:space:]]* ]] || by_die "STATE_DIR '$B' contains whitespace, which slurm.conf cannot hold" 2
((${#B} <= 72)) || by_die "STATE_DIR '$B' is longer than 72 characters; the munge and PMIx socket paths under it would exceed the 107-byte limit" 2
conf=$B/etc/slurm.conf
munge_pid=$B/munge/munged.pid
ctld_pid=$B/run/slurmctld.pid
slurmd_pid=$B/run/slurmd.pid
ctld_port=${BRICKYARD_SLURMCTLD_PORT:-6817}
slurmd_port=${BRICKYARD_SLURMD_PORT:-6818}
export SLURM_CONF=$conf

env_lines() { printf 'export SLURM_CONF=%q\n' "$conf"; }

log_tails() { by_log_tails "$B"/log/munged.log "$B"/log/slurmctld.log "$B"/log/slurmd.log; }

running_count() {
  local n=0 f
  for f in "$munge_pid" "$ctld_pid" "$slurmd_pid"; do
    by_pid_alive "$f" && n=$((n + 1))
  done
  echo "$n"
}

# A failed start leaves nothing running: show the logs, stop what started.
fail() {
  log_tails
  do_stop 2>/dev/null || true
  by_die "$1"
}

do_stop() {
  # Jobs of this private cluster only (SLURM_CONF names it); no client prefix.
  # shellcheck disable=SC2119
  if by_pid_alive "$ctld_pid"; then by_slurm_cancel_jobs; fi
  by_stop_pidfiles 15 slurmd="$slurmd_pid" slurmctld="$ctld_pid" munged="$munge_pid"
}

case $action in
  status)
    for d in munged:"$munge_pid" slurmctld:"$ctld_pid" slurmd:"$slurmd_pid"; do
      if by_pid_alive "${d#*:}"; then echo "${d%%:*}: running (pid $(<"${d#*:}"))"; else echo "${d%%:*}: stopped"; fi
    done
    n=$(running_count)
    if ((n == 3)); then
      echo "node: $(timeout 5 sinfo -h -o '%n %T' 2>&1 || true)"
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
by_need_cmd munged munge unmunge slurmctld slurmd sinfo squeue scancel scontrol hostname

if (($(running_count) == 3)); then
  by_log "already running in $B"
  env_lines
  exit 0
fi
# Leftovers of a half-started or crashed cluster would hold the ports.
do_stop 2>/dev/null
for p in "$ctld_port" "$slurmd_port"; do
  if by_port_busy "$p"; then
    by_die "port 127.0.0.1:$p is in use ($(ss -Hltnp "sport = :$p" 2>/dev/null | awk '{print $NF}' | head -n 1)); another Slurm? set BRICKYARD_SLURMCTLD_PORT / BRICKYARD_SLURMD_PORT"
  fi
done

mkdir -p -- "$B"/etc "$B"/munge "$B"/log "$B"/run "$B"/state "$B"/spool "$B"/tmp
# munged refuses keys and sockets in group/other-writable directories.
chmod 0755 "$B" "$B"/munge "$B"/etc "$B"/log

by_munge_key "$B/munge" || by_die "cannot write the munge key $B/munge/munge.key"

# The node line must match `slurmd -C`; RealMemory a little below the real
# figure, or the node drains with "Low RealMemory" when the kernel's count dips.
node=$(hostname -s) || by_die "hostname -s failed"
hw=$(slurmd -C 2>/dev/null | head -n 1) || true
[[ $hw == NodeName=* ]] || by_die "slurmd -C gave no node line: '$hw'"
real_mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$hw")
[[ -n $real_mem ]] || by_die "no RealMemory in slurmd -C output: '$hw'"
mem=$((real_mem * 9 / 10))
hw_fields=$(tr ' ' '\n' <<<"$hw" | grep -E '^(CPUs|Boards|SocketsPerBoard|CoresPerSocket|ThreadsPerCore)=' | tr '\n' ' ')

cat >"$conf" <<EOF
# Single-node Slurm 22.05 on loopback, all state under $B.
# Written by Brickyard scripts/services/slurm.sh at each start (host-infra §2).
ClusterName=brickyard
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmdSpoolDir=$B/spool
SlurmctldPidFile=$ctld_pid
SlurmdPidFile=$slurmd_pid
SlurmdLogFile=$B/log/slurmd.log
$(by_slurm_conf_common "$B")
NodeName=$node NodeAddr=127.0.0.1 ${hw_fields}RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
# PMIx's per-step client directories (spmix_appdir_*) go under STATE_DIR too
# instead of /tmp; the server's are in SlurmdSpoolDir (pmix.JOB.STEP).
cat >"$B/etc/mpi.conf" <<EOF
PMIxCliTmpDirBase=$B/tmp
EOF

# munged wants every ancestor of its socket searchable by all (so that any user
# can reach it); a mktemp -d parent (0700) is not. --force turns that into a
# warning; then only root (and users who can reach STATE_DIR) can use Slurm.
munge_opts=()
dir=$B
while [[ $dir != / ]]; do
  dir=$(dirname -- "$dir")
  if [[ $(stat -c %A -- "$dir") != ?????????[xt] ]]; then
    munge_opts+=(--force)
    by_log "note: $dir is not searchable by all users; munged runs with --force, so only users who can reach $B can use this cluster"
    break
  fi
done

t0=$(by_now)
why=$(by_start_munged "$B" "${munge_opts[@]}") || fail "$why"
# -i: ignore unreadable state from an earlier run (e.g. a changed node line).
slurmctld -i </dev/null >>"$B/log/slurmctld.log" 2>&1 || fail "slurmctld did not start"
slurmd_started=$(date +%s)
slurmd </dev/null >>"$B/log/slurmd.log" 2>&1 || fail "slurmd did not start"

if ! state=$(by_slurm_wait_idle "$slurmd_started" 120 -- "$node"); then
  reason=$(timeout 5 sinfo -h -R 2>/dev/null || true)
  fail "node $node is not idle after 30 s (state '$state'${reason:+, reason: $reason}); logs under $B/log"
fi

env_lines >"$B/env.sh"
by_log "node $node idle after $(by_elapsed "$t0") s (slurmctld 127.0.0.1:$ctld_port, slurmd :$slurmd_port, state in $B)"
env_lines
