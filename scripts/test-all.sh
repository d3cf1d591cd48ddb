#!/usr/bin/env bash
# Every test of the project, as CI runs it. Run from anywhere: `scripts/test-all.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== format"
cargo fmt --all -- --check
echo "== clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== wasm32 build of the preparer (the page's core)"
cargo build --locked -p prep-wasm --target wasm32-unknown-unknown
echo "== tests"
cargo test --workspace --locked
echo "== main job (the README's first command) on the sample export"
cargo run --locked --release -q -p loader -- demo --out-dir target/demo-ci
