// airprover's Solidity verifier against snarkjs's, on a real EVM (anvil): the same calldata
// accepted, the same tampered calldata rejected, and the gas of each.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { encodeFunctionData } from "viem";
import * as snarkjs from "snarkjs";

import { airproverPath } from "../lib/airprover.mjs";
import { startAnvil } from "../lib/anvil.mjs";
import { connect, deploy } from "../lib/chain.mjs";
import { compileVerifier } from "../lib/compile.mjs";
import { devKeys, prove, readJson, recordGas, sampleClaim, scratch } from "./fixture.mjs";
import { snarkjsVerifierSource } from "./snarkjs-verifier.mjs";

// BN254: q the base field, r the scalar field.
const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

let anvil;
let chain;
let proved;
const verifiers = {};

let dir;

before(async () => {
  dir = scratch();
  const keys = devKeys(dir);
  const { path } = sampleClaim(dir, "claim", { seed: 7 });
  proved = prove(dir, "claim", keys.keys, path);
  proved.vk = keys.vk;
  anvil = await startAnvil();
  chain = connect(anvil.url, anvil.devKeys[0]);
  for (const [name, source] of [
    ["airprover", readFileSync(keys.verifier, "utf8")],
    ["snarkjs", snarkjsVerifierSource(keys.vk)],
  ]) {
    const artifact = compileVerifier(source, `${name}/Verifier.sol`);
    const { address, gasUsed } = await deploy(chain, artifact);
    verifiers[name] = { address, abi: artifact.abi, deployGas: gasUsed, bytes: (artifact.bytecode.length - 2) / 2 };
  }
});

after(async () => {
  await anvil?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  await globalThis.curve_bn128?.terminate();
});

/** "accepts", "rejects" (returns false) or "reverts", by eth_call. */
async function outcome(name, args) {
  const { address, abi } = verifiers[name];
  try {
    const ok = await chain.publicClient.readContract({ address, abi, functionName: "verifyProof", args });
    return ok ? "accepts" : "rejects";
  } catch {
    return "reverts";
  }
}

const both = async (args) => [await outcome("airprover", args), await outcome("snarkjs", args)];

/** A deep copy of the valid calldata, changed by `edit`. */
function tampered(edit) {
  const args = structuredClone(proved.calldata.args);
  edit(args);
  return args;
}

// Each keeps the calldata well-formed ABI, so that the verifier itself must say no.
const TAMPERINGS = {
  "public signal 0 (root) + 1": (a) => (a[3][0] += 1n),
  "public signal 1 (campaign) + 1": (a) => (a[3][1] += 1n),
  "public signal 2 (claimant) changed": (a) => (a[3][2] = 0xbadn),
  "public signal 3 (nullifier) + 1": (a) => (a[3][3] += 1n),
  "public signal 4 (threshold) - 1": (a) => (a[3][4] -= 1n),
  "nullifier + r (the same scalar to ecMul)": (a) => (a[3][3] += R),
  "A and C swapped": (a) => ([a[0], a[2]] = [a[2], a[0]]),
  "A negated": (a) => (a[0][1] = Q - a[0][1]),
  "B in JSON order (real part first)": (a) => (a[1] = a[1].map(([im, re]) => [re, im])),
  "C replaced by the generator": (a) => (a[2] = [1n, 2n]),
  "A.x + q (not a field element)": (a) => (a[0][0] += Q),
  "A off the curve": (a) => (a[0][1] += 1n),
  "all points zero (infinity)": (a) => ([a[0], a[1], a[2]] = [[0n, 0n], [[0n, 0n], [0n, 0n]], [0n, 0n]]),
};

describe("airprover's verifier and snarkjs's (development keys, seed 1)", () => {
  test("`airprover calldata` prints what `snarkjs zkey export soliditycalldata` prints", async () => {
    const theirs = await snarkjs.groth16.exportSolidityCallData(readJson(proved.proof), readJson(proved.public));
    assert.equal(proved.calldata.text, theirs);
  });

  test("`airprover calldata` and `export-verifier` fail with one stderr line that starts with the code", () => {
    const bad = join(dir, "bad-proof.json");
    writeFileSync(bad, JSON.stringify({ ...readJson(proved.proof), pi_a: ["1", "1", "1"] }));
    for (const [args, code] of [
      [["calldata", "--proof", bad, "--public", proved.public], "INVALID_PROOF"],
      [["calldata", "--proof", proved.proof, "--public", join(dir, "missing.json")], "IO_ERROR"],
      [["export-verifier", "--keys", join(dir, "no-keys"), "--circuit", "threshold-d4-k2", "--out", join(dir, "V.sol")], "KEY_NOT_FOUND"],
    ]) {
      const run = spawnSync(airproverPath(), args, { encoding: "utf8" });
      assert.equal(run.status, 2, run.stderr);
      assert.equal(run.stdout, "");
      assert.match(run.stderr, new RegExp(`^${code}: [^\n]*\n$`));
    }
  });

  test("both accept the proof made by the native CLI", async () => {
    assert.deepEqual(await both(proved.calldata.args), ["accepts", "accepts"]);
  });

  for (const [name, edit] of Object.entries(TAMPERINGS)) {
    test(`both reject: ${name}`, async () => {
      const [ours, theirs] = await both(tampered(edit));
      assert.notEqual(ours, "accepts");
      assert.equal(ours, theirs);
    });
  }

  // snarkjs negates A at run time as (q - A.y) mod q in 256-bit arithmetic, so A.y + 2^256 - 4q
  // (the same point, not a field element) comes out right; ours hands A to the precompile as it
  // is, which refuses it. Not a forgery (the proof is valid), but a second encoding of one proof.
  test("differs on purpose: only snarkjs's accepts a non-canonical A.y", async () => {
    const args = tampered((a) => (a[0][1] += (1n << 256n) - 4n * Q));
    assert.ok(args[0][1] < 1n << 256n);
    assert.deepEqual(await both(args), ["rejects", "accepts"]);
  });

  test("gas of verifyProof in a transaction: airprover's at or below snarkjs's", async () => {
    const gas = {};
    for (const name of ["airprover", "snarkjs"]) {
      const { address, abi, deployGas, bytes } = verifiers[name];
      const data = encodeFunctionData({ abi, functionName: "verifyProof", args: proved.calldata.args });
      // A transaction, not estimateGas: a verifier short of gas returns false rather than
      // reverting, so an estimate can settle on a limit too low to verify.
      const hash = await chain.walletClient.sendTransaction({ to: address, data, gas: 1_000_000n });
      const { gasUsed, status } = await chain.publicClient.waitForTransactionReceipt({ hash });
      assert.equal(status, "success");
      const intrinsic = intrinsicGas(data);
      gas[name] = { verifyProofTx: gasUsed, intrinsic, execution: gasUsed - intrinsic, deploy: deployGas, bytecodeBytes: bytes };
    }
    const file = recordGas("verifyProof", { circuit: "threshold-d4-k2", publicSignals: 5, ...gas });
    console.log(`verifyProof gas (transaction total / execution): airprover ${gas.airprover.verifyProofTx} / ${gas.airprover.execution}, snarkjs ${gas.snarkjs.verifyProofTx} / ${gas.snarkjs.execution} (in ${file})`);
    assert.ok(gas.airprover.verifyProofTx <= gas.snarkjs.verifyProofTx);
  });
});

/** 21000 plus calldata at 4 gas per zero byte and 16 per other byte (EIP-2028). */
function intrinsicGas(data) {
  let gas = 21000n;
  for (let i = 2; i < data.length; i += 2) gas += data.slice(i, i + 2) === "00" ? 4n : 16n;
  return gas;
}
