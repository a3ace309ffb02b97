#!/usr/bin/env bash
# Runs the browser tests of one wasm flavour (tests/web_<flavour>.rs) in headless Chromium.
#
#   scripts/test-wasm.sh threads|single [extra cargo test args...]
#
# The release profile, as the package's build (scripts/build-wasm.sh): run after it, only the test
# harness is compiled and linked; the crate, its dependencies and (threaded) std are the package's
# own artifacts, so the tests exercise the code that ships. Plain `cargo test` with
# wasm-bindgen-test-runner as the target's runner (what `wasm-pack test` sets up) and one test
# target: `wasm-pack test` would first build every test target, the crate's unit tests included,
# none of which runs here. The runner serves the page with Cross-Origin-Opener-Policy /
# Cross-Origin-Embedder-Policy by default (unless WASM_BINDGEN_TEST_NO_ORIGIN_ISOLATION is set), so
# the threaded tests get a shared memory. Chromium and chromedriver are Debian's (`make tools`);
# webdriver.json adds the flags a root, offline, headless run needs. Nothing is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/wasm-flavour.sh
source scripts/wasm-flavour.sh "${1:-}"
shift

# The circom fixtures the browser tests embed (tests/web_common/mod.rs: circom's witness wasm of
# `multi` and `assert`, snarkjs's witness), built where missing by the shared fixture script.
AIRPROVER_CIRCOM_FIXTURES=$(node tests/interop/circom-fixtures.mjs multi assert)
export AIRPROVER_CIRCOM_FIXTURES
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
command -v wasm-bindgen-test-runner >/dev/null || { echo "test-wasm: no wasm-bindgen-test-runner (make tools)" >&2; exit 1; }
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
# The runner's timeout covers the whole suite of a target (default 20 s): proving takes longer.
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-600}
cargo test --release --target wasm32-unknown-unknown "${FLAVOUR_CARGO_ARGS[@]}" --test "web_$FLAVOUR" "$@"
