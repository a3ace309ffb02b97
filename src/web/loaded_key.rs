//! `LoadedKey`: a proving key read once and kept in a worker, so that jobs of the same circuit
//! do not parse tens of megabytes of key again.

use js_sys::Function;
use wasm_bindgen::prelude::*;

use super::clock;
use super::error::{to_js, JsResult};
use super::prover::{json_text, progress_callback, prove_result};
use crate::api;
use crate::circuit::CircuitId;
use crate::claim::Claim;
use crate::prover::keys::{KeyFile, KeyKind, Validation};
use crate::prover::msm::Kernel;
use crate::prover::prepared::PreparedProvingKey;
use crate::Error;

/// `checkKeyPoints(bytes)`: reads a proving key file with every point checked (on the curve, in
/// its subgroup). A worker whose proof failed its self-check calls it on the key it proved with:
/// a key that matches its pinned SHA-256 but holds an invalid point throws KEY_INTEGRITY (the
/// key is bad, not the proof); a sound key returns, and the failure stays VERIFY_FAILED. The
/// same classification as the native [`api::classify_failure`].
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
