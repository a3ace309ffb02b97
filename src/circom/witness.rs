//! circom's witness wasm (`circuit_js/circuit.wasm` from `circom --wasm`), driven through the ABI
//! that circom 2.0–2.2 compile into it; implemented from that ABI (what the module exports and
//! imports), nothing of circom_runtime's code is used.
//!
//! The module exports, all over `i32`s: `getVersion` (2), `getFieldNumLen32` (32-bit words per
//! field element: 8 for BN254), `getRawPrime` (writes the prime to the shared memory),
//! `readSharedRWMemory(j)` / `writeSharedRWMemory(j, word)` (word `j` of the shared field element,
//! least significant first), `getInputSignalSize(hash msb, hash lsb)` (an input signal's number
//! of values; 0 in circom 2.2, negative in older releases, when there is none), `setInputSignal(msb, lsb, pos)` (sets value `pos` of
//! it from the shared memory; setting the last input runs the circuit), `getInputSize`,
//! `getWitnessSize`, `getWitness(i)` (copies witness value `i`, canonical, to the shared memory),
//! `init(sanity check)` and `getMessageChar` (the next character of a message, 0 at its end).
//! It imports, from module `runtime`: `exceptionHandler(code)` (the wasm stops: 1 signal not
//! found, 2 too many signals set, 3 signal set twice, 4 a failing `assert` or `===`, 5 out of
//! memory, 6 an input value past the signal's size, 7 an array index out of bounds),
//! `printErrorMessage` (an error message is ready: template and line), `writeBufferMessage`
//! (a piece of `log()` output is ready) and `showSharedRWMemory` (`log()` of a value). circom
//! 2.2.3's modules (the `circom2` npm package 0.2.23) import exactly these four and export their
//! memory. An input signal is named by the 64-bit FNV-1a hash of its name.
//!
//! [`calculate_with`] is the whole ABI, written once over [`WitnessEngine`]: natively the engine
//! is [`wasmi`](super::engine) (see there why), in the browser the page's own WebAssembly
//! (`web/circom_witness.rs`). An engine only instantiates the module with imports that report to
//! a [`Recorder`], and calls exports.
//!
//! Errors, all typed, none a trap's text or a value of the input:
//! - a signal the circuit does not have, a value count that is not the signal's size, values
//!   missing: `INVALID_INPUT` naming the signal (a missing signal can only be counted: the wasm
//!   knows signals by hash, their names are in circom's `.sym` file);
//! - a failing `assert` or constraint, an index out of bounds: `WITNESS_FAILED` with circom's own
//!   message, a line per component on the stack (`Assert Failed. Error in template Bounded_0
//!   line: 7; Error in template Main_1 line: 17`);
//! - a module that is not a circom 2 witness wasm: `INVALID_INPUT` on `witness wasm`, saying what
//!   it lacks;
//! - a circom 2 module compiled for another prime (`circom --prime bls12381`): `ZKEY_UNSUPPORTED`,
//!   the code of a zkey on another curve: the circuit, not the input, is what airprover cannot
//!   prove, and the remedy (compile for bn128) is the deployment's, so it is not an input error.

use ark_ff::{BigInteger, PrimeField};

use super::input::CircomInput;
use crate::error::{Error, Result};
use crate::field::{fr_from_le_bytes, Fr};

/// The field element's size in 32-bit words: BN254's scalar field.
const N32: usize = 8;
/// The longest message read from the wasm, in characters (circom's are one line).
pub const MAX_MESSAGE_CHARS: usize = 1024;
/// The most error messages kept from one run.
const MAX_MESSAGES: usize = 16;
/// The field name of errors about the module itself.
pub const WASM: &str = "witness wasm";

/// An export of the witness wasm that the driver calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Export {
    /// `getVersion() -> i32`: circom's major version.
    GetVersion,
    /// `getFieldNumLen32() -> i32`.
    GetFieldNumLen32,
    /// `getRawPrime()`.
    GetRawPrime,
    /// `readSharedRWMemory(j) -> i32`.
    ReadSharedRwMemory,
    /// `writeSharedRWMemory(j, word)`.
    WriteSharedRwMemory,
    /// `getInputSignalSize(msb, lsb) -> i32`.
    GetInputSignalSize,
    /// `setInputSignal(msb, lsb, pos)`.
    SetInputSignal,
    /// `getInputSize() -> i32`.
    GetInputSize,
    /// `getWitnessSize() -> i32`.
    GetWitnessSize,
    /// `getWitness(i)`.
    GetWitness,
    /// `init(sanityCheck)`.
    Init,
    /// `getMessageChar() -> i32`.
    GetMessageChar,
}

impl Export {
    /// Every export the driver needs.
    pub const ALL: [Export; 12] = [
        Export::GetVersion,
        Export::GetFieldNumLen32,
        Export::GetRawPrime,
        Export::ReadSharedRwMemory,
        Export::WriteSharedRwMemory,
        Export::GetInputSignalSize,
        Export::SetInputSignal,
        Export::GetInputSize,
        Export::GetWitnessSize,
        Export::GetWitness,
        Export::Init,
        Export::GetMessageChar,
    ];

    /// Its name in the module.
    pub fn name(self) -> &'static str {
        match self {
            Export::GetVersion => "getVersion",
            Export::GetFieldNumLen32 => "getFieldNumLen32",
            Export::GetRawPrime => "getRawPrime",
            Export::ReadSharedRwMemory => "readSharedRWMemory",
            Export::WriteSharedRwMemory => "writeSharedRWMemory",
            Export::GetInputSignalSize => "getInputSignalSize",
            Export::SetInputSignal => "setInputSignal",
            Export::GetInputSize => "getInputSize",
            Export::GetWitnessSize => "getWitnessSize",
            Export::GetWitness => "getWitness",
            Export::Init => "init",
            Export::GetMessageChar => "getMessageChar",
        }
    }

    /// Its type: the number of `i32` parameters, and whether it returns an `i32`.
    pub fn signature(self) -> (usize, bool) {
        match self {
            Export::GetVersion
            | Export::GetFieldNumLen32
            | Export::GetInputSize
            | Export::GetWitnessSize
            | Export::GetMessageChar => (0, true),
            Export::GetRawPrime => (0, false),
            Export::ReadSharedRwMemory => (1, true),
            Export::GetWitness | Export::Init => (1, false),
            Export::WriteSharedRwMemory => (2, false),
            Export::GetInputSignalSize => (2, true),
            Export::SetInputSignal => (3, false),
        }
    }
}

/// An import of module `runtime` that circom's wasm calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Import {
    /// `exceptionHandler(code)`: the wasm stops with circom's error `code`.
    ExceptionHandler,
    /// `printErrorMessage()`: an error message is ready to be read with `getMessageChar`.
    PrintErrorMessage,
    /// `writeBufferMessage()`: a piece of `log()` output is ready.
    WriteBufferMessage,
    /// `showSharedRWMemory()`: `log()` of the value in the shared memory.
    ShowSharedRwMemory,
}

impl Import {
    /// Every import circom 2.0–2.2 modules have.
    pub const ALL: [Import; 4] = [
        Import::ExceptionHandler,
        Import::PrintErrorMessage,
        Import::WriteBufferMessage,
        Import::ShowSharedRwMemory,
    ];

    /// Its name in module `runtime`.
    pub fn name(self) -> &'static str {
        match self {
            Import::ExceptionHandler => "exceptionHandler",
            Import::PrintErrorMessage => "printErrorMessage",
            Import::WriteBufferMessage => "writeBufferMessage",
            Import::ShowSharedRwMemory => "showSharedRWMemory",
        }
    }

    /// The number of `i32` parameters (none returns anything).
    pub fn params(self) -> usize {
        match self {
            Import::ExceptionHandler => 1,
            _ => 0,
        }
    }
}

/// The wasm stopped inside a call: `exceptionHandler` or a trap. What it said is in the
/// [`Recorder`]; the engine's own text is not kept (it means nothing to a user).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

/// What the imports saw during a run: circom's exception code and error messages. `log()` output
/// is read (the message buffer must be drained) and dropped: it may print private signals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorder {
    /// The code `exceptionHandler` was called with, if it was.
    pub exception: Option<i32>,
    /// The messages of `printErrorMessage`, in order (at most 16).
    pub errors: Vec<String>,
}

impl Recorder {
    /// Handles an import call: `arg` is `exceptionHandler`'s code (0 for the others), and
    /// `next_char` calls the module's `getMessageChar`. Returns `Err(Stopped)` where the import
    /// must stop the wasm (`exceptionHandler`): the engine makes that a trap (or a JS throw).
    pub fn on_import(
        &mut self,
        import: Import,
        arg: i32,
        next_char: impl FnMut() -> Option<i32>,
    ) -> std::result::Result<(), Stopped> {
        match import {
            Import::ExceptionHandler => {
                self.exception.get_or_insert(arg);
                return Err(Stopped);
            }
            Import::PrintErrorMessage => {
                let message = read_message(next_char);
                if self.errors.len() < MAX_MESSAGES {
                    self.errors.push(message);
                }
            }
            Import::WriteBufferMessage => {
                read_message(next_char);
            }
            Import::ShowSharedRwMemory => {}
        }
        Ok(())
    }
}

/// Reads one message through `getMessageChar` (`next_char`; `None` when the call failed) until
/// its 0, keeping at most [`MAX_MESSAGE_CHARS`] printable ASCII characters.
pub fn read_message(mut next_char: impl FnMut() -> Option<i32>) -> String {
    let mut message = String::new();
    // A module that never ends its message must not hold us forever: read a bounded number.
    for _ in 0..MAX_MESSAGE_CHARS * 4 {
        match next_char() {
            None | Some(0) => break,
            Some(c) => {
                if message.len() < MAX_MESSAGE_CHARS {
                    // circom's messages end in a newline: whitespace is a space, other bytes
                    // that are not printable ASCII a '?'.
                    let c = match u8::try_from(c) {
                        Ok(b'\n' | b'\r' | b'\t') => ' ',
                        Ok(c @ 0x20..0x7f) => char::from(c),
                        _ => '?',
                    };
                    message.push(c);
                }
            }
        }
    }
    message.trim().to_string()
}

/// A circom witness wasm, instantiated with imports that report to a [`Recorder`].
pub trait WitnessEngine {
    /// Calls `export` with the first [`Export::signature`] `.0` of `args`; its result (0 where it
    /// returns nothing).
    fn call(&mut self, export: Export, args: [i32; 3]) -> std::result::Result<i32, Stopped>;

    /// What the imports recorded since the last take.
    fn take_record(&mut self) -> Recorder;
}

/// The 64-bit FNV-1a hash of a signal name, as circom's hash map keys it: over the name's UTF-16
/// code units (its bytes, for circom's ASCII identifiers), split into its high and low words.
pub fn signal_hash(name: &str) -> (i32, i32) {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for unit in name.encode_utf16() {
        hash ^= u64::from(unit);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    ((hash >> 32) as u32 as i32, hash as u32 as i32)
}

/// Computes the witness of `input` on `engine`: `[1, outputs.., public inputs.., private..]`, as
/// `snarkjs wtns calculate` writes it.
pub fn calculate_with<E: WitnessEngine>(engine: &mut E, input: &CircomInput) -> Result<Vec<Fr>> {
    let mut run = Run { engine };
    let version = run.call(Export::GetVersion, [0; 3], "reading its version")?;
    if version != 2 {
        return Err(Error::input(
            WASM,
            format!("is a circom {version} witness wasm: only circom 2 (2.0 to 2.2) is run"),
        ));
    }
    run.check_prime()?;
    run.call(Export::Init, [0; 3], "initialising")?;
    let input_size = run.count(Export::GetInputSize)?;
    let witness_size = run.count(Export::GetWitnessSize)?;
    if witness_size == 0 {
        return Err(Error::input(
            WASM,
            "has an empty witness: a witness starts with the constant 1",
        ));
    }

    let mut set = 0usize;
    for signal in &input.signals {
        let (msb, lsb) = signal_hash(&signal.name);
        let size = run.call(Export::GetInputSignalSize, [msb, lsb, 0], &signal.name)?;
        // circom 2.2 answers 0 for a name it does not have (older releases a negative number);
        // circom has no input signal of size 0.
        if size <= 0 {
            return Err(Error::input(
                &signal.name,
                "is not an input signal of the circuit",
            ));
        }
        let size = size as usize;
        if signal.values.len() != size {
            return Err(Error::input(
                &signal.name,
                format!(
                    "has {} values: the circuit's signal has {size}",
                    signal.values.len()
                ),
            ));
        }
        for (pos, value) in signal.values.iter().enumerate() {
            let bytes = value.into_bigint().to_bytes_le();
            for (j, word) in bytes.chunks_exact(4).enumerate() {
                let word = i32::from_le_bytes(word.try_into().expect("4 bytes"));
                run.call(
                    Export::WriteSharedRwMemory,
                    [j as i32, word, 0],
                    &signal.name,
                )?;
            }
            run.call(Export::SetInputSignal, [msb, lsb, pos as i32], &signal.name)?;
            set += 1;
        }
    }
    if set < input_size {
        return Err(Error::input(
            "circom input",
            format!(
                "sets {set} of the circuit's {input_size} input values: a signal is missing \
                 (the witness wasm knows signals by hash only; circom's .sym file lists their \
                 names)"
            ),
        ));
    }

    (0..witness_size)
        .map(|i| {
            run.call(Export::GetWitness, [i as i32, 0, 0], "reading the witness")?;
            let value = run.read_shared("reading the witness")?;
            fr_from_le_bytes(&value).ok_or_else(|| {
                Error::input(
                    WASM,
                    format!("gives witness value {i} at or above the field's prime"),
                )
            })
        })
        .collect()
}

/// One run of the driver over an engine: calls that turn a stop into the crate's error.
struct Run<'e, E> {
    engine: &'e mut E,
}

impl<E: WitnessEngine> Run<'_, E> {
    /// Calls `export`; a stop becomes the error for circom's code, `during` naming what was done
    /// (the input signal being set, or the step).
    fn call(&mut self, export: Export, args: [i32; 3], during: &str) -> Result<i32> {
        match self.engine.call(export, args) {
            Ok(v) => Ok(v),
            Err(Stopped) => Err(stopped(self.engine.take_record(), during)),
        }
    }

    fn count(&mut self, export: Export) -> Result<usize> {
        let n = self.call(export, [0; 3], export.name())?;
        usize::try_from(n).map_err(|_| Error::input(WASM, format!("says {} is {n}", export.name())))
    }

    /// The shared field element, as 32 little-endian bytes.
    fn read_shared(&mut self, during: &str) -> Result<[u8; 32]> {
        let mut bytes = [0u8; 32];
        for (j, chunk) in bytes.chunks_exact_mut(4).enumerate() {
            let word = self.call(Export::ReadSharedRwMemory, [j as i32, 0, 0], during)?;
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        Ok(bytes)
    }

    /// The module's prime must be BN254's scalar field.
    fn check_prime(&mut self) -> Result<()> {
        let n32 = self.call(Export::GetFieldNumLen32, [0; 3], "reading its prime")?;
        let other = |what: String| Error::ZkeyUnsupported {
            what: format!(
                "the witness wasm computes over {what}, not BN254's scalar field: airprover \
                 proves on BN254 only (compile with circom --prime bn128)"
            ),
        };
        if n32 as usize != N32 {
            return Err(other(format!("a prime of {n32} 32-bit words")));
        }
        self.call(Export::GetRawPrime, [0; 3], "reading its prime")?;
        let prime = self.read_shared("reading its prime")?;
        if prime[..] != Fr::MODULUS.to_bytes_le()[..] {
            let p = num_bigint::BigUint::from_bytes_le(&prime);
            return Err(other(format!("the prime {p}")));
        }
        Ok(())
    }
}

/// The error for a run that stopped, from what the imports recorded.
fn stopped(record: Recorder, during: &str) -> Error {
    // circom prints one line per component on the stack, innermost first.
    let said = record.errors.join("; ");
    let with_message = |what: &str| {
        let message = if said.is_empty() {
            what.to_string()
        } else {
            format!("{what} {said}")
        };
        Error::CircomWitness { message }
    };
    match record.exception {
        Some(4) => with_message("Assert Failed."),
        Some(7) => with_message("Out of bounds array access."),
        Some(5) => with_message("Not enough memory."),
        Some(1) => Error::input(during, "is not an input signal of the circuit"),
        Some(2) => Error::input(during, "sets more input values than the circuit has"),
        Some(3) => Error::input(during, "is set twice"),
        Some(6) => Error::input(during, "has more values than the circuit's signal"),
        Some(code) => with_message(&format!("circom error {code}.")),
        None => Error::CircomWitness {
            message: format!(
                "the witness wasm stopped while {} without a circom error (a wasm trap): the \
                 module is broken or not compiled by circom",
                describe_step(during)
            ),
        },
    }
}

fn describe_step(during: &str) -> String {
    if during.starts_with("reading") || during.starts_with("initialising") {
        during.to_string()
    } else {
        format!("setting input signal {during}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_hashes_are_fnv1a_64() {
        // FNV-1a 64 test vectors (the empty string is the offset basis).
        assert_eq!(
            signal_hash(""),
            (0xcbf29ce4u32 as i32, 0x84222325u32 as i32)
        );
        assert_eq!(
            signal_hash("a"),
            (0xaf63dc4cu32 as i32, 0x8601ec8cu32 as i32)
        );
        assert_eq!(
            signal_hash("foobar"),
            (0x85944171u32 as i32, 0xf73967e8u32 as i32)
        );
    }

    #[test]
    fn messages_are_bounded_and_printable() {
        let mut chars = "Error in template Bounded_0 line: 6\n"
            .bytes()
            .map(i32::from);
        assert_eq!(
            read_message(|| Some(chars.next().unwrap_or(0))),
            "Error in template Bounded_0 line: 6"
        );
        // Never ending, with bytes that are not printable.
        let long = read_message(|| Some(0xff));
        assert_eq!(long.len(), MAX_MESSAGE_CHARS);
        assert!(long.chars().all(|c| c == '?'));
        assert_eq!(read_message(|| None), "");
    }

    #[test]
    fn the_recorder_keeps_the_first_exception_and_the_errors() {
        let mut r = Recorder::default();
        let mut text = "Error in template T_1 line: 9".bytes().map(i32::from);
        r.on_import(Import::PrintErrorMessage, 0, || {
            Some(text.next().unwrap_or(0))
        })
        .unwrap();
        r.on_import(Import::WriteBufferMessage, 0, || Some(0))
            .unwrap();
        assert_eq!(
            r.on_import(Import::ExceptionHandler, 4, || None),
            Err(Stopped)
        );
        assert_eq!(
            r.on_import(Import::ExceptionHandler, 1, || None),
            Err(Stopped)
        );
        assert_eq!(r.exception, Some(4));
        let e = stopped(r, "x");
        assert_eq!(e.code(), "WITNESS_FAILED");
        assert_eq!(
            e.to_string(),
            "WITNESS_FAILED: circom's witness calculation failed: Assert Failed. Error in \
             template T_1 line: 9"
        );
        let trap = stopped(Recorder::default(), "vote");
        assert!(
            trap.to_string().contains("setting input signal vote"),
            "{trap}"
        );
        let e = stopped(
            Recorder {
                exception: Some(6),
                errors: vec![],
            },
            "vote",
        );
        assert_eq!(e.code(), "INVALID_INPUT");
        assert!(e.to_string().starts_with("INVALID_INPUT: vote:"));
    }
}
