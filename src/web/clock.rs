//! Milliseconds from `performance.now()`, in a window and in a worker alike.
//!
//! `std::time::Instant::now()` panics on `wasm32-unknown-unknown`; this is the clock to use.

use wasm_bindgen::JsCast;

/// Milliseconds since the time origin of this window or worker, with sub-millisecond precision
/// (coarsened by the browser unless the page is cross-origin isolated). `0.0` if the global has
/// no `performance` (no browser we support).
pub fn now_ms() -> f64 {
    let global = js_sys::global();
    js_sys::Reflect::get(&global, &"performance".into())
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .map_or(0.0, |p| p.now())
}

/// Milliseconds elapsed since `start` (a value of [`now_ms`]).
pub fn elapsed_ms(start: f64) -> f64 {
    now_ms() - start
}
