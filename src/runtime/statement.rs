//! What a job proves: one of airprover's claims, or a circom circuit's input.
//!
//! The two differ where the runtime must decide differently, and the decisions are here:
//!
//! - **Which proof cache key.** A claim's key is a plain SHA-256 of its canonical form
//!   ([`super::cache_key`]): its secret is a random field element, so the hash hides it. A circom
//!   input may be low-entropy (a vote is 0 or 1: a plain hash is reversed by trying both), so its
//!   key is a keyed hash: [`CacheKey::Keyed`] names the message, and the web layer signs it with
//!   HMAC-SHA-256 under a non-extractable WebCrypto key of the origin. The engine never sees that
//!   key nor the HMAC.
//! - **What may be stored.** Only claims enter the durable queue: a circom input is never at rest
//!   (the durable queue of circom jobs is not built; such a job lives as long as its page).
//! - **What the page checks.** A claim's public signals are known before it is proved; a circom
//!   circuit's are the witness's, known only from the result, so the page checks the proof
//!   against the public signals the worker sent and the manifest's verifying key.
//! - **What the worker runs.** A claim is synthesized by our circuit; a circom input goes through
//!   the circuit's witness wasm, and the zkey is converted once into our key layout.

use serde_json::Value;

use super::cache_key::proof_cache_key;
use crate::circuit::CircuitId;
use crate::claim::Claim;
use crate::error::{Error, Result};

/// Bumped when the keyed message's recipe changes, so old entries are never found again.
const CIRCOM_DOMAIN: &str = "airprover-circom-proof-cache-v1";

/// A job's statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// One of airprover's own circuits, with its claim.
    Claim(Claim),
    /// A circom circuit of the manifest, with its input.
    Circom(CircomStatement),
}

/// A circom circuit's input, as submitted.
#[derive(Debug, Clone, PartialEq)]
pub struct CircomStatement {
    /// The manifest's circuit id (a [`CircuitId::Circom`]).
    pub circuit: CircuitId,
    /// The input object as compact JSON, key order as given. The witness wasm reads it
    /// (`crate::circom::input` checks every signal there); here it is only carried.
    pub input: String,
    /// The input with every object's keys sorted: equal for inputs that differ only in the
    /// order of their signals (circom sets signals by name), what the proof cache key and the
    /// dedup text are made of.
    canonical: String,
}

/// The proof cache key of a statement, or what the web layer makes it from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheKey {
    /// The key itself (a claim's SHA-256, hex).
    Digest(String),
    /// The key is HMAC-SHA-256 of `message` under the origin's secret key, hex (a circom input).
    Keyed {
        /// What is signed.
        message: String,
    },
}

impl CircomStatement {
    /// A circom job for `circuit` with `input` (a JSON object). Refused: an id of another form
    /// (UNKNOWN_CIRCUIT) and an input that is not an object (INVALID_INPUT); the signals
    /// themselves are checked by the witness wasm, by name and never by value.
    pub fn new(circuit: &str, input: &Value) -> Result<Self> {
        let id: CircuitId = circuit.parse()?;
        if !id.is_circom() {
            return Err(Error::input(
                "circuit",
                format!("{circuit} is one of airprover's own circuits: submit a claim for it"),
            ));
        }
        if !input.is_object() {
            return Err(Error::input(
                "input",
                "a circom input is an object of signal names",
            ));
        }
        Ok(CircomStatement {
            circuit: id,
            input: input.to_string(),
            canonical: sorted(input).to_string(),
        })
    }
}

/// `value` with every object's keys in order (arrays keep theirs).
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

impl Statement {
    /// The circuit it is proved on.
    pub fn circuit(&self) -> CircuitId {
        match self {
            Statement::Claim(c) => c.circuit,
            Statement::Circom(c) => c.circuit,
        }
    }

    /// The claim, for a claim.
    pub fn claim(&self) -> Option<&Claim> {
        match self {
            Statement::Claim(c) => Some(c),
            Statement::Circom(_) => None,
        }
    }

    /// Identical statements share one job in flight: this text is equal for them and for no
    /// others (kept in memory only).
    pub fn dedup_text(&self) -> String {
        match self {
            Statement::Claim(c) => c.to_canonical_json().to_string(),
            Statement::Circom(c) => format!("circom\u{0}{}\u{0}{}", c.circuit, c.canonical),
        }
    }

    /// The proof cache key under the verifying key whose file has SHA-256 `vk_sha256`.
    pub fn cache_key(&self, vk_sha256: &str) -> CacheKey {
        match self {
            Statement::Claim(c) => CacheKey::Digest(proof_cache_key(c, vk_sha256)),
            Statement::Circom(c) => CacheKey::Keyed {
                message: format!(
                    "{CIRCOM_DOMAIN}\u{0}{}\u{0}{}\u{0}{}",
                    c.circuit,
                    vk_sha256.to_ascii_lowercase(),
                    c.canonical
                ),
            },
        }
    }
}

impl CacheKey {
    /// The key where it is known without the origin's secret (a claim's).
    pub fn digest(&self) -> Option<&str> {
        match self {
            CacheKey::Digest(d) => Some(d),
            CacheKey::Keyed { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::tree::sample::sample;

    const VK: &str = "ab";

    fn circom(input: Value) -> Statement {
        Statement::Circom(CircomStatement::new("my-circuit", &input).unwrap())
    }

    #[test]
    fn a_circom_input_is_keyed_never_a_plain_digest() {
        let vote = circom(json!({ "vote": 1 }));
        let CacheKey::Keyed { message } = vote.cache_key(VK) else {
            panic!("a circom input's key must be keyed");
        };
        assert!(message.starts_with(CIRCOM_DOMAIN) && message.contains("my-circuit"));
        assert_eq!(vote.cache_key(VK).digest(), None);
        // Another input, another verifying key: another message.
        assert_ne!(
            circom(json!({ "vote": 0 })).cache_key(VK),
            vote.cache_key(VK)
        );
        assert_ne!(vote.cache_key("cd"), vote.cache_key(VK));
        assert_eq!(vote.cache_key("AB"), vote.cache_key(VK));
    }

    #[test]
    fn the_order_of_signals_does_not_change_the_key() {
        let a = circom(json!({ "b": "2", "a": ["1", "3"] }));
        let b = circom(json!({ "a": ["1", "3"], "b": "2" }));
        assert_eq!(a.cache_key(VK), b.cache_key(VK));
        assert_eq!(a.dedup_text(), b.dedup_text());
        // The witness still gets the input as given.
        let Statement::Circom(c) = &a else { panic!() };
        assert_eq!(c.input, r#"{"b":"2","a":["1","3"]}"#);
        // Array order is the signal's layout: it does change the key.
        let c = circom(json!({ "b": "2", "a": ["3", "1"] }));
        assert_ne!(a.cache_key(VK), c.cache_key(VK));
    }

    #[test]
    fn a_claim_keeps_its_digest() {
        let id: CircuitId = "threshold-d4-k2".parse().unwrap();
        let claim = Claim::from_value(&sample(&id, 6, 1).unwrap().claim).unwrap();
        let s = Statement::Claim(claim.clone());
        assert_eq!(
            s.cache_key(VK),
            CacheKey::Digest(proof_cache_key(&claim, VK))
        );
        assert_eq!(s.circuit(), id);
        assert_eq!(s.dedup_text(), claim.to_canonical_json().to_string());
    }

    #[test]
    fn statements_of_two_kinds_never_share_a_job() {
        let a = circom(json!({ "a": ["1", "2"] }));
        assert_eq!(
            a.dedup_text(),
            circom(json!({ "a": ["1", "2"] })).dedup_text()
        );
        assert_ne!(
            a.dedup_text(),
            circom(json!({ "a": ["1", "3"] })).dedup_text()
        );
        assert!(a.dedup_text().starts_with("circom\u{0}"));
    }

    #[test]
    fn bad_circom_submissions_are_refused_without_values() {
        let secret = json!({ "secret": "12345" });
        let own = CircomStatement::new("threshold-d4-k2", &secret).unwrap_err();
        assert_eq!(own.code(), "INVALID_INPUT");
        let bad = CircomStatement::new("My Circuit", &secret).unwrap_err();
        assert_eq!(bad.code(), "UNKNOWN_CIRCUIT");
        let not_object = CircomStatement::new("my-circuit", &json!(["12345"])).unwrap_err();
        assert_eq!(not_object.code(), "INVALID_INPUT");
        for e in [own, bad, not_object] {
            assert!(!e.to_string().contains("12345"), "{e}");
        }
    }
}
