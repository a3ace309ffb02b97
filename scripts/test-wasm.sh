#!/usr/bin/env bash
# Runs the browser tests of one wasm flavour with wasm-pack in headless Chromium.
#
#   scripts/test-wasm.sh threads|single [extra cargo test args...]
#
# Only tests/web_<flavour>.rs runs: the other test targets are native (`cfg(not(target_arch =
# "wasm32"))`) and compile to nothing here. wasm-bindgen-test-runner serves the page with
# Cross-Origin-Opener-Policy / Cross-Origin-Embedder-Policy by default (unless
# WASM_BINDGEN_TEST_NO_ORIGIN_ISOLATION is set), so the threaded tests get a shared memory.
# Chromium and chromedriver are Debian's (`make tools`); webdriver.json adds the flags a root,
# offline, headless run needs. Nothing is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/wasm-flavour.sh
source scripts/wasm-flavour.sh "${1:-}"
shift

export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
# The runner's timeout covers the whole suite of a target (default 20 s): proving takes longer.
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-600}

# The dev profile, not --release: Cargo.toml optimises every dependency at opt-level 3 even in dev,
# so proving stays quick (the suites take seconds), and the crate itself is built incrementally
# at opt-level 1 without LTO. wasm-pack's `cargo build --tests` step compiles every test target,
# the crate's unit tests included; with release's thin LTO and one codegen unit that cost ~5 min
# per flavour after any change on 2 busy cores, against ~30 s here. Debug info is off: only
# panics' messages are read, and DWARF would make every test module several times larger.
# The release builds are exercised in Chromium by the suites that load pkg/ (browser, e2e).
export CARGO_PROFILE_DEV_DEBUG=${CARGO_PROFILE_DEV_DEBUG:-0}
export CARGO_PROFILE_TEST_DEBUG=${CARGO_PROFILE_TEST_DEBUG:-0}
# wasm-pack passes what follows `--` to both `cargo build --tests` and `cargo test` (a second
# `--` would separate the arguments of the test runner). No crate path: it is the working dir.
wasm-pack --log-level warn test --headless --chrome --chromedriver "$CHROMEDRIVER" \
    --mode no-install \
    -- "${FLAVOUR_CARGO_ARGS[@]}" --test "web_$FLAVOUR" "$@"
