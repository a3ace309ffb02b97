#!/usr/bin/env bash
# Builds one wasm flavour with wasm-pack into pkg/<flavour>/ and copies the worker JS next to it.
#
#   scripts/build-wasm.sh threads|single [extra cargo build args, e.g. --timings]
#
# --no-opt and --mode no-install: wasm-pack must neither download binaryen nor run Debian's
# wasm-opt 108, whose -O3 output fails at init (`WebAssembly.Table.set(): Argument 1 is
# invalid`); Cargo.toml's [package.metadata.wasm-pack] says the same. wasm-bindgen-cli is the one
# `make tools` installed, at the version of Cargo.lock.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/wasm-flavour.sh
source scripts/wasm-flavour.sh "${1:-}"
shift

start=$(date +%s)
wasm-pack --log-level warn build . --target web --release --no-opt --mode no-install \
    --out-dir "pkg/$FLAVOUR" --out-name airprover \
    -- "${FLAVOUR_CARGO_ARGS[@]}" "$@"
if [ "$FLAVOUR" = threads ]; then
    # wasm-bindgen-rayon 1.3's thread helper initialises the module with the positional form that
    # wasm-bindgen deprecates, which prints a console warning in every rayon thread of every
    # worker: the package must print nothing of its own making. Pass the single object instead
    # (same module, same shared memory); fail loudly if a new version changed the line.
    helper=$(find "pkg/threads/snippets" -name 'workerHelpers*.js')
    old='await pkg.default(data.module, data.memory);'
    new='await pkg.default({ module_or_path: data.module, memory: data.memory });'
    for f in $helper; do
        grep -qF "$old" "$f" || { echo "[build] $f: the rayon init line changed; check it" >&2; exit 1; }
        sed -i "s|$old|$new|" "$f"
    done
fi
# The worker entry and its helpers load pkg/threads or pkg/single from the directory above.
cp src/js/*.js src/js/protocol.d.ts src/js/snarkjs.d.ts pkg/
echo "[build] pkg/$FLAVOUR: $(du -h "pkg/$FLAVOUR/airprover_bg.wasm" | cut -f1) wasm in $(($(date +%s) - start)) s" >&2
# package.json, declarations and README of the npm package (scripts/npm-package.mjs).
node scripts/npm-package.mjs
