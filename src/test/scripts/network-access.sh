#!/usr/bin/env bash
# NetworkAccessIT's check, from a real non-loopback address: three replicas in one network
# namespace (listening on all of its interfaces, peers on its loopback), a client in a second
# namespace joined to it by a veth pair. From the client's address the public API is served, while
# internal calls, the replication stream and admin calls are refused (403), also with forged
# forwarding headers; from the replicas' own loopback, admin calls are answered. Root needed
# (iproute2, curl); everything it creates is removed on exit, replicas stopped by PID.
# Usage: sudo src/test/scripts/network-access.sh REPLICA_JAR WORK_DIR
set -euo pipefail
REPLICA_JAR=${1:?usage: network-access.sh REPLICA_JAR WORK_DIR}
WORK=${2:?usage: network-access.sh REPLICA_JAR WORK_DIR}
case "$WORK" in /|/tmp|"$HOME") echo "refusing to use $WORK as the work directory" >&2; exit 2 ;; esac
SRV=qkv-acc-srv
CLI=qkv-acc-cli
SRV_IP=10.79.0.1
CLI_IP=10.79.0.2
PIDS=()

cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done; done
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  ip netns del "$SRV" 2>/dev/null || true
  ip netns del "$CLI" 2>/dev/null || true
}
trap cleanup EXIT
for n in "$SRV" "$CLI"; do # left by a run that was killed
  if ip netns list | grep -qw "$n"; then
    for p in $(ip netns pids "$n"); do kill -KILL "$p" 2>/dev/null || true; done
    ip netns del "$n"
  fi
done
command -v curl >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null; }

rm -rf "$WORK" # a fresh cluster each run
mkdir -p "$WORK"
ip netns add "$SRV"
ip netns add "$CLI"
ip link add qkv-acc0 netns "$SRV" type veth peer name qkv-acc1 netns "$CLI"
ip netns exec "$SRV" ip addr add "$SRV_IP/24" dev qkv-acc0
ip netns exec "$CLI" ip addr add "$CLI_IP/24" dev qkv-acc1
for n in "$SRV" "$CLI"; do ip netns exec "$n" ip link set lo up; done
ip netns exec "$SRV" ip link set qkv-acc0 up
ip netns exec "$CLI" ip link set qkv-acc1 up

for i in 0 1 2; do
  peers=()
  for j in 0 1 2; do
    [ "$i" = "$j" ] || peers+=("PEER_PEER${j}_HOST=127.0.0.1" "PEER_PEER${j}_PORT=$((7001 + j))")
  done
  ip netns exec "$SRV" env -i PATH="$PATH" PORT=$((7001 + i)) NODE_ID="peer$i" LISTEN_HOST=0.0.0.0 \
    DATA_DIR="$WORK/peer$i-data" "${peers[@]}" java -Xmx256m -jar "$REPLICA_JAR" > "$WORK/peer$i.log" 2>&1 &
  PIDS+=($!)
done

in_srv() { ip netns exec "$SRV" curl -s -o /dev/null -w '%{http_code}' "$@"; }
from_cli() { ip netns exec "$CLI" curl -s -o /dev/null -w '%{http_code}' "$@"; }
expect() { # WHAT EXPECTED ACTUAL
  if [ "$2" != "$3" ]; then echo "FAILED: $1: expected $2, got $3" >&2; exit 1; fi
  echo "ok: $1 -> $3"
}

for _ in $(seq 1 180); do
  ready=0
  for i in 0 1 2; do [ "$(in_srv "http://127.0.0.1:$((7001 + i))/health/ready")" = 200 ] && ready=$((ready + 1)); done
  [ "$ready" = 3 ] && break
  sleep 0.5
done
[ "$ready" = 3 ] || { echo "the replicas did not become ready within 90 s" >&2; tail -n 20 "$WORK"/peer*.log >&2; exit 1; }
echo "three replicas ready in $SRV; the client is $CLI_IP"

URL=http://$SRV_IP:7001
expect "public PUT from $CLI_IP" 200 "$(from_cli -X PUT --data-binary v "$URL/kv/k")"
expect "public GET from $CLI_IP" 200 "$(from_cli "$URL/kv/k")"
expect "internal call from $CLI_IP" 403 "$(from_cli -X POST -H 'Content-Type: application/cbor' --data-binary x "$URL/internal/v2/call")"
expect "internal call from $CLI_IP with forged forwarding headers" 403 "$(from_cli -X POST \
  -H 'X-Forwarded-For: 127.0.0.1' -H 'X-Real-IP: 127.0.0.1' -H 'Forwarded: for=127.0.0.1' \
  -H 'Content-Type: application/cbor' --data-binary x "$URL/internal/v2/call")"
expect "replication stream from $CLI_IP" 403 "$(from_cli "$URL/internal/v2/stream")"
expect "admin snapshot from $CLI_IP" 403 "$(from_cli -X POST "$URL/admin/snapshot")"
expect "admin retire from $CLI_IP, forged as loopback" 403 "$(from_cli -X POST -H 'X-Forwarded-For: 127.0.0.1' "$URL/admin/retire/peer1")"
expect "admin snapshot from loopback forwarded by a proxy" 403 "$(in_srv -X POST -H 'X-Forwarded-For: 10.79.0.2' "http://127.0.0.1:7001/admin/snapshot")"
expect "admin snapshot from loopback" 200 "$(in_srv -X POST "http://127.0.0.1:7001/admin/snapshot?name=from-loopback")"
expect "the replicas still replicate (a quorum read through another)" 200 "$(in_srv "http://127.0.0.1:7003/kv/k")"
refused=$(ip netns exec "$SRV" curl -s http://127.0.0.1:7001/metrics | awk '/^quorumkv_access_refused_total\{reason="internal-not-a-peer"\}/ {print int($2)}')
expect "refusals counted as internal-not-a-peer" 3 "$refused"
echo "network access check: OK"
