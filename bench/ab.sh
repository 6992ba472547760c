#!/usr/bin/env bash
# Benchmark (not a test): two builds of QuorumKV, interleaved, in one sitting.
#
# The machine is shared and its speed drifts over minutes, so running one build's
# bench/compare.sh and then the other's compares two machines as much as two builds. This
# script runs both builds' clusters side by side instead (BEFORE on 127.0.0.1:BASE_PORT..+2,
# AFTER on BASE_PORT+10..+12; fsync = always; RocksDB in a new temporary directory), prefills
# and warms both the way compare.sh does (10,000 keys of 100 bytes; WARMUP, default 20s, each
# of wrk PUT and GET at 64 connections), and then measures compare.sh's eight rows, each
# round of a row running both builds back to back, the order alternating from round to
# round. The idle cluster only pings and exchanges anti-entropy digests meanwhile. Rows:
#   - wrk -t1 -cC -dDURATION --latency PUT and GET against the first replica, C = 16 and 64,
#     with the replicas' CPU time per request (utime + stime of the three, from /proc);
#   - `kv bench` write=100 and read=100, C = 16 and 64, spread over the three replicas. Both
#     builds are driven by AFTER's client jar, so a difference is the replicas'.
# Prints every run, then per row the medians of ROUNDS rounds and after/before.
# BEFORE_DIR and AFTER_DIR are checkouts; a missing jar is built there (mvn package).
# Stops every process it started by PID. Installs wrk from the Debian archive if missing.
#
# AB_ROWS="wrk put 64,bench read 64" measures only those rows (e.g. more rounds of a doubtful one).
# AB_TLS=1 runs AFTER's cluster over TLS (mutual TLS between its replicas, certificates from
# bin/make-test-certs.sh; wrk and kv bench over HTTPS): with BEFORE_DIR = AFTER_DIR, the cost of TLS.
#
# Usage: bench/ab.sh BEFORE_DIR AFTER_DIR [DURATION] [ROUNDS]     e.g. bench/ab.sh ../old . 10s 3
set -euo pipefail
[ $# -ge 2 ] || { sed -n "2,24p" "$0" >&2; exit 2; }
BEFORE=$(cd "$1" && pwd); AFTER=$(cd "$2" && pwd)
DURATION=${3:-10s}; ROUNDS=${4:-3}
cd "$(dirname "$0")/.."
BASE_PORT=${BASE_PORT:-7400}
CLIENT_JAR=$AFTER/client/target/quorumkv-client.jar
TICKS_PER_SECOND=$(getconf CLK_TCK)

WORK=$(mktemp -d /tmp/quorumkv-ab.XXXXXX)
. bench/cluster.sh
ensure_wrk
for dir in "$BEFORE" "$AFTER"; do
  if [ ! -f "$dir/target/quorumkv-replica.jar" ] || [ ! -f "$dir/client/target/quorumkv-client.jar" ]; then
    (cd "$dir" && mvn -B -q package -DskipTests)
  fi
done
trap 'stop_cluster; rm -rf "$WORK"' EXIT

declare -A DIR PORT PIDS_OF RESULTS TLS_OF SCHEME
DIR[before]=$BEFORE; DIR[after]=$AFTER
PORT[before]=$BASE_PORT; PORT[after]=$((BASE_PORT + 10))
TLS_OF[before]=""; TLS_OF[after]=""
if [ "${AB_TLS:-0}" = 1 ]; then
  bin/make-test-certs.sh "$WORK/certs" 127.0.0.1 > /dev/null
  TLS_OF[after]=$WORK/certs
fi
for build in before after; do SCHEME[$build]=$([ -n "${TLS_OF[$build]}" ] && echo https || echo http); done

tls_options() { # BUILD: kv bench's TLS options for that build's cluster
  [ -n "${TLS_OF[$1]}" ] && echo "--cacert ${TLS_OF[$1]}/ca.pem"
  return 0
}

for build in before after; do
  use_ports "${PORT[$build]}"
  REPLICA_JAR=${DIR[$build]}/target/quorumkv-replica.jar
  BENCH_TLS_DIR=${TLS_OF[$build]}
  started=${#PIDS[@]}
  start_cluster always "$WORK/$build" "$WORK/$build"
  PIDS_OF[$build]="${PIDS[*]:$started}"
  wait_ready
  # shellcheck disable=SC2046 # the options are words
  java -jar "$CLIENT_JAR" bench --nodes "$NODES" --keys 10000 --value-bytes 100 --prefill --ops 1 --mix write=100 \
    --concurrency 16 $(tls_options "$build") > "$WORK/prefill-$build.out"
  echo "$build ($(git -C "${DIR[$build]}" log -1 --format=%h 2>/dev/null || echo '?')): $(grep prefilled "$WORK/prefill-$build.out")" >&2
done
for build in before after; do
  for op in put get; do
    wrk -t1 -c64 -d"${WARMUP:-20s}" -s "bench/wrk/$op.lua" "${SCHEME[$build]}://127.0.0.1:${PORT[$build]}" > /dev/null
  done
done

# wrk's "99%" line in milliseconds, whatever unit it printed.
wrk_p99_ms() { awk '$1 == "99%" { v=$2; if (v ~ /us$/) { sub(/us$/, "", v); v/=1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v*=1000 } print v }'; }

cpu_ticks() { # PIDS: their user + system CPU time so far, in clock ticks
  local ticks=0 pid
  for pid in $1; do ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done
  echo "$ticks"
}

measure_wrk() { # BUILD OP CONNECTIONS -> "req/s p99_ms cpu_ms_per_request"
  local build=$1 op=$2 c=$3 before_ticks out after_ticks requests
  before_ticks=$(cpu_ticks "${PIDS_OF[$build]}")
  out=$(wrk -t1 -c"$c" -d"$DURATION" --latency -s "bench/wrk/$op.lua" "${SCHEME[$build]}://127.0.0.1:${PORT[$build]}")
  after_ticks=$(cpu_ticks "${PIDS_OF[$build]}")
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  if echo "$out" | grep -q 'Non-2xx\|Socket errors'; then
    echo "$build wrk $op c=$c: $(echo "$out" | grep 'Non-2xx\|Socket errors' | tr '\n' ' ')" >&2
  fi
  echo "$(echo "$out" | awk '/Requests\/sec/ {print $2}') $(echo "$out" | wrk_p99_ms)" \
    "$(awk -v t=$((after_ticks - before_ticks)) -v hz="$TICKS_PER_SECOND" -v n="$requests" \
      'BEGIN { printf "%.3f", t * 1000 / hz / n }')"
}

measure_bench() { # BUILD MIX CONNECTIONS SEED -> "ops/s p99_ms cpu_ms_per_op"
  local build=$1 mix=$2 c=$3 seed=$4 before_ticks after_ticks
  use_ports "${PORT[$build]}"
  before_ticks=$(cpu_ticks "${PIDS_OF[$build]}")
  # shellcheck disable=SC2046 # the options are words
  java -jar "$CLIENT_JAR" bench --nodes "$NODES" --keys 10000 --value-bytes 100 --mix "$mix" --concurrency "$c" \
    --duration "$DURATION" --warmup 2s --seed "$seed" --json "$WORK/bench.json" $(tls_options "$build") \
    > "$WORK/bench.out" || true
  after_ticks=$(cpu_ticks "${PIDS_OF[$build]}")
  # The replicas' CPU over the warm-up and the run, per operation of the run (ops/s x duration).
  python3 -c "import json,sys; r=json.load(open(sys.argv[1]))[sys.argv[2]]; ops=r['opsPerSecond']*float(sys.argv[5]); \
print('%.1f %.2f %.3f' % (r['opsPerSecond'], r['p99Ms'], int(sys.argv[3]) * 1000 / int(sys.argv[4]) / ops))" \
    "$WORK/bench.json" "${mix%%=*}" $((after_ticks - before_ticks)) "$TICKS_PER_SECOND" "$(seconds "$DURATION")"
}

seconds() { # DURATION (e.g. 10s, 2m) -> seconds
  case $1 in *m) echo $(( ${1%m} * 60 ));; *s) echo "${1%s}";; *) echo "$1";; esac
}

ROWS=("wrk put 16" "wrk put 64" "wrk get 16" "wrk get 64" "bench write 16" "bench write 64" "bench read 16" "bench read 64")
if [ -n "${AB_ROWS:-}" ]; then IFS=, read -r -a ROWS <<< "$AB_ROWS"; fi
for row in "${ROWS[@]}"; do
  read -r tool op c <<< "$row"
  for round in $(seq 1 "$ROUNDS"); do
    order="before after"
    [ $((round % 2)) -eq 0 ] && order="after before"
    for build in $order; do
      if [ "$tool" = wrk ]; then
        line=$(measure_wrk "$build" "$op" "$c")
      else
        line=$(measure_bench "$build" "$op=100" "$c" "$round")
      fi
      echo "$row round $round $build: $line"
      RESULTS["$build $row"]+="$line"$'\n'
    done
  done
done
stop_cluster

column_median() { # KEY FIELD
  printf '%s' "${RESULTS[$1]}" | awk -v f="$2" '{print $f}' | median
}
echo
echo "medians of $ROUNDS rounds of $DURATION, before = $BEFORE, after = $AFTER (fsync = always, quorum):"
printf '  %-16s %10s %10s %7s   %9s %9s   %12s %12s\n' row "before/s" "after/s" ratio "p99 bef" "p99 aft" "cpu ms/op b" "cpu ms/op a"
for row in "${ROWS[@]}"; do
  rb=$(column_median "before $row" 1); ra=$(column_median "after $row" 1)
  pb=$(column_median "before $row" 2); pa=$(column_median "after $row" 2)
  cb=$(column_median "before $row" 3); ca=$(column_median "after $row" 3)
  printf '  %-16s %10s %10s %7s   %9s %9s   %12s %12s\n' "$row" "$rb" "$ra" \
    "$(awk -v a="$ra" -v b="$rb" 'BEGIN { printf "%.2f", a / b }')" "$pb" "$pa" "$cb" "$ca"
done
