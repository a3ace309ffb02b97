//! Decisions on what the browser answered, for the edge that asked: a key download's raw HTTP
//! status (or a `fetch` that failed outright), how long an IndexedDB open may stay blocked by
//! another tab, and which failures have the worker check its proving key's points. storage.js and
//! worker-jobs.js only report the raw answer (`WorkerError::download`, `WorkerError::key_check`)
//! or carry out the limit (the job message's `storage.blockedMs`); the codes are decided here and
//! in [`crate::runtime::protocol::WorkerError`].

use crate::runtime::code::ErrorCode;

/// How long an open of the key and proof storage may wait for other tabs to close an older
/// schema version before it gives up (IO_ERROR: the runtime then runs without storage).
pub const OPEN_BLOCKED_MS: u32 = 3_000;

/// The code of a key download that did not give the file: `status` is the HTTP status the server
/// answered, None where `fetch` itself failed (offline, DNS, CORS, an aborted connection).
/// 404 means the manifest names a key the server does not have: KEY_NOT_FOUND, not retried.
/// Anything else (a 5xx, a 403 from a CDN, a redirect loop, no answer) is NETWORK, retried with
/// backoff: the same URL may answer next time.
pub fn download_failed(status: Option<u16>) -> ErrorCode {
    match status {
        Some(404) => ErrorCode::KeyNotFound,
        _ => ErrorCode::Network,
    }
}

/// Whether a worker whose job failed with `code` checks the points of the proving key it proved
/// with, and reports the check with the failure (`WorkerError::key_check`): only after a proof
/// failed its self-check (VERIFY_FAILED), where a key that matches its pinned SHA-256 may still
/// hold a point off its curve. Any other failure says nothing about the key's points.
pub fn checks_key_after(code: Option<&str>) -> bool {
    code == Some(ErrorCode::VerifyFailed.as_str())
}

/// What the key cache holds for a pinned key file, as storage.js's `loadKey` found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredKey {
    /// No record (or the store could not be read).
    Missing,
    /// A record whose size and SHA-256 match the manifest's pin.
    Matches,
    /// A record that does not match (edited, truncated, another file).
    Differs,
}

impl StoredKey {
    /// storage.js's spelling (`missing`, `matches`, `differs`); None for anything else.
    pub fn parse(found: &str) -> Option<StoredKey> {
        match found {
            "missing" => Some(StoredKey::Missing),
            "matches" => Some(StoredKey::Matches),
            "differs" => Some(StoredKey::Differs),
            _ => None,
        }
    }
}

/// What `loadKey` does with what it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyLoad {
    /// Use the stored bytes.
    Use,
    /// Download the file (and store it).
    Download,
    /// Delete the stored record (reported as an eviction), then download the file.
    DropAndDownload,
}

impl KeyLoad {
    /// storage.js's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyLoad::Use => "use",
            KeyLoad::Download => "download",
            KeyLoad::DropAndDownload => "drop-and-download",
        }
    }
}

/// The key cache's rule: a stored copy is used only when it matches its pin; one that does not is
/// dropped (never used, never left to be found again) and the file downloaded afresh. `found`
/// None (an answer this version does not know) downloads, keeping the record.
pub fn load_stored_key(found: Option<StoredKey>) -> KeyLoad {
    match found {
        Some(StoredKey::Matches) => KeyLoad::Use,
        Some(StoredKey::Differs) => KeyLoad::DropAndDownload,
        Some(StoredKey::Missing) | None => KeyLoad::Download,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_key_is_not_found_and_not_retried() {
        let code = download_failed(Some(404));
        assert_eq!(code, ErrorCode::KeyNotFound);
        assert!(!code.retryable());
    }

    #[test]
    fn every_other_failure_is_network_and_retried() {
        for status in [
            None,
            Some(0),
            Some(403),
            Some(410),
            Some(500),
            Some(503),
            Some(302),
        ] {
            let code = download_failed(status);
            assert_eq!(code, ErrorCode::Network, "{status:?}");
            assert!(code.retryable(), "{status:?}");
        }
    }

    #[test]
    fn only_a_failed_self_check_has_the_key_checked() {
        assert!(checks_key_after(Some("VERIFY_FAILED")));
        for other in [
            None,
            Some("KEY_INTEGRITY"),
            Some("NETWORK"),
            Some("INTERNAL"),
            Some(""),
        ] {
            assert!(!checks_key_after(other), "{other:?}");
        }
    }

    #[test]
    fn a_stored_key_is_used_only_when_it_matches_and_dropped_when_it_does_not() {
        let load = |found: &str| load_stored_key(StoredKey::parse(found)).as_str();
        assert_eq!(load("matches"), "use");
        assert_eq!(load("differs"), "drop-and-download");
        assert_eq!(load("missing"), "download");
        assert_eq!(
            load("stale?"),
            "download",
            "an unknown answer never uses the record"
        );
    }

    #[test]
    fn a_blocked_open_waits_a_few_seconds() {
        // Long enough for another tab's versionchange handler to close its connection, short
        // enough that a stuck tab does not hold the runtime's start for long.
        assert!((1_000..=10_000).contains(&OPEN_BLOCKED_MS));
    }
}
