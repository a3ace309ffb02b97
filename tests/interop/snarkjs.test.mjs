// (b) snarkjs accepts what the native CLI writes: `snarkjs.groth16.verify` verifies its proof
// with its exported verification key, and rejects it when a public signal or the proof is altered.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as snarkjs from "snarkjs";

import { provedClaim, readJson } from "./fixture.mjs";

let files;
let vk;
let proof;
let publicSignals;

before(() => {
  files = provedClaim();
  vk = readJson(files.vk);
  proof = readJson(files.proof);
  publicSignals = readJson(files.public);
});

// snarkjs keeps a threaded BN254 curve in a global; its workers keep the process alive.
after(async () => {
  await globalThis.curve_bn128?.terminate();
});

describe("snarkjs verifies native proofs", () => {
  test("the files have snarkjs's shape", () => {
    assert.deepEqual(Object.keys(proof), ["pi_a", "pi_b", "pi_c", "protocol", "curve"]);
    assert.equal(proof.protocol, "groth16");
    assert.equal(proof.curve, "bn128");
    assert.deepEqual(Object.keys(vk), [
      "protocol", "curve", "nPublic", "vk_alpha_1", "vk_beta_2", "vk_gamma_2", "vk_delta_2",
      "vk_alphabeta_12", "IC",
    ]);
    assert.equal(vk.nPublic, 5);
    assert.equal(vk.IC.length, 6);
    assert.equal(publicSignals.length, 5);
    for (const s of publicSignals) assert.match(s, /^[0-9]+$/);
  });

  test("vk_alphabeta_12 is what snarkjs computes: e(alpha, beta) in ffjavascript's Fq12 order", async () => {
    // ffjavascript's fromObject wants BigInts (snarkjs runs unstringifyBigInts first).
    const bigints = (v) => (Array.isArray(v) ? v.map(bigints) : BigInt(v));
    const curve = await snarkjs.curves.getCurveFromName("bn128");
    const alpha = curve.G1.fromObject(bigints(vk.vk_alpha_1));
    const beta = curve.G2.fromObject(bigints(vk.vk_beta_2));
    const expected = curve.Gt.toObject(await curve.pairing(alpha, beta));
    assert.deepEqual(bigints(vk.vk_alphabeta_12), expected);
  });

  test("accepts the proof", async () => {
    assert.equal(await snarkjs.groth16.verify(vk, publicSignals, proof), true);
  });

  test("rejects it when a public signal is altered", async () => {
    for (let i = 0; i < publicSignals.length; i++) {
      const altered = [...publicSignals];
      altered[i] = (BigInt(altered[i]) + 1n).toString();
      assert.equal(await snarkjs.groth16.verify(vk, altered, proof), false, `public[${i}] + 1`);
    }
  });

  test("rejects it when the proof is altered", async () => {
    const swapped = { ...proof, pi_a: proof.pi_c, pi_c: proof.pi_a };
    assert.equal(await snarkjs.groth16.verify(vk, publicSignals, swapped), false);
  });
});
