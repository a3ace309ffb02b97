//! The page's verdicts on what it is handed for a job: the manifest's verifying key as its file
//! loaded, and a worker's proof, checked against that key before it becomes the job's result (the
//! worker's own check used the key inside its proving key, which a wrong or edited proving key
//! passes). The web layer (`src/web/runtime/caching.rs`) only loads bytes through the key cache;
//! which failure is which code is decided here.

use serde_json::Value;

use super::code::ErrorCode;
use super::statement::Statement;
use crate::circuit::CircuitId;
use crate::prover::keys::{read_verifying_key, Validation};
use crate::prover::{export, verify, VerifyingKey};

/// A failure with its code and words, as the engine takes a verdict.
pub type Failure = (ErrorCode, String);

/// The verifying key of `circuit` from its file (`bytes` None: the load gave none). A circom
/// circuit's file is snarkjs's `verification_key.json` (its points checked on their curves), any
/// other circuit's an airprover key file read with every point checked. A file that is missing or
/// not text is the key's failure, KEY_INTEGRITY (its SHA-256 matched the pin, so the manifest pins
/// a wrong file); a file that does not read as a key has the reader's code; an id that is no
/// circuit's, the id's.
pub fn verifying_key(circuit: &str, bytes: Option<Vec<u8>>) -> Result<VerifyingKey, Failure> {
    let integrity = |why: &str| (ErrorCode::KeyIntegrity, why.to_string());
    let bytes = bytes.ok_or_else(|| integrity("the verifying key's load gave no bytes"))?;
    let id: CircuitId = circuit.parse().map_err(|e: crate::Error| failure(&e))?;
    if id.is_circom() {
        let text = String::from_utf8(bytes)
            .map_err(|_| integrity("the verifying key is not JSON text"))?;
        export::verifying_key_from_json(&text)
    } else {
        read_verifying_key(&bytes, &id, Validation::Checked)
    }
    .map_err(|e| failure(&e))
}

/// A worker's result `value` (`{ proof, publicSignals }`) for `statement`, checked against the
/// manifest's verifying key `vk`. A claim's public signals are the claim's own (the worker's are
/// ignored); a circom circuit's are the worker's, since only its witness knows them. Anything short
/// of a proof that verifies (no proof, a malformed one, no public signals, a failed pairing check)
/// is KEY_INTEGRITY: the worker's self-check passed, so its proving key and the manifest's
/// verifying key are not a pair, and the result is never used.
pub fn worker_proof(
    statement: &Statement,
    vk: &VerifyingKey,
    value: &Value,
) -> Result<(), Failure> {
    let integrity = |why: String| {
        (
            ErrorCode::KeyIntegrity,
            format!("the proof does not verify against the manifest's verifying key: {why}"),
        )
    };
    let proof = value
        .get("proof")
        .ok_or_else(|| integrity("the result has no proof".into()))?;
    let proof = export::proof_from_value(proof).map_err(|e| integrity(e.to_string()))?;
    let public = match statement.claim() {
        Some(claim) => claim.public_signals(),
        None => value
            .get("publicSignals")
            .ok_or_else(|| integrity("the result has no public signals".into()))
            .and_then(|p| export::public_from_value(p).map_err(|e| integrity(e.to_string())))?,
    };
    match verify::verify(vk, &public, &proof) {
        Ok(true) => Ok(()),
        Ok(false) => Err(integrity("the pairing check fails".into())),
        Err(e) => Err(integrity(e.to_string())),
    }
}

fn failure(e: &crate::Error) -> Failure {
    (e.code(), e.to_string())
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;
    use crate::api;
    use crate::claim::Claim;
    use crate::runtime::test_proof::{claim, proved, CIRCUIT};

    struct Fixture {
        /// The verifying key file.
        vk_file: Vec<u8>,
        /// Another setup's verifying key file, for the same circuit.
        other_vk_file: Vec<u8>,
        claim: Claim,
        other: Claim,
        /// `{ proof, publicSignals }` of `claim`, as a worker answers.
        value: Value,
    }

    fn fixture() -> &'static Fixture {
        static F: OnceLock<Fixture> = OnceLock::new();
        F.get_or_init(|| {
            let (keys, out) = proved();
            let other = api::setup(CIRCUIT, Some(2)).unwrap();
            Fixture {
                vk_file: keys.verifying_key.clone(),
                other_vk_file: other.verifying_key,
                claim: claim(1),
                other: claim(2),
                value: serde_json::json!({ "proof": out.proof, "publicSignals": out.public_signals }),
            }
        })
    }

    fn vk(file: &[u8]) -> VerifyingKey {
        verifying_key(CIRCUIT, Some(file.to_vec())).unwrap()
    }

    #[test]
    fn a_proof_that_verifies_is_the_result() {
        let f = fixture();
        worker_proof(
            &Statement::Claim(f.claim.clone()),
            &vk(&f.vk_file),
            &f.value,
        )
        .unwrap();
    }

    #[test]
    fn a_proof_under_another_verifying_key_is_key_integrity() {
        let f = fixture();
        let (code, why) = worker_proof(
            &Statement::Claim(f.claim.clone()),
            &vk(&f.other_vk_file),
            &f.value,
        )
        .unwrap_err();
        assert_eq!(code, ErrorCode::KeyIntegrity);
        assert!(why.contains("manifest's verifying key"), "{why}");
        assert!(why.contains("pairing check"), "{why}");
    }

    #[test]
    fn a_claims_own_signals_are_checked_not_the_workers() {
        let f = fixture();
        // The worker's proof of the first claim, answered for the other one.
        let (code, _) = worker_proof(
            &Statement::Claim(f.other.clone()),
            &vk(&f.vk_file),
            &f.value,
        )
        .unwrap_err();
        assert_eq!(code, ErrorCode::KeyIntegrity);
        // Its public signals edited to the other claim's: still the claim's own that count.
        let mut edited = f.value.clone();
        edited["publicSignals"] =
            serde_json::json!(export::public_to_json(&f.other.public_signals()));
        worker_proof(&Statement::Claim(f.claim.clone()), &vk(&f.vk_file), &edited).unwrap();
    }

    #[test]
    fn a_result_without_a_proof_or_with_a_malformed_one_is_key_integrity() {
        let f = fixture();
        let vk = vk(&f.vk_file);
        let statement = Statement::Claim(f.claim.clone());
        for value in [
            serde_json::json!({ "publicSignals": f.value["publicSignals"] }),
            serde_json::json!({ "proof": "nonsense", "publicSignals": f.value["publicSignals"] }),
            serde_json::json!(null),
        ] {
            let (code, why) = worker_proof(&statement, &vk, &value).unwrap_err();
            assert_eq!(code, ErrorCode::KeyIntegrity, "{value}: {why}");
        }
    }

    #[test]
    fn a_verifying_key_file_is_read_with_its_points_checked_and_its_failures_coded() {
        let f = fixture();
        // Airprover's key file, and snarkjs's JSON for a circom circuit.
        vk(&f.vk_file);
        let json = export::verifying_key_to_json(&vk(&f.vk_file)).to_string();
        verifying_key("my-circuit", Some(json.into_bytes())).unwrap();
        // No bytes, or bytes that are not text where JSON is due: the key's failure.
        let code =
            |circuit: &str, bytes: Option<Vec<u8>>| verifying_key(circuit, bytes).unwrap_err().0;
        assert_eq!(code(CIRCUIT, None), ErrorCode::KeyIntegrity);
        assert_eq!(
            code("my-circuit", Some(vec![0xff, 0xfe, 0x00])),
            ErrorCode::KeyIntegrity
        );
        // A file that is not a key, or another circuit's key: the reader's code, never a panic.
        let not_a_key = code(CIRCUIT, Some(b"not a key".to_vec()));
        let other_circuit = code("threshold-d4-k3", Some(f.vk_file.clone()));
        for c in [not_a_key, other_circuit] {
            assert_ne!(c, ErrorCode::Internal, "{c:?}");
        }
        // JSON that is no verifying key is refused.
        assert!(verifying_key("my-circuit", Some(b"{}".to_vec())).is_err());
        // An id that is no circuit's: the id's own code.
        assert_eq!(
            code("Not An Id", Some(f.vk_file.clone())),
            ErrorCode::UnknownCircuit
        );
    }
}
