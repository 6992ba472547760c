#!/usr/bin/env bash
# Quick start: builds QuorumKV if needed, starts a local three-replica cluster (peer0..peer2
# on 127.0.0.1, ports BASE_PORT..BASE_PORT+2, default 7000..7002), runs the client scenario
# (PUT k1=alpha via peer0, PUT k2=beta via peer1, GET both via peer2) and prints result.txt.
#
# Usage: bin/local-cluster.sh [--keep] [--tls]
#   --keep   leave the replicas running afterwards (for curl); stop them with the printed kill.
#   --tls    HTTPS with mutual TLS between the replicas: a throwaway CA and certificates are made in
#            run/certs (bin/make-test-certs.sh) and the scenario runs over HTTPS.
# Logs, data directories and result.txt go to run/ (the data is wiped at each run). Every replica this script starts is stopped by its PID.
set -euo pipefail
cd "$(dirname "$0")/.."

KEEP=0
TLS=0
for arg in "$@"; do
  case "$arg" in
    --keep) KEEP=1 ;;
    --tls) TLS=1 ;;
    *) echo "usage: bin/local-cluster.sh [--keep] [--tls]" >&2; exit 2 ;;
  esac
done
BASE_PORT=${BASE_PORT:-7000}
REPLICA_JAR=target/quorumkv-replica.jar
CLIENT_JAR=client/target/quorumkv-client.jar
RUN_DIR=run

# Build when a jar is missing or older than any source.
if [ ! -f "$REPLICA_JAR" ] || [ ! -f "$CLIENT_JAR" ] || \
   [ -n "$(find pom.xml replica.pom.xml client/pom.xml src/main client/src/main -newer "$REPLICA_JAR" -print -quit)" ] || \
   [ -n "$(find client/pom.xml client/src/main -newer "$CLIENT_JAR" -print -quit)" ]; then
  echo "building (mvn -B -q package -DskipTests)..."
  mvn -B -q package -DskipTests
fi

for i in 0 1 2; do
  port=$((BASE_PORT + i))
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is in use; free it or set BASE_PORT" >&2; exit 1
  fi
done

mkdir -p "$RUN_DIR"
rm -f "$RUN_DIR/result.txt"
rm -rf "$RUN_DIR"/peer*-data # each run starts a fresh cluster
for i in 0 1 2; do
  export "PEER_PEER${i}_HOST=127.0.0.1" "PEER_PEER${i}_PORT=$((BASE_PORT + i))"
done
SCHEME=http
if [ $TLS = 1 ]; then
  rm -rf "$RUN_DIR/certs"
  bin/make-test-certs.sh "$RUN_DIR/certs" 127.0.0.1 localhost
  CERTS=$(cd "$RUN_DIR/certs" && pwd)
  export QUORUMKV_CACERT="$CERTS/ca.pem" # the scenario speaks HTTPS, trusting this CA
  SCHEME=https
fi

PIDS=()
stop_replicas() {
  [ ${#PIDS[@]} -eq 0 ] && return
  kill -TERM "${PIDS[@]}" 2>/dev/null || true
  for _ in $(seq 1 50); do
    alive=0; for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && return; sleep 0.2
  done
  kill -KILL "${PIDS[@]}" 2>/dev/null || true
}
if [ $KEEP = 0 ]; then trap stop_replicas EXIT; fi

for i in 0 1 2; do
  if [ $TLS = 1 ]; then
    export TLS_CERT_FILE="$CERTS/peer$i.pem" TLS_KEY_FILE="$CERTS/peer$i-key.pem" TLS_CA_FILE="$CERTS/ca.pem"
  fi
  # Each replica gets all three PEER_* pairs; it skips the one named like its NODE_ID.
  PORT=$((BASE_PORT + i)) NODE_ID=peer$i LISTEN_HOST=127.0.0.1 DATA_DIR="$RUN_DIR/peer$i-data" \
    java -Xmx512m -jar "$REPLICA_JAR" > "$RUN_DIR/peer$i.log" 2>&1 &
  PIDS+=($!)
done
echo "started peer0..peer2 on $SCHEME://127.0.0.1:$BASE_PORT..$((BASE_PORT + 2)) (pids ${PIDS[*]}, logs in $RUN_DIR/)"

# The client waits (bounded) for the replicas to come up.
(cd "$RUN_DIR" && java -jar "../$CLIENT_JAR")
echo "--- $RUN_DIR/result.txt"
cat "$RUN_DIR/result.txt"
if [ $KEEP = 1 ]; then
  echo "--- replicas still running; stop them with: kill ${PIDS[*]}"
  if [ $TLS = 1 ]; then
    echo "--- e.g. curl --cacert $RUN_DIR/certs/ca.pem https://127.0.0.1:$BASE_PORT/kv/k1"
  fi
fi
