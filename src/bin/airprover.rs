//! The airprover command-line tool (filled in below as the prover lands).
fn main() {}
