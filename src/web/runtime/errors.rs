//! Job errors as JS `Error` objects: `name` AirproverError, a stable `code`, `category`,
//! `severity`, `retryable`, `fallback`, and `attempts` (the history of failed attempts).

use js_sys::Reflect;
use wasm_bindgen::prelude::*;

use crate::runtime::code::{Category, ErrorCode, Severity};
use crate::runtime::scheduler::Attempt;
use crate::web::error::ERROR_NAME;

/// A JS Error for `code` with `message` and the attempt history.
pub fn job_error(code: ErrorCode, message: &str, attempts: &[Attempt]) -> JsValue {
    let err = js_sys::Error::new(&format!("{code}: {message}"));
    err.set_name(ERROR_NAME);
    let set = |k: &str, v: JsValue| {
        let _ = Reflect::set(&err, &k.into(), &v);
    };
    set("code", code.as_str().into());
    set("category", category(code.category()).into());
    set("severity", severity(code.severity()).into());
    set("retryable", code.retryable().into());
    set("fallback", code.fallback().into());
    set(
        "attempts",
        serde_wasm_bindgen::to_value(attempts).unwrap_or(JsValue::NULL),
    );
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
