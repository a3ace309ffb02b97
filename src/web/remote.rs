//! Page-side helpers beside the runtime's `remote` (whose decisions are `runtime::remote`'s,
//! carried out by `web::runtime::remote`): the public signals a claim must have, and errors of
//! the one shape every job error has, for `src/js/remote.js`'s option checks.

use wasm_bindgen::prelude::*;

use crate::claim::Claim;
use crate::prover::export;
use crate::runtime::code::ErrorCode;
use crate::web::error::job_error;
use crate::web::error::{to_js, JsResult};
use crate::web::prover::json_text;

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
