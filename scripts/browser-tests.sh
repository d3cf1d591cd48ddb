#!/usr/bin/env bash
# The browser page's tests, as CI runs them: builds dist/ with Trunk, runs the facade tests in
# headless Chromium (wasm-pack) and the end-to-end customer flow (WebDriver, tests/browser).
# Installs what they need idempotently, from Debian and crates.io only, at pinned versions
# (see ../shared/toolchain.md: nothing is downloaded from GitHub). Run from anywhere.
# `scripts/browser-tests.sh --bench` also runs the browser benchmark (WASM vs native vs
# Papa Parse, which it installs from npm into target/browser-bench).
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130 # must equal prep-wasm's `wasm-bindgen = "=0.2.130"`
WASM_PACK_VERSION=0.15.1
TRUNK_VERSION=0.21.14 # 0.22 needs a newer rustc than 1.95

# Debian packages: chromium and its matching driver; binaryen for wasm-opt.
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v wasm-opt >/dev/null || missing+=(binaryen)
command -v npm >/dev/null || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
  $sudo apt-get update
  $sudo apt-get install -y "${missing[@]}"
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

# `tool --version` prints e.g. "trunk 0.21.14"; install only when that version is absent.
has_version() { command -v "$1" >/dev/null && "$1" --version 2>/dev/null | grep -qF " $2"; }
if ! has_version wasm-bindgen "$WASM_BINDGEN_VERSION"; then
  # Not --locked: its lock file pins a webpki-roots the registry does not serve.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
if ! has_version wasm-pack "$WASM_PACK_VERSION"; then
  cargo install --locked wasm-pack --version "$WASM_PACK_VERSION"
fi
if ! has_version trunk "$TRUNK_VERSION"; then
  cargo install --locked trunk --version "$TRUNK_VERSION"
fi

# axe-core (the accessibility checker the page tests run through WebDriver), from npm.
AXE_VERSION=4.11.0
axe=target/browser-tools/node_modules/axe-core
if ! grep -qs "\"version\": \"$AXE_VERSION\"" "$axe/package.json"; then
  mkdir -p target/browser-tools
  npm install --no-audit --no-fund --prefix target/browser-tools "axe-core@$AXE_VERSION"
fi

echo "== page (trunk build --release --offline → dist/)"
trunk build --release --offline
echo "== facade tests in headless Chromium (wasm-pack)"
# The runner gives chromedriver 5 s to listen by default and then kills it ("driver failed to
# bind port during startup"). On a fresh machine the first start (cold caches, a package just
# installed) took longer and failed CI, so it gets 60 s, as our own WebDriver harness does. If
# it still fails to start, the suite runs once more; any other failure is a real one and fails.
facade_log=$(mktemp)
run_facade_tests() {
  WASM_BINDGEN_TEST_DRIVER_TIMEOUT="${WASM_BINDGEN_TEST_DRIVER_TIMEOUT:-60}" \
    CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}" \
    wasm-pack test --headless --chrome prep-wasm 2>&1 | tee "$facade_log"
  return "${PIPESTATUS[0]}"
}
if ! run_facade_tests; then
  if grep -q "driver failed to bind port during startup" "$facade_log"; then
    echo "chromedriver did not start in time; running the facade tests once more"
    run_facade_tests
  else
    exit 1
  fi
fi
rm -f "$facade_log"
echo "== end-to-end customer flow in headless Chromium (screenshot: target/browser-artifacts/)"
REQUIRE_BROWSER=1 cargo test --locked -p browser-tests -- --nocapture

if [ "${1:-}" = "--bench" ]; then
  PAPAPARSE_VERSION=5.7.1
  papa=target/browser-bench/node_modules/papaparse
  if ! grep -qs "\"version\": \"$PAPAPARSE_VERSION\"" "$papa/package.json"; then
    mkdir -p target/browser-bench
    npm install --no-audit --no-fund --prefix target/browser-bench "papaparse@$PAPAPARSE_VERSION"
  fi
  echo "== browser benchmark (MB/s: WASM in headless Chromium, native, Papa Parse)"
  cargo bench --locked -p browser-tests --bench browser
fi
