#!/usr/bin/env bash
# Every test of the project, as CI runs it. Run from anywhere: `scripts/test-all.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== format"
cargo fmt --all -- --check
echo "== clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== clippy for the page (wasm32, with its DOM glue)"
cargo clippy --locked -p prep-wasm --target wasm32-unknown-unknown --features page -- -D warnings
echo "== tests"
# The browser end-to-end tests need a freshly built page: browser-tests.sh builds and runs them.
cargo test --workspace --locked --exclude browser-tests
echo "== the page in headless Chromium"
scripts/browser-tests.sh
echo "== main job (the README's first command) on the sample export"
cargo run --locked --release -q -p loader -- demo --out-dir target/demo-ci
