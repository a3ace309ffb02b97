// The runtime's opt-in `remote`: jobs proved by an operator's `airprover serve` and its workers
// (README "Server"). With `when: 'fallback'` a job goes there only when the device cannot prove
// it (the runtime ended it with a code that the runtime's table, `remoteFallback`, moves to a
// server: out of memory after the smaller-circuit fallback, no worker that stays up); with
// `'always'` every job does. THE CLAIM, ITS SECRET INCLUDED, THEN LEAVES THE DEVICE for that
// server (a circom job's input likewise, as `{ circuit, input }`). Off unless `createProver` is
// given `remote`. A ready witness (`{ circuit, wtns }`) never leaves: with `'fallback'` it is
// proved on the device only, with `'always'` submit throws INVALID_INPUT (`remoteRequest`).
//
// The job keeps its API: `progress` follows the server's event stream, `cancel()` cancels the
// task there, and `result` resolves only after the page has checked the answer: its circuit and
// public signals are the claim's, and the proof verifies with the manifest's verifying key (whose
// bytes must match the manifest's SHA-256; a circom circuit's is its verification_key.json, and
// its public signals are the proof's own). With `workerKeys` (the operator's workers.json, from
// `airprover workers export-keys`), the worker's ed25519 signature must also sign exactly the
// bytes the page recomputes (src/service/signature.rs has the format) with one of those keys:
// WebCrypto's Ed25519 and SHA-256, so that who made the proof is checked, not who relayed it.
import { airproverError, remoteFallback, remoteRequest, verify, verifySnarkjs } from './single/airprover.js';

const WHEN = ['fallback', 'always'];

/** The first line of every signed message: the format's name and version. */
const SIGNED_DOMAIN = 'airprover-proof-v1';

/**
 * Checks `remote` ({ url, apiKey?, when?, workerKeys? }); throws INVALID_INPUT naming the field.
 * @returns {{ url: string, apiKey: string | undefined, when: 'fallback' | 'always', workerKeys: PinnedWorkerKeys | null }}
 */
export function remoteOptions(remote) {
  const bad = (field, why) => airproverError('INVALID_INPUT', `options.remote.${field}: ${why}`);
  if (typeof remote !== 'object' || remote === null || Array.isArray(remote)) {
    throw airproverError('INVALID_INPUT', 'options.remote: must be an object { url, apiKey?, when?, workerKeys? }');
  }
  for (const k of Object.keys(remote)) {
    if (!['url', 'apiKey', 'when', 'workerKeys'].includes(k)) throw bad(k, 'unknown option');
  }
  let url;
  try {
    url = new URL(remote.url, globalThis.location?.href);
  } catch {
    throw bad('url', 'must be the server URL, e.g. https://prover.example.org');
  }
  if (!['http:', 'https:'].includes(url.protocol)) throw bad('url', 'must be an http(s) URL');
  if (remote.apiKey !== undefined && (typeof remote.apiKey !== 'string' || remote.apiKey === '')) {
    throw bad('apiKey', 'must be a non-empty string');
  }
  const when = remote.when ?? 'fallback';
  if (!WHEN.includes(when)) throw bad('when', `must be one of ${WHEN.join(', ')}`);
  const workerKeys = remote.workerKeys === undefined ? null : new PinnedWorkerKeys(remote.workerKeys, bad);
  return { url: url.href.replace(/\/+$/, ''), apiKey: remote.apiKey, when, workerKeys };
}

/**
 * The worker keys a page pins (`remote.workerKeys`): workers.json as `airprover workers
 * export-keys` writes it, `{ workers: [{ id, publicKey }] }`, or its list.
 */
class PinnedWorkerKeys {
  constructor(given, bad) {
    const list = Array.isArray(given) ? given : given?.workers;
    if (!Array.isArray(list) || list.length === 0) {
      throw bad('workerKeys', 'must be workers.json ({ workers: [{ id, publicKey }] }) or its list, with a worker');
    }
    this.list = list.map((w, i) => {
      if (typeof w?.id !== 'string') throw bad(`workerKeys[${i}].id`, 'must be a string');
      if (typeof w.publicKey !== 'string' || !/^[0-9a-fA-F]{64}$/.test(w.publicKey)) {
        throw bad(`workerKeys[${i}].publicKey`, 'must be 64 hex digits (an ed25519 public key)');
      }
      return { id: w.id, publicKey: w.publicKey.toLowerCase() };
    });
    this.imported = null;
  }

  /** The keys as WebCrypto keys, imported once; INVALID_INPUT where the browser has no Ed25519. */
  async ready() {
    this.imported ??= Promise.all(
      this.list.map(async (w) => ({
        ...w,
        key: await crypto.subtle.importKey('raw', hexBytes(w.publicKey), { name: 'Ed25519' }, false, ['verify']),
      })),
    );
    try {
      return await this.imported;
    } catch (e) {
      this.imported = null;
      throw airproverError(
        'INVALID_INPUT',
        `options.remote.workerKeys: this browser cannot import them as Ed25519 keys (WebCrypto): ${e?.message ?? e}`,
      );
    }
  }

  /**
   * Throws UNKNOWN_WORKER unless `publicKey` is pinned, BAD_SIGNATURE unless `signature` (hex)
   * signs exactly `statement` with it. Returns the pinned worker.
   */
  async check(statement, publicKey, signature) {
    const keys = await this.ready();
    const worker = typeof publicKey === 'string' ? keys.find((k) => k.publicKey === publicKey.toLowerCase()) : undefined;
    if (!worker) {
      throw airproverError('UNKNOWN_WORKER', `the result is signed with key ${String(publicKey).slice(0, 64)}, which is not in workerKeys: not returned`);
    }
    const message = new TextEncoder().encode(await signedMessage(statement));
    const valid =
      typeof signature === 'string' &&
      /^[0-9a-fA-F]{128}$/.test(signature) &&
      (await crypto.subtle.verify({ name: 'Ed25519' }, worker.key, hexBytes(signature), message).catch(() => false));
    if (!valid) {
      throw airproverError(
        'BAD_SIGNATURE',
        `worker ${worker.id}'s signature does not sign task ${statement.taskId}, circuit ${statement.circuit}, ` +
          `verifying key ${statement.vkSha256} and this proof and public signals: not returned`,
      );
    }
    return worker;
  }
}

/**
 * The exact text a worker signs (src/service/signature.rs): the format's name, the task id, the
 * circuit, the verifying key file's SHA-256, and the SHA-256 of proof.json and public.json
 * written compactly (`JSON.stringify`, keys in the order the worker wrote them), one per line.
 */
export async function signedMessage({ taskId, circuit, vkSha256, proof, publicSignals }) {
  const digest = async (text) => hex(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))));
  return [SIGNED_DOMAIN, taskId, circuit, vkSha256, await digest(JSON.stringify(proof)), await digest(JSON.stringify(publicSignals))].join('\n');
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function hexBytes(text) {
  return new Uint8Array(text.match(/../g).map((b) => parseInt(b, 16)));
}

/**
 * The prover with `submit` sending jobs to the server as `remote.when` says; every other member is
 * the runtime's own.
 */
export function withRemote(prover, remote, manifestUrl) {
  const keys = new ManifestKeys(manifestUrl);
  let direct = 0;
  const wrapped = Object.create(prover);
  wrapped.submit = (claim, options = {}) => {
    const { onProgress, signal } = options ?? {};
    // Throws the submission's own typed error at once, as the runtime's submit does; null: a
    // ready witness, which only the device proves.
    const request = remoteRequest(claim, remote.when);
    if (request === null) return prover.submit(claim, options);
    const store = new Store(onProgress);
    const task = new RemoteTask(remote, keys, request, store, signal);
    if (remote.when === 'always') {
      return job(-(++direct), store, task.run(), () => task.cancel());
    }
    let moved = false;
    let heldFailure = null;
    const local = prover.submit(claim, {
      ...options,
      onProgress: (p) => {
        // A failure may yet move to the server: its progress is held until that is known.
        if (p.stage === 'failed') heldFailure = p;
        else if (!moved) store.set(p);
      },
    });
    const result = local.result.catch((e) => {
      if (!remoteFallback(e?.code ?? '')) {
        if (heldFailure) store.set(heldFailure);
        throw e;
      }
      moved = true;
      return task.run(e);
    });
    return job(local.id, store, result, () => (moved ? task.cancel() : local.cancel()));
  };
  return wrapped;
}

function job(id, progress, result, cancel) {
  return { id, progress, result, cancel };
}

/** A Svelte-store-compatible progress value that also calls `onProgress`. */
class Store {
  constructor(onProgress) {
    this.value = { stage: 'queued', percent: 0, etaMs: null, cached: false, done: false };
    this.runs = new Set();
    this.onProgress = onProgress;
  }
  set(value) {
    this.value = value;
    for (const run of this.runs) run(value);
    this.onProgress?.(value);
  }
  subscribe(run) {
    this.runs.add(run);
    run(this.value);
    return () => this.runs.delete(run);
  }
}

/** One claim or circom input proved by the server: submit, follow its events, check the answer. */
class RemoteTask {
  constructor(remote, keys, request, store, signal) {
    Object.assign(this, { remote, keys, request, store });
    this.abort = new AbortController();
    this.id = null;
    signal?.addEventListener('abort', () => this.cancel(), { once: true });
    if (signal?.aborted) this.cancel();
  }

  headers(extra = {}) {
    const h = { ...extra };
    if (this.remote.apiKey) h.authorization = `Bearer ${this.remote.apiKey}`;
    return h;
  }

  cancel() {
    if (this.abort.signal.aborted) return;
    this.abort.abort();
    if (this.id) {
      fetch(`${this.remote.url}/v1/proofs/${this.id}`, {
        method: 'DELETE',
        headers: this.headers(),
        keepalive: true,
      }).catch(() => {});
    }
  }

  cancelled() {
    this.store.set({ ...this.store.value, stage: 'cancelled', done: true });
    return airproverError('CANCELLED', 'cancelled by the caller');
  }

  /** Proves on the server; `cause` is the local failure that moved the job, if any. */
  async run(cause) {
    try {
      if (this.abort.signal.aborted) throw this.cancelled();
      this.store.set({ stage: 'queued', percent: 0, etaMs: null, cached: false, done: false, remote: true });
      const answer = await this.call(`${this.remote.url}/v1/proofs`, {
        method: 'POST',
        headers: this.headers({ 'content-type': 'application/json' }),
        body: this.request.body,
      });
      this.id = answer.id;
      const result = await this.follow();
      const checked = await this.check(result);
      this.store.set({ stage: 'done', percent: 100, etaMs: 0, cached: false, done: true, remote: true });
      return checked;
    } catch (e) {
      if (this.abort.signal.aborted) throw this.cancelled();
      if (!this.store.value.done) this.store.set({ ...this.store.value, stage: 'failed', done: true });
      if (cause && e && typeof e === 'object') e.localError = cause.code;
      throw e;
    }
  }

  /** A JSON request; a refusal is the server's code when the runtime has it, else REMOTE_FAILED. */
  async call(url, init) {
    let response;
    try {
      response = await fetch(url, { ...init, signal: this.abort.signal });
    } catch (e) {
      if (this.abort.signal.aborted) throw e;
      throw airproverError('NETWORK', `the prover server at ${this.remote.url} cannot be reached: ${e?.message ?? e}`);
    }
    const body = await response.json().catch(() => ({}));
    if (response.ok) return body;
    throw refusal(response, body);
  }

  /** Follows the task's events (reconnecting with Last-Event-ID) to its final one. */
  async follow() {
    let last = null;
    let failures = 0;
    for (;;) {
      let response;
      try {
        response = await fetch(`${this.remote.url}/v1/proofs/${this.id}/events`, {
          headers: this.headers(last ? { 'last-event-id': last } : {}),
          signal: this.abort.signal,
        });
        if (!response.ok) throw refusal(response, await response.json().catch(() => ({})));
        for await (const event of sseEvents(response.body)) {
          last = event.id ?? last;
          failures = 0;
          const data = JSON.parse(event.data || 'null');
          const ended = this.on(event.event, data);
          if (ended) return ended;
        }
      } catch (e) {
        if (this.abort.signal.aborted || e?.name === 'AirproverError') throw e;
        if (++failures > 5) {
          throw airproverError('NETWORK', `lost the prover server's event stream: ${e?.message ?? e}`);
        }
      }
      await new Promise((ok) => setTimeout(ok, 250 * 2 ** failures));
    }
  }

  /** One event: progress is published; the final one returns the result or throws. */
  on(kind, data) {
    const base = { cached: false, done: false, remote: true };
    if (kind === 'status') {
      const stage = data?.status === 'running' ? 'proving' : 'queued';
      this.store.set({ ...base, stage, percent: this.store.value.percent ?? 0, etaMs: null });
    } else if (kind === 'progress') {
      this.store.set({ ...base, stage: 'proving', percent: data.percent, etaMs: data.etaMs ?? null });
    } else if (kind === 'succeeded') {
      return data;
    } else if (kind === 'failed') {
      throw airproverError(data?.code ?? 'REMOTE_FAILED', `on the prover server: ${data?.message ?? ''}`);
    } else if (kind === 'cancelled') {
      throw airproverError('CANCELLED', 'the task was cancelled on the prover server');
    }
    return null;
  }

  /**
   * The server's answer, checked: the job's circuit, a claim's public signals (a circom
   * circuit's are the proof's own), and a proof valid under the manifest's verifying key.
   */
  async check(result) {
    const { circuit, publicSignals: expected } = this.request;
    if (result?.circuit !== circuit) {
      throw airproverError('VERIFY_FAILED', `the server proved ${result?.circuit}, not ${circuit}: not returned`);
    }
    const signals = result.publicSignals;
    if (!Array.isArray(signals) || !signals.every((s) => typeof s === 'string') || (expected && signals.join() !== expected.join())) {
      throw airproverError('VERIFY_FAILED', "the server's public signals are not the claim's: not returned");
    }
    const vk = await this.keys.verifyingKey(circuit);
    // Who made it, before what it proves: the signature over the bytes recomputed here (the
    // server's `signed` text is never read).
    await this.remote.workerKeys?.check(
      { taskId: this.id, circuit, vkSha256: vk.sha256, proof: result.proof, publicSignals: signals },
      result.publicKey,
      result.signature,
    );
    if (!verifies(vk, result.proof, signals)) {
      throw airproverError('VERIFY_FAILED', "the server's proof does not verify with the manifest's verifying key: not returned");
    }
    return {
      proof: result.proof,
      publicSignals: signals,
      circuit: result.circuit,
      verifyingKeySha256: vk.sha256,
      remote: { url: this.remote.url, id: this.id, worker: result.worker, publicKey: result.publicKey, signature: result.signature },
    };
  }
}

/** Whether `proof` verifies under `vk`: our key file, or a circom circuit's verification_key.json. */
function verifies(vk, proof, signals) {
  try {
    return vk.circom ? verifySnarkjs(new TextDecoder().decode(vk.bytes), signals, proof) : verify(vk.bytes, proof, signals);
  } catch {
    return false; // a proof that does not even parse
  }
}

function refusal(response, body) {
  const e = airproverError('REMOTE_FAILED', `the prover server answered ${response.status} ${body?.code ?? ''}: ${body?.message ?? ''}`);
  e.serverCode = body?.code ?? null;
  e.status = response.status;
  const retryAfter = Number(response.headers.get('retry-after'));
  e.retryAfterMs = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : null;
  return e;
}

/**
 * The manifest's verifying keys, fetched once each and checked against their pinned SHA-256:
 * `{ bytes, sha256, circom }` (a circom entry's is snarkjs's verification_key.json).
 */
class ManifestKeys {
  constructor(manifestUrl) {
    this.url = new URL(manifestUrl, globalThis.location?.href).href;
    this.keys = new Map();
  }

  verifyingKey(circuit) {
    if (!this.keys.has(circuit)) {
      const loading = this.load(circuit);
      loading.catch(() => this.keys.delete(circuit));
      this.keys.set(circuit, loading);
    }
    return this.keys.get(circuit);
  }

  async load(circuit) {
    const fetched = async (url) => {
      const r = await fetch(url).catch((e) => {
        throw airproverError('NETWORK', `${url}: ${e?.message ?? e}`);
      });
      if (!r.ok) throw airproverError('KEY_NOT_FOUND', `${url}: ${r.status}`);
      return r;
    };
    const manifest = await (await fetched(this.url)).json();
    const listed = manifest?.circuits?.find?.((c) => c.id === circuit);
    const circom = listed?.kind === 'circom';
    const entry = circom ? listed.verifyingKey : listed?.files?.verifyingKey;
    if (!entry) throw airproverError('KEY_NOT_FOUND', `no verifying key for ${circuit} in ${this.url}`);
    const bytes = new Uint8Array(await (await fetched(new URL(entry.name, this.url))).arrayBuffer());
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    const sha256 = hex(digest);
    if (sha256 !== entry.sha256) {
      throw airproverError('KEY_INTEGRITY', `${entry.name}: its SHA-256 is not the manifest's`);
    }
    return { bytes, sha256, circom };
  }
}

/** The events of a text/event-stream body: { id, event, data }. */
async function* sseEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = {};
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, end).replace(/\r$/, '');
      buffer = buffer.slice(end + 1);
      if (line === '') {
        if (event.data !== undefined) yield event;
        event = {};
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const v = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') event.data = event.data === undefined ? v : `${event.data}\n${v}`;
        else if (field === 'id' || field === 'event') event[field] = v;
      }
    }
  }
}
