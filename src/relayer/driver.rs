//! The driver: one claim followed from queued to `confirmed` or `failed`: fees (waiting while the
//! campaign's ceiling holds it back), an account and a nonce, the signed transaction recorded then
//! sent, replaced with higher fees when it is not mined, confirmations, reorgs.
//!
//! Every step is resumable from what Redis holds. A worker that dies after allocating a nonce,
//! after recording a signed transaction or after broadcasting it leaves a claim that any other
//! worker picks up (the queue's pending entry goes idle, `XAUTOCLAIM` hands it over): the
//! recorded transactions are looked up on-chain and only the same signed bytes are resent (same
//! nonce), so no claim is ever paid twice and no nonce is skipped.

use std::time::Duration;

use alloy::primitives::Address;
use alloy::sol_types::SolCall;
use rand::Rng;
use serde_json::json;

use super::chain::{Broadcast, Campaign, CheckedClaim, Mined, ReputationAirdrop};
use super::claims::{ClaimRecord, Phase, Recorded, SentTx, SettleIf};
use super::config::RelayerKey;
use super::error::{Code, RelayError, RelayResult};
use super::fees::{self, FeeDecision, Fees};
use super::metrics;
use super::relay::Relayer;
use crate::runtime::retry::Jitter;

/// Where [`Relayer::drive`] may stop as if its process had been killed (tests of the recovery).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crash {
    /// After the nonce is allocated, before anything is signed.
    AfterAllocate,
    /// After the signed transaction is recorded, before it is broadcast.
    AfterRecord,
    /// After the broadcast, before anything else.
    AfterBroadcast,
}

impl Relayer {
    /// Sleeps `duration`, or less when the worker stops.
    async fn pause(&self, duration: Duration) {
        let mut stop = self.stop.subscribe();
        tokio::select! {
            _ = tokio::time::sleep(duration) => {}
            _ = stop.wait_for(|s| *s) => {}
        }
    }

    /// Follows the claim `id` until it ends, and returns its final phase. RPC and Redis failures
    /// are waited out with backoff; a revert (simulated or mined) ends the claim `failed` with the
    /// contract's error. `crash` stops it at that step as if the process had died there (tests).
    ///
    /// With `lease` (the claim's queue entry and this worker's consumer name), the entry is kept
    /// from going idle every third of a lease while the claim is followed, and following stops
    /// (an error; the entry is not acknowledged) as soon as another worker owns the entry: two
    /// drivers of one claim overlap at most until the next beat, and what one records first
    /// wins (see [`Claims::record_tx`](super::claims::Claims::record_tx)).
    pub async fn drive(
        &self,
        id: &str,
        crash: Option<Crash>,
        lease: Option<(&str, &str)>,
    ) -> RelayResult<Phase> {
        let Some((entry, consumer)) = lease else {
            return self.follow(id, crash).await;
        };
        let beat = (self.settings.lease / 3).max(Duration::from_millis(10));
        let follow = self.follow(id, crash);
        tokio::pin!(follow);
        loop {
            tokio::select! {
                result = &mut follow => return result,
                _ = tokio::time::sleep(beat) => {
                    if let Ok(false) = self.touch(entry, consumer).await {
                        tracing::info!(claim = id, "another worker took the claim over");
                        return Err(RelayError::new(
                            Code::Internal,
                            "another worker took the claim over",
                        ));
                    }
                }
            }
        }
    }

    async fn follow(&self, id: &str, crash: Option<Crash>) -> RelayResult<Phase> {
        let mut jitter = Jitter::new(rand::thread_rng().gen());
        let mut failures = 0u32;
        loop {
            if *self.stop.borrow() {
                return Err(RelayError::new(
                    Code::Internal,
                    "handed back: the relay worker is stopping",
                ));
            }
            let error = match self.step(id, crash).await {
                Ok(Step::Done(phase)) => return Ok(phase),
                Ok(Step::Crashed) => {
                    return Err(RelayError::new(Code::Internal, "crashed on purpose"))
                }
                Ok(Step::Again) => {
                    failures = 0;
                    continue;
                }
                Ok(Step::Wait) => {
                    failures = 0;
                    self.pause(self.settings.poll).await;
                    continue;
                }
                Err(e) => e,
            };
            if error.code == Code::AccountNotConfigured {
                // Handed back, neither retried here (no wait makes the key appear) nor settled
                // `failed`: the claim holds a nonce of that account, maybe a transaction in a pool
                // too. Failing it would free its nullifier while that transaction may still pay
                // it, and leave a gap in the account's nonces that stalls its later claims. The
                // error leaves the queue entry unacknowledged: after a lease it goes to another
                // worker, and one whose campaigns file has the account finishes it.
                tracing::error!(
                    claim = id,
                    code = error.code.as_str(),
                    "{}; handing the claim back for a worker that has this account",
                    error.message
                );
                return Err(error);
            }
            if !error.code.retryable() {
                // Final only for a claim with no nonce yet (nothing sent, no account waiting on
                // it). A claim that holds one (another driver allocated it meanwhile, or the
                // error came later) is followed on: the chain decides how it ends.
                let record = self.load(id).await?;
                if self.fail(&record, &error, SettleIf::Unallocated).await? {
                    return Ok(Phase::Failed);
                }
                if record.phase.is_final() {
                    continue;
                }
            }
            failures += 1;
            let delay = self.settings.backoff.delay_ms(failures, jitter.next_f64());
            tracing::warn!(
                claim = id,
                code = error.code.as_str(),
                "{}; retrying in {delay:.0} ms",
                error.message
            );
            self.pause(Duration::from_millis(delay as u64)).await;
        }
    }

    /// One step of a claim: what Redis holds decides which.
    async fn step(&self, id: &str, crash: Option<Crash>) -> RelayResult<Step> {
        let record = self.load(id).await?;
        if record.phase.is_final() {
            return Ok(Step::Done(record.phase));
        }
        // A campaign missing from this worker's file is handed back like a missing account (see
        // `follow`): a worker whose file has it drives the claim; failing it here would free a
        // nullifier another worker could still pay.
        let campaign = self
            .campaigns
            .get(&record.campaign)
            .cloned()
            .ok_or_else(|| {
                RelayError::new(
                    Code::AccountNotConfigured,
                    format!(
                        "the claim's campaign {:?} is not in this worker's campaigns file",
                        record.campaign
                    ),
                )
            })?;
        let checked = CheckedClaim {
            call: ReputationAirdrop::claimCall::abi_decode(&record.call)
                .map_err(|_| RelayError::new(Code::Internal, "stored call is corrupt"))?,
            nullifier: record.nullifier,
            claimant: record.claimant,
        };
        let Some((account, nonce)) = record.slot else {
            // Fees first: a claim the fee ceiling holds back takes no nonce, so that the account's
            // later claims do not queue behind a nonce that waits.
            if let FeeDecision::Wait { needed, ceiling } = self.first_fees(&campaign).await? {
                return self.wait_for_fees(&record, needed, ceiling).await;
            }
            // Simulated first: a claim that would revert ends here, with nothing sent and no
            // nonce used.
            let key = self.pick_account(&campaign).await?;
            let gas = match campaign.simulate(&checked, key.address()).await {
                Ok(gas) => gas,
                Err(e) if e.code == Code::NullifierUsed => {
                    match self.used_by_copy(&campaign, &record).await? {
                        Some(step) => return Ok(step),
                        None => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            };
            let pending = campaign.pending_nonce(key.address()).await?;
            self.claims
                .allocate(id, campaign.config.chain_id, key.address(), pending, gas)
                .await?;
            return Ok(if crash == Some(Crash::AfterAllocate) {
                Step::Crashed
            } else {
                Step::Again
            });
        };
        let key = relayer_key(&campaign, account)?;
        let gas = record
            .gas
            .ok_or_else(|| RelayError::new(Code::Internal, "no gas limit stored"))?;
        let Some(newest) = record.txs.last().cloned() else {
            let fees = match self.first_fees(&campaign).await? {
                FeeDecision::Send(fees) => fees,
                FeeDecision::Wait { needed, ceiling } => {
                    return self.wait_for_fees(&record, needed, ceiling).await
                }
            };
            self.send(&campaign, &record, &checked, key, nonce, gas, fees, crash)
                .await?;
            return Ok(if crash.is_some() {
                Step::Crashed
            } else {
                Step::Again
            });
        };
        // Sent before: has any of its transactions (one per fee level, all of one nonce) been mined,
        // `confirmations` deep? One mined but not deep enough yet is looked at again next poll: a
        // reorg that undoes it meanwhile leaves no receipt, and the transaction goes out again
        // below (same nonce, the recorded bytes).
        for tx in record.txs.iter().rev() {
            if let Some(mined) = campaign.outcome(tx.hash).await? {
                let latest = campaign.block_number().await?;
                if !campaign.config.deep_enough(mined.block(), latest) {
                    return Ok(Step::Wait);
                }
                // Reverted, whatever the replay says (a copy of the claim mined in the same block,
                // ahead of it, replays as a success on the block's parent state): if a copy paid
                // the claimant, the claim has what it asked for.
                if matches!(mined, Mined::Reverted { .. }) {
                    if let Some(step) = self.used_by_copy(&campaign, &record).await? {
                        return Ok(step);
                    }
                }
                let paid = mined.clone();
                let (phase, outcome) = match mined {
                    Mined::Confirmed {
                        hash,
                        block,
                        gas_used,
                        ..
                    } => (
                        Phase::Confirmed,
                        json!({ "txHash": hash.to_string(), "block": block, "gasUsed": gas_used }),
                    ),
                    Mined::Reverted {
                        hash, block, error, ..
                    } => (
                        Phase::Failed,
                        json!({ "code": error.code.as_str(), "message": error.message, "txHash": hash.to_string(), "block": block }),
                    ),
                };
                let ended = self
                    .claims
                    .settle(
                        &record,
                        phase,
                        &outcome,
                        self.settings.result_ttl_s,
                        SettleIf::Open,
                    )
                    .await?;
                if ended && phase == Phase::Confirmed {
                    metrics::confirmed(&record.campaign, Some(&paid));
                } else if ended {
                    let code = outcome["code"].as_str().unwrap_or("REVERTED");
                    metrics::failed(&record.campaign, code, Some(&paid));
                }
                return Ok(Step::Done(phase));
            }
        }
        // Not mined. A transaction the node does not know (never broadcast: its worker died
        // first; dropped; or undone by a reorg) goes out again, the same bytes.
        let mut replace = false;
        if !campaign.known(newest.hash).await? {
            // Said once per look, so not while the claim waits for fees (every poll).
            if record.phase != Phase::WaitingForFees {
                tracing::info!(
                    claim = id,
                    "transaction {} is unknown to the node (never broadcast, dropped, or undone by a reorg): broadcasting it again",
                    newest.hash
                );
            }
            match campaign.broadcast(&newest.raw).await? {
                Broadcast::NonceUsed => return self.nonce_taken(&campaign, &record).await,
                // Dropped because the base fee rose above what it offers: replace it now.
                Broadcast::Underpriced => replace = true,
                Broadcast::Sent => return Ok(Step::Wait),
            }
        }
        let block = campaign.block_number().await?;
        if replace || block >= newest.block + campaign.config.replace_after_blocks {
            let old = Fees {
                max_fee: newest.max_fee,
                tip: newest.tip,
            };
            let fees = match fees::replacement(
                old,
                campaign.config.fee_bump_percent,
                campaign.fees().await?,
                campaign.config.max_fee_per_gas,
            ) {
                FeeDecision::Send(fees) => fees,
                // The one in the pool stays there and may still be mined as the base fee falls.
                FeeDecision::Wait { needed, ceiling } => {
                    return self.wait_for_fees(&record, needed, ceiling).await
                }
            };
            tracing::info!(
                claim = id,
                "transaction {} not mined after {} blocks: replacing it with higher fees",
                newest.hash,
                block.saturating_sub(newest.block)
            );
            self.send(&campaign, &record, &checked, key, nonce, gas, fees, None)
                .await?;
            return Ok(Step::Again);
        }
        Ok(Step::Wait)
    }

    /// The fees of a claim's first transaction under the campaign's ceiling ([`fees::first`]); the
    /// next block's base fee is read only when the estimate is above the ceiling.
    async fn first_fees(&self, campaign: &Campaign) -> RelayResult<FeeDecision> {
        let estimate = campaign.fees().await?;
        match campaign.config.max_fee_per_gas {
            Some(ceiling) if estimate.max_fee > ceiling => Ok(fees::first(
                estimate,
                campaign.next_base_fee().await?,
                Some(ceiling),
            )),
            _ => Ok(FeeDecision::Send(estimate)),
        }
    }

    /// The claim waits for fees: marked `waiting_for_fees` once (an event with what it needs and
    /// the ceiling), then looked at again every poll.
    async fn wait_for_fees(
        &self,
        record: &ClaimRecord,
        needed: u128,
        ceiling: u128,
    ) -> RelayResult<Step> {
        let data = json!({
            "neededFeePerGasWei": needed.to_string(),
            "maxFeePerGasWei": ceiling.to_string(),
        });
        if self.claims.wait_for_fees(record, &data).await? {
            tracing::warn!(
                claim = record.id,
                "sending needs {needed} wei per gas, above the campaign's maxFeePerGasWei {ceiling}: waiting for fees to come down"
            );
        }
        Ok(Step::Wait)
    }

    /// The claim's nullifier may be used, and not by a transaction of the claim (its simulation
    /// reverted with `NullifierUsed`, or its own mined transaction reverted). When the transaction that used it
    /// paid the same claimant (the same proof, so the same calldata: copied from the pool by
    /// someone else, or sent by hand), the claimant has what the claim asked for: the claim ends
    /// `confirmed` with that transaction and its sender, once it is `confirmations` deep. None: it
    /// paid someone else (the identity's other proof), or cannot be found; the caller fails the
    /// claim as before.
    async fn used_by_copy(
        &self,
        campaign: &Campaign,
        record: &ClaimRecord,
    ) -> RelayResult<Option<Step>> {
        // A record from before the checked block was kept has no bound for the log search: a
        // search from genesis is refused by most providers, so no copy is looked for.
        let Some(from) = record.checked_block else {
            return Ok(None);
        };
        let Some(by) = campaign.claimed_by(record.nullifier, from).await? else {
            return Ok(None);
        };
        if by.claimant != record.claimant {
            return Ok(None);
        }
        let Some(Mined::Confirmed { gas_used, .. }) = campaign.outcome(by.hash).await? else {
            // Its receipt is not there (yet, or any more): looked at again next poll.
            return Ok(Some(Step::Wait));
        };
        if !campaign
            .config
            .deep_enough(by.block, campaign.block_number().await?)
        {
            return Ok(Some(Step::Wait));
        }
        let mut outcome =
            json!({ "txHash": by.hash.to_string(), "block": by.block, "gasUsed": gas_used });
        if let Some(sender) = by.sender {
            outcome["sentBy"] = json!(sender.to_checksum(None));
        }
        if self
            .claims
            .settle(
                record,
                Phase::Confirmed,
                &outcome,
                self.settings.result_ttl_s,
                SettleIf::Open,
            )
            .await?
        {
            metrics::confirmed(&record.campaign, None);
            tracing::info!(
                claim = record.id,
                "the claim's nullifier was used by {}, which paid its claimant (its calldata, sent by {}): confirmed with it",
                by.hash,
                by.sender
                    .map_or_else(|| "an unknown sender".to_string(), |a| a.to_string())
            );
        }
        Ok(Some(Step::Again))
    }

    /// Signs, records, then broadcasts a transaction for the claim's nonce.
    #[allow(clippy::too_many_arguments)]
    async fn send(
        &self,
        campaign: &Campaign,
        record: &ClaimRecord,
        checked: &CheckedClaim,
        key: &RelayerKey,
        nonce: u64,
        gas: u64,
        fees: Fees,
        crash: Option<Crash>,
    ) -> RelayResult<()> {
        let signed = campaign.sign(checked, key, nonce, gas, fees).await?;
        let block = campaign.block_number().await?;
        let mut txs = record.txs.clone();
        txs.push(SentTx {
            hash: signed.hash,
            raw: signed.raw.clone(),
            max_fee: fees.max_fee,
            tip: fees.tip,
            block,
        });
        match self
            .claims
            .record_tx(&record.id, &txs, key.address(), nonce)
            .await?
        {
            Recorded::Yes => {}
            // Ended, or another driver recorded a transaction since `record` was read: this one
            // is never broadcast; the next step reads the claim again.
            Recorded::Ended | Recorded::Stale => return Ok(()),
        }
        if crash == Some(Crash::AfterRecord) {
            return Ok(());
        }
        let broadcast = campaign.broadcast(&signed.raw).await?;
        metrics::sent(&record.campaign, !record.txs.is_empty());
        match broadcast {
            Broadcast::Sent | Broadcast::Underpriced => {}
            // One of the claim's earlier transactions was mined meanwhile: the next step finds it.
            Broadcast::NonceUsed => {}
        }
        Ok(())
    }

    /// The claim's nonce is used, but by none of its own transactions: the account sent something
    /// the relayer did not. The claim fails (nothing of it was mined: it may be submitted again).
    async fn nonce_taken(&self, campaign: &Campaign, record: &ClaimRecord) -> RelayResult<Step> {
        // Read the record again: another worker that held the claim meanwhile (its lease taken
        // over) may have recorded a replacement since `record` was read, and that one was mined.
        let fresh = self.load(&record.id).await?;
        if fresh.phase.is_final() || fresh.txs.len() != record.txs.len() {
            return Ok(Step::Again);
        }
        // A node may count the nonce before it has stored the block's receipts (anvil does, while
        // it mines): the receipts are looked for over a few polls before the nonce is called
        // someone else's.
        for poll in 0..NONCE_RECHECKS {
            for tx in &fresh.txs {
                if campaign.outcome(tx.hash).await?.is_some() {
                    if poll > 0 {
                        tracing::info!(
                            claim = record.id,
                            "receipt of {} found {poll} polls after its nonce was counted",
                            tx.hash
                        );
                    }
                    return Ok(Step::Again);
                }
            }
            tokio::time::sleep(self.settings.poll).await;
        }
        let record = &fresh;
        let error = RelayError::new(
            Code::Misconfigured,
            "the relayer account's nonce was used by a transaction the relayer did not send: is the account used elsewhere?",
        );
        self.fail(record, &error, SettleIf::Open).await?;
        Ok(Step::Done(Phase::Failed))
    }

    /// Ends the claim `failed` with `error` as its outcome, if `only_if` still holds, and counts
    /// it: true when this call ended it (the process whose script ends a claim counts it).
    async fn fail(
        &self,
        record: &ClaimRecord,
        error: &RelayError,
        only_if: SettleIf,
    ) -> RelayResult<bool> {
        let ended = self
            .claims
            .settle(
                record,
                Phase::Failed,
                &error.to_json(),
                self.settings.result_ttl_s,
                only_if,
            )
            .await?;
        if ended {
            metrics::failed(&record.campaign, error.code.as_str(), None);
        }
        Ok(ended)
    }

    /// The next account of the campaign, round robin over all workers (a Redis counter).
    async fn pick_account<'c>(&self, campaign: &'c Campaign) -> RelayResult<&'c RelayerKey> {
        let mut redis = self.claims.redis();
        let turn: u64 = redis::cmd("INCR")
            .arg(self.claims.keys().relayer_turn(&campaign.config.name))
            .query_async(&mut redis)
            .await?;
        let keys = &campaign.config.relayers;
        Ok(&keys[(turn as usize) % keys.len()])
    }
}

/// How many polls [`Relayer::nonce_taken`] looks for the receipts of a claim whose nonce is used.
const NONCE_RECHECKS: u32 = 20;

enum Step {
    /// Go on at once.
    Again,
    /// Look again after the poll interval.
    Wait,
    /// Stopped on purpose (a test's crash).
    Crashed,
    /// The claim has ended.
    Done(Phase),
}

fn relayer_key(campaign: &Campaign, account: Address) -> RelayResult<&RelayerKey> {
    campaign
        .config
        .relayers
        .iter()
        .find(|k| k.address() == account)
        .ok_or_else(|| {
            RelayError::new(
                Code::AccountNotConfigured,
                format!(
                    "the claim's relayer account {account} (campaign {}) is not configured on this worker",
                    campaign.config.name
                ),
            )
        })
}
