// Production keys for our own circuits (issue 30, item 6): `airprover export-r1cs` writes the
// circuit as circom's .r1cs and snarkjs's ceremony commands take it unchanged, the same commands
// the README's "Production keys" section gives: `r1cs info`, `groth16 setup` with a powers of tau
// (the project's DEVELOPMENT one from examples/dev_ptau.rs: the public download cannot be fetched
// offline), `zkey contribute`, `zkey beacon` and `zkey verify circuit.r1cs pot.ptau final.zkey`.
// Then `airprover import-zkey` turns the final zkey into our keys: a claim proved with them
// verifies with our `verify`, with `snarkjs groth16 verify` and the zkey's own verification key,
// and on a real EVM (anvil, contracts/lib) with the verifier `export-verifier` writes; a zkey of
// another circuit is ZKEY_MISMATCH.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import * as snarkjsApi from "snarkjs";

import { parseCalldata } from "../../contracts/lib/airprover.mjs";
import { startAnvil } from "../../contracts/lib/anvil.mjs";
import { connect, deploy } from "../../contracts/lib/chain.mjs";
import { compileVerifier } from "../../contracts/lib/compile.mjs";
import { circomFixture } from "./circom-fixtures.mjs";
import { airprover, airproverOk, devPtauBinary, readJson } from "./fixture.mjs";

const CIRCUIT = "threshold-d4-k2";
const SNARKJS = join(import.meta.dirname, "node_modules/snarkjs/build/cli.cjs");

let dir;
let files;

/** snarkjs's command line, as a ceremony participant runs it; throws unless it exits 0. */
function snarkjs(...args) {
  const run = spawnSync("node", [SNARKJS, ...args], { encoding: "utf8" });
  if (run.error) throw run.error;
  // Its logger colours every line; the tests read the words.
  const output = `${run.stdout}${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, "");
  assert.equal(run.status, 0, `snarkjs ${args.join(" ")} exited ${run.status}: ${output}`);
  return output;
}

// snarkjs keeps a threaded BN254 curve in a global; its workers keep the process alive.
after(async () => {
  await globalThis.curve_bn128?.terminate();
});

before(() => {
  dir = mkdtempSync(join(tmpdir(), "airprover-ceremony-"));
  files = {
    r1cs: join(dir, "circuit.r1cs"),
    zkey0: join(dir, "circuit_0000.zkey"),
    zkey1: join(dir, "circuit_0001.zkey"),
    final: join(dir, "circuit_final.zkey"),
  };
});

describe(`a ceremony for ${CIRCUIT}`, () => {
  let exported;

  test("export-r1cs writes circom's .r1cs: snarkjs r1cs info reads our counts", () => {
    exported = airproverOk("export-r1cs", "--circuit", CIRCUIT, "--out", files.r1cs).stdout;
    const [, constraints, wires, inputs, power] = exported.match(
      /(\d+) constraints, (\d+) wires, (\d+) public inputs in .*power (\d+) or more/,
    );
    const info = snarkjs("r1cs", "info", files.r1cs);
    const count = (what) => Number(info.match(new RegExp(`# of ${what}: (\\d+)`))[1]);
    assert.match(info, /Curve: bn-128/);
    assert.equal(count("Constraints"), Number(constraints));
    assert.equal(count("Wires"), Number(wires));
    assert.equal(count("Public Inputs"), 5, "the claim's five public signals, as nPubIn");
    assert.equal(Number(inputs), 5);
    assert.equal(count("Outputs"), 0);
    assert.equal(count("Private Inputs"), 0);
    assert.equal(count("Labels"), Number(wires));
    // snarkjs's domain: 2^power >= constraints + public inputs + 1.
    const rows = Number(constraints) + 5 + 1;
    assert.ok(2 ** Number(power) >= rows && 2 ** (Number(power) - 1) < rows, exported);
    files.power = Number(power);
  });

  test("groth16 setup, zkey contribute, zkey beacon and zkey verify succeed on it", () => {
    assert.ok(files.power, "export-r1cs ran");
    files.ptau = join(dir, `dev${files.power}.ptau`);
    execFileSync(devPtauBinary(), ["--power", `${files.power}`, "--out", files.ptau], { stdio: "pipe" });
    snarkjs("groth16", "setup", files.r1cs, files.ptau, files.zkey0);
    snarkjs("zkey", "contribute", files.zkey0, files.zkey1, "--name=first", "-e=ceremony test entropy");
    snarkjs(
      "zkey", "beacon", files.zkey1, files.final,
      "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "10", "-n=final beacon",
    );
    const verified = snarkjs("zkey", "verify", files.r1cs, files.ptau, files.final);
    assert.match(verified, /ZKey Ok!/);
    assert.match(verified, /contribution #2 final beacon/);
    assert.match(verified, /contribution #1 first/);
  });

  // The README's step 4, then what the keys are for.
  const keys = () => join(dir, "keys");
  const code = (run) => run.stderr.split(":")[0];

  test("import-zkey refuses the zkey before any contribution: delta is the generator", () => {
    assert.ok(files.ptau, "the ceremony ran");
    const run = airprover("import-zkey", "--circuit", CIRCUIT, "--zkey", files.zkey0, "--out", keys());
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /^INVALID_INPUT: --zkey: the zkey has no phase-2 randomness[^\n]*\n$/);
  });

  test("import-zkey stores the final zkey as ceremony keys of our circuit", () => {
    const run = airproverOk("import-zkey", "--circuit", CIRCUIT, "--zkey", files.final, "--out", keys());
    const sha256 = createHash("sha256").update(readFileSync(files.final)).digest("hex");
    assert.equal(
      run.stdout,
      `${CIRCUIT}: ceremony keys in ${keys()} (zkey SHA-256 ${sha256}; phase-2 contributions: #1 first, #2 final beacon (beacon))\n`,
    );
    assert.match(run.stderr, /snarkjs zkey verify/);
    const { circuits } = readJson(join(keys(), "manifest.json"));
    const entry = circuits.find((c) => c.id === CIRCUIT);
    assert.equal(entry.development, false);
    assert.equal(entry.warning, undefined);
    assert.deepEqual(entry.ceremony, { zkeySha256: sha256 });
    assert.equal(entry.publicInputs, 5);
    // Our verifying key is the zkey's: export-vk writes what snarkjs exports from it.
    const ours = join(dir, "ours.vk.json");
    const theirs = join(dir, "verification_key.json");
    airproverOk("export-vk", "--keys", keys(), "--circuit", CIRCUIT, "--format", "snarkjs", "--out", ours);
    snarkjs("zkey", "export", "verificationkey", files.final, theirs);
    const fields = ["protocol", "curve", "nPublic", "vk_alpha_1", "vk_beta_2", "vk_gamma_2", "vk_delta_2", "IC"];
    const pick = (vk) => Object.fromEntries(fields.map((f) => [f, vk[f]]));
    assert.deepEqual(pick(readJson(ours)), pick(readJson(theirs)));
    files.vkey = theirs;
  });

  test("a claim proved with the imported keys verifies: our verify, snarkjs, and on anvil", async () => {
    assert.ok(files.vkey, "import-zkey ran");
    const claim = join(dir, "claim.json");
    const proof = join(dir, "proof.json");
    const pub = join(dir, "public.json");
    airproverOk("sample", "--circuit", CIRCUIT, "--out", claim, "--attestations", "12", "--seed", "5");
    airproverOk("prove", "--keys", keys(), "--input", claim, "--proof", proof, "--public", pub);
    airproverOk("verify", "--keys", keys(), "--circuit", CIRCUIT, "--proof", proof, "--public", pub);
    assert.equal(await snarkjsApi.groth16.verify(readJson(files.vkey), readJson(pub), readJson(proof)), true);
    // snarkjs's own CLI too, as the README has a reader run it.
    assert.match(snarkjs("groth16", "verify", files.vkey, pub, proof), /OK!/);

    const verifier = join(dir, "Verifier.sol");
    const exported = airproverOk("export-verifier", "--keys", keys(), "--circuit", CIRCUIT, "--out", verifier);
    assert.doesNotMatch(exported.stderr, /development key/);
    const anvil = await startAnvil();
    try {
      const chain = connect(anvil.url, anvil.devKeys[0]);
      const artifact = compileVerifier(readFileSync(verifier, "utf8"));
      const { address } = await deploy(chain, artifact);
      const verifyProof = (args) =>
        chain.publicClient.readContract({ address, abi: artifact.abi, functionName: "verifyProof", args });
      const args = parseCalldata(airproverOk("calldata", "--proof", proof, "--public", pub).stdout);
      assert.equal(await verifyProof(args), true);
      const tampered = structuredClone(args);
      tampered[3][4] -= 1n; // the threshold
      assert.equal(await verifyProof(tampered), false);
    } finally {
      await anvil.stop();
    }
  });

  test("a zkey of another circuit is ZKEY_MISMATCH", async () => {
    assert.ok(files.ptau, "the ceremony ran");
    const other = join(dir, "other-keys");
    // Our final zkey for another of our circuits, and a circom circuit's zkey for ours.
    let run = airprover("import-zkey", "--circuit", "exact-d4-k2", "--zkey", files.final, "--out", other);
    assert.equal(code(run), "ZKEY_MISMATCH", run.stderr);
    run = airprover("import-zkey", "--circuit", "threshold-d5-k2", "--zkey", files.final, "--out", other);
    assert.equal(code(run), "ZKEY_MISMATCH", run.stderr);
    const multi = await circomFixture("multi");
    run = airprover("import-zkey", "--circuit", CIRCUIT, "--zkey", multi.zkey, "--out", other);
    assert.equal(code(run), "ZKEY_MISMATCH", run.stderr);
    assert.match(run.stderr, /a zkey of another circuit/);
    // The final zkey with one A/B coefficient changed (a valid scalar): the counts agree, a row
    // does not.
    const changed = join(dir, "changed.zkey");
    writeFileSync(changed, withCoefficientChanged(readFileSync(files.final)));
    run = airprover("import-zkey", "--circuit", CIRCUIT, "--zkey", changed, "--out", other);
    assert.equal(code(run), "ZKEY_MISMATCH", run.stderr);
    assert.match(run.stderr, /row \d+ of [AB] differs/);
    assert.equal(existsSync(other), false, "nothing was written");
  });
});

/**
 * A copy of a zkey with the value of the first entry of section 4 (coefficients) replaced by
 * another value below r (the container: magic, version, section count, then id u32, length u64,
 * body; an entry: matrix, row, signal (u32 each), value (32 bytes)).
 */
function withCoefficientChanged(bytes) {
  const out = Buffer.from(bytes);
  let at = 12;
  for (;;) {
    const id = out.readUInt32LE(at);
    const length = Number(out.readBigUInt64LE(at + 4));
    if (id === 4) {
      const value = at + 12 + 4 + 12;
      // 5 (or 6 if it was 5): below r, so read as a valid coefficient of another value.
      const five = out[value] === 5 && out.subarray(value + 1, value + 32).every((b) => b === 0);
      out.fill(0, value, value + 32);
      out[value] = five ? 6 : 5;
      return out;
    }
    at += 12 + length;
  }
}
