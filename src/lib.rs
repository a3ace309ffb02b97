//! # airprover
//!
//! Groth16 (BN254) proofs of reputation claims, made in the browser: arkworks compiled to a
//! threaded and a single-threaded wasm build, and natively for the CLI, benches and tests.
//!
//! The statement, the input and the output formats are fixed by the claim spec: a claimant proves
//! that attestations in a published Merkle tree add up to at least a threshold (or exactly a
//! score), without revealing them, bound to a claimant address and a per-campaign nullifier.
//!
//! Layout: [`field`] (numbers as the spec spells them), [`poseidon`] (circomlib's hash and its
//! gadget), [`tree`] (attestations, Merkle tree, the claim input), [`circuit`] (the R1CS
//! circuits), [`prover`] (setup, staged proving, verification, key files, snarkjs JSON).
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
