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

/** @param {Uint8Array<ArrayBuffer>} bytes */
async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The same-key rows: airprover and snarkjs on the very same zkey and witness wasm bytes, in this
 * one page, their proofs interleaved (airprover's, then snarkjs's, `runs` + 1 times), each
 * `fullProve` from the input (witness included). airprover goes through its public API: a
 * prover from `createProver` on a format 2 manifest with one `circom` entry of blob: URLs, as
 * `airprover/snarkjs`'s `groth16.fullProve` makes it (src/js/snarkjs.js), with two options that
 * call cannot take: the build asked for, and `storage: false`. With its default storage a second
 * `fullProve` of the same input is answered from the proof cache, which would time the cache,
 * and the runtime picks the threaded build on a cross-origin isolated page. What the public API
 * does beyond the prover's own bench row is in these times: circom's witness wasm, the witness's
 * synthesis and constraint check, the worker's self-check and the page's check against the
 * manifest's verifying key, and the messages between page and worker.
 *
 * Stage marks come from the job's `onProgress` (the public stages: `start` up to the witness, the
 * queue and the key's lookup; `witness` circom's witness wasm, then the synthesis and the
 * constraint check; `proving` the QAP and the MSMs; `verifying`
 * the worker's check, then the page's). The cold job also starts the worker, "downloads" the
 * blob: URLs and converts the zkey (every point checked): split off as `keyLoadMs`. Apart from
 * the proofs, each round times circom's witness wasm alone on this page: airprover's
 * `circomWitness` (the code the worker runs; the wasm compiled once, as the worker keeps it) and
 * snarkjs's `wtns.calculate` (which compiles the wasm on every call, as its `fullProve` does).
 * @param {{ build: 'single' | 'threaded', threads: number, wasmUrl: string, zkeyUrl: string,
 *   input: object, runs: number }} bench
 */
async function sameKeyBench({ build, threads, wasmUrl, zkeyUrl, input, runs }) {
  const { snarkjs } = /** @type {any} */ (window);
  // Plain strings: the package is served from /pkg/, not resolved by the typecheck.
  const indexUrl = '/pkg/index.js';
  const singleUrl = '/pkg/single/airprover.js';
  const airprover = /** @type {any} */ (await import(indexUrl));
  const wasmModule = /** @type {any} */ (await import(singleUrl));
  const wasm = await bytes(wasmUrl);
  const zkey = await bytes(zkeyUrl);
  await airprover.init();

  const blobs = /** @type {string[]} */ ([]);
  const blobUrl = (/** @type {Uint8Array<ArrayBuffer>} */ b, /** @type {string} */ type) => {
    const url = URL.createObjectURL(new Blob([b], { type }));
    blobs.push(url);
    return url;
  };
  const file = async (/** @type {Uint8Array<ArrayBuffer>} */ b, /** @type {string} */ type) => ({ name: blobUrl(b, type), bytes: b.length, sha256: await sha256Hex(b) });
  const vkey = new TextEncoder().encode(JSON.stringify(airprover.zkeyVerificationKey(zkey)));
  const id = `z${(await sha256Hex(zkey)).slice(0, 40)}`;
  const manifest = {
    format: 2,
    circuits: [
      {
        id,
        kind: 'circom',
        zkey: await file(zkey, 'application/octet-stream'),
        wasm: await file(wasm, 'application/wasm'),
        verifyingKey: await file(vkey, 'application/json'),
      },
    ],
  };
  const manifestUrl = blobUrl(new TextEncoder().encode(JSON.stringify(manifest)), 'application/json');
  // One worker that stays up between proofs (snarkjs's singleThread proof takes longer than the
  // default idle timeout), no retries: a failure is a failure of the bench.
  const prover = await airprover.createProver({ manifestUrl, build, threads, storage: false, workers: 1, idleTimeoutMs: 3_600_000, maxRetries: 0 });
  const compiled = await WebAssembly.compile(wasm);
  const out = {
    build: '',
    threads: 0,
    keyLoadMs: NaN,
    zkeyBytes: zkey.length,
    /** @type {{ totalMs: number, stages: [string, number][] }[]} */
    airprover: [],
    /** @type {{ totalMs: number }[]} */
    snarkjs: [],
    /** @type {{ airproverMs: number, snarkjsMs: number }[]} */
    witness: [],
    /** @type {string[]} */
    publicSignals: [],
    /** @type {string[]} */
    snarkjsPublicSignals: [],
  };
  try {
    for (let i = 0; i <= runs; i++) {
      /** @type {[string, number][]} */
      const stages = [];
      const start = performance.now();
      const job = prover.submit(
        { circuit: id, input },
        {
          onProgress: (/** @type {{ stage: string }} */ p) => {
            const last = stages[stages.length - 1];
            if (!last || last[0] !== p.stage) stages.push([p.stage, performance.now() - start]);
          },
        },
      );
      const { publicSignals } = await job.result;
      let totalMs = performance.now() - start;
      // Up to the witness: the queue and the key's lookup (`queued`, `download`), one `start`
      // stage; a `done` mark comes with the result.
      const witnessAt = stages.find(([s]) => s === 'witness')?.[1] ?? NaN;
      /** @type {[string, number][]} */
      let marks = [['start', 0], ...stages.filter(([s, at]) => at >= witnessAt && s !== 'done')];
      if (i === 0) {
        // The cold job also starts the worker, reads the blob: URLs and converts the zkey (every
        // point checked): split off up to the witness.
        out.keyLoadMs = witnessAt;
        marks = marks.slice(1).map(([s, at]) => [s, at - witnessAt]);
        totalMs -= witnessAt;
      }
      out.airprover.push({ totalMs, stages: marks });
      out.publicSignals = publicSignals;

      const snarkStart = performance.now();
      const proved = await snarkjs.groth16.fullProve(input, { type: 'mem', data: wasm }, { type: 'mem', data: zkey }, undefined, {}, { singleThread: build === 'single' });
      out.snarkjs.push({ totalMs: performance.now() - snarkStart });
      out.snarkjsPublicSignals = proved.publicSignals;

      const ours = performance.now();
      wasmModule.circomWitness(compiled, input);
      const airproverMs = performance.now() - ours;
      const theirs = performance.now();
      const wtns = { type: 'mem' };
      await snarkjs.wtns.calculate(input, { type: 'mem', data: wasm }, wtns);
      out.witness.push({ airproverMs, snarkjsMs: performance.now() - theirs });
    }
    // After the proofs: THREADS_UNAVAILABLE shows only once a worker has come up.
    const status = prover.status.value;
    out.build = status.code ? `${status.build} (${status.code})` : status.build;
    out.threads = status.threads;
  } finally {
    prover.terminate();
    for (const url of blobs) URL.revokeObjectURL(url);
  }
  return out;
}

// What run.mjs calls through page.evaluate, and the flag it waits for.
Object.assign(window, { airproverBench, snarkjsBench, sameKeyBench, benchReady: true });
