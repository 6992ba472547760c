# Sourced by the bench scripts: a local three-replica cluster on 127.0.0.1:BASE_PORT..+2,
# started from REPLICA_JAR (JVM options: REPLICA_JAVA_OPTS, default -Xmx1g) and stopped by PID,
# over TLS when BENCH_TLS_DIR names bin/make-test-certs.sh's certificates;
# and a median over lines of numbers; use_ports, ensure_jars, ensure_wrk and wait_ready for the scripts.
PIDS=()

use_ports() { # BASE: the next start_cluster, wait_ready and $NODES use 127.0.0.1:BASE..BASE+2
  BASE_PORT=$1
  for i in 0 1 2; do export "PEER_PEER${i}_HOST=127.0.0.1" "PEER_PEER${i}_PORT=$((BASE_PORT + i))"; done
  NODES="127.0.0.1:$BASE_PORT,127.0.0.1:$((BASE_PORT + 1)),127.0.0.1:$((BASE_PORT + 2))"
}
use_ports "$BASE_PORT"

start_cluster() { # FSYNC DATA_DIR LOG_PREFIX: replica i keeps its data in DATA_DIR/peer$i, logs to LOG_PREFIX-peer$i.log
  local fsync=$1 data=$2 logs=$3
  for i in 0 1 2; do
    local tls=()
    [ -n "${BENCH_TLS_DIR:-}" ] && tls=(TLS_CERT_FILE="$BENCH_TLS_DIR/peer$i.pem" TLS_KEY_FILE="$BENCH_TLS_DIR/peer$i-key.pem"
      TLS_CA_FILE="$BENCH_TLS_DIR/ca.pem")
    env "${tls[@]}" FSYNC=$fsync PORT=$((BASE_PORT + i)) NODE_ID=peer$i LISTEN_HOST=127.0.0.1 DATA_DIR="$data/peer$i" \
      java ${REPLICA_JAVA_OPTS:--Xmx1g} -jar "$REPLICA_JAR" > "$logs-peer$i.log" 2>&1 &
    PIDS+=($!)
  done
}

ensure_jars() { # builds the jars when either is missing
  [ -f "$REPLICA_JAR" ] && [ -f "$CLIENT_JAR" ] || mvn -B -q package -DskipTests
}

ensure_wrk() { # installs wrk from the Debian archive when missing
  if ! command -v wrk >/dev/null; then
    echo "installing wrk from the Debian archive" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  fi
}

wait_ready() { # until every replica reports its incarnation ready (at most 60 s)
  for _ in $(seq 1 120); do
    local ready=0
    for i in 0 1 2; do
      if [ -n "${BENCH_TLS_DIR:-}" ]; then
        curl -sf --cacert "$BENCH_TLS_DIR/ca.pem" "https://127.0.0.1:$((BASE_PORT + i))/health"
      else
        curl -sf "http://127.0.0.1:$((BASE_PORT + i))/health"
      fi | grep -q '"incarnation":"ready"' && ready=$((ready + 1))
    done
    [ "$ready" -eq 3 ] && return 0
    sleep 0.5
  done
  echo "the replicas did not all become ready within 60 s" >&2
  return 1
}

stop_cluster() { # SIGTERM, up to 10 s per replica, then SIGKILL
  [ ${#PIDS[@]} -eq 0 ] && return
  kill -TERM "${PIDS[@]}" 2>/dev/null || true
  for p in "${PIDS[@]}"; do for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; done
  kill -KILL "${PIDS[@]}" 2>/dev/null || true
  PIDS=()
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
