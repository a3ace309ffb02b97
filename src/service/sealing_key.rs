//! The sealing key file on disk (its format and its use: [`super::redis::seal`]): read by `serve`,
//! the workers and `dead-letters requeue` (`--sealing-key FILE`), made by `airprover sealing-key
//! new`, rotated by `airprover sealing-key rotate`. Mode 0600: a file that group or others may
//! read is refused, as relayer and worker keys are.

use std::path::Path;
use std::sync::Arc;

use super::redis::seal::{InputSealing, SealingKeys};
use super::secret_file::{create_private, replace_private};

/// The keys in `path` (refused when group or others may read it).
pub fn read(path: &Path) -> Result<SealingKeys, String> {
    crate::relayer::config::private_file(path).map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    SealingKeys::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// How a process treats task inputs: sealed under the keys in `path`, or plain text without one.
pub fn sealing(path: Option<&Path>) -> Result<InputSealing, String> {
    Ok(match path {
        Some(path) => InputSealing::Sealed(Arc::new(read(path)?)),
        None => InputSealing::Unsealed,
    })
}

/// Writes a new key file at `path` (mode 0600, synced), never over an existing file: the new
/// key's id.
pub fn create(path: &Path) -> std::io::Result<String> {
    let (text, id) = SealingKeys::new_file();
    match create_private(path, text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(std::io::Error::new(
            e.kind(),
            format!(
                "{} exists: a sealing key is never overwritten (rotate it with `airprover sealing-key rotate`)",
                path.display()
            ),
        )),
        other => other.map(|()| id),
    }
}

/// Adds a new key to the file at `path` and makes it current (the old ones stay, to open what
/// they sealed), replacing the file in one rename: the new key's id.
pub fn rotate(path: &Path) -> Result<String, String> {
    crate::relayer::config::private_file(path).map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (text, id) =
        SealingKeys::rotated_file(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    replace_private(path, text.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(id)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use rand::Rng;
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "airprover-sealing-{name}-{}-{:x}",
            std::process::id(),
            rand::thread_rng().gen::<u64>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_new_key_is_private_never_overwritten_and_rotates() {
        let dir = dir("new");
        let path = dir.join("sealing.key");
        let id = create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let before = std::fs::read(&path).unwrap();
        let err = create(&path).unwrap_err().to_string();
        assert!(err.contains("never overwritten"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert_eq!(read(&path).unwrap().current_id(), id);

        let new = rotate(&path).unwrap();
        let keys = read(&path).unwrap();
        assert_eq!(keys.ids(), [id.as_str(), new.as_str()]);
        assert_eq!(keys.current_id(), new);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let err = read(&path).unwrap_err();
        assert!(err.contains("readable by group or others"), "{err}");
        assert!(rotate(&path).is_err());
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
