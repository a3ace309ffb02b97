//! A circom circuit's input, as snarkjs takes it (`input.json` of `snarkjs wtns calculate` and
//! `groth16.fullProve`): one JSON object whose keys are the main component's input signals and
//! whose values are
//!
//! - a number: a JSON integer, a decimal string or a `0x` (or `0X`) hex string;
//! - a negative number (`-5`, `"-5"`; a minus before decimal digits only, as JavaScript's
//!   `BigInt` takes it), read as p − x, as snarkjs does;
//! - for an array signal, nested arrays, flattened row-major (`a[1][0]` follows `a[0][m-1]`).
//!
//! Read with the project's strict JSON reader (duplicate keys refused, nesting limited) under a
//! size limit of its own ([`MAX_INPUT_BYTES`]: circom inputs such as zkEmail's run to
//! megabytes). Where snarkjs is lenient, airprover refuses, by signal name:
//!
//! - a value ≥ p (or a negative one of magnitude ≥ p): snarkjs reduces it modulo p, which hides a
//!   wrong input behind a valid-looking proof;
//! - a JSON number beyond 2^53 − 1 or with a fraction: JavaScript has already rounded it before
//!   snarkjs sees it (pass such numbers as strings);
//! - booleans, `null`, objects, and ragged arrays (rows of different shapes: circom's arrays are
//!   rectangular, so a ragged one is a mistake whose total may still match).
//!
//! Inputs may be secret (a vote, a private key): every error names the signal and, inside an
//! array, the position (`a[1][0]`), never the value.

use num_bigint::BigUint;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::field::{biguint_to_fr, kind, parse_digits, Fr, Spelling, MAX_SAFE_INTEGER};
use crate::json::{parse_strict_with_limit, JsonError};

/// The largest input document read: 16 MiB (a zkEmail input with a whole email is a few MB).
pub const MAX_INPUT_BYTES: usize = 16 << 20;

/// The document's name in errors.
const DOCUMENT: &str = "circom input";

/// One input signal: its name and its values, flattened row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSignal {
    /// The signal's name, as the key of the input object.
    pub name: String,
    /// Its values (one for a scalar signal).
    pub values: Vec<Fr>,
}

/// A circom input: the signals in the order of the document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CircomInput {
    /// Every signal, in the document's order.
    pub signals: Vec<InputSignal>,
}

impl CircomInput {
    /// Parses an input document (JSON text).
    pub fn parse(text: &str) -> Result<Self> {
        let value = parse_strict_with_limit(text, MAX_INPUT_BYTES).map_err(|e| match e {
            // The parser's message may quote the text around the error: never a value.
            JsonError::Syntax(_) => Error::InvalidJson {
                what: format!("{DOCUMENT}: not JSON (at {})", syntax_position(&e)),
            },
            other => other.into_error(DOCUMENT),
        })?;
        Self::from_value(&value)
    }

    /// Reads an input from a parsed JSON value (an object of signals).
    pub fn from_value(value: &Value) -> Result<Self> {
        let Value::Object(map) = value else {
            return Err(Error::input(
                DOCUMENT,
                format!("must be an object of input signals, not {}", kind(value)),
            ));
        };
        let signals = map
            .iter()
            .map(|(name, value)| {
                let mut values = Vec::new();
                flatten(value, name, &mut values)?;
                Ok(InputSignal {
                    name: name.clone(),
                    values,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(CircomInput { signals })
    }

    /// The number of values over every signal.
    pub fn len(&self) -> usize {
        self.signals.iter().map(|s| s.values.len()).sum()
    }

    /// Whether no signal has a value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The `line L column C` of a syntax error (serde_json's message also quotes nothing, but the
/// position is all a caller needs).
fn syntax_position(e: &JsonError) -> String {
    match e {
        JsonError::Syntax(text) => text
            .rsplit_once(" at ")
            .map_or_else(|| "unknown position".to_string(), |(_, at)| at.to_string()),
        _ => String::new(),
    }
}

/// Appends the values of `value` (a number or nested arrays of them) to `out`, row-major, and
/// returns the shape of what it appended (`[]` for a number, `[n, m]` for an `n`×`m` array).
fn flatten(value: &Value, at: &str, out: &mut Vec<Fr>) -> Result<Vec<usize>> {
    let Value::Array(items) = value else {
        out.push(parse_value(value, at)?);
        return Ok(Vec::new());
    };
    let mut shape: Option<Vec<usize>> = None;
    for (i, item) in items.iter().enumerate() {
        let here = format!("{at}[{i}]");
        let inner = flatten(item, &here, out)?;
        match &shape {
            None => shape = Some(inner),
            Some(first) if *first != inner => {
                return Err(Error::input(
                    here,
                    format!(
                        "is {} where {at}[0] is {}: circom arrays are rectangular",
                        describe(&inner),
                        describe(first)
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    let mut shape = shape.unwrap_or_default();
    shape.insert(0, items.len());
    Ok(shape)
}

fn describe(shape: &[usize]) -> String {
    if shape.is_empty() {
        return "a number".into();
    }
    let dims = shape
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("×");
    format!("an array of {dims}")
}

/// One value: below p, or negative with a magnitude below p (then p − x). Never shown in an error.
fn parse_value(value: &Value, at: &str) -> Result<Fr> {
    let (negative, magnitude) = match value {
        Value::Number(n) => {
            if let Some(v) = n.as_u64() {
                (false, safe(v, at)?)
            } else if let Some(v) = n.as_i64() {
                (true, safe(v.unsigned_abs(), at)?)
            } else {
                // A float: JSON.parse gives snarkjs the same double; it is exact only when
                // integral and within 2^53.
                let v = n.as_f64().unwrap_or(f64::NAN);
                if !v.is_finite() || v.fract() != 0.0 {
                    return Err(Error::input(at, "is a JSON number with a fraction"));
                }
                if v.abs() > MAX_SAFE_INTEGER as f64 {
                    return Err(too_big_for_json(at));
                }
                (v < 0.0, BigUint::from(v.abs() as u64))
            }
        }
        Value::String(s) => match s.strip_prefix('-') {
            // JavaScript's BigInt (what snarkjs reads strings with) takes a minus before decimal
            // digits only.
            Some(digits) if !digits.starts_with("0x") && !digits.starts_with("0X") => {
                (true, parse_digits(digits, at, Spelling::BigInt, true)?)
            }
            Some(_) => return Err(not_an_integer(at)),
            None => (false, parse_digits(s, at, Spelling::BigInt, true)?),
        },
        other => {
            return Err(Error::input(
                at,
                format!(
                    "must be a number, a decimal or 0x-hex string, or an array, not {}",
                    kind(other)
                ),
            ))
        }
    };
    let Some(x) = biguint_to_fr(&magnitude) else {
        let which = if negative { "its magnitude" } else { "it" };
        return Err(Error::input(
            at,
            format!(
                "is not in the field: {which} is not below BN254's scalar prime p (snarkjs would \
                 reduce it modulo p; airprover refuses it: pass the reduced value)"
            ),
        ));
    };
    Ok(if negative { -x } else { x })
}

fn safe(v: u64, at: &str) -> Result<BigUint> {
    if v > MAX_SAFE_INTEGER {
        return Err(too_big_for_json(at));
    }
    Ok(BigUint::from(v))
}

fn too_big_for_json(at: &str) -> Error {
    Error::input(
        at,
        "is a JSON number beyond 2^53 - 1, which JavaScript rounds: pass it as a string",
    )
}

fn not_an_integer(at: &str) -> Error {
    Error::input(
        at,
        "is a string that is not a decimal or 0x-hex integer (a '-' before decimal digits only, \
         no spaces)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::modulus;

    fn values(text: &str) -> Vec<(String, Vec<Fr>)> {
        CircomInput::parse(text)
            .unwrap()
            .signals
            .into_iter()
            .map(|s| (s.name, s.values))
            .collect()
    }

    fn refused(text: &str, code: &str) -> String {
        let e = CircomInput::parse(text).unwrap_err();
        assert_eq!(e.code(), code, "{text}: {e}");
        e.to_string()
    }

    #[test]
    fn reads_every_form_snarkjs_takes() {
        let p_minus = |x: u64| -Fr::from(x);
        let got = values(
            r#"{"x": 7, "y": "12", "z": "0x1F", "Z": "0XfF", "n": -5, "m": "-16",
                "zero": "-0", "f": 3.0, "pad": "000000000000000000000000000000000000000000000000000000000000000000000000000000000001"}"#,
        );
        assert_eq!(
            got,
            vec![
                ("x".into(), vec![Fr::from(7u64)]),
                ("y".into(), vec![Fr::from(12u64)]),
                ("z".into(), vec![Fr::from(31u64)]),
                ("Z".into(), vec![Fr::from(255u64)]),
                ("n".into(), vec![p_minus(5)]),
                ("m".into(), vec![p_minus(16)]),
                ("zero".into(), vec![Fr::from(0u64)]),
                ("f".into(), vec![Fr::from(3u64)]),
                ("pad".into(), vec![Fr::from(1u64)]),
            ]
        );
        let p_minus_1 = (modulus() - 1u8).to_str_radix(10);
        assert_eq!(
            values(&format!(r#"{{"a": "{p_minus_1}", "b": "-{p_minus_1}"}}"#)),
            vec![
                ("a".into(), vec![-Fr::from(1u64)]),
                ("b".into(), vec![Fr::from(1u64)])
            ]
        );
    }

    #[test]
    fn nested_arrays_flatten_row_major() {
        let got =
            CircomInput::parse(r#"{"a": [[1, 2, 3], ["4", "0x5", -6]], "k": [], "e": [[], []]}"#)
                .unwrap();
        assert_eq!(
            got.signals[0].values,
            [1, 2, 3, 4, 5]
                .map(Fr::from)
                .into_iter()
                .chain([-Fr::from(6u64)])
                .collect::<Vec<_>>()
        );
        assert!(got.signals[1].values.is_empty());
        assert!(got.signals[2].values.is_empty());
        assert_eq!(got.len(), 6);
    }

    #[test]
    fn values_outside_the_field_are_refused_not_reduced() {
        let p = modulus().to_str_radix(10);
        let hex = format!("0x{}", modulus().to_str_radix(16));
        for text in [
            format!(r#"{{"secretVote": "{p}"}}"#),
            format!(r#"{{"secretVote": "{hex}"}}"#),
            format!(r#"{{"secretVote": "-{p}"}}"#),
            format!(r#"{{"secretVote": "1{}"}}"#, "0".repeat(80)),
        ] {
            let e = refused(&text, "INVALID_INPUT");
            assert!(e.contains("secretVote: is not in the field"), "{e}");
            assert!(!e.contains(&p[..20]) && !e.contains(&hex[2..20]), "{e}");
        }
    }

    #[test]
    fn malformed_values_are_named_by_position_and_never_shown() {
        for (text, at) in [
            (r#"{"key": "12345678a"}"#, "key:"),
            (r#"{"key": " 123456789"}"#, "key:"),
            (r#"{"key": "--123456789"}"#, "key:"),
            (r#"{"key": "-0x123456789"}"#, "key:"),
            (r#"{"key": "1e123456789"}"#, "key:"),
            (r#"{"key": ""}"#, "key:"),
            (r#"{"key": "0x"}"#, "key:"),
            (r#"{"key": true}"#, "key:"),
            (r#"{"key": null}"#, "key:"),
            (r#"{"key": {"x": 123456789}}"#, "key:"),
            (r#"{"key": 1234567.5}"#, "key:"),
            (r#"{"key": 123456789012345678}"#, "key:"),
            (r#"{"key": -123456789012345678}"#, "key:"),
            (r#"{"key": 1e300}"#, "key:"),
            (
                r#"{"ok": 1, "key": [[1, 2], [3, "0x12345678z"]]}"#,
                "key[1][1]:",
            ),
            (r#"{"key": [[1, 2], [3]]}"#, "key[1]:"),
            (r#"{"key": [[1, 2], 3]}"#, "key[1]:"),
            (r#"{"key": [1, [2]]}"#, "key[1]:"),
        ] {
            let e = refused(text, "INVALID_INPUT");
            assert!(
                e.starts_with(&format!("INVALID_INPUT: {at}")),
                "{text}: {e}"
            );
            assert!(!e.contains("12345"), "{text}: {e} shows the value");
        }
        assert!(refused(r#"{"key": [[1, 2], [3]]}"#, "INVALID_INPUT")
            .contains("an array of 1 where key[0] is an array of 2"));
    }

    #[test]
    fn the_document_is_read_strictly() {
        assert!(refused(r#"{"a": 1, "a": 2}"#, "INVALID_INPUT").contains("\"a\" twice"));
        for text in ["[1, 2]", "7", "\"x\""] {
            assert!(refused(text, "INVALID_INPUT").contains("must be an object"));
        }
        // A syntax error says where, and quotes nothing of the document.
        let e = refused(r#"{"vote": 123456789x}"#, "INVALID_JSON");
        assert!(e.contains("line 1 column"), "{e}");
        assert!(!e.contains("12345"), "{e}");
        let deep = format!("{{\"a\": {}1{}}}", "[".repeat(40), "]".repeat(40));
        assert_eq!(
            CircomInput::parse(&deep).unwrap_err().code(),
            "INVALID_INPUT"
        );
        // Larger than a claim may be, within the circom limit.
        let big = format!(r#"{{"a": [{}1]}}"#, "1,".repeat(600_000));
        assert_eq!(CircomInput::parse(&big).unwrap().len(), 600_001);
        let huge = format!(r#"{{"a": [{}1]}}"#, "1,".repeat(MAX_INPUT_BYTES / 2));
        assert!(refused(&huge, "INVALID_INPUT").contains("bytes"));
    }
}
