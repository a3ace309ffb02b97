//! Plain JS objects, built in one place.

use js_sys::Reflect;
use serde::Serialize;
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

/// A property of a JS value; `undefined` where it has none (or is not an object).
pub fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A serde value as a plain JS object (maps as objects, not `Map`s; numbers as numbers). Only for
/// values that serialise (ours do): a failure gives `null`.
pub fn to_js_value<T: Serialize + ?Sized>(value: &T) -> JsValue {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    value.serialize(&serializer).unwrap_or(JsValue::NULL)
}
