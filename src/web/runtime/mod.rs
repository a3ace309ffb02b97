//! The browser runtime: carries out what [`Scheduler`] decides, on real Web Workers.
//!
//! Everything here is an effect: spawning and terminating workers, posting messages, arming
//! timers, settling promises, notifying subscribers. Every decision (which job runs, retries,
//! fallbacks, timeouts) is the scheduler's, tested natively. Each entry point borrows the state,
//! feeds the scheduler one event, carries out its commands, and only then, with no borrow held,
//! calls into page code ([`effects`]).

pub mod effects;
pub mod errors;
pub mod job;
pub mod manifest;
pub mod options;
pub mod readable;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use js_sys::Reflect;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use self::effects::Effects;
use self::errors::job_error;
use self::job::Job;
use self::manifest::KeyManifest;
use self::options::{RuntimeOptions, SubmitOptions};
use self::readable::Readable;
use crate::claim::Claim;
use crate::runtime::code::ErrorCode;
use crate::runtime::fallback::{Build, PageCapabilities};
use crate::runtime::scheduler::{Command, JobId, JobState, Scheduler, Submission, WorkerId};
use crate::web::clock::now_ms;
use crate::web::error::{bad_argument, to_js};

/// Consecutive worker spawn failures after which the runtime gives up.
const MAX_SPAWN_FAILURES: u32 = 3;

/// The proof runtime: a priority queue of proof jobs on a pool of Web Workers.
#[wasm_bindgen]
pub struct Runtime {
    inner: Rc<RefCell<Inner>>,
}

struct WorkerHandle {
    worker: web_sys::Worker,
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::ErrorEvent)>,
    memory_bytes: f64,
    threads: u32,
}

struct Subscriber {
    id: u64,
    resolve: js_sys::Function,
    reject: js_sys::Function,
    on_progress: Option<js_sys::Function>,
    abort: Option<(web_sys::AbortSignal, Closure<dyn FnMut()>)>,
}

struct JobEntry {
    subscribers: Vec<Subscriber>,
    progress: Readable,
    stage: &'static str,
    percent: f64,
    result: Option<JsValue>,
    message: Option<String>,
    timeout: Option<Timeout>,
}

/// The runtime's status line: which build, how many threads, and why.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    build: &'static str,
    threads: u32,
    reason: String,
    cross_origin_isolated: bool,
    workers: usize,
    terminated: bool,
}

struct Inner {
    me: Weak<RefCell<Inner>>,
    scheduler: Scheduler,
    spawn: js_sys::Function,
    manifest: KeyManifest,
    workers: HashMap<WorkerId, WorkerHandle>,
    jobs: HashMap<JobId, JobEntry>,
    status: Status,
    status_store: Readable,
    stats_store: Readable,
    wake: Option<(f64, Timeout)>,
    next_subscriber: u64,
    spawn_failures: u32,
    fault: Option<(options::FaultInjection, u32)>,
}

#[wasm_bindgen]
impl Runtime {
    /// `Runtime.create(options, spawnWorker)`: reads the key manifest, checks what the page offers
    /// and returns the runtime. `spawnWorker(build)` must return a new module Worker running the
    /// package's `prover-worker.js` (the package's `createProver` passes it).
    pub async fn create(
        options: JsValue,
        spawn_worker: js_sys::Function,
    ) -> Result<Runtime, JsValue> {
        let options = RuntimeOptions::from_js(&options)?;
        let manifest = KeyManifest::fetch(&options.manifest_url).await?;
        let page = page_capabilities();
        let (build, threads, reason) = options.build_choice(page);
        let mut config = options.config(build);
        config.circuits = manifest.circuits();
        let seed = (js_sys::Math::random() * 2f64.powi(53)) as u64;
        let inner = Rc::new_cyclic(|me| {
            RefCell::new(Inner {
                me: me.clone(),
                scheduler: Scheduler::new(config, seed),
                spawn: spawn_worker,
                manifest,
                workers: HashMap::new(),
                jobs: HashMap::new(),
                status: Status {
                    build: build.as_str(),
                    threads,
                    reason,
                    cross_origin_isolated: page.cross_origin_isolated,
                    workers: 0,
                    terminated: false,
                },
                status_store: Readable::default(),
                stats_store: Readable::default(),
                wake: None,
                next_subscriber: 1,
                spawn_failures: 0,
                fault: options.fault_injection.map(|f| {
                    let times = f.times.unwrap_or(1);
                    (f, times)
                }),
            })
        });
        let mut fx = Effects::default();
        inner.borrow_mut().publish(&mut fx);
        fx.run();
        Ok(Runtime { inner })
    }

    /// Submits a claim (JSON text or object). Returns a [`Job`] at once. Throws (a JS Error with
    /// `code`) for a claim that is not valid, a circuit without keys, bad options, QUEUE_FULL,
    /// RATE_LIMITED and TERMINATED.
    pub fn submit(&self, claim: JsValue, options: JsValue) -> Result<Job, JsValue> {
        let text = match claim.as_string() {
            Some(s) => s,
            None if claim.is_object() => js_sys::JSON::stringify(&claim)
                .map_err(|_| bad_argument("claim", "cannot be turned into JSON"))?
                .into(),
            None => return Err(bad_argument("claim", "must be JSON text or an object")),
        };
        let claim = Claim::from_json(&text).map_err(to_js)?;
        let options = SubmitOptions::from_js(&options)?;
        let mut fx = Effects::default();
        let job = Inner::submit(&self.inner, claim, options, &mut fx);
        fx.run();
        job
    }

    /// Ends every worker and rejects every unfinished job with TERMINATED.
    pub fn terminate(&self) {
        let mut fx = Effects::default();
        {
            let mut inner = self.inner.borrow_mut();
            let now = now_ms();
            inner.scheduler.terminate(now);
            inner.status.terminated = true;
            inner.carry_out(&mut fx);
            inner.wake = None;
        }
        fx.run();
    }

    /// Job counts per priority, success rate, duration percentiles and predictions per circuit,
    /// workers, build, wasm memory per worker: a readable store.
    #[wasm_bindgen(getter)]
    pub fn stats(&self) -> Readable {
        self.inner.borrow().stats_store.clone()
    }

    /// `{ build, threads, reason, crossOriginIsolated, workers, terminated }`: a readable store.
    #[wasm_bindgen(getter)]
    pub fn status(&self) -> Readable {
        self.inner.borrow().status_store.clone()
    }

    /// The audit log (job events, never claims or secrets) as a JSON-ready array.
    #[wasm_bindgen(js_name = auditLog)]
    pub fn audit_log(&self) -> JsValue {
        to_js_value(&self.inner.borrow().scheduler.audit().to_json())
    }

    /// Predicted proving time of a circuit on this device, in ms (from this runtime's history).
    pub fn predict(&self, circuit: &str) -> Option<f64> {
        self.inner.borrow().scheduler.predict(circuit)
    }

    /// Number of live job workers.
    #[wasm_bindgen(js_name = workerCount)]
    pub fn worker_count(&self) -> usize {
        self.inner.borrow().workers.len()
    }
}

impl Inner {
    fn submit(
        this: &Rc<RefCell<Inner>>,
        claim: Claim,
        options: SubmitOptions,
        fx: &mut Effects,
    ) -> Result<Job, JsValue> {
        let mut inner = this.borrow_mut();
        let circuit = claim.circuit.to_string();
        if !inner.manifest.has(&circuit) {
            return Err(to_js(crate::Error::KeyNotFound {
                what: format!("no proving key for {circuit} in the manifest"),
            }));
        }
        let submission = Submission {
            claim,
            priority: options.priority,
            user_id: options.user_id.clone(),
            max_retries: options.max_retries,
            timeout_ms: options.timeout_ms,
        };
        let now = now_ms();
        let (id, _deduplicated) = inner
            .scheduler
            .submit(submission, now)
            .map_err(|r| job_error(r.code, &r.message, &[]))?;
        let subscriber = inner.next_subscriber;
        inner.next_subscriber += 1;
        let mut settle = None;
        let result = js_sys::Promise::new(&mut |resolve, reject| settle = Some((resolve, reject)));
        let (resolve, reject) = settle.expect("the executor runs synchronously");
        let abort = options.signal.as_ref().map(|signal| {
            let weak = inner.me.clone();
            let on_abort = Closure::<dyn FnMut()>::new(move || {
                if let Some(inner) = weak.upgrade() {
                    Inner::cancel_subscriber(&inner, id, subscriber);
                }
            });
            let _ =
                signal.add_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
            (signal.clone(), on_abort)
        });
        let entry = inner.jobs.entry(id).or_insert_with(|| JobEntry {
            subscribers: Vec::new(),
            progress: Readable::default(),
            stage: "queued",
            percent: 0.0,
            result: None,
            message: None,
            timeout: None,
        });
        entry.subscribers.push(Subscriber {
            id: subscriber,
            resolve,
            reject,
            on_progress: options.on_progress,
            abort,
        });
        let progress = entry.progress.clone();
        inner.carry_out(fx);
        inner.publish_progress(id, fx);
        let aborted = options.signal.as_ref().is_some_and(|s| s.aborted());
        drop(inner);
        if aborted {
            Inner::cancel_subscriber(this, id, subscriber);
        }
        Ok(Job::new(
            id,
            subscriber,
            result,
            progress,
            Rc::downgrade(this),
        ))
    }

    /// One caller gives up on a job: its promise rejects with CANCELLED at once; the job itself
    /// stops when no caller is left.
    fn cancel_subscriber(this: &Rc<RefCell<Inner>>, job: JobId, subscriber: u64) {
        let mut fx = Effects::default();
        {
            let mut inner = this.borrow_mut();
            let Some(entry) = inner.jobs.get_mut(&job) else {
                return;
            };
            let Some(at) = entry.subscribers.iter().position(|s| s.id == subscriber) else {
                return;
            };
            let s = entry.subscribers.remove(at);
            let err = job_error(ErrorCode::Cancelled, "cancelled by the caller", &[]);
            fx.call(s.reject, vec![err]);
            if let Some((signal, closure)) = s.abort {
                let _ = signal
                    .remove_event_listener_with_callback("abort", closure.as_ref().unchecked_ref());
            }
            inner.scheduler.cancel(job, now_ms());
            inner.carry_out(&mut fx);
        }
        fx.run();
    }

    /// Carries out the scheduler's commands, then publishes stats and status.
    fn carry_out(&mut self, fx: &mut Effects) {
        loop {
            let commands = self.scheduler.take_commands();
            if commands.is_empty() {
                break;
            }
            for command in commands {
                self.command(command, fx);
            }
        }
        self.publish(fx);
    }

    fn command(&mut self, command: Command, fx: &mut Effects) {
        match command {
            Command::SpawnWorker { worker, build } => self.spawn_worker(worker, build),
            Command::TerminateWorker { worker } => {
                if let Some(h) = self.workers.remove(&worker) {
                    h.worker.terminate();
                }
            }
            Command::Run {
                job,
                worker,
                attempt,
                timeout_ms,
            } => self.run(job, worker, attempt, timeout_ms, fx),
            Command::Resolve { job } => self.settle(job, None, fx),
            Command::Reject { job, code } => self.settle(job, Some(code), fx),
            Command::WakeAt { at_ms } => self.wake_at(at_ms),
        }
    }

    fn spawn_worker(&mut self, worker: WorkerId, build: Build) {
        let spawned = self
            .spawn
            .call1(&JsValue::NULL, &build_name(build).into())
            .and_then(|w| {
                w.dyn_into::<web_sys::Worker>()
                    .map_err(|_| "spawnWorker did not return a Worker".into())
            });
        let w = match spawned {
            Ok(w) => w,
            Err(e) => {
                web_sys::console::error_2(&"airprover: could not start a worker".into(), &e);
                self.spawn_failures += 1;
                if self.spawn_failures >= MAX_SPAWN_FAILURES {
                    self.status.reason = "workers cannot be started on this page".into();
                    self.scheduler.terminate(now_ms());
                } else {
                    self.scheduler.worker_died(worker, now_ms());
                }
                return;
            }
        };
        let weak = self.me.clone();
        let on_message =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                if let Some(inner) = weak.upgrade() {
                    Inner::on_message(&inner, worker, e.data());
                }
            });
        let weak = self.me.clone();
        let on_error =
            Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |e: web_sys::ErrorEvent| {
                e.prevent_default();
                web_sys::console::warn_2(&"airprover: a worker died:".into(), &e.message().into());
                if let Some(inner) = weak.upgrade() {
                    let mut fx = Effects::default();
                    {
                        let mut i = inner.borrow_mut();
                        i.scheduler.worker_died(worker, now_ms());
                        i.carry_out(&mut fx);
                    }
                    fx.run();
                }
            });
        w.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        w.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        // Threaded: the worker falls back to the single build by itself if threads do not start
        // (and says so in its ready message); single: never try threads.
        let requested = match build {
            Build::Threaded => JsValue::UNDEFINED,
            Build::Single => "single".into(),
        };
        let init = object(&[
            ("type", "airprover:init".into()),
            ("threads", self.status.threads.into()),
            ("build", requested),
        ]);
        let _ = w.post_message(&init);
        self.workers.insert(
            worker,
            WorkerHandle {
                worker: w,
                _on_message: on_message,
                _on_error: on_error,
                memory_bytes: 0.0,
                threads: 0,
            },
        );
    }

    fn run(
        &mut self,
        job: JobId,
        worker: WorkerId,
        attempt: u32,
        timeout_ms: Option<f64>,
        fx: &mut Effects,
    ) {
        let Some(j) = self.scheduler.job(job) else {
            return;
        };
        let circuit = j.circuit();
        let claim = j.claim.to_canonical_json().to_string();
        let key = self.manifest.proving_key(&circuit);
        let fault = match &mut self.fault {
            Some((f, left)) if *left > 0 => {
                *left -= 1;
                object(&[
                    (
                        "crashAtStage",
                        f.crash_at_stage
                            .as_deref()
                            .map(JsValue::from_str)
                            .unwrap_or(JsValue::UNDEFINED),
                    ),
                    (
                        "stallAtStage",
                        f.stall_at_stage
                            .as_deref()
                            .map(JsValue::from_str)
                            .unwrap_or(JsValue::UNDEFINED),
                    ),
                    ("stallMs", f.stall_ms.unwrap_or(60_000.0).into()),
                ])
            }
            _ => JsValue::UNDEFINED,
        };
        let message = object(&[
            ("type", "airprover:job".into()),
            ("id", (job as f64).into()),
            ("attempt", attempt.into()),
            ("circuit", circuit.as_str().into()),
            ("claim", claim.into()),
            ("key", key.map(|k| k.to_js()).unwrap_or(JsValue::NULL)),
            ("fault", fault),
        ]);
        if let Some(h) = self.workers.get(&worker) {
            let _ = h.worker.post_message(&message);
        }
        if let Some(entry) = self.jobs.get_mut(&job) {
            entry.stage = "loading-keys";
            entry.percent = 0.0;
            entry.timeout = timeout_ms.map(|ms| {
                let weak = self.me.clone();
                Timeout::new(ms.min(u32::MAX as f64) as u32, move || {
                    if let Some(inner) = weak.upgrade() {
                        let mut fx = Effects::default();
                        {
                            let mut i = inner.borrow_mut();
                            i.scheduler.timed_out(job, attempt, now_ms());
                            i.carry_out(&mut fx);
                            i.publish_progress(job, &mut fx);
                        }
                        fx.run();
                    }
                })
            });
        }
        self.publish_progress(job, fx);
    }

    fn settle(&mut self, job: JobId, code: Option<ErrorCode>, fx: &mut Effects) {
        let Some(mut entry) = self.jobs.remove(&job) else {
            self.scheduler.forget(job);
            return;
        };
        let history = self
            .scheduler
            .job(job)
            .map(|j| j.history.clone())
            .unwrap_or_default();
        match code {
            None => {
                entry.stage = "done";
                entry.percent = 100.0;
                let value = entry.result.take().unwrap_or(JsValue::NULL);
                for s in &entry.subscribers {
                    fx.call(s.resolve.clone(), vec![value.clone()]);
                }
            }
            Some(code) => {
                entry.stage = if code == ErrorCode::Cancelled {
                    "cancelled"
                } else {
                    "failed"
                };
                let message = entry
                    .message
                    .take()
                    .unwrap_or_else(|| default_message(code).into());
                for s in &entry.subscribers {
                    fx.call(s.reject.clone(), vec![job_error(code, &message, &history)]);
                }
            }
        }
        let value = progress_value(&entry, None, code.is_none());
        entry.progress.set(value.clone(), fx);
        for s in entry.subscribers.drain(..) {
            if let Some(f) = s.on_progress {
                fx.call(f, vec![value.clone()]);
            }
            if let Some((signal, closure)) = s.abort {
                let _ = signal
                    .remove_event_listener_with_callback("abort", closure.as_ref().unchecked_ref());
            }
        }
        self.scheduler.forget(job);
    }

    fn wake_at(&mut self, at_ms: f64) {
        if self.wake.as_ref().is_some_and(|(t, _)| *t <= at_ms) {
            return;
        }
        let delay = (at_ms - now_ms()).clamp(0.0, u32::MAX as f64) as u32;
        let weak = self.me.clone();
        let timer = Timeout::new(delay, move || {
            if let Some(inner) = weak.upgrade() {
                let mut fx = Effects::default();
                {
                    let mut i = inner.borrow_mut();
                    i.wake = None;
                    i.scheduler.tick(now_ms());
                    i.carry_out(&mut fx);
                    let ids: Vec<JobId> = i.jobs.keys().copied().collect();
                    ids.into_iter()
                        .for_each(|id| i.publish_progress(id, &mut fx));
                }
                fx.run();
            }
        });
        self.wake = Some((at_ms, timer));
    }

    fn on_message(this: &Rc<RefCell<Inner>>, worker: WorkerId, data: JsValue) {
        let kind = Reflect::get(&data, &"type".into())
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default();
        let job = Reflect::get(&data, &"id".into())
            .ok()
            .and_then(|v| v.as_f64())
            .map(|v| v as JobId);
        let mut fx = Effects::default();
        {
            let mut inner = this.borrow_mut();
            let now = now_ms();
            if let Some(mem) = Reflect::get(&data, &"memoryBytes".into())
                .ok()
                .and_then(|v| v.as_f64())
            {
                if let Some(h) = inner.workers.get_mut(&worker) {
                    h.memory_bytes = mem;
                }
            }
            match (kind.as_str(), job) {
                ("airprover:ready", _) => {
                    inner.spawn_failures = 0;
                    let info = Reflect::get(&data, &"info".into()).unwrap_or(JsValue::UNDEFINED);
                    let threads = Reflect::get(&info, &"threads".into())
                        .ok()
                        .and_then(|v| v.as_f64());
                    let build = Reflect::get(&data, &"build".into())
                        .ok()
                        .and_then(|v| v.as_string());
                    if let Some(h) = inner.workers.get_mut(&worker) {
                        h.threads = threads.unwrap_or(1.0) as u32;
                    }
                    if build.as_deref() == Some("single") && inner.status.build == "threaded" {
                        inner.status.build = "single";
                        inner.status.threads = 1;
                        inner.status.reason =
                            "single-threaded: the threaded build did not start in the worker"
                                .into();
                    }
                    inner.scheduler.worker_ready(worker, now);
                }
                ("airprover:error", None) => {
                    // The worker could not even load the wasm. A few times: replace it; more:
                    // this page cannot run workers, and jobs must not wait forever.
                    inner.spawn_failures += 1;
                    if inner.spawn_failures >= MAX_SPAWN_FAILURES {
                        inner.status.reason =
                            "the prover worker cannot load the wasm module".into();
                        inner.scheduler.terminate(now);
                    } else {
                        inner.scheduler.worker_died(worker, now);
                    }
                }
                ("airprover:job-progress", Some(job)) => {
                    let p = Reflect::get(&data, &"progress".into()).unwrap_or(JsValue::UNDEFINED);
                    let stage = Reflect::get(&p, &"stage".into())
                        .ok()
                        .and_then(|v| v.as_string())
                        .unwrap_or_default();
                    let fraction = Reflect::get(&p, &"fraction".into())
                        .ok()
                        .and_then(|v| v.as_f64())
                        .unwrap_or(0.0);
                    let (stage, percent) = overall(&stage, fraction);
                    inner.scheduler.progress(job, worker, percent / 100.0);
                    if let Some(e) = inner.jobs.get_mut(&job) {
                        e.stage = stage;
                        e.percent = percent;
                    }
                    inner.publish_progress(job, &mut fx);
                }
                ("airprover:job-result", Some(job)) => {
                    let value = Reflect::get(&data, &"value".into()).unwrap_or(JsValue::NULL);
                    if let Some(e) = inner.jobs.get_mut(&job) {
                        e.result = Some(value);
                    }
                    if !inner.scheduler.succeeded(job, worker, now) {
                        if let Some(e) = inner.jobs.get_mut(&job) {
                            e.result = None;
                        }
                    }
                }
                ("airprover:job-error", Some(job)) => {
                    let error = Reflect::get(&data, &"error".into()).unwrap_or(JsValue::UNDEFINED);
                    let code_text = Reflect::get(&error, &"code".into())
                        .ok()
                        .and_then(|v| v.as_string())
                        .unwrap_or_default();
                    let message = Reflect::get(&error, &"message".into())
                        .ok()
                        .and_then(|v| v.as_string());
                    let code = code_text.parse().unwrap_or(ErrorCode::WorkerCrashed);
                    if let Some(e) = inner.jobs.get_mut(&job) {
                        e.message = message;
                    }
                    inner.scheduler.failed(job, worker, code, now);
                    inner.publish_progress(job, &mut fx);
                }
                _ => {}
            }
            inner.carry_out(&mut fx);
        }
        fx.run();
    }

    fn publish_progress(&mut self, job: JobId, fx: &mut Effects) {
        let eta = self.scheduler.eta_ms(job, now_ms());
        let state = self.scheduler.job(job).map(|j| (j.state, j.attempts));
        let Some(entry) = self.jobs.get_mut(&job) else {
            return;
        };
        if let Some((JobState::Queued | JobState::RetryWait { .. }, _)) = state {
            entry.stage = "queued";
            entry.percent = 0.0;
        }
        let value = progress_value(entry, eta, false);
        if let Some((_, attempt)) = state {
            let _ = Reflect::set(&value, &"attempt".into(), &attempt.into());
        }
        entry.progress.set(value.clone(), fx);
        for s in &entry.subscribers {
            if let Some(f) = &s.on_progress {
                fx.call(f.clone(), vec![value.clone()]);
            }
        }
    }

    fn publish(&mut self, fx: &mut Effects) {
        let stats = self.scheduler.stats();
        let value = to_js_value(&stats);
        let threads: u32 = self.workers.values().map(|h| h.threads).sum();
        let memory: js_sys::Array = self
            .workers
            .values()
            .map(|h| JsValue::from(h.memory_bytes))
            .collect();
        let _ = Reflect::set(&value, &"threadsInUse".into(), &threads.into());
        let _ = Reflect::set(&value, &"wasmMemoryPerWorker".into(), &memory);
        self.stats_store.set(value, fx);
        self.status.workers = self.workers.len();
        self.status_store.set(to_js_value(&self.status), fx);
    }
}

/// Maps a worker's stage and fraction to the user's stages and an overall percent: keys 0-10%,
/// witness and proving 10-95% (by the prover's own fraction), verifying 95-100%.
fn overall(stage: &str, fraction: f64) -> (&'static str, f64) {
    let f = fraction.clamp(0.0, 1.0);
    match stage {
        "loading-keys" => ("loading-keys", 10.0 * f),
        "synthesis" | "constraint-check" => ("witness", 10.0 + 85.0 * f),
        "qap" | "msm-h" | "msm-l" | "msm-a" | "msm-b1" | "msm-b2" => ("proving", 10.0 + 85.0 * f),
        "done" | "verifying" => ("verifying", 95.0),
        _ => ("proving", 10.0 + 85.0 * f),
    }
}

fn progress_value(entry: &JobEntry, eta_ms: Option<f64>, done: bool) -> JsValue {
    object(&[
        ("stage", entry.stage.into()),
        ("percent", entry.percent.into()),
        ("etaMs", eta_ms.map(JsValue::from).unwrap_or(JsValue::NULL)),
        ("cached", false.into()),
        ("done", done.into()),
    ])
}

fn default_message(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::Cancelled => "cancelled",
        ErrorCode::Terminated => "the prover was terminated",
        ErrorCode::Timeout => "the attempt took longer than timeoutMs",
        ErrorCode::WorkerCrashed => "the worker died while proving",
        ErrorCode::OutOfMemory => "out of memory",
        _ => "the job failed",
    }
}

fn build_name(build: Build) -> &'static str {
    match build {
        Build::Threaded => "threads",
        Build::Single => "single",
    }
}

fn page_capabilities() -> PageCapabilities {
    let global = js_sys::global();
    let get = |k: &str| Reflect::get(&global, &k.into()).unwrap_or(JsValue::UNDEFINED);
    let navigator = get("navigator");
    PageCapabilities {
        cross_origin_isolated: get("crossOriginIsolated").as_bool().unwrap_or(false),
        shared_array_buffer: get("SharedArrayBuffer").is_function(),
        hardware_concurrency: Reflect::get(&navigator, &"hardwareConcurrency".into())
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(1.0) as u32,
    }
}

/// A plain JS object from key/value pairs.
fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &(*k).into(), v);
    }
    o.into()
}

/// A serde value as a plain JS object (maps as objects, not `Map`s).
fn to_js_value<T: Serialize + ?Sized>(value: &T) -> JsValue {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    value.serialize(&serializer).unwrap_or(JsValue::NULL)
}
