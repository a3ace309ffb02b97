//! The browser runtime: carries out what [`Scheduler`] decides, on real Web Workers.
//!
//! Everything here is an effect: spawning and terminating workers, posting messages, arming
//! timers, settling promises, notifying subscribers. Every decision (which job runs, retries,
//! fallbacks, timeouts) is the scheduler's, tested natively. Each entry point borrows the state,
//! feeds the scheduler one event, carries out its commands, and only then, with no borrow held,
//! calls into page code ([`effects`]).
//!
//! Storage ([`caching`], over IndexedDB through [`storage`]) is an effect too: the proof cache is
//! asked before a job may take a worker (the scheduler's `CheckCache`), a proof is cached when it
//! is made, unfinished jobs are stored and resumed, and the audit log is copied out. Those requests
//! run as futures; each one, when done, feeds its answer back in as one more event.

pub mod caching;
pub mod effects;
pub mod job;
pub mod manifest;
pub mod options;
pub mod readable;
pub mod storage;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use js_sys::Reflect;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use self::caching::{Caches, Lookup, StorageStatus};
use self::effects::Effects;
use self::job::Job;
use self::manifest::KeyManifest;
use self::options::{RuntimeOptions, StorageSettings, SubmitOptions};
use self::readable::Readable;
use self::storage::Storage;
use crate::claim::Claim;
use crate::runtime::cache_key::proof_cache_key;
use crate::runtime::code::ErrorCode;
use crate::runtime::durable::{self, DurableJob};
use crate::runtime::fallback::{Build, PageCapabilities};
use crate::runtime::limits;
use crate::runtime::progress;
use crate::runtime::proof_cache::ProofRecord;
use crate::runtime::protocol::{Fault, JobMessage, PageMessage, StorageName, WorkerMessage};
use crate::runtime::scheduler::{CacheAnswer, Command, JobId, Scheduler, Submission, WorkerId};
use crate::web::clock::now_ms;
use crate::web::error::{bad_argument, job_error, to_js};
use crate::web::js::{self, object, to_js_value};

/// The proof runtime: a priority queue of proof jobs on a pool of Web Workers.
#[wasm_bindgen]
pub struct Runtime {
    inner: Rc<RefCell<Inner>>,
}

impl Drop for Runtime {
    /// `free()` (or `using`) without `terminate()`: the same end, so that no worker outlives the
    /// runtime and no caller waits forever on a job (it rejects with TERMINATED).
    fn drop(&mut self) {
        if !self.inner.try_borrow().is_ok_and(|i| i.status.terminated) {
            self.terminate();
        }
    }
}

struct WorkerHandle {
    worker: web_sys::Worker,
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::ErrorEvent)>,
    memory_bytes: f64,
    threads: u32,
}

impl Drop for WorkerHandle {
    /// A handle let go of ends its worker: a dropped JS handle does not, and the worker would run
    /// on (holding its wasm memory) with nobody to hear it.
    fn drop(&mut self) {
        self.worker.terminate();
    }
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
    /// The submitted claim's proof cache key (also its durable job's id).
    cache_key: String,
    /// Answered from the proof cache.
    cached: bool,
    /// Its record in the durable queue, if stored.
    durable: Option<DurableJob>,
    /// This runtime counted its run in the record already.
    run_counted: bool,
}

/// Where a submission comes from.
enum Origin {
    /// `submit` on this page.
    Caller,
    /// The durable queue of an earlier runtime (its record).
    Stored(DurableJob),
}

/// The runtime's status line: which build, how many threads, and why.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    build: &'static str,
    threads: u32,
    reason: String,
    /// THREADS_UNAVAILABLE once a worker asked for the threaded build came up single-threaded;
    /// null otherwise.
    code: Option<&'static str>,
    cross_origin_isolated: bool,
    workers: usize,
    terminated: bool,
    storage: StorageStatus,
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
    fault: Option<(options::FaultInjection, u32)>,
    caches: Rc<Caches>,
    cache_store: Readable,
    resumed: js_sys::Array,
    /// Stored jobs this runtime refused when it tried to resume them; tried again later.
    refused: Vec<DurableJob>,
    /// Audit events copied to IndexedDB so far (a cursor into the scheduler's log).
    audit_copied: u64,
    /// This runtime's id in the persisted audit log.
    session: String,
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
        let settings = StorageSettings::from_value(options.storage.as_ref())?;
        let manifest = KeyManifest::fetch(&options.manifest_url).await?;
        let page = page_capabilities();
        let (build, threads, reason) = options.build_choice(page);
        let mut config = options.config(build);
        config.circuits = manifest.circuits();
        let seed = (js_sys::Math::random() * 2f64.powi(53)) as u64;
        // Filled once the runtime exists: another tab may close the database at any time.
        let runtime_slot: Rc<RefCell<Weak<RefCell<Inner>>>> = Rc::default();
        let (caches, stored_jobs) = open_caches(settings, &manifest, runtime_slot.clone()).await;
        config.check_cache = caches.proof_storage().is_some();
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
                    code: None,
                    cross_origin_isolated: page.cross_origin_isolated,
                    workers: 0,
                    terminated: false,
                    storage: caches.status(),
                },
                status_store: Readable::default(),
                stats_store: Readable::default(),
                wake: None,
                next_subscriber: 1,
                fault: options.fault_injection.map(|f| {
                    let times = f.times.unwrap_or(1);
                    (f, times)
                }),
                caches,
                cache_store: Readable::default(),
                resumed: js_sys::Array::new(),
                refused: Vec::new(),
                audit_copied: 0,
                session: format!("{:012x}", seed & 0xffff_ffff_ffff),
            })
        });
        *runtime_slot.borrow_mut() = Rc::downgrade(&inner);
        let mut fx = Effects::default();
        inner.borrow_mut().publish(&mut fx);
        fx.run();
        Inner::resume_stored(&inner, stored_jobs).await;
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
        let job = Inner::submit(&self.inner, claim, options, Origin::Caller, &mut fx);
        fx.run();
        job
    }

    /// Ends every worker and rejects every unfinished job with TERMINATED.
    pub fn terminate(&self) {
        let mut fx = Effects::default();
        {
            let Ok(mut inner) = self.inner.try_borrow_mut() else {
                return;
            };
            let now = now_ms();
            inner.scheduler.terminate(now);
            inner.status.terminated = true;
            inner.carry_out(&mut fx);
            inner.wake = None;
        }
        fx.run();
    }

    /// Empties the proof cache and the key cache in IndexedDB (not the durable queue, not the
    /// audit log). Workers keep the keys they have loaded in memory.
    #[wasm_bindgen(js_name = clearCache)]
    pub async fn clear_cache(&self) -> Result<(), JsValue> {
        let caches = self.inner.borrow().caches.clone();
        let result = caches.clear().await;
        Inner::storage_changed(&Rc::downgrade(&self.inner));
        result
    }

    /// The caches' counters: `{ enabled, entries, bytes, maxEntries, maxBytes, hits, misses,
    /// hitRate, evictions, rejected, keys: { enabled, hits, downloads, integrityFailures, evicted } }`,
    /// a readable store (also `stats.cache`).
    #[wasm_bindgen(getter = cacheStats)]
    pub fn cache_stats(&self) -> Readable {
        self.inner.borrow().cache_store.clone()
    }

    /// The jobs this runtime resumed from the durable queue when it started, as `Job`s.
    pub fn resumed(&self) -> js_sys::Array {
        self.inner.borrow().resumed.clone()
    }

    /// The audit log as persisted in IndexedDB (this and earlier runtimes of the origin, bounded
    /// by `storage.auditLogSize`), oldest first; each event with `session` and `wallMs`.
    #[wasm_bindgen(js_name = persistedAuditLog)]
    pub async fn persisted_audit_log(&self) -> Result<JsValue, JsValue> {
        let storage = {
            let inner = self.inner.borrow();
            inner
                .caches
                .storage()
                .filter(|_| inner.caches.settings.audit_log_size > 0)
        };
        match storage {
            Some(s) => s
                .audit()
                .await
                .map_err(|e| js_sys::Error::new(&e.message).into()),
            None => Ok(js_sys::Array::new().into()),
        }
    }

    /// Job counts per priority, success rate, duration percentiles and predictions per circuit,
    /// workers, build, wasm memory per worker: a readable store.
    #[wasm_bindgen(getter)]
    pub fn stats(&self) -> Readable {
        self.inner.borrow().stats_store.clone()
    }

    /// `{ build, threads, reason, crossOriginIsolated, workers, terminated, storage }`: a readable
    /// store; `storage` says whether IndexedDB is in use, what for, and why not.
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
        origin: Origin,
        fx: &mut Effects,
    ) -> Result<Job, JsValue> {
        let mut inner = this.borrow_mut();
        let circuit = claim.circuit.to_string();
        let Some(vk) = inner.manifest.verifying_key(&circuit) else {
            return Err(to_js(crate::Error::KeyNotFound {
                what: format!("no proving key for {circuit} in the manifest"),
            }));
        };
        let cache_key = proof_cache_key(&claim, &vk.sha256);
        let submission = Submission {
            claim,
            priority: options.priority,
            user_id: options.user_id.clone(),
            max_retries: options.max_retries,
            timeout_ms: options.timeout_ms,
            fallback_circuits: options.fallback_circuits.clone(),
        };
        let now = now_ms();
        let (record, stored) = match origin {
            Origin::Caller => (
                inner
                    .caches
                    .job_storage()
                    .map(|_| DurableJob::new(cache_key.clone(), &submission, js_sys::Date::now())),
                false,
            ),
            Origin::Stored(record) => (Some(record), true),
        };
        let accepted = if stored {
            inner.scheduler.resume(submission, now)
        } else {
            inner.scheduler.submit(submission, now)
        };
        let (id, deduplicated) = accepted.map_err(|r| job_error(r.code, &r.message, &[]))?;
        let durable = record
            .clone()
            .filter(|_| inner.caches.job_storage().is_some());
        let mut answer = None;
        let stored_promise = js_sys::Promise::new(&mut |resolve, _| answer = Some(resolve));
        let answer = answer.expect("the executor runs synchronously");
        if let (Some(record), false, false) = (record, stored, deduplicated) {
            // Stored before anything else can touch it: the job's end (a delete) waits for the
            // job's puts (storage.js chains a job's writes; sealing the claim awaits).
            let caches = inner.caches.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if let Some(storage) = caches.job_storage() {
                    storage.lock_job(&record.id).await;
                    let kept = match storage.put_job(&record).await {
                        Ok(()) => true,
                        Err(e) => {
                            caches.failed("storing a job", &e);
                            false
                        }
                    };
                    let _ = answer.call1(&JsValue::NULL, &kept.into());
                } else {
                    let _ = answer.call1(&JsValue::NULL, &false.into());
                }
            });
        } else {
            // Resumed (its record is stored), joined to a job in flight, or not stored at all.
            let _ = answer.call1(&JsValue::NULL, &(durable.is_some() || stored).into());
        }
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
            cache_key,
            cached: false,
            durable,
            run_counted: false,
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
            stored_promise,
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
                // Dropping the handle ends the worker.
                self.workers.remove(&worker);
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
            Command::CheckCache { job } => self.check_cache(job),
        }
    }

    /// Asks the proof cache for a job's claim; the answer comes back as an event.
    fn check_cache(&mut self, job: JobId) {
        let (Some(j), Some(entry)) = (self.scheduler.job(job), self.jobs.get(&job)) else {
            return;
        };
        let claim = j.claim.clone();
        let key = entry.cache_key.clone();
        let Some(vk) = self.manifest.verifying_key(&j.circuit()).cloned() else {
            self.scheduler
                .cache_answer(job, CacheAnswer::Miss, now_ms());
            return;
        };
        let caches = self.caches.clone();
        let weak = self.me.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let lookup = caches.lookup(&key, &claim, &vk).await;
            caches.count(&lookup);
            let Some(inner) = weak.upgrade() else { return };
            let mut fx = Effects::default();
            {
                let mut i = inner.borrow_mut();
                let answer = match lookup {
                    Lookup::Hit(value) => {
                        if let Some(e) = i.jobs.get_mut(&job) {
                            e.result = Some(value);
                            e.cached = true;
                        }
                        CacheAnswer::Hit
                    }
                    Lookup::Miss => CacheAnswer::Miss,
                    Lookup::Rejected(why) => {
                        web_sys::console::warn_1(
                            &format!("airprover: a cached proof was evicted: {why}").into(),
                        );
                        CacheAnswer::Rejected
                    }
                };
                if !i.scheduler.cache_answer(job, answer, now_ms()) {
                    if let Some(e) = i.jobs.get_mut(&job) {
                        e.result = None;
                        e.cached = false;
                    }
                }
                i.carry_out(&mut fx);
                i.publish_progress(job, &mut fx);
            }
            fx.run();
        });
    }

    /// Carries out what a finished job means for storage: its proof cached (and its durable
    /// record removed, in the same transaction), or its record removed when it ended for good.
    fn persist_outcome(&mut self, job: JobId, entry: &JobEntry, code: Option<ErrorCode>) {
        let Some(j) = self.scheduler.job(job) else {
            return;
        };
        let durable = entry.durable.as_ref().map(|_| entry.cache_key.clone());
        let caches = self.caches.clone();
        let weak = self.me.clone();
        let record = match (&entry.result, code, entry.cached) {
            (Some(value), None, false) => self.proof_record(&j.claim, value),
            _ => None,
        };
        let leaves = durable::leaves_queue(j.state, code);
        let vk = self.manifest.verifying_key(&j.circuit()).cloned();
        wasm_bindgen_futures::spawn_local(async move {
            match (record, durable) {
                (Some(record), durable) => {
                    let circuit = record.circuit.clone();
                    caches.insert(record, durable).await;
                    if let Some(vk) = vk {
                        caches.prepare_verifier(&circuit, &vk).await;
                    }
                }
                (None, Some(id)) => match caches.job_storage() {
                    Some(storage) if leaves => caches.end_job(&storage, &id).await,
                    _ => Storage::unlock_job(&id),
                },
                (None, None) => {}
            }
            Inner::storage_changed(&weak);
        });
    }

    /// The proof cache record of a result the worker sent for `claim` (the claim actually
    /// proved: a fallback may have rewritten it).
    fn proof_record(&self, claim: &Claim, value: &JsValue) -> Option<ProofRecord> {
        let circuit = claim.circuit.to_string();
        let vk = self.manifest.verifying_key(&circuit)?;
        let proof: serde_json::Value =
            serde_wasm_bindgen::from_value(Reflect::get(value, &"proof".into()).ok()?).ok()?;
        let signals: Vec<String> =
            serde_wasm_bindgen::from_value(Reflect::get(value, &"publicSignals".into()).ok()?)
                .ok()?;
        Some(ProofRecord::new(
            proof_cache_key(claim, &vk.sha256),
            circuit,
            vk.sha256.clone(),
            proof,
            signals,
        ))
    }

    /// Publishes stats and status after a storage request changed them.
    fn storage_changed(weak: &Weak<RefCell<Inner>>) {
        let Some(inner) = weak.upgrade() else { return };
        let mut fx = Effects::default();
        if let Ok(mut i) = inner.try_borrow_mut() {
            i.publish(&mut fx);
        }
        fx.run();
    }

    /// Resubmits the jobs an earlier runtime stored and did not finish (those no other tab runs).
    async fn resume_stored(this: &Rc<RefCell<Inner>>, stored: Vec<JsValue>) {
        let Some(storage) = this.borrow().caches.job_storage() else {
            return;
        };
        let mut records = Vec::new();
        for value in stored {
            match serde_wasm_bindgen::from_value::<DurableJob>(value.clone()) {
                Ok(record) => records.push(record),
                Err(e) => {
                    web_sys::console::warn_1(
                        &format!("airprover: dropped an unreadable stored job: {e}").into(),
                    );
                    let id = Reflect::get(&value, &"id".into()).unwrap_or(JsValue::UNDEFINED);
                    if let Some(id) = id.as_string() {
                        let _ = storage.delete_job(&id).await;
                    }
                }
            }
        }
        Inner::resume_records(this, records).await;
    }

    /// Submits stored jobs again. One that this runtime refuses (its queue full, a quota, a key
    /// the manifest does not list now) keeps its record: it is tried again when a job of this
    /// runtime ends, and by the next runtime.
    async fn resume_records(this: &Rc<RefCell<Inner>>, records: Vec<DurableJob>) {
        let Some(storage) = this.borrow().caches.job_storage() else {
            return;
        };
        for mut record in records {
            if !storage.lock_job(&record.id).await {
                continue; // another tab of this origin runs it
            }
            let submission = match record.resume() {
                Ok(s) => s,
                Err(why) => {
                    web_sys::console::warn_1(
                        &format!("airprover: dropped a stored job: {why}").into(),
                    );
                    let _ = storage.delete_job(&record.id).await;
                    Storage::unlock_job(&record.id);
                    continue;
                }
            };
            let options = SubmitOptions {
                priority: submission.priority,
                user_id: submission.user_id.clone(),
                max_retries: submission.max_retries,
                timeout_ms: submission.timeout_ms,
                fallback_circuits: submission.fallback_circuits.clone(),
                ..SubmitOptions::default()
            };
            let mut fx = Effects::default();
            let job = Inner::submit(
                this,
                submission.claim,
                options,
                Origin::Stored(record.clone()),
                &mut fx,
            );
            fx.run();
            match job {
                Ok(job) => {
                    // Nobody may be waiting on it: its failure must not be an unhandled rejection.
                    let ignore = Closure::<dyn FnMut(JsValue)>::new(|_| {});
                    let _ = job.result().catch(&ignore);
                    ignore.forget();
                    this.borrow().resumed.push(&job.into());
                }
                Err(e) => {
                    web_sys::console::warn_2(
                        &"airprover: a stored job was refused for now (kept, tried again later):"
                            .into(),
                        &e,
                    );
                    Storage::unlock_job(&record.id);
                    this.borrow_mut().refused.push(record);
                }
            }
        }
    }

    /// Tries the refused stored jobs again (a job just ended: there may be room now).
    fn retry_refused(&mut self) {
        if self.refused.is_empty() || self.status.terminated {
            return;
        }
        let records = std::mem::take(&mut self.refused);
        let weak = self.me.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if let Some(this) = weak.upgrade() {
                Inner::resume_records(&this, records).await;
            }
        });
    }

    fn spawn_worker(&mut self, worker: WorkerId, build: Build) {
        let spawned = self
            .spawn
            .call1(&JsValue::NULL, &build.as_str().into())
            .and_then(|w| {
                w.dyn_into::<web_sys::Worker>()
                    .map_err(|_| "spawnWorker did not return a Worker".into())
            });
        let w = match spawned {
            Ok(w) => w,
            Err(e) => {
                web_sys::console::error_2(&"airprover: could not start a worker".into(), &e);
                if self.scheduler.worker_failed_to_start(worker, now_ms()) {
                    self.status.reason = "workers cannot be started on this page".into();
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
        // there, and says so in its ready message (then THREADS_UNAVAILABLE: see on_message).
        let init = PageMessage::Init {
            threads: self.status.threads,
            build,
        };
        let _ = w.post_message(&to_js_value(&init));
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

    /// A stored job starts running in this runtime for the first time: its record counts the run
    /// (a job that takes the page down every time is given up after `durable::MAX_RUNS`).
    fn count_run(&mut self, job: JobId) {
        let Some(entry) = self.jobs.get_mut(&job) else {
            return;
        };
        let Some(record) = entry.durable.as_mut().filter(|_| !entry.run_counted) else {
            return;
        };
        entry.run_counted = true;
        record.count_run();
        let record = record.clone();
        let caches = self.caches.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if let Some(storage) = caches.job_storage() {
                if let Err(e) = storage.put_job(&record).await {
                    caches.failed("storing a job", &e);
                }
            }
        });
    }

    fn run(
        &mut self,
        job: JobId,
        worker: WorkerId,
        attempt: u32,
        timeout_ms: Option<f64>,
        fx: &mut Effects,
    ) {
        self.count_run(job);
        let Some(j) = self.scheduler.job(job) else {
            return;
        };
        let circuit = j.circuit();
        let claim = j.claim.to_canonical_json().to_string();
        let key = self.manifest.proving_key(&circuit);
        let fault = match &mut self.fault {
            Some((f, left)) if *left > 0 => {
                *left -= 1;
                Some(Fault {
                    crash_at_stage: f.crash_at_stage.clone(),
                    stall_at_stage: f.stall_at_stage.clone(),
                    oom_at_stage: f.oom_at_stage.clone(),
                    stall_ms: f.stall_ms.unwrap_or(60_000.0),
                })
            }
            _ => None,
        };
        let message = to_js_value(&PageMessage::Job(Box::new(JobMessage {
            id: job,
            attempt,
            circuit: circuit.clone(),
            claim,
            key: key.cloned(),
            storage: self.caches.key_storage().map(|s| StorageName {
                name: s.name.clone(),
            }),
            fault,
        })));
        if let Some(h) = self.workers.get(&worker) {
            let _ = h.worker.post_message(&message);
        }
        if let Some(entry) = self.jobs.get_mut(&job) {
            entry.stage = "loading-keys";
            entry.percent = 0.0;
            entry.timeout = timeout_ms.map(|ms| {
                let weak = self.me.clone();
                Timeout::new(limits::timer_delay(ms), move || {
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
        self.persist_outcome(job, &entry, code);
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
                // Which circuit the proof is for (a fallback may have changed it), and its key.
                if let Some(circuit) = self.scheduler.job(job).map(|j| j.circuit()) {
                    if let Some(vk) = self.manifest.verifying_key(&circuit) {
                        js::set(&value, "verifyingKeySha256", &vk.sha256.as_str().into());
                    }
                    js::set(&value, "circuit", &circuit.into());
                }
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
                    .unwrap_or_else(|| code.default_message().into());
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
        self.retry_refused();
    }

    fn wake_at(&mut self, at_ms: f64) {
        if self.wake.as_ref().is_some_and(|(t, _)| *t <= at_ms) {
            return;
        }
        // Rounded up, plus a margin: a timer that fires a fraction of a millisecond before `at_ms`
        // would find nothing due, and the scheduler arms no second wake-up for it.
        let delay = limits::timer_delay((at_ms - now_ms()).ceil() + 2.0);
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
        // Anything that is not a message of the protocol is not ours.
        let Ok(message) = serde_wasm_bindgen::from_value::<WorkerMessage>(data) else {
            return;
        };
        let mut fx = Effects::default();
        {
            let mut inner = this.borrow_mut();
            let now = now_ms();
            if let Some(mem) = message.memory_bytes() {
                if let Some(h) = inner.workers.get_mut(&worker) {
                    h.memory_bytes = mem;
                }
            }
            match message {
                WorkerMessage::Ready {
                    build,
                    info,
                    threads_error,
                    ..
                } => {
                    if let Some(h) = inner.workers.get_mut(&worker) {
                        h.threads = info.threads.unwrap_or(1);
                    }
                    if let Some(code) = inner.scheduler.worker_started(worker, build, now) {
                        let why = threads_error.unwrap_or_else(|| "no reason given".into());
                        inner.status.build = Build::Single.as_str();
                        inner.status.threads = 1;
                        inner.status.code = Some(code.as_str());
                        inner.status.reason = format!(
                            "single-threaded: the threaded build did not start in the worker ({why})"
                        );
                    }
                }
                WorkerMessage::Error { .. } => {
                    // The worker could not even load the wasm.
                    if inner.scheduler.worker_failed_to_start(worker, now) {
                        inner.status.reason =
                            "the prover worker cannot load the wasm module".into();
                    }
                }
                WorkerMessage::JobProgress { id, progress, .. } => {
                    let (stage, percent) = progress::overall(&progress.stage, progress.fraction);
                    inner.scheduler.progress(id, worker, percent / 100.0, now);
                    if let Some(e) = inner.jobs.get_mut(&id) {
                        e.stage = stage;
                        e.percent = percent;
                    }
                    inner.publish_progress(id, &mut fx);
                }
                WorkerMessage::KeyEvent { event, .. } => inner.caches.key_event(&event),
                WorkerMessage::JobResult { id, value, .. } => {
                    if let Some(e) = inner.jobs.get_mut(&id) {
                        e.result = Some(to_js_value(&value));
                    }
                    if !inner.scheduler.succeeded(id, worker, now) {
                        if let Some(e) = inner.jobs.get_mut(&id) {
                            e.result = None;
                        }
                    }
                }
                WorkerMessage::JobError { id, error, .. } => {
                    let code = ErrorCode::of_worker_failure(
                        error.name.as_deref().unwrap_or_default(),
                        error.code.as_deref(),
                        error.message.as_deref().unwrap_or_default(),
                        error.trap,
                    );
                    if let Some(e) = inner.jobs.get_mut(&id) {
                        e.message = error.message;
                    }
                    inner.scheduler.failed(id, worker, code, now);
                    inner.publish_progress(id, &mut fx);
                }
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
        (entry.stage, entry.percent) =
            progress::shown(state.map(|(s, _)| s), (entry.stage, entry.percent));
        let value = progress_value(entry, eta, false);
        if let Some((_, attempt)) = state {
            js::set(&value, "attempt", &attempt.into());
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
        js::set(&value, "threadsInUse", &threads.into());
        js::set(&value, "wasmMemoryPerWorker", &memory);
        let cache = to_js_value(&*self.caches.stats.borrow());
        js::set(&value, "cache", &cache);
        self.stats_store.set(value, fx);
        if self.caches.take_changed() || self.cache_store.value().is_undefined() {
            self.cache_store.set(cache, fx);
        }
        self.status.workers = self.workers.len();
        self.status.storage = self.caches.status();
        self.status_store.set(to_js_value(&self.status), fx);
        self.copy_audit();
    }

    /// Copies the audit events logged since the last copy to IndexedDB (bounded there).
    fn copy_audit(&mut self) {
        let log = self.scheduler.audit();
        let max = self.caches.settings.audit_log_size;
        if log.pushed() == self.audit_copied {
            return;
        }
        let Some(storage) = self.caches.storage().filter(|_| max > 0) else {
            self.audit_copied = log.pushed();
            return;
        };
        let wall = js_sys::Date::now() - now_ms();
        let records: js_sys::Array = log
            .since(self.audit_copied)
            .map(|e| {
                let v = to_js_value(e);
                js::set(&v, "session", &self.session.as_str().into());
                js::set(&v, "wallMs", &(wall + e.at_ms).into());
                v
            })
            .collect();
        self.audit_copied = log.pushed();
        let caches = self.caches.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(e) = storage.append_audit(records, max).await {
                caches.failed("persisting the audit log", &e);
            }
        });
    }
}

fn progress_value(entry: &JobEntry, eta_ms: Option<f64>, done: bool) -> JsValue {
    object(&[
        ("stage", entry.stage.into()),
        ("percent", entry.percent.into()),
        ("etaMs", eta_ms.map(JsValue::from).unwrap_or(JsValue::NULL)),
        ("cached", entry.cached.into()),
        ("done", done.into()),
    ])
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

/// Opens IndexedDB as `settings` ask, sweeps what the current manifest no longer lists, and reads
/// the stored jobs. Never fails: without storage the runtime works uncached, and says why.
async fn open_caches(
    settings: Option<StorageSettings>,
    manifest: &KeyManifest,
    runtime: Rc<RefCell<Weak<RefCell<Inner>>>>,
) -> (Rc<Caches>, Vec<JsValue>) {
    let Some(settings) = settings else {
        let off = StorageSettings {
            proof_cache: None,
            key_cache: false,
            durable_queue: false,
            audit_log_size: 0,
            ..StorageSettings::default()
        };
        return (
            Rc::new(Caches::new(
                off,
                None,
                "turned off by options.storage".into(),
            )),
            Vec::new(),
        );
    };
    let on_close = move |reason: String| {
        if let Some(inner) = runtime.borrow().upgrade() {
            let caches = inner.borrow().caches.clone();
            caches.closed(reason);
            Inner::storage_changed(&Rc::downgrade(&inner));
        }
    };
    let storage = match Storage::open(&settings.name, on_close).await {
        Ok(s) => s,
        Err(e) => {
            web_sys::console::warn_1(
                &format!(
                    "airprover: no IndexedDB, proofs are not cached: {}",
                    e.message
                )
                .into(),
            );
            return (Rc::new(Caches::new(settings, None, e.message)), Vec::new());
        }
    };
    let caches = Rc::new(Caches::new(settings, Some(storage.clone()), String::new()));
    match storage
        .sweep(manifest.key_hashes(), manifest.verifying_key_hashes())
        .await
    {
        Ok(swept) => {
            let mut s = caches.stats.borrow_mut();
            s.entries = swept.entries;
            s.bytes = swept.bytes;
            s.keys.evicted = swept.keys as u64;
            s.rejected += swept.proofs as u64;
        }
        Err(e) => caches.failed("sweeping the caches", &e),
    }
    let jobs = match caches.job_storage() {
        Some(s) => s.jobs().await.unwrap_or_else(|e| {
            caches.failed("reading stored jobs", &e);
            Vec::new()
        }),
        None => Vec::new(),
    };
    (caches, jobs)
}
