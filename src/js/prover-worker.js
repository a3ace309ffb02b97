// @ts-check
// The dedicated module Worker that owns one instance of the airprover wasm module.
//
// Proving blocks for seconds and the threaded build waits on atomics, which the main thread may
// not do, so the module lives here and the page talks to it by messages. The build copies this
// file next to the two wasm-pack outputs:  pkg/prover-worker.js, pkg/threads/, pkg/single/.
//
// The runtime (src/web/runtime/) is its only user; the messages are the `PageMessage` and
// `WorkerMessage` types of src/runtime/protocol.rs (serde), declared for this file in
// protocol.d.ts and checked by `npm --prefix tests/browser run typecheck`:
//   page -> worker  { type: 'airprover:init', threads, build: 'threaded' | 'single' }
//   worker -> page  { type: 'airprover:ready', build, info: { threaded, threads }, ms }
//               or { type: 'airprover:threads-failed', error }   (the threaded build did not start)
//               or { type: 'airprover:error', error }   (the module did not load at all)
// The build and the thread count are the runtime's (src/runtime/fallback.rs choose_build), and so
// is what follows a threaded build that does not start (Scheduler::threads_failed): this worker
// loads exactly what it is told and reports what happened.
//   then proof jobs: worker-jobs.js.
//
// Every message type starts with `airprover:` so it never clashes with the messages of
// wasm-bindgen-rayon's own workers (`wasm_bindgen_worker_*`). To abort a job, terminate the
// worker: it is the only way to stop running wasm.

import { plainError } from './storage.js';
import { runJob } from './worker-jobs.js';

/** @typedef {import('./protocol').PageMessage} PageMessage */
/** @typedef {import('./protocol').WorkerMessage} WorkerMessage */

/** Every message to the page goes through here, so each is checked against the protocol. */
function post(/** @type {WorkerMessage} */ message) {
  postMessage(message);
}

let loaded = null; // Promise<{ mod, exports, build, info } | null> (null: threads did not start)

/** Feature check: the threaded build needs shared memory, which needs cross-origin isolation. */
function canUseThreads() {
  return self.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function';
}

/**
 * Loads the build the runtime asked for, with its `threads`. A threaded build that does not start
 * posts `airprover:threads-failed` with the browser's words and resolves null: nothing else is
 * loaded here (the runtime replaces this worker).
 */
async function load(threads, build) {
  if (build === 'threaded') {
    try {
      if (!canUseThreads()) throw new Error('this worker has no SharedArrayBuffer (the page is not cross-origin isolated)');
      const mod = await import('./threads/airprover.js');
      const exports = await mod.default();
      // Must come before anything that uses rayon (see src/web/threads.rs).
      await mod.initThreadPool(threads);
      return { mod, exports, build: 'threaded', info: mod.threadingInfo() };
    } catch (e) {
      post({ type: 'airprover:threads-failed', error: String(e?.message ?? e) });
      return null;
    }
  }
  const mod = await import('./single/airprover.js');
  const exports = await mod.default();
  return { mod, exports, build: 'single', info: mod.threadingInfo() };
}

self.addEventListener('message', async (/** @type {MessageEvent<PageMessage>} */ { data }) => {
  if (data == null || typeof data.type !== 'string' || !data.type.startsWith('airprover:')) return;
  const start = performance.now();
  if (data.type === 'airprover:init') {
    loaded ??= load(data.threads, data.build);
    try {
      const ready = await loaded;
      if (ready) post({ type: 'airprover:ready', build: ready.build, info: ready.info, ms: performance.now() - start });
    } catch (e) {
      post({ type: 'airprover:error', error: plainError(e) });
    }
  } else if (data.type === 'airprover:job') {
    // A proof job of the runtime (src/web/runtime/): keys stay loaded between jobs.
    const { mod, exports } = await loaded;
    await runJob(mod, exports, data, post);
  }
});
