//! Calls into page code, deferred until the runtime holds no borrow. (The engine's answers are
//! [`Effect`](crate::runtime::engine::Effect)s, the scheduler's [`Command`](crate::runtime::Command)s;
//! these are neither: they are how the edge carries some effects out.)
//!
//! Resolving a promise, a progress callback or a store subscriber may call straight back into the
//! runtime (submit another job from `onProgress`, say). Running them while the runtime's state is
//! borrowed would panic, so every entry point collects them here and runs them on its way out.

use wasm_bindgen::JsValue;

/// Pending calls.
#[derive(Debug, Default)]
pub struct Deferred {
    calls: Vec<(js_sys::Function, Vec<JsValue>)>,
}

impl Deferred {
    /// Queues `f(args...)`.
    pub fn call(&mut self, f: js_sys::Function, args: Vec<JsValue>) {
        self.calls.push((f, args));
    }

    /// Runs the queued calls in order. A callback that throws is reported and skipped.
    pub fn run(self) {
        for (f, args) in self.calls {
            let array: js_sys::Array = args.into_iter().collect();
            if let Err(e) = f.apply(&JsValue::NULL, &array) {
                web_sys::console::error_2(&"airprover: a callback threw".into(), &e);
            }
        }
    }
}
