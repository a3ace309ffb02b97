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
//! - [`relay`]: the [`Relayer`] type and its public face (its campaigns, a claim's status); the
//!   paths of the three files below are re-exported from it.
//! - [`submit`]: `POST /v1/claims`: [`ClaimRequest`] read and checked (the proof, then the chain)
//!   before anything is stored; the same proof again is the same claim.
//! - [`driver`]: one claim followed from queued to `confirmed` or `failed` (resumable after a
//!   crash at any step): fees and their ceiling, nonce, send, replace, confirmations, reorgs.
//! - [`worker`]: the worker loop ([`RelaySettings`]): a consumer group, leases kept while a claim
//!   is followed, idle claims taken over with `XAUTOCLAIM`, claims handed back on SIGTERM.

pub mod chain;
pub mod claims;
pub mod config;
pub mod driver;
pub mod error;
pub mod fees;
pub mod metrics;
pub mod relay;
pub mod submit;
pub mod worker;

pub use claims::Phase;
pub use error::{Code, RelayError, RelayResult};
pub use relay::{ClaimRequest, Crash, RelaySettings, Relayer};
