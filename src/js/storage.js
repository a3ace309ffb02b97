// airprover's IndexedDB adapter: the schema, small promise wrappers, and the proving-key cache.
//
// Used from two places: the page-side runtime (Rust, src/web/runtime/storage.rs, through
// wasm-bindgen, which copies this file into the build's snippets/) and the prover workers
// (worker-jobs.js imports the copy in pkg/). So it must stay one self-contained module: a snippet's
// own imports are not copied. Decisions (what to evict, whether a record is good) are the Rust
// policy's (src/runtime/); this file only moves records. Why not an IndexedDB crate: the workers
// run the threaded build, whose futures executor lets IndexedDB transactions auto-commit between
// awaits (indexed_db_futures issue #33), and page and workers must share one schema.
//
// Every logical change is one transaction (`update`: reads, a synchronous decision, writes), so
// several tabs never see half a change. A tab that holds the database closes it when another tab
// needs a newer schema version (`versionchange`), and reports it through `onClose`.

/** Version of the schema below; bump it and extend `upgrade` to change it. */
export const SCHEMA_VERSION = 2;

function upgrade(db, oldVersion) {
  if (oldVersion < 1) {
    // Proving and verifying keys by the SHA-256 the manifest pins: { sha256, url, bytes, size, storedAt }.
    db.createObjectStore('keys', { keyPath: 'sha256' });
    // Proof records (src/runtime/proof_cache.rs) by cache key.
    db.createObjectStore('proofs', { keyPath: 'key' });
    // Durable jobs (src/runtime/durable.rs) by the claim's cache key.
    db.createObjectStore('jobs', { keyPath: 'id' });
    // The persisted audit log, oldest first.
    db.createObjectStore('audit', { keyPath: 'seq', autoIncrement: true });
  }
  if (oldVersion < 2) {
    // Non-extractable WebCrypto keys by name (out-of-line keys): 'jobs' seals durable jobs' claims.
    db.createObjectStore('secrets');
  }
}

// Errors. The one code set here is IO_ERROR, a failed storage request; everything else crosses
// as raw facts (`trap`, `quota`, `download`, `mismatch`, `noKey`) and the runtime decides its code
// (src/runtime/answers.rs, WorkerError::code in src/runtime/protocol.rs).

/** An Error with a stable `code`, and any other fields. */
function coded(code, message, fields = {}) {
  return Object.assign(new Error(`${code}: ${message}`), { code, ...fields });
}

/**
 * Whatever was thrown, as a plain object that survives postMessage (an Error's own fields do
 * not): `{ name, code, message, trap, quota, download, mismatch, noKey }`, `code` null where it
 * had none, `trap` whether a WebAssembly instance trapped (a Rust panic or an abort: that
 * instance is unusable), `quota` as storageError sets it, `download` a failed download's raw
 * answer, `mismatch` a downloaded file that is not the pinned one, `noKey` a job that named no
 * key file. The runtime turns it into a code: `WorkerError::code` in src/runtime/protocol.rs.
 */
export function plainError(e) {
  return {
    name: String(e?.name ?? 'Error'),
    code: typeof e?.code === 'string' ? e.code : null,
    message: String(e?.message ?? e),
    trap: e instanceof WebAssembly.RuntimeError,
    quota: e?.quota === true,
    download: e?.download ? { status: e.download.status ?? null } : null,
    mismatch: e?.mismatch ? { received: Number(e.mismatch.received) || 0 } : null,
    noKey: e?.noKey === true,
  };
}

/** A failed storage request: IO_ERROR, with `quota` true when the origin's quota is exhausted. */
function storageError(e) {
  return coded('IO_ERROR', String(e?.message ?? e), { quota: e?.name === 'QuotaExceededError', cause: e });
}

/**
 * Opens the database `name`, creating or upgrading its schema. `onClose(reason)` is called once
 * if the connection closes later (another tab upgrades the schema, or the browser closes it).
 * Rejects with IO_ERROR where IndexedDB is missing, refused (some private modes) or
 * blocked by another tab for longer than `blockedMs` (the runtime's limit: OPEN_BLOCKED_MS in
 * src/runtime/answers.rs).
 */
export function openStorage(name, onClose, blockedMs) {
  return new Promise((resolve, reject) => {
    let request;
    try {
      if (typeof indexedDB === 'undefined' || indexedDB === null) throw new Error('IndexedDB is not available');
      request = indexedDB.open(name, SCHEMA_VERSION);
    } catch (e) {
      reject(storageError(e));
      return;
    }
    let timer = null;
    request.onupgradeneeded = (event) => upgrade(request.result, event.oldVersion);
    request.onblocked = () => {
      timer = setTimeout(
        () => reject(storageError(new Error('another tab keeps an older version open'))),
        blockedMs,
      );
    };
    request.onerror = () => {
      clearTimeout(timer);
      reject(storageError(request.error));
    };
    request.onsuccess = () => {
      clearTimeout(timer);
      const db = request.result;
      let closed = false;
      const close = (reason) => {
        if (closed) return;
        closed = true;
        try {
          db.close();
        } catch {
          // already closed
        }
        onClose?.(reason);
      };
      db.onversionchange = () => close('another tab opened a newer version of the storage');
      db.onclose = () => close('the browser closed the storage');
      resolve(db);
    };
  });
}

/** Why a transaction was aborted by our own code (a write that threw, e.g. QuotaExceededError). */
const failures = new WeakMap();

/** Runs one transaction over `stores`; `body(tx)` issues requests; resolves with its value on commit. */
function transact(db, stores, mode, body) {
  return new Promise((resolve, reject) => {
    let tx;
    let value;
    try {
      tx = db.transaction(stores, mode);
      value = body(tx);
    } catch (e) {
      reject(storageError(e));
      return;
    }
    tx.oncomplete = () => resolve(typeof value === 'function' ? value() : value);
    tx.onabort = () => reject(storageError(failures.get(tx) ?? tx.error ?? new Error('transaction aborted')));
    tx.onerror = (event) => event.preventDefault(); // reported by onabort
  });
}

/** The record under `key` in `store`, or undefined. */
export function get(db, store, key) {
  return transact(db, [store], 'readonly', (tx) => {
    const r = tx.objectStore(store).get(key);
    return () => r.result;
  });
}

/** Every record of `store`. */
export function getAll(db, store) {
  return transact(db, [store], 'readonly', (tx) => {
    const r = tx.objectStore(store).getAll();
    return () => r.result;
  });
}

/** Stores `value` (in-line key). */
export function put(db, store, value) {
  return transact(db, [store], 'readwrite', (tx) => void tx.objectStore(store).put(value));
}

/** Stores `value` under `key` unless the store has one: resolves with whichever is stored. */
function putOnce(db, store, key, value) {
  return transact(db, [store], 'readwrite', (tx) => {
    const os = tx.objectStore(store);
    const r = os.get(key);
    let kept = value;
    r.onsuccess = () => {
      if (r.result === undefined) os.put(value, key);
      else kept = r.result;
    };
    return () => kept;
  });
}

// Durable jobs hold the claim, secret included. In IndexedDB it is sealed with AES-GCM under a
// key made on this origin by WebCrypto as non-extractable and kept in the 'secrets' store: the
// database's files (a disk image, a backup, a copied profile) hold no readable claim, and no
// script can export the key. A script running on the origin can still ask WebCrypto to decrypt
// with it, like the runtime does: sealing does not protect against XSS or a malicious extension.

const SEAL = { name: 'AES-GCM', length: 256 };

/** The origin's job-sealing key, made once (two tabs that race keep the first one stored). */
async function sealingKey(db) {
  const stored = await get(db, 'secrets', 'jobs');
  if (stored) return stored;
  if (!globalThis.crypto?.subtle) {
    throw storageError(new Error('WebCrypto is not available (not a secure context): jobs are not stored'));
  }
  const made = await crypto.subtle.generateKey(SEAL, false, ['encrypt', 'decrypt']);
  return putOnce(db, 'secrets', 'jobs', made);
}

// A circom input may be low-entropy (a vote is 0 or 1): its proof cache key is not a plain
// SHA-256, which anyone could reverse by hashing the few possible inputs, but HMAC-SHA-256 under a
// key made on this origin by WebCrypto as non-extractable and kept in the 'secrets' store. Another
// origin, or a fresh store, has another key: its keys tell nothing about this one's inputs.

const CACHE_HMAC = { name: 'HMAC', hash: 'SHA-256', length: 256 };

/** The origin's proof-cache key for circom inputs, made once (two tabs that race keep the first). */
async function cacheHmacKey(db) {
  const stored = await get(db, 'secrets', 'proof-cache');
  if (stored) return stored;
  if (!globalThis.crypto?.subtle) {
    throw storageError(new Error('WebCrypto is not available (not a secure context): circom proofs are not cached'));
  }
  const made = await crypto.subtle.generateKey(CACHE_HMAC, false, ['sign']);
  return putOnce(db, 'secrets', 'proof-cache', made);
}

/**
 * The proof cache key of a circom statement: HMAC-SHA-256 of `message` (the runtime's, see
 * src/runtime/statement.rs) under the origin's non-extractable key, lowercase hex.
 * @param {IDBDatabase} db
 * @param {string} message
 * @returns {Promise<string>}
 */
export async function cacheKeyHmac(db, message) {
  const key = await cacheHmacKey(db);
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(message));
  return Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, '0')).join('');
}

// Sealing awaits, so a job's writes could land out of order; they are chained per job instead,
// and the removal of a job that ended waits for its puts (`jobWritten`).
const jobWrites = new Map();

/**
 * Stores (or replaces) the durable job `job` ({ id, claim, ... }) with its claim sealed: the
 * record has `sealedClaim: { iv, data }` in its place, bound to the job's id.
 */
export function putJob(db, job) {
  const write = (jobWrites.get(job.id) ?? Promise.resolve()).then(() => sealAndPut(db, job));
  const settled = write.then(
    () => {},
    () => {},
  );
  jobWrites.set(job.id, settled);
  settled.then(() => jobWrites.get(job.id) === settled && jobWrites.delete(job.id));
  return write;
}

/** Resolves once every put of job `id` asked for so far has landed (or failed). */
export function jobWritten(id) {
  return jobWrites.get(id) ?? Promise.resolve();
}

async function sealAndPut(db, job) {
  const key = await sealingKey(db);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(job.id) },
      key,
      new TextEncoder().encode(job.claim),
    ),
  );
  const { claim: _plain, ...record } = job;
  return put(db, 'jobs', { ...record, sealedClaim: { iv, data } });
}

/**
 * Every durable job, its claim unsealed. A record that cannot be unsealed (another key, tampered,
 * an older format that stored the claim in plain text) comes back without `claim`, for the caller
 * to drop.
 */
export async function getJobs(db) {
  const records = await getAll(db, 'jobs');
  const key = records.length ? await get(db, 'secrets', 'jobs') : undefined;
  return Promise.all(
    records.map(async (record) => {
      const { claim: _plain, sealedClaim, ...rest } = record ?? {};
      if (!key || !sealedClaim) return rest;
      try {
        const plain = await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv: sealedClaim.iv, additionalData: new TextEncoder().encode(rest.id) },
          key,
          sealedClaim.data,
        );
        return { ...rest, claim: new TextDecoder().decode(plain) };
      } catch {
        return rest;
      }
    }),
  );
}

/** Deletes the record under `key`. */
export function del(db, store, key) {
  return transact(db, [store], 'readwrite', (tx) => void tx.objectStore(store).delete(key));
}

/** Empties every store in `stores`, in one transaction. */
export function clear(db, stores) {
  return transact(db, stores, 'readwrite', (tx) => stores.forEach((s) => tx.objectStore(s).clear()));
}

/**
 * One read-decide-write transaction over `stores`. `reads` is a list of `[store, op, key?]` with
 * op `get`, `getAll` or `getAllKeys`; when they are done, `decide(results)` runs synchronously
 * inside the transaction and returns `{ writes, result }`, `writes` a list of `['put', store,
 * value]`, `['delete', store, key]` or `['clear', store]`. Resolves with `result` once committed.
 */
export function update(db, stores, reads, decide) {
  return transact(db, stores, 'readwrite', (tx) => {
    const results = new Array(reads.length);
    let pending = reads.length;
    let outcome;
    const writeAll = () => {
      outcome = decide(results);
      for (const [op, store, arg] of outcome?.writes ?? []) {
        const s = tx.objectStore(store);
        if (op === 'put') s.put(arg);
        else if (op === 'delete') s.delete(arg);
        else if (op === 'clear') s.clear();
        else throw new Error(`unknown write ${op}`);
      }
    };
    reads.forEach(([store, op, key], i) => {
      const s = tx.objectStore(store);
      const r = op === 'get' ? s.get(key) : op === 'getAllKeys' ? s.getAllKeys() : s.getAll();
      r.onsuccess = () => {
        results[i] = r.result;
        if (--pending === 0) {
          try {
            writeAll();
          } catch (e) {
            failures.set(tx, e);
            tx.abort();
          }
        }
      };
    });
    if (reads.length === 0) writeAll(); // throws into transact, which rejects
    return () => outcome?.result;
  });
}

/** Appends `records` to the auto-increment `store` and keeps only its newest `max`, in one transaction. */
export function appendBounded(db, store, records, max) {
  return transact(db, [store], 'readwrite', (tx) => {
    const s = tx.objectStore(store);
    for (const r of records) s.add(r);
    const count = s.count();
    count.onsuccess = () => {
      let excess = count.result - max;
      if (excess <= 0) return;
      s.openCursor().onsuccess = (e) => {
        const cursor = e.target.result;
        if (!cursor || excess <= 0) return;
        cursor.delete();
        excess -= 1;
        cursor.continue();
      };
    };
  });
}

// Web Locks mark which tab runs a durable job, so a second tab that starts meanwhile does not
// resume it too. A lock lives until released or until its tab goes away.
const heldLocks = new Map();

/**
 * Asks for the lock of durable job `id` without waiting; resolves with what the browser answered:
 * 'taken' (this tab holds it), 'held' (another tab does), 'unsupported' (no Web Locks) or
 * 'failed'. What that means for the job is the runtime's decision (runtime/durable.rs).
 */
export function lockJob(scope, id) {
  const locks = globalThis.navigator?.locks;
  if (!locks) return Promise.resolve('unsupported');
  if (heldLocks.has(id)) return Promise.resolve('taken');
  return new Promise((resolve) => {
    locks
      .request(`airprover:${scope}:job:${id}`, { ifAvailable: true }, (lock) => {
        if (!lock) {
          resolve('held');
          return undefined;
        }
        resolve('taken');
        return new Promise((release) => heldLocks.set(id, release));
      })
      .catch(() => resolve('failed'));
  });
}

/** Releases the lock of durable job `id`, if held. */
export function unlockJob(id) {
  heldLocks.get(id)?.();
  heldLocks.delete(id);
}

async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Whether `bytes` are the key the manifest pins: its size and SHA-256. */
async function matchesManifest(bytes, key) {
  if (!(bytes instanceof Uint8Array)) return false;
  if (key.bytes && bytes.length !== key.bytes) return false;
  return (await sha256Hex(bytes)) === key.sha256;
}

/**
 * A download that gave no file, with what the server answered: `download.status` the HTTP status,
 * null where fetch itself failed. Its code is the runtime's decision (src/runtime/answers.rs).
 */
function downloadFailed(url, message, status) {
  return Object.assign(new Error(`${url}: ${message}`), { download: { status } });
}

/**
 * Downloads `key.url` with progress; throws a download failure (above), or an error with
 * `mismatch.received` where the file is not the one the manifest pins (its code is the runtime's
 * decision too).
 */
async function download(key, onProgress) {
  let response;
  try {
    response = await fetch(key.url);
  } catch (e) {
    throw downloadFailed(key.url, String(e?.message ?? e), null);
  }
  if (!response.ok) throw downloadFailed(key.url, `HTTP ${response.status}`, response.status);
  const total = key.bytes || Number(response.headers.get('content-length')) || 0;
  const chunks = [];
  let received = 0;
  const reader = response.body.getReader();
  onProgress?.(0);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    if (total) onProgress?.(Math.min(1, received / total));
  }
  const bytes = new Uint8Array(received);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  if (!(await matchesManifest(bytes, key))) {
    throw Object.assign(new Error(`${key.url}: ${received} bytes whose size or SHA-256 does not match the manifest`), {
      mismatch: { received },
    });
  }
  return bytes;
}

/**
 * A key file `{ url, sha256, bytes }` (as the manifest pins it), from the `keys` store or
 * downloaded with `onProgress(fraction)` and stored. What to do with the stored copy is the
 * runtime's decision: `decide(found)`, found `missing`, `matches` (its size and SHA-256 are the
 * pin's) or `differs`, answers `use`, `download` or `drop-and-download` (answers::load_stored_key
 * in src/runtime/answers.rs). Resolves `{ bytes, source: 'cache' | 'network', evicted?: { url,
 * bytes }, storeError?: plainError }`, `evicted` the stored copy it dropped (the runtime reports
 * it: answers::dropped_key).
 */
export async function loadKey(db, key, onProgress, decide) {
  let evicted;
  if (db) {
    let record;
    try {
      record = await get(db, 'keys', key.sha256);
    } catch {
      record = undefined; // unreadable storage: reported as missing
    }
    const found = !record ? 'missing' : (await matchesManifest(record.bytes, key)) ? 'matches' : 'differs';
    const action = decide(found);
    if (action === 'use' && record) {
      onProgress?.(1);
      return { bytes: record.bytes, source: 'cache' };
    }
    if (action === 'drop-and-download' && record) {
      evicted = { url: key.url, bytes: record.bytes?.length ?? 0 };
      await del(db, 'keys', key.sha256).catch(() => {});
    }
  }
  const bytes = await download(key, onProgress);
  let storeError;
  if (db) {
    try {
      await put(db, 'keys', { sha256: key.sha256, url: key.url, bytes, size: bytes.length, storedAt: Date.now() });
    } catch (e) {
      storeError = plainError(e);
    }
  }
  return { bytes, source: 'network', evicted, storeError };
}
