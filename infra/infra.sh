#!/usr/bin/env bash
# Local infrastructure for development and tests: a single-node Apache Kafka (KRaft) run from
# its Maven Central jars and FerretDB (MongoDB wire protocol, SQLite backend) built from the Go
# module proxy. Verbs: up | down | status. Idempotent; each component is readiness-checked.
# Opt-in: KEYWARD_STORE=mongodb (or the component `mongodb`) runs a real MongoDB 6.0 single-node
# replica set (infra/mongodb, fetched at run time) on 127.0.0.1:27018 instead of FerretDB.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
case "${KEYWARD_STORE:-ferretdb}" in
  ferretdb) components=(ferretdb kafka) ;;
  mongodb) components=(mongodb kafka) ;;
  *) echo "infra: KEYWARD_STORE must be ferretdb or mongodb (got '${KEYWARD_STORE}')" >&2; exit 2 ;;
esac

# `--ha` (or KAFKA_HA=3): Kafka as a three-node cluster, replication factor 3 and
# min.insync.replicas=2 (infra/kafka/README.md); `down` and `status` follow whatever runs.

usage() { echo "usage: infra.sh up|down|status [--ha] [ferretdb|mongodb|kafka ...]" >&2; exit 2; }
verb=${1:-}; shift || true
named=()
for arg in "$@"; do
  case "$arg" in
    --ha) export KAFKA_HA=3 ;;
    -*) usage ;;
    *) named+=("$arg") ;;
  esac
done
[[ ${#named[@]} -gt 0 ]] && components=("${named[@]}")

run() {
  case "$1" in
    ferretdb | kafka) bash "$here/$1/$1.sh" "$2" ;;
    mongodb) bash "$here/mongodb/mongod.sh" "$2" ;;
    *) echo "infra: unknown component '$1'" >&2; return 2 ;;
  esac
}

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
