//! Crate errors as real JS `Error` objects.
//!
//! `e.message` is the Display text (it starts with the code), `e.name` is `AirproverError`,
//! `e.code` is [`Error::code`] (stable, for programs), and `e.retryable` is false for errors in
//! the input, where trying the same input again cannot help. Across `postMessage` an `Error` loses
//! its extra fields, so workers send `{ name, code, message, retryable }` (see `src/js/`).

use js_sys::Reflect;
use wasm_bindgen::prelude::*;

use crate::Error;

/// The JS `name` of every error thrown by the bindings.
pub const ERROR_NAME: &str = "AirproverError";

/// `Result` of a JS-facing function: the error is the JS value thrown.
pub type JsResult<T> = std::result::Result<T, JsValue>;

/// Turns a crate error into a JS `Error` with `code` and `retryable`.
pub fn to_js(e: Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name(ERROR_NAME);
    set(&err, "code", &JsValue::from_str(e.code()));
    set(&err, "retryable", &JsValue::from_bool(!e.is_input_error()));
    err.into()
}

/// A JS argument of the wrong type or shape, as the same kind of error as the crate's.
pub fn bad_argument(argument: &str, reason: impl Into<String>) -> JsValue {
    to_js(Error::input(argument, reason))
}

fn set(err: &js_sys::Error, key: &str, value: &JsValue) {
    // Setting a plain data property on a fresh Error object cannot fail.
    let _ = Reflect::set(err, &JsValue::from_str(key), value);
}
