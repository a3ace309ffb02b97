//! What a prover worker signs for a result, and how a client checks it against worker keys it
//! pinned beforehand (`airprover workers export-keys`), so that a proof is trusted for who made it
//! and not for which server handed it over.
//!
//! A worker signs, with its ed25519 key, exactly these bytes (UTF-8, `\n` between the lines, no
//! final newline):
//!
//! ```text
//! airprover-proof-v1
//! {task id}
//! {circuit}
//! {SHA-256 hex of the verifying key file the key directory's manifest names for the circuit
//!  (a circom circuit's: its `verification_key.json`)}
//! {SHA-256 hex of proof.json, compact}
//! {SHA-256 hex of public.json, compact}
//! ```
//!
//! "Compact" is the JSON with no whitespace and its keys in the order the worker wrote them (the
//! order of `proof.json`): what `JSON.stringify(JSON.parse(text))` gives for these documents,
//! whose values are strings and arrays only. The circuit and the verifying key's digest are in
//! the signed bytes so that a signature for one circuit or one key set is worth nothing for
//! another; the task id so that it is worth nothing for another task.
//!
//! A client recomputes the message itself from the task id it was given, the claim's circuit,
//! its own key directory's verifying key, and the proof and public signals it is about to write;
//! it never reads the server's `signed` text. The functions here are pure.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The first line of every signed message: the format's name and version.
pub const DOMAIN: &str = "airprover-proof-v1";

/// What a worker vouches for: the facts the signed message is made of.
#[derive(Debug, Clone, Copy)]
pub struct ProofStatement<'a> {
    /// The task's id.
    pub task_id: &'a str,
    /// The circuit id.
    pub circuit: &'a str,
    /// SHA-256 (hex) of the circuit's verifying key file.
    pub vk_sha256: &'a str,
    /// `proof.json`.
    pub proof: &'a Value,
    /// `public.json`.
    pub public_signals: &'a Value,
}

impl ProofStatement<'_> {
    /// The exact text that is signed (see the module's docs).
    pub fn message(&self) -> String {
        format!(
            "{DOMAIN}\n{}\n{}\n{}\n{}\n{}",
            self.task_id,
            self.circuit,
            self.vk_sha256,
            compact_sha256(self.proof),
            compact_sha256(self.public_signals)
        )
    }

    /// The signature of [`Self::message`] with `key`, hex.
    pub fn sign(&self, key: &SigningKey) -> String {
        self.signed(key).1
    }

    /// [`Self::message`] and its signature with `key` (hex), the message built once.
    pub fn signed(&self, key: &SigningKey) -> (String, String) {
        let message = self.message();
        let signature = hex::encode(key.sign(message.as_bytes()).to_bytes());
        (message, signature)
    }
}

/// SHA-256 hex of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 hex of a JSON document written compactly, its keys in their order.
pub fn compact_sha256(value: &Value) -> String {
    sha256_hex(value.to_string().as_bytes())
}

/// One pinned worker: its id (for messages) and its public key (what is trusted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedWorker {
    /// The worker's id, as it registers.
    pub id: String,
    /// Its ed25519 public key.
    pub public_key: VerifyingKey,
}

/// The worker keys a client trusts: `workers.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PinnedWorkers {
    /// The workers, in the file's order.
    pub workers: Vec<PinnedWorker>,
}

impl PinnedWorkers {
    /// Reads `{ "workers": [{ "id", "publicKey" }] }`, or the list alone; every key is 32 bytes
    /// of hex that decode to a curve point. An empty list is refused: it would refuse everything.
    pub fn from_json(text: &str) -> crate::Result<Self> {
        let bad = |what: String| crate::Error::input("worker keys", what);
        let doc = crate::json::parse_strict(text).map_err(|e| bad(e.to_string()))?;
        let list = match &doc {
            Value::Array(list) => list,
            Value::Object(o) => match o.get("workers") {
                Some(Value::Array(list)) => list,
                _ => return Err(bad("expected { \"workers\": [...] } or a list".into())),
            },
            _ => return Err(bad("expected { \"workers\": [...] } or a list".into())),
        };
        if list.is_empty() {
            return Err(bad("no worker".into()));
        }
        let workers = list
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let id = w["id"]
                    .as_str()
                    .ok_or_else(|| bad(format!("workers[{i}].id: expected a string")))?;
                let public_key = w["publicKey"]
                    .as_str()
                    .and_then(parse_public_key)
                    .ok_or_else(|| {
                        bad(format!(
                            "workers[{i}].publicKey: expected 64 hex digits of an ed25519 key"
                        ))
                    })?;
                Ok(PinnedWorker {
                    id: id.to_string(),
                    public_key,
                })
            })
            .collect::<crate::Result<_>>()?;
        Ok(PinnedWorkers { workers })
    }

    /// `{ "workers": [{ "id", "publicKey" }] }`, as `export-keys` writes it.
    pub fn to_json(&self) -> Value {
        json!({
            "workers": self.workers.iter().map(|w| json!({
                "id": w.id,
                "publicKey": hex::encode(w.public_key.to_bytes()),
            })).collect::<Vec<_>>()
        })
    }

    /// Checks that `signature` (hex) signs `statement` with the pinned key `public_key` (hex, as
    /// the result names it): UNKNOWN_WORKER when no pinned worker has that key, BAD_SIGNATURE
    /// when the signature does not sign exactly this statement. Returns the worker.
    pub fn check(
        &self,
        statement: &ProofStatement<'_>,
        public_key: &str,
        signature: &str,
    ) -> crate::Result<&PinnedWorker> {
        let worker = parse_public_key(public_key)
            .and_then(|key| self.workers.iter().find(|w| w.public_key == key))
            .ok_or_else(|| crate::Error::UnknownWorker {
                what: format!(
                    "the result is signed with key {:?}, which is not pinned",
                    shorten(public_key)
                ),
            })?;
        let mut bytes = [0u8; 64];
        hex::decode_to_slice(signature, &mut bytes).map_err(|_| crate::Error::BadSignature {
            what: "the signature is not 128 hex digits".into(),
        })?;
        worker
            .public_key
            .verify_strict(
                statement.message().as_bytes(),
                &Signature::from_bytes(&bytes),
            )
            .map_err(|_| crate::Error::BadSignature {
                what: format!(
                    "worker {:?}'s signature does not sign task {}, circuit {}, verifying key {} and this proof and public signals",
                    worker.id, statement.task_id, statement.circuit, statement.vk_sha256
                ),
            })?;
        Ok(worker)
    }
}

fn parse_public_key(text: &str) -> Option<VerifyingKey> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text, &mut bytes).ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

/// At most 40 characters of an untrusted value, for a message.
fn shorten(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn proof() -> Value {
        json!({ "pi_a": ["1", "2", "1"], "pi_b": [["3", "4"], ["5", "6"], ["1", "0"]],
                "pi_c": ["7", "8", "1"], "protocol": "groth16", "curve": "bn128" })
    }

    fn public() -> Value {
        json!(["11", "12", "13", "14", "15"])
    }

    fn pinned(keys: &[(&str, &SigningKey)]) -> PinnedWorkers {
        PinnedWorkers {
            workers: keys
                .iter()
                .map(|(id, k)| PinnedWorker {
                    id: id.to_string(),
                    public_key: k.verifying_key(),
                })
                .collect(),
        }
    }

    const VK: &str = "00aa";

    fn statement<'a>(proof: &'a Value, public: &'a Value) -> ProofStatement<'a> {
        ProofStatement {
            task_id: "t1",
            circuit: "threshold-d4-k2",
            vk_sha256: VK,
            proof,
            public_signals: public,
        }
    }

    /// The format, byte for byte: a client in another language recomputes exactly this.
    #[test]
    fn the_message_is_the_documented_bytes() {
        let (p, s) = (proof(), public());
        let proof_text = r#"{"pi_a":["1","2","1"],"pi_b":[["3","4"],["5","6"],["1","0"]],"pi_c":["7","8","1"],"protocol":"groth16","curve":"bn128"}"#;
        let public_text = r#"["11","12","13","14","15"]"#;
        assert_eq!(
            statement(&p, &s).message(),
            format!(
                "airprover-proof-v1\nt1\nthreshold-d4-k2\n00aa\n{}\n{}",
                sha256_hex(proof_text.as_bytes()),
                sha256_hex(public_text.as_bytes())
            )
        );
        // The same document written with whitespace (proof.json on disk) hashes the same once
        // parsed: only the values and the key order count.
        let pretty: Value =
            serde_json::from_str(&crate::prover::export::to_snarkjs_text(&p)).unwrap();
        assert_eq!(compact_sha256(&pretty), sha256_hex(proof_text.as_bytes()));
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_pinned_workers_signature_is_accepted() {
        let (p, s) = (proof(), public());
        let (a, b) = (key(1), key(2));
        let workers = pinned(&[("a", &a), ("b", &b)]);
        let st = statement(&p, &s);
        let sig = st.sign(&b);
        let who = workers
            .check(&st, &hex::encode(b.verifying_key().to_bytes()), &sig)
            .unwrap();
        assert_eq!(who.id, "b");
    }

    #[test]
    fn a_key_that_is_not_pinned_is_an_unknown_worker() {
        let (p, s) = (proof(), public());
        let (a, stranger) = (key(1), key(3));
        let st = statement(&p, &s);
        let sig = st.sign(&stranger);
        let err = pinned(&[("a", &a)])
            .check(&st, &hex::encode(stranger.verifying_key().to_bytes()), &sig)
            .unwrap_err();
        assert_eq!(err.code(), "UNKNOWN_WORKER");
        // A stranger's signature presented under a pinned key is a bad signature.
        let err = pinned(&[("a", &a)])
            .check(&st, &hex::encode(a.verifying_key().to_bytes()), &sig)
            .unwrap_err();
        assert_eq!(err.code(), "BAD_SIGNATURE");
        // Not even a key.
        let err = pinned(&[("a", &a)]).check(&st, "zz", &sig).unwrap_err();
        assert_eq!(err.code(), "UNKNOWN_WORKER");
    }

    /// Every part of the statement is bound: change any one and the signature is refused.
    #[test]
    fn every_part_of_the_statement_is_signed() {
        let (p, s) = (proof(), public());
        let a = key(1);
        let workers = pinned(&[("a", &a)]);
        let pk = hex::encode(a.verifying_key().to_bytes());
        let sig = statement(&p, &s).sign(&a);
        let mut altered_proof = p.clone();
        altered_proof["pi_c"][0] = json!("9");
        let mut reordered = serde_json::Map::new();
        for k in ["curve", "pi_a", "pi_b", "pi_c", "protocol"] {
            reordered.insert(k.into(), p[k].clone());
        }
        let reordered = Value::Object(reordered);
        let altered_public = json!(["11", "12", "13", "14", "16"]);
        let base = statement(&p, &s);
        let cases = [
            (
                "task",
                ProofStatement {
                    task_id: "t2",
                    ..base
                },
            ),
            (
                "circuit",
                ProofStatement {
                    circuit: "threshold-d4-k3",
                    ..base
                },
            ),
            (
                "verifying key",
                ProofStatement {
                    vk_sha256: "00ab",
                    ..base
                },
            ),
            (
                "proof",
                ProofStatement {
                    proof: &altered_proof,
                    ..base
                },
            ),
            (
                "key order",
                ProofStatement {
                    proof: &reordered,
                    ..base
                },
            ),
            (
                "public signals",
                ProofStatement {
                    public_signals: &altered_public,
                    ..base
                },
            ),
        ];
        for (what, st) in cases {
            let err = workers.check(&st, &pk, &sig).unwrap_err();
            assert_eq!(err.code(), "BAD_SIGNATURE", "{what}");
        }
        workers.check(&base, &pk, &sig).unwrap();
        // A malformed signature, and a signature of the old format ({id}:{sha256}).
        assert_eq!(
            workers.check(&base, &pk, "abc").unwrap_err().code(),
            "BAD_SIGNATURE"
        );
        let old = hex::encode(a.sign(b"t1:00").to_bytes());
        assert_eq!(
            workers.check(&base, &pk, &old).unwrap_err().code(),
            "BAD_SIGNATURE"
        );
    }

    #[test]
    fn pinned_keys_read_both_shapes_and_refuse_bad_ones() {
        let a = key(1);
        let workers = pinned(&[("a", &a)]);
        let doc = workers.to_json();
        assert_eq!(
            doc,
            json!({ "workers": [{ "id": "a", "publicKey": hex::encode(a.verifying_key().to_bytes()) }] })
        );
        assert_eq!(PinnedWorkers::from_json(&doc.to_string()).unwrap(), workers);
        assert_eq!(
            PinnedWorkers::from_json(&doc["workers"].to_string()).unwrap(),
            workers
        );
        for bad in [
            "{",
            "{}",
            "[]",
            r#"{"workers": [{"id": "a"}]}"#,
            r#"[{"id": "a", "publicKey": "00"}]"#,
            r#"[{"publicKey": "0000000000000000000000000000000000000000000000000000000000000000"}]"#,
        ] {
            let err = PinnedWorkers::from_json(bad).unwrap_err();
            assert_eq!(err.code(), "INVALID_INPUT", "{bad}");
        }
    }

    #[test]
    fn refusals_carry_their_codes_from_the_one_table() {
        for (e, code) in [
            (
                crate::Error::UnknownWorker { what: "x".into() },
                "UNKNOWN_WORKER",
            ),
            (
                crate::Error::BadSignature { what: "x".into() },
                "BAD_SIGNATURE",
            ),
        ] {
            assert_eq!(e.code().as_str(), code);
            assert!(!e.code().retryable_natively());
            assert!(e.to_string().starts_with(code), "{e}");
        }
    }
}
