# shellcheck shell=bash
# What scripts/services/slurm.sh (one node on loopback) and slurm-2node.sh (two
# nodes in network namespaces) share: the munge key and munged, the settings
# common to both slurm.conf files, the wait until every node has registered,
# the log tails of a failed start, and cancelling the cluster's jobs. Sourced
# after containers-env.sh, never run. Measured facts: host-infra.md §2 and §6.

# by_munge_key DIR: DIR/munge.key, 1024 random bytes, mode 0400, made once and
# kept across restarts.
by_munge_key() {
  local key=$1/munge.key
  if [[ ! -s $key ]]; then
    (umask 0377 && head -c 1024 /dev/urandom >"$key") || return 1
  fi
  chmod 0400 "$key"
}

# by_start_munged STATE_DIR [MUNGED_OPTION...]: munged with its key, socket,
# pid, seed and log under STATE_DIR/munge and STATE_DIR/log, then a munge/unmunge
# round trip. Daemons get no inherited stdout: a caller's $(...) would wait for it.
by_start_munged() {
  local b=$1
  shift
  munged "$@" --key-file="$b/munge/munge.key" --socket="$b/munge/munge.socket" --pid-file="$b/munge/munged.pid" \
    --log-file="$b/log/munged.log" --seed-file="$b/munge/munged.seed" </dev/null >>"$b/log/munged.log" 2>&1 ||
    { echo "munged did not start"; return 1; }
  munge -n -S "$b/munge/munge.socket" | unmunge -S "$b/munge/munge.socket" >/dev/null 2>&1 ||
    { echo "munged started but a munge/unmunge round trip on $b/munge/munge.socket fails"; return 1; }
}

# by_slurm_conf_common STATE_DIR: the slurm.conf lines both clusters use (auth
# through this munged, state under STATE_DIR, no cgroup plugins: the hosts have
# hybrid cgroups and none are needed here).
by_slurm_conf_common() {
  cat <<EOF_CONF
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$1/munge/munge.socket
StateSaveLocation=$1/state
SlurmctldLogFile=$1/log/slurmctld.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=60
KillWait=5
Waittime=0
EOF_CONF
}

# by_slurm_wait_idle SINCE TRIES CLIENT... -- NODE...: wait (TRIES x 0.25 s)
# until every node is idle and has registered since SINCE (epoch seconds;
# slurmctld with saved state reports a node idle before its slurmd registers:
# SlurmdStartTime is set at registration). CLIENT is the prefix that runs a
# Slurm client (empty, or nsenter --net=...; it must not contain `--`, which
# ends it). Prints the last states seen.
by_slurm_wait_idle() {
  local since=$1 tries=$2 i n t states="" ok
  shift 2
  local -a client=()
  while (($#)) && [[ $1 != -- ]]; do client+=("$1"); shift; done
  shift
  for ((i = 0; i < tries; i++)); do
    states=$(timeout 5 "${client[@]}" sinfo -h -N -o %T 2>/dev/null | sort -u | tr '\n' ' ' || true)
    if [[ $states == "idle " ]]; then
      ok=1
      for n in "$@"; do
        t=$(timeout 5 "${client[@]}" scontrol show node -o "$n" 2>/dev/null | sed -n 's/.*SlurmdStartTime=\([^ ]*\).*/\1/p')
        if [[ -z $t || $t == None ]] || (($(date -d "$t" +%s 2>/dev/null || echo 0) < since)); then
          ok=0
          break
        fi
      done
      ((ok)) && { echo "idle"; return 0; }
    fi
    sleep 0.25
  done
  echo "${states:-no answer}"
  return 1
}

# by_slurm_cancel_jobs CLIENT...: cancel this cluster's jobs and wait (10 s at
# most) until none is left; their slurmstepds would outlive slurmd.
by_slurm_cancel_jobs() {
  local jobs
  jobs=$(timeout 5 "$@" squeue -h -o %i 2>/dev/null || true)
  [[ -n $jobs ]] || return 0
  # shellcheck disable=SC2086 # one job id per word
  timeout 5 "$@" scancel $jobs 2>/dev/null || true
  for _ in {1..50}; do
    [[ -z $(timeout 5 "$@" squeue -h -o %i 2>/dev/null || true) ]] && break
    sleep 0.2
  done
}

# by_log_tails FILE...: the last lines of each non-empty log, to stderr.
by_log_tails() {
  local f
  for f in "$@"; do
    [[ -s $f ]] || continue
    printf -- '--- last lines of %s\n' "$f" >&2
    tail -n 15 -- "$f" >&2 || true
  done
}
