//! The converted-key cache (native only: the CLI and the service's workers): a snarkjs zkey is
//! converted into airprover's proving key once, every point checked ([`super::zkey`]), and the
//! result kept as a key file named by the zkey's SHA-256; later loads read that file unchecked,
//! as keys from `setup` are read ([`Validation::Unchecked`]: the file's own SHA-256 guarantees the
//! bytes are the ones written after the check).
//!
//! - **Where**: `--zkey-cache DIR` (`AIRPROVER_ZKEY_CACHE`), else `$XDG_CACHE_HOME/airprover/zkeys`,
//!   else `$HOME/.cache/airprover/zkeys`; `--no-zkey-cache` (or neither variable set) converts
//!   every time and writes nothing. The directory is made mode 0700: whoever can write in it can
//!   hand this process a key it will not check again, so it must be its user's own (as the key
//!   directory is).
//! - **An entry**: `{sha256}.pk`, the key file layout of [`crate::prover::keys`] with the
//!   circom reduction flag, the A and B matrices, and the zkey's SHA-256 as the circuit id in its
//!   header. Written to a temporary file of its own and renamed, so a reader (another worker
//!   starting at once) never sees half of one.
//! - **A bad entry** (truncated, its payload not matching its own SHA-256, another zkey's, not a
//!   circom key): removed and converted again from the zkey. A cache that cannot be written (a
//!   read-only disk) costs a conversion per load, nothing else: [`Origin::Converted`] says why.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::zkey::{sha256_hex, Zkey};
use crate::circuit::id::{CircomName, CircuitId};
use crate::error::{Error, Result};
use crate::prover::keys::{write_proving_key_for, KeyFile, KeyKind, Validation};
use crate::prover::msm::Kernel;
use crate::prover::prepared::PreparedProvingKey;
use crate::prover::qap::Reduction;

/// The cache directory's path under `$XDG_CACHE_HOME` (or `$HOME/.cache`).
const SUBDIR: &str = "airprover/zkeys";

/// A zkey's bytes and their SHA-256 (hex): what names its converted key.
#[derive(Clone)]
pub struct ZkeyBytes {
    bytes: Vec<u8>,
    sha256: String,
}

impl std::fmt::Debug for ZkeyBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ZkeyBytes({} bytes, {})", self.bytes.len(), self.sha256)
    }
}

impl ZkeyBytes {
    /// `bytes`, hashed.
    pub fn new(bytes: Vec<u8>) -> Self {
        let sha256 = sha256_hex(&bytes);
        ZkeyBytes { bytes, sha256 }
    }

    /// The file at `path`, read and hashed.
    pub fn read(path: &Path) -> Result<Self> {
        fs::read(path).map(Self::new).map_err(|e| io(path, &e))
    }

    /// SHA-256 of the bytes, lowercase hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Where a key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The cache's entry, read unchecked.
    Cached,
    /// Converted from the zkey, every point checked; `stored` says whether the cache keeps it
    /// now, or why not, and `replaced` what was wrong with an entry that was there.
    Converted {
        /// Kept in the cache at this path (`Ok`), or why not (a directory that cannot be
        /// written); `None` when there is no cache.
        stored: Option<std::result::Result<PathBuf, String>>,
        /// A bad entry that was there and was removed, and what was wrong with it.
        replaced: Option<String>,
    },
}

/// The converted-key cache: a directory, or none (convert every time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZkeyCache {
    dir: Option<PathBuf>,
}

impl ZkeyCache {
    /// No cache: every load converts, nothing is written.
    pub fn off() -> Self {
        ZkeyCache { dir: None }
    }

    /// The cache in `dir` (made on first write).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        ZkeyCache {
            dir: Some(dir.into()),
        }
    }

    /// The cache a command uses: `dir` when given (`--zkey-cache`), none when `off`
    /// (`--no-zkey-cache`), else [`Self::default_dir`]'s (none without `XDG_CACHE_HOME` and
    /// `HOME`).
    pub fn choose(dir: Option<PathBuf>, off: bool) -> Self {
        match (off, dir) {
            (true, _) => Self::off(),
            (false, Some(dir)) => Self::at(dir),
            (false, None) => ZkeyCache {
                dir: Self::default_dir(),
            },
        }
    }

    /// `$XDG_CACHE_HOME/airprover/zkeys`, else `$HOME/.cache/airprover/zkeys` (an empty or
    /// relative variable is ignored, as the XDG base directory specification says).
    pub fn default_dir() -> Option<PathBuf> {
        let absolute = |name: &str| {
            std::env::var_os(name)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
        };
        absolute("XDG_CACHE_HOME")
            .or_else(|| absolute("HOME").map(|home| home.join(".cache")))
            .map(|base| base.join(SUBDIR))
    }

    /// The directory, if the cache is on.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Where the key converted from the zkey whose SHA-256 is `sha256` is kept.
    pub fn entry(&self, sha256: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(format!("{sha256}.pk")))
    }

    /// The proving key of `zkey`, prepared for `kernel`: the cache's entry if it has a good one,
    /// else converted (every point checked) and stored. The zkey's bytes are dropped before the
    /// key is prepared, so a conversion holds one copy of the key at a time besides its file's.
    pub fn load(&self, zkey: ZkeyBytes, kernel: Kernel) -> Result<(PreparedProvingKey, Origin)> {
        let circuit = circuit_of(&zkey.sha256)?;
        let mut replaced = None;
        if let Some(path) = self.entry(&zkey.sha256) {
            // None there, or none readable (then writing one fails too, and says why): convert.
            if let Ok(bytes) = fs::read(&path) {
                match cached_key(&bytes, &circuit, kernel) {
                    Ok(key) => return Ok((key, Origin::Cached)),
                    Err(e) => {
                        // Dropped whatever is wrong with it: the zkey is here to convert again.
                        let _ = fs::remove_file(&path);
                        replaced = Some(format!("{}: {e}", path.display()));
                    }
                }
            }
        }
        let ZkeyBytes { bytes, sha256 } = zkey;
        let converted = Zkey::parse(&bytes)?.convert()?;
        drop(bytes);
        let stored = self.entry(&sha256).map(|path| {
            write_proving_key_for(
                &converted.proving_key,
                Some(&converted.matrices),
                &circuit,
                false,
                Reduction::Circom,
            )
            .and_then(|file| store(&path, &file))
            .map(|()| path)
            .map_err(|e| e.to_string())
        });
        let key = PreparedProvingKey::new(converted.proving_key, Some(converted.matrices), kernel)?
            .with_reduction(Reduction::Circom);
        Ok((key, Origin::Converted { stored, replaced }))
    }
}

/// The id a cached key's header names: the zkey's SHA-256 (64 hex digits, a circom id's form).
fn circuit_of(sha256: &str) -> Result<CircuitId> {
    CircomName::new(sha256).map(CircuitId::Circom)
}

/// A cache entry's key: its header (a circom proving key of this zkey), its payload's SHA-256,
/// then the key read unchecked.
fn cached_key(bytes: &[u8], circuit: &CircuitId, kernel: Kernel) -> Result<PreparedProvingKey> {
    let file = KeyFile::parse(bytes)?;
    file.expect(KeyKind::Proving, circuit)?;
    if file.header.reduction != Reduction::Circom {
        return Err(Error::key_integrity(
            "not a key converted from a zkey (no circom reduction flag)",
        ));
    }
    let key = file.prepared_proving_key(Validation::Unchecked, kernel)?;
    if key.matrices().is_none() {
        return Err(Error::key_integrity("the entry carries no matrices"));
    }
    Ok(key)
}

/// Writes `contents` to `path` through a temporary file of this process's own in the same
/// directory (made 0700), synced, then renamed over `path`.
fn store(path: &Path, contents: &[u8]) -> Result<()> {
    let dir = path.parent().expect("an entry is in the cache directory");
    make_private_dir(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}-{:x}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("entry"),
        std::process::id(),
        rand::random::<u64>()
    ));
    let written = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    written.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io(path, &e)
    })
}

#[cfg(unix)]
fn make_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| io(dir, &e))
}

#[cfg(not(unix))]
fn make_private_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| io(dir, &e))
}

fn io(path: &Path, e: &std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        what: e.to_string(),
    }
}
