// airprover: Groth16 (BN254) reputation-claim proofs in the browser.
//
//   import { createProver } from 'airprover';
//   const prover = await createProver({ manifestUrl: '/keys/manifest.json' });
//   const job = prover.submit(claim, { priority: 'HIGH', onProgress: (p) => console.log(p) });
//   const { proof, publicSignals } = await job.result;
//
// The runtime (queue, scheduling, retries, fallbacks) is Rust: the single-threaded build of the
// wasm module, instantiated here on the page's thread, where it never proves. Proofs run in
// module Workers (prover-worker.js), each with the threaded build when the page is cross-origin
// isolated and the single-threaded one otherwise. The `new URL(..., import.meta.url)` forms below
// are the ones bundlers (Vite, webpack) detect and rewrite: keep them literal.
import initWasm, { Runtime } from './single/airprover.js';
import { RemoteLink, remoteOptions } from './remote.js';

// The standalone functions of the page-side module and its CampaignTree (typed in index.d.ts);
// call `init()` first. The runtime's own classes (Runtime, Job, Readable) are reached through
// `createProver` only.
export {
  setup,
  prove,
  verify,
  verificationKeyJson,
  keyCircuit,
  poseidonHash,
  CampaignTree,
  thresholdCircuits,
  smallestCircuit,
  solidityVerifier,
  solidityCalldata,
  verifySnarkjs,
  zkeyVerificationKey,
} from './single/airprover.js';

let ready = null;

/** Instantiates the page-side wasm module once. */
function loadRuntimeModule() {
  ready ??= initWasm({ module_or_path: new URL('./single/airprover_bg.wasm', import.meta.url) });
  return ready;
}

/**
 * Instantiates the page-side wasm module, once: the standalone functions (`poseidonHash`,
 * `verify`, ...) need it; `createProver` does it itself.
 * @returns {Promise<void>}
 */
export async function init() {
  await loadRuntimeModule();
}

/** Starts a new prover worker: the literal form bundlers detect. */
function spawnWorker() {
  return new Worker(new URL('./prover-worker.js', import.meta.url), { type: 'module' });
}

/**
 * Creates the proof runtime. See the README for every option; `manifestUrl` is required.
 * @param {import('./index').ProverOptions} options
 * @returns {Promise<import('./index').Prover>}
 */
export async function createProver(options) {
  await loadRuntimeModule();
  if (options?.remote === undefined) return Runtime.create(options, spawnWorker);
  // Opt-in: the runtime may send jobs to an operator's server (remote.js carries its requests),
  // the claim's secret with them.
  const { remote, ...local } = options;
  const checked = remoteOptions(remote);
  // Pinned worker keys go into WebCrypto now: a browser without Ed25519 fails here, not at the
  // first result.
  await checked.workerKeys?.ready();
  return Runtime.create(local, spawnWorker, new RemoteLink(checked));
}
