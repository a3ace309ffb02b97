//! The relayer's numbers (per process, through the [`metrics`] facade: see
//! `service::http::metrics` for why), and the readiness of its campaigns' RPC.
//!
//! Each claim's end is counted by the process whose script ended it (the settle that returned
//! true), so that the sum over relay workers counts every claim once.

use std::time::Duration;

use alloy::primitives::U256;
use serde_json::json;
use tokio::sync::watch;

use super::chain::Mined;
use super::Relayer;
use crate::service::http::health::Part;

/// Metric names.
pub mod names {
    /// Counter: first transactions of claims sent, by `campaign`.
    pub const SENT: &str = "airprover_relayer_sent_total";
    /// Counter: replacements sent (same nonce, higher fees), by `campaign`.
    pub const REPLACED: &str = "airprover_relayer_replaced_total";
    /// Counter: claims confirmed, by `campaign`.
    pub const CONFIRMED: &str = "airprover_relayer_confirmed_total";
    /// Counter: claims failed, by `campaign` and `code`.
    pub const FAILED: &str = "airprover_relayer_failed_total";
    /// Counter: gas used by mined claim transactions, by `campaign`.
    pub const GAS_USED: &str = "airprover_relayer_gas_used_total";
    /// Counter: fees paid by mined claim transactions (gwei, rounded down), by `campaign`.
    pub const FEES_PAID: &str = "airprover_relayer_fees_paid_gwei_total";
    /// Gauge: an account's balance in ether, by `campaign` and `account`.
    pub const BALANCE: &str = "airprover_relayer_balance_eth";
    /// Gauge: an account's transactions waiting in the node's pool, by `campaign` and
    /// `account`.
    pub const PENDING: &str = "airprover_relayer_pending_transactions";
}

/// How often a relay worker reads its accounts' balances and pending transactions.
pub const ACCOUNTS_EVERY: Duration = Duration::from_secs(15);

/// A claim's transaction went out: its first, or a replacement.
pub fn sent(campaign: &str, replacement: bool) {
    let name = if replacement {
        names::REPLACED
    } else {
        names::SENT
    };
    metrics::counter!(name, "campaign" => campaign.to_string()).increment(1);
}

/// A claim ended `confirmed` (by its own transaction, or by a copy someone else paid for:
/// `mined` none).
pub fn confirmed(campaign: &str, mined: Option<&Mined>) {
    metrics::counter!(names::CONFIRMED, "campaign" => campaign.to_string()).increment(1);
    if let Some(mined) = mined {
        paid(campaign, mined);
    }
}

/// A claim ended `failed` with `code` (its mined transaction's, when it reverted).
pub fn failed(campaign: &str, code: &str, mined: Option<&Mined>) {
    metrics::counter!(names::FAILED, "campaign" => campaign.to_string(), "code" => code.to_string())
        .increment(1);
    if let Some(mined) = mined {
        paid(campaign, mined);
    }
}

fn paid(campaign: &str, mined: &Mined) {
    let (gas, fee_wei) = match mined {
        Mined::Confirmed {
            gas_used, fee_wei, ..
        }
        | Mined::Reverted {
            gas_used, fee_wei, ..
        } => (*gas_used, *fee_wei),
    };
    metrics::counter!(names::GAS_USED, "campaign" => campaign.to_string()).increment(gas);
    let gwei = u64::try_from(fee_wei / 1_000_000_000).unwrap_or(u64::MAX);
    metrics::counter!(names::FEES_PAID, "campaign" => campaign.to_string()).increment(gwei);
}

/// Wei as ether, for a gauge (a float: a balance's last wei does not matter on a graph).
fn ether(wei: U256) -> f64 {
    let gwei = wei / U256::from(1_000_000_000u64);
    u128::try_from(gwei).map_or(f64::MAX, |g| g as f64 / 1e9)
}

/// Reads every account's balance and pending transactions every [`ACCOUNTS_EVERY`] into the
/// gauges, until `shutdown`. An RPC failure leaves the last values (and is logged by the chain
/// layer); readiness says the RPC is down.
pub async fn watch_accounts(relayer: Relayer, mut shutdown: watch::Receiver<bool>) {
    loop {
        for campaign in relayer.campaign_list() {
            for key in &campaign.config.relayers {
                let account = key.address();
                if let Ok((balance, pending)) = campaign.account_state(account).await {
                    let labels = [
                        ("campaign", campaign.config.name.clone()),
                        ("account", account.to_checksum(None)),
                    ];
                    metrics::gauge!(names::BALANCE, &labels).set(ether(balance));
                    metrics::gauge!(names::PENDING, &labels).set(pending as f64);
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(ACCOUNTS_EVERY) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}

/// One readiness part per campaign: its RPC answers with a block number. `required`: the relay
/// worker is not ready without it; for `serve` it decides only the claim routes.
pub fn rpc_parts(relayer: &Relayer, required: bool) -> Vec<Part> {
    relayer
        .campaign_list()
        .into_iter()
        .map(|campaign| {
            let name = format!("campaign:{}", campaign.config.name);
            Part::new(name, required, move || {
                let campaign = campaign.clone();
                async move {
                    campaign
                        .block_number()
                        .await
                        .map(|block| json!({ "block": block }))
                        .map_err(|e| (e.code, e.message))
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balances_are_shown_in_ether() {
        assert_eq!(ether(U256::from(1_500_000_000_000_000_000u128)), 1.5);
        assert_eq!(ether(U256::ZERO), 0.0);
        assert_eq!(ether(U256::MAX), f64::MAX);
    }
}
