//! The key manifest as the browser runtime uses it: each file the manifest lists becomes a
//! [`KeyMessage`] (its URL resolved against the manifest's, its pinned SHA-256 lowercased), per
//! circuit id and kind. The web layer (`web/runtime/manifest.rs`) only fetches the text and
//! resolves URLs with the browser's `URL`; reading and mapping are here, tested natively.

use std::collections::BTreeMap;

use super::engine::CircuitKeys;
use super::protocol::KeyMessage;
use crate::error::Result;
use crate::prover::manifest::{FileDigest, KeyManifest, ManifestEntry};

/// A circom circuit's files, as the runtime downloads them.
#[derive(Debug, Clone, PartialEq)]
pub struct CircomFiles {
    /// snarkjs's Groth16 `.zkey`.
    pub zkey: KeyMessage,
    /// circom's witness wasm.
    pub wasm: KeyMessage,
    /// snarkjs's `verification_key.json`.
    pub verifying_key: KeyMessage,
}

/// Every circuit a manifest lists, by kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManifestKeys {
    /// airprover's own circuits: their proving and verifying keys.
    pub builtin: BTreeMap<String, CircuitKeys>,
    /// circom circuits: their zkey, witness wasm and verifying key.
    pub circom: BTreeMap<String, CircomFiles>,
}

impl ManifestKeys {
    /// Reads manifest `text` (any format airprover reads) and resolves each file's name with
    /// `resolve` (against the manifest's URL, in the browser).
    pub fn read(text: &str, resolve: impl Fn(&str) -> String) -> Result<Self> {
        let manifest = KeyManifest::from_json(text)?;
        let mut keys = ManifestKeys::default();
        for entry in &manifest.circuits {
            match entry {
                ManifestEntry::Builtin(c) => {
                    let key = |file: &FileDigest| message(file, &resolve, c.development);
                    let refs = CircuitKeys {
                        proving: key(&c.files.proving_key),
                        verifying: key(&c.files.verifying_key),
                        witness: None,
                    };
                    keys.builtin.insert(c.id.clone(), refs);
                }
                ManifestEntry::Circom(c) => {
                    // Whether a zkey came from a real ceremony the manifest cannot tell: no
                    // circom file is labelled a development key.
                    let file = |file: &FileDigest| message(file, &resolve, false);
                    let files = CircomFiles {
                        zkey: file(&c.zkey),
                        wasm: file(&c.wasm),
                        verifying_key: file(&c.verifying_key),
                    };
                    keys.circom.insert(c.id.clone(), files);
                }
            }
        }
        Ok(keys)
    }

    /// Every circuit's keys for the engine: a circom circuit's zkey as its proving key, its
    /// `verification_key.json` as its verifying key and its witness wasm beside them.
    pub fn into_engine_keys(self) -> BTreeMap<String, CircuitKeys> {
        let mut keys = self.builtin;
        for (id, files) in self.circom {
            let circom = CircuitKeys {
                proving: files.zkey,
                verifying: files.verifying_key,
                witness: Some(files.wasm),
            };
            keys.insert(id, circom);
        }
        keys
    }

    /// SHA-256 of every file listed (what the key cache may keep).
    pub fn key_hashes(&self) -> Vec<String> {
        let builtin = self
            .builtin
            .values()
            .flat_map(|k| [&k.proving, &k.verifying]);
        let circom = self
            .circom
            .values()
            .flat_map(|c| [&c.zkey, &c.wasm, &c.verifying_key]);
        let converted = self
            .circom
            .values()
            .map(|c| converted_key_name(&c.zkey.sha256));
        builtin
            .chain(circom)
            .map(|k| k.sha256.clone())
            .chain(converted)
            .collect()
    }

    /// SHA-256 of every verifying key listed (proofs made under others are stale).
    pub fn verifying_key_hashes(&self) -> Vec<String> {
        let builtin = self.builtin.values().map(|k| &k.verifying);
        let circom = self.circom.values().map(|c| &c.verifying_key);
        builtin.chain(circom).map(|k| k.sha256.clone()).collect()
    }
}

/// The key cache's name for the proving key a worker converted from the zkey whose SHA-256 is
/// `zkey_sha256` (worker-jobs.js files it so; the start-up sweep keeps it while the zkey is listed).
pub fn converted_key_name(zkey_sha256: &str) -> String {
    format!("circom-converted:{}", zkey_sha256.to_ascii_lowercase())
}

fn message(file: &FileDigest, resolve: &impl Fn(&str) -> String, development: bool) -> KeyMessage {
    KeyMessage {
        url: resolve(&file.name),
        sha256: file.sha256.to_ascii_lowercase(),
        bytes: file.bytes as f64,
        development,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prover::manifest::{Ceremony, CircomCircuit, CircuitKeys as Entry};

    fn resolve(name: &str) -> String {
        format!("https://cdn.example/keys/{name}")
    }

    #[test]
    fn every_kind_becomes_messages_with_resolved_urls() {
        let mut m = KeyManifest::default();
        let development = "threshold-d4-k2".parse().unwrap();
        m.merge(Entry::new(&development, 1, 5, b"pk", b"vk", true, None));
        let ceremony = "threshold-d20-k8".parse().unwrap();
        let zkey_sha256 = "ab".repeat(32);
        m.merge(Entry::new(
            &ceremony,
            2,
            5,
            b"pk2",
            b"vk2",
            false,
            Some(Ceremony { zkey_sha256 }),
        ));
        m.merge(CircomCircuit {
            id: "my-circuit".into(),
            zkey: FileDigest::of("c/my.zkey".into(), b"zkey"),
            wasm: FileDigest::of("c/my.wasm".into(), b"wasm"),
            verifying_key: FileDigest::of("c/my.json".into(), b"{}"),
        });
        let keys = ManifestKeys::read(&m.to_json(), resolve).unwrap();
        assert_eq!(
            keys.builtin.keys().collect::<Vec<_>>(),
            ["threshold-d20-k8", "threshold-d4-k2"]
        );
        let dev = &keys.builtin["threshold-d4-k2"];
        assert_eq!(
            dev.proving.url,
            "https://cdn.example/keys/threshold-d4-k2.pk"
        );
        assert_eq!(dev.proving.bytes, 2.0);
        assert!(dev.proving.development && dev.verifying.development);
        assert!(!keys.builtin["threshold-d20-k8"].proving.development);
        let circom = &keys.circom["my-circuit"];
        assert_eq!(circom.zkey.url, "https://cdn.example/keys/c/my.zkey");
        assert_eq!(circom.wasm.url, "https://cdn.example/keys/c/my.wasm");
        assert_eq!(circom.verifying_key.bytes, 2.0);
        assert!(!circom.zkey.development);
        assert_eq!(keys.key_hashes().len(), 8);
        assert!(keys
            .key_hashes()
            .contains(&converted_key_name(&circom.zkey.sha256)));
        let verifying = keys.verifying_key_hashes();
        assert_eq!(verifying.len(), 3);
        assert!(verifying.contains(&circom.verifying_key.sha256));
        let circom = circom.clone();
        let engine = keys.into_engine_keys();
        assert_eq!(engine.len(), 3);
        assert_eq!(engine["my-circuit"].proving, circom.zkey);
        assert_eq!(engine["my-circuit"].witness, Some(circom.wasm));
        assert_eq!(engine["threshold-d4-k2"].witness, None);
    }

    #[test]
    fn format_1_reads_and_digests_are_lowercased() {
        let text = format!(
            r#"{{"format":1,"circuits":[{{"id":"square-chain-8","constraints":8,"publicInputs":2,
            "development":false,"files":{{
            "provingKey":{{"name":"square-chain-8.pk","bytes":1,"sha256":"{upper}"}},
            "verifyingKey":{{"name":"square-chain-8.vk","bytes":1,"sha256":"{upper}"}}}}}}]}}"#,
            upper = "AB".repeat(32)
        );
        let keys = ManifestKeys::read(&text, resolve).unwrap();
        assert!(keys.circom.is_empty());
        assert_eq!(
            keys.builtin["square-chain-8"].proving.sha256,
            "ab".repeat(32)
        );
    }

    #[test]
    fn a_bad_manifest_is_key_integrity() {
        let err =
            ManifestKeys::read(r#"{"format":2,"circuits":[{"kind":"x"}]}"#, resolve).unwrap_err();
        assert_eq!(err.code(), "KEY_INTEGRITY");
    }
}
