//! Groth16 verification.

use ark_groth16::Groth16;

use super::{Curve, Proof, VerifyingKey};
use crate::error::{Error, Result};
use crate::field::Fr;

/// Whether `proof` is valid for the public inputs under `vk`. A public input count that does not
/// fit the key is bad input, not a failed proof.
pub fn verify(vk: &VerifyingKey, public: &[Fr], proof: &Proof) -> Result<bool> {
    let expected = vk.gamma_abc_g1.len().saturating_sub(1);
    if public.len() != expected {
        return Err(Error::proof(
            "publicSignals",
            format!(
                "has {} entries; the verifying key takes {expected}",
                public.len()
            ),
        ));
    }
    let pvk = ark_groth16::prepare_verifying_key(vk);
    Groth16::<Curve>::verify_proof(&pvk, proof, public).map_err(|e| Error::VerifyFailed {
        what: e.to_string(),
    })
}
