// @ts-check
// The page side of `make bench-browser`: run.mjs calls these through page.evaluate.
//
// airprover runs through the package's own worker path: pkg/prover-worker.js with the `build`
// asked for, jobs as the runtime sends them (`airprover:job`), so the key is downloaded, checked
// and parsed once (LoadedKey) and stays in the worker's memory for the runs after it. Stage
// times are the moments the worker's progress messages arrive here.
// snarkjs runs as its docs show (`groth16.fullProve` on the page, its own workers), with the
// circuit's wasm and zkey fetched once and handed over from memory.
//
// The messages are the runtime's page-worker protocol (src/runtime/protocol.rs), checked against
// its declarations (src/js/protocol.d.ts) by the browser suite's typecheck (tsconfig.bench.json).

/** @typedef {import('../../src/js/protocol').PageMessage} PageMessage */
/** @typedef {import('../../src/js/protocol').WorkerMessage} WorkerMessage */
/** @typedef {import('../../src/js/protocol').JobMessage} JobMessage */
/** @typedef {import('../../src/js/protocol').KeyMessage} KeyMessage */

/** Every message to the worker goes through here, so each is checked against the protocol. */
function post(/** @type {Worker} */ worker, /** @type {PageMessage} */ message) {
  worker.postMessage(message);
}

/**
 * The first message of `worker` that `pred` accepts; rejects on an error message or event.
 * @template {WorkerMessage} M
 * @param {Worker} worker
 * @param {(m: WorkerMessage) => m is M} pred
 * @returns {Promise<M>}
 */
function waitFor(worker, pred) {
  return new Promise((resolve, reject) => {
    const onMessage = (/** @type {MessageEvent<WorkerMessage>} */ { data }) => {
      if (data?.type === 'airprover:error' || data?.type === 'airprover:job-error') {
        cleanup();
        reject(new Error(`${data.error.code}: ${data.error.message}`));
      } else if (pred(data)) {
        cleanup();
        resolve(data);
      }
    };
    const onError = (/** @type {ErrorEvent} */ e) => {
      cleanup();
      reject(new Error(`worker error: ${e.message}`));
    };
    const cleanup = () => {
      worker.removeEventListener('message', onMessage);
      worker.removeEventListener('error', onError);
    };
    worker.addEventListener('message', onMessage);
    worker.addEventListener('error', onError);
  });
}

/**
 * One job: resolves with its stage marks (ms since the job was posted) and the result.
 * @param {Worker} worker
 * @param {number} id
 * @param {{ circuit: string, claim: object, key: KeyMessage }} job
 */
function job(worker, id, { circuit, claim, key }) {
  /** @type {JobMessage} */
  const message = { type: 'airprover:job', id, attempt: 1, circuit, claim: JSON.stringify(claim), key, storage: null };
  const start = performance.now();
  /** @type {[string, number][]} */
  const stages = [];
  const onProgress = (/** @type {MessageEvent<WorkerMessage>} */ { data }) => {
    if (data?.type === 'airprover:job-progress' && data.id === id && data.progress.fraction !== undefined) {
      const last = stages[stages.length - 1];
      if (!last || last[0] !== data.progress.stage) stages.push([data.progress.stage, performance.now() - start]);
    }
  };
  worker.addEventListener('message', onProgress);
  post(worker, message);
  /** @type {(d: WorkerMessage) => d is import('../../src/js/protocol').JobResultMessage} */
  const isResult = (d) => d.type === 'airprover:job-result' && d.id === id;
  return waitFor(worker, isResult).then((d) => {
    worker.removeEventListener('message', onProgress);
    return { totalMs: performance.now() - start, stages, value: d.value, memoryBytes: d.memoryBytes };
  });
}

/**
 * `runs` + 1 proofs of `input` with the key at `key` in one prover worker of `build` (the first,
 * cold, with the key's load split off).
 * @param {{ build: import('../../src/js/protocol').Build, threads: number, key: KeyMessage,
 *   input: { circuit: string }, runs: number }} bench
 */
async function airproverBench({ build, threads, key, input, runs }) {
  const worker = new Worker('/pkg/prover-worker.js', { type: 'module' });
  try {
    const initStart = performance.now();
    post(worker, { type: 'airprover:init', threads, build });
    /** @type {(d: WorkerMessage) => d is import('../../src/js/protocol').ReadyMessage} */
    const isReady = (d) => d.type === 'airprover:ready';
    const ready = await waitFor(worker, isReady);
    const initMs = performance.now() - initStart;
    const out = {
      build: ready.build,
      info: ready.info,
      initMs,
      keyLoadMs: NaN,
      /** @type {{ totalMs: number, stages: [string, number][] }[]} */
      runs: [],
      memoryBytes: 0,
      /** @type {string[]} */
      publicSignals: [],
    };
    for (let i = 0; i <= runs; i++) {
      const { value, memoryBytes, ...r } = await job(worker, i + 1, { circuit: input.circuit, claim: input, key });
      if (i === 0) {
        // The cold job also downloads, checks and parses the key: split it off.
        const first = r.stages.find(([s]) => s !== 'loading-keys');
        out.keyLoadMs = first ? first[1] : NaN;
        r.stages = r.stages
          .filter(([s]) => s !== 'loading-keys')
          .map(([s, at]) => /** @type {[string, number]} */ ([s, at - out.keyLoadMs]));
        r.totalMs -= out.keyLoadMs;
      }
      out.memoryBytes = Math.max(out.memoryBytes, memoryBytes ?? 0);
      out.publicSignals = value.publicSignals;
      out.runs.push(r);
    }
    return out;
  } finally {
    worker.terminate();
  }
}

/** @param {string} url */
async function bytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * `runs` + 1 proofs of `input` by snarkjs's `groth16.fullProve` (window.snarkjs, page.html loads it).
 * @param {{ wasmUrl: string, zkeyUrl: string, input: object, runs: number, singleThread: boolean }} bench
 */
async function snarkjsBench({ wasmUrl, zkeyUrl, input, runs, singleThread }) {
  const { snarkjs } = /** @type {any} */ (window);
  const loadStart = performance.now();
  const wasm = await bytes(wasmUrl);
  const zkey = await bytes(zkeyUrl);
  const keyLoadMs = performance.now() - loadStart;
  const out = {
    keyLoadMs,
    zkeyBytes: zkey.length,
    /** @type {{ totalMs: number }[]} */
    runs: [],
    /** @type {string[]} */
    publicSignals: [],
  };
  for (let i = 0; i <= runs; i++) {
    const start = performance.now();
    const { publicSignals } = await snarkjs.groth16.fullProve(
      input,
      { type: 'mem', data: wasm },
      { type: 'mem', data: zkey },
      undefined,
      {},
      { singleThread },
    );
    out.runs.push({ totalMs: performance.now() - start });
    out.publicSignals = publicSignals;
  }
  return out;
}

// What run.mjs calls through page.evaluate, and the flag it waits for.
Object.assign(window, { airproverBench, snarkjsBench, benchReady: true });
