//! The engine's vocabulary: what it is configured with ([`EngineConfig`]), what it is fed
//! ([`Event`]) and what it answers ([`Effect`]), with the views it publishes. The machine that
//! turns one into the other is `machine.rs`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::runtime::audit::AuditEvent;
use crate::runtime::code::ErrorCode;
use crate::runtime::durable::DurableJob;
use crate::runtime::fallback::Build;
use crate::runtime::proof_cache::ProofRecord;
use crate::runtime::protocol::{Fault, KeyMessage, PageMessage, WorkerMessage};
use crate::runtime::remote::{Report, ServerAnswer};
use crate::runtime::scheduler::{Attempt, Config, JobId, Refusal, Stats, Submission, WorkerId};
use crate::runtime::statement::{CacheKey, Statement};

/// One caller waiting on a job (identical submissions share a job, each with its own id).
pub type SubscriberId = u64;

/// A circuit's keys as the manifest lists them.
#[derive(Debug, Clone, PartialEq)]
pub struct CircuitKeys {
    /// The proving key (the worker downloads it): a circom circuit's snarkjs `.zkey`, which the
    /// worker converts once.
    pub proving: KeyMessage,
    /// The verifying key (the proof cache checks proofs with it): a circom circuit's snarkjs
    /// `verification_key.json`.
    pub verifying: KeyMessage,
    /// A circom circuit's witness wasm; `None` for airprover's own circuits.
    pub witness: Option<KeyMessage>,
}

/// What the runtime may keep in IndexedDB, as it was opened.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoragePlan {
    /// Proofs are cached (and a job first asks the cache).
    pub proof_cache: bool,
    /// Unfinished jobs are stored and resumed by the next runtime.
    pub durable_queue: bool,
    /// The database workers keep proving keys in, if any.
    pub key_cache: Option<String>,
    /// Audit events are copied to IndexedDB.
    pub audit_log: bool,
}

/// Everything the engine starts from.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The scheduler's settings (its `circuits` and `check_cache` are set from `keys` and
    /// `storage`).
    pub scheduler: Config,
    /// Random seed for the scheduler's jitter.
    pub seed: u64,
    /// The manifest: keys per circuit id.
    pub keys: BTreeMap<String, CircuitKeys>,
    /// Threads a worker of the threaded build asks for.
    pub threads: u32,
    /// Why this build and thread count (the status line).
    pub reason: String,
    /// `crossOriginIsolated` of the page.
    pub cross_origin_isolated: bool,
    /// What storage is in use.
    pub storage: StoragePlan,
    /// Test faults for the first `times` attempts.
    pub fault: Option<(Fault, u32)>,
}

/// A timer the engine arms; it comes back as [`Event::Timer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timer {
    /// The scheduler's next wake-up (a retry due, an idle worker to end, a stall to check).
    Wake,
    /// An attempt's own timeout.
    Attempt {
        /// The job.
        job: JobId,
        /// Which attempt (a later attempt's timer is another timer).
        attempt: u32,
    },
    /// A job on the operator's server asks again (sends again, or reads its events again).
    Remote {
        /// The job.
        job: JobId,
    },
}

/// The proof cache's answer about a job's claim.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// A stored proof passed every check: the job's result.
    Hit(Value),
    /// Nothing stored, or the cache could not be read.
    Miss,
    /// A stored proof failed a check and was evicted (why, in words).
    Rejected(String),
}

/// Something that happened.
#[derive(Debug, Clone)]
pub enum Event {
    /// A caller submits a statement; `wall_ms` is the wall clock, for its durable record. Its
    /// answer is the first effect: [`Effect::Answer`].
    Submit {
        /// What the caller asks for.
        submission: Submission,
        /// Wall-clock ms.
        wall_ms: f64,
    },
    /// A stored job resumes (its record locked by this runtime). Its answer is the first
    /// effect: [`Effect::Answer`].
    Resume {
        /// The stored record.
        record: DurableJob,
    },
    /// One caller gives up on a job.
    Cancel {
        /// The job.
        job: JobId,
        /// The caller.
        subscriber: SubscriberId,
    },
    /// `terminate()`: every worker ends, every unfinished job rejects with TERMINATED.
    Terminate,
    /// A worker posted a message of the protocol.
    Worker {
        /// Which worker.
        worker: WorkerId,
        /// What it said.
        message: WorkerMessage,
    },
    /// A worker's `error` event: it is gone.
    WorkerDied {
        /// Which worker.
        worker: WorkerId,
    },
    /// [`Effect::Spawn`] failed: no Worker could be made.
    SpawnFailed {
        /// Which worker.
        worker: WorkerId,
    },
    /// A timer fired.
    Timer(Timer),
    /// The proof cache answered [`StorageOp::Lookup`].
    CacheAnswer {
        /// The job.
        job: JobId,
        /// The answer.
        lookup: Lookup,
    },
    /// A storage request ended (its counters may have changed): publish again.
    StorageChanged,
    /// The database was closed (another tab deleted or upgraded it): nothing more is stored.
    StorageClosed,
    /// What the page saw of a job's requests to the operator's server ([`Effect::Remote`]).
    Remote {
        /// The job.
        job: JobId,
        /// Raw: statuses, bodies, events, a signature check's verdict.
        report: Report,
    },
    /// The page checked a worker's proof ([`Effect::Verify`]): `Err` says why it does not verify
    /// (KEY_INTEGRITY), or why the check could not run (the verifying key's download: NETWORK,
    /// KEY_NOT_FOUND, ...).
    Verified {
        /// The job.
        job: JobId,
        /// The worker that sent it.
        worker: WorkerId,
        /// The verdict.
        verdict: Result<(), (ErrorCode, String)>,
    },
}

/// Where a stored-or-not answer for a new job comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Known now: stored already (resumed, or joined to a stored job) or not stored at all.
    Known(bool),
    /// [`StorageOp::StoreJob`] for the job follows: its outcome says.
    Storing,
}

/// A submission the engine accepted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ticket {
    /// The job (shared with identical submissions).
    pub job: JobId,
    /// This caller.
    pub subscriber: SubscriberId,
    /// Whether the job is in the durable queue.
    pub durable: Durability,
}

/// What a job's progress shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressView {
    /// `queued`, `loading-keys` (a circom job: `download`, `convert`), `witness`, `proving`,
    /// `verifying`, `done`, `failed`, `cancelled`.
    pub stage: &'static str,
    /// 0..=100.
    pub percent: f64,
    /// Predicted time left, ms.
    pub eta_ms: Option<f64>,
    /// Answered from the proof cache.
    pub cached: bool,
    /// The job has ended.
    pub done: bool,
    /// Attempts started so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// The last view of the job (it succeeded, failed or was cancelled): its store may go.
    #[serde(skip)]
    pub ended: bool,
    /// On the operator's server: progress from its event stream.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub remote: bool,
}

/// Why a caller's promise rejects.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The code (its fields come from the table in `code.rs`).
    pub code: ErrorCode,
    /// In words (the worker's message, or the code's default).
    pub message: String,
    /// The job's failed attempts.
    pub attempts: Vec<Attempt>,
    /// REMOTE_FAILED: what the operator's server answered.
    pub server: Option<ServerAnswer>,
    /// A job that moved to the server: the code it failed with on the device.
    pub local_error: Option<ErrorCode>,
}

/// The runtime's status line.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusLine {
    /// The build workers run now (`threaded` or `single`).
    pub build: Build,
    /// Threads per worker.
    pub threads: u32,
    /// Why, in words.
    pub reason: String,
    /// THREADS_UNAVAILABLE once a worker asked for the threaded build came up single-threaded.
    #[serde(serialize_with = "code_name")]
    pub code: Option<ErrorCode>,
    /// The page's `crossOriginIsolated`.
    pub cross_origin_isolated: bool,
    /// Live workers.
    pub workers: usize,
    /// `terminate()` was called (or workers cannot start here).
    pub terminated: bool,
}

/// The runtime's counters (the web layer adds the caches' own).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EngineStats {
    /// The scheduler's counters.
    #[serde(flatten)]
    pub scheduler: Stats,
    /// Threads across live workers.
    pub threads_in_use: u32,
    /// The wasm memory each live worker last reported, bytes.
    pub wasm_memory_per_worker: Vec<f64>,
}

/// A request to IndexedDB.
#[derive(Debug, Clone, PartialEq)]
pub enum StorageOp {
    /// Look the claim up in the proof cache; answer with [`Event::CacheAnswer`].
    Lookup {
        /// The job.
        job: JobId,
        /// Its proof cache key (a circom input's: what the web layer signs).
        key: CacheKey,
        /// What the job proves.
        statement: Statement,
        /// The circuit's verifying key, to check a stored proof with.
        verifying_key: KeyMessage,
    },
    /// Store a new job's record; its outcome answers the job's `stored` promise.
    StoreJob {
        /// The job.
        job: JobId,
        /// The record.
        record: DurableJob,
    },
    /// Write a stored job's record back (its run counted).
    PutJob {
        /// The record.
        record: DurableJob,
    },
    /// Cache a proof just made, and remove its job's record in the same transaction.
    CacheProof {
        /// The proof, filed under `key`'s digest; under a keyed key it is refiled
        /// ([`ProofRecord::refile`]) under the HMAC the web layer makes.
        record: ProofRecord,
        /// Its proof cache key.
        key: CacheKey,
        /// The job's durable record id, if stored.
        durable: Option<String>,
        /// The circuit's verifying key (the cache prepares its verifier).
        verifying_key: KeyMessage,
    },
    /// A stored job ended without a proof to cache.
    EndJob {
        /// Its record id.
        id: String,
        /// Whether the record leaves the queue (false: the runtime ended, it only unlocks).
        leaves: bool,
    },
    /// Another runtime may take this stored job now.
    Unlock {
        /// Its record id.
        id: String,
    },
    /// Resume these stored jobs (lock each, then [`Event::Resume`]).
    Resume {
        /// The records.
        records: Vec<DurableJob>,
    },
    /// Copy these audit events to IndexedDB.
    AppendAudit {
        /// New events since the last copy, oldest first.
        events: Vec<AuditEvent>,
    },
}

/// A request to the operator's server (`remote`), carried out by `src/js/remote.js`.
#[derive(Debug, Clone, PartialEq)]
pub enum RemoteOp {
    /// `POST /v1/proofs` with `body`; report [`Report::Answered`] or [`Report::Unreachable`].
    Send {
        /// The job.
        job: JobId,
        /// `{ claim }` or `{ circuit, input }`, as JSON text.
        body: String,
    },
    /// Read `GET /v1/proofs/{id}/events` (with `Last-Event-ID`): each event as
    /// [`Report::Event`], its end as [`Report::StreamEnded`].
    Follow {
        /// The job.
        job: JobId,
        /// The server's task id.
        id: String,
        /// The last event seen.
        last_event: Option<String>,
    },
    /// Check the server's answer: the worker's signature over the bytes recomputed from `data`
    /// (against the pinned worker keys), then the proof against the manifest's verifying key;
    /// report [`Report::Checked`].
    Check {
        /// The job.
        job: JobId,
        /// The server's task id.
        id: String,
        /// What the job proves.
        statement: Box<Statement>,
        /// The manifest's verifying key of its circuit.
        verifying_key: KeyMessage,
        /// The `succeeded` event's data, as the server sent it.
        data: String,
        /// It, parsed.
        value: Value,
    },
    /// Stop every request of the job; `cancel_task`: also cancel that task on the server.
    End {
        /// The job.
        job: JobId,
        /// The server's task to cancel (`DELETE /v1/proofs/{id}`).
        cancel_task: Option<String>,
    },
}

/// What the web layer must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// The answer to [`Event::Submit`] or [`Event::Resume`], always their first effect: the
    /// caller's ticket, or why not ([`Effect::take_answer`]).
    Answer(Answer),
    /// Start a Worker of `build`, then post `init` to it; on failure feed [`Event::SpawnFailed`].
    Spawn {
        /// The new worker's id.
        worker: WorkerId,
        /// Its build.
        build: Build,
        /// Its first message.
        init: PageMessage,
    },
    /// Post a message to a worker.
    Post {
        /// The worker.
        worker: WorkerId,
        /// The message.
        message: PageMessage,
    },
    /// End a worker (the only way to stop running wasm).
    Terminate {
        /// The worker.
        worker: WorkerId,
    },
    /// Arm (or re-arm) a timer for `at_ms` on the runtime's clock.
    Arm {
        /// Which timer.
        timer: Timer,
        /// When.
        at_ms: f64,
    },
    /// Drop a timer.
    Disarm {
        /// Which timer.
        timer: Timer,
    },
    /// A caller's promise resolves with the result; the caller is done.
    Resolve {
        /// The caller.
        subscriber: SubscriberId,
        /// `{ proof, publicSignals, circuit, verifyingKeySha256, ... }`.
        value: Value,
    },
    /// A caller's promise rejects; the caller is done.
    Reject {
        /// The caller.
        subscriber: SubscriberId,
        /// Why.
        failure: Failure,
    },
    /// A job's progress changed: its store and its callers' `onProgress`.
    Progress {
        /// The job.
        job: JobId,
        /// What it shows.
        view: ProgressView,
        /// The callers to tell.
        subscribers: Vec<SubscriberId>,
    },
    /// Stats and status changed (they are published after every event).
    Publish {
        /// Counters.
        stats: EngineStats,
        /// The status line.
        status: StatusLine,
    },
    /// Check a worker's proof on the page against the manifest's verifying key (the worker's own
    /// check used the one inside its proving key), then feed [`Event::Verified`].
    Verify {
        /// The job.
        job: JobId,
        /// The worker that sent it.
        worker: WorkerId,
        /// What it proves (a fallback may have rewritten a claim).
        statement: Statement,
        /// The manifest's verifying key of the statement's circuit.
        verifying_key: KeyMessage,
        /// The worker's result: `{ proof, publicSignals, ... }`.
        value: Value,
    },
    /// A request to IndexedDB.
    Storage(StorageOp),
    /// A request to the operator's server; what the page sees comes back as [`Event::Remote`].
    Remote(RemoteOp),
    /// A warning for the console (never a claim or a secret).
    Warn(String),
}

fn code_name<S: serde::Serializer>(code: &Option<ErrorCode>, s: S) -> Result<S::Ok, S::Error> {
    code.map(ErrorCode::as_str).serialize(s)
}

/// A caller's ticket, or why its submission was refused.
pub type Answer = Result<Ticket, Refusal>;

impl Effect {
    /// Takes [`Effect::Answer`] off the front of `effects` (where [`Event::Submit`] and
    /// [`Event::Resume`] put it); None for another event's effects.
    pub fn take_answer(effects: &mut Vec<Effect>) -> Option<Answer> {
        match effects.first() {
            Some(Effect::Answer(_)) => match effects.remove(0) {
                Effect::Answer(answer) => Some(answer),
                _ => None,
            },
            _ => None,
        }
    }
}
