#!/usr/bin/env bash
# The npm package as `npm pack` writes it, from the pkg/ that scripts/build-wasm.sh made (both
# flavours): target/npm/airprover-<version>.tgz. `make pack` builds pkg/ first; `make test` has.
set -euo pipefail
cd "$(dirname "$0")/.."
for f in pkg/threads/airprover_bg.wasm pkg/single/airprover_bg.wasm pkg/package.json; do
    [ -f "$f" ] || { echo "pack: $f is missing: run make build" >&2; exit 1; }
done
node scripts/npm-package.mjs --check
mkdir -p target/npm
npm pack --silent --pack-destination target/npm ./pkg
