#!/usr/bin/env bash
# Makes a throwaway certificate authority and certificates for a local TLS cluster, with openssl:
#   ca.pem, ca-key.pem               the CA (kept beside the others: this is for tests, never production)
#   peer0..2.pem, peer0..2-key.pem   replica certificates for 127.0.0.1 and localhost (server and
#                                    client authentication), chain (certificate, then CA) and PKCS#8 key
#   client.pem, client-key.pem       a client certificate (client authentication only)
# The layout `kv torture --tls-dir` and `bin/local-cluster.sh --tls` use. For real clusters see
# docs/operating.md, "TLS": one certificate per replica naming its host, the CA key kept offline.
#
# Usage: bin/make-test-certs.sh DIR [REPLICA_HOST...]   (default hosts: 127.0.0.1 localhost)
# Every replica certificate names every REPLICA_HOST; REPLICA_HOSTS_0..2 (space-separated) add names
# for one replica only, so each can carry its own (as real replicas do).
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: bin/make-test-certs.sh DIR [REPLICA_HOST...]" >&2; exit 2
fi
DIR=$1; shift
HOSTS=("$@")
[ $# -eq 0 ] && HOSTS=(127.0.0.1 localhost)
if ! command -v openssl >/dev/null; then
  echo "installing openssl" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
fi
mkdir -p "$DIR"
cd "$DIR"
umask 077 # keys readable by their owner only

san() { # HOST...: a subjectAltName value naming them (address literals as IP names)
  local out="" host
  for host in "$@"; do
    if [[ $host =~ ^[0-9.]+$ || $host == *:* ]]; then out="$out,IP:$host"; else out="$out,DNS:$host"; fi
  done
  echo "${out#,}"
}

# EC P-256 keys in PKCS#8 (BEGIN PRIVATE KEY); certificates valid from now for 30 days (one
# machine, one clock: hosts whose clocks differ need certificates dated back a little).
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
key ca-key.pem
openssl req -x509 -new -key ca-key.pem -subj "/CN=QuorumKV test CA" -days 30 -out ca.pem \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

issue() { # name extendedKeyUsage [subjectAltName]
  local name=$1 usage=$2 san=${3:-}
  key "$name-key.pem"
  openssl req -new -key "$name-key.pem" -subj "/CN=$name" -out "$name.csr" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=$usage"
    [ -n "$san" ] && echo "subjectAltName=$san"
  } > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 30 \
    -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  cat "$name.crt" ca.pem > "$name.pem"
  rm -f "$name.csr" "$name.ext" "$name.crt"
}
for i in 0 1 2; do
  own="REPLICA_HOSTS_$i"
  # shellcheck disable=SC2086 # a space-separated list
  issue "peer$i" serverAuth,clientAuth "$(san "${HOSTS[@]}" ${!own:-})"
done
issue client clientAuth
rm -f ca.srl
chmod 644 ca.pem peer?.pem client.pem
echo "certificates for ${HOSTS[*]} in $DIR"
