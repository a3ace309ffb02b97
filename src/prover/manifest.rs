//! `manifest.json`: what a key directory holds, so that a browser (or a person) can tell which
//! circuits are there, how large their keys are and whether the bytes it fetched are the ones
//! that were published.
//!
//! ```json
//! {
//!   "format": 1,
//!   "circuits": [
//!     {
//!       "id": "threshold-d20-k8",
//!       "constraints": 61234,
//!       "publicInputs": 5,
//!       "development": true,
//!       "warning": "development keys ...",
//!       "files": {
//!         "provingKey": { "name": "threshold-d20-k8.pk", "bytes": 123, "sha256": "ab12..." },
//!         "verifyingKey": { "name": "threshold-d20-k8.vk", "bytes": 456, "sha256": "cd34..." }
//!       }
//!     }
//!   ]
//! }
//! ```
//! Circuits are kept sorted by id; a setup of a circuit that is already listed replaces its entry.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::keys::KeyKind;
use crate::circuit::id::CircuitId;
use crate::error::{Error, Result};

/// The manifest's file name inside a key directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Version of the manifest layout.
pub const MANIFEST_FORMAT: u32 = 1;
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
    /// Layout version, [`MANIFEST_FORMAT`].
    pub format: u32,
    /// One entry per circuit, sorted by id.
    pub circuits: Vec<CircuitKeys>,
}

/// One circuit's keys.
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
    /// The two key files.
    pub files: KeyFiles,
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
    /// The entry for keys just made.
    pub fn new(
        circuit: &CircuitId,
        constraints: usize,
        public_inputs: usize,
        proving_key: &[u8],
        verifying_key: &[u8],
        development: bool,
    ) -> Self {
        CircuitKeys {
            id: circuit.to_string(),
            constraints,
            public_inputs,
            development,
            warning: development.then(|| DEVELOPMENT_WARNING.to_string()),
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
        let manifest: KeyManifest = crate::json::parse_strict(text)
            .map_err(|e| e.to_string())
            .and_then(|value| serde_json::from_value(value).map_err(|e| e.to_string()))
            .map_err(|e| Error::key_integrity(format!("{MANIFEST_FILE}: {e}")))?;
        if manifest.format != MANIFEST_FORMAT {
            return Err(Error::key_integrity(format!(
                "{MANIFEST_FILE}: format {}, this airprover reads format {MANIFEST_FORMAT}",
                manifest.format
            )));
        }
        Ok(manifest)
    }

    /// The manifest as pretty JSON, with a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a manifest always serialises");
        text.push('\n');
        text
    }

    /// Adds `entry`, replacing an entry of the same circuit; keeps the list sorted by id.
    pub fn merge(&mut self, entry: CircuitKeys) {
        self.circuits.retain(|c| c.id != entry.id);
        let at = self.circuits.partition_point(|c| c.id < entry.id);
        self.circuits.insert(at, entry);
    }

    /// The entry of `circuit`, if listed.
    pub fn entry(&self, circuit: &CircuitId) -> Option<&CircuitKeys> {
        let id = circuit.to_string();
        self.circuits.iter().find(|c| c.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> CircuitId {
        s.parse().unwrap()
    }

    #[test]
    fn merges_by_id_and_keeps_order() {
        let mut m = KeyManifest::default();
        m.merge(CircuitKeys::new(
            &id("threshold-d4-k2"),
            10,
            5,
            b"pk",
            b"vk",
            true,
        ));
        m.merge(CircuitKeys::new(
            &id("exact-d4-k2"),
            11,
            5,
            b"pk",
            b"vk",
            false,
        ));
        m.merge(CircuitKeys::new(
            &id("threshold-d4-k2"),
            12,
            5,
            b"pk2",
            b"vk2",
            false,
        ));
        let ids: Vec<&str> = m.circuits.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["exact-d4-k2", "threshold-d4-k2"]);
        let entry = m.entry(&id("threshold-d4-k2")).unwrap();
        assert_eq!(entry.constraints, 12);
        assert!(!entry.development && entry.warning.is_none());
        assert_eq!(entry.files.proving_key.bytes, 3);
    }

    #[test]
    fn round_trips_and_spells_fields_in_camel_case() {
        let mut m = KeyManifest::default();
        m.merge(CircuitKeys::new(
            &id("threshold-d4-k2"),
            10,
            5,
            b"abc",
            b"vk",
            true,
        ));
        let text = m.to_json();
        assert!(text.contains("\"publicInputs\": 5"), "{text}");
        assert!(text.contains("\"provingKey\""), "{text}");
        assert!(text.contains("\"warning\""), "{text}");
        // SHA-256("abc")
        assert!(text.contains("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        assert_eq!(KeyManifest::from_json(&text).unwrap(), m);
    }

    #[test]
    fn rejects_malformed_manifests() {
        for bad in [
            "",
            "{}",
            r#"{"format":2,"circuits":[]}"#,
            r#"{"format":1,"circuits":[],"x":1}"#,
        ] {
            assert_eq!(
                KeyManifest::from_json(bad).unwrap_err().code(),
                "KEY_INTEGRITY",
                "{bad}"
            );
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
