// The demo page: starts the prover worker, proves the sample claim, shows the time.
//
// Keys and the claim are the CLI's (see `make demo`): setup/sample with seed 1.
const CIRCUIT = 'threshold-d20-k8';
const CLAIM_URL = './claim.json';
const PROVING_KEY_URL = `./keys/${CIRCUIT}.pk`;
const VERIFYING_KEY_URL = `./keys/${CIRCUIT}.vk`;

const $ = (id) => document.getElementById(id);

/** Promise-based calls into pkg/prover-worker.js (the message protocol is documented there). */
class ProverWorker {
  constructor(url, { threads = navigator.hardwareConcurrency, build = 'auto' } = {}) {
    this.worker = new Worker(url, { type: 'module' });
    this.pending = new Map();
    this.nextId = 1;
    this.ready = new Promise((resolve, reject) => {
      this.worker.addEventListener('message', ({ data }) => {
        if (data.type === 'airprover:ready') resolve(data);
        else if (data.type === 'airprover:error' && data.id === null) reject(toError(data.error));
        else this.#settle(data);
      });
      this.worker.addEventListener('error', (e) => reject(new Error(e.message)));
    });
    this.worker.postMessage({ type: 'airprover:init', threads, build });
  }

  /** Calls an export of the wasm module in the worker; resolves to `{ value, ms }`. */
  call(fn, args, { onProgress, transfer = [] } = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      this.worker.postMessage({ type: 'airprover:call', id, fn, args }, transfer);
    });
  }

  #settle(data) {
    const call = this.pending.get(data.id);
    if (!call) return;
    if (data.type === 'airprover:progress') return call.onProgress?.(data.progress);
    this.pending.delete(data.id);
    if (data.type === 'airprover:result') call.resolve({ value: data.value, ms: data.ms });
    else if (data.type === 'airprover:error') call.reject(toError(data.error));
  }
}

function toError({ name, code, message, retryable }) {
  return Object.assign(new Error(message), { name, code, retryable });
}

async function fetchBytes(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} (run \`make demo\` to generate it)`);
  return new Uint8Array(await res.arrayBuffer());
}

function fail(id, e) {
  $(id).textContent = `${e.code ? e.code + ': ' : ''}${e.message}`;
  $(id).className = 'error';
  console.error(e);
}

async function prove(worker, claimJson) {
  $('prove').disabled = true;
  $('proof').className = '';
  $('proof').textContent = 'fetching the proving key…';
  try {
    const provingKey = await fetchBytes(PROVING_KEY_URL);
    $('proof').textContent = 'proving…';
    const { value, ms } = await worker.call('prove', [claimJson, provingKey], {
      onProgress: (p) => ($('proof').textContent = `proving… ${JSON.stringify(p)}`),
      transfer: [provingKey.buffer],
    });
    let verified = '';
    try {
      const vk = await fetchBytes(VERIFYING_KEY_URL);
      const ok = await worker.call('verify', [vk, JSON.stringify(value.proof), JSON.stringify(value.publicSignals)]);
      verified = ok.value ? ', verified' : ', DOES NOT VERIFY';
    } catch (e) {
      verified = ` (not verified: ${e.message})`;
    }
    $('proof').textContent = `proved in ${(ms / 1000).toFixed(2)} s${verified}`;
  } catch (e) {
    fail('proof', e);
  } finally {
    $('prove').disabled = false;
  }
}

async function main() {
  $('isolated').textContent = String(self.crossOriginIsolated);
  // ?build=single|threads forces a build (default: threads when the page is isolated).
  const wanted = new URLSearchParams(location.search).get('build') ?? 'auto';
  const worker = new ProverWorker(new URL('./pkg/prover-worker.js', import.meta.url), { build: wanted });
  try {
    const { build, info, ms } = await worker.ready;
    $('build').textContent = `${build}, ${info.threads} thread(s) (hardwareConcurrency ${navigator.hardwareConcurrency}), loaded in ${ms.toFixed(0)} ms`;
  } catch (e) {
    return fail('build', e);
  }
  try {
    $('poseidon').textContent = (await worker.call('poseidonHash', [[1, 2]])).value;
  } catch (e) {
    fail('poseidon', e);
  }
  let claimJson;
  try {
    const res = await fetch(CLAIM_URL);
    if (!res.ok) throw new Error(`${CLAIM_URL}: HTTP ${res.status} (run \`make demo\` to generate it)`);
    claimJson = await res.text();
    $('claim').textContent = `${JSON.parse(claimJson).circuit}, threshold ${JSON.parse(claimJson).threshold}`;
  } catch (e) {
    return fail('claim', e);
  }
  $('prove').addEventListener('click', () => prove(worker, claimJson));
  await prove(worker, claimJson);
}

main();
