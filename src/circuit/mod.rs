//! The R1CS circuits: the reputation claim (threshold and exact) and the square-chain benchmark.
//!
//! Each circuit's `mod.rs` holds its witness and public inputs, its `constraints.rs` the gadgets.
//! A circuit built without a witness (for setup) synthesises the same constraints.

pub mod choice;
pub mod claim;
pub mod id;
pub mod range;
pub mod square_chain;

use ark_relations::r1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, OptimizationGoal, SynthesisError,
    SynthesisMode,
};

use crate::error::{Error, Result};
use crate::field::Fr;
pub use claim::ClaimCircuit;
pub use id::{CircuitId, ScoreRule};
pub use square_chain::SquareChain;

/// Any circuit airprover has, with or without its witness.
#[derive(Debug, Clone)]
pub enum Circuit {
    /// A threshold or exact claim.
    Claim(ClaimCircuit),
    /// The square chain.
    SquareChain(SquareChain),
}

impl Circuit {
    /// The circuit of `id` without a witness: for setup and for counting constraints. A circom
    /// circuit has no constraints here (they are in its `.zkey` and witness wasm):
    /// UNKNOWN_CIRCUIT.
    pub fn blank(id: &CircuitId) -> Result<Self> {
        Ok(match *id {
            CircuitId::Claim { rule, depth, slots } => {
                Circuit::Claim(ClaimCircuit::blank(rule, depth, slots))
            }
            CircuitId::SquareChain { n } => Circuit::SquareChain(SquareChain::blank(n)),
            CircuitId::Circom(_) => {
                return Err(Error::UnknownCircuit {
                    id: id.to_string(),
                    reason: "not a built-in circuit (threshold-d{D}-k{K}, exact-d{D}-k{K}, \
                             square-chain-{N}); a circom circuit's keys come from its .zkey \
                             (import-zkey, or a manifest's circom entry), not from setup"
                        .into(),
                })
            }
        })
    }

    /// The circuit's id.
    pub fn id(&self) -> CircuitId {
        match self {
            Circuit::Claim(c) => c.id(),
            Circuit::SquareChain(c) => c.id(),
        }
    }
}

impl ConstraintSynthesizer<Fr> for Circuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        match self {
            Circuit::Claim(c) => c.generate_constraints(cs),
            Circuit::SquareChain(c) => c.generate_constraints(cs),
        }
    }
}

/// Number of R1CS constraints of a circuit (synthesised in setup mode, without witness values).
pub fn constraint_count(id: &CircuitId) -> Result<usize> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Setup);
    Circuit::blank(id)?.generate_constraints(cs.clone())?;
    Ok(cs.num_constraints())
}
