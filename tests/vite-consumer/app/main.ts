// Proves /claim.json with the keys of /keys/manifest.json: the README's usage example, typed.
// `tsc --noEmit` (strict) checks it against the package's declarations.
import {
  createProver,
  solidityCalldata,
  type AirproverError,
  type Claim,
  type Progress,
  type SolidityCalldata,
} from 'airprover';

declare global {
  interface Window {
    consumerResult?:
      | { publicSignals: string[]; proof: object; build: string; stages: string[]; calldataClaimant: string }
      | { error: string };
  }
}

const show = (text: string) => (document.querySelector('#status')!.textContent = text);
try {
  const prover = await createProver({ manifestUrl: '/keys/manifest.json' });
  const claim: Claim = await (await fetch('/claim.json')).json();
  const job = prover.submit(claim, { priority: 'HIGH' });
  const stages: string[] = [];
  job.progress.subscribe(({ stage, percent }: Progress) => {
    stages.push(stage);
    show(`${stage} ${Math.round(percent)}%`);
  });
  const { proof, publicSignals } = await job.result;
  const { build, reason } = prover.status.value;
  show(`verified (${build}: ${reason})`);
  // The proof as `claim(pA, pB, pC, pubSignals)` arguments for viem or ethers (bigints).
  const calldata: SolidityCalldata = solidityCalldata(proof, publicSignals);
  const [, , , signals]: SolidityCalldata['args'] = calldata.args;
  const calldataClaimant: string = signals[2].toString();
  window.consumerResult = { proof, publicSignals, build, stages: [...new Set(stages)], calldataClaimant };
  prover.terminate();
} catch (e) {
  const { code, message } = e as AirproverError;
  show(`${code}: ${message}`);
  window.consumerResult = { error: `${code}: ${message}` };
}

export {};
