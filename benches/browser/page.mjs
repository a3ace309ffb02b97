// The page side of `make bench-browser`: run.mjs calls these through page.evaluate.
//
// airprover runs through the package's own worker path: pkg/prover-worker.js with the `build`
// asked for, jobs as the runtime sends them (`airprover:job`), so the key is downloaded, checked
// and parsed once (LoadedKey) and stays in the worker's memory for the runs after it. Stage
// times are the moments the worker's progress messages arrive here.
// snarkjs runs as its docs show (`groth16.fullProve` on the page, its own workers), with the
// circuit's wasm and zkey fetched once and handed over from memory.

function waitFor(worker, pred) {
  return new Promise((resolve, reject) => {
    const onMessage = ({ data }) => {
      if (data?.type === 'airprover:error' || data?.type === 'airprover:job-error') {
        cleanup();
        reject(new Error(`${data.error.code}: ${data.error.message}`));
      } else if (pred(data)) {
        cleanup();
        resolve(data);
      }
    };
    const onError = (e) => {
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

/** One job: resolves with its stage marks (ms since the job was posted) and the result. */
function job(worker, id, msg) {
  const start = performance.now();
  const stages = [];
  const onProgress = ({ data }) => {
    if (data?.type === 'airprover:job-progress' && data.id === id && data.progress.fraction !== undefined) {
      const last = stages[stages.length - 1];
      if (!last || last[0] !== data.progress.stage) stages.push([data.progress.stage, performance.now() - start]);
    }
  };
  worker.addEventListener('message', onProgress);
  worker.postMessage({ ...msg, type: 'airprover:job', id, attempt: 1 });
  return waitFor(worker, (d) => d.type === 'airprover:job-result' && d.id === id).then((d) => {
    worker.removeEventListener('message', onProgress);
    return { totalMs: performance.now() - start, stages, value: d.value, memoryBytes: d.memoryBytes };
  });
}

window.airproverBench = async ({ build, threads, key, input, runs }) => {
  const worker = new Worker('/pkg/prover-worker.js', { type: 'module' });
  try {
    const initStart = performance.now();
    worker.postMessage({ type: 'airprover:init', threads, build });
    const ready = await waitFor(worker, (d) => d.type === 'airprover:ready');
    const initMs = performance.now() - initStart;
    const out = { build: ready.build, info: ready.info, initMs, runs: [], memoryBytes: 0 };
    for (let i = 0; i <= runs; i++) {
      const r = await job(worker, i + 1, { circuit: input.circuit, claim: input, key });
      if (i === 0) {
        // The cold job also downloads, checks and parses the key: split it off.
        const first = r.stages.find(([s]) => s !== 'loading-keys');
        out.keyLoadMs = first ? first[1] : NaN;
        r.stages = r.stages
          .filter(([s]) => s !== 'loading-keys')
          .map(([s, at]) => [s, at - out.keyLoadMs]);
        r.totalMs -= out.keyLoadMs;
      }
      out.memoryBytes = Math.max(out.memoryBytes, r.memoryBytes ?? 0);
      out.publicSignals = r.value.publicSignals;
      delete r.value;
      delete r.memoryBytes;
      out.runs.push(r);
    }
    return out;
  } finally {
    worker.terminate();
  }
};

async function bytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

window.snarkjsBench = async ({ wasmUrl, zkeyUrl, input, runs, singleThread }) => {
  const loadStart = performance.now();
  const wasm = await bytes(wasmUrl);
  const zkey = await bytes(zkeyUrl);
  const keyLoadMs = performance.now() - loadStart;
  const out = { keyLoadMs, zkeyBytes: zkey.length, runs: [] };
  for (let i = 0; i <= runs; i++) {
    const start = performance.now();
    const { publicSignals } = await window.snarkjs.groth16.fullProve(
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
};

window.benchReady = true;
