#!/usr/bin/env bash
# Benchmark (not a test): conditional writes next to plain writes, in one sitting.
#
# One local cluster (fsync = always, RocksDB in a new temporary directory), 10,000 keys of 100
# bytes prefilled, then per row ROUNDS rounds of `kv bench` at concurrency C (default 16), the
# rows interleaved round by round:
#   - "write":      write=100 over the 10,000 keys (plain PUTs);
#   - "cas":        cas=100 over the 10,000 keys (uncontended: a read, then a conditional PUT
#                   of the version read; the conditional PUT alone is timed, as the issue asks);
#   - "cas hot N":  cas=100 over N keys (N = 1000, 10, 1): contention, 412s counted apart.
# Prints every run, then per row the medians (ops/s and p99 of the timed operation, 412s/s)
# and cas/write. Stops every process it started by PID.
#
# Usage: bench/cas.sh [DURATION] [ROUNDS] [CONCURRENCY]     e.g. bench/cas.sh 10s 3 16
set -euo pipefail
DURATION=${1:-10s}; ROUNDS=${2:-3}; C=${3:-16}
cd "$(dirname "$0")/.."
BASE_PORT=${BASE_PORT:-7500}
REPLICA_JAR=${REPLICA_JAR:-target/quorumkv-replica.jar}
CLIENT_JAR=${CLIENT_JAR:-client/target/quorumkv-client.jar}
WORK=$(mktemp -d /tmp/quorumkv-cas.XXXXXX)
. bench/cluster.sh
ensure_jars
trap 'stop_cluster; rm -rf "$WORK"' EXIT
start_cluster always "$WORK/data" "$WORK/log"
wait_ready
java -jar "$CLIENT_JAR" bench --nodes "$NODES" --keys 10000 --value-bytes 100 --prefill --ops 1 --mix write=100 \
  --concurrency 16 > "$WORK/prefill.out"
grep prefilled "$WORK/prefill.out" >&2
java -jar "$CLIENT_JAR" bench --nodes "$NODES" --keys 10000 --mix read=50,write=25,cas=25 --concurrency "$C" \
  --duration "${WARMUP:-20s}" > /dev/null || true # warm the JITs of both paths

measure() { # MIX KEYS SEED -> "ops/s p99_ms refused/s" of the timed operation (cas, else write)
  local mix=$1 keys=$2 seed=$3 op=write
  case $mix in *cas=*) op=cas;; esac
  java -jar "$CLIENT_JAR" bench --nodes "$NODES" --keys "$keys" --value-bytes 100 --mix "$mix" --concurrency "$C" \
    --duration "$DURATION" --warmup 2s --seed "$seed" --json "$WORK/bench.json" > "$WORK/bench.out" || true
  python3 -c "import json,sys; j=json.load(open(sys.argv[1])); r=j.get(sys.argv[2], {'opsPerSecond': 0, 'p99Ms': 0}); \
print('%.1f %.2f %.1f' % (r['opsPerSecond'], r['p99Ms'], j.get('casRefused', 0) / j['options']['seconds']))" \
    "$WORK/bench.json" "$op"
}

declare -A RESULTS
ROWS=("write:write=100:10000" "cas:read=0,write=0,cas=100:10000" "cas hot 1000:read=0,write=0,cas=100:1000"
  "cas hot 10:read=0,write=0,cas=100:10" "cas hot 1:read=0,write=0,cas=100:1")
for round in $(seq 1 "$ROUNDS"); do
  for row in "${ROWS[@]}"; do
    IFS=: read -r name mix keys <<< "$row"
    line=$(measure "$mix" "$keys" "$round")
    echo "$name round $round: $line"
    RESULTS[$name]+="$line"$'\n'
  done
done
stop_cluster

echo
printf '%-14s %10s %8s %10s\n' row "ops/s" "p99 ms" "412/s"
for row in "${ROWS[@]}"; do
  name=${row%%:*}
  col() { printf '%s' "${RESULTS[$name]}" | awk -v f="$1" 'NF {print $f}' | median; }
  printf '%-14s %10s %8s %10s\n' "$name" "$(col 1)" "$(col 2)" "$(col 3)"
done
write=$(printf '%s' "${RESULTS[write]}" | awk 'NF {print $1}' | median)
cas=$(printf '%s' "${RESULTS[cas]}" | awk 'NF {print $1}' | median)
awk -v c="$cas" -v w="$write" 'BEGIN { printf "uncontended cas / plain write throughput: %.2f\n", c / w }'
