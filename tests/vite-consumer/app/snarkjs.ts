// The snarkjs migration: `import { groth16 } from 'airprover/snarkjs'` where the app had
// `import { groth16 } from 'snarkjs'`, nothing else changed. Proves /circom/input.json with
// /circom/circuit.wasm and /circom/circuit.zkey (URLs, as snarkjs takes them), and
// /circom/witness.wtns with `groth16.prove`; the test then verifies the proofs with snarkjs
// itself in this page. `tsc --noEmit` (strict) checks it.
import { groth16, terminate, type Groth16Proof } from 'airprover/snarkjs';

declare global {
  interface Window {
    snarkjsResult?:
      | {
          proof: Groth16Proof;
          publicSignals: string[];
          verified: boolean;
          calldata: string;
          again: string[];
          fromWtns: { proof: Groth16Proof; publicSignals: string[] };
        }
      | { error: string };
  }
}

const show = (text: string) => (document.querySelector('#status')!.textContent = text);
try {
  const input: Record<string, unknown> = await (await fetch('/circom/input.json')).json();
  const vkey: object = await (await fetch('/circom/verification_key.json')).json();
  show('proving');
  const { proof, publicSignals } = await groth16.fullProve(input, '/circom/circuit.wasm', '/circom/circuit.zkey');
  const verified: boolean = await groth16.verify(vkey, publicSignals, proof);
  const calldata: string = await groth16.exportSolidityCallData(proof, publicSignals);
  // Bytes, as snarkjs also takes them: the same circuit, so the same prover.
  const bytes = async (url: string) => new Uint8Array(await (await fetch(url)).arrayBuffer());
  const again = await groth16.fullProve(input, await bytes('/circom/circuit.wasm'), await bytes('/circom/circuit.zkey'));
  // A ready witness (snarkjs's .wtns): snarkjs's groth16.prove(zkey, wtns).
  const fromWtns = await groth16.prove('/circom/circuit.zkey', '/circom/witness.wtns');
  show(`done (${verified ? 'verified' : 'NOT verified'})`);
  window.snarkjsResult = { proof, publicSignals, verified, calldata, again: again.publicSignals, fromWtns };
  await terminate();
} catch (e) {
  const { code, message } = e as { code?: string; message: string };
  show(`${code}: ${message}`);
  window.snarkjsResult = { error: `${code}: ${message}` };
}

export {};
