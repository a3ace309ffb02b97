//! Groth16 on BN254 with arkworks: setup, a prover split into its real stages, verification,
//! key files and snarkjs-compatible JSON.
//!
//! The prover does what `ark_groth16::Groth16::prove` does, one stage at a time, so that callers
//! see progress between the stages and later work can swap a stage's kernel for a faster one.

mod byte_reader;
pub mod ceremony;
pub mod export;
pub mod fft;
#[cfg(not(target_arch = "wasm32"))]
pub mod key_dir;
pub mod keys;
pub mod manifest;
pub mod matrices;
pub mod msm;
pub mod prepared;
pub mod prove;
pub mod qap;
pub mod setup;
pub mod solidity;
pub mod verify;

use std::fmt;

use ark_bn254::Bn254;

/// The pairing airprover proves over.
pub type Curve = Bn254;
/// A Groth16 proving key on BN254.
pub type ProvingKey = ark_groth16::ProvingKey<Bn254>;
/// A Groth16 verifying key on BN254.
pub type VerifyingKey = ark_groth16::VerifyingKey<Bn254>;
/// A Groth16 proof on BN254.
pub type Proof = ark_groth16::Proof<Bn254>;

/// A stage of proving, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    /// Running the circuit's gadgets: constraints and witness values.
    Synthesis,
    /// Checking that the witness satisfies every constraint.
    ConstraintCheck,
    /// R1CS to QAP: evaluating A, B, C and the FFTs that give H.
    Qap,
    /// MSM over the H query.
    MsmH,
    /// MSM over the L query (witness part of C).
    MsmL,
    /// MSM for A in G1.
    MsmA,
    /// MSM for B in G1.
    MsmB1,
    /// MSM for B in G2.
    MsmB2,
    /// The proof is complete.
    Done,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Stage; 9] = [
        Stage::Synthesis,
        Stage::ConstraintCheck,
        Stage::Qap,
        Stage::MsmH,
        Stage::MsmL,
        Stage::MsmA,
        Stage::MsmB1,
        Stage::MsmB2,
        Stage::Done,
    ];

    /// Stable kebab-case name, as reported to JS.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Synthesis => "synthesis",
            Stage::ConstraintCheck => "constraint-check",
            Stage::Qap => "qap",
            Stage::MsmH => "msm-h",
            Stage::MsmL => "msm-l",
            Stage::MsmA => "msm-a",
            Stage::MsmB1 => "msm-b1",
            Stage::MsmB2 => "msm-b2",
            Stage::Done => "done",
        }
    }

    /// Typical share of the proving time spent before this stage starts, for a progress bar that
    /// moves smoothly. Measured on `threshold-d20-k8` natively; the runtime refines it with its
    /// own history on the device.
    pub fn start_fraction(self) -> f64 {
        match self {
            Stage::Synthesis => 0.0,
            Stage::ConstraintCheck => 0.10,
            Stage::Qap => 0.14,
            Stage::MsmH => 0.30,
            Stage::MsmL => 0.45,
            Stage::MsmA => 0.60,
            Stage::MsmB1 => 0.70,
            Stage::MsmB2 => 0.80,
            Stage::Done => 1.0,
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a proof is: the stage that starts now and the overall fraction done.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// The stage that starts.
    pub stage: Stage,
    /// Overall fraction done, 0.0 to 1.0.
    pub fraction: f64,
}
