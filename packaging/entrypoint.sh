#!/usr/bin/env bash
# Starts a QuorumKV replica in a container (Dockerfile, packaging/kubernetes/quorumkv.yaml).
#
# As a StatefulSet pod (STATEFULSET_SERVICE set): the pod's hostname ends in its ordinal
# (quorumkv-1); every other ordinal below STATEFULSET_REPLICAS (default 3) becomes a peer,
#   PEER_PEER<j>_HOST = <name>-<j>.<STATEFULSET_SERVICE>.<POD_NAMESPACE>.svc.<CLUSTER_DOMAIN>
#   PEER_PEER<j>_PORT = PORT (default 7000)
# and NODE_ID = peer<ordinal> unless set. Elsewhere (docker run, compose) the PEER_* variables
# given are used as they are.
#
# TLS_DIR (a mounted secret holding ca.pem, <pod>.pem and <pod>-key.pem for every pod) sets
# TLS_CA_FILE, TLS_CERT_FILE and TLS_KEY_FILE to this pod's files, unless they are set.
#
# Usage: entrypoint.sh [REPLICA_ARGS...]   exec the replica (--help and --version pass through)
#        entrypoint.sh env                 print the variables the replica would get, one per line
#        entrypoint.sh probe live|ready    exit 0 when GET /health/<live|ready> on this replica answers 200
set -eu

JAR=${QUORUMKV_JAR:-/opt/quorumkv/quorumkv-replica.jar}
export PORT="${PORT:-7000}"

fail() {
  echo "entrypoint: $*" >&2
  exit 2
}

derive_statefulset_peers() {
  [ -n "${STATEFULSET_SERVICE:-}" ] || return 0
  pod=${POD_NAME:-${HOSTNAME:-$(hostname)}}
  ordinal=${pod##*-}
  base=${pod%-*}
  case "$ordinal" in
    '' | *[!0-9]*) fail "pod name '$pod' does not end in -<ordinal>" ;;
  esac
  [ "$base" != "$pod" ] || fail "pod name '$pod' does not end in -<ordinal>"
  replicas=${STATEFULSET_REPLICAS:-3}
  [ -n "${POD_NAMESPACE:-}" ] || fail "POD_NAMESPACE must be set (the downward API's metadata.namespace)"
  domain="$STATEFULSET_SERVICE.$POD_NAMESPACE.svc.${CLUSTER_DOMAIN:-cluster.local}"
  [ "$ordinal" -lt "$replicas" ] || fail "pod ordinal $ordinal is not below STATEFULSET_REPLICAS=$replicas"
  j=0
  while [ "$j" -lt "$replicas" ]; do
    if [ "$j" != "$ordinal" ]; then
      export "PEER_PEER${j}_HOST=$base-$j.$domain" "PEER_PEER${j}_PORT=$PORT"
    fi
    j=$((j + 1))
  done
  export NODE_ID="${NODE_ID:-peer$ordinal}"
}

derive_tls_files() {
  [ -n "${TLS_DIR:-}" ] || return 0
  pod=${POD_NAME:-${HOSTNAME:-$(hostname)}}
  export TLS_CA_FILE="${TLS_CA_FILE:-$TLS_DIR/ca.pem}" TLS_CERT_FILE="${TLS_CERT_FILE:-$TLS_DIR/$pod.pem}" \
    TLS_KEY_FILE="${TLS_KEY_FILE:-$TLS_DIR/$pod-key.pem}"
}

# GET /health/<what> on this replica: with bash alone over plain HTTP, with curl over TLS (the
# replica's own certificate is not checked: it names the host as peers know it, not 127.0.0.1).
probe() {
  case "${1:-}" in live | ready) ;; *) fail "usage: entrypoint.sh probe live|ready" ;; esac
  host=${LISTEN_HOST:-127.0.0.1}
  case "$host" in 0.0.0.0 | '::' | '[::]') host=127.0.0.1 ;; esac
  derive_tls_files
  if [ -n "${TLS_CERT_FILE:-}" ]; then
    command -v curl >/dev/null || fail "probing a TLS replica needs curl"
    [ "$(curl -sk -m 5 -o /dev/null -w '%{http_code}' "https://$host:$PORT/health/$1")" = 200 ]
    return
  fi
  exec 3<>"/dev/tcp/$host/$PORT" || exit 1
  printf 'GET /health/%s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$1" >&3
  read -r -t 5 _ status _ <&3 || exit 1
  [ "$status" = 200 ]
}

case "${1:-}" in
  env)
    derive_statefulset_peers
    derive_tls_files
    env | grep -E '^(PORT|NODE_ID|PEER_[A-Z0-9_]+_(HOST|PORT)|TLS_[A-Z_]+_FILE|REQUIRE_AUTH|AUTH_TOKENS_FILE)=' | sort
    ;;
  probe)
    shift
    probe "$@"
    ;;
  *)
    derive_statefulset_peers
    derive_tls_files
    # shellcheck disable=SC2086 # JAVA_OPTS is a list of options
    exec java ${JAVA_OPTS:-} -jar "$JAR" "$@"
    ;;
esac
