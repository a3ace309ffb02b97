//! A claim's way in: `POST /v1/claims`'s body read and checked (proof, public signals, the
//! chain) before anything is stored, then recorded and queued once per proof.

use alloy::primitives::Bytes;
use alloy::sol_types::SolCall;
use rand::Rng;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::claims::Phase;
use super::error::{Code, RelayError, RelayResult};
use super::relay::Relayer;
use crate::service::now_ms;

/// `POST /v1/claims`'s body: a proof and its public signals for a circuit of a campaign.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClaimRequest {
    /// The snarkjs proof.
    pub proof: Value,
    /// The snarkjs public signals.
    pub public_signals: Value,
    /// Its circuit id.
    pub circuit: String,
    /// The campaign's name.
    pub campaign: String,
}

impl Relayer {
    /// `POST /v1/claims`: `{ proof, publicSignals, circuit, campaign }`, checked before anything
    /// is stored ([`Campaign::check`]). Returns the claim's id and phase; the same proof again is
    /// the same claim; another proof whose nullifier is in flight or used is refused.
    ///
    /// [`Campaign::check`]: super::chain::Campaign::check
    pub async fn submit(&self, body: &Value) -> RelayResult<(String, Phase)> {
        let request: ClaimRequest = serde_json::from_value(body.clone())
            .map_err(|e| RelayError::new(Code::InvalidInput, format!("body: {e}")))?;
        self.submit_request(&request).await
    }

    /// [`Relayer::submit`] of a request already read.
    pub async fn submit_request(&self, request: &ClaimRequest) -> RelayResult<(String, Phase)> {
        let campaign = self.campaign(&request.campaign)?;
        let checked = campaign.check(&request.circuit, &request.proof, &request.public_signals)?;
        let call = Bytes::from(checked.call.abi_encode());
        let fingerprint = hex::encode(Sha256::digest(&call));
        // The same proof again is the same claim, even once the chain has its nullifier.
        if let Some(existing) = self
            .claims
            .by_nullifier(&campaign.config.name, &checked.nullifier)
            .await?
        {
            if existing.fingerprint == fingerprint {
                return Ok((existing.id, existing.phase));
            }
        }
        let checked_block = campaign.check_on_chain(&checked).await?;
        let id = hex::encode(rand::thread_rng().gen::<[u8; 16]>());
        let got = self
            .claims
            .create(
                &id,
                &campaign.config.name,
                &call,
                &checked.nullifier,
                &checked.claimant,
                &fingerprint,
                now_ms(),
                checked_block,
            )
            .await?;
        if got == id {
            return Ok((id, Phase::Verified));
        }
        let existing = self.claims.get(&got).await?.ok_or_else(|| {
            RelayError::new(
                Code::NullifierPending,
                "a claim with this nullifier is in flight",
            )
        })?;
        if existing.fingerprint == fingerprint {
            return Ok((existing.id, existing.phase));
        }
        if existing.phase == Phase::Confirmed {
            return Err(RelayError::new(
                Code::NullifierUsed,
                "this identity has already claimed in this campaign",
            ));
        }
        Err(RelayError::new(
            Code::NullifierPending,
            format!("claim {} with this nullifier is in flight", existing.id),
        ))
    }
}
