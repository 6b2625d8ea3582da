# Shared by the set-up commands: installs what live-clips needs beyond the Rust toolchain, from
# the package registries only, and only when it is missing. Sourced, not run.

# dynalite (the local DynamoDB) from npm, at the versions package-lock.json pins.
ensure_node_modules() {
  if [ ! -x node_modules/.bin/dynalite ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "› installing dynalite and s3rver (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

# ffmpeg from Debian: the tests decode every harvested clip with it.
ensure_ffmpeg() {
  command -v ffmpeg >/dev/null 2>&1 && return 0
  echo "› installing ffmpeg (apt-get)"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null
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
