//! The claim relayer (native only): a claimant's page posts a proof, never a secret; the relayer
//! checks it, sends `ReputationAirdrop.claim(...)` from the operator's own accounts and follows
//! it to `confirmed` or `failed`, so that the claimant needs no gas and no funded account linked
//! to the claimant address.
//!
//! - [`config`]: campaigns from a file; relayer keys from environment variables or private files,
//!   never logged or returned.
//! - [`chain`]: `ReputationAirdrop` through alloy (typed bindings), the checks before anything is
//!   queued, transactions signed locally so that their hash is recorded before they are sent.
//! - [`fees`]: what a transaction offers per gas: estimate, replacement bump, the campaign's
//!   ceiling (plain decisions).
//! - [`claims`]: claim records and phase events in Redis; every once-only step is a script.
//! - [`metrics`]: the relayer's numbers (sent, replaced, confirmed, failed, gas, fees, accounts)
//!   and its campaigns' RPC readiness.
//! - [`relay`]: the driver (resumable after a crash at any step) and the worker loop (a consumer
//!   group; idle claims taken over with `XAUTOCLAIM`).

pub mod chain;
pub mod claims;
pub mod config;
pub mod error;
pub mod fees;
pub mod metrics;
pub mod relay;

pub use claims::Phase;
pub use error::{Code, RelayError, RelayResult};
pub use relay::{Crash, RelaySettings, Relayer};
