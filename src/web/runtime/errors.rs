//! Job errors as JS `Error` objects: `name` AirproverError, a stable `code`, `category`,
//! `severity`, `retryable`, `fallback`, and `attempts` (the history of failed attempts).

use wasm_bindgen::prelude::*;

use crate::runtime::code::{Category, ErrorCode, Severity};
use crate::runtime::scheduler::Attempt;
use crate::web::error::ERROR_NAME;
use crate::web::js::set;

/// A JS Error for `code` with `message` and the attempt history.
pub fn job_error(code: ErrorCode, message: &str, attempts: &[Attempt]) -> JsValue {
    error_object(code, &format!("{code}: {message}"), attempts)
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
