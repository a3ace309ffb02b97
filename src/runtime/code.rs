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
    Internal = "INTERNAL", Runtime, Critical, retry: false, fallback: false;
}

impl ErrorCode {
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

    /// The code of a core error (every `crate::Error::code()` is one of these).
    pub fn of(error: &crate::Error) -> ErrorCode {
        error.code().parse().unwrap_or(ErrorCode::Internal)
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
            Error::Io {
                path: String::new(),
                what: String::new(),
            },
        ];
        for e in samples {
            assert_ne!(ErrorCode::of(&e), ErrorCode::Internal, "{}", e.code());
            assert_eq!(ErrorCode::of(&e).as_str(), e.code());
        }
    }
}
