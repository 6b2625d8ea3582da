#!/usr/bin/env bash
# Runs every test of live-clips: unit, handler, harvester conformance and end-to-end tests on the
# local stack with real video, the clip studio's unit tests, and its browser test in Chromium.
# Installs what the tests need first (dynalite, ffmpeg, the page's packages, Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_node_modules
ensure_ffmpeg
# The end-to-end tests run the real function binaries, which `cargo test` alone does not build.
cargo build --locked --workspace --bins
ensure_web_build
(cd web && npm test --silent)
web/run-browser-test.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --locked --workspace "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole run: cargo prints a result line per test binary.
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "%d passed, %d failed\n", passed, failed }' "$log"
exit "$status"
