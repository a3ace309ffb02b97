//! The wasm32 bindings: the only code that talks to JavaScript.
//!
//! Thin adapters over the core: each export parses what JS hands over, calls plain Rust, and turns
//! the result into plain JS values (or a JS `Error` with a stable `code`, see [`error`]). Nothing
//! here panics on bad input. Timing goes through `performance.now()` ([`clock`]) because
//! `std::time::Instant` panics on `wasm32-unknown-unknown`.
//!
//! Two builds come from this code (see the Makefile): the threaded one (feature `threads`: rayon
//! over Web Workers and a shared memory, started with [`initThreadPool`](init_thread_pool)) and the
//! single-threaded one (no default features). Both must run inside a dedicated Worker: proving
//! blocks for seconds, and the threaded build waits on atomics, which the main thread may not do.
#![cfg(target_arch = "wasm32")]

pub mod campaign;
pub mod circom_witness;
pub mod clock;
pub mod error;
pub mod hash;
pub mod js;
pub mod loaded_key;
pub mod prover;
pub mod runtime;
pub mod threads;

pub use prover::{prove, setup, verify};
pub use threads::threading_info;
#[cfg(feature = "threads")]
pub use wasm_bindgen_rayon::init_thread_pool;

use wasm_bindgen::prelude::*;

/// Runs once when the module is instantiated (in every worker of the threaded build too): route
/// Rust panics to `console.error` with their message instead of a bare `unreachable` trap.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}
