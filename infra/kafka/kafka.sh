#!/usr/bin/env bash
# Local Apache Kafka (KRaft) for Keyward development and tests: one node, or a three-node
# cluster (--ha), run straight from its Maven Central jars (no Docker, no tarball download).
#
# Usage: infra/kafka/kafka.sh build|start [--secure|--ha]|stop|status
#
#   build   fetch the broker jars into $KEYWARD_CACHE/kafka-<version>/lib (once)
#   start   build, then start the broker in the background and wait until a
#           kafkajs admin client can list topics; no-op if already up
#   stop    SIGTERM the broker, SIGKILL after 30 s; no-op if not running
#   status  exit 0 if the broker is up and answering, else exit 1
#   With a cluster (--ha / KAFKA_HA=3), `start` starts the nodes that are not running (all at
#   first, a killed one later) and waits for each; `stop` and `status` cover every node.
#
# Environment:
#   KAFKA_PORT             client listener, 127.0.0.1 only    (default 9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller listener           (default 9093)
#   KEYWARD_DATA           state dir (data, logs, pidfile)     (default <repo>/.keyward)
#   KEYWARD_CACHE          jar cache   (default ${XDG_CACHE_HOME:-$HOME/.cache}/keyward)
#   KAFKA_START_TIMEOUT    seconds to wait for readiness       (default 120)
#   KAFKA_SECURE           1: the secure profile (or `start --secure`): the client
#                          listener is SASL_SSL (TLS with a certificate from a local
#                          CA generated with openssl, SCRAM-SHA-512 users created
#                          when the storage is formatted); `start` prints the
#                          KAFKA_SSL* / KAFKA_SASL* settings a client needs. The
#                          KRaft controller listener stays PLAINTEXT on 127.0.0.1.
#   KAFKA_HA               3 (or `start --ha`): three nodes, each broker and controller
#                          (static quorum), replication factor 3 and min.insync.replicas=2
#                          for every topic, 256 MiB heap each. Node i listens on
#                          KAFKA_PORT+2(i-1) and KAFKA_CONTROLLER_PORT+2(i-1) (9092/9093,
#                          9094/9095, 9096/9097), or on the comma-separated KAFKA_PORTS and
#                          KAFKA_CONTROLLER_PORTS. Its state: $KEYWARD_DATA/kafka-ha/node-<i>,
#                          run/kafka-<i>.pid, logs/kafka-<i>.log. Once started, `start`,
#                          `stop` and `status` without KAFKA_HA follow the running cluster
#                          (run/kafka.nodes); KAFKA_HA=1 asks for the single node.
#
# Exit codes: 0 ok, 1 failed / not up, 2 port taken or bad usage,
#             3 a required tool (java 17+, mvn, node) is missing.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KEYWARD_DATA="${KEYWARD_DATA:-$REPO_ROOT/.keyward}"
KEYWARD_CACHE="${KEYWARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/keyward}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
KAFKA_SECURE="${KAFKA_SECURE:-0}"
KAFKA_HA="${KAFKA_HA:-}"
for arg in "${@:2}"; do
  case "$arg" in
    --secure) KAFKA_SECURE=1 ;;
    --ha) KAFKA_HA=3 ;;
    *) printf 'kafka: unknown option %s\n' "$arg" >&2; exit 2 ;;
  esac
done
KAFKA_HOST=127.0.0.1
STOP_GRACE_SECONDS=30

POM="$SCRIPT_DIR/pom.xml"
LOG4J_CONFIG="$SCRIPT_DIR/log4j2.properties"
WAIT_READY="$SCRIPT_DIR/wait-ready.mjs"

# Single source of truth for the version: <kafka.version> in pom.xml.
KAFKA_VERSION="$(sed -n 's:.*<kafka\.version>\([^<]*\)</kafka\.version>.*:\1:p' "$POM" | head -n 1)"

say() { printf 'kafka: %s\n' "$*"; }
die() { local code="$1"; shift; printf 'kafka: %s\n' "$*" >&2; exit "$code"; }

for v in KAFKA_PORT KAFKA_CONTROLLER_PORT KAFKA_START_TIMEOUT; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die 2 "$v must be a number (got '${!v}')"
done
[ "$KAFKA_PORT" != "$KAFKA_CONTROLLER_PORT" ] || die 2 "KAFKA_PORT and KAFKA_CONTROLLER_PORT must differ"
[[ -z "$KAFKA_HA" || "$KAFKA_HA" =~ ^(0|1|3)$ ]] || die 2 "KAFKA_HA must be 3 (a three-node cluster) or 1 (one node) (got '$KAFKA_HA')"
[ -n "$KAFKA_VERSION" ] || die 1 "cannot read <kafka.version> from $POM"

# Absolute paths: the broker runs detached and must not depend on our cwd.
mkdir -p "$KEYWARD_DATA" "$KEYWARD_CACHE"
KEYWARD_DATA="$(cd "$KEYWARD_DATA" && pwd)"
KEYWARD_CACHE="$(cd "$KEYWARD_CACHE" && pwd)"

INSTALL_DIR="$KEYWARD_CACHE/kafka-$KAFKA_VERSION"
LIB_DIR="$INSTALL_DIR/lib"
MARKER="$INSTALL_DIR/.complete"
RUN_DIR="$KEYWARD_DATA/run"
LOG_DIR="$KEYWARD_DATA/logs"
NODES_FILE="$RUN_DIR/kafka.nodes" # node count of a running cluster (absent: one node)
SCRAM_USER=keyward

# How many nodes: KAFKA_HA when given, else whatever runs (run/kafka.nodes), else one.
if [[ "$KAFKA_HA" =~ ^[013]$ ]]; then
  NODES=$((KAFKA_HA == 3 ? 3 : 1))
elif [ -f "$NODES_FILE" ]; then
  NODES="$(tr -dc '0-9' <"$NODES_FILE")"
  [ "$NODES" = 3 ] || NODES=1
else
  NODES=1
fi

# Client and controller port of every node.
if [ "$NODES" = 1 ]; then
  NODE_PORTS=("$KAFKA_PORT")
  NODE_CONTROLLER_PORTS=("$KAFKA_CONTROLLER_PORT")
else
  IFS=, read -r -a NODE_PORTS <<<"${KAFKA_PORTS:-$KAFKA_PORT,$((KAFKA_PORT + 2)),$((KAFKA_PORT + 4))}"
  IFS=, read -r -a NODE_CONTROLLER_PORTS <<<"${KAFKA_CONTROLLER_PORTS:-$KAFKA_CONTROLLER_PORT,$((KAFKA_CONTROLLER_PORT + 2)),$((KAFKA_CONTROLLER_PORT + 4))}"
  [ "${#NODE_PORTS[@]}" = "$NODES" ] && [ "${#NODE_CONTROLLER_PORTS[@]}" = "$NODES" ] \
    || die 2 "KAFKA_PORTS and KAFKA_CONTROLLER_PORTS must list $NODES ports each"
  for p in "${NODE_PORTS[@]}" "${NODE_CONTROLLER_PORTS[@]}"; do
    [[ "$p" =~ ^[0-9]+$ ]] || die 2 "a Kafka port must be a number (got '$p')"
  done
  [ "$(printf '%s\n' "${NODE_PORTS[@]}" "${NODE_CONTROLLER_PORTS[@]}" | sort -u | wc -l)" = $((2 * NODES)) ] \
    || die 2 "the cluster's ${NODES} client and ${NODES} controller ports must all differ (${NODE_PORTS[*]} / ${NODE_CONTROLLER_PORTS[*]})"
  [ "$KAFKA_SECURE" = 1 ] && die 2 "the secure profile runs one node only (not with KAFKA_HA=3)"
fi
QUORUM_VOTERS=""
for ((n = 1; n <= NODES; n++)); do
  QUORUM_VOTERS+="${QUORUM_VOTERS:+,}$n@$KAFKA_HOST:${NODE_CONTROLLER_PORTS[n - 1]}"
done
BOOTSTRAP=""
for p in "${NODE_PORTS[@]}"; do BOOTSTRAP+="${BOOTSTRAP:+,}$KAFKA_HOST:$p"; done
# One node: 512 MiB; a cluster on one machine: 256 MiB per node.
KAFKA_HEAP="-Xmx512m -Xms512m"
[ "$NODES" = 1 ] || KAFKA_HEAP="-Xmx256m -Xms256m"

# Select node $1: its ports, folders, pidfile and log (the variables every verb below uses).
use_node() {
  NODE_ID="$1"
  KAFKA_PORT="${NODE_PORTS[NODE_ID - 1]}"
  KAFKA_CONTROLLER_PORT="${NODE_CONTROLLER_PORTS[NODE_ID - 1]}"
  if [ "$NODES" = 1 ]; then
    KAFKA_DIR="$KEYWARD_DATA/kafka"
    CLUSTER_ID_FILE="$KAFKA_DIR/cluster.id"
    PIDFILE="$RUN_DIR/kafka.pid"
    PORTFILE="$RUN_DIR/kafka.port" # client port the running broker was started with
    LOG_FILE="$LOG_DIR/kafka.log"
  else
    KAFKA_DIR="$KEYWARD_DATA/kafka-ha/node-$NODE_ID"
    CLUSTER_ID_FILE="$KEYWARD_DATA/kafka-ha/cluster.id" # one cluster id for every node
    PIDFILE="$RUN_DIR/kafka-$NODE_ID.pid"
    PORTFILE="$RUN_DIR/kafka-$NODE_ID.port"
    LOG_FILE="$LOG_DIR/kafka-$NODE_ID.log"
  fi
  DATA_DIR="$KAFKA_DIR/data"
  PROPS="$KAFKA_DIR/server.properties"
  SECURE_DIR="$KAFKA_DIR/secure" # local CA, broker certificate, SCRAM passwords (secure profile)
}
use_node 1
[ -f "$KAFKA_DIR/profile" ] && KAFKA_SECURE=1 # a data folder formatted secure stays secure

# ---------------------------------------------------------------- helpers

need_tool() {
  command -v "$1" >/dev/null 2>&1 || die 3 "'$1' not found on PATH; $2"
}

need_java() {
  need_tool java "install a Java 17+ JDK/JRE (e.g. apt-get install openjdk-17-jre-headless)"
  local ver major
  ver="$(java -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)"
  major="${ver%%.*}"
  if [[ "$major" =~ ^[0-9]+$ ]] && [ "$major" -lt 17 ]; then
    die 3 "Kafka $KAFKA_VERSION needs Java 17+, but 'java' is $ver"
  fi
}

need_node() {
  need_tool node "install Node.js 20+ (the readiness check uses kafkajs)"
}

# Fingerprint of what goes into lib/: a changed pom.xml means a rebuild.
pom_fingerprint() { cksum <"$POM" | awk '{print $1 "-" $2}'; }

cache_complete() {
  [ -f "$MARKER" ] && [ "$(cat "$MARKER" 2>/dev/null)" = "$(pom_fingerprint)" ] \
    && [ -f "$LIB_DIR/kafka_2.13-$KAFKA_VERSION.jar" ]
}

# Is $1 a live Kafka broker process (guards against pid reuse)?
is_kafka_pid() {
  local pid="$1"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  ps -p "$pid" -o args= 2>/dev/null | grep -q 'kafka\.Kafka'
}

read_pid_of() { [ -f "$1" ] && tr -dc '0-9' <"$1" || true; }
read_pid() { read_pid_of "$PIDFILE"; }

# Port of the broker in the pidfile (it may have been started with another KAFKA_PORT).
running_port() {
  local p=""
  [ -f "$PORTFILE" ] && p="$(tr -dc '0-9' <"$PORTFILE")"
  printf '%s' "${p:-$KAFKA_PORT}"
}

clear_pidfile() { rm -f "$PIDFILE" "$PORTFILE"; }

# Something accepting TCP connections on 127.0.0.1:$1?
port_in_use() {
  (exec 3<>"/dev/tcp/$KAFKA_HOST/$1") 2>/dev/null
}

port_owner() {
  local port="$1" out=""
  if command -v ss >/dev/null 2>&1; then
    out="$(ss -Hltnp "sport = :$port" 2>/dev/null \
      | sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\).*/\1, pid \2/p' | head -n 1 || true)"
  fi
  if [ -z "$out" ] && command -v lsof >/dev/null 2>&1; then
    out="$(lsof -nP -iTCP:"$port" -sTCP:LISTEN 2>/dev/null | awk 'NR==2 {print $1 ", pid " $2}' || true)"
  fi
  printf '%s' "$out"
}

# One readiness attempt (or a loop when $2 = loop). $1 = timeout seconds,
# $3 = pid whose death aborts the wait, $4 = port (default KAFKA_PORT).
probe() {
  local timeout="$1" mode="$2" pid="${3:-0}" port="${4:-$KAFKA_PORT}"
  local args=(--broker "$KAFKA_HOST:$port" --timeout "$timeout" --pid "$pid")
  if [ "$mode" = loop ]; then args+=(--warm); else args+=(--once); fi
  if [ "$KAFKA_SECURE" = 1 ]; then
    (cd "$REPO_ROOT" && WAIT_READY_SSL_CA="$SECURE_DIR/ca.pem" WAIT_READY_SASL_USERNAME="$SCRAM_USER" \
      WAIT_READY_SASL_PASSWORD_FILE="$SECURE_DIR/$SCRAM_USER.password" node "$WAIT_READY" "${args[@]}")
  else
    (cd "$REPO_ROOT" && node "$WAIT_READY" "${args[@]}")
  fi
}

# Secure profile: a local CA and a broker certificate for 127.0.0.1 (openssl), and random
# passwords for the broker's own SCRAM user and the client user. Made once per data folder.
make_secure_material() {
  need_tool openssl "install OpenSSL (the secure profile generates its certificates with it)"
  mkdir -p "$SECURE_DIR"
  chmod 700 "$SECURE_DIR"
  [ -s "$SECURE_DIR/broker.pem" ] && [ -s "$SECURE_DIR/$SCRAM_USER.password" ] && return 0
  say "generating a local CA, a broker certificate and SCRAM passwords in $SECURE_DIR"
  (
    cd "$SECURE_DIR"
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 \
      -subj "/CN=Keyward local Kafka CA" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout broker.key -out broker.csr -subj "/CN=$KAFKA_HOST" 2>/dev/null
    printf 'subjectAltName=IP:%s,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$KAFKA_HOST" >broker.ext
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out broker.crt -days 825 \
      -extfile broker.ext 2>/dev/null
    openssl pkcs8 -topk8 -nocrypt -in broker.key -out broker.p8
    cat broker.p8 broker.crt >broker.pem
    rm -f broker.csr broker.ext broker.key broker.p8 ca.srl
    openssl rand -hex 24 >admin.password
    openssl rand -hex 24 >"$SCRAM_USER.password"
  ) || die 1 "could not generate the secure profile's certificates in $SECURE_DIR"
}

# Serialise start/stop for one KEYWARD_DATA (two concurrent `start`s must not
# launch two brokers on the same data dir). flock is util-linux; without it
# (macOS) this is a no-op. The broker must not inherit fd 9 (see cmd_start).
take_lock() {
  command -v flock >/dev/null 2>&1 || return 0
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/kafka.lock"
  if ! flock -n 9; then
    say "another kafka.sh start/stop is running for $KEYWARD_DATA; waiting for it ..."
    flock -w $((KAFKA_START_TIMEOUT + 60)) 9 || die 1 "gave up waiting for the lock $RUN_DIR/kafka.lock"
  fi
}

# SIGTERM, wait up to $2 seconds, then SIGKILL.
terminate() {
  local pid="$1" grace="$2" i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < grace * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  say "pid $pid still alive after ${grace}s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
}

java_cmd() {
  # shellcheck disable=SC2206
  local heap=($KAFKA_HEAP)
  printf '%s\0' java "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$LOG4J_CONFIG" \
    -cp "$LIB_DIR/*"
}

# ---------------------------------------------------------------- verbs

cmd_build() {
  if cache_complete; then
    return 0
  fi
  need_java
  need_tool mvn "install Apache Maven 3.8+ (e.g. apt-get install maven); it fetches the Kafka jars from Maven Central"
  local tmp
  tmp="$(mktemp -d "$KEYWARD_CACHE/.kafka-$KAFKA_VERSION.tmp.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  say "downloading Apache Kafka $KAFKA_VERSION jars from Maven Central into $INSTALL_DIR (first run only) ..."
  local started=$SECONDS
  # mvn's output (ANSI resets even with -q) goes to a file, shown on failure.
  if ! mvn -B -q -f "$POM" -Dkafka.lib.dir="$tmp/lib" package >"$tmp/mvn.log" 2>&1; then
    cat "$tmp/mvn.log" >&2
    die 1 "maven failed to fetch the Kafka jars (output above)"
  fi
  [ -f "$tmp/lib/kafka_2.13-$KAFKA_VERSION.jar" ] || die 1 "maven finished but $tmp/lib has no kafka_2.13-$KAFKA_VERSION.jar"
  rm -f "$tmp/mvn.log"
  pom_fingerprint >"$tmp/.complete" # marker last: lib/ is complete
  if cache_complete; then
    : # a concurrent build finished first; keep it
  else
    rm -rf "$INSTALL_DIR"
    mv "$tmp" "$INSTALL_DIR"
  fi
  rm -rf "$tmp"
  trap - EXIT
  say "jars ready ($(find "$LIB_DIR" -name '*.jar' | wc -l | tr -d ' ') jars, $((SECONDS - started))s)"
}

write_properties() {
  mkdir -p "$KAFKA_DIR" "$DATA_DIR"
  local tmp="$PROPS.tmp.$$"
  local listener=PLAINTEXT
  [ "$KAFKA_SECURE" = 1 ] && listener=SASL_SSL
  cat >"$tmp" <<EOF
# Generated by infra/kafka/kafka.sh on every start; edits are overwritten.
process.roles=broker,controller
node.id=$NODE_ID
controller.quorum.voters=$QUORUM_VOTERS
listeners=$listener://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=$listener://$KAFKA_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=$listener
listener.security.protocol.map=CONTROLLER:PLAINTEXT,$listener:$listener
log.dirs=$DATA_DIR

num.partitions=6
offsets.topic.num.partitions=10
transaction.state.log.num.partitions=10
group.initial.rebalance.delay.ms=0
EOF
  if [ "$NODES" = 1 ]; then
    cat >>"$tmp" <<EOF

# Single node: every internal topic has one replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1

# Idle cost: the controller appends a no-op record to the metadata log this often when nothing
# else changes (default 500 ms), which wakes the raft, controller and metadata threads each time.
# A single node has no follower to prove liveness to.
metadata.max.idle.interval.ms=5000
EOF
  else
    cat >>"$tmp" <<EOF

# Cluster of $NODES: every topic (internal ones too) has three replicas and takes a write
# (acks=all) while two of them are in sync, so one node may die without losing or refusing one.
offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
default.replication.factor=3
min.insync.replicas=2
# Never elect a replica that missed acknowledged writes.
unclean.leader.election.enable=false
# Several JVMs share one machine: fewer threads each.
num.network.threads=2
num.io.threads=4
EOF
  fi
  if [ "$KAFKA_SECURE" = 1 ]; then
    cat >>"$tmp" <<EOF

# Secure profile: TLS (PEM key and chain from the local CA) and SCRAM-SHA-512, also between
# the broker and itself (its own user, created when the storage was formatted).
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(cat "$SECURE_DIR/admin.password")";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=$SECURE_DIR/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$SECURE_DIR/ca.pem
ssl.enabled.protocols=TLSv1.3,TLSv1.2
EOF
    chmod 600 "$tmp"
  fi
  mv "$tmp" "$PROPS"
}

format_storage() {
  if [ -f "$DATA_DIR/meta.properties" ] && [ "$KAFKA_SECURE" = 1 ] && [ ! -f "$KAFKA_DIR/profile" ]; then
    die 2 "the storage in $DATA_DIR was formatted without the secure profile (no SCRAM users); use another KEYWARD_DATA"
  fi
  if [ -f "$DATA_DIR/meta.properties" ]; then
    # Already formatted; make sure the cluster id is on record.
    if [ ! -s "$CLUSTER_ID_FILE" ]; then
      sed -n 's/^cluster\.id=//p' "$DATA_DIR/meta.properties" >"$CLUSTER_ID_FILE"
    fi
    return 0
  fi
  local cid
  if [ -s "$CLUSTER_ID_FILE" ]; then
    cid="$(tr -d '[:space:]' <"$CLUSTER_ID_FILE")"
  else
    local -a jcmd
    mapfile -d '' jcmd < <(java_cmd)
    cid="$("${jcmd[@]}" kafka.tools.StorageTool random-uuid 2>>"$LOG_FILE" \
      | grep -E '^[A-Za-z0-9_-]{22}$' | tail -n 1 || true)"
    [ -n "$cid" ] || die 1 "could not generate a cluster id; see $LOG_FILE"
    printf '%s\n' "$cid" >"$CLUSTER_ID_FILE"
  fi
  say "formatting storage in $DATA_DIR (cluster id $cid)"
  local -a jcmd
  mapfile -d '' jcmd < <(java_cmd)
  local -a scram=()
  if [ "$KAFKA_SECURE" = 1 ]; then
    # SCRAM users of a KRaft cluster are created when its storage is formatted.
    scram=(--add-scram "SCRAM-SHA-512=[name=admin,password=$(cat "$SECURE_DIR/admin.password")]"
      --add-scram "SCRAM-SHA-512=[name=$SCRAM_USER,password=$(cat "$SECURE_DIR/$SCRAM_USER.password")]"
      --add-scram "SCRAM-SHA-256=[name=$SCRAM_USER,password=$(cat "$SECURE_DIR/$SCRAM_USER.password")]")
    printf 'secure\n' >"$KAFKA_DIR/profile"
  fi
  if ! "${jcmd[@]}" kafka.tools.StorageTool format -t "$cid" -c "$PROPS" -g "${scram[@]}" >>"$LOG_FILE" 2>&1; then
    tail -n 30 "$LOG_FILE" >&2 || true
    die 1 "storage format failed; see $LOG_FILE"
  fi
}

# Is the selected node up and answering? Otherwise clean up what is left of it (a dead pid, a
# hung process) so that it can be started anew. Dies when it answers on another port.
node_up_or_cleared() {
  local pid rport
  pid="$(read_pid)"
  rport="$(running_port)"
  [ -n "$pid" ] || return 1
  # A live node of a cluster is left alone: while another node is down a probe may reach for
  # the dead one and fail, and killing a healthy node would cost the cluster its majority.
  if [ "$NODES" != 1 ] && is_kafka_pid "$pid"; then
    return 0
  fi
  if is_kafka_pid "$pid"; then
    if probe 5 once "$pid" "$rport" 2>/dev/null; then
      if [ "$rport" != "$KAFKA_PORT" ]; then
        die 2 "already running on $KAFKA_HOST:$rport (pid $pid), not on KAFKA_PORT=$KAFKA_PORT; run '$0 stop' first"
      fi
      return 0
    fi
    say "pid $pid is alive but $KAFKA_HOST:$rport does not answer (hung or crashed); killing it and starting anew"
    terminate "$pid" 10
  else
    say "removing stale pidfile (pid $pid is not running); starting anew"
  fi
  clear_pidfile
  return 1
}

# Refuse to start one node while a cluster runs from the same data folder, and the reverse.
refuse_other_layout() {
  local pidfile other
  if [ "$NODES" = 1 ]; then
    for pidfile in "$RUN_DIR"/kafka-[0-9]*.pid; do
      [ -f "$pidfile" ] || continue
      other="$(read_pid_of "$pidfile")"
      ! is_kafka_pid "$other" || die 2 "a Kafka cluster runs from $KEYWARD_DATA (pid $other); run '$0 stop' first, or start with --ha"
    done
  else
    other="$(read_pid_of "$RUN_DIR/kafka.pid")"
    [ -z "$other" ] || ! is_kafka_pid "$other" || die 2 "a single Kafka node runs from $KEYWARD_DATA (pid $other); run '$0 stop' first"
  fi
}

# Start the selected node in the background (storage formatted first when new); sets LAUNCHED_PID.
launch_node() {
  # Keep the previous run's log for post-mortems.
  [ -f "$LOG_FILE" ] && mv -f "$LOG_FILE" "$LOG_FILE.1"
  : >"$LOG_FILE"
  write_properties
  format_storage
  local -a jcmd
  mapfile -d '' jcmd < <(java_cmd)
  local -a detach=(nohup)
  command -v setsid >/dev/null 2>&1 && detach=(setsid nohup)
  say "starting Kafka $KAFKA_VERSION node $NODE_ID on $KAFKA_HOST:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT), log $LOG_FILE"
  # Non-interactive bash: the background job is not a process-group leader, so
  # setsid and nohup both exec in place and $! is the java pid.
  "${detach[@]}" "${jcmd[@]}" kafka.Kafka "$PROPS" >>"$LOG_FILE" 2>&1 </dev/null 9>&- &
  LAUNCHED_PID=$!
  printf '%s\n' "$LAUNCHED_PID" >"$PIDFILE"
  printf '%s\n' "$KAFKA_PORT" >"$PORTFILE"
}

# Wait until the selected node (pid $1) is ready; on failure stop it and die.
await_node() {
  local pid="$1" started=$SECONDS rc=0 why
  why="$(probe "$KAFKA_START_TIMEOUT" loop "$pid" 2>&1)" || rc=$?
  case "$rc" in
    0)
      say "up on $KAFKA_HOST:$KAFKA_PORT (pid $pid, ready in $((SECONDS - started))s)"
      if [ "$KAFKA_SECURE" = 1 ]; then
        say "secure profile (SASL_SSL); clients use:"
        printf '  KAFKA_BROKERS=%s:%s KAFKA_SSL=on KAFKA_SSL_CA_FILE=%s\n' "$KAFKA_HOST" "$KAFKA_PORT" "$SECURE_DIR/ca.pem"
        printf '  KAFKA_SASL_MECHANISM=scram-sha-512 KAFKA_SASL_USERNAME=%s KAFKA_SASL_PASSWORD_FILE=%s\n' "$SCRAM_USER" "$SECURE_DIR/$SCRAM_USER.password"
      fi
      ;;
    2)
      clear_pidfile
      printf -- '--- last 30 lines of %s ---\n' "$LOG_FILE" >&2
      tail -n 30 "$LOG_FILE" >&2 || true
      die 1 "broker process $pid exited during startup; see $LOG_FILE"
      ;;
    3)
      terminate "$pid" "$STOP_GRACE_SECONDS"
      clear_pidfile
      [ -z "$why" ] || printf '%s\n' "$why" >&2
      die 3 "cannot run the readiness check: kafkajs is missing (run 'npm ci' in $REPO_ROOT)"
      ;;
    *)
      terminate "$pid" "$STOP_GRACE_SECONDS"
      clear_pidfile
      printf -- '--- last 30 lines of %s ---\n' "$LOG_FILE" >&2
      tail -n 30 "$LOG_FILE" >&2 || true
      [ -z "$why" ] || printf '%s\n' "$why" >&2
      die 1 "not ready after ${KAFKA_START_TIMEOUT}s; see $LOG_FILE (the broker was stopped)"
      ;;
  esac
}

cmd_start() {
  cmd_build
  need_java
  need_node
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  take_lock
  refuse_other_layout

  # The nodes that are not up: all of them at first, a killed one of a cluster later.
  local -a down=()
  local n port
  for ((n = 1; n <= NODES; n++)); do
    use_node "$n"
    node_up_or_cleared || down+=("$n")
  done
  if [ "${#down[@]}" = 0 ]; then
    if [ "$NODES" = 1 ]; then say "already running on $KAFKA_HOST:$KAFKA_PORT (pid $(read_pid))"; else say "cluster of $NODES already running on $BOOTSTRAP"; fi
    return 0
  fi

  for n in "${down[@]}"; do
    use_node "$n"
    for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
      if port_in_use "$port"; then
        local owner
        owner="$(port_owner "$port")"
        die 2 "port $KAFKA_HOST:$port is already in use by another process${owner:+ ($owner)}, not by the broker in $PIDFILE; stop it or set KAFKA_PORT / KAFKA_CONTROLLER_PORT"
      fi
    done
  done

  # Every node first (a cluster's controllers need a majority to elect a leader), then wait.
  local -a pids=()
  for n in "${down[@]}"; do
    use_node "$n"
    mkdir -p "$KAFKA_DIR"
    [ "$KAFKA_SECURE" = 1 ] && make_secure_material
    launch_node
    pids+=("$LAUNCHED_PID")
  done
  [ "$NODES" = 1 ] || printf '%s\n' "$NODES" >"$NODES_FILE"
  local i
  for i in "${!down[@]}"; do
    use_node "${down[i]}"
    await_node "${pids[i]}"
  done
  [ "$NODES" = 1 ] || say "cluster of $NODES up: KAFKA_BROKERS=$BOOTSTRAP KAFKA_REPLICATION_FACTOR=3"
}

cmd_stop() {
  take_lock
  local n pid
  for ((n = 1; n <= NODES; n++)); do
    use_node "$n"
    pid="$(read_pid)"
    if [ -z "$pid" ] || ! is_kafka_pid "$pid"; then
      clear_pidfile
      say "$([ "$NODES" = 1 ] || echo "node $n ")not running"
      continue
    fi
    say "stopping pid $pid ..."
    # The nodes of a cluster stop in parallel: the last ones cannot hand over leadership anyway.
    if [ "$NODES" = 1 ]; then terminate "$pid" "$STOP_GRACE_SECONDS"; else terminate "$pid" "$STOP_GRACE_SECONDS" & fi
  done
  wait
  for ((n = 1; n <= NODES; n++)); do
    use_node "$n"
    clear_pidfile
  done
  rm -f "$NODES_FILE"
  say "stopped"
}

cmd_status() {
  local n pid rport rc=0
  for ((n = 1; n <= NODES; n++)); do
    use_node "$n"
    local label=""
    [ "$NODES" = 1 ] || label="node $n "
    pid="$(read_pid)"
    if [ -z "$pid" ]; then
      say "${label}down"
      rc=1
      continue
    fi
    if ! is_kafka_pid "$pid"; then
      say "${label}down (stale pidfile: pid $pid is not running)"
      rc=1
      continue
    fi
    need_node
    rport="$(running_port)"
    if probe 5 once "$pid" "$rport" 2>/dev/null; then
      if [ "$rport" != "$KAFKA_PORT" ]; then
        say "${label}up on $KAFKA_HOST:$rport (pid $pid), not on KAFKA_PORT=$KAFKA_PORT"
        rc=1
        continue
      fi
      say "${label}up (pid $pid, $KAFKA_HOST:$KAFKA_PORT)"
      continue
    fi
    say "${label}stale/unresponsive (pid $pid alive, $KAFKA_HOST:$rport not answering)"
    rc=1
  done
  return "$rc"
}

case "${1:-}" in
  build) cmd_build ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    printf 'usage: %s build|start|stop|status\n' "$0" >&2
    exit 2
    ;;
esac
