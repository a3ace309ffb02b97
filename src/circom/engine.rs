//! The native engine of circom's witness wasm (CLI, service workers): wasmi 2, an interpreter.
//!
//! Why wasmi and not wasmtime, measured on this project's 2-core machine (shared with other
//! builds, load 5 to 15: CPU seconds are the steadier figure) with each engine the only
//! dependency of a scratch crate, `cargo build --profile testing` from cold, and the same ABI
//! calls on the bench's circom claim circuit (`threshold-d20-k8`'s statement: 41,986
//! constraints, 42,129 witness values, a 2.6 MB wasm), one process per witness:
//!
//! | | cold build | witness, one process | of which compiling the wasm | witness, module reused |
//! |---|---|---|---|---|
//! | wasmi 2.0 | 44 s CPU (165 s wall), 8 crates | 0.34 s CPU (0.84 s wall) | 21-37 ms | 0.65-0.85 s wall |
//! | wasmtime 50 (cranelift) | 453 s CPU (31 min wall), 73 crates | 1.0 s CPU (2.5 s wall) | 2.4-2.6 s wall | 0.10-0.17 s wall |
//!
//! wasmtime runs the circuit about 5 times faster once compiled, but compiling circom's 2.6 MB
//! module costs it seconds in every CLI run (a compiled module can be cached only through
//! `Module::deserialize`, which is `unsafe`, and this crate forbids unsafe code), so the CLI is
//! faster on wasmi; a service worker's witness (under a second) stays small beside the proof of
//! the same circuit. And wasmtime's build is 10 times the compile work, at least 3.5 minutes of
//! both CI cores on every cold run, for its 73 crates (cranelift among them). The two engines gave
//! the same 42,129 values; wasmi's equal snarkjs's (tests/circom_witness.rs).
//!
//! [`WitnessCalculator`] compiles a module once and runs each input on a fresh instance (a run
//! that stopped leaves circom's memory in no known state); [`calculate`] is the one-shot form.

use wasmi::{Caller, Config, Engine, Extern, Func, Instance, Linker, Module, Store, TypedFunc};

use super::input::CircomInput;
use super::witness::{calculate_with, Export, Import, Recorder, Stopped, WitnessEngine, WASM};
use crate::error::{Error, Result};
use crate::field::Fr;

/// Computes the witness of `input_json` (snarkjs's `input.json`) with the witness wasm `wasm`.
pub fn calculate(wasm: &[u8], input_json: &str) -> Result<Vec<Fr>> {
    let input = CircomInput::parse(input_json)?;
    WitnessCalculator::new(wasm)?.calculate(&input)
}

/// A circom witness wasm, compiled and checked: every export and import the ABI needs, with its
/// type.
pub struct WitnessCalculator {
    engine: Engine,
    module: Module,
    linker: Linker<Recorder>,
}

impl std::fmt::Debug for WitnessCalculator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WitnessCalculator")
    }
}

impl WitnessCalculator {
    /// Compiles `wasm`; refuses what is not a circom 2 witness wasm (`INVALID_INPUT` on
    /// `witness wasm`, saying what is wrong).
    pub fn new(wasm: &[u8]) -> Result<Self> {
        if !wasm.starts_with(b"\0asm") {
            return Err(Error::input(WASM, "is not a WebAssembly module"));
        }
        let engine = Engine::new(&Config::default());
        let module = Module::new(&engine, wasm).map_err(|_| {
            Error::input(
                WASM,
                "is not a valid WebAssembly module (it does not validate)",
            )
        })?;
        for import in module.imports() {
            let known = (import.module() == "runtime")
                .then(|| Import::ALL.into_iter().find(|i| i.name() == import.name()))
                .flatten();
            if known.is_none() {
                return Err(not_circom(format!(
                    "it imports {}.{}, which circom's witness wasm does not",
                    import.module(),
                    import.name()
                )));
            }
        }
        let mut linker = Linker::<Recorder>::new(&engine);
        for import in Import::ALL {
            define(&mut linker, import);
        }
        let calculator = WitnessCalculator {
            engine,
            module,
            linker,
        };
        // Instantiating checks the exports' types once, here, rather than on every input.
        calculator.instantiate()?;
        Ok(calculator)
    }

    /// The witness of `input`: `[1, outputs.., public inputs.., private..]`.
    pub fn calculate(&self, input: &CircomInput) -> Result<Vec<Fr>> {
        let mut instance = self.instantiate()?;
        calculate_with(&mut instance, input)
    }

    fn instantiate(&self) -> Result<WasmiInstance> {
        let mut store = Store::new(&self.engine, Recorder::default());
        let instance = self
            .linker
            .instantiate_and_start(&mut store, &self.module)
            .map_err(|_| not_circom("it does not instantiate with circom's imports".into()))?;
        let exports = Export::ALL
            .into_iter()
            .map(|export| typed(&store, &instance, export))
            .collect::<Result<Vec<_>>>()?;
        Ok(WasmiInstance { store, exports })
    }
}

fn not_circom(why: String) -> Error {
    Error::input(WASM, format!("is not a circom 2 witness wasm: {why}"))
}

/// An export, typed as the ABI says.
enum Typed {
    Get(TypedFunc<(), i32>),
    Do(TypedFunc<(), ()>),
    Read(TypedFunc<i32, i32>),
    Set(TypedFunc<i32, ()>),
    Ask(TypedFunc<(i32, i32), i32>),
    Write(TypedFunc<(i32, i32), ()>),
    Put(TypedFunc<(i32, i32, i32), ()>),
}

fn typed(store: &Store<Recorder>, instance: &Instance, export: Export) -> Result<Typed> {
    let func = instance
        .get_func(store, export.name())
        .ok_or_else(|| not_circom(format!("it has no export {}", export.name())))?;
    let wrong = |_| not_circom(format!("its export {} has another type", export.name()));
    Ok(match export.signature() {
        (0, true) => Typed::Get(func.typed(store).map_err(wrong)?),
        (0, false) => Typed::Do(func.typed(store).map_err(wrong)?),
        (1, true) => Typed::Read(func.typed(store).map_err(wrong)?),
        (1, false) => Typed::Set(func.typed(store).map_err(wrong)?),
        (2, true) => Typed::Ask(func.typed(store).map_err(wrong)?),
        (2, false) => Typed::Write(func.typed(store).map_err(wrong)?),
        _ => Typed::Put(func.typed(store).map_err(wrong)?),
    })
}

/// Defines `runtime.<import>`: it reports to the store's [`Recorder`], reading messages through
/// the calling instance's `getMessageChar`; `exceptionHandler` then traps to stop the wasm.
fn define(linker: &mut Linker<Recorder>, import: Import) {
    let defined = if import.params() == 1 {
        linker.func_wrap(
            "runtime",
            import.name(),
            move |caller: Caller<'_, Recorder>, arg: i32| on_import(caller, import, arg),
        )
    } else {
        linker.func_wrap(
            "runtime",
            import.name(),
            move |caller: Caller<'_, Recorder>| on_import(caller, import, 0),
        )
    };
    defined.expect("each import is defined once");
}

fn on_import(
    mut caller: Caller<'_, Recorder>,
    import: Import,
    arg: i32,
) -> std::result::Result<(), wasmi::Error> {
    let next = caller
        .get_export(Export::GetMessageChar.name())
        .and_then(Extern::into_func);
    let mut recorder = std::mem::take(caller.data_mut());
    let result = recorder.on_import(import, arg, || next_char(&mut caller, next));
    *caller.data_mut() = recorder;
    result.map_err(|Stopped| wasmi::Error::new("circom exception"))
}

fn next_char(caller: &mut Caller<'_, Recorder>, func: Option<Func>) -> Option<i32> {
    func?.typed::<(), i32>(&*caller).ok()?.call(caller, ()).ok()
}

/// A fresh instance of the module, with its exports typed.
struct WasmiInstance {
    store: Store<Recorder>,
    exports: Vec<Typed>,
}

impl WitnessEngine for WasmiInstance {
    fn call(&mut self, export: Export, args: [i32; 3]) -> std::result::Result<i32, Stopped> {
        // Export::ALL lists the exports in their declaration order.
        let index = export as usize;
        let [a, b, c] = args;
        let store = &mut self.store;
        let result = match &self.exports[index] {
            Typed::Get(f) => f.call(store, ()),
            Typed::Do(f) => f.call(store, ()).map(|()| 0),
            Typed::Read(f) => f.call(store, a),
            Typed::Set(f) => f.call(store, a).map(|()| 0),
            Typed::Ask(f) => f.call(store, (a, b)),
            Typed::Write(f) => f.call(store, (a, b)).map(|()| 0),
            Typed::Put(f) => f.call(store, (a, b, c)).map(|()| 0),
        };
        result.map_err(|_| Stopped)
    }

    fn take_record(&mut self) -> Recorder {
        std::mem::take(self.store.data_mut())
    }
}
