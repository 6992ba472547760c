#!/usr/bin/env bash
# Benchmark (not a test): conditional writes next to plain writes, in one sitting.
#
# Two local clusters (fsync = always, RocksDB in a new temporary directory), the same build: one
# with the defaults (conditional writes try the fast round), one with FAST_ROUND=off (the
# classic round only). On each, 10,000 keys of 100 bytes prefilled; then per row ROUNDS rounds of
# `kv bench` at concurrency C (default 16), the rows interleaved round by round:
#   - "write":            write=100 over the 10,000 keys (plain PUTs);
#   - "create[ classic]": create=100: conditional PUTs alone (If-None-Match: * of a fresh key
#                         each time, no read in the loop): the conditional write's own throughput;
#   - "cas[ classic]":    cas=100 over the 10,000 keys (uncontended: a read, then a conditional
#                         PUT of the version read; the conditional PUT alone is timed, but each
#                         client also waits for its read, so the cas rate is below the
#                         conditional PUT's own);
#   - "cas hot N":        cas=100 over N keys (N = 1000, 10, 1): contention, 412s counted apart.
# Prints every run, then per row the medians (ops/s and p99 of the timed operation, 412s/s) and
# the ratios to plain writes. Stops every process it started by PID.
#
# Usage: bench/cas.sh [DURATION] [ROUNDS] [CONCURRENCY]     e.g. bench/cas.sh 10s 3 16
set -euo pipefail
DURATION=${1:-10s}; ROUNDS=${2:-3}; C=${3:-16}
cd "$(dirname "$0")/.."
BASE_PORT=${BASE_PORT:-7500}
REPLICA_JAR=${REPLICA_JAR:-target/quorumkv-replica.jar}
CLIENT_JAR=${CLIENT_JAR:-client/target/quorumkv-client.jar}
WORK=$(mktemp -d /tmp/quorumkv-cas.XXXXXX)
FAST_PORT=$BASE_PORT
CLASSIC_PORT=$((BASE_PORT + 10))
. bench/cluster.sh
ensure_jars
trap 'stop_cluster; rm -rf "$WORK"' EXIT
for cluster in fast classic; do
  if [ "$cluster" = fast ]; then use_ports "$FAST_PORT"; else use_ports "$CLASSIC_PORT"; export FAST_ROUND=off; fi
  start_cluster always "$WORK/$cluster-data" "$WORK/$cluster-log"
  unset FAST_ROUND
  wait_ready
  java -jar "$CLIENT_JAR" bench --nodes "$NODES" --keys 10000 --value-bytes 100 --prefill --ops 1 --mix write=100 \
    --concurrency 16 > "$WORK/prefill.out"
  echo "$cluster: $(grep prefilled "$WORK/prefill.out")" >&2
  java -jar "$CLIENT_JAR" bench --nodes "$NODES" --keys 10000 --mix read=40,write=20,cas=20,create=20 \
    --concurrency "$C" --duration "${WARMUP:-20s}" > /dev/null || true # warm the JITs of every path
done

measure() { # CLUSTER MIX KEYS SEED -> "ops/s p99_ms refused/s" of the timed operation (cas, create, else write)
  local cluster=$1 mix=$2 keys=$3 seed=$4 op=write
  case $mix in *cas=*) op=cas;; *create=*) op=create;; esac
  if [ "$cluster" = fast ]; then use_ports "$FAST_PORT"; else use_ports "$CLASSIC_PORT"; fi
  java -jar "$CLIENT_JAR" bench --nodes "$NODES" --keys "$keys" --value-bytes 100 --mix "$mix" --concurrency "$C" \
    --duration "$DURATION" --warmup 2s --seed "$seed" --json "$WORK/bench.json" > "$WORK/bench.out" || true
  python3 -c "import json,sys; j=json.load(open(sys.argv[1])); r=j.get(sys.argv[2], {'opsPerSecond': 0, 'p99Ms': 0}); \
print('%.1f %.2f %.1f' % (r['opsPerSecond'], r['p99Ms'], j.get('casRefused', 0) / j['options']['seconds']))" \
    "$WORK/bench.json" "$op"
}

declare -A RESULTS
ROWS=("write:fast:write=100:10000" "create:fast:read=0,write=0,create=100:10000"
  "create classic:classic:read=0,write=0,create=100:10000" "cas:fast:read=0,write=0,cas=100:10000"
  "cas classic:classic:read=0,write=0,cas=100:10000" "cas hot 1000:fast:read=0,write=0,cas=100:1000"
  "cas hot 10:fast:read=0,write=0,cas=100:10" "cas hot 1:fast:read=0,write=0,cas=100:1")
for round in $(seq 1 "$ROUNDS"); do
  for row in "${ROWS[@]}"; do
    IFS=: read -r name cluster mix keys <<< "$row"
    line=$(measure "$cluster" "$mix" "$keys" "$round")
    echo "$name round $round: $line"
    RESULTS[$name]+="$line"$'\n'
  done
done
for port in "$FAST_PORT" "$CLASSIC_PORT"; do # how the fast cluster's conditional writes went (the classic one's: none)
  for i in 0 1 2; do curl -s "http://127.0.0.1:$((port + i))/metrics"; done | awk -v port="$port" \
    '/^quorumkv_fast_rounds_chosen_total/ {c += $2} /^quorumkv_fast_rounds_fell_back_total/ {f += $2}
     END {printf "cluster on %s: fast rounds chosen %d, fell back %d\n", port, c, f}'
done
stop_cluster

echo
printf '%-16s %10s %8s %10s\n' row "ops/s" "p99 ms" "412/s"
for row in "${ROWS[@]}"; do
  name=${row%%:*}
  col() { printf '%s' "${RESULTS[$name]}" | awk -v f="$1" 'NF {print $f}' | median; }
  printf '%-16s %10s %8s %10s\n' "$name" "$(col 1)" "$(col 2)" "$(col 3)"
done
ratio() { # ROW: median ops/s of ROW over that of plain writes
  local row write
  row=$(printf '%s' "${RESULTS[$1]}" | awk 'NF {print $1}' | median)
  write=$(printf '%s' "${RESULTS[write]}" | awk 'NF {print $1}' | median)
  awk -v r="$row" -v w="$write" -v name="$1" 'BEGIN { printf "%s / plain write throughput: %.2f\n", name, r / w }'
}
ratio create; ratio "create classic"; ratio cas; ratio "cas classic"
