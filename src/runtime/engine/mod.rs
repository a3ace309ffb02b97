//! The browser runtime as one sans-IO state machine: every decision the page makes about its
//! jobs, workers, callers and storage, fed events and answering with [`Effect`]s.
//!
//! [`Scheduler`] decides which job runs where, retries, fallbacks and timeouts. The engine wraps
//! it with what the page adds around a job: the callers waiting on it (each a [`SubscriberId`]),
//! what its progress shows (stage, percent, ETA), its result (the worker's, or the proof cache's),
//! the worker pool as the page sees it (threads, memory, the build it really runs, the status
//! line), test faults, timers, and the storage plan (look a claim up in the proof cache, store a
//! job, count its runs, cache its proof, end its record, copy the audit log, resume refused jobs).
//!
//! The web layer (`src/web/runtime/`) only turns JS calls and browser events into [`Event`]s and
//! carries out the effects in order: it holds the JS functions, Workers, timers and IndexedDB
//! handles the ids here name. Time comes in as `now` (ms on the runtime's clock), so every path
//! is tested natively, event by event (`engine_tests.rs`).

mod machine;
mod types;

pub use machine::Engine;
pub use types::*;
