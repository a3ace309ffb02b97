//! `setup`, `prove`, `verify` for JS: thin wrappers over [`crate::api`].
//!
//! Keys are key-file bytes (`Uint8Array`), claims and proofs JSON text (or plain objects, which
//! are stringified first), results plain JS objects. Errors are thrown `AirproverError`s with a
//! stable `code` ([`super::error`]); bad input never panics.

use js_sys::{Function, Object, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::clock;
use super::error::{bad_argument, to_js, JsResult};
use super::js::set;
use crate::api;
use crate::field::MAX_SAFE_INTEGER;
use crate::prover::export;
use crate::prover::Progress;

#[wasm_bindgen(typescript_custom_section)]
const TS_PROVER: &str = r#"
/** Both key files of a circuit, from `setup`. */
export interface KeyPair {
  /** The proving key file (what `prove` takes). */
  provingKey: Uint8Array;
  /** The verifying key file (what `verify` takes). */
  verifyingKey: Uint8Array;
  /** Number of R1CS constraints of the circuit. */
  constraints: number;
}

/** Progress of `prove`, reported when a prover stage starts. */
export interface ProveProgress {
  /** The stage that starts: synthesis, constraint-check, qap, msm-h, msm-l, msm-a, msm-b1, msm-b2, done. */
  stage: string;
  /** Overall fraction done, 0 to 1 (a typical share of the time, not a measurement). */
  fraction: number;
  /** Milliseconds since `prove` was called. */
  elapsedMs: number;
}

/** A proof, as snarkjs writes `proof.json` and `public.json`. */
export interface ProveResult {
  /** `proof.json`: `{ pi_a, pi_b, pi_c, protocol: "groth16", curve: "bn128" }`. */
  proof: { pi_a: string[]; pi_b: string[][]; pi_c: string[]; protocol: string; curve: string };
  /** `public.json`: `[root, campaignId, claimant, nullifier, threshold | score]`, decimal. */
  publicSignals: string[];
  /** Milliseconds `prove` took, key parsing included. */
  ms: number;
}
"#;

/// `setup(circuitId, seed?)`: Groth16 keys for a circuit id such as `threshold-d4-k2`. With a
/// `seed` (a safe integer or a bigint below 2^64) the keys are deterministic **development keys**,
/// flagged so in their header: anyone who knows the seed can forge proofs. Without one the
/// randomness is the browser's `crypto.getRandomValues`.
#[wasm_bindgen(unchecked_return_type = "KeyPair")]
pub fn setup(
    #[wasm_bindgen(js_name = circuitId)] circuit_id: &str,
    #[wasm_bindgen(unchecked_param_type = "number | bigint | null")] seed: Option<JsValue>,
) -> JsResult<JsValue> {
    let seed = parse_seed(seed)?;
    let keys = api::setup(circuit_id, seed).map_err(to_js)?;
    let out = Object::new();
    set(&out, "provingKey", &Uint8Array::from(&keys.proving_key[..]));
    set(
        &out,
        "verifyingKey",
        &Uint8Array::from(&keys.verifying_key[..]),
    );
    set(&out, "constraints", &(keys.constraints as f64).into());
    Ok(out.into())
}

/// `prove(claimJson, provingKey, onProgress?)`: proves a claim (JSON as the claim spec defines
/// it) with the proving key file of its circuit. The proof is checked against the key's own
/// verifying key before it is returned. `onProgress(p)` is called on this thread when each prover
/// stage starts; what it throws is ignored. Blocks for as long as proving takes: call it in a
/// Worker, never on the main thread.
#[wasm_bindgen(unchecked_return_type = "ProveResult")]
pub fn prove(
    #[wasm_bindgen(js_name = claimJson, unchecked_param_type = "string | object")]
    claim_json: JsValue,
    #[wasm_bindgen(js_name = provingKey)] proving_key: &[u8],
    #[wasm_bindgen(js_name = onProgress, unchecked_param_type = "(p: ProveProgress) => void")]
    on_progress: Option<Function>,
) -> JsResult<JsValue> {
    let start = clock::now_ms();
    let claim_json = json_text(claim_json, "claimJson")?;
    let out = api::prove(
        &claim_json,
        proving_key,
        &mut progress_callback(on_progress, start),
    )
    .map_err(to_js)?;
    prove_result(&out, start)
}

/// `onProgress` as the prover's progress callback: called on this thread with a
/// `ProveProgress` when each stage starts; what it throws is ignored.
pub(crate) fn progress_callback(
    on_progress: Option<Function>,
    start: f64,
) -> impl FnMut(&Progress) {
    move |p: &Progress| {
        if let Some(f) = &on_progress {
            let _ = f.call1(
                &JsValue::NULL,
                &progress_object(p, clock::elapsed_ms(start)),
            );
        }
    }
}

/// A proof for JS: `{ proof, publicSignals, ms }` (`ProveResult`), `ms` counted from `start`.
pub(crate) fn prove_result(out: &api::ProveOutput, start: f64) -> JsResult<JsValue> {
    let json = serde_wasm_bindgen::Serializer::json_compatible();
    let result = Object::new();
    set(&result, "proof", &serialize(&out.proof, &json)?);
    set(
        &result,
        "publicSignals",
        &serialize(&out.public_signals, &json)?,
    );
    set(&result, "ms", &clock::elapsed_ms(start).into());
    Ok(result.into())
}

/// `verify(verifyingKey, proofJson, publicJson)`: whether a snarkjs `proof.json` and
/// `public.json` (text or objects) verify against a verifying key file. `false` means the proof
/// does not verify; malformed input throws (`INVALID_PROOF`, `KEY_INTEGRITY`, ...).
#[wasm_bindgen]
pub fn verify(
    #[wasm_bindgen(js_name = verifyingKey)] verifying_key: &[u8],
    #[wasm_bindgen(js_name = proofJson, unchecked_param_type = "string | object")]
    proof_json: JsValue,
    #[wasm_bindgen(js_name = publicJson, unchecked_param_type = "string | string[]")]
    public_json: JsValue,
) -> JsResult<bool> {
    let (proof, public) = proof_texts(proof_json, public_json)?;
    api::verify(verifying_key, &proof, &public).map_err(to_js)
}

/// `verificationKeyJson(verifyingKey)`: the verifying key file as snarkjs's
/// `verification_key.json` object.
#[wasm_bindgen(js_name = verificationKeyJson, unchecked_return_type = "object")]
pub fn verification_key_json(
    #[wasm_bindgen(js_name = verifyingKey)] verifying_key: &[u8],
) -> JsResult<JsValue> {
    let vk = api::verification_key_json(verifying_key).map_err(to_js)?;
    serialize(&vk, &serde_wasm_bindgen::Serializer::json_compatible())
}

/// `keyCircuit(key)`: the circuit id a proving or verifying key file is for, from its header
/// alone (cheap: check a downloaded key before proving with it).
#[wasm_bindgen(js_name = keyCircuit)]
pub fn key_circuit(key: &[u8]) -> JsResult<String> {
    api::key_circuit(key).map_err(to_js)
}

/// `solidityVerifier(verifyingKey)`: the Solidity Groth16 verifier contract of a verifying key
/// file, with snarkjs's `verifyProof` interface (the text `airprover export-verifier` writes). A
/// development key's contract says so in its header.
#[wasm_bindgen(js_name = solidityVerifier)]
pub fn solidity_verifier(
    #[wasm_bindgen(js_name = verifyingKey)] verifying_key: &[u8],
) -> JsResult<String> {
    api::solidity_verifier(verifying_key).map_err(to_js)
}

/// `solidityCalldata(proofJson, publicJson)`: `verifyProof`'s (and `ReputationAirdrop.claim`'s)
/// arguments for a snarkjs proof: `text` as `snarkjs zkey export soliditycalldata` prints it (and
/// `airprover calldata`), the four arguments as bigints (G2 in EIP-197 order), and `args`, the
/// same four as an array for viem's or ethers' contract calls. The proof's points are checked (on
/// the curve, in the subgroup), not verified.
// Typed in index.d.ts (`SolidityCalldata`), the package's public declarations.
#[wasm_bindgen(js_name = solidityCalldata, unchecked_return_type = "object")]
pub fn solidity_calldata(
    #[wasm_bindgen(js_name = proofJson, unchecked_param_type = "string | object")]
    proof_json: JsValue,
    #[wasm_bindgen(js_name = publicJson, unchecked_param_type = "string | string[]")]
    public_json: JsValue,
) -> JsResult<JsValue> {
    let (proof, public) = proof_texts(proof_json, public_json)?;
    let calldata = api::solidity_calldata(&proof, &public).map_err(to_js)?;
    // `BigInt(decimal)` of a decimal string always succeeds.
    let big = |n: &num_bigint::BigUint| -> JsValue {
        js_sys::BigInt::new(&JsValue::from_str(&n.to_str_radix(10)))
            .map_or(JsValue::UNDEFINED, JsValue::from)
    };
    let pair = |p: &[num_bigint::BigUint; 2]| -> JsValue {
        js_sys::Array::of2(&big(&p[0]), &big(&p[1])).into()
    };
    let p_a = pair(&calldata.a);
    let p_b: JsValue = js_sys::Array::of2(&pair(&calldata.b[0]), &pair(&calldata.b[1])).into();
    let p_c = pair(&calldata.c);
    let signals: JsValue = calldata
        .public
        .iter()
        .map(big)
        .collect::<js_sys::Array>()
        .into();
    let out = Object::new();
    set(&out, "text", &calldata.to_snarkjs_text().into());
    set(&out, "pA", &p_a);
    set(&out, "pB", &p_b);
    set(&out, "pC", &p_c);
    set(&out, "pubSignals", &signals);
    set(
        &out,
        "args",
        &js_sys::Array::of4(&p_a, &p_b, &p_c, &signals).into(),
    );
    Ok(out.into())
}

pub(crate) fn progress_object(p: &Progress, elapsed_ms: f64) -> JsValue {
    let out = Object::new();
    set(&out, "stage", &p.stage.name().into());
    set(&out, "fraction", &p.fraction.into());
    set(&out, "elapsedMs", &elapsed_ms.into());
    out.into()
}

/// A seed from JS: absent, a safe non-negative integer, or a bigint that fits in 64 bits.
fn parse_seed(seed: Option<JsValue>) -> JsResult<Option<u64>> {
    let Some(seed) = seed.filter(|s| !s.is_undefined() && !s.is_null()) else {
        return Ok(None);
    };
    if seed.is_bigint() {
        let big = seed.unchecked_into::<js_sys::BigInt>();
        return u64::try_from(big)
            .map(Some)
            .map_err(|_| bad_argument("seed", "a bigint seed must be in 0..2^64"));
    }
    match seed.as_f64() {
        Some(n) if n.fract() == 0.0 && (0.0..=MAX_SAFE_INTEGER as f64).contains(&n) => {
            Ok(Some(n as u64))
        }
        Some(_) => Err(bad_argument(
            "seed",
            "must be a safe non-negative integer (or a bigint)",
        )),
        None => Err(bad_argument("seed", "must be a number or a bigint")),
    }
}

/// The texts of a snarkjs `proof.json` and `public.json`, given as text or as values.
fn proof_texts(proof_json: JsValue, public_json: JsValue) -> JsResult<(String, String)> {
    Ok((
        json_text(proof_json, "proofJson")?,
        json_text(public_json, "publicJson")?,
    ))
}

/// JSON text from a JS string, or from a plain value through `JSON.stringify`.
pub(crate) fn json_text(value: JsValue, argument: &str) -> JsResult<String> {
    if let Some(s) = value.as_string() {
        return Ok(s);
    }
    if value.is_undefined() || value.is_null() {
        return Err(bad_argument(argument, "is missing"));
    }
    js_sys::JSON::stringify(&value)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| {
            bad_argument(
                argument,
                "is neither JSON text nor a JSON-serialisable value",
            )
        })
}

pub(crate) fn serialize<T: Serialize + ?Sized>(
    value: &T,
    serializer: &serde_wasm_bindgen::Serializer,
) -> JsResult<JsValue> {
    value
        .serialize(serializer)
        .map_err(|e| bad_argument("output", e.to_string()))
}

/// `verifySnarkjs(vkey, publicSignals, proof)`: snarkjs's `groth16.verify` on the page: whether
/// `proof` (snarkjs's `proof.json`) and `publicSignals` verify against snarkjs's
/// `verification_key.json` `vkey` (objects or JSON text). `false`: it does not verify; malformed
/// input throws (INVALID_PROOF, KEY_INTEGRITY, ...).
#[wasm_bindgen(js_name = verifySnarkjs)]
pub fn verify_snarkjs(
    #[wasm_bindgen(unchecked_param_type = "string | object")] vkey: JsValue,
    #[wasm_bindgen(js_name = publicSignals, unchecked_param_type = "string | string[]")]
    public_signals: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string | object")] proof: JsValue,
) -> JsResult<bool> {
    let vkey = json_text(vkey, "vkey")?;
    let (proof, public) = proof_texts(proof, public_signals)?;
    let vk = export::verifying_key_from_json(&vkey).map_err(to_js)?;
    let proof = export::proof_from_json(&proof).map_err(to_js)?;
    let public = export::public_from_json(&public).map_err(to_js)?;
    crate::prover::verify::verify(&vk, &public, &proof).map_err(to_js)
}

/// `zkeyVerificationKey(zkey)`: snarkjs's `verification_key.json` (as `snarkjs zkey export
/// verificationkey` writes it) of a Groth16 `.zkey`'s bytes.
#[wasm_bindgen(js_name = zkeyVerificationKey)]
pub fn zkey_verification_key(zkey: &[u8]) -> JsResult<JsValue> {
    let vk = crate::circom::zkey::Zkey::parse(zkey)
        .and_then(|z| z.verifying_key())
        .map_err(to_js)?;
    let json = serde_wasm_bindgen::Serializer::json_compatible();
    serialize(&export::verifying_key_to_json(&vk), &json)
}
