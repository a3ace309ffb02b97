//! The relayer: takes checked claims, sends each once from one of the campaign's accounts, and
//! follows it to `confirmed` or `failed`, whatever dies on the way.
//!
//! This file holds the [`Relayer`] type and what the routes read of it (its campaigns, a claim's
//! status); its work is in the files beside it: [`super::submit`] (a claim's checks before it is
//! queued), [`super::driver`] (one claim followed from queued to `confirmed` or `failed`) and
//! [`super::worker`] (the worker loop over the claims queue).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value};
use tokio::sync::watch;

use super::chain::Campaign;
use super::claims::{ClaimRecord, Claims};
use super::config::CampaignConfig;
use super::error::{Code, RelayError, RelayResult};

pub use super::driver::Crash;
pub use super::submit::ClaimRequest;
pub use super::worker::{RelaySettings, HAND_BACK_BOUND};

/// The relayer of some campaigns, on one Redis.
#[derive(Clone)]
pub struct Relayer {
    pub(super) campaigns: Arc<HashMap<String, Arc<Campaign>>>,
    pub(super) claims: Claims,
    pub(super) redis: redis::Client,
    pub(super) settings: RelaySettings,
    /// Turns true when the worker stops (SIGTERM): each claim finishes the step it is in (a send
    /// completes) and is handed back.
    pub(super) stop: Arc<watch::Sender<bool>>,
}

impl Relayer {
    /// Connects every campaign (see [`Campaign::connect`]) and the claim store.
    pub async fn connect(
        configs: Vec<CampaignConfig>,
        redis: redis::Client,
        settings: RelaySettings,
    ) -> RelayResult<Relayer> {
        let manager = crate::service::redis::connect::manager(redis.clone()).await?;
        let mut campaigns = HashMap::new();
        for config in configs {
            let campaign = Campaign::connect(config).await?;
            campaigns.insert(campaign.config.name.clone(), Arc::new(campaign));
        }
        Ok(Relayer {
            campaigns: Arc::new(campaigns),
            claims: Claims::new(manager, settings.keys.clone()).await?,
            redis,
            settings,
            stop: Arc::new(watch::channel(false).0),
        })
    }

    /// The campaigns, by name.
    pub fn campaign_list(&self) -> Vec<Arc<Campaign>> {
        let mut list: Vec<Arc<Campaign>> = self.campaigns.values().cloned().collect();
        list.sort_by(|a, b| a.config.name.cmp(&b.config.name));
        list
    }

    /// The claim store.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// A connected campaign by name.
    pub fn campaign(&self, name: &str) -> RelayResult<&Arc<Campaign>> {
        self.campaigns.get(name).ok_or_else(|| {
            RelayError::new(Code::UnknownCampaign, format!("no campaign named {name:?}"))
        })
    }

    /// What `GET /v1/campaigns` answers: every campaign's public parameters, by name.
    pub fn campaigns_view(&self) -> Value {
        let list = self.campaign_list();
        json!({ "campaigns": list.iter().map(|c| c.public_view()).collect::<Vec<_>>() })
    }

    /// `GET /v1/claims/{id}`.
    pub async fn status(&self, id: &str) -> RelayResult<Value> {
        let record = self.load(id).await?;
        Ok(Claims::view(&record))
    }

    pub(super) async fn load(&self, id: &str) -> RelayResult<ClaimRecord> {
        if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(RelayError::new(Code::UnknownClaim, "no such claim"));
        }
        self.claims
            .get(id)
            .await?
            .ok_or_else(|| RelayError::new(Code::UnknownClaim, "no such claim"))
    }
}
