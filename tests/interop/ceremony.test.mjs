// Production keys for our own circuits (issue 30, item 6): `airprover export-r1cs` writes the
// circuit as circom's .r1cs and snarkjs's ceremony commands take it unchanged, the same commands
// the README's "Production keys" section gives: `r1cs info`, `groth16 setup` with a powers of tau
// (the project's DEVELOPMENT one from examples/dev_ptau.rs: the public download cannot be fetched
// offline), `zkey contribute`, `zkey beacon` and `zkey verify circuit.r1cs pot.ptau final.zkey`.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";

import { airproverOk, devPtauBinary } from "./fixture.mjs";

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
});
