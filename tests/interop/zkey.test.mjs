// The CLI proves with snarkjs's own keys: `airprover prove --zkey circuit.zkey --wtns
// witness.wtns` on the shared circom fixtures (circom2, snarkjs groth16 setup and a
// contribution), and snarkjs verifies the proof with the zkey's verification key, with the public
// signals its own prover gives; `airprover verify --vkey` agrees with snarkjs both ways;
// `zkey-info` reports the zkey; the refusals have their codes.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import * as snarkjs from "snarkjs";

import { circomFixture } from "./circom-fixtures.mjs";
import { airprover, airproverOk, readJson } from "./fixture.mjs";

const dir = mkdtempSync(join(tmpdir(), "airprover-zkey-"));

// snarkjs keeps a threaded BN254 curve in a global; its workers keep the process alive.
after(async () => {
  await globalThis.curve_bn128?.terminate();
});

/** Proves fixture `name` with the CLI; returns its files and the proof's. */
async function proved(name) {
  const f = await circomFixture(name);
  const proof = join(dir, `${name}.proof.json`);
  const pub = join(dir, `${name}.public.json`);
  airproverOk("prove", "--zkey", f.zkey, "--wtns", f.wtns, "--proof", proof, "--public", pub);
  return { f, proof, pub };
}

describe("airprover proves with snarkjs's zkeys", () => {
  for (const name of ["arrays", "multi", "claim-d20-k8"]) {
    test(`${name}: snarkjs verifies the proof; the public signals are snarkjs's`, { timeout: 600_000 }, async () => {
      const { f, proof, pub } = await proved(name);
      const vkey = readJson(f.vkey);
      assert.deepEqual(readJson(pub), readJson(f.public));
      assert.equal(await snarkjs.groth16.verify(vkey, readJson(pub), readJson(proof)), true);
      // Our verify agrees, on our proof and on snarkjs's.
      airproverOk("verify", "--vkey", f.vkey, "--proof", proof, "--public", pub);
      airproverOk("verify", "--vkey", f.vkey, "--proof", f.proof, "--public", f.public);
      // A changed public signal: snarkjs and airprover both say no.
      const altered = readJson(pub);
      altered[0] = (BigInt(altered[0]) + 1n).toString();
      const alteredFile = join(dir, `${name}.altered.json`);
      writeFileSync(alteredFile, JSON.stringify(altered));
      assert.equal(await snarkjs.groth16.verify(vkey, altered, readJson(proof)), false);
      const run = airprover("verify", "--vkey", f.vkey, "--proof", proof, "--public", alteredFile);
      assert.equal(run.status, 1, run.stderr);
      assert.match(run.stderr, /^VERIFY_FAILED/);
    });
  }

  test("zkey-info prints the zkey's facts", async () => {
    const f = await circomFixture("multi");
    const info = JSON.parse(airproverOk("zkey-info", f.zkey).stdout);
    assert.equal(info.protocol, "groth16");
    assert.equal(info.curve, "bn128");
    assert.equal(info.nPublic, f.info.publicSignals);
    assert.equal(info.nConstraints, f.info.constraints);
    const { createHash } = await import("node:crypto");
    assert.equal(info.sha256, createHash("sha256").update(readFileSync(f.zkey)).digest("hex"));
    assert.deepEqual(info.sections.map((s) => s.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe("refusals", () => {
  const code = (run) => run.stderr.split(":")[0];

  test("a PLONK zkey, a truncated zkey, another circuit's witness, --zkey with --keys", async () => {
    const multi = await circomFixture("multi");
    const arrays = await circomFixture("arrays");
    const out = ["--proof", join(dir, "r.proof.json"), "--public", join(dir, "r.public.json")];
    let run = airprover("prove", "--zkey", multi.plonk, "--wtns", multi.wtns, ...out);
    assert.equal(run.status, 2);
    assert.equal(code(run), "ZKEY_UNSUPPORTED", run.stderr);

    const truncated = join(dir, "truncated.zkey");
    const bytes = readFileSync(multi.zkey);
    writeFileSync(truncated, bytes.subarray(0, bytes.length - 100));
    run = airprover("prove", "--zkey", truncated, "--wtns", multi.wtns, ...out);
    assert.equal(code(run), "ZKEY_CORRUPT", run.stderr);
    run = airprover("zkey-info", truncated);
    assert.equal(code(run), "ZKEY_CORRUPT", run.stderr);

    run = airprover("prove", "--zkey", multi.zkey, "--wtns", arrays.wtns, ...out);
    assert.equal(code(run), "ZKEY_MISMATCH", run.stderr);

    run = airprover("prove", "--zkey", multi.zkey, "--keys", dir, "--wtns", multi.wtns, ...out);
    assert.equal(code(run), "INVALID_INPUT", run.stderr);
    assert.match(run.stderr, /--zkey/);
    run = airprover("verify", "--vkey", multi.vkey, "--keys", dir, "--circuit", "multi", ...out.slice(0, 2), "--public", multi.public);
    assert.equal(code(run), "INVALID_INPUT", run.stderr);
  });
});
