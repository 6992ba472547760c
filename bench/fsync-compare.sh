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

WORK=$(mktemp -d /tmp/quorumkv-fsync-bench.XXXXXX)
. bench/cluster.sh
ensure_jars
trap 'stop_cluster; rm -rf "$WORK"' EXIT


run() { # mode round
  local mode=$1 round=$2 dir="$WORK/$1-$2"
  start_cluster "$mode" "$dir" "$WORK/$mode-$round"
  wait_ready
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

always=$(printf '%s' "${RESULTS[always]}" | awk '{print $1}' | median)
never=$(printf '%s' "${RESULTS[never]}" | awk '{print $1}' | median)
always_p99=$(printf '%s' "${RESULTS[always]}" | awk '{print $3}' | median)
never_p99=$(printf '%s' "${RESULTS[never]}" | awk '{print $3}' | median)
echo "median quorum writes/s: fsync=always $always (p99 $always_p99 ms), fsync=never $never (p99 $never_p99 ms)"
python3 -c "print('always/never throughput ratio: %.2f' % ($always / $never))"
