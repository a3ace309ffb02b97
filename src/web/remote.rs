//! What the page needs to delegate a job to an operator's server (`createProver({ remote })`,
//! `src/js/remote.js`) without deciding anything itself: which failures move a job there (the
//! runtime's table, [`ErrorCode::moves_to_server`]), what a submission is sent as and which
//! submissions never leave the device ([`remote_request`]), the public signals a claim must have
//! (to check the server's answer against), and errors of the one shape every job error has.

use wasm_bindgen::prelude::*;

use serde_json::{json, Value};

use crate::claim::Claim;
use crate::error::Error;
use crate::prover::export;
use crate::runtime::code::ErrorCode;
use crate::runtime::statement::Statement;
use crate::web::error::job_error;
use crate::web::error::{to_js, JsResult};
use crate::web::js::to_js_value;
use crate::web::prover::json_text;
use crate::web::runtime::{json_of, statement, witness_statement};

/// Whether a job that failed with `code` goes to the server when `remote.when` is `'fallback'`.
#[wasm_bindgen(js_name = remoteFallback)]
pub fn remote_fallback(code: &str) -> bool {
    code.parse::<ErrorCode>()
        .is_ok_and(ErrorCode::moves_to_server)
}

/// `remoteRequest(submission, when)`: what `POST /v1/proofs` sends for a submission (a claim, a
/// circom `{ circuit, input }` or `{ circuit, wtns }`, as `prover.submit` takes them) and what the
/// answer must be: `{ circuit, body, publicSignals }` (`publicSignals` a claim's, `null` for a
/// circom input, whose are known only from the proof). Throws the submission's own typed error.
/// A ready witness is every private signal and never goes to the server: `null` (the device
/// alone proves it) with `when` `'fallback'`, INVALID_INPUT with `'always'`.
#[wasm_bindgen(js_name = remoteRequest, unchecked_return_type = "RemoteRequest | null")]
pub fn remote_request(
    #[wasm_bindgen(unchecked_param_type = "string | object")] submission: JsValue,
    when: &str,
) -> JsResult<JsValue> {
    let statement = match witness_statement(&submission).map_err(to_js)? {
        Some(s) => s,
        None => statement(&json_of(&submission)?).map_err(to_js)?,
    };
    if !statement.may_go_remote() {
        if when == "always" {
            return Err(to_js(Error::input(
                "remote",
                "a ready witness (wtns) holds every private signal and is never sent to the \
                 prover server: prove it on the device (remote.when 'fallback' or no remote)",
            )));
        }
        return Ok(JsValue::NULL);
    }
    let (body, public): (Value, Option<Vec<String>>) = match &statement {
        Statement::Claim(c) => (
            json!({ "claim": c.to_canonical_json() }),
            Some(export::public_to_json(&c.public_signals())),
        ),
        Statement::Circom(c) => {
            let input: Value = serde_json::from_str(c.input().unwrap_or("{}"))
                .map_err(|e| to_js(Error::input("input", e.to_string())))?;
            (
                json!({ "circuit": c.circuit.to_string(), "input": input }),
                None,
            )
        }
    };
    Ok(to_js_value(&json!({
        "circuit": statement.circuit().to_string(),
        "body": body.to_string(),
        "publicSignals": public,
    })))
}

#[wasm_bindgen(typescript_custom_section)]
const TS_REMOTE_REQUEST: &str = r#"
/** What the runtime's `remote` sends to the prover server for a submission, and what the answer must be. */
export interface RemoteRequest { circuit: string; body: string; publicSignals: string[] | null }
"#;

/// The public signals of a valid claim (`[root, campaignId, claimant, nullifier, threshold |
/// score]`, decimal strings): what a proof of it must prove. Throws the claim's own error.
#[wasm_bindgen(js_name = claimPublicSignals, unchecked_return_type = "string[]")]
pub fn claim_public_signals(
    #[wasm_bindgen(js_name = claimJson, unchecked_param_type = "string | object")]
    claim_json: JsValue,
) -> JsResult<JsValue> {
    let text = json_text(claim_json, "claimJson")?;
    let claim = Claim::from_json(&text).map_err(to_js)?;
    let signals = export::public_to_json(&claim.public_signals());
    Ok(serde_wasm_bindgen::to_value(&signals).unwrap_or(JsValue::NULL))
}

/// An `AirproverError` of `code` (an unknown code is INTERNAL, never another's) with every field
/// from the runtime's table, and no failed attempts.
#[wasm_bindgen(js_name = airproverError, unchecked_return_type = "Error")]
pub fn airprover_error(code: &str, message: &str) -> JsValue {
    match code.parse::<ErrorCode>() {
        Ok(c) => job_error(c, message, &[]),
        Err(()) => job_error(ErrorCode::Internal, &format!("{code}: {message}"), &[]),
    }
}
