//! One error type for the whole crate, each variant with a stable `code()`.
//!
//! The code is the contract: the CLI prints it first on its stderr line, the wasm bindings put it
//! on the JS `Error` as `code`, and the runtime decides retries and fallbacks from it. Messages are
//! for people and may change; codes never do.

use crate::runtime::code::ErrorCode;
use ark_relations::r1cs::SynthesisError;
use ark_serialize::SerializationError;

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in airprover, by cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The input is not valid JSON, or not of the expected shape.
    #[error("{code}: {what}", code = self.code())]
    InvalidJson {
        /// What the parser said, with line and column.
        what: String,
    },
    /// A field of the input is missing, unknown, malformed or out of range.
    #[error("{code}: {field}: {reason}", code = self.code())]
    InvalidInput {
        /// Where in the input, e.g. `attestations[2].weight`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The circuit id does not name a circuit airprover has (or its depth or K is out of range).
    #[error("{code}: {id:?}: {reason}", code = self.code())]
    UnknownCircuit {
        /// The id as given.
        id: String,
        /// Why it is not a circuit.
        reason: String,
    },
    /// An attestation's Merkle path does not reach the claimed root (a stale path, usually: the
    /// operator republished the tree).
    #[error("{code}: attestations[{position}] (index {index}): its path does not reach the root", code = self.code())]
    PathMismatch {
        /// Position of the attestation in the claim's list.
        position: usize,
        /// Its leaf index in the tree.
        index: u64,
    },
    /// The attestations do not add up to the threshold (or to the exact score).
    #[error("{code}: the attestations add up to {sum}, which does not {rule} {target}", code = self.code())]
    ScoreNotMet {
        /// Sum of the attestation weights.
        sum: u64,
        /// `reach` (threshold circuits) or `equal` (exact circuits).
        rule: &'static str,
        /// The threshold or score.
        target: u64,
    },
    /// No key (or manifest entry) for the circuit where it was looked for.
    #[error("{code}: {what}", code = self.code())]
    KeyNotFound {
        /// Which key, and where it was looked for.
        what: String,
    },
    /// Key bytes that are truncated, corrupt, do not match their pinned hash, or belong to
    /// another circuit.
    #[error("{code}: {what}", code = self.code())]
    KeyIntegrity {
        /// What did not match.
        what: String,
    },
    /// The witness does not satisfy the circuit: the claim was checked, so this is a bug or a
    /// tampered input that slipped past validation. Never a panic.
    #[error("{code}: the witness does not satisfy constraint {constraint}", code = self.code())]
    WitnessFailed {
        /// Name (or number) of the first unsatisfied constraint.
        constraint: String,
    },
    /// circom's witness wasm stopped: a failing `assert` or constraint (`===`), an array index
    /// out of bounds, memory. The message is circom's own (the template and the line), never a
    /// value of the input.
    #[error("{code}: circom's witness calculation failed: {message}", code = self.code())]
    CircomWitness {
        /// What circom said, e.g. `Assert Failed. Error in template Bounded_0 line: 6`.
        message: String,
    },
    /// The prover failed for a reason other than the witness.
    #[error("{code}: {what}", code = self.code())]
    ProofFailed {
        /// What arkworks said.
        what: String,
    },
    /// A proof that was made (or given) does not verify.
    #[error("{code}: {what}", code = self.code())]
    VerifyFailed {
        /// Context.
        what: String,
    },
    /// A proof, public signals or verifying key that is not in the expected format.
    #[error("{code}: {field}: {reason}", code = self.code())]
    InvalidProof {
        /// Where in the proof or key.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The caller stopped the proof (checked between the prover's stages).
    #[error("{code}: {what}", code = self.code())]
    Cancelled {
        /// Who stopped it.
        what: String,
    },
    /// A prover server's result is signed with a key the client did not pin.
    #[error("{code}: {what}", code = self.code())]
    UnknownWorker {
        /// Which key.
        what: String,
    },
    /// A prover server's result is not signed, by the pinned key it names, over exactly the
    /// task, circuit, verifying key, proof and public signals the client recomputed.
    #[error("{code}: {what}", code = self.code())]
    BadSignature {
        /// What did not match.
        what: String,
    },
    /// A snarkjs `.zkey` that is not Groth16 on BN254 (PLONK, FFLONK, another curve).
    #[error("{code}: {what}", code = self.code())]
    ZkeyUnsupported {
        /// What the file is instead.
        what: String,
    },
    /// A `.zkey` whose bytes are wrong: truncated, inconsistent sizes, a point off the curve.
    #[error("{code}: section {section}: {what}", code = self.code())]
    ZkeyCorrupt {
        /// The section (its name and number, e.g. `4 (coefficients)`), or `header`.
        section: String,
        /// What is wrong in it.
        what: String,
    },
    /// A `.zkey` used with a witness wasm, verifying key or circuit of another circuit.
    #[error("{code}: {what}", code = self.code())]
    ZkeyMismatch {
        /// What disagrees.
        what: String,
    },
    /// Reading or writing a file failed (CLI only).
    #[error("{code}: {path}: {what}", code = self.code())]
    Io {
        /// The file.
        path: String,
        /// What the OS said.
        what: String,
    },
}

impl Error {
    /// The stable machine-readable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidJson { .. } => ErrorCode::InvalidJson,
            Error::InvalidInput { .. } => ErrorCode::InvalidInput,
            Error::UnknownCircuit { .. } => ErrorCode::UnknownCircuit,
            Error::PathMismatch { .. } => ErrorCode::PathMismatch,
            Error::ScoreNotMet { .. } => ErrorCode::ScoreNotMet,
            Error::KeyNotFound { .. } => ErrorCode::KeyNotFound,
            Error::KeyIntegrity { .. } => ErrorCode::KeyIntegrity,
            Error::WitnessFailed { .. } | Error::CircomWitness { .. } => ErrorCode::WitnessFailed,
            Error::ProofFailed { .. } => ErrorCode::ProofFailed,
            Error::VerifyFailed { .. } => ErrorCode::VerifyFailed,
            Error::InvalidProof { .. } => ErrorCode::InvalidProof,
            Error::Cancelled { .. } => ErrorCode::Cancelled,
            Error::UnknownWorker { .. } => ErrorCode::UnknownWorker,
            Error::BadSignature { .. } => ErrorCode::BadSignature,
            Error::ZkeyUnsupported { .. } => ErrorCode::ZkeyUnsupported,
            Error::ZkeyCorrupt { .. } => ErrorCode::ZkeyCorrupt,
            Error::ZkeyMismatch { .. } => ErrorCode::ZkeyMismatch,
            Error::Io { .. } => ErrorCode::IoError,
        }
    }

    /// Whether this error is the input's fault: retrying the same input cannot help.
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            Error::InvalidJson { .. }
                | Error::InvalidInput { .. }
                | Error::UnknownCircuit { .. }
                | Error::PathMismatch { .. }
                | Error::ScoreNotMet { .. }
                | Error::InvalidProof { .. }
        )
    }

    /// Shorthand for [`Error::InvalidInput`].
    pub fn input(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::InvalidProof`].
    pub fn proof(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidProof {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::KeyIntegrity`].
    pub fn key_integrity(what: impl Into<String>) -> Self {
        Error::KeyIntegrity { what: what.into() }
    }
}

impl From<SynthesisError> for Error {
    fn from(e: SynthesisError) -> Self {
        match e {
            SynthesisError::Unsatisfiable => Error::WitnessFailed {
                constraint: "(reported by synthesis)".into(),
            },
            SynthesisError::AssignmentMissing => Error::WitnessFailed {
                constraint: "(assignment missing)".into(),
            },
            other => Error::ProofFailed {
                what: other.to_string(),
            },
        }
    }
}

impl From<SerializationError> for Error {
    fn from(e: SerializationError) -> Self {
        Error::KeyIntegrity {
            what: format!("key bytes do not deserialise: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_starts_with_code() {
        let e = Error::input("attestations[2].weight", "must be below 2^32");
        assert_eq!(e.code(), "INVALID_INPUT");
        assert_eq!(
            e.to_string(),
            "INVALID_INPUT: attestations[2].weight: must be below 2^32"
        );
        let e = Error::PathMismatch {
            position: 1,
            index: 9,
        };
        assert!(e
            .to_string()
            .starts_with("PATH_MISMATCH: attestations[1] (index 9)"));
        assert!(e.is_input_error());
        assert!(!Error::ProofFailed { what: "x".into() }.is_input_error());
    }
}
