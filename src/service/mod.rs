//! The prover service (native only): `airprover serve` (HTTP API, SSE, metrics) and `airprover
//! worker` processes on any number of machines, on Redis streams and consumer groups. Its
//! policy is the crate's: priorities and retry backoff from [`crate::runtime`], error codes and
//! which of them retry from [`crate::runtime::code`] (the service's superset, with HTTP statuses,
//! in [`code`]), claim validation from [`crate::claim`].
//!
//! Words, one per thing: a **task** is one proving request to the service (its record, queue
//! entry and events; the browser runtime's unit is a *job*, a name its npm API keeps); a
//! **claim** here is the prover's input ([`crate::claim::Claim`], `CLAIM-SPEC.md`); in
//! [`crate::relayer`] a *claim* is a proof posted for the on-chain payout, its record a
//! `ClaimRecord` (the HTTP routes keep `/v1/proofs` and `/v1/claims`).
//!
//! - [`redis`]: the one Redis layer: key names, scripts, the consumer-group queue, the task
//!   records and their once-only, fenced transitions.
//! - [`sealing_key`]: the sealing key file (`--sealing-key`).
//! - [`secret_file`]: writing files that hold a secret (0600, whole or not at all).
//! - [`worker`]: a prover worker.
//! - [`signature`]: what a worker signs for a result, and how a client checks it.
//! - [`task_input`]: what a task proves (a claim, or a circom circuit's input), as stored.
//! - [`http`]: the API.
//! - [`scaling`]: how many workers keep a task's wait under a target (the scaling signal).
//! - [`client`]: `airprover submit`.
//! - [`code`]: every code the service and the relayer answer with, its status and retry.
//! - [`request_log`]: `serve`'s log line per request.

pub mod client;
pub mod code;
pub mod http;
pub mod redis;
pub mod request_log;
pub mod scaling;
pub mod sealing_key;
pub mod secret_file;
pub mod signature;
pub mod task_input;
pub mod worker;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}
