// The runtime's opt-in `remote`: the HTTP and SSE of jobs proved by an operator's `airprover
// serve` and its workers (README "Server"). Nothing is decided here: which jobs go there and
// when, what is sent, what each answer means, how long to wait before asking again and whether
// the server's proof is the job's are the runtime's (src/runtime/remote.rs, through the engine,
// whose `Effect::Remote` the page carries out by calling a `RemoteLink`). What comes back is
// raw: statuses, bodies, the `Retry-After` header, each event as sent, and a signature check's
// verdict. THE CLAIM, ITS SECRET INCLUDED, LEAVES THE DEVICE for that server when the runtime
// sends it; off unless `createProver` is given `remote`.
//
// With `workerKeys` (the operator's workers.json, from `airprover workers export-keys`), the page
// checks that the worker's ed25519 signature signs exactly the bytes it recomputes
// (src/service/signature.rs has the format) with one of those keys: WebCrypto's Ed25519 and
// SHA-256, so that who made the proof is checked, not who relayed it.
import { airproverError } from './single/airprover.js';

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
   * Whether `signature` (hex) signs exactly `statement` with `publicKey`, a pinned key: `{ verdict:
   * 'valid' | 'unknown-key' | 'invalid', worker }` (the runtime says what each means).
   */
  async check(statement, publicKey, signature) {
    const keys = await this.ready();
    const worker = typeof publicKey === 'string' ? keys.find((k) => k.publicKey === publicKey.toLowerCase()) : undefined;
    if (!worker) return { verdict: 'unknown-key', worker: null };
    const message = new TextEncoder().encode(await signedMessage(statement));
    const valid =
      typeof signature === 'string' &&
      /^[0-9a-fA-F]{128}$/.test(signature) &&
      (await crypto.subtle.verify({ name: 'Ed25519' }, worker.key, hexBytes(signature), message).catch(() => false));
    return { verdict: valid ? 'valid' : 'invalid', worker: worker.id };
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
 * The page's side of the runtime's requests to the server (`RemoteOp` in
 * src/runtime/engine/types.rs): each job's requests share one AbortController, ended by `end`.
 */
export class RemoteLink {
  /** @param {ReturnType<typeof remoteOptions>} remote */
  constructor(remote) {
    this.remote = remote;
    this.jobs = new Map();
  }

  get url() {
    return this.remote.url;
  }

  get when() {
    return this.remote.when;
  }

  headers(extra = {}) {
    const h = { ...extra };
    if (this.remote.apiKey) h.authorization = `Bearer ${this.remote.apiKey}`;
    return h;
  }

  signal(job) {
    if (!this.jobs.has(job)) this.jobs.set(job, new AbortController());
    return this.jobs.get(job).signal;
  }

  /** `POST /v1/proofs`: `{ status, body, retryAfter }`; rejects when no answer came. */
  async send(job, body) {
    const response = await fetch(`${this.remote.url}/v1/proofs`, {
      method: 'POST',
      headers: this.headers({ 'content-type': 'application/json' }),
      body,
      signal: this.signal(job),
    });
    return answered(response);
  }

  /**
   * Reads the task's event stream, calling `onEvent({ id, event, data })` for each event as sent;
   * resolves with `{ status, body, retryAfter }` when it ends (body: a refusal's JSON), rejects
   * when it breaks.
   */
  async follow(job, id, lastEvent, onEvent) {
    const response = await fetch(`${this.remote.url}/v1/proofs/${encodeURIComponent(id)}/events`, {
      headers: this.headers(lastEvent ? { 'last-event-id': lastEvent } : {}),
      signal: this.signal(job),
    });
    if (!response.ok) return answered(response);
    for await (const event of sseEvents(response.body)) onEvent(event);
    return { status: response.status, body: null, retryAfter: null };
  }

  /** Ends the job's requests; with `task`, cancels that task on the server too. */
  end(job, task) {
    this.jobs.get(job)?.abort();
    this.jobs.delete(job);
    if (task) {
      fetch(`${this.remote.url}/v1/proofs/${encodeURIComponent(task)}`, {
        method: 'DELETE',
        headers: this.headers(),
        keepalive: true,
      }).catch(() => {});
    }
  }

  /**
   * The worker's signature over the bytes recomputed from the `succeeded` event's `data` (as
   * sent: the signed digests cover its JSON's own key order): `{ verdict: 'not-pinned' | 'valid' |
   * 'unknown-key' | 'invalid', worker }`.
   */
  async checkSignature({ taskId, circuit, vkSha256 }, data) {
    if (!this.remote.workerKeys) return { verdict: 'not-pinned', worker: null };
    const result = JSON.parse(data);
    return this.remote.workerKeys.check(
      { taskId, circuit, vkSha256, proof: result.proof, publicSignals: result.publicSignals },
      result.publicKey,
      result.signature,
    );
  }
}

async function answered(response) {
  return {
    status: response.status,
    body: await response.json().catch(() => null),
    retryAfter: response.headers.get('retry-after'),
  };
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
