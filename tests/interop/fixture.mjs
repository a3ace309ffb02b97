// Shared set-up of the interop tests: the release CLI, a key directory, a sampled claim and a
// proof of it, all made by the native `airprover` binary in a fresh temporary directory.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The CLI under test: $AIRPROVER_BIN, else target/release/airprover (built when missing). */
export function airproverBinary() {
  if (process.env.AIRPROVER_BIN) return process.env.AIRPROVER_BIN;
  const bin = join(process.env.CARGO_TARGET_DIR ?? join(REPO, "target"), "release", "airprover");
  if (process.env.AIRPROVER_SKIP_BUILD && existsSync(bin)) return bin;
  // A no-op when the binary is up to date.
  execFileSync("cargo", ["build", "--release", "--bin", "airprover"], { cwd: REPO, stdio: "inherit" });
  return bin;
}

/**
 * The DEVELOPMENT powers-of-tau generator (examples/dev_ptau.rs): $DEV_PTAU_BIN, else
 * target/release/examples/dev_ptau (built when missing).
 */
export function devPtauBinary() {
  if (process.env.DEV_PTAU_BIN) return process.env.DEV_PTAU_BIN;
  const bin = join(process.env.CARGO_TARGET_DIR ?? join(REPO, "target"), "release", "examples", "dev_ptau");
  if (process.env.AIRPROVER_SKIP_BUILD && existsSync(bin)) return bin;
  // A no-op when the binary is up to date (`cargo test --release` builds the examples too).
  execFileSync("cargo", ["build", "--release", "--example", "dev_ptau"], { cwd: REPO, stdio: "inherit" });
  return bin;
}

/** Runs the CLI; returns { status, stdout, stderr } without throwing. */
export function airprover(...args) {
  const run = spawnSync(airproverBinary(), args, { encoding: "utf8" });
  if (run.error) throw run.error;
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Runs the CLI and throws with its stderr unless it exits 0. */
export function airproverOk(...args) {
  const run = airprover(...args);
  if (run.status !== 0) throw new Error(`airprover ${args.join(" ")} exited ${run.status}: ${run.stderr}`);
  return run;
}

export const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));

/**
 * Development keys for `circuit`, a claim sampled from a tree of `attestations` leaves, its
 * proof, and the snarkjs verification key, in a new temporary directory.
 */
export function provedClaim({ circuit = "threshold-d5-k3", attestations = 24, seed = 7 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "airprover-interop-"));
  const keys = join(dir, "keys");
  const files = {
    dir,
    keys,
    circuit,
    claim: join(dir, "claim.json"),
    tree: join(dir, "claim.tree.json"),
    proof: join(dir, "proof.json"),
    public: join(dir, "public.json"),
    vk: join(dir, "verification_key.json"),
  };
  airproverOk("setup", "--circuit", circuit, "--out", keys, "--seed", "1");
  airproverOk("sample", "--circuit", circuit, "--out", files.claim, "--attestations", `${attestations}`, "--seed", `${seed}`);
  airproverOk("prove", "--keys", keys, "--input", files.claim, "--proof", files.proof, "--public", files.public);
  airproverOk("export-vk", "--keys", keys, "--circuit", circuit, "--format", "snarkjs", "--out", files.vk);
  return files;
}
