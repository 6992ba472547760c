#!/usr/bin/env bash
# Benchmark (not a test): QuorumKV against the etcd anchor, in one sitting.
#
# Starts a fresh local three-replica cluster (fsync = always, RocksDB in a new temporary
# directory, 127.0.0.1:BASE_PORT..+2), prefills 10,000 keys (key00000..key09999) with
# 100-byte values, warms the JVMs up with WARMUP (default 20s) each of wrk PUT and GET at 64
# connections (not counted: the JIT compiler needs that long on 2 busy cores, etcd is native
# code and needs none), then measures quorum PUT and quorum GET on uniform random keys:
#   - with wrk -t1 -cC -dD --latency against one replica (as the anchor does against etcd's
#     leader), C = 16 and 64, ROUNDS rounds each;
#   - with `kv bench` (requests spread over all three replicas), the same C and duration.
# Then runs the etcd anchor ($ETCD_BASELINE, default ../shared/bench/etcd-baseline.sh, when
# present) with the same duration and rounds, and prints every run and the medians.
# Stops every process it started by PID. Installs wrk from the Debian archive if missing.
#
# Usage: bench/compare.sh [DURATION] [ROUNDS]     e.g. bench/compare.sh 15s 3
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-15s}; ROUNDS=${2:-3}
BASE_PORT=${BASE_PORT:-7400}
ETCD_BASELINE=${ETCD_BASELINE:-../shared/bench/etcd-baseline.sh}
REPLICA_JAR=target/quorumkv-replica.jar
CLIENT_JAR=client/target/quorumkv-client.jar

WORK=$(mktemp -d /tmp/quorumkv-compare.XXXXXX)
. bench/cluster.sh
ensure_jars
ensure_wrk
trap 'stop_cluster; rm -rf "$WORK"' EXIT

start_cluster always "$WORK" "$WORK/replica"
wait_ready
java -jar "$CLIENT_JAR" bench --nodes "$NODES" --keys 10000 --value-bytes 100 --prefill --ops 1 --mix write=100 \
  --concurrency 16 > "$WORK/prefill.out"
grep prefilled "$WORK/prefill.out" >&2
for op in put get; do
  wrk -t1 -c64 -d"${WARMUP:-20s}" -s "bench/wrk/$op.lua" "http://127.0.0.1:$BASE_PORT" > /dev/null
done

# wrk's "99%" line in milliseconds, whatever unit it printed.
wrk_p99_ms() { awk '$1 == "99%" { v=$2; if (v ~ /us$/) { sub(/us$/, "", v); v/=1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v*=1000 } print v }'; }

declare -A RESULTS
for c in 16 64; do
  for op in put get; do
    for round in $(seq 1 "$ROUNDS"); do
      out=$(wrk -t1 -c"$c" -d"$DURATION" --latency -s "bench/wrk/$op.lua" "http://127.0.0.1:$BASE_PORT")
      rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
      p99=$(echo "$out" | wrk_p99_ms)
      errors=$(echo "$out" | awk '/Non-2xx/ {print $NF} /Socket errors/ {print}' | tr '\n' ' ')
      echo "wrk $op c=$c round $round: $rps req/s, p99 $p99 ms ${errors:+(errors: $errors)}"
      RESULTS["wrk $op $c"]+="$rps $p99"$'\n'
    done
  done
done
for c in 16 64; do
  for mix in write=100 read=100; do
    op=${mix%%=*}
    for round in $(seq 1 "$ROUNDS"); do
      java -jar "$CLIENT_JAR" bench --nodes "$NODES" --keys 10000 --value-bytes 100 --mix "$mix" --concurrency "$c" \
        --duration "$DURATION" --warmup 2s --seed "$round" --json "$WORK/bench.json" > "$WORK/bench.out" || true
      line=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1]))[sys.argv[2]]; print('%.1f %.2f' % (r['opsPerSecond'], r['p99Ms']))" \
        "$WORK/bench.json" "$op")
      echo "kv bench $op c=$c round $round: ops/s p99 ms = $line"
      RESULTS["bench $op $c"]+="$line"$'\n'
    done
  done
done
stop_cluster

echo
echo "medians of $ROUNDS rounds of $DURATION (QuorumKV: fsync = always, quorum):"
for key in "wrk put 16" "wrk put 64" "wrk get 16" "wrk get 64" "bench write 16" "bench write 64" "bench read 16" "bench read 64"; do
  rate=$(printf '%s' "${RESULTS[$key]}" | awk '{print $1}' | median)
  p99=$(printf '%s' "${RESULTS[$key]}" | awk '{print $2}' | median)
  printf '  %-16s %10s ops/s   p99 %8s ms\n' "$key" "$rate" "$p99"
done

if [ -x "$ETCD_BASELINE" ] || [ -f "$ETCD_BASELINE" ]; then
  echo
  echo "etcd anchor ($ETCD_BASELINE $DURATION $ROUNDS):"
  bash "$ETCD_BASELINE" "$DURATION" "$ROUNDS"
else
  echo "no etcd anchor at $ETCD_BASELINE (set ETCD_BASELINE): QuorumKV figures only" >&2
fi
