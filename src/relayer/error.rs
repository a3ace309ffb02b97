//! The relayer's refusals and failures: a stable code each, the HTTP status the service answers
//! with, and whether trying again can help.

use std::fmt;

macro_rules! relay_codes {
    ($($variant:ident = $name:literal, $status:literal, retry: $retry:literal;)*) => {
        /// A stable code of the relayer.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum RelayCode { $(#[doc = $name] $variant,)* }

        impl RelayCode {
            /// Every code.
            pub const ALL: &'static [RelayCode] = &[$(RelayCode::$variant,)*];

            /// The code as clients see it.
            pub fn as_str(self) -> &'static str {
                match self { $(RelayCode::$variant => $name,)* }
            }

            /// The HTTP status of a refusal with this code.
            pub fn http_status(self) -> u16 {
                match self { $(RelayCode::$variant => $status,)* }
            }

            /// Whether the same claim may go through if tried again later.
            pub fn retryable(self) -> bool {
                match self { $(RelayCode::$variant => $retry,)* }
            }
        }
    };
}

relay_codes! {
    InvalidJson = "INVALID_JSON", 400, retry: false;
    InvalidInput = "INVALID_INPUT", 400, retry: false;
    UnknownCampaign = "UNKNOWN_CAMPAIGN", 404, retry: false;
    UnknownClaim = "UNKNOWN_CLAIM", 404, retry: false;
    // The proof is malformed or does not verify against the campaign's verifying key (the
    // contract's `InvalidProof`).
    InvalidProof = "INVALID_PROOF", 422, retry: false;
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
    // Redis did not answer.
    StorageUnavailable = "STORAGE_UNAVAILABLE", 503, retry: true;
    Internal = "INTERNAL", 500, retry: false;
}

impl RelayCode {
    /// The code of a `ReputationAirdrop` custom error, by its name.
    pub fn of_revert(name: &str) -> RelayCode {
        match name {
            "InvalidProof" => RelayCode::InvalidProof,
            "WrongCampaign" => RelayCode::WrongCampaign,
            "RootNotPublished" => RelayCode::RootNotPublished,
            "ThresholdBelowCampaign" => RelayCode::ThresholdBelowCampaign,
            "ScoreMismatch" => RelayCode::ScoreMismatch,
            "ClaimantNotAnAddress" => RelayCode::ClaimantNotAnAddress,
            "NullifierUsed" => RelayCode::NullifierUsed,
            _ => RelayCode::Reverted,
        }
    }
}

impl fmt::Display for RelayCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal or failure: `{ code, message }` for clients. The message never holds a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct RelayError {
    /// The stable code.
    pub code: RelayCode,
    /// For people; may change.
    pub message: String,
}

impl RelayError {
    /// An error with `code`.
    pub fn new(code: RelayCode, message: impl Into<String>) -> Self {
        RelayError {
            code,
            message: message.into(),
        }
    }

    /// The chain did not answer: retried.
    pub fn chain(what: impl fmt::Display) -> Self {
        RelayError::new(RelayCode::ChainUnavailable, what.to_string())
    }

    /// Redis did not answer: retried.
    pub fn storage(what: impl fmt::Display) -> Self {
        RelayError::new(RelayCode::StorageUnavailable, what.to_string())
    }

    /// The error as the service's JSON body: `{ code, message }`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "code": self.code.as_str(), "message": self.message })
    }
}

impl From<crate::Error> for RelayError {
    fn from(e: crate::Error) -> Self {
        let code = match e.code() {
            "INVALID_JSON" => RelayCode::InvalidJson,
            "INVALID_PROOF" | "VERIFY_FAILED" => RelayCode::InvalidProof,
            "UNKNOWN_CIRCUIT" | "INVALID_INPUT" => RelayCode::InvalidInput,
            "KEY_NOT_FOUND" | "KEY_INTEGRITY" | "IO_ERROR" => RelayCode::Misconfigured,
            _ => RelayCode::Internal,
        };
        RelayError::new(code, e.to_string())
    }
}

impl From<redis::RedisError> for RelayError {
    fn from(e: redis::RedisError) -> Self {
        RelayError::storage(format!("redis: {e}"))
    }
}

/// Result with a [`RelayError`].
pub type RelayResult<T> = std::result::Result<T, RelayError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_refusals_are_final() {
        let mut seen = std::collections::HashSet::new();
        for code in RelayCode::ALL {
            assert!(seen.insert(code.as_str()), "{code}");
            if code.http_status() < 500 {
                assert!(!code.retryable(), "{code}: a refusal is final");
            }
        }
        assert!(RelayCode::ChainUnavailable.retryable());
        assert!(!RelayCode::AccountNotConfigured.retryable());
        assert_eq!(
            RelayCode::of_revert("NullifierUsed"),
            RelayCode::NullifierUsed
        );
        assert_eq!(
            RelayCode::of_revert("OwnableUnauthorizedAccount"),
            RelayCode::Reverted
        );
    }
}
