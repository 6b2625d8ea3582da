#!/usr/bin/env bash
# Starts live-clips on this machine: dynalite, the local harvester with a demo live channel, the
# three clip functions, the API in front of them and the clip studio page. Ctrl-C stops it; state stays in .data/.
# Extra arguments go to `local-stack` (see `--help`), e.g. --api 127.0.0.1:3001.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_node_modules
ensure_web_build
echo "› building the functions and the local stack (cargo build)"
cargo build --locked --quiet -p create-clip -p list-clips -p process-harvested-clip -p local-stack
exec "$(target_dir)/debug/local-stack" --node-dir . "$@"
