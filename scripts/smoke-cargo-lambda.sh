#!/usr/bin/env bash
# Smoke test of the three functions under cargo-lambda, the way a developer runs them with
# `cargo lambda watch`: backed by the local stack's DynamoDB (dynalite) and MediaPackage stand-in,
#   1. each route of the API is called at its own path on the watch server (the routes are the
#      `[package.metadata.lambda.watch.router]` tables of crates/create-clip and crates/list-clips);
#   2. `cargo lambda invoke` sends every event of events/ to the function events/README.md names:
#      API events must answer the status code listed below, EventBridge events must succeed.
# Prints how long each part took. cargo-lambda comes from PyPI (scripts/check-deploy.sh --tools).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

# The answer each API Gateway event of events/ gets. The sample clip id of api-get-clip.json names
# no clip, hence 404.
declare -A EXPECTED_STATUS=(
  [api-create-clip.json]=202
  [api-create-clip-invalid.json]=400
  [api-list-clips.json]=200
  [api-get-clip.json]=404
)

started=$SECONDS
phase_started=$SECONDS
phase() {
  echo "› $* (after $((SECONDS - started)) s)"
  phase_started=$SECONDS
}
phase_done() {
  echo "  ok in $((SECONDS - phase_started)) s"
}

phase "tools and binaries"
ensure_node_modules
PATH="$(scripts/check-deploy.sh --tools):$PATH"
cargo build --locked --quiet -p create-clip -p list-clips -p process-harvested-clip -p local-stack
phase_done

work=$(mktemp -d)
groups=()
# Each background service runs in its own process group (setsid), stopped as a whole: the watch
# server starts `cargo run` and the function binaries under it, the local stack starts dynalite.
# A group still running 5 s after SIGTERM gets SIGKILL.
cleanup() {
  for group in "${groups[@]}"; do
    kill -TERM -- "-$group" 2>/dev/null || true
  done
  for group in "${groups[@]}"; do
    for _ in $(seq 50); do kill -0 -- "-$group" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$group" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until `curl` gets any HTTP answer from $1, or fails after $2 seconds showing log $3.
wait_for_http() {
  for _ in $(seq $(($2 * 10))); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "no answer from $1 within $2 s; last lines of $3:" >&2
  tail -20 "$3" >&2
  return 1
}

phase "local stack (dynalite, local harvester)"
api_port=$(free_port) harvester_port=$(free_port) dynamodb_port=$(free_port) watch_port=$(free_port)
setsid "$(target_dir)/debug/local-stack" --node-dir . --data-dir "$work/data" \
  --api "127.0.0.1:$api_port" --harvester "127.0.0.1:$harvester_port" \
  --dynamodb "127.0.0.1:$dynamodb_port" > "$work/stack.log" 2>&1 &
groups+=($!)
disown
wait_for_http "http://127.0.0.1:$api_port/api/competitions/smoke/clips" 60 "$work/stack.log"
phase_done

phase "cargo lambda watch"
# The functions' settings, as crates/local-stack/src/stack.rs gives them to its own copies.
startover=$(curl -sf "http://127.0.0.1:$harvester_port/origin_endpoints/demo-hls" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["startoverWindowSeconds"])')
cat > "$work/env" <<EOF
CLIPS_TABLE=live-clips-local
HARVEST_BUCKET=live-clips-local
HARVEST_PREFIX=clips/
HARVEST_ROLE_ARN=arn:aws:iam::000000000000:role/live-clips-local-mediapackage
ORIGIN_ENDPOINT_ID=demo-hls
STARTOVER_WINDOW_SECONDS=$startover
PACKAGING_GROUP_ID=live-clips
AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$dynamodb_port
AWS_ENDPOINT_URL_MEDIAPACKAGE=http://127.0.0.1:$harvester_port
AWS_ENDPOINT_URL_MEDIAPACKAGE_VOD=http://127.0.0.1:$harvester_port
AWS_ACCESS_KEY_ID=local
AWS_SECRET_ACCESS_KEY=local
AWS_REGION=us-east-1
AWS_EC2_METADATA_DISABLED=true
EOF
# cargo-lambda reads a package's router only when that one package is watched; to serve the
# whole API from one server, the packages' routers are merged into a configuration file.
cargo metadata --locked --no-deps --format-version 1 | python3 -c '
import json, sys
routes = {}
for package in json.load(sys.stdin)["packages"]:
    lambda_metadata = (package.get("metadata") or {}).get("lambda") or {}
    for path, targets in lambda_metadata.get("watch", {}).get("router", {}).items():
        routes.setdefault(path, []).extend(targets)
if not routes:
    sys.exit("no [package.metadata.lambda.watch.router] in the workspace")
print("[watch.router]")
for path, targets in sorted(routes.items()):
    listed = ", ".join(
        "{ method = %s, function = %s }" % (json.dumps(t["method"]), json.dumps(t["function"]))
        for t in targets)
    print("%s = [%s]" % (json.dumps(path), listed))
' > "$work/router.toml"
setsid cargo lambda watch --global "$work/router.toml" --env-file "$work/env" --ignore-changes \
  --invoke-address 127.0.0.1 --invoke-port "$watch_port" > "$work/watch.log" 2>&1 &
groups+=($!)
disown
watch="http://127.0.0.1:$watch_port"
wait_for_http "$watch/" 60 "$work/watch.log"
phase_done

failures=0
fail() {
  echo "  FAILED: $*" >&2
  failures=$((failures + 1))
}

phase "the API's routes on the watch server"
# $1 method, $2 path, $3 expected status, $4 body (POST); the headers land in $work/headers.
call() {
  local args=(-s -o "$work/body" -D "$work/headers" -w '%{http_code}' -X "$1" --max-time 300)
  [ -n "${4:-}" ] && args+=(-H 'content-type: application/json' --data "$4")
  local status
  status=$(curl "${args[@]}" "$watch$2") || status="no answer"
  if [ "$status" = "$3" ]; then
    echo "  $1 $2 → $status"
  else
    fail "$1 $2 → $status, expected $3: $(head -c 300 "$work/body")"
  fi
}
call POST /api/clip 202 '{"competition": "smoke", "title": "cargo lambda watch", "duration": 20}'
location=$(tr -d '\r' < "$work/headers" | sed -n 's/^location: //Ip')
call GET /api/competitions/smoke/clips 200
call GET "${location:-/api/competitions/smoke/clips/missing}" 200
call GET /api/competitions/smoke/clips/20200101T000000Z-abcdefghjk 404
phase_done

phase "cargo lambda invoke, every event of events/"
# events/README.md's table: | `file` | function | what it is |
declare -A function_of=()
while IFS='|' read -r _ file function _; do
  file=$(echo "$file" | tr -d ' `')
  function_of[$file]=$(echo "$function" | tr -d ' ')
done < <(grep -E '^\| `[^`]+\.json` \|' events/README.md)
for path in events/*.json; do
  file=$(basename "$path")
  function=${function_of[$file]:-}
  if [ -z "$function" ]; then
    fail "$file is not in events/README.md's table"
    continue
  fi
  if ! output=$(cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port "$watch_port" \
    --data-file "$path" --output-format json "$function" 2>&1); then
    fail "$file → $function failed: $output"
    continue
  fi
  if [[ $file == api-* ]]; then
    expected=${EXPECTED_STATUS[$file]:-}
    status=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["statusCode"])' "$output" 2>/dev/null) ||
      status="no statusCode in: $output"
    if [ -z "$expected" ]; then
      fail "$file: add its expected status code to EXPECTED_STATUS in $0 (it answered $status)"
    elif [ "$status" != "$expected" ]; then
      fail "$file → $function answered $status, expected $expected"
    else
      echo "  $file → $function: $status"
    fi
  else
    echo "  $file → $function: ok"
  fi
done
for file in "${!function_of[@]}"; do
  [ -f "events/$file" ] || fail "events/README.md lists $file, which does not exist"
done
phase_done

if [ "$failures" -gt 0 ]; then
  echo "› $failures check(s) failed; the watch server's log:" >&2
  tail -40 "$work/watch.log" >&2
  exit 1
fi
echo "› cargo-lambda smoke test passed in $((SECONDS - started)) s"
