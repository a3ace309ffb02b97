//! The runtime's policy, in plain Rust: queue order, the job state machine, retries with
//! backoff, fallbacks, quotas, metrics and the audit log; the page–worker protocol; what the
//! browser's answers mean ([`answers`]) and the page's checks of keys and proofs ([`verdict`]);
//! the storage policy: the proof cache's key, records, lookups and LRU eviction, and the durable
//! queue's rules; and the operator's server as one more place a job runs ([`remote`]: when a job
//! goes there, what each answer of the server means, when to ask again). No web-sys here.
//! [`engine::Engine`] is the one state machine the page runs (it wraps
//! [`scheduler::Scheduler`], which decides which job runs where); the browser layer (`web/`)
//! turns browser events into [`engine::Event`]s and carries out the [`engine::Effect`]s it answers
//! with, and everything here is tested natively.

pub mod answers;
pub mod audit;
pub mod cache_key;
pub mod code;
pub mod durable;
pub mod engine;
pub mod fallback;
pub mod limits;
pub mod lru;
pub mod manifest;
pub mod metrics;
pub mod progress;
pub mod proof_cache;
pub mod protocol;
pub mod queue;
pub mod quota;
pub mod remote;
pub mod retry;
pub mod scheduler;
pub mod statement;
pub mod sweep;
pub mod verdict;

#[cfg(test)]
mod engine_tests;
#[cfg(test)]
mod scheduler_cache_tests;
#[cfg(test)]
mod scheduler_tests;
#[cfg(test)]
mod test_proof;

pub use code::{Category, ErrorCode, Severity};
pub use fallback::Build;
pub use queue::Priority;
pub use scheduler::{CacheAnswer, Command, Config, JobState, Scheduler, Submission};
