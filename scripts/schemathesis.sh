#!/usr/bin/env bash
# Schemathesis against openapi.yaml on a running local stack: generated requests of every kind
# the document allows and many it does not, each answer checked against the document. Fails on
# any server error or any answer the document does not describe; prints how many requests ran.
#
# Usage: scripts/schemathesis.sh [--max-examples N]   (per operation and phase; default 200)
#
# Schemathesis comes from PyPI, at the version pinned below, into a virtualenv under .local/.
# scripts/schemathesis.toml says which checks run and why the others do not.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

SCHEMATHESIS=schemathesis==4.32.5
VENV=.local/schemathesis
max_examples=200
while [ $# -gt 0 ]; do
  case "$1" in
    --max-examples) max_examples="${2:?--max-examples needs a number}"; shift 2 ;;
    *) echo "unknown argument: $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done

if [ "$(cat "$VENV/.pinned" 2>/dev/null)" != "$SCHEMATHESIS" ]; then
  echo "› installing $SCHEMATHESIS (pip, into $VENV)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "$SCHEMATHESIS"
  echo "$SCHEMATHESIS" > "$VENV/.pinned"
fi

report=$(mktemp -d)
start_local_stack
trap 'stop_local_stack; rm -rf "$report"' EXIT

set +e
"$VENV/bin/schemathesis" --config-file scripts/schemathesis.toml run openapi.yaml --url "$STACK_API" \
  --header 'x-api-key: local' --max-examples "$max_examples" --seed 20261121 --workers 1 \
  --report ndjson --report-ndjson-path "$report/events.ndjson"
status=$?
set -e
# Each request Schemathesis sent is one interaction in its event log.
requests=$(grep -o '"request":' "$report/events.ndjson" | wc -l)
echo "schemathesis: $requests requests generated, exit status $status"
exit "$status"
