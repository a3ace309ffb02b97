//! The circom/snarkjs world, read and written from the formats (snarkjs, circom and
//! circom_runtime are GPL-3: nothing of theirs is ported, only their file layouts and the witness
//! wasm's ABI are followed):
//!
//! - snarkjs Groth16 `.zkey` files, converted into airprover's proving key;
//! - circom's witness wasm (`circuit_js/circuit.wasm`), run on a wasm engine natively and
//!   on the browser's own WebAssembly in a proving worker, and snarkjs's `.wtns`;
//! - circom's `.r1cs`, written for our own circuits so that the ceremony tools take them;
//! - natively, the cache of converted keys, named by the zkey's SHA-256 ([`cache`]).

pub mod binfile;
#[cfg(not(target_arch = "wasm32"))]
pub mod cache;
#[cfg(not(target_arch = "wasm32"))]
pub mod engine;
pub mod input;
pub mod r1cs;
pub mod witness;
pub mod wtns;
pub mod zkey;
