#!/usr/bin/env bash
# Benchmark (not a test): listing KEYS keys (default 100,000) in pages of 1,000, QuorumKV next to
# etcd 3.4, in one sitting.
#
# QuorumKV: a local three-replica cluster (fsync = always, RocksDB in a new temporary directory),
# prefilled by `kv bench --prefill` (key00000.., 100-byte values). etcd: a three-member cluster on
# loopback as ../shared/bench/etcd-baseline.sh starts it (default fsync and timings), the same keys
# and values, written by 16 threads. Then ROUNDS rounds, alternating the order: list every key
# under "key" from one member (QuorumKV: peer0, `GET /kv?prefix=key&start=S&limit=1000&values=true`;
# etcd: the leader's JSON gateway, `POST /v3/kv/range` with the prefix's range_end and
# limit=1000, each next page from the successor of the last key), by one Python client over one
# keep-alive connection, so both pay the same client costs. Prints keys/s per round, the medians
# and their ratio, and checks that every key was listed once. Installs etcd and etcdctl from the
# Debian archive when missing; stops every process it started by PID.
#
# Usage: bench/list.sh [KEYS] [ROUNDS]     e.g. bench/list.sh 100000 3
set -euo pipefail
KEYS=${1:-100000}; ROUNDS=${2:-3}
cd "$(dirname "$0")/.."
BASE_PORT=${BASE_PORT:-7600}
REPLICA_JAR=${REPLICA_JAR:-target/quorumkv-replica.jar}
CLIENT_JAR=${CLIENT_JAR:-client/target/quorumkv-client.jar}
WORK=$(mktemp -d /tmp/quorumkv-list.XXXXXX)
. bench/cluster.sh
ensure_jars
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
  echo "installing etcd-server and etcd-client from the Debian archive" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server etcd-client >/dev/null
fi
ETCD_PIDS=()
stop_etcd() {
  for p in "${ETCD_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${ETCD_PIDS[@]}"; do for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; done
  for p in "${ETCD_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}
trap 'stop_cluster; stop_etcd; rm -rf "$WORK"' EXIT

start_cluster always "$WORK/qkv" "$WORK/qkv"
CLUSTER="m1=http://127.0.0.1:24801,m2=http://127.0.0.1:24802,m3=http://127.0.0.1:24803"
for n in 1 2 3; do
  setsid etcd --name "m$n" --data-dir "$WORK/etcd-m$n" \
    --listen-client-urls "http://127.0.0.1:2479$n" --advertise-client-urls "http://127.0.0.1:2479$n" \
    --listen-peer-urls "http://127.0.0.1:2480$n" --initial-advertise-peer-urls "http://127.0.0.1:2480$n" \
    --initial-cluster "$CLUSTER" --initial-cluster-token list-bench --initial-cluster-state new \
    > "$WORK/etcd-m$n.log" 2>&1 < /dev/null &
  ETCD_PIDS+=($!)
done
wait_ready
EPS=127.0.0.1:24791,127.0.0.1:24792,127.0.0.1:24793
for _ in $(seq 1 60); do timeout 5 etcdctl --endpoints=$EPS endpoint health >/dev/null 2>&1 && break; sleep 0.5; done
LEADER=$(timeout 10 etcdctl --endpoints=$EPS endpoint status -w json | python3 -c '
import json,sys
for e in json.load(sys.stdin):
    if e["Status"]["leader"] == e["Status"]["header"]["member_id"]: print(e["Endpoint"].rsplit(":",1)[1])')
echo "etcd $(etcd --version | head -1 | awk '{print $3}') up, leader on port $LEADER" >&2

java -jar "$CLIENT_JAR" bench --nodes "$NODES" --keys "$KEYS" --value-bytes 100 --prefill --ops 1 --mix write=100 \
  --concurrency 16 > "$WORK/prefill.out"
echo "quorumkv: $(grep prefilled "$WORK/prefill.out")" >&2
python3 - "$LEADER" "$KEYS" <<'PY'
import base64, http.client, json, sys, time
from concurrent.futures import ThreadPoolExecutor
port, keys = int(sys.argv[1]), int(sys.argv[2])
value = base64.b64encode((("0123456789abcdefghijklmnopqrstuvwxyz" * 3)[:100]).encode()).decode()
def fill(part):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i in range(part, keys, 16):
        c.request("POST", "/v3/kv/put", json.dumps({"key": base64.b64encode(b"key%05d" % i).decode(), "value": value}))
        r = c.getresponse(); r.read(); assert r.status == 200, r.status
began = time.time()
with ThreadPoolExecutor(16) as pool:
    list(pool.map(fill, range(16)))
print("etcd: prefilled %d keys in %.1f s" % (keys, time.time() - began), file=sys.stderr)
PY

python3 - "$BASE_PORT" "$LEADER" "$KEYS" "$ROUNDS" <<'PY'
import base64, http.client, json, statistics, sys, time, urllib.parse
qkv_port, etcd_port, keys, rounds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

def quorumkv():
    c = http.client.HTTPConnection("127.0.0.1", qkv_port, timeout=60)
    listed, start = [], ""
    while start is not None:
        c.request("GET", "/kv?prefix=key&limit=1000&values=true&start=" + urllib.parse.quote(start, safe=""))
        r = c.getresponse(); body = json.loads(r.read()); assert r.status == 200, (r.status, body)
        listed += [item["key"] for item in body["items"]]
        start = body["next"]
    return listed

def etcd():
    c = http.client.HTTPConnection("127.0.0.1", etcd_port, timeout=60)
    listed, start, end = [], b"key", b"kez"  # range_end: the prefix with its last byte plus one
    while True:
        c.request("POST", "/v3/kv/range", json.dumps({"key": base64.b64encode(start).decode(),
            "range_end": base64.b64encode(end).decode(), "limit": 1000}))
        r = c.getresponse(); body = json.loads(r.read()); assert r.status == 200, (r.status, body)
        page = [base64.b64decode(kv["key"]) for kv in body.get("kvs", [])]
        listed += [k.decode() for k in page]
        if not body.get("more"):
            return listed
        start = page[-1] + b"\0"

rates = {"quorumkv": [], "etcd": []}
for r in range(rounds):
    for name, run in ([("quorumkv", quorumkv), ("etcd", etcd)] if r % 2 == 0 else [("etcd", etcd), ("quorumkv", quorumkv)]):
        began = time.time(); listed = run(); seconds = time.time() - began
        assert listed == ["key%05d" % i for i in range(keys)], (name, len(listed))
        rates[name].append(keys / seconds)
        print("round %d %-8s %9.0f keys/s (%.2f s)" % (r + 1, name, keys / seconds, seconds))
q, e = statistics.median(rates["quorumkv"]), statistics.median(rates["etcd"])
print("median of %d rounds: quorumkv %.0f keys/s, etcd %.0f keys/s, quorumkv/etcd %.2f" % (rounds, q, e, q / e))
PY
