#!/usr/bin/env bash
# Acceptance demo: three replicas on three hosts, all on port 7000, configured only through
# PORT and PEER_*, with peer2 refusing (TCP reset) every connection opened by peer0 or peer1
# for the whole run. The client scenario, given the addresses through PEER_* only, must still
# write the exact result.txt: peer2 answers its quorum reads from peer0 and peer1.
#
# The "hosts" are network namespaces this script creates (root needed; iproute2 and iptables
# from Debian), joined by a bridge on a private test subnet that exists only on this machine.
# Everything it creates is removed on exit; replicas are stopped by PID.
#
# Usage: sudo bin/three-hosts-demo.sh        (builds the jars first if they are missing)
set -euo pipefail
cd "$(dirname "$0")/.."

REPLICA_JAR=$PWD/target/quorumkv-replica.jar
CLIENT_JAR=$PWD/client/target/quorumkv-client.jar
[ -f "$REPLICA_JAR" ] && [ -f "$CLIENT_JAR" ] || mvn -B -q package -DskipTests
if ! command -v iptables >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iptables >/dev/null
fi

SUBNET=10.77.0
BRIDGE=qkvbr0
HOSTS=(qkv-h0 qkv-h1 qkv-h2)
IPS=($SUBNET.10 $SUBNET.11 $SUBNET.12)
WORK=$(mktemp -d /tmp/qkv-three-hosts.XXXXXX)
PIDS=()

cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done; done
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  for h in "${HOSTS[@]}"; do ip netns del "$h" 2>/dev/null || true; done
  ip link del "$BRIDGE" 2>/dev/null || true
}
trap cleanup EXIT

ip link add "$BRIDGE" type bridge
ip addr add "$SUBNET.254/24" dev "$BRIDGE"
ip link set "$BRIDGE" up
for i in 0 1 2; do
  h=${HOSTS[$i]}
  ip netns add "$h"
  ip link add "veth-$h" type veth peer name eth0 netns "$h"
  ip link set "veth-$h" master "$BRIDGE" up
  ip netns exec "$h" ip addr add "${IPS[$i]}/24" dev eth0
  ip netns exec "$h" ip link set eth0 up
  ip netns exec "$h" ip link set lo up
done
# peer2's host refuses every connection from peer0's and peer1's hosts.
for src in "${IPS[0]}" "${IPS[1]}"; do
  ip netns exec "${HOSTS[2]}" iptables -A INPUT -p tcp -s "$src" --dport 7000 -j REJECT --reject-with tcp-reset
done

for i in 0 1 2; do
  peers=()
  for j in 0 1 2; do
    [ "$i" = "$j" ] && continue
    peers+=("PEER_PEER${j}_HOST=${IPS[$j]}" "PEER_PEER${j}_PORT=7000")
  done
  ip netns exec "${HOSTS[$i]}" env -i PATH="$PATH" PORT=7000 DATA_DIR="$WORK/peer$i-data" "${peers[@]}" \
    java -Xmx256m -jar "$REPLICA_JAR" > "$WORK/peer$i.log" 2>&1 &
  PIDS+=($!)
done
echo "replicas on ${IPS[*]} port 7000 (pids ${PIDS[*]}); peer2 refuses peer0 and peer1"

(cd "$WORK" && env -i PATH="$PATH" \
  PEER_PEER0_HOST=${IPS[0]} PEER_PEER0_PORT=7000 \
  PEER_PEER1_HOST=${IPS[1]} PEER_PEER1_PORT=7000 \
  PEER_PEER2_HOST=${IPS[2]} PEER_PEER2_PORT=7000 \
  java -jar "$CLIENT_JAR")

echo "--- result.txt"
cat "$WORK/result.txt"
printf 'k1=alpha\nk2=beta\n' | cmp -s - "$WORK/result.txt" || { echo "result.txt is not exact" >&2; exit 1; }
echo "--- peer0's view of peer2 (must be unreachable):"
curl -s "http://${IPS[0]}:7000/cluster" | grep -o '"name":"peer2"[^}]*' || true
echo "three-hosts demo: OK"
