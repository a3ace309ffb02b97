//! The relayer's refusals and failures: a stable code each, the HTTP status the service answers
//! with, and whether trying again can help.

use std::fmt;

use crate::runtime::code::ErrorCode;
pub use crate::service::code::Code;

/// The code of a `ReputationAirdrop` custom error, by its name.
pub fn code_of_revert(name: &str) -> Code {
    match name {
        "InvalidProof" => Code::InvalidProof,
        "WrongCampaign" => Code::WrongCampaign,
        "RootNotPublished" => Code::RootNotPublished,
        "ThresholdBelowCampaign" => Code::ThresholdBelowCampaign,
        "ScoreMismatch" => Code::ScoreMismatch,
        "ClaimantNotAnAddress" => Code::ClaimantNotAnAddress,
        "NullifierUsed" => Code::NullifierUsed,
        _ => Code::Reverted,
    }
}

/// A refusal or failure: `{ code, message }` for clients. The message never holds a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct RelayError {
    /// The stable code.
    pub code: Code,
    /// For people; may change.
    pub message: String,
}

impl RelayError {
    /// An error with `code`.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        RelayError {
            code,
            message: message.into(),
        }
    }

    /// The chain did not answer: retried.
    pub fn chain(what: impl fmt::Display) -> Self {
        RelayError::new(Code::ChainUnavailable, what.to_string())
    }

    /// Redis did not answer: retried.
    pub fn storage(what: impl fmt::Display) -> Self {
        RelayError::new(Code::StorageUnavailable, what.to_string())
    }

    /// The error as the service's JSON body: `{ code, message }`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "code": self.code.as_str(), "message": self.message })
    }
}

impl From<crate::Error> for RelayError {
    fn from(e: crate::Error) -> Self {
        let code = match e.code() {
            ErrorCode::InvalidJson => Code::InvalidJson,
            ErrorCode::InvalidProof | ErrorCode::VerifyFailed => Code::InvalidProof,
            ErrorCode::UnknownCircuit | ErrorCode::InvalidInput => Code::InvalidInput,
            ErrorCode::KeyNotFound | ErrorCode::KeyIntegrity | ErrorCode::IoError => {
                Code::Misconfigured
            }
            _ => Code::Internal,
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
    fn the_relayers_refusals_are_final_and_reverts_have_their_codes() {
        let refusals = [
            "InvalidProof",
            "WrongCampaign",
            "RootNotPublished",
            "ThresholdBelowCampaign",
            "ScoreMismatch",
            "ClaimantNotAnAddress",
            "NullifierUsed",
        ]
        .map(code_of_revert);
        for code in refusals
            .iter()
            .chain(&[Code::NullifierPending, Code::Reverted])
        {
            assert!(code.http_status() < 500 && !code.retryable(), "{code}");
        }
        assert!(Code::ChainUnavailable.retryable());
        assert!(!Code::AccountNotConfigured.retryable());
        assert_eq!(code_of_revert("NullifierUsed"), Code::NullifierUsed);
        assert_eq!(code_of_revert("OwnableUnauthorizedAccount"), Code::Reverted);
    }
}
