//! Circuit-specific Groth16 setup.
//!
//! With randomness from the OS this is a single-party trusted setup: fine for development and
//! tests, not for production, where keys come from a multi-party phase-2 ceremony. With a seeded
//! RNG the keys are **development keys**: anyone with the seed can forge proofs.

use ark_groth16::Groth16;
use ark_std::rand::{CryptoRng, RngCore};

use super::{Curve, ProvingKey, VerifyingKey};
use crate::circuit::{constraint_count, Circuit, CircuitId};
use crate::error::{Error, Result};

/// Keys of one circuit.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The proving key (holds the verifying key too).
    pub proving_key: ProvingKey,
    /// The verifying key.
    pub verifying_key: VerifyingKey,
    /// Number of R1CS constraints of the circuit.
    pub constraints: usize,
}

/// Generates the proving and verifying key of `circuit`.
pub fn setup<R: RngCore + CryptoRng>(circuit: &CircuitId, rng: &mut R) -> Result<Setup> {
    let constraints = constraint_count(circuit)?;
    let proving_key =
        Groth16::<Curve>::generate_random_parameters_with_reduction(Circuit::blank(circuit), rng)
            .map_err(|e| Error::ProofFailed {
            what: format!("setup of {circuit}: {e}"),
        })?;
    Ok(Setup {
        verifying_key: proving_key.vk.clone(),
        proving_key,
        constraints,
    })
}
