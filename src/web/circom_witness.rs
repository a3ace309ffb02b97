//! circom's witness wasm on the browser's own WebAssembly, in the proving worker: the engine of
//! [`crate::circom::witness`] over a `WebAssembly.Instance` that `src/js/circom-witness.js`
//! creates (instantiation and the imports only; every decision is the Rust driver's).
//!
//! The exports are called through typed wasm-bindgen methods on the instance's `exports` object
//! (numbers cross as numbers: a witness of 2^16 values is about 600,000 calls). The imports call
//! back into one Rust closure, which reads circom's messages through `getMessageChar` and tells
//! the JS side to throw on `exceptionHandler`.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Uint8Array, WebAssembly};
use wasm_bindgen::prelude::*;

use super::error::{bad_argument, to_js, JsResult};
use crate::circom::input::CircomInput;
use crate::circom::witness::{
    calculate_with, Export, Import, Recorder, Stopped, WitnessEngine, WASM,
};
use crate::circom::wtns;
use crate::Error;

#[wasm_bindgen(module = "/src/js/circom-witness.js")]
extern "C" {
    #[wasm_bindgen(js_name = instantiateCircomWitness, catch)]
    fn js_instantiate(
        module: &WebAssembly::Module,
        on_import: &js_sys::Function,
    ) -> Result<CircomExports, JsValue>;
    #[wasm_bindgen(js_name = circomInputJson, catch)]
    fn js_input_json(value: &JsValue) -> Result<Option<String>, JsValue>;
}

#[wasm_bindgen]
extern "C" {
    /// The `exports` of an instance of circom's witness wasm.
    type CircomExports;
    #[wasm_bindgen(method, catch, js_name = getVersion)]
    fn get_version(this: &CircomExports) -> Result<i32, JsValue>;
    #[wasm_bindgen(method, catch, js_name = getFieldNumLen32)]
    fn get_field_num_len32(this: &CircomExports) -> Result<i32, JsValue>;
    #[wasm_bindgen(method, catch, js_name = getRawPrime)]
    fn get_raw_prime(this: &CircomExports) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = readSharedRWMemory)]
    fn read_shared_rw_memory(this: &CircomExports, j: i32) -> Result<i32, JsValue>;
    #[wasm_bindgen(method, catch, js_name = writeSharedRWMemory)]
    fn write_shared_rw_memory(this: &CircomExports, j: i32, word: i32) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = getInputSignalSize)]
    fn get_input_signal_size(this: &CircomExports, msb: i32, lsb: i32) -> Result<i32, JsValue>;
    #[wasm_bindgen(method, catch, js_name = setInputSignal)]
    fn set_input_signal(this: &CircomExports, msb: i32, lsb: i32, pos: i32) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = getInputSize)]
    fn get_input_size(this: &CircomExports) -> Result<i32, JsValue>;
    #[wasm_bindgen(method, catch, js_name = getWitnessSize)]
    fn get_witness_size(this: &CircomExports) -> Result<i32, JsValue>;
    #[wasm_bindgen(method, catch, js_name = getWitness)]
    fn get_witness(this: &CircomExports, i: i32) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    fn init(this: &CircomExports, sanity_check: i32) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = getMessageChar)]
    fn get_message_char(this: &CircomExports) -> Result<i32, JsValue>;
}

#[wasm_bindgen(typescript_custom_section)]
const TS_CIRCOM_WITNESS: &str = r#"
/** A circom input as snarkjs takes it: signal name to a number, a decimal or 0x-hex string, a bigint, or nested arrays of them. */
export type CircomInput = Record<string, unknown>;
"#;

/// `circomWitness(module, input)`: the witness of circom's witness wasm `module` (compiled, e.g.
/// with `WebAssembly.compile(bytes)`) for `input` (JSON text or an object, as snarkjs takes it),
/// as the bytes of a `.wtns` file (what `snarkjs wtns calculate` writes). A failing circom
/// `assert` throws `WITNESS_FAILED` with circom's message; a signal the circuit does not have, a
/// wrongly sized one or a missing one `INVALID_INPUT` naming it; never a value of the input.
/// Blocks while the circuit runs: call it in a Worker.
#[wasm_bindgen(js_name = circomWitness)]
pub fn circom_witness(
    module: &WebAssembly::Module,
    #[wasm_bindgen(unchecked_param_type = "string | CircomInput")] input: JsValue,
) -> JsResult<Uint8Array> {
    let text = if let Some(text) = input.as_string() {
        text
    } else if input.is_object() {
        js_input_json(&input)
            .ok()
            .flatten()
            .ok_or_else(|| bad_argument("input", "is not a JSON-serialisable object"))?
    } else {
        return Err(bad_argument("input", "must be JSON text or an object"));
    };
    let input = CircomInput::parse(&text).map_err(to_js)?;
    let witness = witness(module, &input).map_err(to_js)?;
    Ok(Uint8Array::from(&wtns::write(&witness)[..]))
}

/// The witness of `input` on a fresh instance of `module`.
pub fn witness(
    module: &WebAssembly::Module,
    input: &CircomInput,
) -> crate::Result<Vec<crate::field::Fr>> {
    let mut engine = BrowserEngine::new(module)?;
    calculate_with(&mut engine, input)
}

/// An instance of the module and what its imports recorded.
struct BrowserEngine {
    exports: Rc<CircomExports>,
    recorder: Rc<RefCell<Recorder>>,
    // Kept alive for as long as the instance may call its imports.
    _on_import: Closure<dyn FnMut(u32, i32) -> bool>,
}

impl BrowserEngine {
    fn new(module: &WebAssembly::Module) -> crate::Result<Self> {
        check_module(module)?;
        let recorder = Rc::new(RefCell::new(Recorder::default()));
        let slot: Rc<RefCell<Option<Rc<CircomExports>>>> = Rc::new(RefCell::new(None));
        let on_import = {
            let recorder = recorder.clone();
            let slot = slot.clone();
            Closure::<dyn FnMut(u32, i32) -> bool>::new(move |index: u32, arg: i32| {
                let Some(import) = Import::ALL.get(index as usize).copied() else {
                    return true;
                };
                let exports = slot.borrow().clone();
                // The recorder is taken out while getMessageChar runs: nothing else borrows it
                // then, and a nested import (which circom never makes) would find it empty.
                let mut record = std::mem::take(&mut *recorder.borrow_mut());
                let result =
                    record.on_import(import, arg, || exports.as_ref()?.get_message_char().ok());
                *recorder.borrow_mut() = record;
                result == Err(Stopped)
            })
        };
        let exports = js_instantiate(module, on_import.as_ref().unchecked_ref()).map_err(|_| {
            Error::input(
                WASM,
                "is not a circom 2 witness wasm: it does not instantiate with circom's imports",
            )
        })?;
        let exports = Rc::new(exports);
        *slot.borrow_mut() = Some(exports.clone());
        Ok(BrowserEngine {
            exports,
            recorder,
            _on_import: on_import,
        })
    }
}

/// Refuses a module without every export the ABI needs, or with imports circom's has not, before
/// instantiating it (a function's type is checked by the call: JS converts what it returns).
fn check_module(module: &WebAssembly::Module) -> crate::Result<()> {
    let names = |list: js_sys::Array| -> Vec<(String, String)> {
        list.iter()
            .map(|d| {
                let get = |key: &str| {
                    js_sys::Reflect::get(&d, &key.into())
                        .ok()
                        .and_then(|v| v.as_string())
                        .unwrap_or_default()
                };
                (get("module"), get("name"))
            })
            .collect()
    };
    let exports = names(WebAssembly::Module::exports(module));
    for export in Export::ALL {
        if !exports.iter().any(|(_, name)| name == export.name()) {
            return Err(Error::input(
                WASM,
                format!(
                    "is not a circom 2 witness wasm: it has no export {}",
                    export.name()
                ),
            ));
        }
    }
    for (module, name) in names(WebAssembly::Module::imports(module)) {
        if module != "runtime" || !Import::ALL.iter().any(|i| i.name() == name) {
            return Err(Error::input(
                WASM,
                format!(
                    "is not a circom 2 witness wasm: it imports {module}.{name}, which circom's \
                     witness wasm does not"
                ),
            ));
        }
    }
    Ok(())
}

impl WitnessEngine for BrowserEngine {
    fn call(&mut self, export: Export, args: [i32; 3]) -> Result<i32, Stopped> {
        let e = &*self.exports;
        let [a, b, c] = args;
        let unit = |r: Result<(), JsValue>| r.map(|()| 0);
        let result = match export {
            Export::GetVersion => e.get_version(),
            Export::GetFieldNumLen32 => e.get_field_num_len32(),
            Export::GetRawPrime => unit(e.get_raw_prime()),
            Export::ReadSharedRwMemory => e.read_shared_rw_memory(a),
            Export::WriteSharedRwMemory => unit(e.write_shared_rw_memory(a, b)),
            Export::GetInputSignalSize => e.get_input_signal_size(a, b),
            Export::SetInputSignal => unit(e.set_input_signal(a, b, c)),
            Export::GetInputSize => e.get_input_size(),
            Export::GetWitnessSize => e.get_witness_size(),
            Export::GetWitness => unit(e.get_witness(a)),
            Export::Init => unit(e.init(a)),
            Export::GetMessageChar => e.get_message_char(),
        };
        result.map_err(|_| Stopped)
    }

    fn take_record(&mut self) -> Recorder {
        std::mem::take(&mut *self.recorder.borrow_mut())
    }
}
