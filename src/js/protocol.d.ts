// The page–worker protocol, as the worker files see it: the TypeScript side of the serde types in
// src/runtime/protocol.rs (PageMessage, WorkerMessage), written once beside them. The worker
// files (prover-worker.js, worker-jobs.js) are checked against it: `npm --prefix tests/browser
// run typecheck` (part of the browser tests).

export type Build = 'threaded' | 'single';

/** Page → worker. */
export type PageMessage = InitMessage | JobMessage;

export interface InitMessage {
  type: 'airprover:init';
  threads: number;
  build: Build;
}

export interface JobMessage {
  type: 'airprover:job';
  id: number;
  attempt: number;
  circuit: string;
  /** The claim, canonical JSON (absent for a circom job). */
  claim?: string;
  /** A circom job: its input and witness wasm (`key` is then the circuit's snarkjs `.zkey`). */
  circom?: CircomWork;
  key: KeyMessage | null;
  /** The IndexedDB database whose `keys` store caches proving keys; null for no key cache. */
  storage: { name: string; blockedMs: number } | null;
  /** Test-only fault injection. */
  fault?: Fault;
}

export interface CircomWork {
  /** The input object, JSON (never logged, never in an error); absent for a ready witness. */
  input?: string;
  /** A ready witness: the bytes of a snarkjs `.wtns` (the witness wasm is then not loaded). */
  witness?: Uint8Array;
  /** circom's witness wasm, pinned like a key (and cached with the keys). */
  wasm: KeyMessage;
}

export interface KeyMessage {
  url: string;
  sha256: string;
  bytes: number;
  development: boolean;
}

export interface Fault {
  crashAtStage?: string;
  stallAtStage?: string;
  oomAtStage?: string;
  stallMs: number;
}

/** Worker → page. */
export type WorkerMessage =
  | ReadyMessage
  | ThreadsFailedMessage
  | LoadErrorMessage
  | JobProgressMessage
  | KeyEventMessage
  | JobResultMessage
  | JobErrorMessage;

export interface ReadyMessage {
  type: 'airprover:ready';
  build: Build;
  info: { threaded: boolean; threads?: number };
  ms: number;
}

/** The threaded build was asked for and did not start: the runtime decides what follows. */
export interface ThreadsFailedMessage {
  type: 'airprover:threads-failed';
  /** Why, as the browser said it. */
  error: string;
}

export interface LoadErrorMessage {
  type: 'airprover:error';
  error: WorkerError;
}

export interface JobProgressMessage {
  type: 'airprover:job-progress';
  id: number;
  progress: { stage: string; fraction: number };
  memoryBytes?: number;
}

export interface KeyEventMessage {
  type: 'airprover:key-event';
  id: number;
  event: KeyEvent;
}

export interface KeyEvent {
  source?: 'cache' | 'network';
  /** A stored copy that did not match its pin, dropped: the runtime reports it (answers::dropped_key). */
  evicted?: { url: string; bytes: number };
  storeError?: WorkerError;
}

export interface JobResultMessage {
  type: 'airprover:job-result';
  id: number;
  value: { proof: unknown; publicSignals: string[] };
  ms: number;
  memoryBytes?: number;
}

export interface JobErrorMessage {
  type: 'airprover:job-error';
  id: number;
  error: WorkerError;
  memoryBytes?: number;
}

/** storage.js's plainError: the runtime decides the code (WorkerError::code in src/runtime/protocol.rs). */
export interface WorkerError {
  name: string;
  code: string | null;
  message: string;
  trap: boolean;
  quota: boolean;
  /** A key download that gave no file: the HTTP status, null where fetch itself failed. */
  download?: { status: number | null } | null;
  /** A downloaded file whose size or SHA-256 is not the manifest's pin: the bytes that came. */
  mismatch?: { received: number } | null;
  /** The job message named no key file. */
  noKey?: boolean;
  /** After a failure the runtime names (checksKeyAfter): how checking the key's points failed. */
  keyCheck?: WorkerError | null;
}
