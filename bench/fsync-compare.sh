#!/usr/bin/env bash
# Benchmark (not a test): quorum write throughput with fsync = always against fsync = never.
#
# For each round and mode: starts a fresh local three-replica cluster (RocksDB in a new
# temporary directory, 127.0.0.1:BASE_PORT..+2), runs `kv bench` with writes only, stops the
# cluster by PID. Rounds alternate the modes so drift on this shared machine hits both alike.
# Prints one line per run and the medians and their ratio.
#
# Usage: bench/fsync-compare.sh [DURATION] [ROUNDS] [CONCURRENCY]     e.g. 15s 3 16
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-15s}; ROUNDS=${2:-3}; CONCURRENCY=${3:-16}
BASE_PORT=${BASE_PORT:-7300}
REPLICA_JAR=target/quorumkv-replica.jar
CLIENT_JAR=client/target/quorumkv-client.jar
[ -f "$REPLICA_JAR" ] && [ -f "$CLIENT_JAR" ] || mvn -B -q package -DskipTests

WORK=$(mktemp -d /tmp/quorumkv-fsync-bench.XXXXXX)
PIDS=()
stop_cluster() {
  [ ${#PIDS[@]} -eq 0 ] && return
  kill -TERM "${PIDS[@]}" 2>/dev/null || true
  for p in "${PIDS[@]}"; do for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; done
  kill -KILL "${PIDS[@]}" 2>/dev/null || true
  PIDS=()
}
trap 'stop_cluster; rm -rf "$WORK"' EXIT

for i in 0 1 2; do export "PEER_PEER${i}_HOST=127.0.0.1" "PEER_PEER${i}_PORT=$((BASE_PORT + i))"; done
NODES="127.0.0.1:$BASE_PORT,127.0.0.1:$((BASE_PORT + 1)),127.0.0.1:$((BASE_PORT + 2))"

run() { # mode round
  local mode=$1 round=$2 dir="$WORK/$1-$2"
  for i in 0 1 2; do
    FSYNC=$mode PORT=$((BASE_PORT + i)) NODE_ID=peer$i LISTEN_HOST=127.0.0.1 DATA_DIR="$dir/peer$i" \
      java -Xmx1g -jar "$REPLICA_JAR" > "$WORK/$mode-$round-peer$i.log" 2>&1 &
    PIDS+=($!)
  done
  java -jar "$CLIENT_JAR" bench --nodes "$NODES" --mix write=100 --concurrency "$CONCURRENCY" \
    --keys 10000 --value-bytes 100 --warmup 5s --duration "$DURATION" --seed "$round" \
    --json "$WORK/$mode-$round.json" > "$WORK/$mode-$round.out"
  stop_cluster
  python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['write']; print('%.1f %.2f %.2f' % (r['opsPerSecond'], r['p50Ms'], r['p99Ms']))" \
    "$WORK/$mode-$round.json"
}

declare -A RESULTS
for round in $(seq 1 "$ROUNDS"); do
  for mode in always never; do
    line=$(run "$mode" "$round")
    RESULTS[$mode]+="$line"$'\n'
    echo "round $round fsync=$mode: ops/s p50 ms p99 ms = $line"
  done
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
always=$(printf '%s' "${RESULTS[always]}" | awk '{print $1}' | median)
never=$(printf '%s' "${RESULTS[never]}" | awk '{print $1}' | median)
always_p99=$(printf '%s' "${RESULTS[always]}" | awk '{print $3}' | median)
never_p99=$(printf '%s' "${RESULTS[never]}" | awk '{print $3}' | median)
echo "median quorum writes/s: fsync=always $always (p99 $always_p99 ms), fsync=never $never (p99 $never_p99 ms)"
python3 -c "print('always/never throughput ratio: %.2f' % ($always / $never))"
