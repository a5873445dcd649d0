#!/usr/bin/env bash
# Local FerretDB (MongoDB wire protocol, embedded SQLite backend) for Keyward.
#
# Usage: infra/ferretdb/ferretdb.sh build|start|stop|status
#
# Environment:
#   MONGO_PORT           TCP port on 127.0.0.1 (default 27017)
#   KEYWARD_DATA         state dir (default <repo>/.keyward); uses
#                          ferretdb/data/ (SQLite files), logs/ferretdb.log, run/ferretdb.pid
#   KEYWARD_CACHE        build cache (default ${XDG_CACHE_HOME:-$HOME/.cache}/keyward)
#   MONGO_START_TIMEOUT  seconds to wait for readiness on start (default 60)
#   FERRETDB_LOG_LEVEL   server log level: debug|info|warn|error (default info)
#   KEYWARD_FERRETDB_ID_INDEX  off: no _id expression index (docs/configuration.md; default on)
#   KEYWARD_FERRETDB_SYNC      SQLite synchronous: normal (default) or full (sync.go)
#
# Exit codes: 0 ok; 1 failure (not ready, died, port taken, status down);
#             2 usage; 3 missing tool (go, node) or mongodb driver.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

MONGO_PORT="${MONGO_PORT:-27017}"
KEYWARD_DATA="${KEYWARD_DATA:-$REPO_ROOT/.keyward}"
KEYWARD_CACHE="${KEYWARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/keyward}"
MONGO_START_TIMEOUT="${MONGO_START_TIMEOUT:-60}"
FERRETDB_LOG_LEVEL="${FERRETDB_LOG_LEVEL:-info}"

case "$KEYWARD_DATA" in /*) ;; *) KEYWARD_DATA="$PWD/$KEYWARD_DATA" ;; esac
case "$KEYWARD_CACHE" in /*) ;; *) KEYWARD_CACHE="$PWD/$KEYWARD_CACHE" ;; esac

HOST=127.0.0.1
ADDR="$HOST:$MONGO_PORT"
DATA_DIR="$KEYWARD_DATA/ferretdb/data"
LOG_DIR="$KEYWARD_DATA/logs"
LOG_FILE="$LOG_DIR/ferretdb.log"
RUN_DIR="$KEYWARD_DATA/run"
PID_FILE="$RUN_DIR/ferretdb.pid"
BIN_NAME=keyward-ferretdb

say() { echo "ferretdb: $*"; }
err() { echo "ferretdb: $*" >&2; }

if ! [[ "$MONGO_PORT" =~ ^[0-9]+$ ]] || ((MONGO_PORT < 1 || MONGO_PORT > 65535)); then
  err "invalid MONGO_PORT '$MONGO_PORT'"
  exit 2
fi
if ! [[ "$MONGO_START_TIMEOUT" =~ ^[0-9]+$ ]] || ((MONGO_START_TIMEOUT < 1)); then
  err "invalid MONGO_START_TIMEOUT '$MONGO_START_TIMEOUT' (whole seconds > 0)"
  exit 2
fi

# ---------------------------------------------------------------- build

ferretdb_version() {
  local v
  v="$(grep -Eo 'github\.com/FerretDB/FerretDB v[0-9A-Za-z.+-]+' "$SCRIPT_DIR/go.mod" | head -n1 | awk '{print $2}')"
  echo "${v:-unknown}"
}

# Hash of everything that goes into the binary: go.mod, go.sum, main.go (and any other *.go here).
source_hash() {
  local files=("$SCRIPT_DIR/go.mod" "$SCRIPT_DIR/go.sum" "$SCRIPT_DIR"/*.go)
  if command -v sha256sum >/dev/null 2>&1; then
    cat "${files[@]}" | sha256sum | cut -c1-12
  else
    cat "${files[@]}" | shasum -a 256 | cut -c1-12
  fi
}

BIN_DIR="$KEYWARD_CACHE/ferretdb-$(ferretdb_version)-$(source_hash)"
BIN="$BIN_DIR/$BIN_NAME"

cmd_build() {
  if [[ -x "$BIN" ]]; then
    return 0
  fi
  if ! command -v go >/dev/null 2>&1; then
    err "'go' not found on PATH; install Go >= 1.24 (https://go.dev/dl/) to build FerretDB"
    exit 3
  fi
  mkdir -p "$BIN_DIR"
  local tmp="$BIN_DIR/.$BIN_NAME.tmp.$$" t0=$SECONDS
  say "building $BIN_NAME (FerretDB $(ferretdb_version), $(go version | awk '{print $3}')) -> $BIN"
  say "this downloads Go modules and compiles SQLite; it may take a few minutes the first time..."
  # -mod=readonly: never rewrite go.mod/go.sum; CGO off: pure-Go SQLite (modernc.org/sqlite).
  if ! (cd "$SCRIPT_DIR" && CGO_ENABLED=0 go build -mod=readonly -buildvcs=false -trimpath -o "$tmp" .); then
    rm -f "$tmp"
    err "go build failed"
    exit 1
  fi
  mv -f "$tmp" "$BIN"
  say "built in $((SECONDS - t0))s"
}

# ---------------------------------------------------------------- process helpers

read_pid() {
  local pid=""
  [[ -f "$PID_FILE" ]] && pid="$(tr -dc '0-9' <"$PID_FILE" || true)"
  echo "$pid"
}

# alive and really our binary (guards against PID reuse); zombies count as dead
is_ours_alive() {
  local pid="$1" stat args
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  stat="$(ps -o stat= -p "$pid" 2>/dev/null || true)"
  [[ -n "$stat" && "$stat" != Z* ]] || return 1
  args="$(ps -o args= -p "$pid" 2>/dev/null || true)"
  [[ "$args" == *"$BIN_NAME"* ]]
}

need_node() {
  if ! command -v node >/dev/null 2>&1; then
    err "'node' not found on PATH (needed for the readiness check)"
    exit 3
  fi
}

ping_once() {
  need_node
  node "$SCRIPT_DIR/wait-ready.mjs" --host "$HOST" --port "$MONGO_PORT" --once >/dev/null 2>&1
}

port_in_use() {
  (exec 3<>"/dev/tcp/$HOST/$MONGO_PORT") 2>/dev/null
}

port_owner() {
  local out=""
  if command -v ss >/dev/null 2>&1; then
    out="$(ss -Hltnp "sport = :$MONGO_PORT" 2>/dev/null | grep -Eo 'users:\(\(.*\)\)' | head -n1 || true)"
  fi
  if [[ -z "$out" ]] && command -v lsof >/dev/null 2>&1; then
    out="$(lsof -nP -iTCP:"$MONGO_PORT" -sTCP:LISTEN 2>/dev/null | awk 'NR==2{print $1" pid "$2}' || true)"
  fi
  echo "$out"
}

kill_and_wait() {
  local pid="$1" i
  kill -TERM "$pid" 2>/dev/null || true
  kill -CONT "$pid" 2>/dev/null || true # in case it was SIGSTOPped
  for ((i = 0; i < 100; i++)); do # 100 x 0.2s = 20s
    is_ours_alive "$pid" || return 0
    sleep 0.2
  done
  err "pid $pid did not exit within 20s after SIGTERM; sending SIGKILL"
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
      if ping_once; then
        say "already running on $ADDR"
        local args
        args="$(ps -o args= -p "$pid" 2>/dev/null || true)"
        if [[ "$args" != "$BIN "* ]]; then
          say "note: pid $pid runs an older build; run 'stop' then 'start' to use $BIN"
        fi
        return 0
      fi
      say "pid $pid is alive but not answering on $ADDR; killing it and starting anew"
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
    err "port $ADDR is already in use by another process${owner:+ ($owner)}; stop it or set MONGO_PORT to a free port"
    exit 1
  fi

  rotate_log
  printf '=== %s ferretdb.sh start: %s -listen %s -data-dir %s\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$BIN" "$ADDR" "$DATA_DIR" >>"$LOG_FILE"

  # setsid detaches from our session/terminal (it execs in place: $! is the server's pid).
  local launcher=()
  command -v setsid >/dev/null 2>&1 && launcher=(setsid)
  nohup ${launcher[@]+"${launcher[@]}"} "$BIN" -listen "$ADDR" -data-dir "$DATA_DIR" -log-level "$FERRETDB_LOG_LEVEL" \
    </dev/null >>"$LOG_FILE" 2>&1 &
  pid=$!
  echo "$pid" >"$PID_FILE.tmp.$$"
  mv -f "$PID_FILE.tmp.$$" "$PID_FILE"
  say "starting (pid $pid) on $ADDR; data $DATA_DIR; log $LOG_FILE"

  local rc=0
  node "$SCRIPT_DIR/wait-ready.mjs" --host "$HOST" --port "$MONGO_PORT" \
    --timeout "$MONGO_START_TIMEOUT" --pid "$pid" 2>>"$LOG_FILE" || rc=$?
  case "$rc" in
    0)
      say "ready on $ADDR (pid $pid)"
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
      err "not ready after ${MONGO_START_TIMEOUT}s; see $LOG_FILE"
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
  if ping_once; then
    say "up (pid $pid, $ADDR)"
    return 0
  fi
  say "stale/unresponsive (pid $pid alive but not answering on $ADDR)"
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
