// (c) snarkjs takes the DEVELOPMENT powers of tau of examples/dev_ptau.rs (what `make
// bench-browser` gives snarkjs instead of hours of `powersoftau prepare phase2`): its phase 2
// sections are byte for byte what `prepare phase2` computes from its powers, `groth16 setup`
// accepts it, and proofs made with the key verify, also when the circuit's domain is the file's
// whole size (the H query then comes from the last, truncated block of section 12).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import * as snarkjs from "snarkjs";

import { devPtauBinary, REPO } from "./fixture.mjs";

const POWER = 8;
const CIRCOM = join(import.meta.dirname, "node_modules/circom2/cli.js");

let bin;
let dir;
let ptau;

function devPtau(power, out, seed = 1) {
  execFileSync(bin, ["--power", `${power}`, "--out", out, "--seed", `${seed}`], { stdio: "pipe" });
  return readFileSync(out);
}

/** The sections of a binfileutils container: [{ id, start, end }] in file order. */
function sections(bytes) {
  const list = [];
  let pos = 12;
  for (let i = 0; i < bytes.readUInt32LE(8); i++) {
    const length = Number(bytes.readBigUInt64LE(pos + 4));
    list.push({ id: bytes.readUInt32LE(pos), start: pos + 12, end: pos + 12 + length });
    pos += 12 + length;
  }
  assert.equal(pos, bytes.length, "no bytes after the last section");
  return list;
}

/** The bench's square-chain-`n` circuit (benches/browser/circuits), compiled with circom2. */
function squareChain(n) {
  const out = mkdtempSync(join(dir, `square-chain-${n}-`));
  copyFileSync(join(REPO, "benches/browser/circuits/square_chain.circom"), join(out, "square_chain.circom"));
  writeFileSync(
    join(out, "main.circom"),
    `pragma circom 2.0.0;\ninclude "square_chain.circom";\ncomponent main {public [x0]} = SquareChain(${n});\n`,
  );
  // circom2 runs in WASI and sees its working directory only.
  execFileSync("node", [CIRCOM, "main.circom", "--r1cs", "--wasm", "-o", "."], { cwd: out, stdio: "pipe" });
  return { r1cs: join(out, "main.r1cs"), wasm: join(out, "main_js/main.wasm"), zkey: join(out, "main.zkey") };
}

before(() => {
  bin = devPtauBinary();
  dir = mkdtempSync(join(tmpdir(), "airprover-ptau-"));
  ptau = join(dir, `dev${POWER}.ptau`);
  devPtau(POWER, ptau);
});

// snarkjs keeps a threaded BN254 curve in a global; its workers keep the process alive.
after(async () => {
  await globalThis.curve_bn128?.terminate();
});

describe("snarkjs takes the development powers of tau", () => {
  test("the container: header, sections, no contribution", () => {
    const bytes = readFileSync(ptau);
    assert.equal(bytes.subarray(0, 4).toString(), "ptau");
    assert.equal(bytes.readUInt32LE(4), 1);
    const list = sections(bytes);
    assert.deepEqual(list.map((s) => s.id), [1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15]);
    const header = bytes.subarray(list[0].start, list[0].end);
    assert.equal(header.readUInt32LE(0), 32);
    assert.equal(header.readUInt32LE(36), POWER, "power");
    assert.equal(header.readUInt32LE(40), POWER, "ceremony power");
    const n = 2 ** POWER;
    const points = Object.fromEntries(list.map((s) => [s.id, (s.end - s.start) / ([3, 6, 13].includes(s.id) ? 128 : 64)]));
    assert.deepEqual(points, {
      1: 44 / 64, 2: 2 * n - 1, 3: n, 4: n, 5: n, 6: 1, 7: 4 / 64,
      12: 4 * n - 1, 13: 2 * n - 1, 14: 2 * n - 1, 15: 2 * n - 1,
    });
    assert.equal(bytes.readUInt32LE(list[6].start), 0, "contributions");
  });

  test("the same seed gives the same file, another seed another", () => {
    assert.deepEqual(devPtau(POWER, join(dir, "again.ptau")), readFileSync(ptau));
    assert.notDeepEqual(devPtau(POWER, join(dir, "seed2.ptau"), 2), readFileSync(ptau));
  });

  test("its phase 2 sections are what `powersoftau prepare phase2` computes", async () => {
    const bytes = readFileSync(ptau);
    const list = sections(bytes);
    const kept = list.filter((s) => s.id <= 7);
    const head = Buffer.from(bytes.subarray(0, 12));
    head.writeUInt32LE(kept.length, 8);
    const phase1 = join(dir, "phase1.ptau");
    writeFileSync(phase1, Buffer.concat([head, ...kept.map((s) => bytes.subarray(s.start - 12, s.end))]));
    const prepared = join(dir, "prepared.ptau");
    await snarkjs.powersOfTau.preparePhase2(phase1, prepared);
    assert.ok(readFileSync(prepared).equals(bytes), "prepare phase2 output differs from dev_ptau's");
  });

  // 200 squarings: with the public input and output, snarkjs's domain is 2^8, the file's power.
  // 50: a domain of 2^6, whose H query comes from a whole block.
  for (const n of [200, 50]) {
    test(`groth16 setup, fullProve and verify: square-chain-${n}`, async () => {
      const circuit = squareChain(n);
      const info = await snarkjs.r1cs.info(circuit.r1cs);
      const domain = Math.floor(Math.log2(info.nConstraints + info.nPubInputs + info.nOutputs)) + 1;
      assert.equal(domain, n === 200 ? POWER : 6);
      const csHash = await snarkjs.zKey.newZKey(circuit.r1cs, ptau, circuit.zkey);
      assert.notEqual(csHash, -1, "groth16 setup refused the powers of tau");
      const vk = await snarkjs.zKey.exportVerificationKey(circuit.zkey);
      const { proof, publicSignals } = await snarkjs.groth16.fullProve({ x0: "3" }, circuit.wasm, circuit.zkey);
      assert.equal(publicSignals[1], "3");
      assert.equal(await snarkjs.groth16.verify(vk, publicSignals, proof), true);
      const altered = [publicSignals[0], "4"];
      assert.equal(await snarkjs.groth16.verify(vk, altered, proof), false);
    });
  }
});
