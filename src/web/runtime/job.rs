//! The `Job` handed back by `submit`: its id, its result promise, its progress, and `cancel()`.

use std::cell::RefCell;
use std::rc::Weak;

use wasm_bindgen::prelude::*;

use super::edge::Inner;
use super::readable::Readable;
use crate::runtime::engine::Event;
use crate::runtime::scheduler::JobId;

/// One submission's handle. Identical claims in flight share one proof: each submission still
/// gets its own handle, and cancelling one handle stops the proof only if no other waits on it.
#[wasm_bindgen]
pub struct Job {
    id: JobId,
    subscriber: u64,
    result: js_sys::Promise,
    progress: Readable,
    stored: js_sys::Promise,
    runtime: Weak<RefCell<Inner>>,
}

impl Job {
    pub(super) fn new(
        id: JobId,
        subscriber: u64,
        result: js_sys::Promise,
        progress: Readable,
        stored: js_sys::Promise,
        runtime: Weak<RefCell<Inner>>,
    ) -> Self {
        Job {
            id,
            subscriber,
            result,
            progress,
            stored,
            runtime,
        }
    }
}

#[wasm_bindgen]
impl Job {
    /// The job's id (shared by identical submissions in flight).
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> f64 {
        self.id as f64
    }

    /// Resolves with `{ proof, publicSignals }` (snarkjs formats, verified), or rejects with an
    /// Error whose `code` says why.
    #[wasm_bindgen(getter)]
    pub fn result(&self) -> js_sys::Promise {
        self.result.clone()
    }

    /// `{ stage, percent, etaMs, attempt, cached, done }`, as a readable store.
    #[wasm_bindgen(getter)]
    pub fn progress(&self) -> Readable {
        self.progress.clone()
    }

    /// Resolves with whether the job is in the durable queue (it survives a reload): false when
    /// the queue is off (the default) or storing it failed (quota, no WebCrypto), and the job then
    /// lives only as long as this page.
    #[wasm_bindgen(getter)]
    pub fn stored(&self) -> js_sys::Promise {
        self.stored.clone()
    }

    /// Gives up on this submission: its `result` rejects with CANCELLED at once. A queued proof
    /// leaves the queue; a running one is stopped by terminating its worker.
    pub fn cancel(&self) {
        Inner::dispatch_weak(
            &self.runtime,
            Event::Cancel {
                job: self.id,
                subscriber: self.subscriber,
            },
        );
    }
}
