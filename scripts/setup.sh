# Shared by the set-up commands: installs what live-clips needs beyond the Rust toolchain, from
# the package registries only, and only when it is missing. Sourced, not run.

# dynalite (the local DynamoDB) from npm, at the versions package-lock.json pins.
ensure_node_modules() {
  if [ ! -x node_modules/.bin/dynalite ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "› installing dynalite and s3rver (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

# A Debian package, unless the command of that name is already there.
ensure_debian_package() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "› installing $1 (apt-get)"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$1" >/dev/null
}

# ffmpeg from Debian: the tests decode every harvested clip with it.
ensure_ffmpeg() {
  ensure_debian_package ffmpeg
}

# The clip studio (web/): its packages, and a build newer than every source file.
ensure_web_build() {
  if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
    echo "› installing the clip studio's packages (npm ci in web/)"
    (cd web && npm ci --no-audit --no-fund --loglevel=error)
  fi
  if [ ! -f web/dist/index.html ] || [ -n "$(find web/src web/index.html web/vite.config.ts -newer web/dist/index.html -print -quit)" ]; then
    echo "› building the clip studio (npm run build in web/)"
    (cd web && npm run build --silent)
  fi
}

target_dir() {
  echo "${CARGO_TARGET_DIR:-target}"
}

# The local stack in the background, for the checks that need a running API: the functions built
# (debug, as scripts/test.sh builds them), every service on a free loopback port, its state in a
# folder of its own, so it clashes neither with `scripts/local-stack.sh` nor with another check.
# Sets STACK_API (the API's base URL), STACK_PID and STACK_DIR; stop_local_stack undoes it all.
start_local_stack() {
  ensure_node_modules
  echo "› building the functions and the local stack (cargo build)"
  cargo build --locked --quiet -p create-clip -p list-clips -p process-harvested-clip -p local-stack
  STACK_DIR=$(mktemp -d)
  RUST_LOG="${RUST_LOG:-warn}" "$(target_dir)/debug/local-stack" --node-dir . --data-dir "$STACK_DIR/data" \
    --api 127.0.0.1:0 --harvester 127.0.0.1:0 --dynamodb 127.0.0.1:0 >"$STACK_DIR/log" 2>&1 &
  STACK_PID=$!
  local waited=0
  STACK_API=""
  # The stack prints its URLs once every part answers; `Clip API  http://…/api` is the one needed.
  while [ -z "$STACK_API" ]; do
    if ! kill -0 "$STACK_PID" 2>/dev/null || [ "$waited" -ge 120 ]; then
      echo "the local stack did not start; its log:" >&2
      cat "$STACK_DIR/log" >&2
      stop_local_stack
      return 1
    fi
    sleep 0.5
    waited=$((waited + 1))
    STACK_API=$(sed -n 's|^ *Clip API *\(http://[^ ]*\)/api$|\1|p' "$STACK_DIR/log")
  done
  echo "› local stack up at $STACK_API (log: $STACK_DIR/log)"
}

stop_local_stack() {
  [ -n "${STACK_PID:-}" ] || return 0
  kill -TERM "$STACK_PID" 2>/dev/null || true
  wait "$STACK_PID" 2>/dev/null || true
  STACK_PID=""
  rm -rf "$STACK_DIR"
}
