//! Crate errors as real JS `Error` objects, in the one shape every airprover error has
//! ([`error_object`]): `e.message` is the Display text (it starts with the code), `e.name` is
//! `AirproverError`, `e.code` is [`Error::code`] (stable, for programs), and `category`,
//! `severity`, `retryable` and `fallback` come from the table in `runtime/code.rs`; `attempts` is
//! empty (no job ran).

use wasm_bindgen::prelude::*;

use crate::runtime::code::ErrorCode;
use crate::web::runtime::errors::error_object;
use crate::Error;

/// The JS `name` of every error thrown by the bindings.
pub const ERROR_NAME: &str = "AirproverError";

/// `Result` of a JS-facing function: the error is the JS value thrown.
pub type JsResult<T> = std::result::Result<T, JsValue>;

/// Turns a crate error into a JS `Error` of the one shape.
pub fn to_js(e: Error) -> JsValue {
    error_object(ErrorCode::of(&e), &e.to_string(), &[])
}

/// A JS argument of the wrong type or shape, as the same kind of error as the crate's.
pub fn bad_argument(argument: &str, reason: impl Into<String>) -> JsValue {
    to_js(Error::input(argument, reason))
}
