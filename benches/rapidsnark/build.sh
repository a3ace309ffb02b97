#!/usr/bin/env bash
# rapidsnark (iden3's native C++ Groth16 prover), built beside airprover as the native peer of
# `make bench-browser`: target/rapidsnark/prover. Not part of `make test`, not shipped.
#
#   RAPIDSNARK_SRC=/path/to/rapidsnark benches/rapidsnark/build.sh
#
# RAPIDSNARK_SRC is a checkout of https://github.com/iden3/rapidsnark with its submodules
# (depends/ffiasm, depends/json, depends/circom_runtime; `git clone --recursive`). Without it the
# script clones one, which needs github.com (not reachable from every machine: then say where a
# checkout is). A source tree without .git (e.g. `git archive` of rapidsnark and of each
# submodule at the commit rapidsnark pins) may say what it is in a file REVISIONS at its top:
# its lines go into target/rapidsnark/REVISION, which the bench reports. Debian's packages only: GMP comes from libgmp-dev instead of upstream's
# build_gmp.sh, which downloads a GMP tarball; the field code (build/fr.*, build/fq.*) is committed
# upstream, so no generator runs. Upstream's shared library target is left out: Debian's libgmp.a
# is not position-independent, so librapidsnark.so does not link against it; the `prover`
# executable links it statically as upstream does.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/target/rapidsnark
WORK=$OUT/src

need=()
for p in build-essential cmake libgmp-dev libsodium-dev nasm m4; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}"
  else sudo apt-get update -qq && sudo apt-get install -y -qq "${need[@]}"; fi
fi

mkdir -p "$OUT"
if [ -n "${RAPIDSNARK_SRC:-}" ]; then
  [ -f "$RAPIDSNARK_SRC/CMakeLists.txt" ] || { echo "RAPIDSNARK_SRC=$RAPIDSNARK_SRC is not a rapidsnark checkout" >&2; exit 1; }
  rm -rf "$WORK" && cp -a "$RAPIDSNARK_SRC" "$WORK"
elif [ ! -f "$WORK/CMakeLists.txt" ]; then
  git clone --recursive https://github.com/iden3/rapidsnark "$WORK" || {
    echo "could not clone rapidsnark: set RAPIDSNARK_SRC to a checkout with its submodules" >&2
    exit 1
  }
fi
for dep in depends/ffiasm depends/json depends/circom_runtime; do
  [ -n "$(ls -A "$WORK/$dep" 2>/dev/null)" ] || { echo "$WORK/$dep is empty: the checkout needs its submodules" >&2; exit 1; }
done

mkdir -p "$WORK/depends/gmp/package/include" "$WORK/depends/gmp/package/lib"
cp "$(dpkg -L libgmp-dev | grep '/gmp\.h$' | head -1)" "$WORK/depends/gmp/package/include/"
cp "$(dpkg -L libgmp-dev | grep '/libgmp\.a$' | head -1)" "$WORK/depends/gmp/package/lib/"

rm -rf "$WORK/build_prover" && mkdir "$WORK/build_prover"
(cd "$WORK/build_prover" && cmake .. -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=../package >/dev/null)
make -C "$WORK/build_prover" -j"$(nproc)" prover >/dev/null
cp "$WORK/build_prover/src/prover" "$OUT/prover"
if [ -e "$WORK/.git" ]; then
  rev="iden3/rapidsnark $(git -C "$WORK" rev-parse HEAD) (git checkout)"
elif [ -f "$WORK/REVISIONS" ]; then
  rev=$(tr '\n' ';' < "$WORK/REVISIONS" | sed 's/;$//; s/;/; /g')
else
  rev='a source tree without git or REVISIONS'
fi
echo "$rev" > "$OUT/REVISION"
echo "built $OUT/prover from $rev"
