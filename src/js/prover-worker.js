// The dedicated module Worker that owns one instance of the airprover wasm module.
//
// Proving blocks for seconds and the threaded build waits on atomics, which the main thread may
// not do, so the module lives here and the page talks to it by messages. The build copies this
// file next to the two wasm-pack outputs:  pkg/prover-worker.js, pkg/threads/, pkg/single/.
//
//   const worker = new Worker(new URL('./pkg/prover-worker.js', import.meta.url), { type: 'module' });
//   worker.postMessage({ type: 'airprover:init', threads: navigator.hardwareConcurrency });
//   // <- { type: 'airprover:ready', build: 'threads' | 'single', info: { threaded, threads }, ms }
//   worker.postMessage({ type: 'airprover:call', id: 1, fn: 'prove', args: [claimJson, provingKey] });
//   // <- { type: 'airprover:progress', id: 1, progress }   (prove only, zero or more)
//   // <- { type: 'airprover:result', id: 1, value, ms }  or  { type: 'airprover:error', id: 1, error }
//
// Every message type starts with `airprover:` so it never clashes with the messages of
// wasm-bindgen-rayon's own workers (`wasm_bindgen_worker_*`). Errors travel as
// `{ name, code, message, retryable }`: an Error's extra fields do not survive postMessage.
// To abort a call, terminate the worker: it is the only way to stop running wasm.

import { runJob } from './worker-jobs.js';

/** Functions of the wasm module a page may call, by their JS names. */
const CALLABLE = new Set(['poseidonHash', 'threadingInfo', 'setup', 'prove', 'verify']);

let loaded = null; // Promise<{ mod, build, info }>

/** Feature check: the threaded build needs shared memory, which needs cross-origin isolation. */
function canUseThreads() {
  return self.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function';
}

async function load(threads, build) {
  const wantThreads = build === 'threads' || (build !== 'single' && canUseThreads() && threads > 1);
  if (wantThreads) {
    try {
      const mod = await import('./threads/airprover.js');
      const exports = await mod.default();
      // Must come before anything that uses rayon (see src/web/threads.rs).
      await mod.initThreadPool(threads);
      return { mod, exports, build: 'threads', info: mod.threadingInfo() };
    } catch (e) {
      if (build === 'threads') throw e;
      console.warn('airprover: threaded build failed, using the single-threaded one:', e);
    }
  }
  const mod = await import('./single/airprover.js');
  const exports = await mod.default();
  return { mod, exports, build: 'single', info: mod.threadingInfo() };
}

/** An error as a plain object that survives postMessage. */
function plainError(e) {
  if (e instanceof WebAssembly.RuntimeError) {
    // A Rust panic (its message went to console.error): this instance is unusable now.
    return { name: 'RuntimeError', code: 'PANIC', message: e.message, retryable: true };
  }
  return {
    name: e?.name ?? 'Error',
    code: e?.code ?? 'INTERNAL',
    message: String(e?.message ?? e),
    retryable: e?.retryable ?? true,
  };
}

async function call(id, fn, args) {
  const { mod } = await loaded;
  if (!CALLABLE.has(fn) || typeof mod[fn] !== 'function') {
    throw Object.assign(new Error(`no function ${fn} in this build`), { code: 'UNKNOWN_FUNCTION' });
  }
  if (fn === 'prove') {
    // prove(claimJson, provingKey, onProgress): progress is reported between prover stages.
    args = [args[0], args[1], (progress) => postMessage({ type: 'airprover:progress', id, progress })];
  }
  return mod[fn](...args);
}

self.addEventListener('message', async ({ data }) => {
  if (data == null || typeof data.type !== 'string' || !data.type.startsWith('airprover:')) return;
  const start = performance.now();
  if (data.type === 'airprover:init') {
    loaded ??= load(Math.max(1, data.threads | 0 || navigator.hardwareConcurrency || 1), data.build);
    try {
      const { build, info } = await loaded;
      postMessage({ type: 'airprover:ready', build, info, ms: performance.now() - start });
    } catch (e) {
      postMessage({ type: 'airprover:error', id: null, error: plainError(e) });
    }
  } else if (data.type === 'airprover:job') {
    // A proof job of the runtime (src/web/runtime/): keys stay loaded between jobs.
    const { mod, exports } = await loaded;
    await runJob(mod, exports, data, postMessage);
  } else if (data.type === 'airprover:call') {
    try {
      if (!loaded) throw Object.assign(new Error('send airprover:init first'), { code: 'NOT_READY' });
      const value = await call(data.id, data.fn, data.args ?? []);
      postMessage({ type: 'airprover:result', id: data.id, value, ms: performance.now() - start });
    } catch (e) {
      postMessage({ type: 'airprover:error', id: data.id, error: plainError(e) });
    }
  }
});
