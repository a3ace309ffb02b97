//! The browser runtime: the JS API over [`Engine`](crate::runtime::engine::Engine), carried out
//! on real Web Workers.
//!
//! Every decision is plain Rust in `crate::runtime`, tested natively: which job runs, retries,
//! fallbacks, timeouts, progress, the worker pool's build and the storage plan are the engine's
//! (`src/runtime/engine/`, fed event by event); what the browser's answers mean (a download's
//! status, a stored key, a lock) is `answers`, `durable` and `sweep`'s; what the proof cache does
//! with a stored proof and which code a failed check of a worker's proof has is `proof_cache` and
//! `verdict`'s. This layer only turns JS calls and browser events into engine events and carries
//! out the effects it answers with ([`edge`]): Workers, timers, promises, stores, IndexedDB
//! ([`storage`], [`caching`]), asking those functions where a request's answer needs deciding.

pub mod caching;
pub mod deferred;
mod edge;
pub mod job;
pub mod manifest;
mod open;
pub mod options;
pub mod readable;
mod remote;
pub mod storage;

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use self::edge::{Inner, Origin};
use self::job::Job;
use self::options::{RuntimeOptions, StorageSettings, SubmitOptions};
use self::readable::Readable;
use crate::claim::Claim;
use crate::runtime::engine::Event;
use crate::runtime::scheduler::Submission;
use crate::runtime::statement::{CircomStatement, Statement};
use crate::web::error::{bad_argument, to_js};
use crate::web::js::to_js_value;

/// The proof runtime: a priority queue of proof jobs on a pool of Web Workers.
#[wasm_bindgen]
pub struct Runtime {
    inner: Rc<RefCell<Inner>>,
}

impl Drop for Runtime {
    /// `free()` (or `using`) without `terminate()`: the same end, so that no worker outlives the
    /// runtime and no caller waits forever on a job (it rejects with TERMINATED).
    fn drop(&mut self) {
        if !self
            .inner
            .try_borrow()
            .is_ok_and(|i| i.engine.status().terminated)
        {
            self.terminate();
        }
    }
}

#[wasm_bindgen]
impl Runtime {
    /// `Runtime.create(options, spawnWorker, remote?)`: reads the key manifest, checks what the
    /// page offers and returns the runtime. `spawnWorker(build)` must return a new module Worker
    /// running the package's `prover-worker.js`; `remote`, a `RemoteLink` of `remote.js` (its
    /// options checked), lets jobs go to an operator's server (the package's `createProver`
    /// passes both).
    pub async fn create(
        options: JsValue,
        spawn_worker: js_sys::Function,
        #[wasm_bindgen(unchecked_param_type = "object | undefined")] remote: JsValue,
    ) -> Result<Runtime, JsValue> {
        let options = RuntimeOptions::from_js(&options)?;
        let settings = StorageSettings::from_value(options.storage.as_ref())?;
        let remote = (!remote.is_undefined() && !remote.is_null())
            .then(|| remote.unchecked_into::<remote::RemoteLink>());
        let inner = open::runtime(options, settings, spawn_worker, remote).await?;
        Ok(Runtime { inner })
    }

    /// Submits a claim (JSON text or object), a circom circuit's input as `{ circuit, input }`
    /// (a claim never has an `input` field, so the two cannot be confused), or a ready witness
    /// as `{ circuit, wtns }` (the bytes of a snarkjs `.wtns`; ZKEY_MISMATCH for another
    /// circuit's, INVALID_INPUT for a damaged one, from the worker).
    /// Returns a [`Job`] at once. Throws (a JS Error with `code`) for a claim that is not valid, a
    /// circuit without keys, bad options, QUEUE_FULL, RATE_LIMITED and TERMINATED; a circom
    /// input's signals are checked by its witness wasm in the worker (the job rejects with
    /// INVALID_INPUT naming the signal, never a value).
    pub fn submit(&self, claim: JsValue, options: JsValue) -> Result<Job, JsValue> {
        let statement = match witness_statement(&claim).map_err(to_js)? {
            Some(statement) => statement,
            None => statement(&json_of(&claim)?).map_err(to_js)?,
        };
        let options = SubmitOptions::from_js(&options)?;
        let submission = Submission {
            statement,
            priority: options.priority,
            user_id: options.user_id.clone(),
            max_retries: options.max_retries,
            timeout_ms: options.timeout_ms,
            fallback_circuits: options.fallback_circuits.clone(),
        };
        Inner::submit(
            &self.inner,
            Origin::Caller(submission),
            options.signal,
            options.on_progress,
        )
    }

    /// Ends every worker and rejects every unfinished job with TERMINATED.
    pub fn terminate(&self) {
        Inner::dispatch(&self.inner, Event::Terminate);
    }

    /// Empties the proof cache and the key cache in IndexedDB (not the durable queue, not the
    /// audit log). Workers keep the keys they have loaded in memory.
    #[wasm_bindgen(js_name = clearCache)]
    pub async fn clear_cache(&self) -> Result<(), JsValue> {
        let caches = self.inner.borrow().caches.clone();
        let result = caches.clear().await;
        Inner::dispatch(&self.inner, Event::StorageChanged);
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

    /// `{ build, threads, reason, code, crossOriginIsolated, workers, terminated, storage }`: a
    /// readable store; `storage` says whether IndexedDB is in use, what for, and why not.
    #[wasm_bindgen(getter)]
    pub fn status(&self) -> Readable {
        self.inner.borrow().status_store.clone()
    }

    /// The audit log (job events, never claims or secrets) as a JSON-ready array.
    #[wasm_bindgen(js_name = auditLog)]
    pub fn audit_log(&self) -> JsValue {
        to_js_value(&self.inner.borrow().engine.scheduler().audit().to_json())
    }

    /// Predicted proving time of a circuit on this device, in ms (from this runtime's history).
    pub fn predict(&self, circuit: &str) -> Option<f64> {
        self.inner.borrow().engine.scheduler().predict(circuit)
    }

    /// Number of live job workers.
    #[wasm_bindgen(js_name = workerCount)]
    pub fn worker_count(&self) -> usize {
        self.inner.borrow().engine.worker_count()
    }
}

/// A submission as JSON text (a claim or `{ circuit, input }`; bigints as decimal strings).
pub(crate) fn json_of(claim: &JsValue) -> Result<String, JsValue> {
    match claim.as_string() {
        Some(s) => Ok(s),
        None if claim.is_object() => Ok(js_sys::JSON::stringify_with_replacer(
            claim,
            &js_sys::Function::new_with_args(
                "k, v",
                "return typeof v === 'bigint' ? v.toString() : v",
            ),
        )
        .map_err(|_| bad_argument("claim", "cannot be turned into JSON"))?
        .into()),
        None => Err(bad_argument("claim", "must be JSON text or an object")),
    }
}

/// `{ circuit, wtns }` (a ready witness: a snarkjs `.wtns` as a `Uint8Array` or `ArrayBuffer`)
/// as a circom statement; `None` for any other submission. The bytes are read by the worker.
pub(crate) fn witness_statement(claim: &JsValue) -> crate::Result<Option<Statement>> {
    if !claim.is_object() {
        return Ok(None);
    }
    let wtns = js_sys::Reflect::get(claim, &"wtns".into()).unwrap_or(JsValue::UNDEFINED);
    if wtns.is_undefined() {
        return Ok(None);
    }
    let bytes = if let Some(b) = wtns.dyn_ref::<js_sys::Uint8Array>() {
        b.to_vec()
    } else if let Some(b) = wtns.dyn_ref::<js_sys::ArrayBuffer>() {
        js_sys::Uint8Array::new(b).to_vec()
    } else {
        return Err(crate::Error::input(
            "wtns",
            "a ready witness is the bytes of a snarkjs .wtns: a Uint8Array or an ArrayBuffer",
        ));
    };
    let circuit = js_sys::Reflect::get(claim, &"circuit".into())
        .ok()
        .and_then(|c| c.as_string())
        .ok_or_else(|| {
            crate::Error::input(
                "circuit",
                "a witness job names its circuit: { circuit, wtns }",
            )
        })?;
    let keys = js_sys::Object::keys(claim.unchecked_ref::<js_sys::Object>());
    if let Some(other) = keys
        .iter()
        .filter_map(|k| k.as_string())
        .find(|k| k != "circuit" && k != "wtns")
    {
        return Err(crate::Error::input(
            other.as_str(),
            "a witness job is { circuit, wtns } only",
        ));
    }
    Ok(Some(Statement::Circom(CircomStatement::witness(
        &circuit, bytes,
    )?)))
}

/// A submission's statement: `{ circuit, input }` is a circom job, anything else a claim.
pub(crate) fn statement(text: &str) -> crate::Result<Statement> {
    let value = crate::json::parse_strict(text).map_err(|e| e.into_error("claim"))?;
    match value.get("input") {
        Some(input) => {
            let circuit = value
                .get("circuit")
                .and_then(|c| c.as_str())
                .ok_or_else(|| {
                    crate::Error::input(
                        "circuit",
                        "a circom job names its circuit: { circuit, input }",
                    )
                })?;
            if let Some(other) = value
                .as_object()
                .and_then(|o| o.keys().find(|k| *k != "circuit" && *k != "input"))
            {
                return Err(crate::Error::input(
                    other.as_str(),
                    "a circom job is { circuit, input } only",
                ));
            }
            Ok(Statement::Circom(CircomStatement::new(circuit, input)?))
        }
        None => Ok(Statement::Claim(Claim::from_value(&value)?)),
    }
}
