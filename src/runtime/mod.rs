//! The runtime's policy, in plain Rust: queue order, the job state machine, retries with
//! backoff, fallbacks, quotas, metrics and the audit log. No web-sys here: the browser layer
//! (`web/`) carries out what [`scheduler::Scheduler`] decides, and everything here is tested
//! natively.

pub mod audit;
pub mod code;
pub mod fallback;
pub mod metrics;
pub mod queue;
pub mod quota;
pub mod retry;
pub mod scheduler;

#[cfg(test)]
mod scheduler_tests;

pub use code::{Category, ErrorCode, Severity};
pub use fallback::Build;
pub use queue::Priority;
pub use scheduler::{Command, Config, JobState, Scheduler, Submission};
