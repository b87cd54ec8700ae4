# shellcheck shell=bash
# shellcheck disable=SC2034 # the constants are used by the scripts that source this
# Shared helpers for Brickyard's host scripts (setup-host.sh, build-base.sh,
# services/*.sh). Sourced, never run. Measured facts behind these settings:
# docs in shared/reference/host-infra.md (§1, §5).

# The system tools come first on PATH: build hosts carry pyenv shims, a newer
# docker client in /usr/local/bin and so on, and the daemons live in /usr/sbin,
# which a non-root PATH often lacks.
PATH="/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"
export PATH

# The `local` system's debian-12 base (systems/local.yaml, bases.debian-12.hostBuilt).
BY_BASE_REF="localhost/brickyard/base-debian-12:bookworm"

# System-wide container settings written by setup-host.sh.
BY_CONTAINERS_DIR="/etc/containers"
BY_CONTAINERS_DROPIN="$BY_CONTAINERS_DIR/containers.conf.d/50-brickyard.conf"
BY_STORAGE_CONF="$BY_CONTAINERS_DIR/storage.conf"
BY_GRAPHROOT="/var/lib/containers/storage"
BY_RUNROOT="/run/containers/storage"

# Name used in messages; each script sets BY_PROG before sourcing.
: "${BY_PROG:=brickyard}"

by_log() { printf '%s: %s\n' "$BY_PROG" "$*" >&2; }
by_warn() { printf '%s: warning: %s\n' "$BY_PROG" "$*" >&2; }
# by_die MESSAGE [EXIT_CODE]
by_die() {
  printf '%s: error: %s\n' "$BY_PROG" "$1" >&2
  exit "${2:-1}"
}

by_need_cmd() {
  local c missing=()
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
  done
  if ((${#missing[@]})); then
    by_die "missing command(s): ${missing[*]} (run scripts/setup-host.sh as root to install them)"
  fi
}

# Absolute path of a state directory, created (mode 0755) if missing.
by_state_dir() {
  local d=$1
  [[ -n $d ]] || by_die "STATE_DIR is empty"
  mkdir -p -- "$d" || by_die "cannot create state directory $d"
  (cd -- "$d" && pwd -P)
}

# True when something accepts TCP connections on 127.0.0.1:PORT.
by_port_busy() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True when the pid in FILE names a live process (/proc, not kill -0, so that
# a non-root caller sees root's daemons too).
by_pid_alive() {
  local pid
  [[ -s $1 ]] || return 1
  pid=$(<"$1")
  [[ $pid =~ ^[0-9]+$ && -d /proc/$pid ]]
}

# by_stop_pidfiles TIMEOUT_S NAME=PIDFILE...: SIGTERM to all at once (the
# daemons take 1 to 2 s each to shut down), wait for all, then SIGKILL.
by_stop_pidfiles() {
  local timeout=$1 arg name file pid i alive
  shift
  local -a names=() pids=() files=()
  for arg in "$@"; do
    name=${arg%%=*} file=${arg#*=}
    if by_pid_alive "$file"; then
      pid=$(<"$file")
      kill -TERM "$pid" 2>/dev/null || true
      names+=("$name") pids+=("$pid") files+=("$file")
    else
      rm -f -- "$file"
    fi
  done
  for ((i = 0; i < timeout * 10; i++)); do
    alive=0
    for pid in "${pids[@]}"; do
      [[ -d /proc/$pid ]] && alive=1
    done
    ((alive)) || break
    sleep 0.1
  done
  for i in "${!pids[@]}"; do
    if [[ -d /proc/${pids[i]} ]]; then
      by_warn "${names[i]} (pid ${pids[i]}) did not stop within ${timeout}s; sending SIGKILL"
      kill -KILL "${pids[i]}" 2>/dev/null || true
    fi
    rm -f -- "${files[i]}"
    by_log "stopped ${names[i]} (pid ${pids[i]})"
  done
}

# Seconds since the epoch with millisecond precision, for timings.
by_now() { date +%s.%N; }
by_elapsed() { awk -v a="$1" -v b="$(by_now)" 'BEGIN { printf "%.1f", b - a }'; }
