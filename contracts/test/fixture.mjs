// Shared set-up of the contract tests: the native airprover CLI (release build) makes DEVELOPMENT
// keys (`setup --seed`), sampled claims, proofs, the Solidity verifier and the calldata.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { parseCalldata, runAirprover } from "../lib/airprover.mjs";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Small enough to prove in about a second on two cores. */
export const CIRCUIT = "threshold-d4-k2";
/** The seed of the development keys: anyone who knows it can forge proofs. */
export const DEV_SEED = 1;

let built = false;
/**
 * Runs the CLI ($AIRPROVER_BIN, else target/release/airprover, built first when out of date);
 * returns its stdout, or throws with its one-line error.
 */
export function airprover(...args) {
  if (!built && !process.env.AIRPROVER_BIN && !process.env.AIRPROVER_SKIP_BUILD) {
    // A no-op when the binary is up to date.
    execFileSync("cargo", ["build", "--release", "--bin", "airprover"], { cwd: REPO, stdio: "inherit" });
  }
  built = true;
  return runAirprover(...args);
}

export const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));

/** A fresh temporary directory. */
export const scratch = () => mkdtempSync(join(tmpdir(), "airprover-contracts-"));

/**
 * DEVELOPMENT keys of `circuit` in `dir`/keys, with the exports of its verifying key:
 * { keys, circuit, verifier (our Verifier.sol), vk (snarkjs verification_key.json) }.
 */
export function devKeys(dir, circuit = CIRCUIT) {
  const keys = join(dir, "keys");
  airprover("setup", "--circuit", circuit, "--out", keys, "--seed", `${DEV_SEED}`);
  const verifier = join(dir, "Verifier.sol");
  const vk = join(dir, "verification_key.json");
  airprover("export-verifier", "--keys", keys, "--circuit", circuit, "--out", verifier);
  airprover("export-vk", "--keys", keys, "--circuit", circuit, "--format", "snarkjs", "--out", vk);
  return { keys, circuit, verifier, vk };
}

/** A claim sampled with `seed`: its own tree, so its own root. Resolves to { path, claim }. */
export function sampleClaim(dir, name, { circuit = CIRCUIT, seed }) {
  const path = join(dir, `${name}.json`);
  airprover("sample", "--circuit", circuit, "--out", path, "--attestations", "12", "--seed", `${seed}`);
  return { path, claim: readJson(path) };
}

/**
 * Writes `claim` with `changes` to `dir`/`name`.json; returns the path. The changes must keep it
 * valid: a lower threshold, another claimant or campaign.
 */
export function writeClaim(dir, name, claim, changes = {}) {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({ ...claim, ...changes }, null, 2));
  return path;
}

/**
 * Proves the claim at `claimPath` with the keys in `keys` into `dir`/`name`.proof.json and
 * .public.json; returns those paths, the public signals and the calldata of `airprover calldata`.
 */
export function prove(dir, name, keys, claimPath) {
  const proof = join(dir, `${name}.proof.json`);
  const pub = join(dir, `${name}.public.json`);
  airprover("prove", "--keys", keys, "--input", claimPath, "--proof", proof, "--public", pub);
  return { proof, public: pub, publicSignals: readJson(pub), calldata: calldataOf(proof, pub) };
}

/** `airprover calldata` of proof and public files, as text and as viem arguments. */
export function calldataOf(proofPath, publicPath) {
  const text = airprover("calldata", "--proof", proofPath, "--public", publicPath).trimEnd();
  return { text, args: parseCalldata(text) };
}

/** Merges `values` under `section` into target/bench/gas.json (the test files run one at a time). */
export function recordGas(section, values) {
  const file = join(process.env.CARGO_TARGET_DIR ?? join(REPO, "target"), "bench", "gas.json");
  mkdirSync(dirname(file), { recursive: true });
  const all = existsSync(file) ? readJson(file) : {};
  all[section] = JSON.parse(JSON.stringify(values, (_, v) => (typeof v === "bigint" ? Number(v) : v)));
  writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
  return file;
}
