#!/usr/bin/env bash
# Browser test of the clip studio against the real local stack: builds the page, starts the
# stack on free ports with a fresh data folder, drives Debian's Chromium through the whole
# producer workflow (web/tests/browser.mjs) and stops the stack. Screenshots of every step and
# the stack's log land in web/test-results/.
set -euo pipefail
cd "$(dirname "$0")"
web=$(pwd)
repo=$(cd .. && pwd)
started=$SECONDS

if [ ! -x /usr/bin/chromium ]; then
  echo "› installing chromium (apt-get)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

echo "› installing the page's packages (npm ci)"
npm ci --no-audit --no-fund --loglevel=error
echo "› building the page"
npm run build --silent

# Three distinct free ports, held open together so none is handed out twice.
read -r api harvester dynamodb < <(node -e '
  const net = require("net");
  const servers = [0, 1, 2].map(() => net.createServer().listen(0, "127.0.0.1"));
  Promise.all(servers.map((s) => new Promise((ok) => s.on("listening", ok)))).then(() => {
    console.log(servers.map((s) => s.address().port).join(" "));
    servers.forEach((s) => s.close());
  });')

mkdir -p test-results
data=$(mktemp -d)
echo "› starting the local stack (API 127.0.0.1:$api, log in web/test-results/local-stack.log)"
"$repo/scripts/local-stack.sh" --data-dir "$data" --site-dir "$web/dist" \
  --api "127.0.0.1:$api" --harvester "127.0.0.1:$harvester" --dynamodb "127.0.0.1:$dynamodb" \
  >test-results/local-stack.log 2>&1 &
stack=$!
stop_stack() {
  kill -TERM "$stack" 2>/dev/null || true
  wait "$stack" 2>/dev/null || true
  rm -rf "$data"
}
trap stop_stack EXIT

echo "› running the browser test"
STUDIO_URL="http://127.0.0.1:$api/" STACK_PID="$stack" node tests/browser.mjs
echo "› browser test passed in $((SECONDS - started)) s"
