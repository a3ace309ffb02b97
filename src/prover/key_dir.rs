//! A key directory on disk (native only): `{id}.pk`, `{id}.vk` and `manifest.json`; a circom
//! circuit's `{id}.zkey`, `{id}.wasm` and `{id}.vkey.json`.
//!
//! Storing keys writes both files and merges the circuit's entry into the manifest, so one
//! directory can hold the keys of many circuits (and circom circuits, [`KeyDir::store_circom`]). Loading a key checks its header (kind and
//! circuit, naming both ids on a mismatch) and, when the manifest lists it, its size; the key's
//! own SHA-256 is checked when it is deserialised ([`super::keys::KeyFile::parse`]).

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::keys::{read_verifying_key, KeyHeader, KeyKind, Validation};
use super::manifest::{
    key_file_name, Ceremony, CircomCircuit, CircuitKeys, FileDigest, KeyManifest, ManifestEntry,
    MANIFEST_FILE,
};
use crate::circom::cache::ZkeyBytes;
use crate::circuit::id::CircuitId;
use crate::error::{Error, Result};

/// A directory of key files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDir {
    path: PathBuf,
}

impl KeyDir {
    /// The key directory at `path` (not created until keys are stored).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        KeyDir { path: path.into() }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the `kind` key of `circuit` lives.
    pub fn key_path(&self, circuit: &CircuitId, kind: KeyKind) -> PathBuf {
        self.path.join(key_file_name(circuit, kind))
    }

    /// Writes both key files of `circuit` and merges its entry into the manifest. Whether the keys
    /// are development keys is read from the proving key's header; `ceremony` labels keys
    /// imported from a ceremony's zkey.
    pub fn store(
        &self,
        circuit: &CircuitId,
        proving_key: &[u8],
        verifying_key: &[u8],
        constraints: usize,
        ceremony: Option<Ceremony>,
    ) -> Result<CircuitKeys> {
        let header = KeyHeader::read(proving_key)?;
        header.expect(KeyKind::Proving, circuit)?;
        if header.development && ceremony.is_some() {
            return Err(Error::key_integrity(format!(
                "development keys of {circuit} cannot be labelled ceremony keys"
            )));
        }
        KeyHeader::read(verifying_key)?.expect(KeyKind::Verifying, circuit)?;
        fs::create_dir_all(&self.path).map_err(|e| io_error(&self.path, e))?;
        write_atomically(&self.key_path(circuit, KeyKind::Proving), proving_key)?;
        write_atomically(&self.key_path(circuit, KeyKind::Verifying), verifying_key)?;
        let public_inputs = read_verifying_key(verifying_key, circuit, Validation::Unchecked)?
            .gamma_abc_g1
            .len()
            .saturating_sub(1);
        let entry = CircuitKeys::new(
            circuit,
            constraints,
            public_inputs,
            proving_key,
            verifying_key,
            header.development,
            ceremony,
        );
        self.list(entry.clone())?;
        Ok(entry)
    }

    /// Writes `entry` into the directory's manifest (made if missing), replacing an entry of the
    /// same id.
    fn list(&self, entry: impl Into<ManifestEntry>) -> Result<()> {
        let mut manifest = self.manifest()?.unwrap_or_default();
        manifest.merge(entry);
        write_atomically(
            &self.path.join(MANIFEST_FILE),
            manifest.to_json().as_bytes(),
        )
    }

    /// The manifest, if the directory has one.
    pub fn manifest(&self) -> Result<Option<KeyManifest>> {
        let path = self.path.join(MANIFEST_FILE);
        match fs::read_to_string(&path) {
            Ok(text) => KeyManifest::from_json(&text).map(Some),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&path, e)),
        }
    }

    /// The bytes of the `kind` key of `circuit`, after checking its header, and its size and
    /// SHA-256 against the directory's manifest when it has one (KEY_INTEGRITY otherwise).
    pub fn load(&self, circuit: &CircuitId, kind: KeyKind) -> Result<Vec<u8>> {
        let path = self.key_path(circuit, kind);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(Error::KeyNotFound {
                    what: format!(
                        "no {} key for {circuit} in {} (run `airprover setup --circuit {circuit} --out {}`)",
                        kind.name(),
                        self.path.display(),
                        self.path.display()
                    ),
                })
            }
            Err(e) => return Err(io_error(&path, e)),
        };
        KeyHeader::read(&bytes)
            .and_then(|header| header.expect(kind, circuit))
            .map_err(|e| Error::key_integrity(format!("{}: {}", path.display(), detail(&e))))?;
        if let Some(entry) = self.manifest()?.as_ref().and_then(|m| m.entry(circuit)) {
            // Pinned: the manifest's size and SHA-256, as the browser checks them (the digest
            // in the key's own header can be recomputed by whoever changed the bytes).
            let listed = entry.file(kind);
            if listed.bytes != bytes.len() as u64 {
                return Err(Error::key_integrity(format!(
                    "{}: {} bytes, {MANIFEST_FILE} says {} (truncated or replaced?)",
                    path.display(),
                    bytes.len(),
                    listed.bytes
                )));
            }
            listed
                .check(&bytes)
                .map_err(|e| Error::key_integrity(format!("{}: {}", path.display(), detail(&e))))?;
        }
        Ok(bytes)
    }

    /// SHA-256 (hex) of the `kind` key file of `circuit`, read and checked as [`Self::load`]
    /// reads it: with a manifest that lists the key, the manifest's pinned digest.
    pub fn sha256(&self, circuit: &CircuitId, kind: KeyKind) -> Result<String> {
        use sha2::{Digest, Sha256};
        Ok(hex::encode(Sha256::digest(self.load(circuit, kind)?)))
    }
}

impl KeyDir {
    /// Copies a circom circuit's files into the directory as `{id}.zkey`, `{id}.wasm` and
    /// `{id}.vkey.json` and merges its entry into the manifest (replacing one of the same id).
    /// The id must be a circom circuit's; what the files hold is the caller's to check
    /// (`airprover add-circom` does).
    pub fn store_circom(
        &self,
        id: &str,
        zkey: &[u8],
        wasm: &[u8],
        verifying_key: &[u8],
    ) -> Result<CircomCircuit> {
        let circuit: CircuitId = id.parse()?;
        if !circuit.is_circom() {
            return Err(Error::UnknownCircuit {
                id: id.into(),
                reason: "a built-in circuit's id: a circom circuit's id is another name".into(),
            });
        }
        fs::create_dir_all(&self.path).map_err(|e| io_error(&self.path, e))?;
        let files = [
            (format!("{id}.zkey"), zkey),
            (format!("{id}.wasm"), wasm),
            (format!("{id}.vkey.json"), verifying_key),
        ];
        for (name, contents) in &files {
            write_atomically(&self.path.join(name), contents)?;
        }
        let [zkey, wasm, verifying_key] =
            files.map(|(name, contents)| FileDigest::of(name, contents));
        let entry = CircomCircuit {
            id: id.into(),
            zkey,
            wasm,
            verifying_key,
        };
        self.list(entry.clone())?;
        Ok(entry)
    }

    /// The circom circuit `id` of the manifest (`KEY_NOT_FOUND` when it lists none).
    pub fn circom_entry(&self, id: &str) -> Result<CircomCircuit> {
        self.manifest()?
            .as_ref()
            .and_then(|m| m.circom(id))
            .cloned()
            .ok_or_else(|| Error::KeyNotFound {
                what: format!(
                    "no circom circuit {id} in {} (add it with `airprover add-circom --keys {} \
                     --circuit {id} --zkey ... --wasm ... --vkey ...`)",
                    self.path.join(MANIFEST_FILE).display(),
                    self.path.display()
                ),
            })
    }

    /// A file the manifest lists, read and checked against its size and SHA-256 (`KEY_NOT_FOUND`
    /// when missing, `KEY_INTEGRITY` when other bytes).
    pub fn read_listed(&self, file: &FileDigest) -> Result<Vec<u8>> {
        let bytes = self.read_sized(file)?;
        file.check(&bytes).map_err(|e| {
            Error::key_integrity(format!("{}: {}", self.path.display(), detail(&e)))
        })?;
        Ok(bytes)
    }

    /// A circom circuit's zkey, read and checked as [`Self::read_listed`] checks a file, hashed
    /// once.
    pub fn circom_zkey(&self, entry: &CircomCircuit) -> Result<ZkeyBytes> {
        let zkey = ZkeyBytes::new(self.read_sized(&entry.zkey)?);
        if !zkey.sha256().eq_ignore_ascii_case(&entry.zkey.sha256) {
            return Err(Error::key_integrity(format!(
                "{}: its SHA-256 does not match {MANIFEST_FILE}",
                self.path.join(&entry.zkey.name).display()
            )));
        }
        Ok(zkey)
    }

    /// A listed file's bytes, its size checked.
    fn read_sized(&self, file: &FileDigest) -> Result<Vec<u8>> {
        // A name is the manifest's: never a path out of the directory.
        if file.name.contains(['/', '\\']) || file.name.starts_with('.') {
            return Err(Error::key_integrity(format!(
                "{MANIFEST_FILE}: file name {:?} is not a name in the directory",
                file.name
            )));
        }
        let path = self.path.join(&file.name);
        let bytes = fs::read(&path).map_err(|e| match e.kind() {
            ErrorKind::NotFound => Error::KeyNotFound {
                what: format!("{} (listed in {MANIFEST_FILE}) is missing", path.display()),
            },
            _ => io_error(&path, e),
        })?;
        if bytes.len() as u64 != file.bytes {
            return Err(Error::key_integrity(format!(
                "{}: {} bytes, {MANIFEST_FILE} says {} (truncated or replaced?)",
                path.display(),
                bytes.len(),
                file.bytes
            )));
        }
        Ok(bytes)
    }
}

/// The message of a key-integrity error without its code, to prefix it with a path.
fn detail(e: &Error) -> String {
    match e {
        Error::KeyIntegrity { what } => what.clone(),
        other => other.to_string(),
    }
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        what: e.to_string(),
    }
}

/// Writes through a temporary file and a rename, so that an interrupted setup never leaves a
/// half-written key under the real name.
fn write_atomically(path: &Path, contents: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    fs::write(&tmp, contents).map_err(|e| io_error(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| io_error(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prover::keys::tests::tiny_keys;
    use crate::prover::keys::{write_proving_key, write_verifying_key};

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("airprover-keydir-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn stores_merges_and_loads() {
        let dir = KeyDir::new(temp_dir("store"));
        let (a, pk_a, vk_a) = tiny_keys(2, 1);
        let (b, pk_b, vk_b) = tiny_keys(3, 1);
        let (pa, va) = (
            write_proving_key(&pk_a, None, &a, true).unwrap(),
            write_verifying_key(&vk_a, &a, true).unwrap(),
        );
        let (pb, vb) = (
            write_proving_key(&pk_b, None, &b, false).unwrap(),
            write_verifying_key(&vk_b, &b, false).unwrap(),
        );
        let ceremony = Ceremony {
            zkey_sha256: "cd".repeat(32),
        };
        // Development keys are never ceremony keys.
        let refused = dir.store(&a, &pa, &va, 3, Some(ceremony.clone()));
        assert_eq!(refused.unwrap_err().code(), "KEY_INTEGRITY");
        assert!(!dir.path().exists());
        dir.store(&a, &pa, &va, 3, None).unwrap();
        dir.store(&b, &pb, &vb, 4, Some(ceremony.clone())).unwrap();
        let manifest = dir.manifest().unwrap().unwrap();
        assert_eq!(manifest.circuits.len(), 2);
        assert!(manifest.entry(&a).unwrap().development);
        assert_eq!(manifest.entry(&a).unwrap().ceremony, None);
        assert!(!manifest.entry(&b).unwrap().development);
        assert_eq!(manifest.entry(&b).unwrap().ceremony, Some(ceremony));
        assert_eq!(dir.load(&a, KeyKind::Proving).unwrap(), pa);
        assert_eq!(dir.load(&b, KeyKind::Verifying).unwrap(), vb);

        let missing: CircuitId = "square-chain-9".parse().unwrap();
        assert_eq!(
            dir.load(&missing, KeyKind::Proving).unwrap_err().code(),
            "KEY_NOT_FOUND"
        );

        // b's key copied over a's name: the header names b.
        fs::copy(
            dir.key_path(&b, KeyKind::Proving),
            dir.key_path(&a, KeyKind::Proving),
        )
        .unwrap();
        let err = dir.load(&a, KeyKind::Proving).unwrap_err();
        assert_eq!(err.code(), "KEY_INTEGRITY");
        assert!(
            err.to_string()
                .contains("square-chain-3, not for square-chain-2"),
            "{err}"
        );

        // Truncated: the manifest size does not match.
        fs::write(dir.key_path(&b, KeyKind::Verifying), &vb[..vb.len() - 1]).unwrap();
        assert_eq!(
            dir.load(&b, KeyKind::Verifying).unwrap_err().code(),
            "KEY_INTEGRITY"
        );
        fs::remove_dir_all(dir.path()).unwrap();
    }

    #[test]
    fn a_key_replaced_by_another_valid_one_fails_its_pinned_sha256() {
        let dir = KeyDir::new(temp_dir("pinned"));
        let (a, pk, vk) = tiny_keys(2, 1);
        let (_, other_pk, _) = tiny_keys(2, 2);
        let p = write_proving_key(&pk, None, &a, false).unwrap();
        let v = write_verifying_key(&vk, &a, false).unwrap();
        dir.store(&a, &p, &v, 3, None).unwrap();
        // Same circuit, same size, a header digest of its own that matches: only the manifest's
        // SHA-256 tells them apart.
        let other = write_proving_key(&other_pk, None, &a, false).unwrap();
        assert_eq!(other.len(), p.len());
        assert_ne!(other, p);
        fs::write(dir.key_path(&a, KeyKind::Proving), &other).unwrap();
        let err = dir.load(&a, KeyKind::Proving).unwrap_err();
        assert_eq!(err.code(), "KEY_INTEGRITY");
        assert!(err.to_string().contains("SHA-256"), "{err}");
        assert!(!err.code().retryable_natively());
        fs::remove_dir_all(dir.path()).unwrap();
    }

    #[test]
    fn refuses_keys_that_are_not_for_the_circuit() {
        let dir = KeyDir::new(temp_dir("refuse"));
        let (a, pk, vk) = tiny_keys(2, 1);
        let other: CircuitId = "square-chain-5".parse().unwrap();
        let (p, v) = (
            write_proving_key(&pk, None, &a, false).unwrap(),
            write_verifying_key(&vk, &a, false).unwrap(),
        );
        assert_eq!(
            dir.store(&other, &p, &v, 1, None).unwrap_err().code(),
            "KEY_INTEGRITY"
        );
        assert_eq!(
            dir.store(&a, &v, &p, 1, None).unwrap_err().code(),
            "KEY_INTEGRITY"
        );
        assert!(!dir.path().exists());
    }
}
