//! A Svelte-store-compatible readable: `subscribe(fn)` calls `fn(value)` at once and on every
//! change, and returns the `unsubscribe` function. Usable from any framework.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use super::deferred::Deferred;

#[derive(Debug, Default)]
struct State {
    value: JsValue,
    subscribers: Vec<(u32, js_sys::Function)>,
    next: u32,
}

/// A value that can be watched.
#[wasm_bindgen]
#[derive(Debug, Clone, Default)]
pub struct Readable {
    state: Rc<RefCell<State>>,
}

#[wasm_bindgen]
impl Readable {
    /// Calls `run(value)` now and on every change; returns the function that stops it.
    pub fn subscribe(&self, run: js_sys::Function) -> js_sys::Function {
        let (id, value) = {
            let mut s = self.state.borrow_mut();
            let id = s.next;
            s.next += 1;
            s.subscribers.push((id, run.clone()));
            (id, s.value.clone())
        };
        // A subscriber that throws is its own bug: it must not break the runtime.
        let _ = run.call1(&JsValue::NULL, &value);
        let weak = Rc::downgrade(&self.state);
        Closure::once_into_js(move || {
            if let Some(state) = weak.upgrade() {
                state.borrow_mut().subscribers.retain(|(i, _)| *i != id);
            }
        })
        .unchecked_into()
    }

    /// The current value.
    #[wasm_bindgen(getter)]
    pub fn value(&self) -> JsValue {
        self.state.borrow().value.clone()
    }
}

impl Readable {
    /// Sets the value; the subscriber calls go into `later`, to run once no borrow is held.
    pub fn set(&self, value: JsValue, later: &mut Deferred) {
        let mut s = self.state.borrow_mut();
        s.value = value.clone();
        for (_, f) in &s.subscribers {
            later.call(f.clone(), vec![value.clone()]);
        }
    }
}
