#!/usr/bin/env bash
# Benchmark (not a test): the long mixed run of the performance targets.
#
# Starts a fresh local three-replica cluster (fsync = always), prefills 10,000 keys with
# 100-byte values, then runs `kv bench --mix read=50,write=50 --concurrency 64` for DURATION
# (default 10m), spread over the three replicas. Every minute it forces a full GC in each
# replica and records the heap in use after it (jcmd GC.run, GC.heap_info). At the end it
# prints the throughput of the first and of the last minute, their ratio (target >= 0.90),
# the heap after GC per replica per minute, and the errors kv bench counted (target 0).
# Stops every process it started by PID.
#
# Usage: bench/soak.sh [DURATION]     e.g. bench/soak.sh 10m
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10m}
BASE_PORT=${BASE_PORT:-7500}
REPLICA_JAR=target/quorumkv-replica.jar
CLIENT_JAR=client/target/quorumkv-client.jar

WORK=$(mktemp -d /tmp/quorumkv-soak.XXXXXX)
. bench/cluster.sh
ensure_jars
BENCH_PID=
trap '[ -n "$BENCH_PID" ] && kill "$BENCH_PID" 2>/dev/null; stop_cluster; rm -rf "$WORK"' EXIT

start_cluster always "$WORK" "$WORK/replica"
wait_ready
java -jar "$CLIENT_JAR" bench --nodes "$NODES" --keys 10000 --value-bytes 100 --prefill --ops 1 --mix write=100 \
  --concurrency 16 > "$WORK/prefill.out"
grep prefilled "$WORK/prefill.out" >&2

heap_after_gc_mib() { # PID: heap in use right after a forced full GC, in MiB
  jcmd "$1" GC.run > /dev/null
  jcmd "$1" GC.heap_info | awk '/used/ { for (i = 1; i <= NF; i++) if ($i == "used") { v = $(i+1); sub(/K,?$/, "", v); print int(v / 1024); exit } }'
}

java -jar "$CLIENT_JAR" bench --nodes "$NODES" --keys 10000 --value-bytes 100 --mix read=50,write=50 \
  --concurrency 64 --duration "$DURATION" --json "$WORK/soak.json" > "$WORK/soak.out" 2>&1 &
BENCH_PID=$!
minute=0
echo "minute  heap after GC (MiB): peer0 peer1 peer2"
while kill -0 "$BENCH_PID" 2>/dev/null; do
  sleep 60
  kill -0 "$BENCH_PID" 2>/dev/null || break
  minute=$((minute + 1))
  heaps=""
  for p in "${PIDS[@]}"; do heaps="$heaps $(heap_after_gc_mib "$p")"; done
  echo "$minute $heaps"
done
status=0
wait "$BENCH_PID" || status=$?
BENCH_PID=

# Progress lines look like "[ 12s]     1234 ops/s  p99 ...": first and last 60 of them.
rates=$(sed -n 's/^\[ *\([0-9]*\)s\] *\([0-9]*\) ops\/s.*/\2/p' "$WORK/soak.out")
seconds=$(echo "$rates" | wc -l)
first=$(echo "$rates" | head -n 60 | awk '{s += $1} END {printf "%.0f", s / NR}')
last=$(echo "$rates" | tail -n 60 | awk '{s += $1} END {printf "%.0f", s / NR}')
echo
sed -n '/^op /,$p' "$WORK/soak.out"
echo "seconds reported: $seconds; first minute: $first ops/s; last minute: $last ops/s; ratio: $(awk -v a="$last" -v b="$first" 'BEGIN {printf "%.2f", a / b}')"
echo "kv bench exit status: $status (0: no request failed)"
exit "$status"
