//! Every error code a job can end with, and what the runtime does about each: its category,
//! severity, whether it is retried, and whether it triggers a fallback.

use std::fmt;
use std::str::FromStr;

/// Broad class of an error, for UIs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// The caller's input is wrong: fix it, do not retry.
    Input,
    /// Proving or verifying keys: missing, corrupt, for another circuit.
    Key,
    /// The prover itself failed.
    Prover,
    /// The device ran out of something: memory, threads, time.
    Resource,
    /// The runtime refused or stopped the job: queue full, rate limited, terminated.
    Runtime,
    /// The caller cancelled.
    Cancelled,
}

/// How bad it is for the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Expected in normal operation (cancelled, rate limited).
    Info,
    /// The job failed but the runtime is healthy.
    Error,
    /// The runtime or the device is in trouble (crashes, keys corrupt).
    Critical,
}

macro_rules! codes {
    ($($variant:ident = $name:literal, $cat:ident, $sev:ident, retry: $retry:literal, fallback: $fb:literal;)*) => {
        /// A stable error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode { $(#[doc = $name] $variant,)* }

        impl ErrorCode {
            /// Every code.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as JS and the CLI spell it.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $name,)* }
            }

            /// Its category.
            pub fn category(self) -> Category {
                match self { $(ErrorCode::$variant => Category::$cat,)* }
            }

            /// Its severity.
            pub fn severity(self) -> Severity {
                match self { $(ErrorCode::$variant => Severity::$sev,)* }
            }

            /// Whether the same job may succeed if tried again.
            pub fn retryable(self) -> bool {
                match self { $(ErrorCode::$variant => $retry,)* }
            }

            /// Whether the runtime tries another way (another build or a smaller circuit).
            pub fn fallback(self) -> bool {
                match self { $(ErrorCode::$variant => $fb,)* }
            }
        }

        impl FromStr for ErrorCode {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                match s { $($name => Ok(ErrorCode::$variant),)* _ => Err(()) }
            }
        }
    };
}

codes! {
    InvalidJson = "INVALID_JSON", Input, Error, retry: false, fallback: false;
    InvalidInput = "INVALID_INPUT", Input, Error, retry: false, fallback: false;
    UnknownCircuit = "UNKNOWN_CIRCUIT", Input, Error, retry: false, fallback: false;
    PathMismatch = "PATH_MISMATCH", Input, Error, retry: false, fallback: false;
    ScoreNotMet = "SCORE_NOT_MET", Input, Error, retry: false, fallback: false;
    InvalidProof = "INVALID_PROOF", Input, Error, retry: false, fallback: false;
    KeyNotFound = "KEY_NOT_FOUND", Key, Error, retry: false, fallback: false;
    // A corrupt download is fetched again: the retry drops the cached entry.
    KeyIntegrity = "KEY_INTEGRITY", Key, Critical, retry: true, fallback: false;
    Network = "NETWORK", Key, Error, retry: true, fallback: false;
    // A snarkjs `.zkey` airprover cannot use: another protocol (PLONK, FFLONK) or curve.
    ZkeyUnsupported = "ZKEY_UNSUPPORTED", Key, Error, retry: false, fallback: false;
    // A `.zkey` whose bytes are wrong: truncated, sizes that disagree, a point off the curve. Its
    // SHA-256 was pinned (or it was given as bytes), so fetching it again cannot help.
    ZkeyCorrupt = "ZKEY_CORRUPT", Key, Critical, retry: false, fallback: false;
    // A `.zkey` with a witness wasm, verifying key or circuit of another circuit.
    ZkeyMismatch = "ZKEY_MISMATCH", Key, Error, retry: false, fallback: false;
    WitnessFailed = "WITNESS_FAILED", Prover, Error, retry: false, fallback: false;
    ProofFailed = "PROOF_FAILED", Prover, Error, retry: true, fallback: false;
    VerifyFailed = "VERIFY_FAILED", Prover, Critical, retry: true, fallback: false;
    OutOfMemory = "OUT_OF_MEMORY", Resource, Error, retry: true, fallback: true;
    WorkerCrashed = "WORKER_CRASHED", Resource, Critical, retry: true, fallback: false;
    Timeout = "TIMEOUT", Resource, Error, retry: true, fallback: false;
    ThreadsUnavailable = "THREADS_UNAVAILABLE", Resource, Info, retry: true, fallback: true;
    Cancelled = "CANCELLED", Cancelled, Info, retry: false, fallback: false;
    QueueFull = "QUEUE_FULL", Runtime, Error, retry: false, fallback: false;
    RateLimited = "RATE_LIMITED", Runtime, Info, retry: false, fallback: false;
    Terminated = "TERMINATED", Runtime, Info, retry: false, fallback: false;
    IoError = "IO_ERROR", Runtime, Error, retry: false, fallback: false;
    // The operator's server (the runtime's opt-in `remote`) refused the task or failed it.
    RemoteFailed = "REMOTE_FAILED", Runtime, Error, retry: false, fallback: false;
    // The server's answer is not vouched for by a worker the client pinned (`workers.json`):
    // its key is not pinned, or its signature does not sign what the client recomputed.
    UnknownWorker = "UNKNOWN_WORKER", Runtime, Error, retry: false, fallback: false;
    BadSignature = "BAD_SIGNATURE", Runtime, Critical, retry: false, fallback: false;
    Internal = "INTERNAL", Runtime, Critical, retry: false, fallback: false;
}

impl ErrorCode {
    /// The message of a job that ended with this code and no message of its own (a worker's
    /// failure says what failed; a cancellation, a timeout or a crash has nobody to say it).
    pub fn default_message(self) -> &'static str {
        match self {
            ErrorCode::Cancelled => "cancelled",
            ErrorCode::Terminated => "the prover was terminated",
            ErrorCode::Timeout => {
                "the attempt took longer than timeoutMs, or its worker sent nothing for stallTimeoutMs"
            }
            ErrorCode::WorkerCrashed => "the worker died while proving",
            ErrorCode::OutOfMemory => "out of memory",
            _ => "the job failed",
        }
    }

    /// Whether a native runtime (the service's workers) tries the job again: as
    /// [`ErrorCode::retryable`], except KEY_INTEGRITY. In the browser a retry downloads the key
    /// again (a corrupt download is worth a second try); natively the key is read from the same
    /// disk, so a key that does not match its pinned SHA-256, or has a point off the curve, is
    /// final.
    pub fn retryable_natively(self) -> bool {
        self != ErrorCode::KeyIntegrity && self.retryable()
    }

    /// Whether a job that ended with this code is one the device cannot prove, so that a runtime
    /// with `remote: { when: 'fallback' }` sends it to the operator's server: out of memory
    /// (after the smaller-circuit fallback) or no worker that stays up. Never an input error
    /// (the server would refuse it too), a cancellation or a refusal of the runtime's own.
    pub fn moves_to_server(self) -> bool {
        matches!(self, ErrorCode::OutOfMemory | ErrorCode::WorkerCrashed)
    }

    /// The code of a failure a prover worker reported for a job (`plainError` in src/js/storage.js:
    /// the thrown value's `name`, its `code` if it had a string one, its `message`, and whether a
    /// WebAssembly instance trapped). Out of memory first (a `RangeError`, or a message that says
    /// an allocation failed), then a trap (the instance is unusable: WORKER_CRASHED, so that the
    /// worker is replaced), then the error's own code. A code this table does not have, or none,
    /// is INTERNAL: a bug to report, never mistaken for a crash.
    pub fn of_worker_failure(
        name: &str,
        code: Option<&str>,
        message: &str,
        trap: bool,
    ) -> ErrorCode {
        const OUT_OF_MEMORY: [&str; 5] = [
            "out of memory",
            "memory allocation",
            "could not allocate",
            "array buffer allocation failed",
            "memory.grow",
        ];
        let lower = message.to_ascii_lowercase();
        if name == "RangeError" || OUT_OF_MEMORY.iter().any(|m| lower.contains(m)) {
            return ErrorCode::OutOfMemory;
        }
        if trap {
            return ErrorCode::WorkerCrashed;
        }
        code.and_then(|c| c.parse().ok())
            .unwrap_or(ErrorCode::Internal)
    }

    /// The code of a core error.
    pub fn of(error: &crate::Error) -> ErrorCode {
        error.code()
    }
}

/// So that a test (or a caller holding the spelling) compares a code with `"INVALID_INPUT"`.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_is_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()));
            assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(*code));
        }
        assert!("NOPE".parse::<ErrorCode>().is_err());
    }

    /// The single-quoted words of `text` after `prefix`, up to the next `end`.
    fn quoted_codes(text: &str, prefix: &str, end: &str) -> Vec<String> {
        let start = text.find(prefix).expect("the declaration is there") + prefix.len();
        let body = &text[start..start + text[start..].find(end).unwrap()];
        body.split('\'')
            .skip(1)
            .step_by(2)
            .map(String::from)
            .collect()
    }

    #[test]
    fn the_declarations_and_the_readme_name_exactly_these_codes() {
        let ours: std::collections::BTreeSet<String> = ErrorCode::ALL
            .iter()
            .map(|c| c.as_str().to_string())
            .collect();
        let dts =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/js/index.d.ts"))
                .unwrap();
        let union: std::collections::BTreeSet<String> =
            quoted_codes(&dts, "export type ErrorCode =", ";")
                .into_iter()
                .collect();
        assert_eq!(union, ours, "index.d.ts's ErrorCode union");
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        let table = &readme[readme
            .find("| code | category | retried | meaning |")
            .unwrap()..];
        let table = &table[..table.find("\n\n").unwrap()];
        let listed: std::collections::BTreeSet<String> = table
            .lines()
            .skip(2)
            .flat_map(|row| {
                let first = row.split('|').nth(1).unwrap_or_default();
                first
                    .split('`')
                    .skip(1)
                    .step_by(2)
                    .map(String::from)
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(listed, ours, "README's error table");
    }

    #[test]
    fn a_worker_failure_gets_its_code_here() {
        let of = ErrorCode::of_worker_failure;
        assert_eq!(
            of("AirproverError", Some("PATH_MISMATCH"), "x", false),
            ErrorCode::PathMismatch
        );
        assert_eq!(
            of("Error", Some("NETWORK"), "HTTP 503", false),
            ErrorCode::Network
        );
        // Out of memory, however the browser words it; before a trap, since both may hold.
        assert_eq!(
            of(
                "RangeError",
                None,
                "WebAssembly.Memory.grow(): Maximum memory size exceeded",
                false
            ),
            ErrorCode::OutOfMemory
        );
        assert_eq!(
            of(
                "RuntimeError",
                None,
                "Out of memory: Cannot allocate Wasm memory",
                true
            ),
            ErrorCode::OutOfMemory
        );
        assert_eq!(
            of(
                "Error",
                Some("PROOF_FAILED"),
                "memory allocation of 8 bytes failed",
                false
            ),
            ErrorCode::OutOfMemory
        );
        // A trap (a panic, an abort): the instance is unusable.
        assert_eq!(
            of("RuntimeError", None, "unreachable", true),
            ErrorCode::WorkerCrashed
        );
        // Unknown or missing codes are internal errors, not crashes.
        assert_eq!(of("Error", Some("PANIC"), "x", false), ErrorCode::Internal);
        assert_eq!(
            of("TypeError", None, "x is undefined", false),
            ErrorCode::Internal
        );
    }

    #[test]
    fn only_what_the_device_cannot_do_moves_to_a_server() {
        let moving: Vec<_> = ErrorCode::ALL
            .iter()
            .filter(|c| c.moves_to_server())
            .collect();
        assert_eq!(
            moving,
            [&ErrorCode::OutOfMemory, &ErrorCode::WorkerCrashed],
            "out of memory and crashes only"
        );
        for code in moving {
            assert_eq!(code.category(), Category::Resource);
        }
    }

    #[test]
    fn input_errors_never_retry() {
        for code in ErrorCode::ALL
            .iter()
            .filter(|c| c.category() == Category::Input)
        {
            assert!(!code.retryable(), "{code}");
        }
        assert!(!ErrorCode::Cancelled.retryable());
        assert!(ErrorCode::Timeout.retryable());
        assert!(ErrorCode::WorkerCrashed.retryable());
        assert!(ErrorCode::OutOfMemory.fallback());
        assert!(!ErrorCode::KeyIntegrity.retryable_natively());
        assert!(ErrorCode::Timeout.retryable_natively());
        for code in ErrorCode::ALL {
            assert!(!code.retryable_natively() || code.retryable(), "{code}");
        }
    }

    #[test]
    fn every_core_error_code_is_known() {
        use crate::Error;
        let samples = [
            Error::InvalidJson {
                what: String::new(),
            },
            Error::input("x", "y"),
            Error::UnknownCircuit {
                id: String::new(),
                reason: String::new(),
            },
            Error::PathMismatch {
                position: 0,
                index: 0,
            },
            Error::ScoreNotMet {
                sum: 0,
                rule: "reach",
                target: 1,
            },
            Error::KeyNotFound {
                what: String::new(),
            },
            Error::key_integrity(""),
            Error::WitnessFailed {
                constraint: String::new(),
            },
            Error::CircomWitness {
                message: String::new(),
            },
            Error::ProofFailed {
                what: String::new(),
            },
            Error::VerifyFailed {
                what: String::new(),
            },
            Error::proof("x", "y"),
            Error::Cancelled {
                what: String::new(),
            },
            Error::UnknownWorker {
                what: String::new(),
            },
            Error::BadSignature {
                what: String::new(),
            },
            Error::Io {
                path: String::new(),
                what: String::new(),
            },
        ];
        for e in samples {
            // Every message starts with its code: the CLI's line and JS's message say it.
            assert!(e.to_string().starts_with(e.code().as_str()), "{e}");
        }
    }
}
