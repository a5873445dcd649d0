#!/usr/bin/env bash
# Local infrastructure for development and tests: a single-node Apache Kafka (KRaft) run from
# its Maven Central jars and FerretDB (MongoDB wire protocol, SQLite backend) built from the Go
# module proxy. Verbs: up | down | status. Idempotent; each component is readiness-checked.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
components=(ferretdb kafka)

usage() { echo "usage: infra.sh up|down|status [ferretdb|kafka ...]" >&2; exit 2; }
verb=${1:-}; shift || true
[[ $# -gt 0 ]] && components=("$@")

run() { bash "$here/$1/$1.sh" "$2"; }

case "$verb" in
  up)
    # Build both first (the slow, cold part), then start; a failure names the component.
    for c in "${components[@]}"; do run "$c" build || { echo "infra: $c build failed" >&2; exit 1; }; done
    for c in "${components[@]}"; do run "$c" start || { echo "infra: $c did not start" >&2; exit 1; }; done
    ;;
  down)
    rc=0
    for c in "${components[@]}"; do run "$c" stop || rc=1; done
    exit $rc
    ;;
  status)
    rc=0
    for c in "${components[@]}"; do run "$c" status || rc=1; done
    exit $rc
    ;;
  *) usage ;;
esac
