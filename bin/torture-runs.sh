#!/usr/bin/env bash
# Runs the torture command RUNS times in a row and prints one line per run (verdict, operations,
# faults), for the figures in docs/testing.md. Extra arguments go to every run, e.g.
#   bin/torture-runs.sh 5 60s --consistency one
#   bin/torture-runs.sh 5 60s --deliberate-bugs no-read-write-back --stop-at-first-violation
# Histories and full outputs are kept in run/torture/. Exit status: 0 when every run was linearizable.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:?usage: bin/torture-runs.sh RUNS DURATION [torture options] [--stop-at-first-violation]}"
duration="${2:?usage: bin/torture-runs.sh RUNS DURATION [torture options] [--stop-at-first-violation]}"
shift 2
stop_early=false
options=()
for arg in "$@"; do
  if [[ "$arg" == "--stop-at-first-violation" ]]; then stop_early=true; else options+=("$arg"); fi
done
# CLIENT_JAR: another build's client jar (its replica jar is the quorumkv-replica.jar beside it, if any).
client_jar="${CLIENT_JAR:-client/target/quorumkv-client.jar}"
if [[ -z "${CLIENT_JAR:-}" ]]; then
  [[ -f "$client_jar" && -f target/quorumkv-replica.jar ]] || mvn -B -q -DskipTests package
fi
mkdir -p run/torture
all_linearizable=0
for run in $(seq 1 "$runs"); do
  stamp="$(date +%Y%m%d-%H%M%S)-$run"
  output="run/torture/$stamp.out"
  status=0
  java -jar "$client_jar" torture --duration "$duration" --history "run/torture/$stamp.jsonl" "${options[@]}" \
    >"$output" 2>&1 || status=$?
  verdict="$(tail -n 1 "$output")"
  operations="$(grep -m1 '^  operations:' "$output" | sed 's/^  operations: //' || true)"
  faults="$(grep -m1 '^  faults injected:' "$output" | sed 's/^  faults injected: //' || true)"
  echo "run $run: $verdict | $operations | faults: $faults | $output"
  if [[ $status -ne 0 ]]; then
    all_linearizable=1
    if $stop_early; then break; fi
  fi
done
exit $all_linearizable
