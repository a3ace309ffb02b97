// airprover/snarkjs: snarkjs's `groth16` API over airprover's runtime (src/js/snarkjs.js).

import type { CircomInput } from './index.js';

/** A file as snarkjs takes it: a URL, or its bytes. */
export type FileInput = string | URL | Uint8Array | ArrayBuffer;

/** snarkjs's `proof.json`. */
export interface Groth16Proof {
  pi_a: string[];
  pi_b: string[][];
  pi_c: string[];
  protocol: 'groth16';
  curve: 'bn128';
}

export declare const groth16: {
  /** The witness from circom's witness wasm, then the proof, in airprover's workers. */
  fullProve(input: CircomInput, wasm: FileInput, zkey: FileInput): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
  /** A ready witness (snarkjs's `.wtns`) proved in airprover's workers: ZKEY_MISMATCH for another circuit's witness, INVALID_INPUT for a damaged one. */
  prove(zkey: FileInput, wtns: FileInput): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
  /** Whether the proof verifies against snarkjs's `verification_key.json`. */
  verify(vkey: object | string, publicSignals: string[], proof: Groth16Proof | string): Promise<boolean>;
  /** `verifyProof`'s arguments, exactly as snarkjs's `exportSolidityCallData` writes them. */
  exportSolidityCallData(proof: Groth16Proof | string, publicSignals: string[]): Promise<string>;
};

/** Ends the provers made by `groth16` (their workers). */
export declare function terminate(): Promise<void>;
