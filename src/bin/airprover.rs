//! The airprover command-line tool (native only).
//!
//! The binary also has to build for wasm32: `cargo test --test web_<flavour>` (the wasm tests)
//! builds every binary of the package for its integration test, and neither clap nor
//! `airprover::cli` exists there. On wasm32 the binary is an empty `main`.

#[cfg(not(target_arch = "wasm32"))]
#[path = "airprover/command.rs"]
mod command;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    command::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
