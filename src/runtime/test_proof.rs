//! One real proof of a small claim circuit, made once per test binary and shared by the tests of
//! the page's checks (`verdict`, `proof_cache`): setup and proving take a while.

use std::sync::OnceLock;

use crate::api::{self, KeyPair, ProveOutput};
use crate::claim::Claim;
use crate::tree::sample::sample;

/// The circuit.
pub const CIRCUIT: &str = "threshold-d4-k2";

/// A sample claim of [`CIRCUIT`] (seed 1 is the proved one).
pub fn claim(seed: u64) -> Claim {
    Claim::from_value(&sample(&CIRCUIT.parse().unwrap(), 6, seed).unwrap().claim).unwrap()
}

/// The development keys of seed 1 and the proof of `claim(1)` under them.
pub fn proved() -> &'static (KeyPair, ProveOutput) {
    static PROVED: OnceLock<(KeyPair, ProveOutput)> = OnceLock::new();
    PROVED.get_or_init(|| {
        let keys = api::setup(CIRCUIT, Some(1)).unwrap();
        let out = api::prove(
            &claim(1).to_canonical_json().to_string(),
            &keys.proving_key,
            &mut |_| {},
        )
        .unwrap();
        (keys, out)
    })
}
