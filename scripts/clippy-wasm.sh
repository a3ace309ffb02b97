#!/usr/bin/env bash
# Clippy on the wasm32-only code (src/web/, tests/web_*.rs), which the native clippy never sees:
# once per wasm flavour, with that flavour's flags and target directory, warnings denied.
#
#   scripts/clippy-wasm.sh [threads|single ...]   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# The circom fixtures the browser tests embed (tests/web_common/mod.rs: circom's witness wasm of
# `multi` and `assert`, snarkjs's witness), built where missing by the shared fixture script.
AIRPROVER_CIRCOM_FIXTURES=$(node tests/interop/circom-fixtures.mjs multi assert)
export AIRPROVER_CIRCOM_FIXTURES
flavours=("$@")
[ ${#flavours[@]} -gt 0 ] || flavours=(threads single)
for flavour in "${flavours[@]}"; do
    (
        # shellcheck source=scripts/wasm-flavour.sh
        source scripts/wasm-flavour.sh "$flavour"
        cargo clippy --target wasm32-unknown-unknown "${FLAVOUR_CARGO_ARGS[@]}" \
            --lib --test "web_$flavour" -- -D warnings
    )
done
