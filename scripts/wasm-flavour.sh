# Sourced by the wasm scripts: `source scripts/wasm-flavour.sh threads|single` sets, for one of the
# two wasm builds, CARGO_TARGET_DIR, RUSTFLAGS and the cargo arguments FLAVOUR_CARGO_ARGS.
#
# Each build has its own target directory, so that their different RUSTFLAGS never invalidate
# each other's artifacts (nor the native build's in target/).
# shellcheck shell=bash

case ${1:-} in
threads)
    # From BUILD-NOTES: atomics need std rebuilt (-Z build-std), and this nightly links a
    # non-shared memory unless told explicitly (`DataCloneError: #<Memory> could not be cloned` in
    # the worker); the TLS symbols must be exported for wasm-bindgen's thread initialisation;
    # without --max-memory a shared memory is capped at 1 GiB.
    export CARGO_TARGET_DIR="$ROOT/target/wasm-threads"
    export RUSTFLAGS="-C target-feature=+atomics,+bulk-memory,+mutable-globals \
-C link-arg=--shared-memory -C link-arg=--import-memory -C link-arg=--max-memory=4294967296 \
-C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
-C link-arg=--export=__tls_align -C link-arg=--export=__tls_base"
    # `test` among the rebuilt crates although only the wasm tests link it: `cargo test` adds it
    # to the std crates that every unit depends on, so without it here the tests would compile
    # every dependency again instead of reusing the package build's (make test runs both).
    FLAVOUR_CARGO_ARGS=(--features threads -Z build-std=panic_abort,std,test)
    ;;
single)
    export CARGO_TARGET_DIR="$ROOT/target/wasm-single"
    export RUSTFLAGS=""
    FLAVOUR_CARGO_ARGS=(--no-default-features)
    ;;
*)
    echo "usage: source scripts/wasm-flavour.sh threads|single" >&2
    return 2 2>/dev/null || exit 2
    ;;
esac
# Neither may be overridden from the environment by accident.
unset CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS
export FLAVOUR=$1
