//! JSON as airprover reads it from outside: strictly. serde_json's own parser lets the last of
//! two equal keys win silently, nests as deep as its recursion limit and takes a document of any
//! size; the claim spec says no field is silently ignored, and a hostile document must be
//! refused before it costs anything. [`parse_strict`] is the one entry point for claims, proofs,
//! public signals, manifests and request bodies (the service's and the relayer's too).
//!
//! Limits: [`MAX_DOCUMENT_BYTES`] (checked before parsing) and [`MAX_DEPTH`] levels of arrays
//! and objects (checked while parsing, before anything deeper is allocated).

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// The largest document read: 1 MiB. A claim of the largest circuit (depth 32, K = 64) is about
/// 150 KB; a proof or public signals a few KB.
pub const MAX_DOCUMENT_BYTES: usize = 1 << 20;
/// The deepest nesting of arrays and objects: a claim nests 4 levels, a proof 3.
pub const MAX_DEPTH: usize = 32;

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    /// Longer than [`MAX_DOCUMENT_BYTES`].
    TooLarge {
        /// Its length in bytes.
        bytes: usize,
        /// The limit it is over.
        limit: usize,
    },
    /// An object has this key twice.
    DuplicateKey {
        /// The key.
        key: String,
        /// Where the second one is, as serde_json says it (`line L column C`).
        at: String,
    },
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep {
        /// Where, as serde_json says it.
        at: String,
    },
    /// Not JSON: what serde_json said.
    Syntax(String),
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::TooLarge { bytes, limit } => write!(
                f,
                "is {bytes} bytes: documents are limited to {limit} bytes"
            ),
            JsonError::DuplicateKey { key, at } => {
                write!(
                    f,
                    "has the key {key:?} twice ({at}): which one counts is ambiguous"
                )
            }
            JsonError::TooDeep { at } => {
                write!(
                    f,
                    "nests arrays and objects deeper than {MAX_DEPTH} levels ({at})"
                )
            }
            JsonError::Syntax(what) => f.write_str(what),
        }
    }
}

impl JsonError {
    /// The crate error for a document named `what`: INVALID_JSON for syntax, INVALID_INPUT for
    /// the rest (the document is JSON, but not one airprover accepts).
    pub fn into_error(self, what: &str) -> crate::Error {
        match self {
            JsonError::Syntax(e) => crate::Error::InvalidJson {
                what: format!("{what}: {e}"),
            },
            other => crate::Error::input(what, other.to_string()),
        }
    }
}

const DUPLICATE: &str = "\u{1}duplicate key ";
const TOO_DEEP: &str = "\u{1}too deep";

/// Parses `text` as one JSON document, refusing duplicate keys, nesting deeper than
/// [`MAX_DEPTH`] and documents over [`MAX_DOCUMENT_BYTES`]. Key order is kept.
pub fn parse_strict(text: &str) -> Result<Value, JsonError> {
    parse_strict_with_limit(text, MAX_DOCUMENT_BYTES)
}

/// [`parse_strict`] with a size limit of the caller's instead of [`MAX_DOCUMENT_BYTES`] (a circom
/// circuit's input may run to megabytes).
pub fn parse_strict_with_limit(text: &str, max_bytes: usize) -> Result<Value, JsonError> {
    if text.len() > max_bytes {
        return Err(JsonError::TooLarge {
            bytes: text.len(),
            limit: max_bytes,
        });
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Strict { depth: 0 }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(classify)?;
    Ok(value)
}

/// Our own errors travel through serde_json's as custom messages; tell them apart again.
fn classify(e: serde_json::Error) -> JsonError {
    let text = e.to_string();
    let at = format!("line {} column {}", e.line(), e.column());
    if let Some(rest) = text.strip_prefix(DUPLICATE) {
        let key = rest
            .rsplit_once(" at line ")
            .map_or(rest, |(key, _)| key)
            .to_string();
        return JsonError::DuplicateKey { key, at };
    }
    if text.starts_with(TOO_DEEP) {
        return JsonError::TooDeep { at };
    }
    JsonError::Syntax(text)
}

struct Strict {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Strict {
    fn deeper<E: de::Error>(&self) -> Result<Strict, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(TOO_DEEP));
        }
        Ok(Strict {
            depth: self.depth + 1,
        })
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.deeper()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Strict { depth: inner.depth })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.deeper()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("{DUPLICATE}{key}")));
            }
            let value = map.next_value_seed(Strict { depth: inner.depth })?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_what_serde_json_reads_in_order() {
        let text = r#"{"b": [1, -2, 3.5, "x", null, true], "a": {"c": {}}}"#;
        let value = parse_strict(text).unwrap();
        assert_eq!(value, serde_json::from_str::<Value>(text).unwrap());
        assert_eq!(
            value.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["b", "a"]
        );
        assert_eq!(parse_strict(" 7 ").unwrap(), json!(7));
    }

    #[test]
    fn duplicate_keys_are_refused_by_name_at_any_depth() {
        for (text, key) in [
            (r#"{"root": "1", "root": "2"}"#, "root"),
            (r#"{"a": [{"weight": 1, "weight": 2}]}"#, "weight"),
            (r#"{"x": {"y at line": 1, "y at line": 2}}"#, "y at line"),
        ] {
            match parse_strict(text) {
                Err(JsonError::DuplicateKey { key: got, at }) => {
                    assert_eq!(got, key);
                    assert!(at.starts_with("line 1 column"), "{at}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        let e = parse_strict(r#"{"secret": 1, "secret": 2}"#)
            .unwrap_err()
            .into_error("claim");
        assert_eq!(e.code(), "INVALID_INPUT");
        assert!(e.to_string().contains("\"secret\" twice"), "{e}");
    }

    #[test]
    fn deep_and_huge_documents_are_refused_quickly() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse_strict(&ok).is_ok());
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let started = std::time::Instant::now();
        assert!(matches!(
            parse_strict(&deep),
            Err(JsonError::TooDeep { .. })
        ));
        let objects = format!(
            "{}1{}",
            r#"{"a":"#.repeat(MAX_DEPTH + 1),
            "}".repeat(MAX_DEPTH + 1)
        );
        assert!(matches!(
            parse_strict(&objects),
            Err(JsonError::TooDeep { .. })
        ));
        // A million attestations is far over the size limit: refused before parsing.
        let attestation = r#"{"index": 1, "attester": "0x1", "weight": 1, "siblings": []},"#;
        let huge = format!(r#"{{"attestations": [{}]}}"#, attestation.repeat(1_000_000));
        let e = parse_strict(&huge).unwrap_err();
        assert!(matches!(e, JsonError::TooLarge { .. }), "{e:?}");
        let took = started.elapsed();
        println!(
            "10,000-deep and 60 MB documents refused in {:.3} ms",
            took.as_secs_f64() * 1e3
        );
        assert!(took.as_millis() < 1000, "{took:?}");
        assert_eq!(e.into_error("claim").code(), "INVALID_INPUT");
    }

    #[test]
    fn syntax_errors_stay_invalid_json() {
        for bad in ["", "{", r#"{"a": 1,}"#, "[1] [2]", "nul"] {
            let e = parse_strict(bad).unwrap_err();
            assert!(matches!(e, JsonError::Syntax(_)), "{bad:?}: {e:?}");
            assert_eq!(e.into_error("claim").code(), "INVALID_JSON");
        }
    }
}
