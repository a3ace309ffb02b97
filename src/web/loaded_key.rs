//! `LoadedKey`: a proving key read once and kept in a worker, so that jobs of the same circuit
//! do not parse tens of megabytes of key again.

use js_sys::Function;
use wasm_bindgen::prelude::*;

use super::clock;
use super::error::{to_js, JsResult};
use super::prover::{json_text, progress_callback, prove_result};
use crate::api;
use crate::circom::wtns;
use crate::circom::zkey::Zkey;
use crate::circuit::CircuitId;
use crate::claim::Claim;
use crate::prover::export;
use crate::prover::keys::write_proving_key_for;
use crate::prover::keys::{KeyFile, KeyKind, Validation};
use crate::prover::msm::Kernel;
use crate::prover::prepared::PreparedProvingKey;
use crate::prover::prove::prove_witness_until;
use crate::prover::qap::Reduction;
use crate::runtime::answers;
use crate::Error;
use rand::rngs::OsRng;

/// `checkKeyPoints(bytes)`: reads a proving key file with every point checked (on the curve, in
/// its subgroup). A worker whose proof failed its self-check calls it on the key it proved with:
/// a key that matches its pinned SHA-256 but holds an invalid point throws KEY_INTEGRITY (the
/// key is bad, not the proof: the runtime decides so, `WorkerError::settled`); a sound key
/// returns, and the failure stays VERIFY_FAILED. The same classification as the native
/// [`api::classify_failure`].
#[wasm_bindgen(js_name = checkKeyPoints)]
pub fn check_key_points(bytes: &[u8]) -> JsResult<()> {
    let failure = Error::VerifyFailed {
        what: String::new(),
    };
    match api::classify_failure(failure, bytes) {
        Error::VerifyFailed { .. } => Ok(()),
        other => Err(to_js(other)),
    }
}

/// `checksKeyAfter(code)`: whether a worker whose job failed with `code` checks its proving key
/// with [`check_key_points`] and reports the check as the error's `keyCheck`: the runtime's
/// decision ([`answers::checks_key_after`]), which also decides what the check means
/// (`WorkerError::settled`).
#[wasm_bindgen(js_name = checksKeyAfter)]
pub fn checks_key_after(code: Option<String>) -> bool {
    answers::checks_key_after(code.as_deref())
}

/// `keyLoad(found)`: what storage.js's `loadKey` does with the stored copy of a key file it found
/// (`missing`, `matches` or `differs`): `use`, `download` or `drop-and-download`, the runtime's
/// decision ([`answers::load_stored_key`]).
#[wasm_bindgen(js_name = keyLoad)]
pub fn key_load(found: &str) -> String {
    answers::load_stored_key(answers::StoredKey::parse(found))
        .as_str()
        .into()
}

/// `convertedKeyLoad(found)`: whether a worker proves a circom job with the converted key it
/// found in the key cache (`missing`, `loads` or `unreadable`): `use` or `convert`, the runtime's
/// decision ([`answers::load_converted_key`]).
#[wasm_bindgen(js_name = convertedKeyLoad)]
pub fn converted_key_load(found: &str) -> String {
    answers::load_converted_key(answers::StoredConversion::parse(found))
        .as_str()
        .into()
}

/// `convertZkey(zkey, circuit)`: a snarkjs Groth16 `.zkey` (its SHA-256 checked by the caller
/// against the manifest) converted into airprover's proving key file for circom circuit id
/// `circuit`, every point checked on its curve and in its subgroup, the QAP reduction it needs
/// recorded in the file (`Reduction::Circom`). The runtime's workers keep the result in the key
/// cache under the zkey's SHA-256 and load it with `new LoadedKey(bytes)` afterwards, unchecked.
/// Throws ZKEY_UNSUPPORTED (PLONK, FFLONK, another curve) or ZKEY_CORRUPT naming the section.
#[wasm_bindgen(js_name = convertZkey)]
pub fn convert_zkey(zkey: &[u8], circuit: &str) -> JsResult<Vec<u8>> {
    let id: CircuitId = circuit.parse().map_err(to_js)?;
    if !id.is_circom() {
        return Err(to_js(Error::input(
            "circuit",
            format!("{circuit} is not a circom circuit id"),
        )));
    }
    let converted = Zkey::parse(zkey).and_then(|z| z.convert()).map_err(to_js)?;
    write_proving_key_for(
        &converted.proving_key,
        Some(&converted.matrices),
        &id,
        false,
        Reduction::Circom,
    )
    .map_err(to_js)
}

/// A proving key file, read and ready to prove with.
#[wasm_bindgen]
pub struct LoadedKey {
    circuit: CircuitId,
    development: bool,
    key: PreparedProvingKey,
}

#[wasm_bindgen]
impl LoadedKey {
    /// Reads a proving key file. The caller has checked its SHA-256 against the pinned manifest,
    /// so the points are not curve-checked again (a bad point could only give a proof that fails
    /// the self-check every proof goes through). The query points are converted for the wasm
    /// kernels here, once, and the constraint matrices a version 2 key carries are kept.
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: &[u8]) -> JsResult<LoadedKey> {
        Self::load(KeyFile::parse(bytes).map_err(to_js)?)
    }

    /// Like the constructor, for bytes whose SHA-256 the caller has just checked against the
    /// pinned manifest (the runtime's workers do, with WebCrypto): the digest inside the file is
    /// not recomputed, which saves hashing the whole key again in wasm. Everything else is
    /// checked.
    #[wasm_bindgen(js_name = fromVerifiedBytes)]
    pub fn from_verified_bytes(bytes: &[u8]) -> JsResult<LoadedKey> {
        Self::load(KeyFile::parse_verified(bytes).map_err(to_js)?)
    }

    fn load(file: KeyFile) -> JsResult<LoadedKey> {
        let circuit = file.header.circuit;
        file.expect(KeyKind::Proving, &circuit).map_err(to_js)?;
        let key = file
            .prepared_proving_key(Validation::Unchecked, Kernel::default())
            .map_err(to_js)?;
        Ok(LoadedKey {
            circuit,
            development: file.header.development,
            key,
        })
    }

    /// The circuit the key is for.
    #[wasm_bindgen(getter)]
    pub fn circuit(&self) -> String {
        self.circuit.to_string()
    }

    /// Whether these are development keys (made from a seed: never for production).
    #[wasm_bindgen(getter)]
    pub fn development(&self) -> bool {
        self.development
    }

    /// Proves with a full witness (the bytes of a `.wtns`, as `circomWitness` or `snarkjs wtns
    /// calculate` make them) on a key that carries its matrices (a converted zkey's does); the
    /// proof is verified before it is returned. `{ proof, publicSignals, ms }` in snarkjs's JSON.
    /// A witness of another circuit throws ZKEY_MISMATCH; one that does not satisfy the circuit
    /// WITNESS_FAILED.
    #[wasm_bindgen(js_name = proveWitness, unchecked_return_type = "ProveResult")]
    pub fn prove_witness(
        &self,
        wtns: &[u8],
        #[wasm_bindgen(js_name = onProgress, unchecked_param_type = "(p: ProveProgress) => void")]
        on_progress: Option<Function>,
    ) -> JsResult<JsValue> {
        let start = clock::now_ms();
        let witness = wtns::read(wtns).map_err(to_js)?;
        let mut report = progress_callback(on_progress, start);
        let (proof, public) =
            prove_witness_until(&witness, &self.key, &mut OsRng, &mut report, &|| false)
                .map_err(to_js)?;
        let out = api::ProveOutput {
            proof: export::proof_to_json(&proof),
            public_signals: export::public_to_json(&public),
        };
        prove_result(&out, start)
    }

    /// Proves a claim of this key's circuit, like `prove`, and self-checks the proof. A
    /// `square-chain-N` key (the benchmark circuit) takes `{ circuit, x0 }` instead of a claim.
    #[wasm_bindgen(unchecked_return_type = "ProveResult")]
    pub fn prove(
        &self,
        #[wasm_bindgen(js_name = claimJson, unchecked_param_type = "string | object")]
        claim_json: JsValue,
        #[wasm_bindgen(js_name = onProgress, unchecked_param_type = "(p: ProveProgress) => void")]
        on_progress: Option<Function>,
    ) -> JsResult<JsValue> {
        let start = clock::now_ms();
        let text = json_text(claim_json, "claimJson")?;
        let mut report = progress_callback(on_progress, start);
        let out = if let CircuitId::SquareChain { n: key_n } = self.circuit {
            // The benchmark circuit: `{ circuit: "square-chain-N", x0 }` instead of a claim.
            let (n, x0) = api::square_chain_input(&text).map_err(to_js)?;
            if n != key_n {
                return Err(to_js(Error::key_integrity(format!(
                    "this key is for {}, the input for square-chain-{n}",
                    self.circuit
                ))));
            }
            api::prove_square_chain_with_key(n, x0, &self.key, &mut report).map_err(to_js)?
        } else {
            let claim = Claim::from_json(&text).map_err(to_js)?;
            if claim.circuit != self.circuit {
                return Err(to_js(Error::key_integrity(format!(
                    "this key is for {}, the claim for {}",
                    self.circuit, claim.circuit
                ))));
            }
            api::prove_with_key(&claim, &self.key, &mut report).map_err(to_js)?
        };
        prove_result(&out, start)
    }
}
