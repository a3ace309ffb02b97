// Types of airprover's public API (the runtime in src/web/runtime/, the worker in src/js/).

/** A job's priority: higher runs first, FIFO within one. */
export type Priority = 'LOW' | 'NORMAL' | 'HIGH' | 'CRITICAL';

/** Every error code a call or a job can end with. */
export type ErrorCode =
  | 'INVALID_JSON'
  | 'INVALID_INPUT'
  | 'UNKNOWN_CIRCUIT'
  | 'PATH_MISMATCH'
  | 'SCORE_NOT_MET'
  | 'INVALID_PROOF'
  | 'KEY_NOT_FOUND'
  | 'KEY_INTEGRITY'
  | 'NETWORK'
  | 'ZKEY_UNSUPPORTED'
  | 'ZKEY_CORRUPT'
  | 'ZKEY_MISMATCH'
  | 'WITNESS_FAILED'
  | 'PROOF_FAILED'
  | 'VERIFY_FAILED'
  | 'OUT_OF_MEMORY'
  | 'WORKER_CRASHED'
  | 'TIMEOUT'
  | 'THREADS_UNAVAILABLE'
  | 'CANCELLED'
  | 'QUEUE_FULL'
  | 'RATE_LIMITED'
  | 'TERMINATED'
  | 'IO_ERROR'
  | 'REMOTE_FAILED'
  | 'UNKNOWN_WORKER'
  | 'BAD_SIGNATURE'
  | 'INTERNAL';

/** One failed attempt of a job. */
export interface Attempt {
  attempt: number;
  code: ErrorCode;
  atMs: number;
  circuit: string;
}

/** What every airprover call and job rejects or throws with. */
export interface AirproverError extends Error {
  name: 'AirproverError';
  /** Stable: programs switch on it. */
  code: ErrorCode;
  category: 'input' | 'key' | 'prover' | 'resource' | 'runtime' | 'cancelled';
  severity: 'info' | 'error' | 'critical';
  /** Whether the same job may succeed if tried again (the runtime already retried it). */
  retryable: boolean;
  /** Whether the runtime tries another build or a smaller circuit for it. */
  fallback: boolean;
  /** The failed attempts, oldest first. */
  attempts: Attempt[];
  /** REMOTE_FAILED: the server's own code (e.g. QUOTA_EXCEEDED), its HTTP status, and its Retry-After. */
  serverCode?: string | null;
  status?: number;
  retryAfterMs?: number | null;
  /** A job moved to the server: the code it failed with on the device. */
  localError?: ErrorCode;
}

/** A Svelte-store-compatible value: `subscribe` calls `run` now and on every change. */
export interface Readable<T> {
  subscribe(run: (value: T) => void): () => void;
  readonly value: T;
}

/** The claim input of the claim spec. Numbers: decimal or 0x-hex strings, or safe integers. */
export interface Claim {
  circuit: string;
  root: string;
  secret: string;
  campaignId: string | number;
  claimant: string;
  threshold?: string | number;
  score?: string | number;
  attestations: {
    index: number | string;
    attester: string;
    weight: number | string;
    siblings: string[];
  }[];
}

/** `proof.json` as snarkjs writes it. */
export interface SnarkjsProof {
  pi_a: string[];
  pi_b: string[][];
  pi_c: string[];
  protocol: 'groth16';
  curve: 'bn128';
}

/** A verified proof: snarkjs `proof.json` and `public.json`. */
export interface ProofResult {
  proof: SnarkjsProof;
  /** `[root, campaignId, claimant, nullifier, threshold | score]`, decimal strings. */
  publicSignals: string[];
  /**
   * The circuit the proof is for: the claim's own, or a smaller one the caller accepted in
   * `fallbackCircuits` after OUT_OF_MEMORY. Verify it with this circuit's key.
   */
  circuit: string;
  /** SHA-256 (hex) of that circuit's verifying key file, as the manifest pins it. */
  verifyingKeySha256: string;
  /** A proof made by the server (`remote`): who made it. */
  remote?: { url: string; id: string; worker: string; publicKey: string; signature: string };
}

/** Where a job is. `percent` only grows while one attempt runs. */
export interface Progress {
  /** A circom job shows `download` and `convert` (its zkey converted once) where a claim shows `loading-keys`. */
  stage: 'queued' | 'loading-keys' | 'download' | 'convert' | 'witness' | 'proving' | 'verifying' | 'done' | 'failed' | 'cancelled';
  percent: number;
  /** Remaining milliseconds, from this device's history of the circuit; null before any. */
  etaMs: number | null;
  attempt?: number;
  /** Answered from the proof cache (checked against the current verifying key), without proving. */
  cached: boolean;
  done: boolean;
  /** Proved by the operator's server (`remote`): progress from its event stream. */
  remote?: boolean;
}

export interface ProverOptions {
  /** URL of the keys' manifest.json (as `airprover setup` writes it). Required. */
  manifestUrl: string;
  /** Job workers. Default 1. */
  workers?: number;
  /** Threads per worker in the threaded build. Default navigator.hardwareConcurrency. */
  threads?: number;
  /** Default 'auto': threaded when the page is cross-origin isolated. */
  build?: 'auto' | 'threaded' | 'single';
  /** Unfinished jobs at most; past it submit throws QUEUE_FULL. Default 100. */
  capacity?: number;
  /** Idle workers shut down after this long. Default 60000. */
  idleTimeoutMs?: number;
  /** Retries of retryable failures. Default 3. */
  maxRetries?: number;
  /** Per-attempt timeout. Default none. */
  timeoutMs?: number;
  /** A worker that sends nothing this long while it runs a job is stuck: ended, a retryable TIMEOUT. Default 120000. */
  stallTimeoutMs?: number;
  /** Retry delay: min(maxMs, baseMs * factor^(n-1)), `jitter` of it random. */
  backoff?: { baseMs?: number; factor?: number; maxMs?: number; jitter?: number };
  /** Per-userId limits; past them submit throws RATE_LIMITED. */
  quotas?: { maxActive?: number; maxPerMinute?: number };
  /** Durations kept per circuit for percentiles and ETA. Default 100. */
  history?: number;
  /** Audit events kept. Default 1000. */
  auditLogSize?: number;
  /** Test-only fault switches. */
  faultInjection?: { crashAtStage?: string; stallAtStage?: string; oomAtStage?: string; stallMs?: number; times?: number };
  /**
   * What the runtime keeps in the origin's IndexedDB (see the README's Caching section); `false`
   * for nothing at all. Default: everything below, with the default bounds.
   */
  storage?: false | StorageOptions;
  /**
   * Opt-in: prove on an operator's `airprover serve` (README "Server"). THE CLAIM, ITS SECRET
   * INCLUDED, THEN GOES TO THAT SERVER. `when: 'fallback'` (default): only a job the device cannot
   * prove (OUT_OF_MEMORY after its retries and any accepted fallback, WORKER_CRASHED); `'always'`: every
   * job. Such a job is the runtime's like any other (its id, quotas, stats' `remote` count, the
   * audit log's `sent-to-server`); its requests are retried with the runtime's `backoff` (the
   * server's `Retry-After` up to 60 s honoured), a lost event stream is read again from its last
   * event. The server's proof is checked on the page (circuit, public signals, the manifest's
   * verifying key) before `result` resolves. With `workerKeys` (the operator's workers.json,
   * pinned), the worker's ed25519 signature is checked too (WebCrypto): a key not pinned is
   * UNKNOWN_WORKER, a signature that does not sign exactly the task, circuit, verifying key, proof
   * and public signals is BAD_SIGNATURE, and nothing is returned.
   */
  remote?: { url: string; apiKey?: string; when?: 'fallback' | 'always'; workerKeys?: WorkerKeys | WorkerKey[] };
}

/** A prover worker's public key, as `airprover workers export-keys` writes it. */
export interface WorkerKey {
  /** The worker's id. */
  id: string;
  /** Its ed25519 public key, 64 hex digits. */
  publicKey: string;
}

/** `workers.json`: the worker keys a page pins for `remote`. */
export interface WorkerKeys {
  workers: WorkerKey[];
}

export interface StorageOptions {
  /** The IndexedDB database's name. Default 'airprover'. */
  name?: string;
  /**
   * The proof cache (proofs and public signals only, never claims): least recently used entries
   * are evicted past either bound. `false`: no proof cache. Default { maxEntries: 100, maxBytes: 1048576 }.
   */
  proofCache?: false | { maxEntries?: number; maxBytes?: number };
  /** Keep proving and verifying keys (checked against the manifest's SHA-256 on every load). Default true. */
  keyCache?: boolean;
  /**
   * Store queued and running jobs and resume them when a runtime starts again on this origin.
   * A stored job holds its claim, secret included, until the job ends, sealed with AES-GCM under
   * a non-extractable WebCrypto key of the origin (needs a secure context). Default false.
   */
  durableQueue?: boolean;
  /** Audit events kept in IndexedDB (0: none). Default 1000. */
  auditLogSize?: number;
}

export interface SubmitOptions {
  priority?: Priority;
  /** Aborting it cancels the job (rejects with CANCELLED). */
  signal?: AbortSignal;
  /** Per-attempt timeout; a timeout is a retryable TIMEOUT. */
  timeoutMs?: number;
  maxRetries?: number;
  /** For quotas. */
  userId?: string;
  onProgress?: (progress: Progress) => void;
  /**
   * Smaller circuits (same rule and depth) whose proof you accept after OUT_OF_MEMORY. Default
   * none: the job stays on the claim's circuit. The result's `circuit` says which was proved.
   */
  fallbackCircuits?: string[];
}

/** One submission. */
export interface Job {
  /** Shared by identical claims in flight (they share one proof). */
  readonly id: number;
  readonly result: Promise<ProofResult>;
  readonly progress: Readable<Progress>;
  /**
   * Whether the job is in the durable queue (it survives a reload): false when the queue is off
   * (the default) or storing it failed (quota, no WebCrypto outside a secure context).
   */
  readonly stored: Promise<boolean>;
  /** Rejects `result` with CANCELLED now; stops the proof if nobody else waits on it. */
  cancel(): void;
}

export interface StateCounts {
  queued: number;
  running: number;
  /** On the operator's server (`remote`). */
  remote: number;
  completed: number;
  failed: number;
  cancelled: number;
}

export interface Stats {
  byPriority: Record<Priority, StateCounts>;
  successRate: number | null;
  durations: Record<string, { p50: number; p95: number; p99: number; count: number }>;
  predictions: Record<string, number>;
  workers: number;
  busyWorkers: number;
  build: 'threaded' | 'single';
  threadsInUse: number;
  wasmMemoryPerWorker: number[];
  /** The caches, as `prover.cacheStats`. */
  cache: CacheStats;
}

/** Cache counters. Entries and bytes: the proof store after this runtime's last change; the rest: this runtime's. */
export interface CacheStats {
  /** Whether the proof cache is in use. */
  enabled: boolean;
  entries: number;
  bytes: number;
  maxEntries: number;
  maxBytes: number;
  /** Claims answered from the cache. */
  hits: number;
  /** Claims proved (nothing usable cached). */
  misses: number;
  /** hits / (hits + misses); null before any lookup. */
  hitRate: number | null;
  /** Entries evicted by the LRU bounds. */
  evictions: number;
  /** Entries found tampered or stale: dropped and recomputed. */
  rejected: number;
  keys: {
    enabled: boolean;
    /** Keys read from IndexedDB and found intact. */
    hits: number;
    downloads: number;
    /** Stored keys whose bytes did not match the manifest: dropped and downloaded again. */
    integrityFailures: number;
    /** Keys of an earlier manifest evicted at start. */
    evicted: number;
  };
}

/** `status.storage`: whether IndexedDB is in use, and why not. */
export interface StorageStatus {
  available: boolean;
  /** Why storage is off, or the last storage problem; empty when all is well. */
  reason: string;
  name: string;
  proofCache: boolean;
  keyCache: boolean;
  durableQueue: boolean;
  /** A write failed for lack of quota: proofs go on, uncached where they must. */
  quotaExceeded: boolean;
}

export interface Status {
  build: 'threaded' | 'single';
  threads: number;
  /** Why this build, in words (e.g. the page is not cross-origin isolated). */
  reason: string;
  /** THREADS_UNAVAILABLE once a worker asked for the threaded build came up single-threaded; else null. */
  code: 'THREADS_UNAVAILABLE' | null;
  crossOriginIsolated: boolean;
  workers: number;
  terminated: boolean;
  storage: StorageStatus;
}

export interface AuditEvent {
  atMs: number;
  job: number;
  kind:
    | 'submitted'
    | 'resumed'
    | 'cache-hit'
    | 'cache-rejected'
    | 'deduplicated'
    | 'rejected'
    | 'started'
    | 'retried'
    | 'fell-back'
    | 'sent-to-server'
    | 'worker-crashed'
    | 'stalled'
    | 'succeeded'
    | 'failed'
    | 'cancelled'
    | 'internal';
  circuit: string;
  priority: Priority;
  attempt: number;
  code?: ErrorCode;
}

/**
 * A job of a circom circuit the manifest lists (`kind: "circom"`): its input as snarkjs takes it.
 * A claim never has an `input` field, so the two forms cannot be confused. The input's signals
 * are checked by the circuit's witness wasm in the worker: the job rejects with INVALID_INPUT
 * naming the signal (never a value) or WITNESS_FAILED with circom's message. The input is never
 * stored (circom jobs stay out of the durable queue); its proof cache key is an HMAC under a
 * non-extractable key of the origin, never a plain hash of the input.
 */
export interface CircomJobInput {
  circuit: string;
  input: CircomInput;
}

/**
 * A job of a circom circuit the manifest lists, from a ready witness: the bytes of snarkjs's
 * `.wtns` (what `snarkjs wtns calculate` writes). The worker reads it and checks it against the
 * key: ZKEY_MISMATCH for another circuit's witness, INVALID_INPUT for a damaged file. Its proof
 * cache key is an HMAC of the witness bytes, never a plain hash; it is never stored and never sent
 * to a `remote` server (with `when: 'always'` submit throws INVALID_INPUT).
 */
export interface CircomWitnessJob {
  circuit: string;
  wtns: Uint8Array | ArrayBuffer;
}

/**
 * A circom input as snarkjs takes it: signal name to a number, a bigint, a decimal or 0x-hex
 * string, or nested arrays of them. (Declared here, not taken from the wasm glue's declarations,
 * which need TypeScript's `esnext.disposable` lib.)
 */
export type CircomInput = Record<string, unknown>;

export interface Prover {
  /**
   * A claim, a circom circuit's `{ circuit, input }` or `{ circuit, wtns }`. The result is `{ proof, publicSignals }`
   * in snarkjs's JSON, verified on the page with the manifest's verifying key. Throws
   * AirproverError for a bad claim or options, QUEUE_FULL, RATE_LIMITED, TERMINATED.
   */
  submit(claim: Claim | CircomJobInput | CircomWitnessJob | string, options?: SubmitOptions): Job;
  /** Ends every worker; unfinished jobs reject with TERMINATED. */
  terminate(): void;
  readonly stats: Readable<Stats>;
  readonly status: Readable<Status>;
  /** Job events (never claims or secrets), oldest first. */
  auditLog(): AuditEvent[];
  /** The audit log persisted in IndexedDB: this and earlier runtimes of the origin, oldest first. */
  persistedAuditLog(): Promise<(AuditEvent & { session: string; wallMs: number; seq: number })[]>;
  /** Empties the proof cache and the key cache (not the durable queue, not the audit log). */
  clearCache(): Promise<void>;
  /** The caches' counters (also `stats.value.cache`). */
  readonly cacheStats: Readable<CacheStats>;
  /** Jobs resumed from the durable queue when this runtime started. */
  resumed(): Job[];
  /** Predicted proving time of a circuit on this device (ms), from this runtime's history. */
  predict(circuit: string): number | undefined;
  workerCount(): number;
}

/** Starts the runtime: reads the key manifest and picks the build for this page. */
export function createProver(options: ProverOptions): Promise<Prover>;

// Standalone functions of the page-side module (the single-threaded build). `await init()` first
// (`createProver` calls it too). They run on the calling thread: `prove` blocks it for as long as
// proving takes, so call it in a Worker; the runtime (`createProver`) does that for you.

/** Instantiates the page-side wasm module, once. */
export function init(): Promise<void>;

/** circomlib's `poseidon(inputs)` over BN254 as a decimal string; inputs as the claim spec spells numbers. */
export function poseidonHash(inputs: (string | number)[]): string;

/** The tree file an operator publishes (`airprover sample` writes one: NAME.tree.json). */
export interface CampaignTreeFile {
  depth: number;
  root: string;
  /** In index order from 0. */
  leaves: { index: number; attester: string; subject: string; weight: number }[];
}

/** An attestation as the claim input lists it (`Claim['attestations']`), numbers as numbers. */
export interface ClaimAttestation {
  index: number;
  attester: string;
  weight: number;
  /** D siblings, leaf level first. */
  siblings: string[];
}

/** An identity in a campaign's tree: its commitment and its attestations, in leaf order. */
export interface CampaignIdentity {
  /** `Poseidon([secret])`, `0x` and 64 hex digits. */
  commitment: string;
  attestations: ClaimAttestation[];
  /** The sum of their weights. */
  score: number;
}

/**
 * A campaign's published tree, hashed in wasm: the root recomputed, and each identity's
 * attestations with their Merkle paths. Throws `INVALID_JSON` / `INVALID_INPUT` (naming the field,
 * e.g. `leaves[3].weight`) for a malformed file. A 10,000-leaf tree takes about 20,000 hashes: build
 * it in a Worker. `free()` releases its wasm memory.
 */
export class CampaignTree {
  constructor(tree: CampaignTreeFile | string);
  readonly depth: number;
  /** Attestations in the tree. */
  readonly count: number;
  /** The published root, `0x` and 64 hex digits: what claims are made against. */
  readonly root: string;
  /** The root the leaves hash to: `root` unless the file is corrupt or stale. */
  readonly computedRoot: string;
  /** The commitment of `secret` and its attestations with their paths (none: not in the tree). */
  attestationsOf(secret: string | number): CampaignIdentity;
  free(): void;
}

/** A threshold circuit of a tree's depth. */
export interface ThresholdCircuit {
  id: string;
  k: number;
}

/** The circuit a claim is proved with, and the attestations it keeps. */
export interface CircuitChoice<T> extends ThresholdCircuit {
  /** The K heaviest attestations given (ties: the lower index), in leaf order: the claim's. */
  attestations: T[];
  /** The sum of their weights. */
  score: number;
  /** Whether `score` reaches the threshold. */
  reached: boolean;
}

/**
 * The `threshold-d{depth}-k{K}` circuits among `circuitIds` (a key manifest's), smallest K first.
 * Other circuits are left out; an id that names no circuit throws `UNKNOWN_CIRCUIT`.
 */
export function thresholdCircuits(circuitIds: string[], depth: number): ThresholdCircuit[];

/**
 * The smallest threshold circuit of `depth` among `circuitIds` whose K heaviest `attestations`
 * reach `threshold` (the fastest proof), or the largest when none does (proving then fails with
 * `SCORE_NOT_MET`); `null` when there is no threshold circuit of that depth.
 */
export function smallestCircuit<T extends { index: number | string; weight: number | string }>(
  circuitIds: string[],
  attestations: T[],
  threshold: number | string,
  depth: number,
): CircuitChoice<T> | null;

/** Whether a snarkjs `proof.json` and `public.json` verify against a verifying key file. */
export function verify(verifyingKey: Uint8Array, proof: SnarkjsProof | string, publicSignals: string[] | string): boolean;

/** The circuit id a proving or verifying key file is for, from its header alone. */
export function keyCircuit(key: Uint8Array): string;

/** snarkjs's `verification_key.json` of a verifying key file. */
export function verificationKeyJson(verifyingKey: Uint8Array): Record<string, unknown>;

/**
 * The Solidity Groth16 verifier contract of a verifying key file (snarkjs's `verifyProof`
 * interface; the text `airprover export-verifier` writes). A development key's contract says so.
 */
export function solidityVerifier(verifyingKey: Uint8Array): string;

/** `verifyProof(pA, pB, pC, pubSignals)`'s arguments, from `solidityCalldata`. */
export interface SolidityCalldata {
  /** What `snarkjs zkey export soliditycalldata` (and `airprover calldata`) prints. */
  text: string;
  pA: [bigint, bigint];
  /** G2 in EIP-197 order: `[[x.c1, x.c0], [y.c1, y.c0]]`. */
  pB: [[bigint, bigint], [bigint, bigint]];
  pC: [bigint, bigint];
  pubSignals: bigint[];
  /** `[pA, pB, pC, pubSignals]`: the `args` of a viem or ethers call of `verifyProof` or `claim`. */
  args: [[bigint, bigint], [[bigint, bigint], [bigint, bigint]], [bigint, bigint], bigint[]];
}

/**
 * The calldata of a snarkjs proof for `verifyProof` and `ReputationAirdrop.claim`. The proof's
 * points are checked (on the curve, in the subgroup), not verified: `INVALID_PROOF` otherwise.
 */
export function solidityCalldata(proof: SnarkjsProof | string, publicSignals: string[] | string): SolidityCalldata;
/** Whether a snarkjs proof and public signals verify against snarkjs's `verification_key.json` (`init()` first). */
export function verifySnarkjs(vkey: object | string, publicSignals: string[] | string, proof: SnarkjsProof | string): boolean;
/** snarkjs's `verification_key.json` of a Groth16 `.zkey`'s bytes (`init()` first). */
export function zkeyVerificationKey(zkey: Uint8Array): object;

/**
 * A claim's phase at the claim relayer (`airprover serve --campaigns`): `GET /v1/claims/{id}`'s
 * `phase`, and the event types of `GET /v1/claims/{id}/events`. `waiting_for_fees`: sending (or
 * replacing the pending transaction) would offer more per gas than the campaign's
 * `maxFeePerGasWei`; a transaction sent before may still be mined meanwhile. `submitted` comes
 * again for each replacement. `confirmed` comes once the transaction is the campaign's
 * `confirmations` blocks deep.
 */
export type RelayPhase =
  | 'received'
  | 'verified'
  | 'waiting_for_fees'
  | 'submitted'
  | 'confirmed'
  | 'failed';

/** The claim relayer's codes (`{ code, message }` answers, and a failed claim's `code`). */
export type Code =
  | 'INVALID_JSON'
  | 'INVALID_INPUT'
  | 'UNKNOWN_CAMPAIGN'
  | 'UNKNOWN_CLAIM'
  | 'INVALID_PROOF'
  | 'WRONG_CAMPAIGN'
  | 'ROOT_NOT_PUBLISHED'
  | 'THRESHOLD_BELOW_CAMPAIGN'
  | 'SCORE_MISMATCH'
  | 'CLAIMANT_NOT_AN_ADDRESS'
  | 'NULLIFIER_USED'
  | 'NULLIFIER_PENDING'
  | 'REVERTED'
  | 'MISCONFIGURED'
  | 'ACCOUNT_NOT_CONFIGURED'
  | 'CHAIN_UNAVAILABLE'
  | 'STORAGE_UNAVAILABLE'
  | 'INTERNAL';

/** `GET /v1/claims/{id}`: the fields after `claimant` appear as the claim gets them. */
export interface RelayClaimStatus {
  id: string;
  campaign: string;
  phase: RelayPhase;
  /** Decimal. */
  nullifier: string;
  claimant: string;
  /** The relayer account and its nonce, once allocated. */
  account?: string;
  nonce?: number;
  /** The newest transaction sent; once confirmed, the one mined. */
  txHash?: string;
  /** Every transaction sent (replacements: same nonce, higher fees), oldest first. */
  transactions?: string[];
  /** Confirmed: where, and the gas used. */
  block?: number;
  gasUsed?: number;
  /** Confirmed by another sender's transaction of the same calldata (same claimant, same amount). */
  sentBy?: string;
  /** Failed: why. */
  code?: Code;
  message?: string;
}

/** Both key files of a circuit: with a `seed`, DEVELOPMENT keys (anyone with the seed can forge proofs). */
export function setup(circuitId: string, seed?: number | bigint | null): {
  provingKey: Uint8Array;
  verifyingKey: Uint8Array;
  constraints: number;
};

/** Proves a claim with its circuit's proving key file on this thread (blocks it: use a Worker). */
export function prove(
  claim: Claim | string,
  provingKey: Uint8Array,
  onProgress: (progress: { stage: string; fraction: number; elapsedMs: number }) => void,
): ProofResult & { ms: number };
