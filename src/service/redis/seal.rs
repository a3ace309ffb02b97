//! Task inputs sealed at rest: a claim holds its claimant's secret, and Redis keeps whatever it is
//! given in its append-only file and its snapshots long after the task has ended. So `serve`
//! stores a task's input only sealed, under the service's sealing key, and a worker opens it just
//! before proving; the dedupe index is a keyed hash of the input, never a plain digest of it (a
//! claim's secret is a field element, but a plain digest of a guessable claim is a test of the
//! guess).
//!
//! - **The keys** ([`SealingKeys`]): a JSON file `{ "keys": [{ "id", "key" }], "current": id }`,
//!   each key 32 random bytes in hex. `serve` seals with the current key; a worker opens with
//!   whichever key the sealed value names, so a rotation is: add a key, make it current (every
//!   node reads the same file), drop the old one once nothing sealed under it is kept (open tasks
//!   live at most 7 days, dead letters `--dead-letter-ttl`).
//! - **A sealed value**: `v1.{key id}.{base64url(nonce || ciphertext || tag)}`, ChaCha20-Poly1305
//!   (RFC 8439) with a random 96-bit nonce, the associated data naming the key id and the task id:
//!   a sealed input opens only in the task it was sealed for (copied into another task's hash it
//!   is refused), and a value whose key id was swapped is refused too.
//! - **The index**: HMAC-SHA256 of `{api key name}\n{canonical claim}` under the current key.
//!
//! Each key is used through two subkeys, HMAC-SHA256(key, label) with distinct labels, so the
//! AEAD key and the index key are independent.
//!
//! Pure: no file and no Redis here (the key file is read in [`crate::service::sealing_key`]).

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::service::code::Code;

/// What every sealed value starts with (the format's version).
pub const SEALED_PREFIX: &str = "v1.";

const NONCE_BYTES: usize = 12;
const TAG_BYTES: usize = 16;
const SEAL_LABEL: &[u8] = b"airprover/v1/task-input-seal";
const INDEX_LABEL: &[u8] = b"airprover/v1/task-input-index";
const AD_LABEL: &str = "airprover/v1/task-input";

/// Why a stored input was not opened. None of them shows the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The input is stored in plain text, and this process seals: it was not written by a `serve`
    /// with the sealing key.
    #[error("the task's input is not sealed (written by a serve without --sealing-key?)")]
    NotSealed,
    /// The sealed value is not `v1.{key id}.{base64}` of at least a nonce and a tag.
    #[error("the task's sealed input is malformed")]
    Malformed,
    /// Sealed under a key this process does not hold.
    #[error("the task's input is sealed with key {id:?}, which is not in this --sealing-key file")]
    UnknownKey {
        /// The key id the value names.
        id: String,
    },
    /// Sealed, and this process has no sealing key (`--sealing-key` not given).
    #[error("the task's input is sealed (key {id:?}) and this process has no --sealing-key")]
    NoKeys {
        /// The key id the value names.
        id: String,
    },
    /// The value did not authenticate: altered, sealed for another task, or under another key
    /// with the same id.
    #[error("the task's sealed input does not open: altered, or sealed for another task")]
    Refused,
}

impl SealError {
    /// The stable code a task fails with: `SEALING_KEY_UNKNOWN` when this process lacks the key
    /// (a configuration to fix; the task may be requeued once it is), `SEALED_INPUT_INVALID` when
    /// the value itself is wrong. Neither is retried.
    pub fn code(&self) -> Code {
        match self {
            SealError::UnknownKey { .. } | SealError::NoKeys { .. } => Code::SealingKeyUnknown,
            _ => Code::SealedInputInvalid,
        }
    }

    /// Whether the task may succeed once the configuration is fixed (the worker's key file, or
    /// a plain input left by a version that did not seal, sealed by `dead-letters requeue
    /// --sealing-key`): its worker leaves a dead letter. A value that does not open never will.
    pub fn requeueable(&self) -> bool {
        !matches!(self, SealError::Malformed | SealError::Refused)
    }
}

/// One sealing key: its id and its two subkeys.
struct SealingKey {
    id: String,
    seal: ChaCha20Poly1305,
    index: [u8; 32],
}

impl SealingKey {
    fn new(id: String, key: &[u8; 32]) -> SealingKey {
        SealingKey {
            id,
            seal: ChaCha20Poly1305::new(&subkey(key, SEAL_LABEL).into()),
            index: subkey(key, INDEX_LABEL),
        }
    }
}

/// HMAC-SHA256(key, label): one independent subkey per use of a key.
fn subkey(key: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

/// The associated data of a sealed input: the format, the key id and the task id.
fn associated_data(key_id: &str, task_id: &str) -> Vec<u8> {
    format!("{AD_LABEL}\0{key_id}\0{task_id}").into_bytes()
}

/// The id `sealing-key new` gives a key: the first 8 hex digits of its SHA-256 (it names the key
/// in every sealed value, and tells nothing useful about it).
pub fn key_id(key: &[u8; 32]) -> String {
    hex::encode(&Sha256::digest(key)[..4])
}

/// Whether `id` may name a key: 1 to 32 letters, digits, `-` or `_` (never the `.` that separates
/// a sealed value's parts).
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    keys: Vec<KeyEntry>,
    current: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEntry {
    id: String,
    key: String,
}

/// The service's sealing keys: the current one seals, any of them opens.
pub struct SealingKeys {
    keys: Vec<SealingKey>,
    current: usize,
}

impl std::fmt::Debug for SealingKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the keys.
        f.debug_struct("SealingKeys")
            .field("ids", &self.ids())
            .field("current", &self.current_id())
            .finish()
    }
}

/// A key file's JSON, read strictly as every document the crate reads (a duplicate `"current"`
/// or `"key"` is refused, never the last one taken). The strict reader's errors name keys and
/// positions, never a value.
fn parse_key_file(text: &str) -> Result<serde_json::Value, String> {
    crate::json::parse_strict(text).map_err(|e| format!("not a sealing key file: {e}"))
}

impl SealingKeys {
    /// The keys of a key file's text: `{ "keys": [{ "id", "key" }], "current": id }`, each key
    /// 64 hex digits, ids unique, `current` one of them. An error never quotes a key.
    pub fn from_json(text: &str) -> Result<SealingKeys, String> {
        let file: KeyFile = serde_json::from_value(parse_key_file(text)?).map_err(|_| {
            // serde's message may quote a value: say only what is expected.
            "not a sealing key file { \"keys\": [{ \"id\", \"key\" }], \"current\" }".to_string()
        })?;
        let mut keys: Vec<SealingKey> = Vec::with_capacity(file.keys.len());
        for entry in file.keys {
            if !valid_id(&entry.id) {
                return Err(format!(
                    "key id {:?}: 1 to 32 letters, digits, '-' or '_'",
                    entry.id
                ));
            }
            if keys.iter().any(|k| k.id == entry.id) {
                return Err(format!("key id {:?} appears twice", entry.id));
            }
            let mut key = [0u8; 32];
            hex::decode_to_slice(entry.key.trim(), &mut key)
                .map_err(|_| format!("key {:?}: not 64 hex digits", entry.id))?;
            keys.push(SealingKey::new(entry.id, &key));
        }
        let current = keys
            .iter()
            .position(|k| k.id == file.current)
            .ok_or_else(|| format!("current: {:?} is none of the keys' ids", file.current))?;
        Ok(SealingKeys { keys, current })
    }

    /// A key file's text holding one new random key, current: `(text, its id)`.
    pub fn new_file() -> (String, String) {
        let key = random_key();
        let id = key_id(&key);
        let text = serde_json::to_string_pretty(&serde_json::json!({
            "keys": [{ "id": id, "key": hex::encode(key) }],
            "current": id,
        }))
        .expect("a JSON value always serialises");
        (text + "\n", id)
    }

    /// A key file's text with a new random key added and made current (the others kept, to open
    /// what they sealed): `(text, the new id)`. `text` is the file as it is.
    pub fn rotated_file(text: &str) -> Result<(String, String), String> {
        SealingKeys::from_json(text)?;
        let mut file = parse_key_file(text)?;
        let key = random_key();
        let id = key_id(&key);
        let keys = file["keys"].as_array_mut().expect("checked by from_json");
        if keys.iter().any(|k| k["id"] == id.as_str()) {
            return Err(format!("key id {id} is taken: try again"));
        }
        keys.push(serde_json::json!({ "id": id, "key": hex::encode(key) }));
        file["current"] = serde_json::json!(id);
        let text = serde_json::to_string_pretty(&file).expect("a JSON value always serialises");
        Ok((text + "\n", id))
    }

    /// The keys' ids, in the file's order.
    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> &str {
        &self.keys[self.current].id
    }

    /// `input` sealed for the task `task_id` under the current key.
    pub fn seal(&self, task_id: &str, input: &str) -> String {
        let key = &self.keys[self.current];
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ad = associated_data(&key.id, task_id);
        let sealed = key
            .seal
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: input.as_bytes(),
                    aad: &ad,
                },
            )
            .expect("ChaCha20-Poly1305 seals any message under 256 GiB");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!(
            "{SEALED_PREFIX}{}.{}",
            key.id,
            URL_SAFE_NO_PAD.encode(bytes)
        )
    }

    /// The input sealed in `stored` for the task `task_id`.
    pub fn open(&self, task_id: &str, stored: &str) -> Result<String, SealError> {
        let (id, body) = split(stored)?.ok_or(SealError::NotSealed)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| SealError::UnknownKey { id: id.to_string() })?;
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| SealError::Malformed)?;
        if bytes.len() < NONCE_BYTES + TAG_BYTES {
            return Err(SealError::Malformed);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let ad = associated_data(id, task_id);
        let plain = key
            .seal
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: &ad,
                },
            )
            .map_err(|_| SealError::Refused)?;
        String::from_utf8(plain).map_err(|_| SealError::Malformed)
    }

    /// The index fingerprint of `canonical` submitted by `api_key`: HMAC-SHA256 under the current
    /// key, in hex.
    pub fn fingerprint(&self, api_key: &str, canonical: &str) -> String {
        let key = &self.keys[self.current];
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&key.index).expect("HMAC takes any key length");
        mac.update(api_key.as_bytes());
        mac.update(b"\n");
        mac.update(canonical.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

fn random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    key
}

/// A stored input's `(key id, body)` when it is sealed, `None` when it is plain text (a claim is
/// a JSON object: it starts with `{`).
fn split(stored: &str) -> Result<Option<(&str, &str)>, SealError> {
    let Some(rest) = stored.strip_prefix(SEALED_PREFIX) else {
        return Ok(None);
    };
    let (id, body) = rest.split_once('.').ok_or(SealError::Malformed)?;
    if !valid_id(id) {
        return Err(SealError::Malformed);
    }
    Ok(Some((id, body)))
}

/// How a process treats task inputs: sealed under the service's keys, or (development only,
/// `--dev-unsealed` or no `--sealing-key`) in plain text.
#[derive(Clone, Debug)]
pub enum InputSealing {
    /// Inputs are sealed; a plain one is refused.
    Sealed(Arc<SealingKeys>),
    /// Inputs are stored as given and the index is a plain SHA-256; a sealed one cannot be
    /// opened.
    Unsealed,
}

impl InputSealing {
    /// What to store as the task `task_id`'s input.
    pub fn seal(&self, task_id: &str, input: &str) -> String {
        match self {
            InputSealing::Sealed(keys) => keys.seal(task_id, input),
            InputSealing::Unsealed => input.to_string(),
        }
    }

    /// The input of the task `task_id` from what is stored.
    pub fn open(&self, task_id: &str, stored: &str) -> Result<String, SealError> {
        match self {
            InputSealing::Sealed(keys) => keys.open(task_id, stored),
            InputSealing::Unsealed => match split(stored)? {
                None => Ok(stored.to_string()),
                Some((id, _)) => Err(SealError::NoKeys { id: id.to_string() }),
            },
        }
    }

    /// What the task `from_id` stored, to store for the task `to_id` (a requeued dead letter):
    /// opened and sealed again under the current key. With keys, a plain input is sealed.
    pub fn reseal(&self, from_id: &str, to_id: &str, stored: &str) -> Result<String, SealError> {
        match self {
            InputSealing::Sealed(keys) => {
                let input = match split(stored)? {
                    None => stored.to_string(),
                    Some(_) => keys.open(from_id, stored)?,
                };
                Ok(keys.seal(to_id, &input))
            }
            InputSealing::Unsealed => self.open(from_id, stored),
        }
    }

    /// The dedupe index's fingerprint of `canonical` submitted by `api_key`.
    pub fn fingerprint(&self, api_key: &str, canonical: &str) -> String {
        match self {
            InputSealing::Sealed(keys) => keys.fingerprint(api_key, canonical),
            // Development only: nothing to key it with.
            InputSealing::Unsealed => {
                hex::encode(Sha256::digest(format!("{api_key}\n{canonical}").as_bytes()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INPUT: &str = r#"{"circuit":"threshold-d4-k2","secret":"123456789"}"#;

    fn fresh_keys() -> SealingKeys {
        SealingKeys::from_json(&SealingKeys::new_file().0).unwrap()
    }

    #[test]
    fn a_sealed_input_opens_in_its_task_and_shows_nothing() {
        let keys = fresh_keys();
        let sealed = keys.seal("task-1", INPUT);
        assert!(
            sealed.starts_with(&format!("v1.{}.", keys.current_id())),
            "{sealed}"
        );
        assert!(!sealed.contains("123456789"), "{sealed}");
        assert_eq!(keys.open("task-1", &sealed).unwrap(), INPUT);
        // A fresh nonce each time.
        assert_ne!(keys.seal("task-1", INPUT), sealed);
    }

    #[test]
    fn another_task_a_tampered_value_an_unknown_or_swapped_key_are_refused() {
        let keys = fresh_keys();
        let sealed = keys.seal("task-1", INPUT);
        assert_eq!(keys.open("task-2", &sealed), Err(SealError::Refused));

        let (head, body) = sealed.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(body).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let tampered = format!("{head}.{}", URL_SAFE_NO_PAD.encode(&bytes));
        assert_eq!(keys.open("task-1", &tampered), Err(SealError::Refused));
        bytes[last] ^= 1;
        bytes[NONCE_BYTES] ^= 0x80;
        let tampered = format!("{head}.{}", URL_SAFE_NO_PAD.encode(&bytes));
        assert_eq!(keys.open("task-1", &tampered), Err(SealError::Refused));

        let unknown = sealed.replacen(keys.current_id(), "nosuchkey", 1);
        assert_eq!(
            keys.open("task-1", &unknown),
            Err(SealError::UnknownKey {
                id: "nosuchkey".into()
            })
        );
        assert_eq!(
            SealError::UnknownKey { id: "x".into() }.code().as_str(),
            "SEALING_KEY_UNKNOWN"
        );

        // Another key under the same id: the tag does not match.
        let other = fresh_keys();
        let same_id =
            other
                .seal("task-1", INPUT)
                .replacen(other.current_id(), keys.current_id(), 1);
        assert_eq!(keys.open("task-1", &same_id), Err(SealError::Refused));
        assert_eq!(SealError::Refused.code().as_str(), "SEALED_INPUT_INVALID");
        assert!(!SealError::Refused.requeueable() && !SealError::Malformed.requeueable());
        assert!(SealError::NotSealed.requeueable());

        for bad in ["v1.", "v1.abc", "v1.a.b.c", "v1.a!b.AAAA", "v1.k.AAAA"] {
            let got = keys.open("task-1", bad);
            assert!(
                matches!(
                    got,
                    Err(SealError::Malformed | SealError::UnknownKey { .. })
                ),
                "{bad}: {got:?}"
            );
        }
        let short = format!("v1.{}.AAAA", keys.current_id());
        assert_eq!(keys.open("task-1", &short), Err(SealError::Malformed));
    }

    #[test]
    fn plain_and_sealed_inputs_are_told_apart_by_each_mode() {
        let keys = Arc::new(fresh_keys());
        let sealed_mode = InputSealing::Sealed(keys.clone());
        let sealed = sealed_mode.seal("t", INPUT);
        assert_eq!(sealed_mode.open("t", INPUT), Err(SealError::NotSealed));
        assert_eq!(
            InputSealing::Unsealed.open("t", &sealed),
            Err(SealError::NoKeys {
                id: keys.current_id().into()
            })
        );
        assert_eq!(InputSealing::Unsealed.seal("t", INPUT), INPUT);
        assert_eq!(InputSealing::Unsealed.open("t", INPUT).unwrap(), INPUT);

        // A requeued dead letter: opened from the old task, sealed for the new one.
        let moved = sealed_mode.reseal("t", "u", &sealed).unwrap();
        assert_eq!(sealed_mode.open("u", &moved).unwrap(), INPUT);
        assert_eq!(sealed_mode.open("t", &moved), Err(SealError::Refused));
        let migrated = sealed_mode.reseal("t", "u", INPUT).unwrap();
        assert_eq!(sealed_mode.open("u", &migrated).unwrap(), INPUT);
        assert_eq!(
            InputSealing::Unsealed.reseal("t", "u", INPUT).unwrap(),
            INPUT
        );
    }

    #[test]
    fn a_rotated_file_seals_with_the_new_key_and_opens_with_both() {
        let (text, first) = SealingKeys::new_file();
        let before = SealingKeys::from_json(&text).unwrap();
        let old = before.seal("t", INPUT);
        let (text, second) = SealingKeys::rotated_file(&text).unwrap();
        let after = SealingKeys::from_json(&text).unwrap();
        assert_eq!(after.ids(), [first.as_str(), second.as_str()]);
        assert_eq!(after.current_id(), second);
        assert!(after.seal("t", INPUT).starts_with(&format!("v1.{second}.")));
        assert_eq!(after.open("t", &old).unwrap(), INPUT);
        // The index follows the current key.
        assert_ne!(
            before.fingerprint("k", INPUT),
            after.fingerprint("k", INPUT)
        );
    }

    #[test]
    fn the_index_is_keyed_and_per_api_key() {
        let keys = fresh_keys();
        let plain = hex::encode(Sha256::digest(format!("k\n{INPUT}").as_bytes()));
        let keyed = keys.fingerprint("k", INPUT);
        assert_eq!(keyed.len(), 64);
        assert_ne!(keyed, plain);
        assert_eq!(keyed, keys.fingerprint("k", INPUT));
        assert_ne!(keyed, keys.fingerprint("other", INPUT));
        assert_ne!(keyed, fresh_keys().fingerprint("k", INPUT));
        assert_eq!(InputSealing::Unsealed.fingerprint("k", INPUT), plain);
    }

    #[test]
    fn bad_key_files_are_refused_without_quoting_a_key() {
        let key = "ab".repeat(32);
        let ok = format!(r#"{{ "keys": [{{ "id": "k1", "key": "{key}" }}], "current": "k1" }}"#);
        assert_eq!(SealingKeys::from_json(&ok).unwrap().ids(), ["k1"]);
        for (bad, says) in [
            (
                ok.replace("\"current\": \"k1\"", "\"current\": \"k2\""),
                "current",
            ),
            (ok.replace("\"id\": \"k1\"", "\"id\": \"k.1\""), "key id"),
            (ok.replace(&key, &key[2..]), "64 hex digits"),
            (
                ok.replace("\"current\"", "\"extra\": 1, \"current\""),
                "not a sealing key file",
            ),
            (
                format!(
                    r#"{{ "keys": [{{ "id": "k1", "key": "{key}" }}, {{ "id": "k1", "key": "{key}" }}], "current": "k1" }}"#
                ),
                "twice",
            ),
            (
                format!(r#"{{ "keys": "{key}", "current": "k1" }}"#),
                "not a sealing key file",
            ),
            // A second "current" is refused, never the last one taken.
            (
                ok.replace(
                    "\"current\": \"k1\"",
                    "\"current\": \"k1\", \"current\": \"k2\"",
                ),
                "not a sealing key file",
            ),
        ] {
            let err = SealingKeys::from_json(&bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
            assert!(!err.contains(&key[4..]), "{err}");
        }
        let debug = format!("{:?}", SealingKeys::from_json(&ok).unwrap());
        assert!(!debug.contains(&key[..16]), "{debug}");
    }
}
