//! Where the engine meets the browser: each entry point borrows the state, feeds the engine one
//! event, carries out its effects in order, and only then, with no borrow held, calls into page
//! code ([`Deferred`]). What lives here is what must be JS: the Workers, timers, promises and
//! callbacks the engine's ids name, and the IndexedDB requests it asks for (futures, each feeding
//! its answer back in as one more event).

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::caching::Caches;
use super::deferred::Deferred;
use super::job::Job;
use super::readable::Readable;
use super::remote::{self, RemoteLink};
use super::storage::Storage;
use crate::runtime::durable::DurableJob;
use crate::runtime::engine::{Durability, Effect, Engine, Event, StorageOp, SubscriberId, Timer};
use crate::runtime::limits;
use crate::runtime::protocol::{PageMessage, WorkerMessage};
use crate::runtime::scheduler::{JobId, Submission, WorkerId};
use crate::runtime::statement::CacheKey;
use crate::runtime::{Build, ErrorCode};
use crate::web::clock::now_ms;
use crate::web::error::job_error;
use crate::web::js::{self, to_js_value};

/// Where a submission comes from.
pub(super) enum Origin {
    /// `submit` on this page.
    Caller(Submission),
    /// The durable queue of an earlier runtime (its record, locked by this runtime).
    Stored(DurableJob),
}

/// A live Worker; dropping the handle ends it.
struct WorkerHandle {
    worker: web_sys::Worker,
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::ErrorEvent)>,
}

impl Drop for WorkerHandle {
    /// A dropped JS handle does not end its worker: it would run on (holding its wasm memory)
    /// with nobody to hear it.
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

/// A caller's promise and callbacks.
struct Subscriber {
    resolve: js_sys::Function,
    reject: js_sys::Function,
    on_progress: Option<js_sys::Function>,
    abort: Option<(web_sys::AbortSignal, Closure<dyn FnMut()>)>,
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        if let Some((signal, closure)) = &self.abort {
            let _ = signal
                .remove_event_listener_with_callback("abort", closure.as_ref().unchecked_ref());
        }
    }
}

/// The runtime's state on the page.
pub(super) struct Inner {
    pub(super) me: Weak<RefCell<Inner>>,
    pub(super) engine: Engine,
    pub(super) spawn: js_sys::Function,
    workers: HashMap<WorkerId, WorkerHandle>,
    subscribers: HashMap<SubscriberId, Subscriber>,
    progress: HashMap<JobId, Readable>,
    /// Resolves a new job's `stored` promise once its record is written.
    stored: HashMap<JobId, js_sys::Function>,
    timers: HashMap<Timer, Timeout>,
    pub(super) caches: Rc<Caches>,
    pub(super) status_store: Readable,
    pub(super) stats_store: Readable,
    pub(super) cache_store: Readable,
    pub(super) resumed: js_sys::Array,
    /// This runtime's id in the persisted audit log.
    pub(super) session: String,
    /// The operator's server (`remote`), when jobs may go there.
    remote: Option<RemoteLink>,
}

impl Inner {
    /// The state of a runtime that has not yet published anything.
    pub(super) fn new(
        me: Weak<RefCell<Inner>>,
        engine: Engine,
        spawn: js_sys::Function,
        caches: Rc<Caches>,
        session: String,
        remote: Option<RemoteLink>,
    ) -> Self {
        Inner {
            me,
            engine,
            spawn,
            workers: HashMap::new(),
            subscribers: HashMap::new(),
            progress: HashMap::new(),
            stored: HashMap::new(),
            timers: HashMap::new(),
            caches,
            status_store: Readable::default(),
            stats_store: Readable::default(),
            cache_store: Readable::default(),
            resumed: js_sys::Array::new(),
            session,
            remote,
        }
    }

    /// Feeds one event and carries out what the engine answers. An event that arrives while the
    /// runtime is busy (page code called from inside an effect, such as a `spawnWorker` that
    /// submits) is fed a moment later, as a microtask: never lost, and no panic on a borrowed
    /// `RefCell`.
    pub(super) fn dispatch(this: &Rc<RefCell<Inner>>, event: Event) {
        let mut later = Deferred::default();
        {
            let Ok(mut inner) = this.try_borrow_mut() else {
                let this = this.clone();
                wasm_bindgen_futures::spawn_local(async move { Inner::dispatch(&this, event) });
                return;
            };
            let effects = inner.engine.handle(event, now_ms());
            inner.carry_out(effects, &mut later);
        }
        later.run();
    }

    /// Carries out effects the engine gave outside an event (its first publication).
    pub(super) fn carry_out_now(this: &Rc<RefCell<Inner>>, effects: Vec<Effect>) {
        let mut later = Deferred::default();
        this.borrow_mut().carry_out(effects, &mut later);
        later.run();
    }

    /// A weak handle's [`Inner::dispatch`].
    pub(super) fn dispatch_weak(weak: &Weak<RefCell<Inner>>, event: Event) {
        if let Some(inner) = weak.upgrade() {
            Inner::dispatch(&inner, event);
        }
    }

    /// A caller's submission, or a stored job this runtime resumes. Returns the caller's
    /// [`Job`], or the refusal as a JS error.
    pub(super) fn submit(
        this: &Rc<RefCell<Inner>>,
        origin: Origin,
        signal: Option<web_sys::AbortSignal>,
        on_progress: Option<js_sys::Function>,
    ) -> Result<Job, JsValue> {
        let mut later = Deferred::default();
        let answer = {
            let mut inner = this.borrow_mut();
            let now = now_ms();
            let event = match origin {
                Origin::Caller(submission) => Event::Submit {
                    submission,
                    wall_ms: js_sys::Date::now(),
                },
                Origin::Stored(record) => Event::Resume { record },
            };
            let mut effects = inner.engine.handle(event, now);
            let Some(ticket) = Effect::take_answer(&mut effects) else {
                return Err(job_error(
                    ErrorCode::Internal,
                    "the runtime did not answer",
                    &[],
                ));
            };
            match ticket {
                Err(refusal) => {
                    inner.carry_out(effects, &mut later);
                    Err(job_error(refusal.code, &refusal.message, &[]))
                }
                Ok(ticket) => {
                    let (job, subscriber) = (ticket.job, ticket.subscriber);
                    let mut settle = None;
                    let result = js_sys::Promise::new(&mut |resolve, reject| {
                        settle = Some((resolve, reject))
                    });
                    let (resolve, reject) = settle.expect("the executor runs synchronously");
                    let stored = match ticket.durable {
                        Durability::Known(kept) => js_sys::Promise::resolve(&JsValue::from(kept)),
                        Durability::Storing => {
                            let mut answer = None;
                            let p = js_sys::Promise::new(&mut |resolve, _| answer = Some(resolve));
                            let answer = answer.expect("the executor runs synchronously");
                            inner.stored.insert(job, answer);
                            p
                        }
                    };
                    let abort = signal.as_ref().map(|signal| {
                        let weak = inner.me.clone();
                        let on_abort = Closure::<dyn FnMut()>::new(move || {
                            Inner::dispatch_weak(&weak, Event::Cancel { job, subscriber });
                        });
                        let _ = signal.add_event_listener_with_callback(
                            "abort",
                            on_abort.as_ref().unchecked_ref(),
                        );
                        (signal.clone(), on_abort)
                    });
                    inner.subscribers.insert(
                        subscriber,
                        Subscriber {
                            resolve,
                            reject,
                            on_progress,
                            abort,
                        },
                    );
                    let progress = inner.progress.entry(job).or_default().clone();
                    inner.carry_out(effects, &mut later);
                    Ok(Job::new(
                        job,
                        subscriber,
                        result,
                        progress,
                        stored,
                        Rc::downgrade(this),
                    ))
                }
            }
        };
        later.run();
        if let Ok(job) = &answer {
            if signal.is_some_and(|s| s.aborted()) {
                job.cancel();
            }
        }
        answer
    }

    /// Carries out the engine's effects in order (a worker that cannot be spawned is one more
    /// event, whose effects follow).
    fn carry_out(&mut self, effects: Vec<Effect>, later: &mut Deferred) {
        let mut queue = VecDeque::from(effects);
        while let Some(effect) = queue.pop_front() {
            match effect {
                // Taken off the front where it comes (submit).
                Effect::Answer(_) => {}
                Effect::Spawn {
                    worker,
                    build,
                    init,
                } => {
                    if !self.spawn_worker(worker, build, &init) {
                        let more = self.engine.handle(Event::SpawnFailed { worker }, now_ms());
                        queue.extend(more);
                    }
                }
                Effect::Post { worker, message } => {
                    if let Some(h) = self.workers.get(&worker) {
                        let _ = h.worker.post_message(&to_js_value(&message));
                    }
                }
                Effect::Terminate { worker } => {
                    self.workers.remove(&worker);
                }
                Effect::Arm { timer, at_ms } => self.arm(timer, at_ms),
                Effect::Disarm { timer } => {
                    self.timers.remove(&timer);
                }
                Effect::Resolve { subscriber, value } => {
                    if let Some(s) = self.subscribers.remove(&subscriber) {
                        later.call(s.resolve.clone(), vec![to_js_value(&value)]);
                    }
                }
                Effect::Reject {
                    subscriber,
                    failure,
                } => {
                    if let Some(s) = self.subscribers.remove(&subscriber) {
                        let error = job_error(failure.code, &failure.message, &failure.attempts);
                        if let Some(server) = &failure.server {
                            let code = server.code.as_deref().map_or(JsValue::NULL, JsValue::from);
                            js::set(&error, "serverCode", &code);
                            js::set(&error, "status", &server.status.into());
                            let after = server.retry_after_ms.map_or(JsValue::NULL, JsValue::from);
                            js::set(&error, "retryAfterMs", &after);
                        }
                        if let Some(local) = failure.local_error {
                            js::set(&error, "localError", &local.as_str().into());
                        }
                        later.call(s.reject.clone(), vec![error]);
                    }
                }
                Effect::Progress {
                    job,
                    view,
                    subscribers,
                } => {
                    let value = to_js_value(&view);
                    if let Some(store) = self.progress.get(&job) {
                        store.set(value.clone(), later);
                    }
                    for id in &subscribers {
                        if let Some(f) =
                            self.subscribers.get(id).and_then(|s| s.on_progress.clone())
                        {
                            later.call(f, vec![value.clone()]);
                        }
                    }
                    if view.ended {
                        self.progress.remove(&job);
                    }
                }
                Effect::Publish { stats, status } => {
                    let cache = to_js_value(&*self.caches.stats.borrow());
                    let stats = to_js_value(&stats);
                    js::set(&stats, "cache", &cache);
                    self.stats_store.set(stats, later);
                    if self.caches.take_changed() || self.cache_store.value().is_undefined() {
                        self.cache_store.set(cache, later);
                    }
                    let status = to_js_value(&status);
                    js::set(&status, "storage", &to_js_value(&self.caches.status()));
                    self.status_store.set(status, later);
                }
                Effect::Verify {
                    job,
                    worker,
                    statement,
                    verifying_key,
                    value,
                } => {
                    let caches = self.caches.clone();
                    let weak = self.me.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        let verdict = caches.check_proof(&statement, &verifying_key, &value).await;
                        Inner::dispatch_weak(
                            &weak,
                            Event::Verified {
                                job,
                                worker,
                                verdict,
                            },
                        );
                    });
                }
                Effect::Storage(op) => self.storage(op),
                Effect::Remote(op) => match &self.remote {
                    Some(link) => remote::carry_out(link, op, self.caches.clone(), self.me.clone()),
                    None => web_sys::console::error_1(
                        &"airprover: a request to a prover server, with no remote configured"
                            .into(),
                    ),
                },
                Effect::Warn(message) => {
                    web_sys::console::warn_1(&format!("airprover: {message}").into());
                }
            }
        }
    }

    /// Starts a Worker and posts it `init`; false when none could be made.
    fn spawn_worker(&mut self, worker: WorkerId, build: Build, init: &PageMessage) -> bool {
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
                return false;
            }
        };
        let weak = self.me.clone();
        let on_message =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                // Anything that is not a message of the protocol is not ours.
                let Ok(message) = serde_wasm_bindgen::from_value::<WorkerMessage>(e.data()) else {
                    return;
                };
                let Some(inner) = weak.upgrade() else { return };
                if let WorkerMessage::KeyEvent { event, .. } = &message {
                    let caches = inner.borrow().caches.clone();
                    caches.key_event(event);
                }
                Inner::dispatch(&inner, Event::Worker { worker, message });
            });
        let weak = self.me.clone();
        let on_error =
            Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |e: web_sys::ErrorEvent| {
                e.prevent_default();
                web_sys::console::warn_2(&"airprover: a worker died:".into(), &e.message().into());
                Inner::dispatch_weak(&weak, Event::WorkerDied { worker });
            });
        w.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        w.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let _ = w.post_message(&to_js_value(init));
        self.workers.insert(
            worker,
            WorkerHandle {
                worker: w,
                _on_message: on_message,
                _on_error: on_error,
            },
        );
        true
    }

    fn arm(&mut self, timer: Timer, at_ms: f64) {
        // Rounded up, plus a margin: a timer that fires a fraction of a millisecond before
        // `at_ms` would find nothing due, and the scheduler arms no second wake-up for it.
        let delay = limits::timer_delay((at_ms - now_ms()).ceil() + 2.0);
        let weak = self.me.clone();
        let timeout = Timeout::new(delay, move || {
            Inner::dispatch_weak(&weak, Event::Timer(timer));
        });
        self.timers.insert(timer, timeout);
    }

    /// Starts an IndexedDB request; its answer, if the engine needs one, comes back as an event.
    fn storage(&mut self, op: StorageOp) {
        let caches = self.caches.clone();
        let weak = self.me.clone();
        match op {
            StorageOp::Lookup {
                job,
                key,
                statement,
                verifying_key,
            } => wasm_bindgen_futures::spawn_local(async move {
                let lookup = caches.lookup(&key, &statement, &verifying_key).await;
                caches.count(&lookup);
                Inner::dispatch_weak(&weak, Event::CacheAnswer { job, lookup });
            }),
            StorageOp::StoreJob { job, record } => {
                let answer = self.stored.remove(&job);
                // Stored before anything else can touch it: the job's end (a delete) waits for
                // the job's puts (storage.js chains a job's writes; sealing the claim awaits).
                wasm_bindgen_futures::spawn_local(async move {
                    let kept = match caches.job_storage() {
                        Some(storage) => {
                            storage.lock_job(&record.id).await;
                            match storage.put_job(&record).await {
                                Ok(()) => true,
                                Err(e) => {
                                    caches.failed("storing a job", &e);
                                    false
                                }
                            }
                        }
                        None => false,
                    };
                    if let Some(answer) = answer {
                        let _ = answer.call1(&JsValue::NULL, &kept.into());
                    }
                    Inner::dispatch_weak(&weak, Event::StorageChanged);
                });
            }
            StorageOp::PutJob { record } => wasm_bindgen_futures::spawn_local(async move {
                if let Some(storage) = caches.job_storage() {
                    if let Err(e) = storage.put_job(&record).await {
                        caches.failed("storing a job", &e);
                        Inner::dispatch_weak(&weak, Event::StorageChanged);
                    }
                }
            }),
            StorageOp::CacheProof {
                record,
                key,
                durable,
                verifying_key,
            } => wasm_bindgen_futures::spawn_local(async move {
                let circuit = record.circuit.clone();
                // A circom input's record is filed under its HMAC; without one it is not cached
                // (its durable record, if any, still ends).
                let record = match &key {
                    CacheKey::Digest(_) => Some(record),
                    CacheKey::Keyed { .. } => {
                        caches.resolve_key(&key).await.map(|k| record.refile(k))
                    }
                };
                match record {
                    Some(record) => caches.insert(record, durable).await,
                    None => {
                        if let (Some(storage), Some(job)) = (caches.job_storage(), durable) {
                            caches.end_job(&storage, &job).await;
                        }
                    }
                }
                caches.prepare_verifier(&circuit, &verifying_key).await;
                Inner::dispatch_weak(&weak, Event::StorageChanged);
            }),
            StorageOp::EndJob { id, leaves } => wasm_bindgen_futures::spawn_local(async move {
                match caches.job_storage() {
                    Some(storage) if leaves => caches.end_job(&storage, &id).await,
                    _ => Storage::unlock_job(&id),
                }
                Inner::dispatch_weak(&weak, Event::StorageChanged);
            }),
            StorageOp::Unlock { id } => Storage::unlock_job(&id),
            StorageOp::Resume { records } => wasm_bindgen_futures::spawn_local(async move {
                if let Some(this) = weak.upgrade() {
                    Inner::resume(&this, records).await;
                }
            }),
            StorageOp::AppendAudit { events } => {
                let (Some(storage), max) = (caches.storage(), caches.settings.audit_log_size)
                else {
                    return;
                };
                let wall = js_sys::Date::now() - now_ms();
                let records: js_sys::Array = events
                    .iter()
                    .map(|e| {
                        let v = to_js_value(e);
                        js::set(&v, "session", &self.session.as_str().into());
                        js::set(&v, "wallMs", &(wall + e.at_ms).into());
                        v
                    })
                    .collect();
                wasm_bindgen_futures::spawn_local(async move {
                    if let Err(e) = storage.append_audit(records, max).await {
                        caches.failed("persisting the audit log", &e);
                    }
                });
            }
        }
    }

    /// Resubmits stored jobs, each once this runtime holds its lock (another tab of the origin
    /// may run it). The engine keeps the ones it refuses for now and asks again later.
    pub(super) async fn resume(this: &Rc<RefCell<Inner>>, records: Vec<DurableJob>) {
        let Some(storage) = this.borrow().caches.job_storage() else {
            return;
        };
        for record in records {
            if !storage.lock_job(&record.id).await {
                continue; // another tab of this origin runs it
            }
            // One the engine refuses it keeps for later, or drops (and says why).
            if let Ok(job) = Inner::submit(this, Origin::Stored(record), None, None) {
                // Nobody may be waiting on it: its failure must not be an unhandled rejection.
                let ignore = Closure::<dyn FnMut(JsValue)>::new(|_| {});
                let _ = job.result().catch(&ignore);
                ignore.forget();
                this.borrow().resumed.push(&job.into());
            }
        }
    }
}
