// The native airprover CLI, for scripts: the verifier of a key directory and the calldata of a
// proof, as its `export-verifier` and `calldata` commands write them.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { CONTRACTS } from "./compile.mjs";

/** $AIRPROVER_BIN, else the release build of the repository this contracts/ is in. */
export function airproverPath() {
  const target = process.env.CARGO_TARGET_DIR ?? join(CONTRACTS, "..", "target");
  const bin = process.env.AIRPROVER_BIN ?? join(target, "release", "airprover");
  if (!existsSync(bin)) throw new Error(`no airprover CLI at ${bin}: cargo build --release --bin airprover, or set AIRPROVER_BIN`);
  return bin;
}

/** Runs the CLI; returns its stdout, or throws with its one-line error. */
export function runAirprover(...args) {
  const run = spawnSync(airproverPath(), args, { encoding: "utf8" });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`airprover ${args[0]}: ${run.stderr.trim()}`);
  return run.stdout;
}

/** The Solidity verifier of `circuit`'s verifying key in the key directory `keys`. */
export function exportVerifier(keys, circuit) {
  const dir = mkdtempSync(join(tmpdir(), "airprover-verifier-"));
  try {
    const out = join(dir, "Verifier.sol");
    runAirprover("export-verifier", "--keys", keys, "--circuit", circuit, "--out", out);
    return readFileSync(out, "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The `verifyProof` / `claim` arguments of proof.json and public.json, as viem wants them. */
export function calldataArgs(proofPath, publicPath) {
  return parseCalldata(runAirprover("calldata", "--proof", proofPath, "--public", publicPath));
}

/** The four arguments of calldata text in snarkjs's layout, as bigints. */
export function parseCalldata(text) {
  const big = (v) => (Array.isArray(v) ? v.map(big) : BigInt(v));
  return JSON.parse(`[${text}]`).map(big);
}
