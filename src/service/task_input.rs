//! What a task proves, as `serve` stores it (sealed, [`super::redis::seal`]) and a worker reads
//! it back:
//!
//! - a **claim** (`POST /v1/proofs { claim }`), stored as its canonical JSON
//!   ([`Claim::to_canonical_json`]);
//! - a **circom circuit's input** (`POST /v1/proofs { circuit, input }`), stored as
//!   `{"circuit":ID,"input":{...}}`, the input as the client sent it (its key order kept).
//!
//! A claim has no `input` field (its reader refuses unknown fields), so the two stored forms
//! cannot be taken for each other. A circom input is checked by `serve` as far as it can be
//! without the circuit (an object of signals, every value a field element below p, at most
//! [`MAX_INPUT_BYTES`]); the signals' names and sizes are the witness wasm's to check, on the
//! worker. Every error names a signal, never a value.

use serde_json::{json, Value};

use crate::circom::input::{CircomInput, MAX_INPUT_BYTES};
use crate::claim::Claim;
use crate::error::{Error, Result};
use crate::json::parse_strict_with_limit;

/// The longest stored form read back: an input at its limit, and the circuit id around it.
const MAX_STORED_BYTES: usize = MAX_INPUT_BYTES + 1024;

/// A task's input, read back.
#[derive(Debug, Clone)]
pub enum TaskInput {
    /// A claim of one of airprover's circuits.
    Claim(Claim),
    /// A circom circuit's input signals.
    Circom {
        /// The circom circuit's id (a manifest's `circom` entry).
        circuit: String,
        /// Its input signals.
        input: CircomInput,
    },
}

impl TaskInput {
    /// The circuit id.
    pub fn circuit(&self) -> String {
        match self {
            TaskInput::Claim(claim) => claim.circuit.to_string(),
            TaskInput::Circom { circuit, .. } => circuit.clone(),
        }
    }

    /// Reads a stored input (opened, when sealed).
    pub fn from_stored(text: &str) -> Result<Self> {
        let value =
            parse_strict_with_limit(text, MAX_STORED_BYTES).map_err(|e| e.into_error("input"))?;
        match value.get("input") {
            Some(input) => {
                let circuit = value["circuit"]
                    .as_str()
                    .ok_or_else(|| Error::input("circuit", "expected a circom circuit's id"))?;
                Ok(TaskInput::Circom {
                    circuit: circuit.to_string(),
                    input: CircomInput::from_value(input)?,
                })
            }
            None => Claim::from_value(&value).map(TaskInput::Claim),
        }
    }
}

/// The stored form of a circom task of `circuit` with `input` (`{ circuit, input }` of
/// `POST /v1/proofs`), after checking the input as far as no circuit is needed: an object of
/// signals whose values are numbers below p, in nested arrays for array signals, at most
/// [`MAX_INPUT_BYTES`] written compactly.
pub fn circom_stored(circuit: &str, input: &Value) -> Result<String> {
    if !input.is_object() {
        return Err(Error::input(
            "input",
            "must be an object of the circuit's input signals",
        ));
    }
    CircomInput::from_value(input)?;
    let text = json!({ "circuit": circuit, "input": input }).to_string();
    if text.len() > MAX_STORED_BYTES {
        return Err(Error::input(
            "input",
            format!("is over {MAX_INPUT_BYTES} bytes: circom inputs are limited to that"),
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_circom_input_reads_back_and_names_no_value() {
        let input = json!({ "a": ["1", "0x2"], "b": 3 });
        let stored = circom_stored("my-circuit", &input).unwrap();
        assert_eq!(
            stored,
            r#"{"circuit":"my-circuit","input":{"a":["1","0x2"],"b":3}}"#
        );
        let TaskInput::Circom { circuit, input } = TaskInput::from_stored(&stored).unwrap() else {
            panic!("a circom task");
        };
        assert_eq!(circuit, "my-circuit");
        assert_eq!(input.len(), 3);

        for bad in [json!([1, 2]), json!("x"), json!(null)] {
            let e = circom_stored("my-circuit", &bad).unwrap_err();
            assert_eq!(e.code(), "INVALID_INPUT", "{bad}");
        }
        // A value at p or above: refused by its signal's name, the value nowhere.
        let p = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
        let e = circom_stored("my-circuit", &json!({ "secret": [1, p] })).unwrap_err();
        assert_eq!(e.code(), "INVALID_INPUT");
        assert!(e.to_string().contains("secret[1]"), "{e}");
        assert!(!e.to_string().contains(p), "{e}");
    }

    #[test]
    fn a_claim_is_never_read_as_a_circom_input() {
        // A claim-like object with an `input` field is a circom task's form, and one without it
        // is read as a claim (and refused as one).
        let e =
            TaskInput::from_stored(r#"{"circuit":"threshold-d4-k2","secret":"1"}"#).unwrap_err();
        assert_ne!(e.code(), "INTERNAL");
        let e = TaskInput::from_stored(r#"{"input":{}}"#).unwrap_err();
        assert_eq!(e.code(), "INVALID_INPUT");
    }
}
