//! Errors as real JS `Error` objects, in the one shape every airprover error has
//! ([`error_object`]): `e.message` is the Display text (it starts with the code), `e.name` is
//! `AirproverError`, `e.code` is stable (for programs), and `category`, `severity`, `retryable`
//! and `fallback` come from the table in `runtime/code.rs`; `attempts` is the history of a job's
//! failed attempts (empty for a crate error: no job ran).

use wasm_bindgen::prelude::*;

use crate::runtime::answers;
use crate::runtime::code::{Category, ErrorCode, Severity};
use crate::runtime::scheduler::Attempt;
use crate::web::js::set;
use crate::Error;

/// The JS `name` of every error thrown by the bindings.
pub const ERROR_NAME: &str = "AirproverError";

/// `Result` of a JS-facing function: the error is the JS value thrown.
pub type JsResult<T> = std::result::Result<T, JsValue>;

/// Turns a crate error into a JS `Error` of the one shape.
pub fn to_js(e: Error) -> JsValue {
    error_object(e.code(), &e.to_string(), &[])
}

/// A JS argument of the wrong type or shape, as the same kind of error as the crate's.
pub fn bad_argument(argument: &str, reason: impl Into<String>) -> JsValue {
    to_js(Error::input(argument, reason))
}

/// A JS Error for `code` with `message` and the attempt history.
pub fn job_error(code: ErrorCode, message: &str, attempts: &[Attempt]) -> JsValue {
    error_object(code, &format!("{code}: {message}"), attempts)
}

/// `downloadError(message, status)`: the error of a download that gave no file, `status` the HTTP
/// status the server answered, null where `fetch` itself failed; its code is the runtime's
/// ([`answers::download_failed`]: 404 KEY_NOT_FOUND, anything else NETWORK). snarkjs.js throws it
/// for a file it was given by URL.
#[wasm_bindgen(js_name = downloadError, unchecked_return_type = "Error")]
pub fn download_error(message: &str, status: Option<u16>) -> JsValue {
    job_error(answers::download_failed(status), message, &[])
}

/// `airproverError(code, message)`: an `AirproverError` of `code` (an unknown code is INTERNAL,
/// never another's) with every field from the runtime's table and no failed attempts; remote.js
/// throws it for a bad `remote` option.
#[wasm_bindgen(js_name = airproverError, unchecked_return_type = "Error")]
pub fn airprover_error(code: &str, message: &str) -> JsValue {
    match code.parse::<ErrorCode>() {
        Ok(c) => job_error(c, message, &[]),
        Err(()) => job_error(ErrorCode::Internal, &format!("{code}: {message}"), &[]),
    }
}

/// The one error shape: a JS Error whose `message` is `text`, with every field of `code` from the
/// table in `runtime/code.rs`, and `attempts`.
pub fn error_object(code: ErrorCode, text: &str, attempts: &[Attempt]) -> JsValue {
    let err = js_sys::Error::new(text);
    err.set_name(ERROR_NAME);
    let attempts = serde_wasm_bindgen::to_value(attempts).unwrap_or(JsValue::NULL);
    for (key, value) in [
        ("code", code.as_str().into()),
        ("category", category(code.category()).into()),
        ("severity", severity(code.severity()).into()),
        ("retryable", code.retryable().into()),
        ("fallback", code.fallback().into()),
        ("attempts", attempts),
    ] {
        set(&err, key, &value);
    }
    err.into()
}

fn category(c: Category) -> &'static str {
    match c {
        Category::Input => "input",
        Category::Key => "key",
        Category::Prover => "prover",
        Category::Resource => "resource",
        Category::Runtime => "runtime",
        Category::Cancelled => "cancelled",
    }
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Error => "error",
        Severity::Critical => "critical",
    }
}
