// The CLI proves with snarkjs's own keys: `airprover prove --zkey circuit.zkey --wtns
// witness.wtns` (snarkjs's groth16 prove) and `--wasm circuit.wasm --input input.json` (its
// fullprove) on the shared circom fixtures (circom2, snarkjs groth16 setup and a contribution),
// and snarkjs verifies the proof with the zkey's verification key, with the public signals its
// own prover gives; `airprover verify --vkey` agrees with snarkjs both ways; the converted key is
// cached and read back; `zkey-info` reports the zkey; the refusals have their codes.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import * as snarkjs from "snarkjs";

import { circomFixture } from "./circom-fixtures.mjs";
import { spawnSync } from "node:child_process";

import { airprover, airproverBinary, airproverOk, readJson } from "./fixture.mjs";

const dir = mkdtempSync(join(tmpdir(), "airprover-zkey-"));
// The converted-key cache of every CLI run here: this run's own, never the user's.
const cache = join(dir, "zkey-cache");
process.env.AIRPROVER_ZKEY_CACHE = cache;

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

  for (const name of ["arrays", "multi", "claim-d20-k8"]) {
    test(`${name}: fullprove (--wasm --input) verifies in snarkjs; its public signals are snarkjs's`, { timeout: 600_000 }, async () => {
      const f = await circomFixture(name);
      const { createHash } = await import("node:crypto");
      const entry = join(cache, `${createHash("sha256").update(readFileSync(f.zkey)).digest("hex")}.pk`);
      for (const run of ["first", "cached"]) {
        const proof = join(dir, `${name}.full-${run}.proof.json`);
        const pub = join(dir, `${name}.full-${run}.public.json`);
        airproverOk("prove", "--zkey", f.zkey, "--wasm", f.wasm, "--input", f.input, "--proof", proof, "--public", pub);
        // The first run (or the --wtns test before it) converted the zkey and kept its key.
        assert.ok(existsSync(entry), `${entry} is written`);
        assert.deepEqual(readJson(pub), readJson(f.public));
        assert.equal(await snarkjs.groth16.verify(readJson(f.vkey), readJson(pub), readJson(proof)), true, run);
      }
    });
  }

  test("a corrupt cache entry is replaced, --no-zkey-cache writes nothing", async () => {
    const f = await circomFixture("arrays");
    const { createHash } = await import("node:crypto");
    const entry = join(cache, `${createHash("sha256").update(readFileSync(f.zkey)).digest("hex")}.pk`);
    const out = ["--proof", join(dir, "c.proof.json"), "--public", join(dir, "c.public.json")];
    const prove = (...extra) => airproverOk("prove", "--zkey", f.zkey, "--wtns", f.wtns, ...out, ...extra);
    prove();
    const good = readFileSync(entry);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 7] ^= 1;
    writeFileSync(entry, flipped);
    const run = prove();
    assert.match(run.stderr, /bad converted-key cache entry was replaced/);
    assert.deepEqual(readFileSync(entry), good, "converted and written again");
    assert.equal(await snarkjs.groth16.verify(readJson(f.vkey), readJson(out[3]), readJson(out[1])), true);

    // --no-zkey-cache wins over the cache the environment names.
    const none = mkdtempSync(join(tmpdir(), "airprover-no-cache-"));
    const off = airprover("prove", "--zkey", f.zkey, "--wtns", f.wtns, ...out, "--no-zkey-cache");
    assert.equal(off.status, 0, off.stderr);
    const withEnv = spawnSync(airproverBinary(), ["prove", "--zkey", f.zkey, "--wtns", f.wtns, ...out, "--no-zkey-cache"], {
      encoding: "utf8",
      env: { ...process.env, AIRPROVER_ZKEY_CACHE: none },
    });
    assert.equal(withEnv.status, 0, withEnv.stderr);
    assert.deepEqual(readdirSync(none), []);
  });

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
    // Another circuit's witness wasm (and its input): a witness of another length.
    run = airprover("prove", "--zkey", multi.zkey, "--wasm", arrays.wasm, "--input", arrays.input, ...out);
    assert.equal(code(run), "ZKEY_MISMATCH", run.stderr);
    // --wasm/--input and --wtns are two ways to the witness: one at a time.
    run = airprover("prove", "--zkey", multi.zkey, "--wasm", multi.wasm, "--input", multi.input, "--wtns", multi.wtns, ...out);
    assert.equal(code(run), "INVALID_INPUT", run.stderr);
    assert.match(run.stderr, /--wtns|--wasm|--input/);
    run = airprover("prove", "--zkey", multi.zkey, "--wasm", multi.wasm, ...out);
    assert.equal(code(run), "INVALID_INPUT", run.stderr);
    // An input the circuit does not have, and an assert that fails: named, never a value.
    const extra = join(dir, "extra.json");
    writeFileSync(extra, JSON.stringify({ ...readJson(multi.input), nosuch: "987654321987654321" }));
    run = airprover("prove", "--zkey", multi.zkey, "--wasm", multi.wasm, "--input", extra, ...out);
    assert.equal(code(run), "INVALID_INPUT", run.stderr);
    assert.match(run.stderr, /nosuch/);
    assert.doesNotMatch(run.stderr, /987654321987654321/);
    const failing = await circomFixture("assert");
    const zero = join(dir, "zero.json");
    writeFileSync(zero, JSON.stringify({ x: 0 }));
    run = airprover("prove", "--zkey", failing.zkey, "--wasm", failing.wasm, "--input", zero, ...out);
    assert.equal(code(run), "WITNESS_FAILED", run.stderr);
    assert.match(run.stderr, /line/);

    run = airprover("prove", "--zkey", multi.zkey, "--keys", dir, "--wtns", multi.wtns, ...out);
    assert.equal(code(run), "INVALID_INPUT", run.stderr);
    assert.match(run.stderr, /--zkey/);
    run = airprover("verify", "--vkey", multi.vkey, "--keys", dir, "--circuit", "multi", ...out.slice(0, 2), "--public", multi.public);
    assert.equal(code(run), "INVALID_INPUT", run.stderr);
  });
});
