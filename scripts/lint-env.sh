# Sourced by scripts/linted.sh (make test): every cargo build in this shell lints the crate with
# clippy while it compiles it, so `make test` has no separate `cargo clippy` pass (which would
# type-check every dependency a second time, std included for the threaded wasm build).
#
# This is what `cargo clippy` itself does, on `cargo check` instead of a real build: clippy-driver
# is the rustc of the workspace's own crate (RUSTC_WORKSPACE_WRAPPER; dependencies are compiled by
# plain rustc, so their artifacts are the ones any other build makes), and CLIPPY_ARGS carries the
# arguments that follow `--` in `cargo clippy -- -D warnings`, each ended by the separator
# cargo-clippy uses. The wrapper and its arguments are part of the crate's fingerprint: a build in
# a shell without them compiles the crate again (its dependencies stay fresh).
# shellcheck shell=bash
sysroot=$(rustc --print sysroot)
[ -x "$sysroot/bin/clippy-driver" ] || { echo "lint-env: no clippy-driver in $sysroot (rustup component add clippy)" >&2; return 1; }
export RUSTC_WORKSPACE_WRAPPER="$sysroot/bin/clippy-driver"
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
unset sysroot
