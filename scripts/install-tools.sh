#!/usr/bin/env bash
# Installs what the build and the tests need, skipping what is already there at the right version.
# Idempotent: a second run only checks versions (a few seconds). Called by `make tools`.
#
#   scripts/install-tools.sh [rust] [apt] [wasm-bindgen] [wasm-pack] [npm]   (default: all)
#
# Nothing here downloads a prebuilt binary or a browser: Rust tools are built from the crate
# registry with cargo, Chromium and its driver come from apt, JS dependencies from npm lock files.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

say() { printf '\033[1m[tools]\033[0m %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The toolchain rust-toolchain.toml pins (channel, components, wasm32 target).
toolchain() { sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml; }

install_rust() {
    command -v rustup >/dev/null || die "rustup is required (https://rustup.rs); it installs the pinned toolchain"
    # In the repo, rustup installs the toolchain of rust-toolchain.toml with its components and
    # targets on first use; `rustup toolchain install` with no name does the same explicitly.
    rustup toolchain install >/dev/null 2>&1 || true
    cargo --version >/dev/null
    local sysroot
    sysroot=$(rustc --print sysroot)
    [ -d "$sysroot/lib/rustlib/wasm32-unknown-unknown" ] || rustup target add wasm32-unknown-unknown
    [ -d "$sysroot/lib/rustlib/src/rust/library" ] || rustup component add rust-src
    say "rust: $(rustc --version)"
}

install_apt() {
    local missing=()
    # openssl: tests/redis_tls.rs makes its certificates with it.
    for p in chromium chromium-driver redis-server openssl; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    command -v node >/dev/null || missing+=(nodejs npm)
    if [ ${#missing[@]} -gt 0 ]; then
        say "apt: installing ${missing[*]}"
        as_root apt-get update
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
    fi
    say "apt: $(chromium --version 2>/dev/null | head -1), $(chromedriver --version | cut -d' ' -f1-2), node $(node --version)"
    say "apt: $(redis-server --version | cut -d' ' -f1-3)"
}

# wasm-bindgen-cli must match the `wasm-bindgen` crate in Cargo.lock exactly.
lock_version() {
    awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

install_wasm_bindgen() {
    local want have=""
    want=$(lock_version wasm-bindgen)
    [ -n "$want" ] || die "no wasm-bindgen in Cargo.lock (run cargo generate-lockfile?)"
    if command -v wasm-bindgen >/dev/null; then have=$(wasm-bindgen --version | cut -d' ' -f2); fi
    if [ "$have" = "$want" ] && command -v wasm-bindgen-test-runner >/dev/null; then
        say "wasm-bindgen-cli $want: present"
        return
    fi
    say "wasm-bindgen-cli $want: building from source (about 12 minutes on 2 cores)"
    # `cargo install --locked wasm-bindgen-cli@0.2.130` fails: its lock file pins a webpki-roots
    # release the registry no longer has. Fetch the crate through a throwaway project, then
    # install it from a copy with that one lock entry moved back a patch release.
    local tmp
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN
    mkdir -p "$tmp/fetch/src"
    cat >"$tmp/fetch/Cargo.toml" <<TOML
[package]
name = "fetch-wasm-bindgen-cli"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
wasm-bindgen-cli = "=$want"
TOML
    echo 'fn main() {}' >"$tmp/fetch/src/main.rs"
    # Outside the repo rustup would pick its default toolchain: use the pinned one.
    export RUSTUP_TOOLCHAIN
    RUSTUP_TOOLCHAIN=$(toolchain)
    (cd "$tmp/fetch" && cargo fetch)
    local src
    src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"wasm-bindgen-cli-$want" | head -1)
    [ -d "$src" ] || die "cargo fetch did not unpack wasm-bindgen-cli-$want"
    cp -r "$src" "$tmp/cli"
    (
        cd "$tmp/cli"
        if grep -q '^name = "webpki-roots"' Cargo.lock && awk '/^name = "webpki-roots"$/{getline; print}' Cargo.lock | grep -q '"1.0.11"'; then
            cargo update -p webpki-roots@1.0.11 --precise 1.0.10
        fi
        # --force: replace an older wasm-bindgen-cli (its version was checked above).
        cargo install --locked --force --path .
    )
    say "wasm-bindgen-cli: $(wasm-bindgen --version)"
}

install_wasm_pack() {
    if command -v wasm-pack >/dev/null; then
        say "wasm-pack: $(wasm-pack --version) present"
        return
    fi
    say "wasm-pack: building from source"
    RUSTUP_TOOLCHAIN=$(toolchain) cargo install --locked wasm-pack
}

# `npm ci` in every directory with a package-lock.json, only when the lock file changed since the
# last install (npm ci always deletes node_modules, which would make every make run slow).
install_npm() {
    local dir lock stamp sum
    for lock in */package-lock.json tests/*/package-lock.json; do
        [ -f "$lock" ] || continue
        dir=$(dirname "$lock")
        stamp="$dir/node_modules/.airprover-npm-ci"
        sum=$(sha256sum "$lock" | cut -d' ' -f1)
        if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
            say "npm: $dir up to date"
            continue
        fi
        say "npm: npm ci in $dir"
        (cd "$dir" && npm ci --no-audit --no-fund)
        echo "$sum" >"$stamp"
    done
}

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(rust apt wasm-bindgen wasm-pack npm)
for step in "${steps[@]}"; do
    case $step in
    rust) install_rust ;;
    apt) install_apt ;;
    wasm-bindgen) install_wasm_bindgen ;;
    wasm-pack) install_wasm_pack ;;
    npm) install_npm ;;
    *) die "unknown step $step" ;;
    esac
done
