// A circom circuit's proof from airprover, accepted on-chain by the verifier snarkjs exports from
// the same zkey (issue 30, item 2): on the shared circom fixtures (tests/interop/circom-fixtures.mjs:
// circom2, `snarkjs groth16 setup` and one contribution, `zkey export solidityverifier`),
// `airprover prove --zkey circuit.zkey --wtns witness.wtns`, its `calldata` (what `snarkjs zkey
// export soliditycalldata` prints), and snarkjs's verifier.sol on a real EVM (anvil): the proof
// accepted, a changed public signal rejected.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import * as snarkjs from "snarkjs";

import { circomFixture } from "../../tests/interop/circom-fixtures.mjs";
import { startAnvil } from "../lib/anvil.mjs";
import { connect } from "../lib/chain.mjs";
import { deploySnarkjsVerifier, withSignalChanged } from "../lib/circom-verifier.mjs";
import { airprover, calldataOf, readJson, scratch } from "./fixture.mjs";

let anvil;
let chain;
let dir;

before(async () => {
  dir = scratch();
  anvil = await startAnvil();
  chain = connect(anvil.url, anvil.devKeys[0]);
});

after(async () => {
  await anvil?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  await globalThis.curve_bn128?.terminate();
});

describe("snarkjs's exported verifier accepts airprover's proofs of circom circuits", () => {
  // `multi`: several public outputs and inputs; `arrays`: array inputs; `claim-d20-k8`: the
  // claim statement in circom, 41,986 constraints (2^16 domain).
  for (const name of ["multi", "arrays", "claim-d20-k8"]) {
    test(name, async () => {
      const f = await circomFixture(name);
      const proof = join(dir, `${name}.proof.json`);
      const pub = join(dir, `${name}.public.json`);
      airprover("prove", "--zkey", f.zkey, "--wtns", f.wtns, "--proof", proof, "--public", pub);
      assert.deepEqual(readJson(pub), readJson(f.public), "snarkjs's public signals");
      const call = calldataOf(proof, pub);
      assert.equal(call.text, await snarkjs.groth16.exportSolidityCallData(readJson(proof), readJson(pub)));
      assert.equal(call.args[3].length, f.info.publicSignals);

      const { verifyProof } = await deploySnarkjsVerifier(chain, f.verifier, `${name}/verifier.sol`);
      assert.equal(await verifyProof(call.args), true, "airprover's proof");
      // The contract is the zkey's: snarkjs's own proof of the same input passes too.
      assert.equal(await verifyProof(calldataOf(f.proof, f.public).args), true, "snarkjs's proof");
      for (let i = 0; i < call.args[3].length; i++) {
        assert.equal(await verifyProof(withSignalChanged(call.args, i)), false, `public signal ${i} changed`);
      }
    });
  }
});
