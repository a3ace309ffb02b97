//! circomlib's Poseidon for JS: commitments and nullifiers computed exactly as the circuits do.

use serde_json::Value;
use wasm_bindgen::prelude::*;

use super::error::{bad_argument, to_js, JsResult};
use crate::field::{fr_to_decimal, parse_fr};
use crate::poseidon;

/// `poseidonHash(inputs: (string | number)[]): string` — circomlib's `poseidon(inputs)` over
/// BN254, as a decimal string. Each input is a field element as the claim spec spells numbers:
/// a decimal or `0x`-hex string below the field modulus, or a safe-integer number. Throws an
/// `AirproverError` with code `INVALID_INPUT` naming the bad input (`inputs[i]`).
#[wasm_bindgen(js_name = poseidonHash)]
pub fn poseidon_hash(
    #[wasm_bindgen(unchecked_param_type = "(string | number)[]")] inputs: js_sys::Array,
) -> JsResult<String> {
    let mut elements = Vec::with_capacity(inputs.length() as usize);
    for (i, value) in inputs.iter().enumerate() {
        let field = format!("inputs[{i}]");
        elements.push(parse_fr(&to_json_number(&value, &field)?, &field).map_err(to_js)?);
    }
    poseidon::hash(&elements)
        .map(|h| fr_to_decimal(&h))
        .map_err(to_js)
}

/// A JS string or number as the JSON value the spec parser expects, so that floats, negatives
/// and unsafe integers get the same errors as in a claim file.
pub(crate) fn to_json_number(value: &JsValue, field: &str) -> JsResult<Value> {
    if let Some(s) = value.as_string() {
        return Ok(Value::String(s));
    }
    let Some(n) = value.as_f64() else {
        return Err(bad_argument(field, "must be a string or a number"));
    };
    Ok(if !n.is_finite() {
        return Err(bad_argument(field, "is not a finite number"));
    } else if n.fract() != 0.0 {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    } else if n < 0.0 {
        Value::from(n as i64)
    } else {
        // Saturates above u64::MAX, which the parser rejects as above 2^53 - 1 all the same.
        Value::from(n as u64)
    })
}
