//! Plain JS objects, built in one place.

use js_sys::Reflect;
use wasm_bindgen::JsValue;

/// A plain JS object from key/value pairs.
pub fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        set(&o, k, v);
    }
    o.into()
}

/// Sets a data property. On a fresh plain object or Error this cannot fail.
pub fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}
