//! Decisions on what the browser answered, for the edge that asked: a key file that did not come
//! (a download's raw HTTP status, a `fetch` that failed outright, a file that is not the pinned
//! one, a job that names no key), how long an IndexedDB open may stay blocked by another tab,
//! what to do with a stored key or a stored converted circom key, how a dropped key copy is
//! reported, and which failures have the worker check its proving key's points. storage.js,
//! worker-jobs.js and snarkjs.js only report the raw answer (`WorkerError`'s `download`,
//! `mismatch` and `noKey`, `KeyEvent`'s `evicted`, `WorkerError::key_check`) or carry out what is
//! decided here (the job message's `storage.blockedMs`, `keyLoad`, `convertedKeyLoad`); the
//! codes are decided here and in [`crate::runtime::protocol::WorkerError`].

use crate::runtime::code::ErrorCode;

/// How long an open of the key and proof storage may wait for other tabs to close an older
/// schema version before it gives up (IO_ERROR: the runtime then runs without storage).
pub const OPEN_BLOCKED_MS: u32 = 3_000;

/// Why a job's worker has no pinned key file, as it reports it (`WorkerError`'s `noKey`,
/// `download` and `mismatch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFailure {
    /// The job message named no key file: the manifest has none for the circuit.
    NotNamed,
    /// `fetch` itself failed: offline, DNS, CORS, an aborted connection.
    NoAnswer,
    /// The server answered this HTTP status, not a success.
    Status(u16),
    /// A whole file came whose size or SHA-256 is not the manifest's pin.
    NotThePin,
}

/// The code of a key file that did not come ([`KeyFailure`]). A key the manifest does not name,
/// or one the server does not have (404), is KEY_NOT_FOUND, not retried: the same manifest and
/// server answer the same next time. A file that is not the pinned one is KEY_INTEGRITY, retried:
/// a CDN mid-deploy or a truncating proxy may give the right file next time, and a wrong file is
/// never used. Anything else (a 5xx, a 403 from a CDN, a redirect loop, no answer) is NETWORK,
/// retried with backoff: the same URL may answer next time.
pub fn key_failed(failure: KeyFailure) -> ErrorCode {
    match failure {
        KeyFailure::NotNamed | KeyFailure::Status(404) => ErrorCode::KeyNotFound,
        KeyFailure::NotThePin => ErrorCode::KeyIntegrity,
        KeyFailure::NoAnswer | KeyFailure::Status(_) => ErrorCode::Network,
    }
}

/// The code of a download that did not give a file: `status` is the HTTP status the server
/// answered, None where `fetch` itself failed ([`key_failed`]'s rule; snarkjs.js's files go by it
/// too, through `downloadError`).
pub fn download_failed(status: Option<u16>) -> ErrorCode {
    key_failed(status.map_or(KeyFailure::NoAnswer, KeyFailure::Status))
}

/// How the runtime reports a stored key copy that [`load_stored_key`] had dropped: a key
/// integrity failure (counted as one in the key cache's stats), in words. `url` is the file's,
/// `bytes` the dropped copy's size.
pub fn dropped_key(url: &str, bytes: u64) -> (ErrorCode, String) {
    (
        ErrorCode::KeyIntegrity,
        format!(
            "the stored copy of {url} ({bytes} bytes) does not match the manifest's SHA-256: dropped"
        ),
    )
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

/// What the key cache holds for a circom circuit's converted proving key (made from its zkey
/// once, every point checked, and stored under the zkey's SHA-256), as worker-jobs.js found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredConversion {
    /// No record (or the store could not be read).
    Missing,
    /// A record that reads as a proving key.
    Loads,
    /// A record that does not (damaged, cut short, an older layout).
    Unreadable,
}

impl StoredConversion {
    /// worker-jobs.js's spelling (`missing`, `loads`, `unreadable`); None for anything else.
    pub fn parse(found: &str) -> Option<StoredConversion> {
        match found {
            "missing" => Some(StoredConversion::Missing),
            "loads" => Some(StoredConversion::Loads),
            "unreadable" => Some(StoredConversion::Unreadable),
            _ => None,
        }
    }
}

/// What a worker does for a circom job's proving key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConversionLoad {
    /// Prove with the stored converted key.
    Use,
    /// Load the zkey (through [`load_stored_key`]), convert it again and store the result over
    /// whatever record was there.
    Convert,
}

impl ConversionLoad {
    /// worker-jobs.js's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ConversionLoad::Use => "use",
            ConversionLoad::Convert => "convert",
        }
    }
}

/// The converted key's rule: a stored converted key is used only when it reads as a proving key;
/// anything else converts the zkey again. The zkey's own bytes are checked against their pin on
/// the way, so a stored conversion that reads is trusted as our own keys are (a bad point could
/// only make a proof that fails its self-check, which has the key checked: [`checks_key_after`]).
/// `found` None (an answer this version does not know) converts.
pub fn load_converted_key(found: Option<StoredConversion>) -> ConversionLoad {
    match found {
        Some(StoredConversion::Loads) => ConversionLoad::Use,
        Some(StoredConversion::Missing | StoredConversion::Unreadable) | None => {
            ConversionLoad::Convert
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_the_job_does_not_name_is_not_found_and_not_retried() {
        let code = key_failed(KeyFailure::NotNamed);
        assert_eq!(code, ErrorCode::KeyNotFound);
        assert!(!code.retryable());
    }

    #[test]
    fn a_downloaded_file_that_is_not_the_pin_is_key_integrity_and_retried() {
        let code = key_failed(KeyFailure::NotThePin);
        assert_eq!(code, ErrorCode::KeyIntegrity);
        assert!(
            code.retryable(),
            "the next download may give the pinned file"
        );
    }

    #[test]
    fn a_dropped_key_copy_is_reported_as_an_integrity_failure() {
        let (code, words) = dropped_key("/keys/a.pk", 1234);
        assert_eq!(code, ErrorCode::KeyIntegrity);
        assert_eq!(
            words,
            "the stored copy of /keys/a.pk (1234 bytes) does not match the manifest's SHA-256: dropped"
        );
    }

    #[test]
    fn a_stored_conversion_is_used_only_when_it_reads() {
        let load = |found: &str| load_converted_key(StoredConversion::parse(found)).as_str();
        assert_eq!(load("loads"), "use");
        assert_eq!(load("unreadable"), "convert");
        assert_eq!(load("missing"), "convert");
        assert_eq!(
            load("stale?"),
            "convert",
            "an unknown answer never uses the record"
        );
    }

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
