//! The machine: [`Engine`] holds the page's state and handles one [`Event`] at a time.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::runtime::answers;
use crate::runtime::audit::AuditEvent;
use crate::runtime::code::ErrorCode;
use crate::runtime::durable::{self, DurableJob};
use crate::runtime::fallback::Build;
use crate::runtime::progress;
use crate::runtime::proof_cache::ProofRecord;
use crate::runtime::protocol::{
    CircomWork, Fault, JobMessage, KeyMessage, PageMessage, StorageName, WorkerMessage,
};
use crate::runtime::remote::{self, Flow, Report, ServerAnswer, Step};
use crate::runtime::scheduler::{
    CacheAnswer, Command, JobId, JobState, Refusal, Scheduler, Submission, WorkerId,
};
use crate::runtime::statement::{CacheKey, Statement};

use super::types::*;

/// The page's view of one job.
#[derive(Debug, Clone)]
struct JobView {
    subscribers: Vec<SubscriberId>,
    stage: &'static str,
    percent: f64,
    result: Option<Value>,
    message: Option<String>,
    /// The submitted statement's proof cache key (a claim's digest is also its durable record's
    /// id).
    cache_key: CacheKey,
    cached: bool,
    durable: Option<DurableJob>,
    /// This runtime counted its run in the durable record already.
    run_counted: bool,
    /// The attempt whose timer is armed.
    timer: Option<u32>,
    /// On the operator's server: its way there, and what it sends.
    remote: Option<RemoteView>,
}

/// A job on the operator's server.
#[derive(Debug, Clone)]
struct RemoteView {
    flow: Flow,
    /// `POST /v1/proofs`'s body.
    body: String,
    /// The server's estimate of the time left.
    eta_ms: Option<f64>,
    /// The code the job failed with on the device, if that moved it.
    local_error: Option<ErrorCode>,
    /// A refusal of the server.
    server: Option<ServerAnswer>,
}

#[derive(Debug, Clone, Default)]
struct WorkerView {
    threads: u32,
    memory_bytes: f64,
}

/// The browser runtime's decisions. See the [engine module](super)'s docs.
#[derive(Debug)]
pub struct Engine {
    scheduler: Scheduler,
    keys: BTreeMap<String, CircuitKeys>,
    jobs: HashMap<JobId, JobView>,
    workers: BTreeMap<WorkerId, WorkerView>,
    status: StatusLine,
    wake_at: Option<f64>,
    next_subscriber: SubscriberId,
    fault: Option<(Fault, u32)>,
    storage: StoragePlan,
    /// Stored jobs refused at resumption (queue full, a quota, a key missing for now).
    refused: Vec<DurableJob>,
    /// Audit events copied so far (a cursor into the scheduler's log).
    audit_copied: u64,
    effects: Vec<Effect>,
}

impl Engine {
    /// A runtime with no job and no worker yet; its first [`Effect::Publish`] comes from
    /// [`Engine::start`].
    pub fn new(config: EngineConfig) -> Self {
        let mut scheduler_config = config.scheduler;
        scheduler_config.circuits = config
            .keys
            .keys()
            .filter_map(|id| id.parse().ok())
            .collect();
        scheduler_config.check_cache = config.storage.proof_cache;
        let build = scheduler_config.build;
        Engine {
            scheduler: Scheduler::new(scheduler_config, config.seed),
            keys: config.keys,
            jobs: HashMap::new(),
            workers: BTreeMap::new(),
            status: StatusLine {
                build,
                threads: config.threads,
                reason: config.reason,
                code: None,
                cross_origin_isolated: config.cross_origin_isolated,
                workers: 0,
                terminated: false,
            },
            wake_at: None,
            next_subscriber: 1,
            fault: config.fault,
            storage: config.storage,
            refused: Vec::new(),
            audit_copied: 0,
            effects: Vec::new(),
        }
    }

    /// The first stats and status.
    pub fn start(&mut self) -> Vec<Effect> {
        self.publish();
        std::mem::take(&mut self.effects)
    }

    /// The scheduler (read-only: stats, predictions, the audit log).
    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }

    /// The status line.
    pub fn status(&self) -> &StatusLine {
        &self.status
    }

    /// Live workers.
    pub fn worker_count(&self) -> usize {
        self.workers.len()
    }

    /// [`Event::Submit`]: refused for a circuit without keys, QUEUE_FULL, RATE_LIMITED and
    /// TERMINATED.
    fn submit(&mut self, submission: Submission, wall_ms: f64, now: f64) -> Answer {
        let record = self.storage.durable_queue.then(|| {
            let key = self.cache_key(&submission.statement);
            let id = key.as_ref().and_then(CacheKey::digest).unwrap_or_default();
            DurableJob::new(id.to_string(), &submission, wall_ms)
        });
        let record = record.flatten();
        self.accept(submission, record, false, now)
    }

    /// [`Event::Resume`]: one refused for now is kept: it is unlocked and tried again when a job
    /// of this runtime ends.
    fn resume(&mut self, record: DurableJob, now: f64) -> Answer {
        let mut kept = record.clone();
        match kept.resume() {
            Err(why) => {
                self.effects
                    .push(Effect::Warn(format!("dropped a stored job: {why}")));
                self.effects.push(Effect::Storage(StorageOp::EndJob {
                    id: record.id.clone(),
                    leaves: true,
                }));
                Err(Refusal {
                    code: ErrorCode::Internal,
                    message: why,
                })
            }
            Ok(submission) => {
                let ticket = self.accept(submission, Some(record.clone()), true, now);
                if let Err(refusal) = &ticket {
                    self.effects.push(Effect::Warn(format!(
                        "a stored job was refused for now (kept, tried again later): {}",
                        refusal.message
                    )));
                    self.effects.push(Effect::Storage(StorageOp::Unlock {
                        id: record.id.clone(),
                    }));
                    self.refused.push(record);
                }
                ticket
            }
        }
    }

    /// Feeds one event; returns what to do, in order.
    pub fn handle(&mut self, event: Event, now: f64) -> Vec<Effect> {
        match event {
            Event::Submit {
                submission,
                wall_ms,
            } => {
                let answer = self.submit(submission, wall_ms, now);
                self.effects.insert(0, Effect::Answer(answer));
            }
            Event::Resume { record } => {
                let answer = self.resume(record, now);
                self.effects.insert(0, Effect::Answer(answer));
            }
            Event::Cancel { job, subscriber } => self.cancel(job, subscriber, now),
            Event::Terminate => {
                self.scheduler.terminate(now);
                self.status.terminated = true;
                self.follow_commands(now);
                if self.wake_at.take().is_some() {
                    self.effects.push(Effect::Disarm { timer: Timer::Wake });
                }
            }
            Event::Worker { worker, message } => self.on_message(worker, message, now),
            Event::WorkerDied { worker } => {
                self.scheduler.worker_died(worker, now);
                self.follow_commands(now);
            }
            Event::SpawnFailed { worker } => {
                self.workers.remove(&worker);
                self.spawn_failed(worker, "workers cannot be started on this page", now);
                self.follow_commands(now);
            }
            Event::Timer(Timer::Wake) => {
                self.wake_at = None;
                self.scheduler.tick(now);
                self.follow_commands(now);
                let mut ids: Vec<JobId> = self.jobs.keys().copied().collect();
                ids.sort_unstable();
                for id in ids {
                    self.publish_progress(id, now);
                }
            }
            Event::Timer(Timer::Remote { job }) => {
                let step = self
                    .jobs
                    .get(&job)
                    .and_then(|v| v.remote.as_ref())
                    .map(|r| r.flow.resume());
                if let Some(step) = step {
                    self.remote_step(job, step, now);
                }
            }
            Event::Remote { job, report } => self.remote_report(job, report, now),
            Event::Timer(Timer::Attempt { job, attempt }) => {
                if let Some(view) = self.jobs.get_mut(&job) {
                    if view.timer == Some(attempt) {
                        view.timer = None;
                    }
                }
                self.scheduler.timed_out(job, attempt, now);
                self.follow_commands(now);
                self.publish_progress(job, now);
            }
            Event::CacheAnswer { job, lookup } => self.cache_answer(job, lookup, now),
            Event::StorageChanged => self.publish(),
            Event::Verified {
                job,
                worker,
                verdict,
            } => self.verified(job, worker, verdict, now),
            Event::StorageClosed => {
                self.storage = StoragePlan::default();
                self.publish();
            }
        }
        std::mem::take(&mut self.effects)
    }

    /// Whether `job` is running on `worker` (a word from any other worker is stale).
    fn runs_on(&self, job: JobId, worker: WorkerId) -> bool {
        self.scheduler
            .job(job)
            .is_some_and(|j| matches!(j.state, JobState::Running { worker: w, .. } if w == worker))
    }

    fn cache_key(&self, statement: &Statement) -> Option<CacheKey> {
        let keys = self.keys.get(&statement.circuit().to_string())?;
        // A circom statement needs a circom entry (a witness wasm) and a claim one of ours.
        if keys.witness.is_some() != statement.claim().is_none() {
            return None;
        }
        Some(statement.cache_key(&keys.verifying.sha256))
    }

    fn accept(
        &mut self,
        submission: Submission,
        record: Option<DurableJob>,
        resumed: bool,
        now: f64,
    ) -> Result<Ticket, Refusal> {
        let circuit = submission.statement.circuit().to_string();
        let Some(cache_key) = self.cache_key(&submission.statement) else {
            return Err(Refusal {
                code: ErrorCode::KeyNotFound,
                message: format!("no proving key for {circuit} in the manifest"),
            });
        };
        let accepted = if resumed {
            self.scheduler.resume(submission, now)
        } else {
            self.scheduler.submit(submission, now)
        };
        let (job, joined) = accepted?;
        let subscriber = self.next_subscriber;
        self.next_subscriber += 1;
        let view = self.jobs.entry(job).or_insert_with(|| JobView {
            subscribers: Vec::new(),
            stage: "queued",
            percent: 0.0,
            result: None,
            message: None,
            cache_key,
            cached: false,
            durable: record.clone(),
            run_counted: false,
            timer: None,
            remote: None,
        });
        view.subscribers.push(subscriber);
        let stored = view.durable.is_some();
        let durable = match (record, resumed, joined) {
            // Stored before anything else can touch it: the job's end waits for this put.
            (Some(record), false, false) => {
                self.effects
                    .push(Effect::Storage(StorageOp::StoreJob { job, record }));
                Durability::Storing
            }
            (_, true, _) => Durability::Known(true),
            _ => Durability::Known(stored),
        };
        self.follow_commands(now);
        self.publish_progress(job, now);
        Ok(Ticket {
            job,
            subscriber,
            durable,
        })
    }

    /// One caller gives up: its promise rejects with CANCELLED at once; the job itself stops
    /// when no caller is left.
    fn cancel(&mut self, job: JobId, subscriber: SubscriberId, now: f64) {
        let Some(view) = self.jobs.get_mut(&job) else {
            return;
        };
        let Some(at) = view.subscribers.iter().position(|s| *s == subscriber) else {
            return;
        };
        view.subscribers.remove(at);
        self.effects.push(Effect::Reject {
            subscriber,
            failure: Failure {
                code: ErrorCode::Cancelled,
                message: "cancelled by the caller".into(),
                attempts: Vec::new(),
                server: None,
                local_error: None,
            },
        });
        self.scheduler.cancel(job, now);
        self.follow_commands(now);
    }

    fn spawn_failed(&mut self, worker: WorkerId, why: &str, now: f64) {
        if self.scheduler.worker_failed_to_start(worker, now) {
            self.status.terminated = true;
            self.status.reason = why.into();
        }
    }

    /// Turns the scheduler's commands into effects, then publishes stats and status.
    fn follow_commands(&mut self, now: f64) {
        loop {
            let commands = self.scheduler.take_commands();
            if commands.is_empty() {
                break;
            }
            for command in commands {
                self.command(command, now);
            }
        }
        self.publish();
    }

    fn command(&mut self, command: Command, now: f64) {
        match command {
            Command::SpawnWorker { worker, build } => {
                self.workers.insert(worker, WorkerView::default());
                self.effects.push(Effect::Spawn {
                    worker,
                    build,
                    init: PageMessage::Init {
                        threads: self.status.threads,
                        build,
                    },
                });
            }
            Command::TerminateWorker { worker } => {
                self.workers.remove(&worker);
                self.effects.push(Effect::Terminate { worker });
            }
            Command::Run {
                job,
                worker,
                attempt,
                timeout_ms,
            } => self.run(job, worker, attempt, timeout_ms, now),
            Command::Resolve { job } => self.settle(job, None),
            Command::Reject { job, code } => self.settle(job, Some(code)),
            Command::WakeAt { at_ms } => {
                if self.wake_at.is_some_and(|t| t <= at_ms) {
                    return;
                }
                self.wake_at = Some(at_ms);
                self.effects.push(Effect::Arm {
                    timer: Timer::Wake,
                    at_ms,
                });
            }
            Command::CheckCache { job } => self.check_cache(job, now),
            Command::SendRemote { job } => self.send_remote(job, now),
            Command::EndRemote { job, cancel } => self.end_remote(job, cancel),
        }
    }

    /// A job goes to the operator's server.
    fn send_remote(&mut self, job: JobId, now: f64) {
        let (Some(j), Some(url)) = (
            self.scheduler.job(job),
            self.scheduler.remote().map(|r| r.url.clone()),
        ) else {
            return;
        };
        let local_error = match j.state {
            JobState::Remote { .. } => j.history.last().and_then(|a| a.code.parse().ok()),
            _ => return,
        };
        let statement = j.statement.clone();
        let body = match remote::request(&statement) {
            Ok(Some(body)) => body,
            Ok(None) => {
                let why = "a ready witness is never sent to the prover server".to_string();
                return self.remote_failed(job, ErrorCode::Internal, why, None, now);
            }
            Err(e) => return self.remote_failed(job, e.code(), e.to_string(), None, now),
        };
        let Some(view) = self.jobs.get_mut(&job) else {
            return;
        };
        if let Some(old) = view.timer.take() {
            self.effects.push(Effect::Disarm {
                timer: Timer::Attempt { job, attempt: old },
            });
        }
        view.stage = "queued";
        view.percent = 0.0;
        view.remote = Some(RemoteView {
            flow: Flow::new(&statement, &url),
            body: body.clone(),
            eta_ms: None,
            local_error,
            server: None,
        });
        self.effects
            .push(Effect::Remote(RemoteOp::Send { job, body }));
        self.publish_progress(job, now);
    }

    /// Stops a job's requests to the server (and cancels its task there).
    fn end_remote(&mut self, job: JobId, cancel: bool) {
        let task = self
            .jobs
            .get(&job)
            .and_then(|v| v.remote.as_ref())
            .and_then(|r| r.flow.task().map(str::to_string));
        self.effects.push(Effect::Disarm {
            timer: Timer::Remote { job },
        });
        self.effects.push(Effect::Remote(RemoteOp::End {
            job,
            cancel_task: task.filter(|_| cancel),
        }));
    }

    /// What the page saw of a job's requests to the server.
    fn remote_report(&mut self, job: JobId, report: Report, now: f64) {
        let Some(flow) = self.jobs.get_mut(&job).and_then(|v| v.remote.as_mut()) else {
            return; // a job that ended meanwhile
        };
        if flow.flow.ended() {
            return;
        }
        let scheduler = &mut self.scheduler;
        let step = flow
            .flow
            .on(report, now, &mut |retry| scheduler.retry_delay_ms(retry));
        self.remote_step(job, step, now);
    }

    /// Carries out one step of a job's way through the server.
    fn remote_step(&mut self, job: JobId, step: Step, now: f64) {
        match step {
            Step::Send => {
                if let Some(body) = self
                    .jobs
                    .get(&job)
                    .and_then(|v| v.remote.as_ref())
                    .map(|r| r.body.clone())
                {
                    self.effects
                        .push(Effect::Remote(RemoteOp::Send { job, body }));
                }
            }
            Step::Follow { id, last_event } => {
                self.effects.push(Effect::Remote(RemoteOp::Follow {
                    job,
                    id,
                    last_event,
                }));
            }
            Step::Wait { at_ms } => self.effects.push(Effect::Arm {
                timer: Timer::Remote { job },
                at_ms,
            }),
            Step::Show {
                stage,
                percent,
                eta_ms,
            } => {
                if let Some(view) = self.jobs.get_mut(&job) {
                    view.stage = stage;
                    if let Some(p) = percent {
                        view.percent = p;
                    }
                    if let Some(r) = view.remote.as_mut() {
                        r.eta_ms = eta_ms;
                    }
                    let fraction = view.percent / 100.0;
                    self.scheduler.remote_progress(job, fraction);
                }
                self.publish_progress(job, now);
            }
            Step::Check { id, data, value } => {
                let circuit = self
                    .scheduler
                    .job(job)
                    .map(|j| (j.statement.clone(), j.circuit()));
                let Some((statement, circuit)) = circuit else {
                    return;
                };
                match self.keys.get(&circuit) {
                    Some(keys) => self.effects.push(Effect::Remote(RemoteOp::Check {
                        job,
                        id,
                        statement: Box::new(statement),
                        verifying_key: keys.verifying.clone(),
                        data,
                        value,
                    })),
                    None => self.remote_failed(
                        job,
                        ErrorCode::KeyNotFound,
                        "the manifest has no verifying key for its circuit".into(),
                        None,
                        now,
                    ),
                }
            }
            Step::Proved { value } => {
                if let Some(view) = self.jobs.get_mut(&job) {
                    view.result = Some(value);
                }
                self.end_remote(job, false);
                if !self.scheduler.remote_succeeded(job, now) {
                    if let Some(view) = self.jobs.get_mut(&job) {
                        view.result = None;
                    }
                }
                self.follow_commands(now);
            }
            Step::Failed(failure) => {
                self.remote_failed(job, failure.code, failure.message, failure.server, now)
            }
            Step::Nothing => {}
        }
    }

    /// A job on the server ends without a proof.
    fn remote_failed(
        &mut self,
        job: JobId,
        code: ErrorCode,
        message: String,
        server: Option<ServerAnswer>,
        now: f64,
    ) {
        if let Some(view) = self.jobs.get_mut(&job) {
            view.message = Some(message);
            if let Some(r) = view.remote.as_mut() {
                r.server = server;
            }
        }
        self.end_remote(job, false);
        self.scheduler.remote_failed(job, code, now);
        self.follow_commands(now);
    }

    fn check_cache(&mut self, job: JobId, now: f64) {
        let (Some(j), Some(view)) = (self.scheduler.job(job), self.jobs.get(&job)) else {
            return;
        };
        let Some(keys) = self.keys.get(&j.circuit()) else {
            self.scheduler.cache_answer(job, CacheAnswer::Miss, now);
            return;
        };
        let op = StorageOp::Lookup {
            job,
            key: view.cache_key.clone(),
            statement: j.statement.clone(),
            verifying_key: keys.verifying.clone(),
        };
        self.effects.push(Effect::Storage(op));
    }

    fn cache_answer(&mut self, job: JobId, lookup: Lookup, now: f64) {
        let answer = match lookup {
            Lookup::Hit(value) => {
                if let Some(view) = self.jobs.get_mut(&job) {
                    view.result = Some(value);
                    view.cached = true;
                }
                CacheAnswer::Hit
            }
            Lookup::Miss => CacheAnswer::Miss,
            Lookup::Rejected(why) => {
                self.effects
                    .push(Effect::Warn(format!("a cached proof was evicted: {why}")));
                CacheAnswer::Rejected
            }
        };
        // Stale (the job was cancelled meanwhile): its result is not kept.
        let taken = self.scheduler.job(job).is_some()
            && self.jobs.contains_key(&job)
            && self.scheduler.cache_answer(job, answer, now);
        if !taken {
            if let Some(view) = self.jobs.get_mut(&job) {
                view.result = None;
                view.cached = false;
            }
        }
        self.follow_commands(now);
        self.publish_progress(job, now);
    }

    fn run(
        &mut self,
        job: JobId,
        worker: WorkerId,
        attempt: u32,
        timeout_ms: Option<f64>,
        now: f64,
    ) {
        self.count_run(job);
        let Some(j) = self.scheduler.job(job) else {
            return;
        };
        let circuit = j.circuit();
        let fault = match &mut self.fault {
            Some((f, left)) if *left > 0 => {
                *left -= 1;
                Some(f.clone())
            }
            _ => None,
        };
        let message = PageMessage::Job(Box::new(JobMessage {
            id: job,
            attempt,
            claim: j
                .statement
                .claim()
                .map(|c| c.to_canonical_json().to_string())
                .unwrap_or_default(),
            circom: match (&j.statement, self.keys.get(&circuit)) {
                (
                    Statement::Circom(c),
                    Some(CircuitKeys {
                        witness: Some(wasm),
                        ..
                    }),
                ) => Some(CircomWork {
                    input: c.input().unwrap_or_default().to_owned(),
                    witness: c.wtns().map(<[u8]>::to_vec),
                    wasm: wasm.clone(),
                }),
                _ => None,
            },
            key: self.keys.get(&circuit).map(|k| k.proving.clone()),
            circuit,
            storage: self.storage.key_cache.clone().map(|name| StorageName {
                name,
                blocked_ms: answers::OPEN_BLOCKED_MS,
            }),
            fault,
        }));
        let circom = matches!(&message, PageMessage::Job(m) if m.circom.is_some());
        self.effects.push(Effect::Post { worker, message });
        if let Some(view) = self.jobs.get_mut(&job) {
            view.stage = if circom { "download" } else { "loading-keys" };
            view.percent = 0.0;
            if let Some(old) = view.timer.take() {
                self.effects.push(Effect::Disarm {
                    timer: Timer::Attempt { job, attempt: old },
                });
            }
            if let Some(ms) = timeout_ms {
                view.timer = Some(attempt);
                self.effects.push(Effect::Arm {
                    timer: Timer::Attempt { job, attempt },
                    at_ms: now + ms,
                });
            }
        }
        self.publish_progress(job, now);
    }

    /// A stored job starts running in this runtime for the first time: its record counts the
    /// run (a job that takes the page down every time is given up after `durable::MAX_RUNS`).
    fn count_run(&mut self, job: JobId) {
        let Some(view) = self.jobs.get_mut(&job) else {
            return;
        };
        let Some(record) = view.durable.as_mut().filter(|_| !view.run_counted) else {
            return;
        };
        view.run_counted = true;
        record.count_run();
        let record = record.clone();
        self.effects
            .push(Effect::Storage(StorageOp::PutJob { record }));
    }

    fn settle(&mut self, job: JobId, code: Option<ErrorCode>) {
        let Some(mut view) = self.jobs.remove(&job) else {
            self.scheduler.forget(job);
            return;
        };
        if let Some(attempt) = view.timer.take() {
            self.effects.push(Effect::Disarm {
                timer: Timer::Attempt { job, attempt },
            });
        }
        self.persist_outcome(job, &view, code);
        let (history, circuit) = self
            .scheduler
            .job(job)
            .map(|j| (j.history.clone(), Some(j.circuit())))
            .unwrap_or_default();
        view.stage = match code {
            None => "done",
            Some(ErrorCode::Cancelled) => "cancelled",
            Some(_) => "failed",
        };
        if code.is_none() {
            view.percent = 100.0;
        }
        // The last progress first: a caller's `onProgress` hears it before the promise settles.
        self.effects.push(Effect::Progress {
            job,
            view: ProgressView {
                stage: view.stage,
                percent: view.percent,
                eta_ms: None,
                cached: view.cached,
                done: code.is_none(),
                attempt: None,
                ended: true,
                remote: view.remote.is_some(),
            },
            subscribers: view.subscribers.clone(),
        });
        match code {
            None => {
                let mut value = view.result.take().unwrap_or(Value::Null);
                // Which circuit the proof is for (a fallback may have changed it), and its key.
                if let (Some(circuit), Value::Object(fields)) = (circuit, &mut value) {
                    if let Some(keys) = self.keys.get(&circuit) {
                        fields.insert(
                            "verifyingKeySha256".into(),
                            keys.verifying.sha256.clone().into(),
                        );
                    }
                    fields.insert("circuit".into(), circuit.into());
                }
                for &subscriber in &view.subscribers {
                    self.effects.push(Effect::Resolve {
                        subscriber,
                        value: value.clone(),
                    });
                }
            }
            Some(code) => {
                let message = view
                    .message
                    .take()
                    .unwrap_or_else(|| code.default_message().into());
                let (server, local_error) = view
                    .remote
                    .as_ref()
                    .map(|r| (r.server.clone(), r.local_error))
                    .unwrap_or_default();
                for &subscriber in &view.subscribers {
                    self.effects.push(Effect::Reject {
                        subscriber,
                        failure: Failure {
                            code,
                            message: message.clone(),
                            attempts: history.clone(),
                            server: server.clone(),
                            local_error,
                        },
                    });
                }
            }
        }
        self.scheduler.forget(job);
        if !self.refused.is_empty() && !self.status.terminated {
            let records = std::mem::take(&mut self.refused);
            self.effects
                .push(Effect::Storage(StorageOp::Resume { records }));
        }
    }

    /// What a finished job means for storage: its proof cached (and its durable record removed,
    /// in the same transaction), or its record removed (or only unlocked: TERMINATED).
    fn persist_outcome(&mut self, job: JobId, view: &JobView, code: Option<ErrorCode>) {
        let Some(j) = self.scheduler.job(job) else {
            return;
        };
        let durable = view
            .durable
            .as_ref()
            .and_then(|_| view.cache_key.digest().map(str::to_string));
        let circuit = j.circuit();
        let keys = self.keys.get(&circuit);
        let record = match (&view.result, code, view.cached, keys) {
            (Some(value), None, false, Some(keys)) if self.storage.proof_cache => {
                proof_record(&j.statement, &view.cache_key, &keys.verifying, value)
            }
            _ => None,
        };
        let op = match (record, durable, keys) {
            (Some(record), durable, Some(keys)) => Some(StorageOp::CacheProof {
                record,
                key: view.cache_key.clone(),
                durable,
                verifying_key: keys.verifying.clone(),
            }),
            (_, Some(id), _) => Some(StorageOp::EndJob {
                id,
                leaves: durable::leaves_queue(j.state, code),
            }),
            _ => None,
        };
        if let Some(op) = op {
            self.effects.push(Effect::Storage(op));
        }
    }

    fn on_message(&mut self, worker: WorkerId, message: WorkerMessage, now: f64) {
        if !self.workers.contains_key(&worker) {
            return; // a worker already ended: its word is stale
        }
        if let (Some(memory), Some(w)) = (message.memory_bytes(), self.workers.get_mut(&worker)) {
            w.memory_bytes = memory;
        }
        match message {
            WorkerMessage::Ready { info, .. } => {
                if let Some(w) = self.workers.get_mut(&worker) {
                    w.threads = info.threads.unwrap_or(1);
                }
                self.scheduler.worker_ready(worker, now);
            }
            WorkerMessage::ThreadsFailed { error } => {
                if let Some(code) = self.scheduler.threads_failed(worker, now) {
                    self.status.build = Build::Single;
                    self.status.threads = 1;
                    self.status.code = Some(code);
                    self.status.reason = format!(
                        "single-threaded: the threaded build did not start in the worker ({error})"
                    );
                }
            }
            // The worker could not even load the wasm.
            WorkerMessage::Error { .. } => {
                self.spawn_failed(worker, "the prover worker cannot load the wasm module", now);
            }
            WorkerMessage::JobProgress { id, progress, .. } => {
                let (stage, percent) = progress::overall(&progress.stage, progress.fraction);
                self.scheduler.progress(id, worker, percent / 100.0, now);
                if self.runs_on(id, worker) {
                    if let Some(view) = self.jobs.get_mut(&id) {
                        view.stage = stage;
                        view.percent = percent;
                    }
                    self.publish_progress(id, now);
                }
            }
            WorkerMessage::KeyEvent { .. } => {} // the caches' counters (the web layer's)
            WorkerMessage::JobResult { id, value, .. } => {
                // Only a proof that verifies against the manifest's key resolves: a key pair that
                // does not match is KEY_INTEGRITY here, not a proof that fails on-chain.
                let check = self.scheduler.job(id).filter(|_| self.runs_on(id, worker));
                if let Some(j) = check {
                    let statement = j.statement.clone();
                    if let Some(view) = self.jobs.get_mut(&id) {
                        view.result = Some(value.clone());
                    }
                    match self.keys.get(&j.circuit()) {
                        Some(keys) => self.effects.push(Effect::Verify {
                            job: id,
                            worker,
                            statement,
                            verifying_key: keys.verifying.clone(),
                            value,
                        }),
                        None => self.verified(
                            id,
                            worker,
                            Err((
                                ErrorCode::KeyNotFound,
                                "the manifest has no verifying key for its circuit".into(),
                            )),
                            now,
                        ),
                    }
                }
            }
            WorkerMessage::JobError { id, error, .. } => {
                let error = error.settled();
                let code = error.code();
                let running = self.runs_on(id, worker);
                if running {
                    if let Some(view) = self.jobs.get_mut(&id) {
                        view.message = error.message.map(|m| without_code(&m, code));
                    }
                }
                self.scheduler.failed(id, worker, code, now);
                self.publish_progress(id, now);
            }
        }
        self.follow_commands(now);
    }

    /// The page's verdict on a worker's proof.
    fn verified(
        &mut self,
        job: JobId,
        worker: WorkerId,
        verdict: Result<(), (ErrorCode, String)>,
        now: f64,
    ) {
        match verdict {
            Ok(()) => {
                if !self.scheduler.succeeded(job, worker, now) {
                    // Stale: cancelled or moved on meanwhile.
                    if let Some(view) = self.jobs.get_mut(&job) {
                        view.result = None;
                    }
                    return;
                }
            }
            Err((code, why)) => {
                let running = self.runs_on(job, worker);
                if !running {
                    return;
                }
                if let Some(view) = self.jobs.get_mut(&job) {
                    view.result = None;
                    view.message = Some(why);
                }
                self.scheduler.failed(job, worker, code, now);
                self.publish_progress(job, now);
            }
        }
        self.follow_commands(now);
    }

    fn publish_progress(&mut self, job: JobId, now: f64) {
        let remote_eta = self
            .jobs
            .get(&job)
            .and_then(|v| v.remote.as_ref())
            .map(|r| r.eta_ms);
        let eta_ms = remote_eta.unwrap_or_else(|| self.scheduler.eta_ms(job, now));
        let state = self.scheduler.job(job).map(|j| (j.state, j.attempts));
        let Some(view) = self.jobs.get_mut(&job) else {
            return;
        };
        (view.stage, view.percent) =
            progress::shown(state.map(|(s, _)| s), (view.stage, view.percent));
        self.effects.push(Effect::Progress {
            job,
            view: ProgressView {
                stage: view.stage,
                percent: view.percent,
                eta_ms,
                cached: view.cached,
                done: false,
                attempt: state.map(|(_, a)| a),
                ended: false,
                remote: view.remote.is_some(),
            },
            subscribers: view.subscribers.clone(),
        });
    }

    fn publish(&mut self) {
        self.status.workers = self.workers.len();
        let stats = EngineStats {
            scheduler: self.scheduler.stats(),
            threads_in_use: self.workers.values().map(|w| w.threads).sum(),
            wasm_memory_per_worker: self.workers.values().map(|w| w.memory_bytes).collect(),
        };
        self.effects.push(Effect::Publish {
            stats,
            status: self.status.clone(),
        });
        let log = self.scheduler.audit();
        if log.pushed() != self.audit_copied {
            let events: Vec<AuditEvent> = log.since(self.audit_copied).cloned().collect();
            self.audit_copied = log.pushed();
            if self.storage.audit_log {
                self.effects
                    .push(Effect::Storage(StorageOp::AppendAudit { events }));
            }
        }
    }
}

/// The proof cache record of a result a worker sent for `statement` (what was actually proved:
/// a fallback may have rewritten a claim; its key then is the rewritten claim's, while a circom
/// statement keeps `submitted`, its keyed key). None when the result lacks the proof's fields.
fn proof_record(
    statement: &Statement,
    submitted: &CacheKey,
    verifying: &KeyMessage,
    value: &Value,
) -> Option<ProofRecord> {
    let proof = value.get("proof")?.clone();
    let signals: Vec<String> = serde_json::from_value(value.get("publicSignals")?.clone()).ok()?;
    let key = match statement.cache_key(&verifying.sha256) {
        CacheKey::Digest(d) => d,
        CacheKey::Keyed { .. } => submitted.digest().unwrap_or_default().to_string(),
    };
    Some(ProofRecord::new(
        key,
        statement.circuit().to_string(),
        verifying.sha256.clone(),
        proof,
        signals,
    ))
}

/// A worker's message without the `CODE: ` it starts with when it is an error's Display text
/// (`to_js` in the worker): the boundary writes the code in front once (`web::error::job_error`),
/// so that a job's message does not read `ZKEY_CORRUPT: ZKEY_CORRUPT: section 5 ...`.
fn without_code(message: &str, code: ErrorCode) -> String {
    message
        .strip_prefix(code.as_str())
        .and_then(|m| m.strip_prefix(": "))
        .unwrap_or(message)
        .to_string()
}
