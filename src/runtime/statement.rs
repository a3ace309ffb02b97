//! What a job proves: one of airprover's claims, or a circom circuit's input or ready witness.
//!
//! The two differ where the runtime must decide differently, and the decisions are here:
//!
//! - **Which proof cache key.** A claim's key is a plain SHA-256 of its canonical form
//!   ([`super::cache_key`]): its secret is a random field element, so the hash hides it. A circom
//!   input may be low-entropy (a vote is 0 or 1: a plain hash is reversed by trying both), so its
//!   key is a keyed hash: [`CacheKey::Keyed`] names the message, and the web layer signs it with
//!   HMAC-SHA-256 under a non-extractable WebCrypto key of the origin. The engine never sees that
//!   key nor the HMAC. A ready witness (a snarkjs `.wtns`, `groth16.prove(zkey, wtns)`) is keyed
//!   the same way, over its bytes: it holds the private signals themselves.
//! - **What may be stored.** Only claims enter the durable queue: a circom input is never at rest
//!   (the durable queue of circom jobs is not built; such a job lives as long as its page).
//! - **What the page checks.** A claim's public signals are known before it is proved; a circom
//!   circuit's are the witness's, known only from the result, so the page checks the proof
//!   against the public signals the worker sent and the manifest's verifying key.
//! - **What the worker runs.** A claim is synthesized by our circuit; a circom input goes through
//!   the circuit's witness wasm, and the zkey is converted once into our key layout; a ready
//!   witness is read (and checked against the key) by the worker, no witness wasm run.
//! - **What may leave the device.** A ready witness never goes to the operator's server
//!   ([`Statement::may_go_remote`]): it is every private signal, not an input the server's own
//!   witness wasm would need.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::cache_key::proof_cache_key;
use crate::circuit::CircuitId;
use crate::claim::Claim;
use crate::error::{Error, Result};

/// Bumped when the keyed message's recipe changes, so old entries are never found again.
const CIRCOM_DOMAIN: &str = "airprover-circom-proof-cache-v1";
/// The same for a ready witness's key (its own domain: an input and a witness never share one).
const WITNESS_DOMAIN: &str = "airprover-circom-wtns-proof-cache-v1";

/// A job's statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// One of airprover's own circuits, with its claim.
    Claim(Claim),
    /// A circom circuit of the manifest, with its input or a ready witness.
    Circom(CircomStatement),
}

/// A circom circuit's input or witness, as submitted.
#[derive(Debug, Clone, PartialEq)]
pub struct CircomStatement {
    /// The manifest's circuit id (a [`CircuitId::Circom`]).
    pub circuit: CircuitId,
    /// What the worker proves from.
    pub source: CircomSource,
}

/// What a circom job carries.
#[derive(Clone, PartialEq)]
pub enum CircomSource {
    /// An input object for the circuit's witness wasm.
    Input {
        /// The input object as compact JSON, key order as given. The witness wasm reads it
        /// (`crate::circom::input` checks every signal there); here it is only carried.
        json: String,
        /// The input with every object's keys sorted: equal for inputs that differ only in the
        /// order of their signals (circom sets signals by name), what the proof cache key and
        /// the dedup text are made of.
        canonical: String,
    },
    /// A full witness, the bytes of a snarkjs `.wtns`: the worker reads and checks it
    /// (`crate::circom::wtns`), so a bad one fails the job with its own code.
    Witness(Vec<u8>),
}

impl std::fmt::Debug for CircomSource {
    /// Never the values: both hold private signals.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CircomSource::Input { .. } => f.write_str("Input(..)"),
            CircomSource::Witness(w) => write!(f, "Witness({} bytes)", w.len()),
        }
    }
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
        let id = circom_id(circuit)?;
        if !input.is_object() {
            return Err(Error::input(
                "input",
                "a circom input is an object of signal names",
            ));
        }
        Ok(CircomStatement {
            circuit: id,
            source: CircomSource::Input {
                json: input.to_string(),
                canonical: sorted(input).to_string(),
            },
        })
    }

    /// A circom job for `circuit` proving the ready witness `wtns` (a snarkjs `.wtns`). Refused
    /// here: an id of another form and an empty file; its sections are read by the worker.
    pub fn witness(circuit: &str, wtns: Vec<u8>) -> Result<Self> {
        let id = circom_id(circuit)?;
        if wtns.is_empty() {
            return Err(Error::input("wtns", "is empty: a snarkjs .wtns file"));
        }
        Ok(CircomStatement {
            circuit: id,
            source: CircomSource::Witness(wtns),
        })
    }

    /// The input JSON (`None` for a ready witness).
    pub fn input(&self) -> Option<&str> {
        match &self.source {
            CircomSource::Input { json, .. } => Some(json),
            CircomSource::Witness(_) => None,
        }
    }

    /// The `.wtns` bytes (`None` for an input).
    pub fn wtns(&self) -> Option<&[u8]> {
        match &self.source {
            CircomSource::Witness(w) => Some(w),
            CircomSource::Input { .. } => None,
        }
    }
}

/// A circom circuit's id: UNKNOWN_CIRCUIT for another form, INVALID_INPUT for a built-in id.
fn circom_id(circuit: &str) -> Result<CircuitId> {
    let id: CircuitId = circuit.parse()?;
    if !id.is_circom() {
        return Err(Error::input(
            "circuit",
            format!("{circuit} is one of airprover's own circuits: submit a claim for it"),
        ));
    }
    Ok(id)
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
            Statement::Circom(c) => match &c.source {
                CircomSource::Input { canonical, .. } => {
                    format!("circom\u{0}{}\u{0}{canonical}", c.circuit)
                }
                // A digest is enough to tell witnesses apart; this text never leaves memory.
                CircomSource::Witness(w) => format!(
                    "circom-wtns\u{0}{}\u{0}{}",
                    c.circuit,
                    hex::encode(Sha256::digest(w))
                ),
            },
        }
    }

    /// Whether the runtime's `remote` may send it to the operator's server: a claim and a circom
    /// input may (the page's caller opted in), a ready witness never.
    pub fn may_go_remote(&self) -> bool {
        !matches!(
            self,
            Statement::Circom(CircomStatement {
                source: CircomSource::Witness(_),
                ..
            })
        )
    }

    /// The proof cache key under the verifying key whose file has SHA-256 `vk_sha256`.
    pub fn cache_key(&self, vk_sha256: &str) -> CacheKey {
        match self {
            Statement::Claim(c) => CacheKey::Digest(proof_cache_key(c, vk_sha256)),
            Statement::Circom(c) => CacheKey::Keyed {
                message: match &c.source {
                    CircomSource::Input { canonical, .. } => format!(
                        "{CIRCOM_DOMAIN}\u{0}{}\u{0}{}\u{0}{canonical}",
                        c.circuit,
                        vk_sha256.to_ascii_lowercase(),
                    ),
                    // The witness's own bytes (hex) are signed, never a plain digest of them.
                    CircomSource::Witness(w) => format!(
                        "{WITNESS_DOMAIN}\u{0}{}\u{0}{}\u{0}{}",
                        c.circuit,
                        vk_sha256.to_ascii_lowercase(),
                        hex::encode(w)
                    ),
                },
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
        assert_eq!(c.input(), Some(r#"{"b":"2","a":["1","3"]}"#));
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

    fn wtns(bytes: &[u8]) -> Statement {
        Statement::Circom(CircomStatement::witness("my-circuit", bytes.to_vec()).unwrap())
    }

    #[test]
    fn a_witness_is_keyed_over_its_bytes_and_never_goes_remote() {
        let w = wtns(b"wtns\x02secret-signals");
        let CacheKey::Keyed { message } = w.cache_key(VK) else {
            panic!("a witness's key must be keyed");
        };
        assert!(message.starts_with(WITNESS_DOMAIN) && message.contains("my-circuit"));
        assert!(message.ends_with(&hex::encode(b"wtns\x02secret-signals")));
        assert_ne!(wtns(b"wtns\x02other").cache_key(VK), w.cache_key(VK));
        assert_ne!(w.cache_key("cd"), w.cache_key(VK));
        // Never an input's key or job, even for the same circuit.
        let input = circom(json!({ "vote": 1 }));
        assert_ne!(w.cache_key(VK), input.cache_key(VK));
        assert_ne!(w.dedup_text(), input.dedup_text());
        assert_eq!(w.dedup_text(), wtns(b"wtns\x02secret-signals").dedup_text());
        assert_ne!(w.dedup_text(), wtns(b"wtns\x02other").dedup_text());
        // The digest in the dedup text, not the bytes; nothing of them in Debug.
        assert!(!w.dedup_text().contains(&hex::encode(b"secret")));
        assert!(!format!("{w:?}").contains("secret") && !format!("{w:?}").contains("115"));
        assert!(!w.may_go_remote());
        assert!(input.may_go_remote());
        let Statement::Circom(c) = &w else { panic!() };
        assert_eq!(
            (c.input(), c.wtns()),
            (None, Some(&b"wtns\x02secret-signals"[..]))
        );
    }

    #[test]
    fn bad_witness_submissions_are_refused() {
        let own = CircomStatement::witness("threshold-d4-k2", b"wtns".to_vec()).unwrap_err();
        assert_eq!(own.code(), "INVALID_INPUT");
        let bad = CircomStatement::witness("My Circuit", b"wtns".to_vec()).unwrap_err();
        assert_eq!(bad.code(), "UNKNOWN_CIRCUIT");
        let empty = CircomStatement::witness("my-circuit", Vec::new()).unwrap_err();
        assert_eq!(empty.code(), "INVALID_INPUT");
    }
}
