//! The scheduler: which job runs where, retries, fallbacks, timeouts and quotas, as a state
//! machine with no I/O.
//!
//! [`super::engine::Engine`] feeds it what happened (a job submitted, a worker ready, a result, a
//! crash, a timer) with the current time and turns the [`Command`]s it returns (spawn or
//! terminate a worker, run a job, settle a job, wake up later) into the engine's effects; the
//! scheduler never sees the page. Because time and randomness come in from outside, every path
//! here is tested natively with `cargo test`.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::audit::{AuditEvent, AuditLog, EventKind};
use super::code::ErrorCode;
use super::fallback::{self, Build};
use super::metrics::{self, DurationHistory, Percentiles};
use super::queue::{JobQueue, Priority};
use super::quota::{QuotaLimits, Quotas};
use super::remote::Plan;
use super::retry::{Backoff, Jitter};
use super::statement::Statement;
use crate::circuit::CircuitId;

/// A job's id.
pub type JobId = u64;
/// A worker's id (never reused, so messages from a terminated worker are recognised as stale).
pub type WorkerId = u64;

/// Runtime settings, with the documented defaults.
#[derive(Debug, Clone)]
pub struct Config {
    /// Unfinished jobs at most; past it, `submit` fails with QUEUE_FULL. Default 100.
    pub capacity: usize,
    /// Job workers. Default 1.
    pub workers: usize,
    /// An idle worker shuts down after this long. Default 60 s.
    pub idle_timeout_ms: f64,
    /// Retries of a retryable failure, unless the job says otherwise. Default 3.
    pub max_retries: u32,
    /// Per-attempt timeout unless the job says otherwise. Default none.
    pub timeout_ms: Option<f64>,
    /// A running job whose worker sends nothing (no progress, no result) for this long is stuck:
    /// the worker is ended and the attempt is a retryable TIMEOUT. Default 120 s; None: never.
    pub stall_timeout_ms: Option<f64>,
    /// Retry delays.
    pub backoff: Backoff,
    /// Per-user limits. Default none.
    pub quotas: QuotaLimits,
    /// Circuits whose keys are available, for the smaller-circuit fallback.
    pub circuits: Vec<CircuitId>,
    /// The build workers start with.
    pub build: Build,
    /// Durations kept per circuit. Default 100.
    pub history: usize,
    /// Audit events kept. Default 1000.
    pub audit_capacity: usize,
    /// Whether a new job first waits for the proof cache ([`Command::CheckCache`]). Default false.
    pub check_cache: bool,
    /// The operator's server, when jobs may go there (`remote`). Default none.
    pub remote: Option<Plan>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            capacity: 100,
            workers: 1,
            idle_timeout_ms: 60_000.0,
            max_retries: 3,
            timeout_ms: None,
            stall_timeout_ms: Some(120_000.0),
            backoff: Backoff::default(),
            quotas: QuotaLimits::default(),
            circuits: Vec::new(),
            build: Build::Threaded,
            history: 100,
            audit_capacity: 1000,
            check_cache: false,
            remote: None,
        }
    }
}

/// What a caller asks for.
#[derive(Debug, Clone)]
pub struct Submission {
    /// What it proves: a validated claim, or a circom circuit's input.
    pub statement: Statement,
    /// Priority. Default NORMAL.
    pub priority: Priority,
    /// For quotas.
    pub user_id: Option<String>,
    /// Retries of retryable failures; None for the runtime's default.
    pub max_retries: Option<u32>,
    /// Per-attempt timeout in ms; None for the runtime's default.
    pub timeout_ms: Option<f64>,
    /// The smaller circuits whose proof the caller accepts after OUT_OF_MEMORY (the result says
    /// which circuit it is for). Empty, the default: the job stays on the circuit it names.
    pub fallback_circuits: Vec<CircuitId>,
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum JobState {
    /// Waiting for the proof cache's answer ([`Scheduler::cache_answer`]).
    CheckingCache,
    /// Waiting for a worker.
    Queued,
    /// On a worker.
    Running {
        /// The worker.
        worker: WorkerId,
        /// When this attempt started.
        since_ms: f64,
    },
    /// Failed, and will be queued again at `until_ms`.
    RetryWait {
        /// When it is queued again.
        until_ms: f64,
    },
    /// On the operator's server ([`Command::SendRemote`]); it ends there.
    Remote {
        /// When it was sent.
        since_ms: f64,
    },
    /// Final: proved and verified.
    Succeeded,
    /// Final: failed.
    Failed,
    /// Final: cancelled.
    Cancelled,
}

impl JobState {
    /// Whether the job has ended.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            JobState::Succeeded | JobState::Failed | JobState::Cancelled
        )
    }

    /// `checking-cache`, `queued`, `running`, `retry-wait`, `succeeded`, `failed` or `cancelled`.
    pub fn name(&self) -> &'static str {
        match self {
            JobState::CheckingCache => "checking-cache",
            JobState::Queued => "queued",
            JobState::Running { .. } => "running",
            JobState::RetryWait { .. } => "retry-wait",
            JobState::Remote { .. } => "remote",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }
}

/// One failed attempt.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Why it failed.
    pub code: String,
    /// When.
    pub at_ms: f64,
    /// The circuit it ran on.
    pub circuit: String,
}

/// A job.
#[derive(Debug, Clone)]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// What it proves (a claim is rewritten by a smaller-circuit fallback).
    pub statement: Statement,
    /// The statement's dedup text: identical statements share one job.
    pub key: String,
    /// Priority (the highest of its subscribers').
    pub priority: Priority,
    /// Quota owner.
    pub user_id: Option<String>,
    /// Retries allowed.
    pub max_retries: u32,
    /// Per-attempt timeout.
    pub timeout_ms: Option<f64>,
    /// Circuits it may fall back to ([`Submission::fallback_circuits`]).
    pub fallback_circuits: Vec<CircuitId>,
    /// State.
    pub state: JobState,
    /// Attempts started.
    pub attempts: u32,
    /// Failed attempts, oldest first.
    pub history: Vec<Attempt>,
    /// Callers waiting on it (identical submissions share it).
    pub subscribers: u32,
    /// When it was submitted.
    pub submitted_ms: f64,
    /// The final error code, when it failed.
    pub error: Option<ErrorCode>,
    /// Progress of the running attempt, 0..=1.
    pub fraction: f64,
    /// When its worker last sent word of the running attempt (its start, then each progress).
    pub heard_ms: f64,
}

impl Job {
    /// The circuit id as text.
    pub fn circuit(&self) -> String {
        self.statement.circuit().to_string()
    }
}

/// What the web layer must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Start a worker running `build`; it reports ready with [`Scheduler::worker_ready`].
    SpawnWorker {
        /// New worker id.
        worker: WorkerId,
        /// Which wasm build.
        build: Build,
    },
    /// Terminate a worker (the only way to stop running wasm).
    TerminateWorker {
        /// The worker.
        worker: WorkerId,
    },
    /// Send the job's claim to the worker; arm a timer for `timeout_ms` if set.
    Run {
        /// The job.
        job: JobId,
        /// The worker.
        worker: WorkerId,
        /// Attempt number, to recognise a stale timeout.
        attempt: u32,
        /// Per-attempt timeout.
        timeout_ms: Option<f64>,
    },
    /// Resolve the job's promises with the result the worker sent.
    Resolve {
        /// The job.
        job: JobId,
    },
    /// Reject the job's promises.
    Reject {
        /// The job.
        job: JobId,
        /// Why.
        code: ErrorCode,
    },
    /// Call [`Scheduler::tick`] at this time (a retry is due or a worker may idle out).
    WakeAt {
        /// When, in the runtime's clock.
        at_ms: f64,
    },
    /// Look the job's claim up in the proof cache and report with [`Scheduler::cache_answer`].
    CheckCache {
        /// The job.
        job: JobId,
    },
    /// Send the job to the operator's server; report its end with
    /// [`Scheduler::remote_succeeded`] or [`Scheduler::remote_failed`].
    SendRemote {
        /// The job.
        job: JobId,
    },
    /// Stop following the job on the server; `cancel`: cancel its task there too.
    EndRemote {
        /// The job.
        job: JobId,
        /// Whether the server's task is cancelled (the caller cancelled, the runtime ended).
        cancel: bool,
    },
}

/// What the proof cache said about a job's claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheAnswer {
    /// A stored proof passed every check: the job is done.
    Hit,
    /// Nothing stored (or the cache could not be read): prove.
    Miss,
    /// A stored proof failed a check and was evicted: prove.
    Rejected,
}

/// A submission refused at the door.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// QUEUE_FULL, RATE_LIMITED or TERMINATED.
    pub code: ErrorCode,
    /// Why, in words.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum WorkerState {
    Starting,
    Idle { since_ms: f64 },
    Busy { job: JobId },
}

/// Counts of jobs in each state, per priority.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StateCounts {
    /// Waiting for a worker (or for a retry).
    pub queued: usize,
    /// On a worker.
    pub running: usize,
    /// On the operator's server (`remote`).
    pub remote: usize,
    /// Proved.
    pub completed: usize,
    /// Failed.
    pub failed: usize,
    /// Cancelled.
    pub cancelled: usize,
}

/// A snapshot of the runtime for UIs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Counts per priority (`LOW`..`CRITICAL`).
    pub by_priority: BTreeMap<String, StateCounts>,
    /// Completed / (completed + failed), None before any.
    pub success_rate: Option<f64>,
    /// Percentiles of proving durations per circuit (successful attempts, ms).
    pub durations: BTreeMap<String, PercentilesJson>,
    /// Predicted duration per circuit (ms).
    pub predictions: BTreeMap<String, f64>,
    /// Workers alive.
    pub workers: usize,
    /// Workers proving now.
    pub busy_workers: usize,
    /// The build new workers run.
    pub build: String,
}

/// Percentiles as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PercentilesJson {
    /// Median.
    pub p50: f64,
    /// 95th.
    pub p95: f64,
    /// 99th.
    pub p99: f64,
    /// Samples.
    pub count: usize,
}

impl From<Percentiles> for PercentilesJson {
    fn from(p: Percentiles) -> Self {
        PercentilesJson {
            p50: p.p50,
            p95: p.p95,
            p99: p.p99,
            count: p.count,
        }
    }
}

/// Workers in a row that may fail to start before the scheduler gives up
/// ([`Scheduler::worker_failed_to_start`]).
pub const MAX_SPAWN_FAILURES: u32 = 3;

/// The runtime's brain.
#[derive(Debug)]
pub struct Scheduler {
    config: Config,
    jobs: HashMap<JobId, Job>,
    in_flight: HashMap<String, JobId>,
    queue: JobQueue,
    workers: BTreeMap<WorkerId, WorkerState>,
    next_job: JobId,
    next_worker: WorkerId,
    quotas: Quotas,
    history: DurationHistory,
    audit: AuditLog,
    jitter: Jitter,
    commands: Vec<Command>,
    terminated: bool,
    /// Workers in a row that could not be created or whose module did not load.
    spawn_failures: u32,
    /// Final states per priority, kept after the jobs themselves are forgotten.
    finished: BTreeMap<Priority, StateCounts>,
}

impl Scheduler {
    /// A scheduler with `config`; `seed` seeds the retry jitter.
    pub fn new(config: Config, seed: u64) -> Self {
        Scheduler {
            quotas: Quotas::new(config.quotas),
            history: DurationHistory::new(config.history),
            audit: AuditLog::new(config.audit_capacity),
            jitter: Jitter::new(seed),
            config,
            jobs: HashMap::new(),
            in_flight: HashMap::new(),
            queue: JobQueue::new(),
            workers: BTreeMap::new(),
            next_job: 1,
            next_worker: 1,
            commands: Vec::new(),
            terminated: false,
            spawn_failures: 0,
            finished: BTreeMap::new(),
        }
    }

    /// The commands decided since the last call, in order.
    pub fn take_commands(&mut self) -> Vec<Command> {
        std::mem::take(&mut self.commands)
    }

    /// A job, while the runtime remembers it.
    pub fn job(&self, id: JobId) -> Option<&Job> {
        self.jobs.get(&id)
    }

    /// The build new workers run.
    pub fn build(&self) -> Build {
        self.config.build
    }

    /// The operator's server, when jobs may go there.
    pub fn remote(&self) -> Option<&Plan> {
        self.config.remote.as_ref()
    }

    /// The delay before retry number `retry` (1 for the first): the configured backoff with this
    /// scheduler's jitter, as a job's own retries wait (a job's requests to the server use it).
    pub fn retry_delay_ms(&mut self, retry: u32) -> f64 {
        self.config.backoff.delay_ms(retry, self.jitter.next_f64())
    }

    /// Accepts a job, or joins an identical one in flight. Returns `(job, deduplicated)`.
    pub fn submit(&mut self, s: Submission, now_ms: f64) -> Result<(JobId, bool), Refusal> {
        self.accept(s, now_ms, EventKind::Submitted)
    }

    /// [`submit`](Self::submit) for a job stored by an earlier runtime (the durable queue); the
    /// audit log says `resumed`.
    pub fn resume(&mut self, s: Submission, now_ms: f64) -> Result<(JobId, bool), Refusal> {
        self.accept(s, now_ms, EventKind::Resumed)
    }

    /// The proof cache answered for a job in [`JobState::CheckingCache`]: a hit ends it (the web
    /// layer holds the cached result), a miss or a rejected entry queues it. Ignored for a job
    /// that moved on (cancelled meanwhile). Returns whether the answer was taken.
    pub fn cache_answer(&mut self, job: JobId, answer: CacheAnswer, now_ms: f64) -> bool {
        let Some(j) = self.jobs.get_mut(&job) else {
            return false;
        };
        if j.state != JobState::CheckingCache {
            return false;
        }
        match answer {
            CacheAnswer::Hit => {
                self.log(job, EventKind::CacheHit, now_ms, None);
                self.finish(job, JobState::Succeeded, None, now_ms);
                self.commands.push(Command::Resolve { job });
            }
            CacheAnswer::Miss | CacheAnswer::Rejected => {
                if answer == CacheAnswer::Rejected {
                    self.log(job, EventKind::CacheRejected, now_ms, None);
                }
                self.enqueue(job, now_ms);
            }
        }
        true
    }

    fn accept(
        &mut self,
        s: Submission,
        now_ms: f64,
        kind: EventKind,
    ) -> Result<(JobId, bool), Refusal> {
        if self.terminated {
            return Err(Refusal {
                code: ErrorCode::Terminated,
                message: "the prover was terminated".into(),
            });
        }
        // Identical claims share a job only if they accept the same circuits.
        let mut key = s.statement.dedup_text();
        if !s.fallback_circuits.is_empty() {
            let mut ids: Vec<String> = s.fallback_circuits.iter().map(|c| c.to_string()).collect();
            ids.sort();
            ids.dedup();
            key.push_str(&format!("\u{0}fallback:{}", ids.join(",")));
        }
        if let Some(&id) = self.in_flight.get(&key) {
            if let Some(job) = self.jobs.get_mut(&id) {
                job.subscribers += 1;
                if s.priority > job.priority {
                    job.priority = s.priority;
                    self.queue.reprioritize(id, s.priority);
                }
                self.log(id, EventKind::Deduplicated, now_ms, None);
                return Ok((id, true));
            }
            // Listed in flight but not held: forget the entry; the claim becomes a new job.
            self.in_flight.remove(&key);
            self.broken(id, now_ms);
        }
        let unfinished = self.jobs.values().filter(|j| !j.state.is_final()).count();
        if unfinished >= self.config.capacity {
            return Err(Refusal {
                code: ErrorCode::QueueFull,
                message: format!(
                    "{unfinished} jobs are unfinished (capacity {})",
                    self.config.capacity
                ),
            });
        }
        if let Some(refusal) = self
            .config
            .remote
            .as_ref()
            .and_then(|r| r.refusal(&s.statement))
        {
            return Err(refusal);
        }
        if let Some(user) = &s.user_id {
            self.quotas.admit(user, now_ms).map_err(|message| Refusal {
                code: ErrorCode::RateLimited,
                message,
            })?;
        }
        let id = self.next_job;
        self.next_job += 1;
        let state = if self.config.check_cache {
            JobState::CheckingCache
        } else {
            JobState::Queued
        };
        self.jobs.insert(
            id,
            Job {
                id,
                key: key.clone(),
                priority: s.priority,
                user_id: s.user_id,
                max_retries: s.max_retries.unwrap_or(self.config.max_retries),
                timeout_ms: s.timeout_ms.or(self.config.timeout_ms),
                fallback_circuits: s.fallback_circuits,
                statement: s.statement,
                state,
                attempts: 0,
                history: Vec::new(),
                subscribers: 1,
                submitted_ms: now_ms,
                error: None,
                fraction: 0.0,
                heard_ms: now_ms,
            },
        );
        self.in_flight.insert(key, id);
        self.log(id, kind, now_ms, None);
        if state == JobState::CheckingCache {
            self.commands.push(Command::CheckCache { job: id });
        } else {
            self.enqueue(id, now_ms);
        }
        Ok((id, false))
    }

    /// A new job that is not answered from the cache: to the server first when `remote.when` is
    /// `'always'`, else into the queue.
    fn enqueue(&mut self, job: JobId, now_ms: f64) {
        let Some(j) = self.jobs.get_mut(&job) else {
            return self.broken(job, now_ms);
        };
        if self
            .config
            .remote
            .as_ref()
            .is_some_and(|r| r.first(&j.statement))
        {
            self.send_remote(job, None, now_ms);
        } else {
            j.state = JobState::Queued;
            let priority = j.priority;
            self.queue.push(job, priority);
            self.dispatch(now_ms);
        }
    }

    /// The job goes to the operator's server; `code`: the failure on the device that moved it.
    fn send_remote(&mut self, job: JobId, code: Option<ErrorCode>, now_ms: f64) {
        let Some(j) = self.jobs.get_mut(&job) else {
            return self.broken(job, now_ms);
        };
        j.state = JobState::Remote { since_ms: now_ms };
        j.fraction = 0.0;
        self.log(job, EventKind::SentToServer, now_ms, code);
        self.commands.push(Command::SendRemote { job });
    }

    /// Progress of a job on the server, 0..=1.
    pub fn remote_progress(&mut self, job: JobId, fraction: f64) {
        if let Some(j) = self.jobs.get_mut(&job) {
            if matches!(j.state, JobState::Remote { .. }) {
                j.fraction = fraction.clamp(0.0, 1.0);
            }
        }
    }

    /// The server proved the job and the page checked the proof. Returns false for a stale
    /// report (the job was cancelled meanwhile): its result must be dropped.
    pub fn remote_succeeded(&mut self, job: JobId, now_ms: f64) -> bool {
        if !self
            .jobs
            .get(&job)
            .is_some_and(|j| matches!(j.state, JobState::Remote { .. }))
        {
            return false;
        }
        self.finish(job, JobState::Succeeded, None, now_ms);
        self.commands.push(Command::Resolve { job });
        true
    }

    /// The job ended on the server without a proof (or the page refused its answer): it fails
    /// with `code`, as one more failed attempt. It is never moved again.
    pub fn remote_failed(&mut self, job: JobId, code: ErrorCode, now_ms: f64) {
        let Some(j) = self.jobs.get_mut(&job) else {
            return;
        };
        if !matches!(j.state, JobState::Remote { .. }) {
            return;
        }
        j.history.push(Attempt {
            attempt: j.attempts,
            code: code.to_string(),
            at_ms: now_ms,
            circuit: j.circuit(),
        });
        let state = if code == ErrorCode::Cancelled {
            JobState::Cancelled
        } else {
            JobState::Failed
        };
        self.finish(job, state, Some(code), now_ms);
        self.commands.push(Command::Reject { job, code });
    }

    /// A worker finished loading and is ready for work.
    pub fn worker_ready(&mut self, worker: WorkerId, now_ms: f64) {
        if let Some(state @ WorkerState::Starting) = self.workers.get_mut(&worker) {
            self.spawn_failures = 0;
            *state = WorkerState::Idle { since_ms: now_ms };
            self.dispatch(now_ms);
        }
    }

    /// A worker asked for the threaded build could not start threads. It is replaced by a
    /// single-threaded one, and so is every worker started from then on; this is no failed spawn
    /// (the page runs workers, only not threaded ones). The answer is THREADS_UNAVAILABLE the
    /// first time, for the status line; None for a stale report or once the build is single.
    pub fn threads_failed(&mut self, worker: WorkerId, now_ms: f64) -> Option<ErrorCode> {
        if !matches!(self.workers.get(&worker), Some(WorkerState::Starting)) {
            return None;
        }
        let fell_back = self.config.build == Build::Threaded;
        self.config.build = Build::Single;
        self.replace_worker(worker);
        self.dispatch(now_ms);
        fell_back.then_some(ErrorCode::ThreadsUnavailable)
    }

    /// A worker could not be created, or its module did not load. It is replaced, up to
    /// [`MAX_SPAWN_FAILURES`] in a row; then this page cannot run workers and jobs must not wait
    /// forever: the scheduler terminates (every unfinished job rejected with TERMINATED) and the
    /// answer is true.
    pub fn worker_failed_to_start(&mut self, worker: WorkerId, now_ms: f64) -> bool {
        self.spawn_failures += 1;
        if self.spawn_failures >= MAX_SPAWN_FAILURES {
            self.terminate(now_ms);
            return true;
        }
        self.worker_died(worker, now_ms);
        false
    }

    /// Progress of a running job: word from its worker (see [`Config::stall_timeout_ms`]).
    pub fn progress(&mut self, job: JobId, worker: WorkerId, fraction: f64, now_ms: f64) {
        if let Some(j) = self.jobs.get_mut(&job) {
            if matches!(j.state, JobState::Running { worker: w, .. } if w == worker) {
                j.fraction = fraction.clamp(0.0, 1.0);
                j.heard_ms = now_ms;
            }
        }
    }

    /// ETA of a running job, in ms.
    pub fn eta_ms(&self, job: JobId, now_ms: f64) -> Option<f64> {
        let j = self.jobs.get(&job)?;
        let predicted = self.history.predict(&j.circuit());
        match j.state {
            JobState::Running { since_ms, .. } => {
                metrics::eta_ms(predicted, now_ms - since_ms, j.fraction)
            }
            JobState::CheckingCache | JobState::Queued | JobState::RetryWait { .. } => predicted,
            // The server's own estimate comes with its progress events.
            JobState::Remote { .. } => None,
            _ => Some(0.0),
        }
    }

    /// The worker proved the job (the proof verified in the worker). Returns false for a stale
    /// report (the job was cancelled or moved on meanwhile): its result must be dropped.
    pub fn succeeded(&mut self, job: JobId, worker: WorkerId, now_ms: f64) -> bool {
        let Some(since_ms) = self.running_on(job, worker) else {
            return false;
        };
        self.set_idle(worker, now_ms);
        let circuit = self.jobs[&job].circuit();
        self.history.record(&circuit, now_ms - since_ms);
        self.finish(job, JobState::Succeeded, None, now_ms);
        self.commands.push(Command::Resolve { job });
        self.dispatch(now_ms);
        true
    }

    /// The worker reported that the job failed with `code` (the worker itself is fine unless the
    /// code says otherwise).
    pub fn failed(&mut self, job: JobId, worker: WorkerId, code: ErrorCode, now_ms: f64) {
        if self.running_on(job, worker).is_none() {
            return;
        }
        match code {
            // The worker's memory or thread pool is gone: replace it.
            ErrorCode::OutOfMemory | ErrorCode::ThreadsUnavailable | ErrorCode::WorkerCrashed => {
                self.replace_worker(worker);
            }
            _ => self.set_idle(worker, now_ms),
        }
        if code == ErrorCode::ThreadsUnavailable {
            self.config.build = Build::Single;
        }
        self.attempt_failed(job, code, now_ms);
        self.dispatch(now_ms);
    }

    /// A worker died (error event, crash, out of memory): its job goes back to the front of the
    /// queue, the worker is replaced. No job is lost.
    pub fn worker_died(&mut self, worker: WorkerId, now_ms: f64) {
        let Some(state) = self.workers.get(&worker).copied() else {
            return;
        };
        self.replace_worker(worker);
        if let WorkerState::Busy { job } = state {
            self.log(
                job,
                EventKind::WorkerCrashed,
                now_ms,
                Some(ErrorCode::WorkerCrashed),
            );
            self.attempt_failed(job, ErrorCode::WorkerCrashed, now_ms);
        }
        self.dispatch(now_ms);
    }

    /// The timer of attempt `attempt` of `job` fired.
    pub fn timed_out(&mut self, job: JobId, attempt: u32, now_ms: f64) {
        let Some(j) = self.jobs.get(&job) else { return };
        let JobState::Running { worker, .. } = j.state else {
            return;
        };
        if j.attempts != attempt {
            return;
        }
        self.replace_worker(worker);
        self.attempt_failed(job, ErrorCode::Timeout, now_ms);
        self.dispatch(now_ms);
    }

    /// One caller cancels. The job stops when its last caller cancels: a queued job leaves the
    /// queue, a running one has its worker terminated (and replaced). Returns whether the job
    /// was cancelled (false if other callers still wait on it or it had ended).
    pub fn cancel(&mut self, job: JobId, now_ms: f64) -> bool {
        let Some(j) = self.jobs.get_mut(&job) else {
            return false;
        };
        if j.state.is_final() {
            return false;
        }
        j.subscribers = j.subscribers.saturating_sub(1);
        if j.subscribers > 0 {
            return false;
        }
        match j.state {
            JobState::Queued => {
                self.queue.remove(job);
            }
            JobState::Running { worker, .. } => self.replace_worker(worker),
            JobState::Remote { .. } => {
                self.commands.push(Command::EndRemote { job, cancel: true });
            }
            _ => {}
        }
        self.finish(job, JobState::Cancelled, Some(ErrorCode::Cancelled), now_ms);
        self.commands.push(Command::Reject {
            job,
            code: ErrorCode::Cancelled,
        });
        self.dispatch(now_ms);
        true
    }

    /// Time passes: due retries are queued, idle workers past their timeout shut down.
    pub fn tick(&mut self, now_ms: f64) {
        self.end_stalled(now_ms);
        // A worker busy with a job the table no longer holds would stay busy for good: end it.
        let ghosts: Vec<(WorkerId, JobId)> = self
            .workers
            .iter()
            .filter_map(|(w, s)| match s {
                WorkerState::Busy { job } if !self.jobs.contains_key(job) => Some((*w, *job)),
                _ => None,
            })
            .collect();
        for (worker, job) in ghosts {
            self.broken(job, now_ms);
            self.replace_worker(worker);
        }
        let due: Vec<JobId> = self
            .jobs
            .values()
            .filter(|j| matches!(j.state, JobState::RetryWait { until_ms } if until_ms <= now_ms))
            .map(|j| j.id)
            .collect();
        for id in due {
            if let Some(j) = self.jobs.get_mut(&id) {
                j.state = JobState::Queued;
                self.queue.push(id, j.priority);
            }
        }
        let idle_out: Vec<WorkerId> = self
            .workers
            .iter()
            .filter(|(_, s)| {
                matches!(s, WorkerState::Idle { since_ms } if now_ms - since_ms >= self.config.idle_timeout_ms)
            })
            .map(|(w, _)| *w)
            .collect();
        if self.queue.is_empty() {
            for w in idle_out {
                self.workers.remove(&w);
                self.commands.push(Command::TerminateWorker { worker: w });
            }
        }
        self.dispatch(now_ms);
    }

    /// Running jobs whose worker has been silent for the stall timeout: the worker is ended and
    /// the attempt fails with TIMEOUT (retried like any timeout). For the others, a wake-up when
    /// theirs would run out.
    fn end_stalled(&mut self, now_ms: f64) {
        let Some(stall_ms) = self.config.stall_timeout_ms else {
            return;
        };
        let mut next: Option<f64> = None;
        let mut stalled = Vec::new();
        for j in self.jobs.values() {
            if let JobState::Running { worker, .. } = j.state {
                let deadline = j.heard_ms + stall_ms;
                if deadline <= now_ms {
                    stalled.push((j.id, worker));
                } else {
                    next = Some(next.map_or(deadline, |n: f64| n.min(deadline)));
                }
            }
        }
        for (job, worker) in stalled {
            self.log(job, EventKind::Stalled, now_ms, Some(ErrorCode::Timeout));
            self.replace_worker(worker);
            self.attempt_failed(job, ErrorCode::Timeout, now_ms);
        }
        if let Some(at_ms) = next {
            self.commands.push(Command::WakeAt { at_ms });
        }
    }

    /// Ends everything: every unfinished job is rejected with TERMINATED, every worker ends.
    pub fn terminate(&mut self, now_ms: f64) {
        self.terminated = true;
        let open: Vec<JobId> = self
            .jobs
            .values()
            .filter(|j| !j.state.is_final())
            .map(|j| j.id)
            .collect();
        for job in open {
            self.queue.remove(job);
            if matches!(self.jobs[&job].state, JobState::Remote { .. }) {
                self.commands.push(Command::EndRemote { job, cancel: true });
            }
            self.finish(job, JobState::Failed, Some(ErrorCode::Terminated), now_ms);
            self.commands.push(Command::Reject {
                job,
                code: ErrorCode::Terminated,
            });
        }
        for w in std::mem::take(&mut self.workers).into_keys() {
            self.commands.push(Command::TerminateWorker { worker: w });
        }
    }

    /// Forgets a finished job (after its promises settled), keeping memory bounded.
    pub fn forget(&mut self, job: JobId) {
        if self.jobs.get(&job).is_some_and(|j| j.state.is_final()) {
            self.jobs.remove(&job);
        }
    }

    /// Drops `job` from the table behind the scheduler's back (tests of broken invariants: it
    /// stays listed in the queue, in flight or on its worker).
    #[cfg(test)]
    pub(crate) fn lose_job(&mut self, job: JobId) {
        self.jobs.remove(&job);
    }

    /// Live worker ids.
    pub fn workers(&self) -> Vec<WorkerId> {
        self.workers.keys().copied().collect()
    }

    /// The audit log.
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// A snapshot for UIs.
    pub fn stats(&self) -> Stats {
        let mut by_priority: BTreeMap<String, StateCounts> = Priority::HIGHEST_FIRST
            .iter()
            .map(|p| {
                (
                    p.to_string(),
                    self.finished.get(p).cloned().unwrap_or_default(),
                )
            })
            .collect();
        for j in self.jobs.values() {
            let Some(c) = by_priority.get_mut(j.priority.as_str()) else {
                continue;
            };
            match j.state {
                JobState::CheckingCache | JobState::Queued | JobState::RetryWait { .. } => {
                    c.queued += 1
                }
                JobState::Running { .. } => c.running += 1,
                JobState::Remote { .. } => c.remote += 1,
                // Counted in `finished` when they ended: settled jobs are forgotten.
                JobState::Succeeded | JobState::Failed | JobState::Cancelled => {}
            }
        }
        let (ok, bad) = by_priority
            .values()
            .fold((0, 0), |(o, b), c| (o + c.completed, b + c.failed));
        let circuits = self.history.circuits();
        Stats {
            success_rate: (ok + bad > 0).then(|| ok as f64 / (ok + bad) as f64),
            durations: circuits
                .iter()
                .filter_map(|c| Some((c.clone(), self.history.percentiles(c)?.into())))
                .collect(),
            predictions: circuits
                .iter()
                .filter_map(|c| Some((c.clone(), self.history.predict(c)?)))
                .collect(),
            workers: self.workers.len(),
            busy_workers: self
                .workers
                .values()
                .filter(|s| matches!(s, WorkerState::Busy { .. }))
                .count(),
            build: self.config.build.as_str().into(),
            by_priority,
        }
    }

    /// Predicted duration of a circuit on this device.
    pub fn predict(&self, circuit: &str) -> Option<f64> {
        self.history.predict(circuit)
    }

    fn running_on(&self, job: JobId, worker: WorkerId) -> Option<f64> {
        match self.jobs.get(&job)?.state {
            JobState::Running {
                worker: w,
                since_ms,
            } if w == worker => Some(since_ms),
            _ => None,
        }
    }

    fn set_idle(&mut self, worker: WorkerId, now_ms: f64) {
        if let Some(s) = self.workers.get_mut(&worker) {
            *s = WorkerState::Idle { since_ms: now_ms };
            self.commands.push(Command::WakeAt {
                at_ms: now_ms + self.config.idle_timeout_ms,
            });
        }
    }

    fn replace_worker(&mut self, worker: WorkerId) {
        if self.workers.remove(&worker).is_some() {
            self.commands.push(Command::TerminateWorker { worker });
        }
    }

    fn attempt_failed(&mut self, job: JobId, code: ErrorCode, now_ms: f64) {
        let backoff = self.config.backoff;
        let Some(j) = self.jobs.get_mut(&job) else {
            return self.broken(job, now_ms);
        };
        j.history.push(Attempt {
            attempt: j.attempts,
            code: code.to_string(),
            at_ms: now_ms,
            circuit: j.circuit(),
        });
        j.fraction = 0.0;
        if code == ErrorCode::OutOfMemory {
            // Only circuits the caller accepts and the manifest has keys for.
            let allowed: Vec<CircuitId> = j
                .fallback_circuits
                .iter()
                .filter(|c| self.config.circuits.contains(c))
                .cloned()
                .collect();
            let smaller = j
                .statement
                .claim()
                .and_then(|c| fallback::smaller_circuit(c, &allowed));
            if let Some(smaller) = smaller {
                j.statement = Statement::Claim(smaller);
                j.state = JobState::Queued;
                self.queue.push_front(job, j.priority);
                self.log(job, EventKind::FellBack, now_ms, Some(code));
                return;
            }
        }
        let retries_used = j.attempts.saturating_sub(1);
        if code.retryable() && retries_used < j.max_retries {
            if code == ErrorCode::WorkerCrashed || code == ErrorCode::ThreadsUnavailable {
                // Not the job's fault: run it again at once, ahead of its peers.
                j.state = JobState::Queued;
                self.queue.push_front(job, j.priority);
            } else {
                let until_ms = now_ms + backoff.delay_ms(retries_used + 1, self.jitter.next_f64());
                j.state = JobState::RetryWait { until_ms };
                self.commands.push(Command::WakeAt { at_ms: until_ms });
            }
            self.log(job, EventKind::Retried, now_ms, Some(code));
        } else if self
            .config
            .remote
            .as_ref()
            .is_some_and(|r| r.moves(code, &j.statement))
        {
            self.send_remote(job, Some(code), now_ms);
        } else {
            self.finish(job, JobState::Failed, Some(code), now_ms);
            self.commands.push(Command::Reject { job, code });
        }
    }

    fn finish(&mut self, job: JobId, state: JobState, code: Option<ErrorCode>, now_ms: f64) {
        let Some(j) = self.jobs.get_mut(&job) else {
            return self.broken(job, now_ms);
        };
        j.state = state;
        j.error = code.filter(|_| state != JobState::Succeeded);
        if j.state == JobState::Succeeded {
            j.fraction = 1.0;
        }
        self.in_flight.remove(&j.key);
        if let Some(user) = j.user_id.clone() {
            self.quotas.release(&user);
        }
        let counts = self.finished.entry(j.priority).or_default();
        let kind = match state {
            JobState::Succeeded => {
                counts.completed += 1;
                EventKind::Succeeded
            }
            JobState::Cancelled => {
                counts.cancelled += 1;
                EventKind::Cancelled
            }
            _ => {
                counts.failed += 1;
                EventKind::Failed
            }
        };
        self.log(job, kind, now_ms, code);
    }

    /// Hands queued jobs to idle workers, and spawns workers while jobs wait.
    fn dispatch(&mut self, now_ms: f64) {
        if self.terminated {
            return;
        }
        loop {
            let idle = self
                .workers
                .iter()
                .find(|(_, s)| matches!(s, WorkerState::Idle { .. }))
                .map(|(w, _)| *w);
            let Some(worker) = idle else { break };
            let Some(job) = self.queue.pop() else { break };
            let Some(j) = self.jobs.get_mut(&job) else {
                self.broken(job, now_ms);
                continue;
            };
            j.attempts += 1;
            j.state = JobState::Running {
                worker,
                since_ms: now_ms,
            };
            j.heard_ms = now_ms;
            if let Some(stall_ms) = self.config.stall_timeout_ms {
                self.commands.push(Command::WakeAt {
                    at_ms: now_ms + stall_ms,
                });
            }
            let (attempt, timeout_ms) = (j.attempts, j.timeout_ms);
            self.workers.insert(worker, WorkerState::Busy { job });
            self.commands.push(Command::Run {
                job,
                worker,
                attempt,
                timeout_ms,
            });
            self.log(job, EventKind::Started, now_ms, None);
        }
        let starting = self
            .workers
            .values()
            .filter(|s| matches!(s, WorkerState::Starting))
            .count();
        let waiting = self.queue.len().saturating_sub(starting);
        let room = self.config.workers.saturating_sub(self.workers.len());
        for _ in 0..waiting.min(room) {
            let worker = self.next_worker;
            self.next_worker += 1;
            self.workers.insert(worker, WorkerState::Starting);
            self.commands.push(Command::SpawnWorker {
                worker,
                build: self.config.build,
            });
        }
    }

    /// A broken invariant about `job` (listed somewhere, no longer held): an INTERNAL audit
    /// event instead of a panic, which in the page would leave the runtime's state borrowed
    /// for good.
    fn broken(&mut self, job: JobId, at_ms: f64) {
        self.audit.push(AuditEvent {
            at_ms,
            job,
            kind: EventKind::Internal,
            circuit: String::new(),
            priority: String::new(),
            attempt: 0,
            code: Some(ErrorCode::Internal.to_string()),
        });
    }

    fn log(&mut self, job: JobId, kind: EventKind, at_ms: f64, code: Option<ErrorCode>) {
        let Some(j) = self.jobs.get(&job) else { return };
        self.audit.push(AuditEvent {
            at_ms,
            job,
            kind,
            circuit: j.circuit(),
            priority: j.priority.to_string(),
            attempt: j.attempts,
            code: code.map(|c| c.to_string()),
        });
    }
}
