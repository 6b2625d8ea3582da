#!/usr/bin/env bash
# Runs every test of live-clips: unit, handler, harvester conformance and end-to-end tests on the
# local stack with real video. Installs what the tests need first (dynalite, ffmpeg).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_node_modules
ensure_ffmpeg
# The end-to-end tests run the real function binaries, which `cargo test` alone does not build.
cargo build --locked --workspace --bins
cargo test --locked --workspace "$@"
