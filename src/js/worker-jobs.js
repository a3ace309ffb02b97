// @ts-check
// Proof jobs inside a prover worker: the runtime (src/web/runtime/) sends
//   { type: 'airprover:job', id, attempt, circuit, claim, key: { url, sha256, bytes, development },
//     circom?: { input?, witness?: Uint8Array, wasm }, storage: { name, blockedMs } | null, fault? }
// (`fault` is the runtime's test-only switch: { crashAtStage?, stallAtStage?, oomAtStage?, stallMs }; `storage`
// names the IndexedDB database whose `keys` store caches proving keys, null for no key cache, and
// how long its open may stay blocked by another tab.)
// and gets back, all tagged with the job id:
//   { type: 'airprover:job-progress', id, progress: { stage, fraction } }   (zero or more)
//   { type: 'airprover:key-event', id, event: { source, evicted?: { url, bytes }, storeError? } }  (when a key loads)
//   { type: 'airprover:job-result', id, value: { proof, publicSignals }, ms, memoryBytes }
//   { type: 'airprover:job-error', id, error: { name, code, message, trap, ... }, memoryBytes }
// (the runtime decides the error's code from what it reports: WorkerError::code in
// src/runtime/protocol.rs)
//
// Proving keys stay loaded between jobs (one LoadedKey per key URL): the first job of a circuit
// reads the key from IndexedDB or downloads it (storage.js's loadKey: either way its SHA-256 is
// checked against the manifest; what to do with a stored copy is the wasm module's `keyLoad`, the
// runtime's rule), and parses it once. A circom job's converted key goes by `convertedKeyLoad`.

import { get, loadKey as loadKeyBytes, openStorage, plainError, put } from './storage.js';

const keys = new Map(); // key url -> Promise<LoadedKey>
const databases = new Map(); // database name -> Promise<IDBDatabase | null>

/** The key cache's database, opened once per worker; null where IndexedDB cannot be used. */
function database(storage) {
  if (!storage?.name) return Promise.resolve(null);
  let db = databases.get(storage.name);
  if (!db) {
    db = openStorage(storage.name, () => databases.delete(storage.name), storage.blockedMs).catch(() => null);
    databases.set(storage.name, db);
  }
  return db;
}

/**
 * Runs one job on the loaded wasm module `mod`; `exports` are its instance exports.
 * @param {any} mod
 * @param {any} exports
 * @param {import('./protocol').JobMessage} msg
 * @param {(message: import('./protocol').WorkerMessage) => void} post
 */
export async function runJob(mod, exports, msg, post) {
  const { id, claim, key, fault } = msg;
  const start = performance.now();
  const memoryBytes = () => exports?.memory?.buffer?.byteLength ?? 0;
  let crashAt = null;
  let oomAt = null;
  try {
    if (!key || typeof key.url !== 'string') {
      // Reported as found; the runtime codes it (answers::key_failed).
      throw Object.assign(new Error(`no proving key for ${msg.circuit}`), { noKey: true });
    }
    const progress = (stage, fraction) =>
      post({ type: 'airprover:job-progress', id, progress: { stage, fraction }, memoryBytes: memoryBytes() });
    const onKeyEvent = (event) => post({ type: 'airprover:key-event', id, event });
    let loading = keys.get(key.url);
    if (!loading) {
      loading = msg.circom
        ? loadCircomKey(mod, msg, progress, onKeyEvent)
        : loadKey(mod, key, msg.storage, (f) => progress('loading-keys', f), onKeyEvent);
      keys.set(key.url, loading);
      // A failed load must not stay cached: the retry fetches again.
      loading.catch(() => keys.delete(key.url));
    }
    const loaded = await loading;
    const onProve = (p) => {
      progress(p.stage, p.fraction);
      if (fault?.crashAtStage === p.stage) crashAt = p.stage;
      if (fault?.oomAtStage === p.stage) oomAt = p.stage;
      if (fault?.stallAtStage === p.stage) {
        // Block the worker as a long proof does: only terminating it stops this.
        const until = performance.now() + fault.stallMs;
        while (performance.now() < until);
      }
    };
    let result;
    if (msg.circom?.witness) {
      // A ready witness (a snarkjs .wtns): read and checked against the key by the wasm (another
      // circuit's is ZKEY_MISMATCH, a damaged one INVALID_INPUT); no witness wasm runs.
      result = loaded.proveWitness(msg.circom.witness, onProve);
    } else if (msg.circom) {
      // circom's witness wasm, then the proof from the full witness (checked against the key).
      const witnessModule = await circomModule(mod, msg, onKeyEvent);
      progress('witness', 0);
      const wtns = mod.circomWitness(witnessModule, msg.circom.input);
      result = loaded.proveWitness(wtns, onProve);
    } else {
      result = loaded.prove(claim, onProve);
    }
    if (crashAt) throw new InjectedCrash(crashAt);
    if (oomAt) throw new RangeError(`airprover: injected out of memory at stage ${oomAt}`);
    post({
      type: 'airprover:job-result',
      id,
      value: { proof: result.proof, publicSignals: result.publicSignals },
      ms: performance.now() - start,
      memoryBytes: memoryBytes(),
    });
  } catch (e) {
    if (e instanceof InjectedCrash) {
      // Test-only fault switch: die the way a crashed worker dies, with an uncaught error that
      // the page sees as the Worker's `error` event. The result is never sent.
      setTimeout(() => {
        throw new Error(`airprover: injected crash at stage ${e.stage}`);
      });
      return;
    }
    const error = plainError(e);
    // Whether the key's points are checked, and what the check means, are the runtime's
    // decisions (src/runtime/answers.rs, WorkerError::settled): this only reports the check.
    const keyCheck = key?.url && mod.checksKeyAfter(error.code) ? await checkKey(mod, key, msg.storage) : null;
    post({ type: 'airprover:job-error', id, error: { ...error, keyCheck }, memoryBytes: memoryBytes() });
    if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError) {
      // The instance may be poisoned (a trap mid-proof): let the runtime replace this worker.
      keys.clear();
    }
  }
}

class InjectedCrash extends Error {
  constructor(stage) {
    super(`injected crash at ${stage}`);
    this.stage = stage;
  }
}

const circomModules = new Map(); // witness wasm url -> Promise<WebAssembly.Module>

/** A circom circuit's witness wasm, from the key cache or the network (pinned), compiled once. */
function circomModule(mod, msg, onEvent) {
  const wasm = msg.circom.wasm;
  let compiling = circomModules.get(wasm.url);
  if (!compiling) {
    compiling = (async () => {
      const { bytes, source, evicted, storeError } = await loadKeyBytes(await database(msg.storage), wasm, () => {}, mod.keyLoad);
      onEvent({ source, evicted, storeError });
      return WebAssembly.compile(bytes);
    })();
    circomModules.set(wasm.url, compiling);
    compiling.catch(() => circomModules.delete(wasm.url));
  }
  return compiling;
}

/**
 * A circom circuit's proving key: the zkey converted once (every point checked) and kept in the
 * key cache under its SHA-256 (src/runtime/manifest.rs `converted_key_name`), read unchecked from
 * there afterwards (its file digest still checked), as our own keys are. Whether a stored
 * conversion is used is the wasm module's `convertedKeyLoad` (answers::load_converted_key) on
 * what was found: `missing`, `loads` or `unreadable`.
 */
async function loadCircomKey(mod, msg, progress, onEvent) {
  const db = await database(msg.storage);
  const name = `circom-converted:${msg.key.sha256}`;
  const record = db ? await get(db, 'keys', name).catch(() => undefined) : undefined;
  let stored = null;
  let found = 'missing';
  if (record?.bytes) {
    progress('download', 1);
    try {
      stored = new mod.LoadedKey(record.bytes);
      found = 'loads';
    } catch {
      found = 'unreadable';
    }
  }
  if (mod.convertedKeyLoad(found) === 'use' && stored) {
    onEvent({ source: 'cache' });
    return stored;
  }
  stored?.free();
  const { bytes, source, evicted, storeError } = await loadKeyBytes(db, msg.key, (f) => progress('download', f), mod.keyLoad);
  onEvent({ source, evicted, storeError });
  progress('convert', 0);
  const converted = mod.convertZkey(bytes, msg.circuit);
  progress('convert', 1);
  if (db) {
    await put(db, 'keys', { sha256: name, url: msg.key.url, bytes: converted, size: converted.length, storedAt: Date.now() }).catch(
      (e) => onEvent({ storeError: plainError(e) }),
    );
  }
  return new mod.LoadedKey(converted);
}

/** Reads a key from the key cache or the network (checked against the pinned SHA-256), and parses it. */
async function loadKey(mod, key, storage, onProgress, onEvent) {
  const db = await database(storage);
  const { bytes, source, evicted, storeError } = await loadKeyBytes(db, key, onProgress, mod.keyLoad);
  onEvent({ source, evicted, storeError });
  // loadKeyBytes checked the bytes against the manifest's SHA-256: no need to hash them again.
  return mod.LoadedKey.fromVerifiedBytes(bytes);
}

/**
 * The key, read again from the cache or the network, with every point checked (its bytes match
 * the pinned SHA-256, so only this check can tell a point off the curve or out of its subgroup):
 * null when it is sound, else how the check failed (as a plain object).
 */
async function checkKey(mod, key, storage) {
  try {
    const { bytes } = await loadKeyBytes(await database(storage), key, () => {}, mod.keyLoad);
    mod.checkKeyPoints(bytes);
    return null;
  } catch (k) {
    return plainError(k);
  }
}

