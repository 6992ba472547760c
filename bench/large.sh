#!/usr/bin/env bash
# Benchmark (not a test): a large data set against the 10,000-key one, and a restart.
#
# 1. A fresh local three-replica cluster (fsync = always) with 10,000 keys x 100 bytes:
#    quorum GET with wrk -t1 -c64 on uniform random keys, ROUNDS rounds of DURATION after a
#    WARMUP (default 20s) of the same, not counted (the JIT compiler needs it).
# 2. A fresh cluster prefilled with KEYS keys (default 1,000,000) x 1 KiB, i.e. about 1 GiB of
#    values per replica: the same GET measurement over all KEYS keys.
# 3. kill -9 of peer2 and a restart on its data: the time from the new process's start until it
#    answers a quorum GET of a prefilled key with 200 (target < 10 s).
# Prints every round, the medians and the ratio large/small (target >= 0.80). Stops every
# process it started by PID. Installs wrk from the Debian archive if missing.
#
# Usage: bench/large.sh [DURATION] [ROUNDS] [KEYS]     e.g. bench/large.sh 15s 3 1000000
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-15s}; ROUNDS=${2:-3}; LARGE_KEYS=${3:-1000000}
BASE_PORT=${BASE_PORT:-7600}
REPLICA_JAR=target/quorumkv-replica.jar
CLIENT_JAR=client/target/quorumkv-client.jar

WORK=$(mktemp -d /tmp/quorumkv-large.XXXXXX)
. bench/cluster.sh
ensure_jars
ensure_wrk
trap 'stop_cluster; rm -rf "$WORK"' EXIT

measure_gets() { # KEYS LABEL: a warm-up, then ROUNDS wrk runs; prints each, stores the median in MEDIAN
  local keys=$1 label=$2 rates=""
  KEYS=$keys wrk -t1 -c64 -d"${WARMUP:-20s}" -s bench/wrk/get.lua "http://127.0.0.1:$BASE_PORT" > /dev/null
  for round in $(seq 1 "$ROUNDS"); do
    rps=$(KEYS=$keys wrk -t1 -c64 -d"$DURATION" -s bench/wrk/get.lua "http://127.0.0.1:$BASE_PORT" \
      | awk '/Requests\/sec/ {print $2} /Non-2xx/ {print "non-2xx: " $NF > "/dev/stderr"}')
    echo "$label GET c=64 round $round: $rps req/s"
    rates+="$rps"$'\n'
  done
  MEDIAN=$(printf '%s' "$rates" | median)
}

prefill() { # KEYS VALUE_BYTES
  java -jar "$CLIENT_JAR" bench --nodes "$NODES" --keys "$1" --value-bytes "$2" --prefill --ops 1 --mix write=100 \
    --concurrency 64 --timeout 30s > "$WORK/prefill.out"
  grep prefilled "$WORK/prefill.out"
}

start_cluster always "$WORK/small" "$WORK/small"
wait_ready
prefill 10000 100
measure_gets 10000 "10,000 keys x 100 B"
SMALL=$MEDIAN
stop_cluster

start_cluster always "$WORK/large" "$WORK/large"
wait_ready
prefill "$LARGE_KEYS" 1024
du -sh "$WORK/large/peer0" | awk '{print "peer0 data directory: " $1}'
measure_gets "$LARGE_KEYS" "$LARGE_KEYS keys x 1 KiB"
LARGE=$MEDIAN

# Crash peer2 and time its restart until it serves a quorum read.
kill -KILL "${PIDS[2]}"
wait "${PIDS[2]}" 2>/dev/null || true
started=$(date +%s%N)
FSYNC=always PORT=$((BASE_PORT + 2)) NODE_ID=peer2 LISTEN_HOST=127.0.0.1 DATA_DIR="$WORK/large/peer2" \
  java ${REPLICA_JAVA_OPTS:--Xmx1g} -jar "$REPLICA_JAR" >> "$WORK/large-peer2.log" 2>&1 &
PIDS[2]=$!
serving_ms=""
for _ in $(seq 1 600); do
  if curl -sf -o /dev/null "http://127.0.0.1:$((BASE_PORT + 2))/kv/key00042?consistency=quorum"; then
    serving_ms=$(( ($(date +%s%N) - started) / 1000000 ))
    break
  fi
  sleep 0.05
done
stop_cluster

echo
echo "medians of $ROUNDS rounds of $DURATION, quorum GET, wrk -t1 -c64:"
echo "  10,000 keys x 100 B:      $SMALL req/s"
echo "  $LARGE_KEYS keys x 1 KiB: $LARGE req/s"
echo "  ratio large/small: $(awk -v a="$LARGE" -v b="$SMALL" 'BEGIN {printf "%.2f", a / b}') (target >= 0.80)"
echo "  peer2 after kill -9: serving a quorum GET ${serving_ms:-never (gave up after 30 s)} ms after its start (target < 10,000 ms)"
