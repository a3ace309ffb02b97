//! Files that hold a secret (a worker's signing key, the sealing key): written only by their
//! owner's process, mode 0600, synced, and never seen half-written. Reading one checks its mode
//! ([`crate::relayer::config::private_file`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use rand::Rng;

/// Writes `bytes` to a new file at `path` (mode 0600 on unix) and syncs it to disk.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Creates `path` holding `bytes`, whole or not at all, never over an existing file: written in
/// full to a temporary file beside it, then hard-linked into place (`AlreadyExists` when
/// something got there first, e.g. another process making the same key).
pub fn create_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = sibling(path)?;
    let written = write_private(&tmp, bytes).and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    written
}

/// Replaces `path` with `bytes` in one rename: a reader sees the old file or the new one.
pub fn replace_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = sibling(path)?;
    let written = write_private(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// A fresh temporary name next to `path` (same directory: a link or rename stays on one file
/// system).
fn sibling(path: &Path) -> std::io::Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other(format!("{}: not a file name", path.display())))?;
    Ok(path.with_file_name(format!(
        ".{}.{}.{:016x}",
        name.to_string_lossy(),
        std::process::id(),
        rand::thread_rng().gen::<u64>()
    )))
}
