// The verifier snarkjs exports from a circom circuit's zkey (`snarkjs zkey export
// solidityverifier`) on a node: compiled with solcjs, deployed, called. The native CLI's proofs
// (test/circom-verifier.test.mjs) and the browser's (tests/browser/circom.test.mjs) go through it.
import { readFileSync } from "node:fs";

import { deploy } from "./chain.mjs";
import { compileVerifier } from "./compile.mjs";

// BN254's scalar field: a public signal is a number below it.
export const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/**
 * Compiles snarkjs's verifier.sol at `path` (as compilation unit `unit`) and deploys it with
 * `chain` (lib/chain.mjs `connect`). Resolves to { address, verifyProof(args) }: `args` as
 * lib/airprover.mjs `parseCalldata` makes them; `verifyProof` resolves to the contract's answer.
 */
export async function deploySnarkjsVerifier(chain, path, unit) {
  const artifact = compileVerifier(readFileSync(path, "utf8"), unit);
  const { address } = await deploy(chain, artifact);
  const verifyProof = (args) =>
    chain.publicClient.readContract({ address, abi: artifact.abi, functionName: "verifyProof", args });
  return { address, verifyProof };
}

/** `args` with public signal `i` one more (mod r): the same proof of another statement. */
export function withSignalChanged(args, i) {
  const tampered = structuredClone(args);
  tampered[3][i] = (tampered[3][i] + 1n) % R;
  return tampered;
}
