//! # airprover
//!
//! Groth16 (BN254) proofs of reputation claims, made in the browser: arkworks compiled to a
//! threaded and a single-threaded wasm build, and natively for the CLI, benches and tests.
//!
//! The statement, the input and the output formats are fixed by the claim spec: a claimant proves
//! that attestations in a published Merkle tree add up to at least a threshold (or exactly a
//! score), without revealing them, bound to a claimant address and a per-campaign nullifier.
//!
//! Layout (the README's `## Layout` is the same map, a line for each file of the service and the
//! relayer):
//! - The statement: [`field`] (numbers as the spec spells them), [`poseidon`] (circomlib's hash
//!   and its gadget), [`tree`] (attestations, Merkle tree, the claim input), [`claim`] (the claim
//!   input parsed and checked), [`campaign`] (a campaign's id, bound to its deployment),
//!   [`circuit`] (the R1CS circuits).
//! - [`prover`]: setup, staged proving, verification, key files, manifest, snarkjs JSON, Solidity
//!   (`prover/solidity/`: its tests); `prover/msm/`: the MSM kernels.
//! - [`circom`]: snarkjs `.zkey` and `.wtns`, circom's witness wasm and `.r1cs` (any circuit).
//! - Shared: [`error`] (one error type, a stable code each), [`json`] (JSON read strictly),
//!   [`api`] (the string-level facade of the CLI and the wasm bindings).
//! - [`runtime`]: the runtime's policy in plain Rust (queue, jobs, retries, fallbacks, the
//!   page-worker protocol); `web` (wasm32 only): the bindings, and `web/runtime/` the runtime's
//!   adapter on real Web Workers; `src/js/`: the JS that must be JS (package and worker entries).
//! - `cli` and `src/bin/` (native): the CLI's commands; `src/bin/airprover/`: `command.rs`
//!   (arguments), `config.rs` (`--config` TOML), `service.rs` (`serve`, `worker`, `relay`).
//! - `service` (native), the prover service on Redis:
//!   - `mod.rs`: its modules and the clock (`now_ms`); `code.rs`: every code the service and
//!     the relayer answer with; `client.rs`: `airprover submit`; `worker.rs`: `airprover
//!     worker`; `signature.rs`: what a worker signs and how a client checks it; `scaling.rs`: the
//!     scaling signal; `request_log.rs`: serve's request log; `secret_file.rs`: files that hold a
//!     secret; `sealing_key.rs`: the sealing key file.
//!   - `http.rs`: `airprover serve`'s router, state and refusals; `http/`: `proofs.rs` (the proof
//!     routes), `claims.rs` (the relayer's routes), `admin.rs` (queue, workers), `auth.rs` (API
//!     keys, roles, rates), `events.rs` (SSE), `fanout.rs` (one stream reader per node),
//!     `open_streams.rs` (stream caps), `ws.rs` (the WebSocket), `health.rs` (`/health`,
//!     `/ready`, draining), `metrics.rs` (`/metrics`).
//!   - `redis/`: the one Redis layer: `connect.rs` (URL, TLS), `keys.rs` (every key name),
//!     `queue.rs` (the consumer-group queue), `seal.rs` (inputs sealed at rest), `tasks.rs`
//!     (proof tasks, scripts).
//! - `relayer` (native), the claim relayer: `config.rs` (campaigns, relayer keys), `chain.rs`
//!   (the contract through alloy), `fees.rs` (fee decisions), `claims.rs` (claim records in
//!   Redis), `error.rs` (`RelayError`, revert names to codes), `relay.rs` (the `Relayer` type),
//!   `submit.rs` (a claim's checks before it is queued), `driver.rs` (one claim from queued to
//!   confirmed or failed), `worker.rs` (the worker loop: leases, take-over, hand-back on
//!   SIGTERM), `metrics.rs` (its numbers, its RPC's readiness).
//! - Outside `src/`: `tests/` (native tests, `web_*.rs` in Chromium; `common/` what they share,
//!   `common/netns.rs` the network-namespace hosts of `multihost.rs`; `web_common/`, `browser/`,
//!   `e2e/`, `interop/`, `vite-consumer/`), `benches/` (`prove.rs`, `browser/`, `rapidsnark/`),
//!   `examples/`, `contracts/` (`ReputationAirdrop`, tests on anvil), `deploy/` (systemd units,
//!   sample environment and TOML), `service/` (`redis.conf`), `www/` (the claim app), `docs/`
//!   (the README's images), `scripts/` (the build and test steps), `.ci/` (what CI runs).
#![cfg_attr(not(target_arch = "wasm32"), forbid(unsafe_code))]
#![warn(missing_docs)]

#[cfg(all(
    target_arch = "wasm32",
    feature = "threads",
    not(target_feature = "atomics")
))]
compile_error!(
    "the `threads` feature needs a wasm build with atomics: build it with `make build` (see README)"
);

pub mod api;
pub mod campaign;
pub mod circom;
pub mod circuit;
pub mod claim;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub mod error;
pub mod field;
pub mod json;
pub mod poseidon;
pub mod prover;
#[cfg(not(target_arch = "wasm32"))]
pub mod relayer;
pub mod runtime;
#[cfg(not(target_arch = "wasm32"))]
pub mod service;
pub mod tree;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use error::{Error, Result};
