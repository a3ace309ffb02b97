//! The string-and-bytes facade that the CLI and the wasm bindings share: circuit ids, claims and
//! proofs as JSON text, keys as key-file bytes ([`crate::prover::keys`]), errors as [`Error`].
//!
//! Nothing here touches the file system or the clock, so the same calls run natively and in a
//! browser worker.

use rand::rngs::OsRng;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::Value;

use crate::circuit::id::CircuitId;
use crate::claim::Claim;
use crate::error::{Error, Result};
use crate::field::{self, Fr};
use crate::prover::keys::{self, KeyFile, KeyKind, Validation};
use crate::prover::msm::Kernel;
use crate::prover::prepared::PreparedProvingKey;
use crate::prover::{export, prove, setup as keygen, solidity, verify as check, Progress};

/// The two key files of a circuit, as bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPair {
    /// The proving key file.
    pub proving_key: Vec<u8>,
    /// The verifying key file.
    pub verifying_key: Vec<u8>,
    /// Number of R1CS constraints of the circuit.
    pub constraints: usize,
}

/// A proof and its public signals, as snarkjs writes them.
#[derive(Debug, Clone, PartialEq)]
pub struct ProveOutput {
    /// `proof.json`.
    pub proof: Value,
    /// `public.json`: the public signals as decimal strings, in the spec's order.
    pub public_signals: Vec<String>,
}

/// Sets up `circuit_id`. With a seed the keys are deterministic **development keys** (ChaCha20
/// seeded with it, and flagged so in the key header); without one the randomness is the OS's.
pub fn setup(circuit_id: &str, seed: Option<u64>) -> Result<KeyPair> {
    let circuit: CircuitId = circuit_id.parse()?;
    let made = match seed {
        Some(seed) => keygen::setup(&circuit, &mut ChaCha20Rng::seed_from_u64(seed))?,
        None => keygen::setup(&circuit, &mut OsRng)?,
    };
    let development = seed.is_some();
    Ok(KeyPair {
        proving_key: keys::write_proving_key(
            &made.proving_key,
            Some(&made.matrices),
            &circuit,
            development,
        )?,
        verifying_key: keys::write_verifying_key(&made.verifying_key, &circuit, development)?,
        constraints: made.constraints,
    })
}

/// Proves a claim with the proving key of its circuit, and checks the proof before returning
/// it: a proof that does not verify against the key's own verifying key is
/// [`Error::VerifyFailed`], never returned.
///
/// The key's points are not curve-checked (the key file's SHA-256 still is): a bad point could
/// only give a proof that fails the check above.
pub fn prove(
    claim_json: &str,
    proving_key: &[u8],
    progress: &mut dyn FnMut(&Progress),
) -> Result<ProveOutput> {
    let claim = Claim::from_json(claim_json)?;
    let key = read_prepared_key(proving_key, &claim.circuit)?;
    prove_with_key(&claim, &key, progress).map_err(|e| classify_failure(e, proving_key))
}

/// What a failed self-check means, given the proving key's bytes: a key with a point off the
/// curve (or outside the subgroup; pinned keys are read unchecked) is [`Error::KeyIntegrity`],
/// which no retry fixes; anything else stays as it was. The key is checked point by point only
/// on this path, never on a proof that verifies.
pub fn classify_failure(error: Error, proving_key: &[u8]) -> Error {
    if !matches!(error, Error::VerifyFailed { .. }) {
        return error;
    }
    match KeyFile::parse(proving_key).and_then(|file| file.proving_key(Validation::Checked)) {
        Err(Error::KeyIntegrity { what }) => Error::key_integrity(format!(
            "the proving key has an invalid point ({what}): the proof could not verify"
        )),
        Err(other) => other,
        Ok(_) => error,
    }
}

/// Reads a proving key file for `circuit`, prepared for this target's kernels (the key's points
/// are not curve-checked; its SHA-256 is).
pub fn read_prepared_key(bytes: &[u8], circuit: &CircuitId) -> Result<PreparedProvingKey> {
    let file = keys::KeyFile::parse(bytes)?;
    file.expect(keys::KeyKind::Proving, circuit)?;
    file.prepared_proving_key(Validation::Unchecked, Kernel::default())
}

/// [`prove`] with a proving key already read (a worker keeps its keys warm between jobs). The
/// key must be the claim circuit's: one for another circuit is refused before the MSMs.
pub fn prove_with_key(
    claim: &Claim,
    key: &PreparedProvingKey,
    progress: &mut dyn FnMut(&Progress),
) -> Result<ProveOutput> {
    prove_with_key_until(claim, key, progress, &|| false)
}

/// [`prove_with_key`] that ends with CANCELLED at the first stage boundary after `stop()` is
/// true (a native worker whose task was cancelled while it ran).
pub fn prove_with_key_until(
    claim: &Claim,
    key: &PreparedProvingKey,
    progress: &mut dyn FnMut(&Progress),
    stop: &dyn Fn() -> bool,
) -> Result<ProveOutput> {
    let (proof, _) = prove::prove_circuit_until(
        crate::circuit::ClaimCircuit::new(claim),
        key,
        &mut OsRng,
        progress,
        stop,
    )?;
    let public = claim.public_signals();
    if !check::verify(key.verifying_key(), &public, &proof)? {
        return Err(Error::VerifyFailed {
            what: format!(
                "the proof just made for {} does not verify; not returned",
                claim.circuit
            ),
        });
    }
    Ok(ProveOutput {
        proof: export::proof_to_json(&proof),
        public_signals: export::public_to_json(&public),
    })
}

/// The input of the benchmark circuit `square-chain-{n}`: `{ "circuit": "square-chain-N", "x0": "3" }`
/// (`x0` a field element as the claim spec spells numbers). Returns `(n, x0)`.
pub fn square_chain_input(json: &str) -> Result<(u32, Fr)> {
    let value = crate::json::parse_strict(json).map_err(|e| e.into_error("square-chain input"))?;
    let obj = value
        .as_object()
        .ok_or_else(|| Error::input("input", "must be an object"))?;
    if let Some(unknown) = obj.keys().find(|k| *k != "circuit" && *k != "x0") {
        return Err(Error::input(
            unknown.as_str(),
            "is not a field of a square-chain input",
        ));
    }
    let circuit: CircuitId = obj
        .get("circuit")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::input("circuit", "is missing or not a string"))?
        .parse()?;
    let CircuitId::SquareChain { n } = circuit else {
        return Err(Error::input("circuit", "must be a square-chain circuit"));
    };
    let x0 = obj
        .get("x0")
        .ok_or_else(|| Error::input("x0", "is missing"))?;
    Ok((n, field::parse_fr(x0, "x0")?))
}

/// Proves `square-chain-{n}` from `x0` with its proving key and checks the proof like
/// [`prove_with_key`]. The public signals are `[x0, y]`.
pub fn prove_square_chain_with_key(
    n: u32,
    x0: Fr,
    key: &PreparedProvingKey,
    progress: &mut dyn FnMut(&Progress),
) -> Result<ProveOutput> {
    let (proof, public) = prove::prove_square_chain(n, x0, key, &mut OsRng, progress)?;
    if !check::verify(key.verifying_key(), &public, &proof)? {
        return Err(Error::VerifyFailed {
            what: format!("the proof just made for square-chain-{n} does not verify; not returned"),
        });
    }
    Ok(ProveOutput {
        proof: export::proof_to_json(&proof),
        public_signals: export::public_to_json(&public),
    })
}

/// Verifies snarkjs `proof.json` and `public.json` text against a verifying key file. `Ok(false)`
/// means the proof does not verify; malformed input is an error.
pub fn verify(verifying_key: &[u8], proof_json: &str, public_json: &str) -> Result<bool> {
    let vk = read_verifying_key(verifying_key)?;
    let proof = export::proof_from_json(proof_json)?;
    let public = export::public_from_json(public_json)?;
    check::verify(&vk, &public, &proof)
}

/// The verifying key file as snarkjs's `verification_key.json`.
pub fn verification_key_json(verifying_key: &[u8]) -> Result<Value> {
    Ok(export::verifying_key_to_json(&read_verifying_key(
        verifying_key,
    )?))
}

/// The circuit a key file is for, read from its header alone (cheap).
pub fn key_circuit(key: &[u8]) -> Result<String> {
    Ok(keys::KeyHeader::read(key)?.circuit.to_string())
}

fn read_verifying_key(bytes: &[u8]) -> Result<crate::prover::VerifyingKey> {
    let file = KeyFile::parse(bytes)?;
    let circuit = file.header.circuit;
    file.expect(KeyKind::Verifying, &circuit)?;
    file.verifying_key(Validation::Checked)
}

/// The Solidity Groth16 verifier contract (snarkjs's interface) for a verifying key file; a
/// development key's contract says so in its header.
pub fn solidity_verifier(verifying_key: &[u8]) -> Result<String> {
    let file = KeyFile::parse(verifying_key)?;
    let circuit = file.header.circuit;
    file.expect(KeyKind::Verifying, &circuit)?;
    let vk = file.verifying_key(Validation::Checked)?;
    solidity::verifier_contract(
        &vk,
        solidity::VerifierSource {
            circuit: &circuit.to_string(),
            development: file.header.development,
        },
    )
}

/// The `verifyProof` calldata of snarkjs `proof.json` and `public.json` text: print it with
/// [`solidity::Calldata::to_snarkjs_text`], or hand [`solidity::Calldata::to_json`] to viem or
/// ethers. The proof's points are checked (on the curve, in the subgroup), not verified.
pub fn solidity_calldata(proof_json: &str, public_json: &str) -> Result<solidity::Calldata> {
    let proof = export::proof_from_json(proof_json)?;
    let public = export::public_from_json(public_json)?;
    Ok(solidity::Calldata::new(&proof, &public))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::tree::sample::sample;

    fn claim_json(circuit: &str, seed: u64) -> String {
        sample(&circuit.parse().unwrap(), 6, seed)
            .unwrap()
            .claim
            .to_string()
    }

    /// A proving key whose verifying key's alpha is moved off the curve, with the header's
    /// digest recomputed (as whoever made such a key would): its bytes are intact, its point is
    /// not. The self-check fails, and that is KEY_INTEGRITY (final natively), not VERIFY_FAILED.
    #[test]
    fn a_proving_key_with_a_point_off_the_curve_is_key_integrity() {
        use sha2::{Digest, Sha256};
        let circuit = "threshold-d4-k1";
        let mut pk = setup(circuit, Some(3)).unwrap().proving_key;
        let payload_at = 53 + circuit.len();
        // alpha_g1 is the payload's first point: x, then y (32 bytes each, little-endian).
        pk[payload_at] ^= 1;
        let digest = Sha256::digest(&pk[payload_at..]);
        pk[payload_at - 32..payload_at].copy_from_slice(&digest);
        let claim = claim_json(circuit, 2);
        let err = prove(&claim, &pk, &mut |_| {}).unwrap_err();
        assert_eq!(err.code(), "KEY_INTEGRITY", "{err}");
        assert!(err.to_string().contains("invalid point"), "{err}");
        assert!(!err.code().retryable_natively());
        // A VERIFY_FAILED that a valid key cannot explain stays what it is.
        let good = setup(circuit, Some(3)).unwrap().proving_key;
        let other = Error::VerifyFailed { what: "x".into() };
        assert_eq!(classify_failure(other.clone(), &good), other);
    }

    /// A stop asked for while the prover runs ends it with CANCELLED at the next stage: the
    /// stages after it never start.
    #[test]
    fn a_stop_ends_the_proof_at_the_next_stage() {
        use std::cell::Cell;
        let circuit = "threshold-d4-k1";
        let pk = setup(circuit, Some(3)).unwrap().proving_key;
        let key = read_prepared_key(&pk, &circuit.parse().unwrap()).unwrap();
        let claim = Claim::from_json(&claim_json(circuit, 2)).unwrap();
        let seen = Cell::new(0);
        let err = prove_with_key_until(&claim, &key, &mut |_| seen.set(seen.get() + 1), &|| {
            seen.get() >= 3
        })
        .unwrap_err();
        assert_eq!(err.code(), "CANCELLED", "{err}");
        assert_eq!(seen.get(), 3, "no stage starts after the stop");
        assert!(!err.code().retryable_natively());
        // Not stopped: the same key proves.
        assert!(prove_with_key_until(&claim, &key, &mut |_| {}, &|| false).is_ok());
    }

    #[test]
    fn seeded_setup_is_deterministic_and_flagged() {
        let a = setup("square-chain-8", Some(5)).unwrap();
        let b = setup("square-chain-8", Some(5)).unwrap();
        assert_eq!(a, b);
        assert_ne!(
            a.proving_key,
            setup("square-chain-8", Some(6)).unwrap().proving_key
        );
        assert!(keys::KeyHeader::read(&a.proving_key).unwrap().development);
        assert!(
            !keys::KeyHeader::read(&setup("square-chain-8", None).unwrap().verifying_key)
                .unwrap()
                .development
        );
        assert_eq!(key_circuit(&a.verifying_key).unwrap(), "square-chain-8");
        assert_eq!(
            setup("square-chain-0", None).unwrap_err().code(),
            "UNKNOWN_CIRCUIT"
        );
    }

    #[test]
    fn proves_and_verifies_a_claim() {
        let keys = setup("threshold-d4-k2", Some(1)).unwrap();
        let claim = claim_json("threshold-d4-k2", 3);
        let mut stages = Vec::new();
        let out = prove(&claim, &keys.proving_key, &mut |p| stages.push(p.stage)).unwrap();
        assert!(!stages.is_empty());
        assert_eq!(out.public_signals.len(), 5);
        let proof = out.proof.to_string();
        let public = json!(out.public_signals).to_string();
        assert!(verify(&keys.verifying_key, &proof, &public).unwrap());

        let mut altered = out.public_signals.clone();
        altered[4] = "1".into();
        assert!(!verify(&keys.verifying_key, &proof, &json!(altered).to_string()).unwrap());

        let err = verify(&keys.verifying_key, &proof, r#"["1"]"#).unwrap_err();
        assert_eq!(err.code(), "INVALID_PROOF");
        let err = verify(&keys.proving_key, &proof, &public).unwrap_err();
        assert_eq!(err.code(), "KEY_INTEGRITY");

        let vk_json = verification_key_json(&keys.verifying_key).unwrap();
        assert_eq!(vk_json["nPublic"], 5);
    }

    #[test]
    fn proves_a_square_chain_from_its_input() {
        let keys = setup("square-chain-8", Some(1)).unwrap();
        let pk = read_prepared_key(&keys.proving_key, &"square-chain-8".parse().unwrap()).unwrap();
        let (n, x0) = square_chain_input(r#"{ "circuit": "square-chain-8", "x0": "3" }"#).unwrap();
        let out = prove_square_chain_with_key(n, x0, &pk, &mut |_| {}).unwrap();
        assert_eq!(out.public_signals[0], "3");
        let y = (0..8).fold(Fr::from(3u64), |x, _| x * x);
        assert_eq!(out.public_signals[1], field::fr_to_decimal(&y));
        let public = json!(out.public_signals).to_string();
        assert!(verify(&keys.verifying_key, &out.proof.to_string(), &public).unwrap());

        for (bad, code) in [
            (r#"{ "circuit": "square-chain-8" }"#, "INVALID_INPUT"),
            (
                r#"{ "circuit": "square-chain-8", "x0": 3, "y": 1 }"#,
                "INVALID_INPUT",
            ),
            (
                r#"{ "circuit": "threshold-d4-k2", "x0": 3 }"#,
                "INVALID_INPUT",
            ),
            (
                r#"{ "circuit": "square-chain-8", "x0": "-3" }"#,
                "INVALID_INPUT",
            ),
            ("[", "INVALID_JSON"),
        ] {
            assert_eq!(square_chain_input(bad).unwrap_err().code(), code, "{bad}");
        }
    }

    #[test]
    fn refuses_a_key_of_another_circuit() {
        let keys = setup("threshold-d4-k1", Some(1)).unwrap();
        let err = prove(
            &claim_json("threshold-d4-k2", 3),
            &keys.proving_key,
            &mut |_| {},
        )
        .unwrap_err();
        assert_eq!(err.code(), "KEY_INTEGRITY");
        assert!(
            err.to_string().contains("threshold-d4-k1")
                && err.to_string().contains("threshold-d4-k2")
        );
    }

    #[test]
    fn exports_a_verifier_and_calldata() {
        let keys = setup("square-chain-2", Some(1)).unwrap();
        let source = solidity_verifier(&keys.verifying_key).unwrap();
        assert!(source.contains("`square-chain-2`") && source.contains("DEVELOPMENT KEY"));
        assert!(source.contains("uint256[2] calldata _pubSignals"));
        assert_eq!(
            solidity_verifier(&keys.proving_key).unwrap_err().code(),
            "KEY_INTEGRITY"
        );

        let claim = claim_json("threshold-d4-k2", 3);
        let keys = setup("threshold-d4-k2", Some(1)).unwrap();
        let out = prove(&claim, &keys.proving_key, &mut |_| {}).unwrap();
        let public = json!(out.public_signals).to_string();
        let call = solidity_calldata(&out.proof.to_string(), &public).unwrap();
        assert_eq!(call.public.len(), 5);
        assert_eq!(call.to_json()["pubSignals"].as_array().unwrap().len(), 5);
        let err = solidity_calldata("{}", &public).unwrap_err();
        assert_eq!(err.code(), "INVALID_PROOF");
    }
}
