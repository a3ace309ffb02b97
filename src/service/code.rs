//! Every code the service and the relayer answer with: an HTTP refusal's `{ code, message }`, a
//! WebSocket `error`, a failed task's or claim's `error.code`, and what `airprover submit` exits
//! with. One table: each code's HTTP status and whether the same request may go through if tried
//! again later. It holds every code of the runtime's [`ErrorCode`] (a task fails with those),
//! with the same spelling; a test checks that it does, and that the README's table lists each.

use std::fmt;
use std::str::FromStr;

use crate::runtime::code::ErrorCode;

macro_rules! codes {
    ($($variant:ident = $name:literal, $status:literal, retry: $retry:literal;)*) => {
        /// A stable code of the service or the relayer.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code { $(#[doc = $name] $variant,)* }

        impl Code {
            /// Every code.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as clients see it.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            /// The HTTP status of an answer with this code.
            pub fn http_status(self) -> u16 {
                match self { $(Code::$variant => $status,)* }
            }

            /// Whether the same request (or task, or claim) may go through if tried again later.
            pub fn retryable(self) -> bool {
                match self { $(Code::$variant => $retry,)* }
            }
        }

        impl FromStr for Code {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                match s { $($name => Ok(Code::$variant),)* _ => Err(()) }
            }
        }
    };
}

codes! {
    // The runtime's codes (a claim refused at submit, a task's failure).
    InvalidJson = "INVALID_JSON", 400, retry: false;
    InvalidInput = "INVALID_INPUT", 400, retry: false;
    UnknownCircuit = "UNKNOWN_CIRCUIT", 400, retry: false;
    PathMismatch = "PATH_MISMATCH", 400, retry: false;
    ScoreNotMet = "SCORE_NOT_MET", 400, retry: false;
    // A proof that is malformed or does not verify against the campaign's verifying key (the
    // contract's `InvalidProof`).
    InvalidProof = "INVALID_PROOF", 422, retry: false;
    KeyNotFound = "KEY_NOT_FOUND", 500, retry: false;
    KeyIntegrity = "KEY_INTEGRITY", 500, retry: false;
    Network = "NETWORK", 503, retry: true;
    ZkeyUnsupported = "ZKEY_UNSUPPORTED", 422, retry: false;
    ZkeyCorrupt = "ZKEY_CORRUPT", 500, retry: false;
    ZkeyMismatch = "ZKEY_MISMATCH", 422, retry: false;
    WitnessFailed = "WITNESS_FAILED", 422, retry: false;
    ProofFailed = "PROOF_FAILED", 500, retry: true;
    VerifyFailed = "VERIFY_FAILED", 500, retry: true;
    OutOfMemory = "OUT_OF_MEMORY", 503, retry: true;
    WorkerCrashed = "WORKER_CRASHED", 500, retry: true;
    Timeout = "TIMEOUT", 504, retry: true;
    ThreadsUnavailable = "THREADS_UNAVAILABLE", 503, retry: true;
    Cancelled = "CANCELLED", 409, retry: false;
    QueueFull = "QUEUE_FULL", 503, retry: true;
    RateLimited = "RATE_LIMITED", 429, retry: true;
    Terminated = "TERMINATED", 503, retry: true;
    IoError = "IO_ERROR", 500, retry: false;
    RemoteFailed = "REMOTE_FAILED", 502, retry: false;
    UnknownWorker = "UNKNOWN_WORKER", 502, retry: false;
    BadSignature = "BAD_SIGNATURE", 502, retry: false;
    Internal = "INTERNAL", 500, retry: false;
    // The service's own.
    Unauthorized = "UNAUTHORIZED", 401, retry: false;
    Forbidden = "FORBIDDEN", 403, retry: false;
    OriginNotAllowed = "ORIGIN_NOT_ALLOWED", 403, retry: false;
    NotFound = "NOT_FOUND", 404, retry: false;
    UnknownTask = "UNKNOWN_TASK", 404, retry: false;
    AlreadyEnded = "ALREADY_ENDED", 409, retry: false;
    BodyTooLarge = "BODY_TOO_LARGE", 413, retry: false;
    QuotaExceeded = "QUOTA_EXCEEDED", 429, retry: true;
    TooManyStreams = "TOO_MANY_STREAMS", 429, retry: true;
    // Waiting does not help: the socket's own subscriptions must end or be dropped first.
    TooManySubscriptions = "TOO_MANY_SUBSCRIPTIONS", 429, retry: false;
    ServerBusy = "SERVER_BUSY", 503, retry: true;
    // A WebSocket closed after `--stream-idle-secs` without an event: open another.
    Idle = "IDLE", 408, retry: true;
    // `/ready` (and a worker's or relay's `--health-listen`): a part this process needs is down,
    // or it drains.
    NotReady = "NOT_READY", 503, retry: true;
    // Redis did not answer.
    StorageUnavailable = "STORAGE_UNAVAILABLE", 503, retry: true;
    // A task's input is sealed with a key this worker lacks: a configuration to fix, after which
    // its dead letter may be requeued.
    SealingKeyUnknown = "SEALING_KEY_UNKNOWN", 500, retry: false;
    SealedInputInvalid = "SEALED_INPUT_INVALID", 500, retry: false;
    NoRelayer = "NO_RELAYER", 404, retry: false;
    // The relayer's.
    UnknownCampaign = "UNKNOWN_CAMPAIGN", 404, retry: false;
    UnknownClaim = "UNKNOWN_CLAIM", 404, retry: false;
    WrongCampaign = "WRONG_CAMPAIGN", 422, retry: false;
    RootNotPublished = "ROOT_NOT_PUBLISHED", 422, retry: false;
    ThresholdBelowCampaign = "THRESHOLD_BELOW_CAMPAIGN", 422, retry: false;
    ScoreMismatch = "SCORE_MISMATCH", 422, retry: false;
    ClaimantNotAnAddress = "CLAIMANT_NOT_AN_ADDRESS", 422, retry: false;
    NullifierUsed = "NULLIFIER_USED", 409, retry: false;
    NullifierPending = "NULLIFIER_PENDING", 409, retry: false;
    // A revert with no code of its own (its custom error's name is in the message).
    Reverted = "REVERTED", 422, retry: false;
    // The configuration or the chain disagree with what the relayer must rely on.
    Misconfigured = "MISCONFIGURED", 500, retry: false;
    // The claim's nonce belongs to a relayer account this worker has no key for (the campaigns
    // files of the workers differ): not retried here; the claim is left for a worker that has it.
    AccountNotConfigured = "ACCOUNT_NOT_CONFIGURED", 500, retry: false;
    // The RPC node did not answer (or answered an error that is not a revert).
    ChainUnavailable = "CHAIN_UNAVAILABLE", 503, retry: true;
}

impl From<ErrorCode> for Code {
    fn from(code: ErrorCode) -> Code {
        code.as_str()
            .parse()
            .expect("every runtime code is a service code (tested)")
    }
}

impl From<&crate::Error> for Code {
    fn from(e: &crate::Error) -> Code {
        e.code().into()
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A refusal or failure of the service as its client sees it: the code, the HTTP status it came
/// with (none when it did not come from the server), and the message. `airprover submit` ends
/// with one, so its exit line starts with the server's own code (a 429 stays `RATE_LIMITED`).
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ServiceError {
    /// The code.
    pub code: Code,
    /// The server's status, when the server answered.
    pub status: Option<u16>,
    /// What went wrong.
    pub message: String,
}

impl ServiceError {
    /// The server's `{ code, message }`: an answer with `status`, or a failed task's error
    /// (none). A code this table does not have (a newer server's) is `REMOTE_FAILED`, its text
    /// kept in the message.
    pub fn answered(status: Option<u16>, code: &str, message: &str) -> ServiceError {
        match code.parse() {
            Ok(code) => ServiceError {
                code,
                status,
                message: message.to_string(),
            },
            Err(()) => ServiceError {
                code: Code::RemoteFailed,
                status,
                message: format!("the server answered {code}: {message}"),
            },
        }
    }
}

impl From<crate::Error> for ServiceError {
    fn from(e: crate::Error) -> ServiceError {
        let code = Code::from(&e);
        let text = e.to_string();
        let message = text
            .strip_prefix(&format!("{code}: "))
            .unwrap_or(&text)
            .to_string();
        ServiceError {
            code,
            status: None,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_round_trip_and_have_a_refusal_status() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert_eq!(code.as_str().parse::<Code>(), Ok(*code));
            assert!(
                (400..600).contains(&code.http_status()),
                "{code}: {}",
                code.http_status()
            );
        }
        assert!("NOPE".parse::<Code>().is_err());
    }

    #[test]
    fn every_runtime_code_is_a_service_code() {
        for runtime in ErrorCode::ALL {
            assert_eq!(Code::from(*runtime).as_str(), runtime.as_str());
        }
    }

    #[test]
    fn the_readme_lists_every_code() {
        let readme = include_str!("../../README.md");
        let start = readme
            .find("### Service and relayer codes")
            .expect("README has the service's code table");
        let table = &readme[start..];
        let table = &table[..table[4..].find("\n#").map_or(table.len(), |i| i + 4)];
        for code in Code::ALL {
            let row = table
                .lines()
                .find(|l| l.starts_with(&format!("| `{code}` |")))
                .unwrap_or_else(|| panic!("README's service code table has no row for {code}"));
            assert!(
                row.contains(&format!("| {} |", code.http_status())),
                "README's row for {code} does not give status {}: {row}",
                code.http_status()
            );
        }
    }

    #[test]
    fn a_server_code_is_kept_and_an_unknown_one_said() {
        let e = ServiceError::answered(Some(429), "QUOTA_EXCEEDED", "3 active tasks");
        assert_eq!(e.code, Code::QuotaExceeded);
        assert_eq!(e.to_string(), "QUOTA_EXCEEDED: 3 active tasks");
        let e = ServiceError::answered(Some(418), "TEAPOT", "short and stout");
        assert_eq!(e.code, Code::RemoteFailed);
        assert!(e.message.contains("TEAPOT: short and stout"));
        assert_eq!(e.status, Some(418));
        let e = ServiceError::from(crate::Error::input("claim", "missing"));
        assert_eq!(e.code, Code::InvalidInput);
        assert!(!e.message.starts_with("INVALID_INPUT"), "{}", e.message);
    }
}
