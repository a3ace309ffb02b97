#!/usr/bin/env bash
# airprover's native CLI in two builds, portable and `asm` (arkworks' x86-64 assembly for the
# field multiplication, built for this CPU), beside rapidsnark on threshold-d20-k8, all threads,
# one process a proof as rapidsnark's CLI works:
#
#   rapidsnark      target/rapidsnark/prover ZKEY WTNS (benches/rapidsnark/build.sh builds it)
#   zkey-portable   target/release/airprover prove --zkey ZKEY --wtns WTNS   (converted-key cache warm)
#   zkey-asm        target/asm/release/airprover prove --zkey ZKEY --wtns WTNS
#   own-portable    target/release/airprover prove --keys KEYS --input claim.json   (airprover's own key)
#   own-asm         target/asm/release/airprover prove --keys KEYS --input claim.json
#
# interleaved (each round runs every configuration once, in this order), ROUNDS rounds (default
# 7) after one untimed run of each. Prints the medians and each one's speed against rapidsnark
# (rapidsnark's seconds / its seconds: above 1x is faster), and for each run in
# target/bench-native-asm/times.tsv the process's CPU time and how many cores other processes kept
# busy meanwhile (on a shared machine the wall times say little where that is far above 0).
#
# The zkey and witness are made as `make bench-browser` makes its same-key rows
# (benches/browser/run.mjs): the circom claim circuit of benches/browser/circuits compiled with
# circom2 --O2, `snarkjs groth16 setup` on a DEVELOPMENT powers of tau (examples/dev_ptau.rs, seed
# 1), `snarkjs wtns calculate` of the claim `airprover sample --seed 7` writes; airprover's own
# key is `airprover setup --seed 1`. Kept in target/bench-native-asm/ (delete it to make them
# again).
#
#   benches/native-asm.sh                  builds both (unless NO_BUILD=1), makes the inputs, times
#   ROUNDS=11 NO_BUILD=1 nice -n 19 benches/native-asm.sh   (on a shared machine)
#
# NODE_MODULES: where snarkjs 0.7.6, circom2 0.2.23 and circomlib 2.0.5 are, relative to the
# checkout; default benches/browser/node_modules, installed by `npm ci` there as `make
# bench-browser` does (tests/interop/node_modules pins the same three versions).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=$ROOT/target/bench-native-asm
ROUNDS=${ROUNDS:-7}
NODE_MODULES=${NODE_MODULES:-benches/browser/node_modules}
RAPIDSNARK=${RAPIDSNARK:-$ROOT/target/rapidsnark/prover}
PORTABLE=$ROOT/target/release/airprover
ASM=$ROOT/target/asm/release/airprover
DEV_PTAU=$ROOT/target/release/examples/dev_ptau

log() { echo "[native-asm] $*" >&2; }

[ -x "$RAPIDSNARK" ] || { log "$RAPIDSNARK is missing: RAPIDSNARK_SRC=<checkout> benches/rapidsnark/build.sh"; exit 1; }
# The asm build's binary uses bmi2 and adx (mulx, adcx, adox): without them it stops with an
# illegal instruction, so there is nothing to compare.
for flag in bmi2 adx; do
  grep -qw "$flag" /proc/cpuinfo || { log "this CPU has no $flag: the asm build cannot run here"; exit 1; }
done

if [ "${NO_BUILD:-}" != 1 ]; then
  log 'building the portable release (target/release)'
  cargo build --release --bin airprover --example dev_ptau
  log 'building the asm release (target/asm: --features asm, -C target-cpu=native)'
  RUSTFLAGS="-C target-cpu=native" cargo build --release --features asm --target-dir target/asm --bin airprover
fi

for f in "$PORTABLE" "$DEV_PTAU"; do [ -x "$f" ] || { log "$f is missing (NO_BUILD=1)"; exit 1; }; done

if [ "${NODE_MODULES}" = benches/browser/node_modules ] && [ ! -e benches/browser/node_modules/snarkjs ]; then
  (cd benches/browser && npm ci --no-audit --no-fund)
fi
SNARKJS=$ROOT/$NODE_MODULES/snarkjs/build/cli.cjs
CIRCOM=$NODE_MODULES/circom2/cli.js
for f in "$SNARKJS" "$CIRCOM" "$NODE_MODULES/circomlib/circuits"; do
  [ -e "$f" ] || { log "$f is missing (NODE_MODULES=$NODE_MODULES)"; exit 1; }
done

# Inputs, each made once.
mkdir -p "$OUT"
KEYS=$OUT/keys CLAIM=$OUT/claim.json CIRCOMDIR=$OUT/circom
[ -f "$KEYS/threshold-d20-k8.pk" ] || "$PORTABLE" setup --circuit threshold-d20-k8 --out "$KEYS" --seed 1 >&2
[ -f "$CLAIM" ] || "$PORTABLE" sample --circuit threshold-d20-k8 --out "$CLAIM" --seed 7 >&2
# The nullifier is a public signal of airprover's proof: the circom input needs it.
[ -f "$OUT/own-public.json" ] ||
  "$PORTABLE" prove --keys "$KEYS" --input "$CLAIM" --proof "$OUT/own-proof.json" --public "$OUT/own-public.json" >&2
if [ ! -f "$CIRCOMDIR/main.r1cs" ]; then
  mkdir -p "$CIRCOMDIR"
  printf '%s\n' 'pragma circom 2.0.0;' 'include "claim.circom";' \
    'component main {public [root, campaignId, claimant, nullifier, threshold]} = ThresholdClaim(20, 8);' \
    > "$CIRCOMDIR/main.circom"
  # circom2 runs in WASI and sees the working directory only, symlinks out of it not followed (a
  # node_modules linked in from another checkout): circomlib's circuits copied under target/.
  rm -rf "$OUT/circomlib" && cp -rL "$NODE_MODULES/circomlib/circuits" "$OUT/circomlib"
  rel=${OUT#"$ROOT"/}
  log 'circom2 threshold-d20-k8 (--O2)'
  node "$CIRCOM" "$rel/circom/main.circom" --O2 --r1cs --wasm -o "$rel/circom" \
    -l benches/browser/circuits -l "$rel/circomlib" > "$CIRCOMDIR/circom.log"
fi
ZKEY=$CIRCOMDIR/threshold-d20-k8.zkey
if [ ! -f "$ZKEY" ]; then
  info=$(node "$SNARKJS" r1cs info "$CIRCOMDIR/main.r1cs")
  count() { sed -n "s/.*# of $1: \([0-9]*\).*/\1/p" <<< "$info"; }
  # snarkjs's groth16 domain: 2^(floor(log2(constraints + public inputs + outputs)) + 1).
  n=$(($(count Constraints) + $(count 'Public Inputs') + $(count Outputs)))
  power=1
  while [ $((1 << power)) -le "$n" ]; do power=$((power + 1)); done
  [ -f "$OUT/dev$power.ptau" ] || "$DEV_PTAU" --power "$power" --out "$OUT/dev$power.ptau" --seed 1 >&2
  log "snarkjs groth16 setup (powers of tau 2^$power, minutes)"
  node "$SNARKJS" groth16 setup "$CIRCOMDIR/main.r1cs" "$OUT/dev$power.ptau" "$ZKEY.part" >&2
  mv "$ZKEY.part" "$ZKEY"
fi
WTNS=$CIRCOMDIR/bench.wtns
if [ ! -f "$WTNS" ]; then
  node --input-type=module -e "
    import { readFileSync, writeFileSync } from 'node:fs';
    import { circomClaimInput } from '$ROOT/benches/browser/circuits/claim-input.mjs';
    const claim = JSON.parse(readFileSync('$CLAIM', 'utf8'));
    const nullifier = JSON.parse(readFileSync('$OUT/own-public.json', 'utf8'))[3];
    writeFileSync('$CIRCOMDIR/input.json', JSON.stringify(circomClaimInput(claim, nullifier, 20, 8)));"
  node "$SNARKJS" wtns calculate "$CIRCOMDIR/main_js/main.wasm" "$CIRCOMDIR/input.json" "$WTNS"
fi

[ -x "$ASM" ] || { log "$ASM is missing (NO_BUILD=1)"; exit 1; }
CACHE=$OUT/zkey-cache
# The command line of a configuration, in CMD.
command_of() {
  local bin=$PORTABLE
  case $1 in *-asm) bin=$ASM ;; esac
  case $1 in
    rapidsnark) CMD=("$RAPIDSNARK" "$ZKEY" "$WTNS" "$OUT/rapidsnark-proof.json" "$OUT/rapidsnark-public.json") ;;
    zkey-*) CMD=("$bin" prove --zkey "$ZKEY" --wtns "$WTNS" --proof "$OUT/$1-proof.json" --public "$OUT/$1-public.json" --zkey-cache "$CACHE") ;;
    own-*) CMD=("$bin" prove --keys "$KEYS" --input "$CLAIM" --proof "$OUT/$1-proof.json" --public "$OUT/$1-public.json") ;;
  esac
}
CONFIGS=(rapidsnark zkey-portable zkey-asm own-portable own-asm)

# One untimed run each: the converted-key cache warm (the first run converts the zkey), and the
# files in the page cache.
for c in "${CONFIGS[@]}"; do command_of "$c" && "${CMD[@]}" > /dev/null; done
# Every prover proves the same statement: the same public signals.
for c in zkey-portable zkey-asm own-portable own-asm; do
  cmp -s <(tr -d ' \n' < "$OUT/rapidsnark-public.json") <(tr -d ' \n' < "$OUT/$c-public.json") ||
    { log "$c's public signals differ from rapidsnark's"; exit 1; }
done
node "$SNARKJS" zkey export verificationkey "$ZKEY" "$OUT/vk.json" > /dev/null
node "$SNARKJS" groth16 verify "$OUT/vk.json" "$OUT/rapidsnark-public.json" "$OUT/rapidsnark-proof.json" | grep -q OK ||
  { log "snarkjs does not verify rapidsnark's proof"; exit 1; }

# Busy CPU time of the whole machine, in clock ticks (/proc/stat: all but idle and iowait).
busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
TICK=$(getconf CLK_TCK)
TIMES=$OUT/times.tsv
# seconds: wall clock; cpu: the process's user + system seconds; others: the cores other processes
# kept busy meanwhile ((machine busy time - the process's) / wall): above 0 the timing shared the
# machine.
printf 'round\tconfig\tseconds\tcpu\tothers\tloadavg1\n' > "$TIMES"
for round in $(seq 1 "$ROUNDS"); do
  for c in "${CONFIGS[@]}"; do
    command_of "$c"
    b0=$(busy_ticks) t0=$(date +%s%N)
    /usr/bin/time -f '%U %S' -o "$OUT/time.txt" "${CMD[@]}" > /dev/null
    t1=$(date +%s%N) b1=$(busy_ticks)
    read -r user sys < "$OUT/time.txt"
    awk -v r="$round" -v c="$c" -v ns=$((t1 - t0)) -v ticks=$((b1 - b0)) -v tick="$TICK" -v u="$user" -v s="$sys" \
      -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
        wall = ns / 1e9; others = (ticks / tick - u - s) / wall
        printf "%s\t%s\t%.3f\t%.2f\t%.2f\t%s\n", r, c, wall, u + s, others < 0 ? 0 : others, load }' >> "$TIMES"
  done
  log "round $round: $(awk -F'\t' -v r="$round" '$1 == r { printf "%s %s s  ", $2, $3 }' "$TIMES")(load $(cut -d' ' -f1-3 /proc/loadavg))"
done

echo "threshold-d20-k8, all threads ($(nproc) cores: $(lscpu | sed -n 's/^Model name: *//p')), one process a proof, $ROUNDS interleaved rounds"
echo "rapidsnark: $(cat "$(dirname "$RAPIDSNARK")/REVISION" 2>/dev/null || echo unknown)"
awk -F'\t' -v configs="${CONFIGS[*]}" '
  NR > 1 { wall[$2] = wall[$2] " " $3; cpu[$2] = cpu[$2] " " $4; others[$2] = others[$2] " " $5; at[$1, $2] = $3; load[++n] = $6; rounds = $1 }
  function median(list,   a, k, i, j, x) {
    k = split(list, a, " ")
    for (i = 2; i <= k; i++) { x = a[i]; for (j = i - 1; j > 0 && a[j] + 0 > x + 0; j--) a[j + 1] = a[j]; a[j + 1] = x }
    return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
  }
  END {
    split(configs, c, " ")
    rs = median(wall["rapidsnark"])
    printf "%-14s %8s %8s %10s %8s %11s   %s\n", "config", "median s", "vs rs", "per round", "cpu s", "others", "all runs, s"
    for (i = 1; i <= length(c); i++) {
      paired = ""
      for (r = 1; r <= rounds; r++) paired = paired " " at[r, "rapidsnark"] / at[r, c[i]]
      printf "%-14s %8.3f %7.2fx %9.2fx %8.2f %11.2f   %s\n", c[i], median(wall[c[i]]), rs / median(wall[c[i]]),
        median(paired), median(cpu[c[i]]), median(others[c[i]]), wall[c[i]]
    }
    lo = hi = load[1]; for (i = 2; i <= n; i++) { if (load[i] < lo) lo = load[i]; if (load[i] > hi) hi = load[i] }
    print "vs rs: rapidsnark'"'"'s median seconds / the configuration'"'"'s (above 1x faster); per round: the median of the"
    print "same ratio within each round; cpu s: median user + system; others: median cores other processes kept busy"
    printf "load average (1 min) during the timings: %s to %s\n", lo, hi
  }' "$TIMES"
