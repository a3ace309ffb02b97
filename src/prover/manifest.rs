//! `manifest.json`: what a key directory holds, so that a browser (or a person) can tell which
//! circuits are there, how large their files are and whether the bytes it fetched are the ones
//! that were published.
//!
//! Format 2 (what airprover writes) lists two kinds of circuit. `builtin`: one of airprover's own
//! circuits with its key files, made by `setup` (`development` when from a seed) or imported from
//! a phase-2 ceremony's zkey by `import-zkey` (`ceremony`, with the zkey's SHA-256). `circom`: a
//! circom circuit, as snarkjs's files: the Groth16 `.zkey`, circom's witness wasm and snarkjs's
//! `verification_key.json`; its id is the user's (`[a-z0-9][a-z0-9-]{0,63}`, never a built-in
//! id's form).
//!
//! ```json
//! {
//!   "format": 2,
//!   "circuits": [
//!     {
//!       "kind": "builtin",
//!       "id": "threshold-d20-k8",
//!       "constraints": 61234,
//!       "publicInputs": 5,
//!       "development": false,
//!       "ceremony": { "zkeySha256": "9f86..." },
//!       "files": {
//!         "provingKey": { "name": "threshold-d20-k8.pk", "bytes": 123, "sha256": "ab12..." },
//!         "verifyingKey": { "name": "threshold-d20-k8.vk", "bytes": 456, "sha256": "cd34..." }
//!       }
//!     },
//!     {
//!       "kind": "circom",
//!       "id": "my-circuit",
//!       "zkey": { "name": "my-circuit.zkey", "bytes": 789, "sha256": "ef56..." },
//!       "wasm": { "name": "my-circuit.wasm", "bytes": 1011, "sha256": "0a1b..." },
//!       "verifyingKey": { "name": "my-circuit.vkey.json", "bytes": 1213, "sha256": "2c3d..." }
//!     }
//!   ]
//! }
//! ```
//! A development entry has `"development": true` and a `warning`; a ceremony entry has
//! `"development": false` and `ceremony`; an entry of neither is a key from `setup`'s OS
//! randomness (one party's: fine for tests, not a production key). File names are resolved
//! against the manifest's own location.
//!
//! Format 1 (airprover 0.1's) is still read: only `builtin` entries, without `kind` and without
//! `ceremony`. Every other field, kind or format is refused ([`Error::KeyIntegrity`]), and so is
//! an id listed twice. Circuits are kept sorted by id; storing a circuit that is already listed
//! replaces its entry, whatever its kind.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::keys::KeyKind;
use crate::circuit::id::CircuitId;
use crate::error::{Error, Result};

/// The manifest's file name inside a key directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Version of the manifest layout airprover writes.
pub const MANIFEST_FORMAT: u32 = 2;
/// The oldest layout still read: format 1, `builtin` entries only, without `kind`.
const OLDEST_FORMAT: u32 = 1;
/// The warning every development entry carries.
pub const DEVELOPMENT_WARNING: &str = "development keys made from a seed: anyone who knows the \
     seed can forge proofs that verify with them. Never use them for a real campaign.";

/// The file name of a circuit's key in a key directory: `{id}.pk` or `{id}.vk`.
pub fn key_file_name(circuit: &CircuitId, kind: KeyKind) -> String {
    match kind {
        KeyKind::Proving => format!("{circuit}.pk"),
        KeyKind::Verifying => format!("{circuit}.vk"),
    }
}

/// The contents of `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyManifest {
    /// Layout version: [`MANIFEST_FORMAT`], or 1 for a manifest read from an older airprover.
    pub format: u32,
    /// One entry per circuit, sorted by id.
    pub circuits: Vec<ManifestEntry>,
}

/// One circuit of a manifest, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ManifestEntry {
    /// One of airprover's circuits with its key files.
    Builtin(CircuitKeys),
    /// A circom circuit: snarkjs's zkey and verifying key, circom's witness wasm.
    Circom(CircomCircuit),
}

/// One built-in circuit's keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CircuitKeys {
    /// The circuit id.
    pub id: String,
    /// Number of R1CS constraints.
    pub constraints: usize,
    /// Number of public inputs (not counting the constant one).
    pub public_inputs: usize,
    /// Keys made from a seed.
    pub development: bool,
    /// [`DEVELOPMENT_WARNING`] on development keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// Keys imported from a phase-2 ceremony's final zkey (`import-zkey`); never on development
    /// keys. Format 2 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceremony: Option<Ceremony>,
    /// The two key files.
    pub files: KeyFiles,
}

/// Where ceremony keys came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ceremony {
    /// SHA-256 (lowercase hex) of the ceremony's final `.zkey`, as `import-zkey` read it: anyone
    /// can check the key against the ceremony's published transcript.
    pub zkey_sha256: String,
}

/// A circom circuit's files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CircomCircuit {
    /// The user's circuit id: `[a-z0-9][a-z0-9-]{0,63}`, never a built-in id's form.
    pub id: String,
    /// snarkjs's Groth16 `.zkey`.
    pub zkey: FileDigest,
    /// circom's witness wasm (`circuit_js/circuit.wasm`).
    pub wasm: FileDigest,
    /// snarkjs's `verification_key.json` of the zkey.
    pub verifying_key: FileDigest,
}

/// The two key files of a circuit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyFiles {
    /// The proving key.
    pub proving_key: FileDigest,
    /// The verifying key.
    pub verifying_key: FileDigest,
}

/// A file's name, size and SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileDigest {
    /// File name, relative to the manifest.
    pub name: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
}

impl FileDigest {
    /// Describes `contents`, stored as `name`.
    pub fn of(name: String, contents: &[u8]) -> Self {
        FileDigest {
            name,
            bytes: contents.len() as u64,
            sha256: hex::encode(Sha256::digest(contents)),
        }
    }

    /// Fails unless `contents` are the bytes this entry describes.
    pub fn check(&self, contents: &[u8]) -> Result<()> {
        if contents.len() as u64 != self.bytes {
            return Err(Error::key_integrity(format!(
                "{}: {} bytes, the manifest says {}",
                self.name,
                contents.len(),
                self.bytes
            )));
        }
        if hex::encode(Sha256::digest(contents)) != self.sha256 {
            return Err(Error::key_integrity(format!(
                "{}: its SHA-256 does not match the manifest",
                self.name
            )));
        }
        Ok(())
    }
}

impl CircuitKeys {
    /// The entry for keys just made: development keys, ceremony keys (`ceremony`) or neither.
    pub fn new(
        circuit: &CircuitId,
        constraints: usize,
        public_inputs: usize,
        proving_key: &[u8],
        verifying_key: &[u8],
        development: bool,
        ceremony: Option<Ceremony>,
    ) -> Self {
        CircuitKeys {
            id: circuit.to_string(),
            constraints,
            public_inputs,
            development,
            warning: development.then(|| DEVELOPMENT_WARNING.to_string()),
            ceremony,
            files: KeyFiles {
                proving_key: FileDigest::of(key_file_name(circuit, KeyKind::Proving), proving_key),
                verifying_key: FileDigest::of(
                    key_file_name(circuit, KeyKind::Verifying),
                    verifying_key,
                ),
            },
        }
    }

    /// The entry of the `kind` key file.
    pub fn file(&self, kind: KeyKind) -> &FileDigest {
        match kind {
            KeyKind::Proving => &self.files.proving_key,
            KeyKind::Verifying => &self.files.verifying_key,
        }
    }
}

impl ManifestEntry {
    /// The circuit id.
    pub fn id(&self) -> &str {
        match self {
            ManifestEntry::Builtin(keys) => &keys.id,
            ManifestEntry::Circom(circom) => &circom.id,
        }
    }

    /// Every file the entry lists.
    pub fn files(&self) -> Vec<&FileDigest> {
        match self {
            ManifestEntry::Builtin(keys) => {
                vec![&keys.files.proving_key, &keys.files.verifying_key]
            }
            ManifestEntry::Circom(circom) => {
                vec![&circom.zkey, &circom.wasm, &circom.verifying_key]
            }
        }
    }

    /// What no serde attribute says: the id's form for the kind, the development and ceremony
    /// labels agreeing, digests spelled as SHA-256s.
    fn check(&self, format: u32) -> std::result::Result<(), String> {
        let id = self.id();
        match self {
            ManifestEntry::Builtin(keys) => {
                if !matches!(id.parse::<CircuitId>(), Ok(parsed) if !parsed.is_circom()) {
                    return Err(format!("{id}: not a built-in circuit id"));
                }
                if let Some(ceremony) = &keys.ceremony {
                    if format < 2 {
                        return Err(format!("{id}: `ceremony` is a format 2 field"));
                    }
                    if keys.development {
                        return Err(format!("{id}: a ceremony key cannot be a development key"));
                    }
                    sha256_hex(&ceremony.zkey_sha256)
                        .map_err(|e| format!("{id}: ceremony.zkeySha256 {e}"))?;
                }
            }
            ManifestEntry::Circom(_) => {
                if format < 2 {
                    return Err(format!("{id}: circom circuits need format 2"));
                }
                if !matches!(id.parse::<CircuitId>(), Ok(parsed) if parsed.is_circom()) {
                    return Err(format!(
                        "{id}: a circom circuit's id is [a-z0-9][a-z0-9-]{{0,63}}, not in a \
                         built-in id's form"
                    ));
                }
            }
        }
        for file in self.files() {
            sha256_hex(&file.sha256).map_err(|e| format!("{id}: {}: sha256 {e}", file.name))?;
        }
        Ok(())
    }
}

impl From<CircuitKeys> for ManifestEntry {
    fn from(keys: CircuitKeys) -> Self {
        ManifestEntry::Builtin(keys)
    }
}

impl From<CircomCircuit> for ManifestEntry {
    fn from(circom: CircomCircuit) -> Self {
        ManifestEntry::Circom(circom)
    }
}

/// 64 hex digits (either case: the runtime compares them lowercased).
fn sha256_hex(s: &str) -> std::result::Result<(), &'static str> {
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err("is not 64 hex digits")
    }
}

impl Default for KeyManifest {
    fn default() -> Self {
        KeyManifest {
            format: MANIFEST_FORMAT,
            circuits: Vec::new(),
        }
    }
}

impl KeyManifest {
    /// Parses `manifest.json`; a malformed manifest is a [`Error::KeyIntegrity`].
    pub fn from_json(text: &str) -> Result<Self> {
        Self::parse(text).map_err(|e| Error::key_integrity(format!("{MANIFEST_FILE}: {e}")))
    }

    fn parse(text: &str) -> std::result::Result<Self, String> {
        let mut value = crate::json::parse_strict(text).map_err(|e| e.to_string())?;
        let format = value
            .get("format")
            .and_then(serde_json::Value::as_u64)
            .ok_or("no format number")?;
        if !(u64::from(OLDEST_FORMAT)..=u64::from(MANIFEST_FORMAT)).contains(&format) {
            return Err(format!(
                "format {format}, this airprover reads formats {OLDEST_FORMAT} to {MANIFEST_FORMAT}"
            ));
        }
        if format == 1 {
            // Format 1 had one kind of entry and no `kind` field: give it the tag it implies.
            let entries = value.get_mut("circuits").and_then(|c| c.as_array_mut());
            for entry in entries.into_iter().flatten() {
                if let Some(entry) = entry.as_object_mut() {
                    if entry.contains_key("kind") {
                        return Err("`kind` is a format 2 field".into());
                    }
                    entry.insert("kind".into(), "builtin".into());
                }
            }
        }
        let manifest: KeyManifest = serde_json::from_value(value).map_err(|e| e.to_string())?;
        let mut seen = std::collections::HashSet::new();
        for entry in &manifest.circuits {
            entry.check(manifest.format)?;
            if !seen.insert(entry.id()) {
                return Err(format!("{} is listed twice", entry.id()));
            }
        }
        Ok(manifest)
    }

    /// The manifest as pretty JSON, with a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a manifest always serialises");
        text.push('\n');
        text
    }

    /// Adds `entry`, replacing an entry of the same circuit id (of either kind); keeps the list
    /// sorted by id. The manifest is format 2 from then on.
    pub fn merge(&mut self, entry: impl Into<ManifestEntry>) {
        let entry = entry.into();
        self.format = MANIFEST_FORMAT;
        self.circuits.retain(|c| c.id() != entry.id());
        let at = self.circuits.partition_point(|c| c.id() < entry.id());
        self.circuits.insert(at, entry);
    }

    /// The keys of the built-in `circuit`, if listed.
    pub fn entry(&self, circuit: &CircuitId) -> Option<&CircuitKeys> {
        let id = circuit.to_string();
        self.circuits.iter().find_map(|c| match c {
            ManifestEntry::Builtin(keys) if keys.id == id => Some(keys),
            _ => None,
        })
    }

    /// The ids of the built-in circuits listed (the ones a claim may name).
    pub fn builtin_ids(&self) -> Vec<String> {
        self.circuits
            .iter()
            .filter(|c| matches!(c, ManifestEntry::Builtin(_)))
            .map(|c| c.id().to_string())
            .collect()
    }

    /// The ids of every circuit listed, of either kind, sorted.
    pub fn ids(&self) -> Vec<String> {
        self.circuits.iter().map(|c| c.id().to_string()).collect()
    }

    /// The ids of the circom circuits listed, sorted.
    pub fn circom_ids(&self) -> Vec<String> {
        self.circuits
            .iter()
            .filter(|c| matches!(c, ManifestEntry::Circom(_)))
            .map(|c| c.id().to_string())
            .collect()
    }

    /// The circom circuit `id`, if listed.
    pub fn circom(&self, id: &str) -> Option<&CircomCircuit> {
        self.circuits.iter().find_map(|c| match c {
            ManifestEntry::Circom(circom) if circom.id == id => Some(circom),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn id(s: &str) -> CircuitId {
        s.parse().unwrap()
    }

    fn keys(circuit: &str, constraints: usize, pk: &[u8], development: bool) -> CircuitKeys {
        CircuitKeys::new(&id(circuit), constraints, 5, pk, b"vk", development, None)
    }

    fn circom(id: &str) -> CircomCircuit {
        CircomCircuit {
            id: id.into(),
            zkey: FileDigest::of(format!("{id}.zkey"), b"zkey"),
            wasm: FileDigest::of(format!("{id}.wasm"), b"wasm"),
            verifying_key: FileDigest::of(format!("{id}.vkey.json"), b"{}"),
        }
    }

    fn ceremony() -> Ceremony {
        Ceremony {
            zkey_sha256: hex::encode(Sha256::digest(b"final.zkey")),
        }
    }

    /// A manifest as airprover 0.1 wrote it (format 1): one development entry.
    const FORMAT_1: &str = r#"{
  "format": 1,
  "circuits": [
    {
      "id": "threshold-d4-k2",
      "constraints": 3281,
      "publicInputs": 5,
      "development": true,
      "warning": "development keys made from a seed: anyone who knows the seed can forge proofs that verify with them. Never use them for a real campaign.",
      "files": {
        "provingKey": { "name": "threshold-d4-k2.pk", "bytes": 3, "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
        "verifyingKey": { "name": "threshold-d4-k2.vk", "bytes": 3, "sha256": "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD" }
      }
    }
  ]
}"#;

    #[test]
    fn merges_by_id_and_keeps_order() {
        let mut m = KeyManifest::default();
        m.merge(keys("threshold-d4-k2", 10, b"pk", true));
        m.merge(keys("exact-d4-k2", 11, b"pk", false));
        m.merge(circom("my-circuit"));
        m.merge(keys("threshold-d4-k2", 12, b"pk2", false));
        let ids: Vec<&str> = m.circuits.iter().map(ManifestEntry::id).collect();
        assert_eq!(ids, ["exact-d4-k2", "my-circuit", "threshold-d4-k2"]);
        let entry = m.entry(&id("threshold-d4-k2")).unwrap();
        assert_eq!(entry.constraints, 12);
        assert!(!entry.development && entry.warning.is_none());
        assert_eq!(entry.files.proving_key.bytes, 3);
        assert_eq!(m.circom("my-circuit"), Some(&circom("my-circuit")));
        assert_eq!(m.circom("threshold-d4-k2"), None);
        // A circom entry under a replaced id is replaced too: one entry per id, whatever its kind.
        let mut other = circom("my-circuit");
        other.zkey = FileDigest::of("v2.zkey".into(), b"zkey v2");
        m.merge(other.clone());
        assert_eq!(m.circuits.len(), 3);
        assert_eq!(m.circom("my-circuit"), Some(&other));
    }

    #[test]
    fn round_trips_every_kind_and_spells_fields_in_camel_case() {
        let mut m = KeyManifest::default();
        m.merge(keys("threshold-d4-k2", 10, b"abc", true));
        m.merge(CircuitKeys::new(
            &id("threshold-d20-k8"),
            41995,
            5,
            b"pk",
            b"vk",
            false,
            Some(ceremony()),
        ));
        m.merge(circom("my-circuit"));
        let text = m.to_json();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["format"], 2);
        let [circom_entry, ceremony_entry, development] =
            &value["circuits"].as_array().unwrap()[..]
        else {
            panic!("three entries, sorted by id: {text}");
        };
        assert_eq!(development["kind"], "builtin");
        assert_eq!(development["publicInputs"], 5);
        assert!(development["warning"].is_string());
        assert!(development.get("ceremony").is_none());
        // SHA-256("abc")
        assert_eq!(
            development["files"]["provingKey"]["sha256"],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(ceremony_entry["development"], false);
        assert_eq!(
            ceremony_entry["ceremony"],
            json!({ "zkeySha256": ceremony().zkey_sha256 })
        );
        assert!(ceremony_entry.get("warning").is_none());
        assert_eq!(
            circom_entry,
            &json!({
                "kind": "circom",
                "id": "my-circuit",
                "zkey": circom_entry["zkey"],
                "wasm": { "name": "my-circuit.wasm", "bytes": 4, "sha256": hex::encode(Sha256::digest(b"wasm")) },
                "verifyingKey": circom_entry["verifyingKey"],
            })
        );
        assert_eq!(circom_entry["verifyingKey"]["name"], "my-circuit.vkey.json");
        assert_eq!(KeyManifest::from_json(&text).unwrap(), m);
    }

    #[test]
    fn reads_format_1_and_writes_it_back_as_format_2() {
        let mut m = KeyManifest::from_json(FORMAT_1).unwrap();
        assert_eq!(m.format, 1);
        let entry = m.entry(&id("threshold-d4-k2")).unwrap();
        assert!(entry.development && entry.ceremony.is_none());
        assert_eq!(entry.constraints, 3281);
        // Once anything is stored, the manifest is written in today's format.
        m.merge(circom("my-circuit"));
        let text = m.to_json();
        assert!(text.contains("\"format\": 2"), "{text}");
        assert!(text.contains("\"kind\": \"builtin\""), "{text}");
        assert_eq!(KeyManifest::from_json(&text).unwrap(), m);
    }

    #[test]
    fn rejects_malformed_manifests() {
        let valid: Value = serde_json::from_str(&{
            let mut m = KeyManifest::default();
            m.merge(CircuitKeys::new(
                &id("threshold-d4-k2"),
                1,
                5,
                b"pk",
                b"vk",
                false,
                Some(ceremony()),
            ));
            m.merge(circom("my-circuit"));
            m.to_json()
        })
        .unwrap();
        let format_1: Value = serde_json::from_str(FORMAT_1).unwrap();
        let edit = |base: &Value, change: &dyn Fn(&mut Value)| {
            let mut v = base.clone();
            change(&mut v);
            v.to_string()
        };
        let bad = [
            ("empty", String::new()),
            ("no format", "{}".into()),
            ("format 0", r#"{"format":0,"circuits":[]}"#.into()),
            ("format 3", r#"{"format":3,"circuits":[]}"#.into()),
            (
                "an unknown field",
                r#"{"format":2,"circuits":[],"x":1}"#.into(),
            ),
            (
                "no kind",
                edit(&valid, &|v| {
                    v["circuits"][1].as_object_mut().unwrap().remove("kind");
                }),
            ),
            (
                "another kind",
                edit(&valid, &|v| v["circuits"][1]["kind"] = json!("plonk")),
            ),
            (
                "an unknown entry field",
                edit(&valid, &|v| v["circuits"][0]["x"] = json!(1)),
            ),
            (
                "an unknown ceremony field",
                edit(&valid, &|v| {
                    v["circuits"][1]["ceremony"]["contributions"] = json!(3)
                }),
            ),
            (
                "a development ceremony key",
                edit(&valid, &|v| v["circuits"][1]["development"] = json!(true)),
            ),
            (
                "a ceremony digest that is not one",
                edit(&valid, &|v| {
                    v["circuits"][1]["ceremony"]["zkeySha256"] = json!("abc")
                }),
            ),
            (
                "a file digest that is not one",
                edit(&valid, &|v| v["circuits"][0]["wasm"]["sha256"] = json!("")),
            ),
            (
                "a circom entry without its wasm",
                edit(&valid, &|v| {
                    v["circuits"][0].as_object_mut().unwrap().remove("wasm");
                }),
            ),
            (
                "a circom entry with key files",
                edit(&valid, &|v| {
                    v["circuits"][0]["files"] = v["circuits"][1]["files"].clone()
                }),
            ),
            (
                "a circom id of a built-in's form",
                edit(&valid, &|v| {
                    v["circuits"][0]["id"] = json!("threshold-d3-k1")
                }),
            ),
            (
                "a circom id of a built-in's form, unknown",
                edit(&valid, &|v| {
                    v["circuits"][0]["id"] = json!("square-chain-x")
                }),
            ),
            (
                "a circom id with capitals",
                edit(&valid, &|v| v["circuits"][0]["id"] = json!("My-circuit")),
            ),
            (
                "a circom id starting with -",
                edit(&valid, &|v| v["circuits"][0]["id"] = json!("-a")),
            ),
            (
                "a circom id of 65",
                edit(&valid, &|v| v["circuits"][0]["id"] = json!("a".repeat(65))),
            ),
            (
                "a built-in entry of a circom id",
                edit(&valid, &|v| v["circuits"][1]["id"] = json!("my-circuit-2")),
            ),
            (
                "an id twice",
                edit(&valid, &|v| {
                    v["circuits"][0]["id"] = json!("threshold-d4-k2")
                }),
            ),
            (
                "a circom id twice",
                edit(&valid, &|v| {
                    let again = v["circuits"][0].clone();
                    v["circuits"].as_array_mut().unwrap().push(again);
                }),
            ),
            (
                "format 1 with kind",
                edit(&format_1, &|v| v["circuits"][0]["kind"] = json!("builtin")),
            ),
            (
                "format 1 with a ceremony",
                edit(&format_1, &|v| {
                    v["circuits"][0]["development"] = json!(false);
                    v["circuits"][0]["ceremony"] = json!({ "zkeySha256": "ab".repeat(32) });
                }),
            ),
            (
                "format 1 with a circom entry",
                edit(&valid, &|v| {
                    v["format"] = json!(1);
                    v["circuits"].as_array_mut().unwrap().truncate(1);
                    v["circuits"][0].as_object_mut().unwrap().remove("kind");
                }),
            ),
        ];
        for (what, text) in bad {
            let err = KeyManifest::from_json(&text).unwrap_err();
            assert_eq!(err.code(), "KEY_INTEGRITY", "{what}: {text}");
            assert!(err.to_string().contains(MANIFEST_FILE), "{what}: {err}");
        }
        // The valid one and its variants that are fine: the longest circom id, digits first.
        KeyManifest::from_json(&valid.to_string()).unwrap();
        for ok in ["a".repeat(64), "0-circuit".into(), "threshold".into()] {
            KeyManifest::from_json(&edit(&valid, &|v| v["circuits"][0]["id"] = json!(ok)))
                .unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }

    #[test]
    fn checks_file_contents() {
        let entry = FileDigest::of("a.pk".into(), b"bytes");
        entry.check(b"bytes").unwrap();
        assert_eq!(entry.check(b"byte").unwrap_err().code(), "KEY_INTEGRITY");
        assert_eq!(entry.check(b"bytez").unwrap_err().code(), "KEY_INTEGRITY");
    }
}
