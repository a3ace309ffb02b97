//! Circuit-specific Groth16 setup.
//!
//! With randomness from the OS this is a single-party trusted setup: fine for development and
//! tests, not for production, where keys come from a multi-party phase-2 ceremony. With a seeded
//! RNG the keys are **development keys**: anyone with the seed can forge proofs.

use ark_groth16::Groth16;
use ark_relations::r1cs::{
    ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, SynthesisMode,
};
use ark_std::rand::{CryptoRng, RngCore};

use super::matrices::Matrices;
use super::{Curve, ProvingKey, VerifyingKey};
use crate::circuit::{Circuit, CircuitId};
use crate::error::{Error, Result};
use crate::field::Fr;

/// Keys of one circuit.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The proving key (holds the verifying key too).
    pub proving_key: ProvingKey,
    /// The verifying key.
    pub verifying_key: VerifyingKey,
    /// Number of R1CS constraints of the circuit.
    pub constraints: usize,
    /// The circuit's constraint matrices, as the key generation synthesised them (they go into
    /// the proving key file).
    pub matrices: Matrices,
}

/// Generates the proving and verifying key of `circuit`.
pub fn setup<R: RngCore + CryptoRng>(circuit: &CircuitId, rng: &mut R) -> Result<Setup> {
    let matrices = matrices(circuit)?;
    let proving_key =
        Groth16::<Curve>::generate_random_parameters_with_reduction(Circuit::blank(circuit)?, rng)
            .map_err(|e| Error::ProofFailed {
                what: format!("setup of {circuit}: {e}"),
            })?;
    Ok(Setup {
        verifying_key: proving_key.vk.clone(),
        proving_key,
        constraints: matrices.num_constraints,
        matrices,
    })
}

/// The constraint matrices of `circuit`, synthesised as arkworks' key generation does it (setup
/// mode, linear combinations inlined for the fewest constraints).
pub fn matrices(circuit: &CircuitId) -> Result<Matrices> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Setup);
    Circuit::blank(circuit)?.generate_constraints(cs.clone())?;
    cs.finalize();
    let ark = cs.to_matrices().ok_or_else(|| Error::ProofFailed {
        what: format!("setup of {circuit}: no constraint matrices"),
    })?;
    Matrices::from_ark(&ark)
}
