#!/usr/bin/env bash
# A bounded load test of the clip API on loopback: wrk against the local stack (the real
# function binaries behind the local gateway, dynalite, the local harvester), listing a
# competition of 25 clips, then creating clips. Prints requests/s, p50 and p99 latency and the
# error count (non-2xx answers and socket errors) of each; fails on any error.
#
# Usage: scripts/load.sh [--seconds N] [--connections N]   (defaults: 10 s each, 4 connections)
#
# Every clip created starts a real harvest of its one-second window, so create also loads the
# harvester and process-harvested-clip behind it, as it does in production.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

seconds=10
connections=4
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="${2:?--seconds needs a number}"; shift 2 ;;
    --connections) connections="${2:?--connections needs a number}"; shift 2 ;;
    *) echo "unknown argument: $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done

ensure_debian_package wrk
trap stop_local_stack EXIT
start_local_stack

for _ in $(seq 25); do
  curl -sf -o /dev/null -X POST "$STACK_API/api/clip" -H 'Content-Type: application/json' \
    -d '{"competition":"load-list","duration":1}'
done

failed=0
# Runs wrk for one scenario and prints its line of the table.
run() {
  local name=$1 url=$2 output line
  shift 2
  output=$(wrk --threads 2 --connections "$connections" --duration "${seconds}s" --timeout 10s \
    --script scripts/load.lua "$url" -- "$@" 2>&1) || true
  line=$(grep '^summary ' <<<"$output") || {
    echo "$name: wrk gave no summary:" >&2
    echo "$output" >&2
    failed=1
    return
  }
  echo "$name ${line#summary }"
  case "$line" in *" errors=0") ;; *) failed=1 ;; esac
}

echo "› wrk: ${seconds} s per scenario, $connections connections, 2 threads"
run list "$STACK_API/api/competitions/load-list/clips?limit=25"
run create "$STACK_API/api/clip" create
exit "$failed"
