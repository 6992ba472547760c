#!/usr/bin/env bash
# Checks the packaging as far as this machine allows (docs/operating.md, "Packaging"):
#   - kubernetes/quorumkv.yaml parses as YAML, grafana/quorumkv-dashboard.json as JSON;
#   - systemd/quorumkv.service passes `systemd-analyze verify` (where systemd-analyze exists);
#   - the StatefulSet runs: each pod's environment is rendered by entrypoint.sh from the
#     manifest's own env values (REQUIRE_AUTH, TLS from the secret's directory, tokens) and the
#     pod's name, three replicas are started through the same entrypoint in three network
#     namespaces (one "pod" each, on port 7000, the pods' DNS names given by
#     /etc/netns/<ns>/hosts as a headless Service would), each becomes ready on /health/ready
#     over HTTPS (the readiness probe), the entrypoint's probes answer, a request without a token
#     gets 401, and the client scenario, given the pods' DNS names, a CA and a token, writes the
#     exact result.txt over HTTPS.
# The Dockerfile is not built: no Docker engine runs here.
#
# Needs root (network namespaces), iproute2, curl, openssl, and the jars (built if missing). Everything it
# creates is removed on exit; replicas are stopped by PID.
# Usage: sudo packaging/check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

REPLICA_JAR=$PWD/target/quorumkv-replica.jar
CLIENT_JAR=$PWD/client/target/quorumkv-client.jar
[ -f "$REPLICA_JAR" ] && [ -f "$CLIENT_JAR" ] || mvn -B -q package -DskipTests
PYTHON=/usr/bin/python3
if ! "$PYTHON" -c 'import yaml' 2>/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-yaml >/dev/null
fi

NAMESPACE=default
SUBNET=10.78.0
BRIDGE=qkvpkg0
NETNS=(qkv-pod0 qkv-pod1 qkv-pod2)
IPS=($SUBNET.10 $SUBNET.11 $SUBNET.12)
# Under target/, not /tmp: the replicas unpack RocksDB's native library in their data directories.
mkdir -p target
WORK=$(mktemp -d "$PWD/target/packaging-check.XXXXXX")
PIDS=()
CREATED_USER=
FORWARD_RULE=

cleanup() {
  [ -n "$CREATED_USER" ] && userdel quorumkv 2>/dev/null
  [ -n "$FORWARD_RULE" ] && iptables -D FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT 2>/dev/null
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done; done
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  for n in "${NETNS[@]}"; do ip netns del "$n" 2>/dev/null || true; rm -rf "/etc/netns/$n"; done
  rmdir /etc/netns 2>/dev/null || true # only when this check left it empty
  ip link del "$BRIDGE" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# A run killed before its cleanup (e.g. SIGKILL) may have left its namespaces and their replicas.
for n in "${NETNS[@]}"; do
  if ip netns list | grep -qw "$n"; then
    for p in $(ip netns pids "$n"); do kill -KILL "$p" 2>/dev/null || true; done
    ip netns del "$n"
  fi
done
ip link del "$BRIDGE" 2>/dev/null || true
command -v curl >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null; }

echo "== manifests"
"$PYTHON" - packaging/kubernetes/quorumkv.yaml packaging/grafana/quorumkv-dashboard.json <<'PY'
import json, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
kinds = sorted(d["kind"] for d in docs)
assert kinds == ["PodDisruptionBudget", "Service", "Service", "StatefulSet"], kinds
sts = next(d for d in docs if d["kind"] == "StatefulSet")
assert sts["spec"]["podManagementPolicy"] == "Parallel"
headless = next(d for d in docs if d["kind"] == "Service" and d["spec"].get("clusterIP") == "None")
assert headless["spec"]["publishNotReadyAddresses"] is True
assert headless["metadata"]["name"] == sts["spec"]["serviceName"]
container = sts["spec"]["template"]["spec"]["containers"][0]
assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
assert container["startupProbe"]["httpGet"]["path"] == "/health/live"
for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
    assert container[probe]["httpGet"]["scheme"] == "HTTPS", probe
env = {var["name"]: var.get("value") for var in container["env"]}
assert env["REQUIRE_AUTH"] == "true" and env["TLS_DIR"] and env["AUTH_TOKENS_FILE"], env
dashboard = json.load(open(sys.argv[2]))
assert dashboard["panels"], "no panels"
print("kubernetes: %d objects parse (%s); grafana: %d panels parse" % (len(docs), ", ".join(kinds), len(dashboard["panels"])))
PY

echo "== systemd unit"
if command -v systemd-analyze >/dev/null; then
  # The unit names its user; verify resolves it, so a throwaway one exists during the check.
  if ! id quorumkv >/dev/null 2>&1; then CREATED_USER=1; useradd --system --no-create-home quorumkv; fi
  systemd-analyze verify packaging/systemd/quorumkv.service || { echo "systemd-analyze verify failed" >&2; exit 1; }
  echo "systemd-analyze verify: ok"
else
  echo "systemd-analyze not available: unit not verified"
fi

echo "== the StatefulSet, through its entrypoint, in three network namespaces"
# The manifest's env values, as the entrypoint will see them.
mapfile -t MANIFEST_ENV < <("$PYTHON" - packaging/kubernetes/quorumkv.yaml <<'PY'
import sys, yaml
sts = next(d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "StatefulSet")
for var in sts["spec"]["template"]["spec"]["containers"][0]["env"]:
    if "value" in var and var["name"] != "JAVA_OPTS":
        print("%s=%s" % (var["name"], var["value"]))
PY
)
SERVICE=$("$PYTHON" -c 'import sys,yaml; print(next(d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"]=="StatefulSet")["metadata"]["name"])' packaging/kubernetes/quorumkv.yaml)
ip link add "$BRIDGE" type bridge
ip addr add "$SUBNET.254/24" dev "$BRIDGE"
ip link set "$BRIDGE" up
# Where Docker runs, bridged traffic passes the FORWARD chain, whose policy it sets to DROP.
if command -v iptables >/dev/null; then
  iptables -I FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT && FORWARD_RULE=1
fi
for i in 0 1 2; do
  n=${NETNS[$i]}
  ip netns add "$n"
  ip link add "veth-$n" type veth peer name eth0 netns "$n"
  ip link set "veth-$n" master "$BRIDGE" up
  ip netns exec "$n" ip addr add "${IPS[$i]}/24" dev eth0
  ip netns exec "$n" ip link set eth0 up
  ip netns exec "$n" ip link set lo up
  # What cluster DNS answers for the headless Service's pods; `ip netns exec` mounts it as /etc/hosts.
  mkdir -p "/etc/netns/$n"
  {
    echo "127.0.0.1 localhost"
    echo "${IPS[$i]} $SERVICE-$i"
    for j in 0 1 2; do echo "${IPS[$j]} $SERVICE-$j.$SERVICE.$NAMESPACE.svc.cluster.local"; done
  } > "/etc/netns/$n/hosts"
done

# The two secrets the manifest mounts: certificates for every pod, each naming its own DNS name
# and address only (a pod given another's files fails its peers' host-name checks), and
# localhost for admin calls on the pod; and client tokens.
POD_NAMES=() ; for i in 0 1 2; do POD_NAMES+=("$SERVICE-$i.$SERVICE.$NAMESPACE.svc.cluster.local"); done
REPLICA_HOSTS_0="${POD_NAMES[0]} ${IPS[0]}" REPLICA_HOSTS_1="${POD_NAMES[1]} ${IPS[1]}" \
  REPLICA_HOSTS_2="${POD_NAMES[2]} ${IPS[2]}" bin/make-test-certs.sh "$WORK/tls" localhost 127.0.0.1 >/dev/null
for i in 0 1 2; do
  mv "$WORK/tls/peer$i.pem" "$WORK/tls/$SERVICE-$i.pem"; mv "$WORK/tls/peer$i-key.pem" "$WORK/tls/$SERVICE-$i-key.pem"
done
TOKEN=$(openssl rand -hex 32)
ADMIN_TOKEN=$(openssl rand -hex 32)
printf '%s readwrite scenario\n%s admin ops\n' "$TOKEN" "$ADMIN_TOKEN" > "$WORK/tokens"

pod_env() { # ORDINAL: the variables a pod starts with, before its entrypoint runs
  echo "PATH=$PATH"
  echo "HOSTNAME=$SERVICE-$1"
  echo "POD_NAME=$SERVICE-$1"
  echo "POD_NAMESPACE=$NAMESPACE"
  echo "QUORUMKV_JAR=$REPLICA_JAR"
  echo "JAVA_OPTS=-Xmx256m"
  printf '%s\n' "${MANIFEST_ENV[@]}" | sed -e "s|^DATA_DIR=.*|DATA_DIR=$WORK/pod$1-data|" \
    -e "s|^TLS_DIR=.*|TLS_DIR=$WORK/tls|" -e "s|^AUTH_TOKENS_FILE=.*|AUTH_TOKENS_FILE=$WORK/tokens|"
}

for i in 0 1 2; do
  mapfile -t vars < <(pod_env "$i")
  echo "pod $i's replica environment, as rendered by the entrypoint:"
  ip netns exec "${NETNS[$i]}" env -i "${vars[@]}" packaging/entrypoint.sh env | sed 's/^/  /'
  ip netns exec "${NETNS[$i]}" env -i "${vars[@]}" packaging/entrypoint.sh > "$WORK/pod$i.log" 2>&1 &
  PIDS+=($!)
done

ready=0
for _ in $(seq 1 180); do
  ready=0
  for i in 0 1 2; do
    [ "$(curl -s --cacert "$WORK/tls/ca.pem" -o /dev/null -w '%{http_code}' "https://${IPS[$i]}:7000/health/ready")" = 200 ] \
      && ready=$((ready + 1))
  done
  [ "$ready" = 3 ] && break
  for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null || { echo "a replica exited:" >&2; tail -n 20 "$WORK"/pod*.log >&2; exit 1; }; done
  sleep 0.5
done
if [ "$ready" != 3 ]; then
  echo "the pods did not all become ready within 90 s" >&2
  for i in 0 1 2; do curl -s --cacert "$WORK/tls/ca.pem" "https://${IPS[$i]}:7000/health/ready" >&2; echo >&2; done
  exit 1
fi
echo "all three pods ready (/health/ready = 200 over HTTPS)"
status=$(curl -s --cacert "$WORK/tls/ca.pem" -o /dev/null -w '%{http_code}' "https://${IPS[0]}:7000/kv/k1")
[ "$status" = 401 ] || { echo "a request without a token got $status, not 401" >&2; exit 1; }
echo "a request without a token: 401"
for i in 0 1 2; do
  mapfile -t vars < <(pod_env "$i")
  ip netns exec "${NETNS[$i]}" env -i "${vars[@]}" packaging/entrypoint.sh probe live
  ip netns exec "${NETNS[$i]}" env -i "${vars[@]}" packaging/entrypoint.sh probe ready
done
echo "entrypoint probes: live and ready answer on every pod"

# The scenario from pod 0, naming every pod by its DNS name, over HTTPS with a token.
(cd "$WORK" && ip netns exec "${NETNS[0]}" env -i PATH="$PATH" \
  QUORUMKV_CACERT="$WORK/tls/ca.pem" QUORUMKV_TOKEN="$TOKEN" \
  PEER_PEER0_HOST=$SERVICE-0.$SERVICE.$NAMESPACE.svc.cluster.local PEER_PEER0_PORT=7000 \
  PEER_PEER1_HOST=$SERVICE-1.$SERVICE.$NAMESPACE.svc.cluster.local PEER_PEER1_PORT=7000 \
  PEER_PEER2_HOST=$SERVICE-2.$SERVICE.$NAMESPACE.svc.cluster.local PEER_PEER2_PORT=7000 \
  java -jar "$CLIENT_JAR" --wait 60s)
printf 'k1=alpha\nk2=beta\n' | cmp -s - "$WORK/result.txt" || { echo "result.txt is not exact" >&2; exit 1; }
# An admin call as operators make it: on the pod, over loopback, with an admin token.
ip netns exec "${NETNS[1]}" env -i PATH="$PATH" QUORUMKV_TOKEN="$ADMIN_TOKEN" \
  java -jar "$CLIENT_JAR" snapshot --name check --endpoints https://localhost:7000 --cacert "$WORK/tls/ca.pem" \
  || { echo "kv snapshot on pod 1 failed" >&2; exit 1; }
echo "packaging check: OK"
