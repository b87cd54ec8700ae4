#!/usr/bin/env bash
# A private OCI registry (Debian's docker-registry = distribution 2.8) on
# 127.0.0.1 with filesystem storage under STATE_DIR: where images are pushed
# and pulled by digest in tests, since no public registry is reachable.
#
# Usage: scripts/services/registry.sh start|stop|status STATE_DIR [PORT]
#   start   serve on 127.0.0.1:PORT (default 5000; when 5000 is taken and no
#           PORT was given, the next free port from 5001 on), wait until
#           /v2/ answers, print `export BRICKYARD_REGISTRY=127.0.0.1:PORT`
#           (also written to STATE_DIR/env.sh):
#             eval "$(scripts/services/registry.sh start /tmp/registry)"
#   stop    stop it by pid and wait.
#   status  exit 0 running, 3 stopped.
# Clients talk plain HTTP: skopeo/buildah/podman need --tls-verify=false
# (--dest-tls-verify=false for skopeo copy).
set -euo pipefail

BY_PROG=registry.sh
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=scripts/lib/containers-env.sh
. "$here/../lib/containers-env.sh"

usage() { by_die "usage: registry.sh start|stop|status STATE_DIR [PORT]" 2; }
(($# == 2 || $# == 3)) || usage
action=$1
case $action in start | stop | status) ;; *) usage ;; esac
port_given=${3:-}
if [[ -n $port_given ]] && ! [[ $port_given =~ ^[0-9]+$ && $port_given -ge 1 && $port_given -le 65535 ]]; then
  by_die "PORT '$port_given' is not a port number" 2
fi

if [[ $action == start ]]; then
  B=$(by_state_dir "$2")
else
  [[ -d $2 ]] || { [[ $action == stop ]] && exit 0; echo "stopped (no $2)"; exit 3; }
  B=$(cd -- "$2" && pwd -P)
fi
pidfile=$B/registry.pid
portfile=$B/registry.port

answers() { curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$1/v2/" 2>/dev/null; }
env_lines() { printf 'export BRICKYARD_REGISTRY=127.0.0.1:%s\n' "$1"; }

case $action in
  stop)
    by_stop_pidfiles 15 docker-registry="$pidfile"
    exit 0
    ;;
  status)
    if by_pid_alive "$pidfile"; then
      echo "docker-registry: running (pid $(<"$pidfile")) on 127.0.0.1:$(<"$portfile")"
      exit 0
    fi
    echo "docker-registry: stopped"
    exit 3
    ;;
esac

# --- start ---------------------------------------------------------------------
by_need_cmd docker-registry curl

if by_pid_alive "$pidfile"; then
  port=$(<"$portfile")
  if [[ -n $port_given && $port_given != "$port" ]]; then
    by_die "a registry from $B already runs on port $port, not $port_given; stop it first"
  fi
  answers "$port" || by_die "the registry from $B (pid $(<"$pidfile")) runs but http://127.0.0.1:$port/v2/ does not answer"
  by_log "already running on 127.0.0.1:$port"
  env_lines "$port"
  exit 0
fi

if [[ -n $port_given ]]; then
  port=$port_given
  # An explicit port is a promise to the caller: never move it.
  by_port_busy "$port" && by_die "port 127.0.0.1:$port is in use ($(ss -Hltnp "sport = :$port" 2>/dev/null | awk '{print $NF}' | head -n 1)); choose another PORT"
else
  port=5000
  while by_port_busy "$port"; do
    ((port < 5100)) || by_die "ports 5000-5100 on 127.0.0.1 are all in use; give a PORT"
    port=$((port + 1))
  done
  ((port == 5000)) || by_log "port 5000 is in use; using $port"
fi

mkdir -p -- "$B/data"
# delete.enabled lets tests remove what they pushed; no http.secret is needed
# for a single instance (distribution generates one and logs a warning).
cat >"$B/config.yml" <<EOF
# Written by Brickyard scripts/services/registry.sh
version: 0.1
log:
  level: info
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: $B/data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: 127.0.0.1:$port
EOF

# setsid: not killed with the caller's terminal or process group. All output
# goes to the log, or the caller's $(...) would wait for the registry to exit.
setsid docker-registry serve "$B/config.yml" </dev/null >>"$B/registry.log" 2>&1 &
echo $! >"$pidfile"
echo "$port" >"$portfile"

t0=$(by_now)
for ((i = 0; i < 100; i++)); do
  answers "$port" && break
  if ! by_pid_alive "$pidfile"; then
    tail -n 15 "$B/registry.log" >&2 || true
    rm -f -- "$pidfile"
    by_die "docker-registry exited at start (log: $B/registry.log)"
  fi
  sleep 0.1
done
if ! answers "$port"; then
  tail -n 15 "$B/registry.log" >&2 || true
  by_stop_pidfiles 15 docker-registry="$pidfile"
  by_die "http://127.0.0.1:$port/v2/ did not answer within 10 s (log: $B/registry.log)"
fi
env_lines "$port" >"$B/env.sh"
by_log "serving on 127.0.0.1:$port after $(by_elapsed "$t0") s (storage $B/data, pid $(<"$pidfile"))"
env_lines "$port"
