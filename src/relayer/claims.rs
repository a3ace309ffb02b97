//! Claim records in Redis: what a claim is, which phase it reached, which transactions carry it.
//!
//! A claim is a hash (`airprover:claim:{id}`) and an event stream (`…:events`, one entry per
//! phase, read by the status and SSE endpoints). Each step that must happen at most once is one
//! Lua script, which Redis runs alone: taking a nullifier, allocating an account's nonce,
//! recording a signed transaction before it is broadcast, marking a claim `waiting_for_fees`
//! (one event per wait), and settling the final phase (a compare-and-set: a claim ends once,
//! whoever finishes it).

use crate::service::redis::{Keys, Queue};
use alloy::primitives::{Address, Bytes, TxHash, U256};
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::error::{Code, RelayError, RelayResult};

/// A claim's phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Accepted by the API.
    Received,
    /// Checked: the proof verifies, the signals are the campaign's, root published, nullifier free.
    Verified,
    /// A transaction carrying it was broadcast.
    Submitted,
    /// Sending it (or replacing its transaction with higher fees) would offer more per gas than
    /// the campaign's `maxFeePerGasWei`: it waits for fees to come down. A transaction sent
    /// before may still be mined meanwhile.
    WaitingForFees,
    /// Mined and successful.
    Confirmed,
    /// Refused, reverted or abandoned: final, with a code.
    Failed,
}

impl Phase {
    /// As stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Received => "received",
            Phase::Verified => "verified",
            Phase::Submitted => "submitted",
            Phase::WaitingForFees => "waiting_for_fees",
            Phase::Confirmed => "confirmed",
            Phase::Failed => "failed",
        }
    }

    fn parse(s: &str) -> RelayResult<Phase> {
        Ok(match s {
            "received" => Phase::Received,
            "verified" => Phase::Verified,
            "submitted" => Phase::Submitted,
            "waiting_for_fees" => Phase::WaitingForFees,
            "confirmed" => Phase::Confirmed,
            "failed" => Phase::Failed,
            other => {
                return Err(RelayError::new(
                    Code::Internal,
                    format!("stored phase {other:?}"),
                ))
            }
        })
    }

    /// Whether the claim has ended.
    pub fn is_final(self) -> bool {
        matches!(self, Phase::Confirmed | Phase::Failed)
    }
}

/// A transaction sent for a claim (several when replaced: all for the same nonce).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SentTx {
    /// Its hash.
    pub hash: TxHash,
    /// Its signed bytes (resent as they are after a crash).
    pub raw: Bytes,
    /// `maxFeePerGas`.
    pub max_fee: u128,
    /// `maxPriorityFeePerGas`.
    pub tip: u128,
    /// The latest block when it was signed.
    pub block: u64,
}

/// A claim as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimRecord {
    /// Its id.
    pub id: String,
    /// The campaign's name.
    pub campaign: String,
    /// Its phase.
    pub phase: Phase,
    /// `claim(...)`'s ABI-encoded call.
    pub call: Bytes,
    /// The nullifier.
    pub nullifier: U256,
    /// The claimant.
    pub claimant: Address,
    /// SHA-256 of the proof and its signals: the same proof again is the same claim.
    pub fingerprint: String,
    /// The relayer account and nonce, once allocated.
    pub slot: Option<(Address, u64)>,
    /// The gas limit, once simulated.
    pub gas: Option<u64>,
    /// The transactions sent, oldest first.
    pub txs: Vec<SentTx>,
    /// The block at which the chain's checks found the nullifier unused (claims stored by an
    /// earlier version have none): whoever used it since did so in a later block.
    pub checked_block: Option<u64>,
    /// The final outcome: `{ txHash, block, gasUsed }` or `{ code, message }`.
    pub outcome: Option<Value>,
}

/// The Redis side of the relayer: its key names are the service's one list
/// (`crate::service::redis::keys`), under the deployment's prefix.
#[derive(Clone)]
pub struct Claims {
    redis: ConnectionManager,
    keys: Keys,
}

/// The consumer group of relayer workers.
pub const GROUP: &str = "relayers";

const NEW_CLAIM: &str = r#"
-- KEYS: nullifier index, claim hash, events, queue, the hash of the claim the index named when
-- the caller read it. ARGV: id, campaign, call, nullifier, claimant, fingerprint, now (ms), the
-- block the chain's checks were made at, the id the index named ('' when none).
-- 'AGAIN' when the index changed since the caller read it. An index whose claim has failed, or
-- whose record is gone (an index left by an older version that did not expire it with its
-- record), frees the nullifier.
local taken = redis.call('GET', KEYS[1])
if (taken or '') ~= ARGV[9] then return 'AGAIN' end
if taken then
  local phase = redis.call('HGET', KEYS[5], 'phase')
  if phase and phase ~= 'failed' then return taken end
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], 'id', ARGV[1], 'campaign', ARGV[2], 'phase', 'verified', 'call', ARGV[3],
  'nullifier', ARGV[4], 'claimant', ARGV[5], 'fingerprint', ARGV[6], 'created', ARGV[7], 'txs', '[]',
  'checked', ARGV[8])
redis.call('XADD', KEYS[3], '*', 'type', 'received', 'data', '{}')
redis.call('XADD', KEYS[3], '*', 'type', 'verified', 'data', '{}')
redis.call('XADD', KEYS[4], '*', 'id', ARGV[1])
return ARGV[1]
"#;

const ALLOCATE: &str = r#"
-- KEYS: claim hash, the account's next nonce. ARGV: account, the node's pending nonce, gas.
local have = redis.call('HMGET', KEYS[1], 'account', 'nonce')
if have[2] then return have end
local stored = tonumber(redis.call('GET', KEYS[2]) or '0')
local n = math.max(stored, tonumber(ARGV[2]))
redis.call('SET', KEYS[2], n + 1)
redis.call('HSET', KEYS[1], 'account', ARGV[1], 'nonce', n, 'gas', ARGV[3])
return {ARGV[1], tostring(n)}
"#;

const RECORD_TX: &str = r#"
-- KEYS: claim hash, events. ARGV: the transactions (JSON), the new one's hash, account, nonce,
-- how many transactions the caller read (the list is only ever appended to: a caller that read
-- fewer or more than are stored is working from a stale record and must not broadcast).
local have = redis.call('HMGET', KEYS[1], 'phase', 'txs')
if not have[1] or have[1] == 'confirmed' or have[1] == 'failed' then return 0 end
if #cjson.decode(have[2]) ~= tonumber(ARGV[5]) then return 2 end
redis.call('HSET', KEYS[1], 'txs', ARGV[1], 'phase', 'submitted')
redis.call('XADD', KEYS[2], '*', 'type', 'submitted', 'data',
  cjson.encode({txHash = ARGV[2], account = ARGV[3], nonce = tonumber(ARGV[4])}))
return 1
"#;

const WAIT_FOR_FEES: &str = r#"
-- KEYS: claim hash, events. ARGV: the event's data (JSON), how many transactions the caller read.
-- Once per wait: a claim already waiting, ended, or with a transaction recorded since the caller
-- read it (another driver sent meanwhile) is left as it is.
local have = redis.call('HMGET', KEYS[1], 'phase', 'txs')
if not have[1] or have[1] == 'confirmed' or have[1] == 'failed' or have[1] == 'waiting_for_fees' then
  return 0
end
if #cjson.decode(have[2]) ~= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'phase', 'waiting_for_fees')
redis.call('XADD', KEYS[2], '*', 'type', 'waiting_for_fees', 'data', ARGV[1])
return 1
"#;

const SETTLE: &str = r#"
-- KEYS: claim hash, events, nullifier index. ARGV: phase, outcome (JSON), ttl (s), 'unallocated'
-- to settle only a claim that holds no nonce yet (or 'any'), the claim's id.
-- A failed claim frees its nullifier at once; a confirmed one's index expires with its record
-- (the contract refuses the nullifier from then on).
local phase = redis.call('HGET', KEYS[1], 'phase')
if not phase or phase == 'confirmed' or phase == 'failed' then return 0 end
if ARGV[4] == 'unallocated' and redis.call('HEXISTS', KEYS[1], 'nonce') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'phase', ARGV[1], 'outcome', ARGV[2])
redis.call('XADD', KEYS[2], '*', 'type', ARGV[1], 'data', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
if redis.call('GET', KEYS[3]) == ARGV[5] then
  if ARGV[1] == 'failed' then redis.call('DEL', KEYS[3]) else redis.call('EXPIRE', KEYS[3], ARGV[3]) end
end
return 1
"#;

/// What [`Claims::record_tx`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Recorded: the transaction may be broadcast.
    Yes,
    /// The claim has ended meanwhile: nothing recorded, nothing to broadcast.
    Ended,
    /// Another driver recorded a transaction since the caller read the claim: nothing recorded;
    /// read the claim again.
    Stale,
}

/// Which claims [`Claims::settle`] may end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettleIf {
    /// Any claim that has not ended.
    Open,
    /// Only a claim that holds no nonce: once a nonce is allocated the claim must use it (an
    /// account's later transactions wait behind it), and what the chain does with it decides.
    Unallocated,
}

impl Claims {
    /// Over `redis`, with the key names `keys`; creates the queue's consumer group if it is
    /// missing.
    pub async fn new(mut redis: ConnectionManager, keys: Keys) -> RelayResult<Claims> {
        Queue::new(keys.claims(), GROUP, "-", std::time::Duration::ZERO)
            .ensure_group(&mut redis)
            .await?;
        Ok(Claims { redis, keys })
    }

    /// The key names.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    fn key(&self, id: &str) -> String {
        self.keys.claim(id)
    }

    /// The claim's event stream.
    pub fn events_key(&self, id: &str) -> String {
        self.keys.claim_events(id)
    }

    fn nullifier_key(&self, campaign: &str, nullifier: &U256) -> String {
        self.keys.nullifier(campaign, &nullifier.to_string())
    }

    fn nonce_key(&self, chain_id: u64, account: &Address) -> String {
        self.keys.nonce(chain_id, &account.to_string())
    }

    /// The stream of claims to relay, read by relayer workers in a consumer group.
    pub fn queue(&self) -> String {
        self.keys.claims()
    }

    /// The connection, for the queue.
    pub fn redis(&self) -> ConnectionManager {
        self.redis.clone()
    }

    /// Stores a checked claim and queues it, unless its nullifier is taken by a claim that has
    /// not failed (and whose record still exists): then returns that claim's id instead (the
    /// caller compares fingerprints).
    #[allow(clippy::too_many_arguments)]
    pub async fn create(
        &self,
        id: &str,
        campaign: &str,
        call: &Bytes,
        nullifier: &U256,
        claimant: &Address,
        fingerprint: &str,
        now_ms: u64,
        checked_block: u64,
    ) -> RelayResult<String> {
        let mut redis = self.redis.clone();
        let index = self.nullifier_key(campaign, nullifier);
        loop {
            let taken: Option<String> = redis.get(&index).await?;
            let taken = taken.unwrap_or_default();
            let got: String = Script::new(NEW_CLAIM)
                .key(&index)
                .key(self.key(id))
                .key(self.events_key(id))
                .key(self.queue())
                .key(self.key(if taken.is_empty() { id } else { &taken }))
                .arg(id)
                .arg(campaign)
                .arg(call.to_string())
                .arg(nullifier.to_string())
                .arg(claimant.to_string())
                .arg(fingerprint)
                .arg(now_ms)
                .arg(checked_block)
                .arg(&taken)
                .invoke_async(&mut redis)
                .await?;
            if got != "AGAIN" {
                return Ok(got);
            }
        }
    }

    /// The claim that holds `nullifier` in `campaign`, if one does.
    pub async fn by_nullifier(
        &self,
        campaign: &str,
        nullifier: &U256,
    ) -> RelayResult<Option<ClaimRecord>> {
        let mut redis = self.redis.clone();
        let id: Option<String> = redis.get(self.nullifier_key(campaign, nullifier)).await?;
        match id {
            Some(id) => self.get(&id).await,
            None => Ok(None),
        }
    }

    /// The claim `id`, if there is one.
    pub async fn get(&self, id: &str) -> RelayResult<Option<ClaimRecord>> {
        let mut redis = self.redis.clone();
        let fields: std::collections::HashMap<String, String> = redis.hgetall(self.key(id)).await?;
        if fields.is_empty() {
            return Ok(None);
        }
        let field = |name: &str| {
            fields.get(name).ok_or_else(|| {
                RelayError::new(Code::Internal, format!("claim {id}: no {name} stored"))
            })
        };
        let corrupt =
            |name: &str| RelayError::new(Code::Internal, format!("claim {id}: {name} is corrupt"));
        let slot = match (fields.get("account"), fields.get("nonce")) {
            (Some(a), Some(n)) => Some((
                a.parse().map_err(|_| corrupt("account"))?,
                n.parse().map_err(|_| corrupt("nonce"))?,
            )),
            _ => None,
        };
        Ok(Some(ClaimRecord {
            id: id.to_string(),
            campaign: field("campaign")?.clone(),
            phase: Phase::parse(field("phase")?)?,
            call: field("call")?.parse().map_err(|_| corrupt("call"))?,
            nullifier: field("nullifier")?
                .parse()
                .map_err(|_| corrupt("nullifier"))?,
            claimant: field("claimant")?
                .parse()
                .map_err(|_| corrupt("claimant"))?,
            fingerprint: field("fingerprint")?.clone(),
            slot,
            gas: fields
                .get("gas")
                .map(|g| g.parse())
                .transpose()
                .map_err(|_| corrupt("gas"))?,
            txs: serde_json::from_str(field("txs")?).map_err(|_| corrupt("txs"))?,
            checked_block: fields
                .get("checked")
                .map(|b| b.parse())
                .transpose()
                .map_err(|_| corrupt("checked"))?,
            outcome: fields
                .get("outcome")
                .map(|o| serde_json::from_str(o))
                .transpose()
                .map_err(|_| corrupt("outcome"))?,
        }))
    }

    /// Allocates the claim's account and nonce, once: a claim that has them keeps them.
    pub async fn allocate(
        &self,
        id: &str,
        chain_id: u64,
        account: Address,
        pending_nonce: u64,
        gas: u64,
    ) -> RelayResult<(Address, u64)> {
        let mut redis = self.redis.clone();
        let (got_account, got_nonce): (String, String) = Script::new(ALLOCATE)
            .key(self.key(id))
            .key(self.nonce_key(chain_id, &account))
            .arg(account.to_string())
            .arg(pending_nonce)
            .arg(gas)
            .invoke_async(&mut redis)
            .await?;
        let corrupt = || RelayError::new(Code::Internal, format!("claim {id}: bad slot"));
        Ok((
            got_account.parse().map_err(|_| corrupt())?,
            got_nonce.parse().map_err(|_| corrupt())?,
        ))
    }

    /// Records a signed transaction before it is broadcast (a claim reclaimed later looks it up
    /// instead of sending another). `txs` is what the caller read plus the new one: it is
    /// recorded only if the stored list still holds exactly what the caller read.
    pub async fn record_tx(
        &self,
        id: &str,
        txs: &[SentTx],
        account: Address,
        nonce: u64,
    ) -> RelayResult<Recorded> {
        let mut redis = self.redis.clone();
        let newest = txs.last().map(|t| t.hash.to_string()).unwrap_or_default();
        let encoded = serde_json::to_string(txs)
            .map_err(|e| RelayError::new(Code::Internal, format!("claim {id}: {e}")))?;
        let done: i64 = Script::new(RECORD_TX)
            .key(self.key(id))
            .key(self.events_key(id))
            .arg(encoded)
            .arg(newest)
            .arg(account.to_string())
            .arg(nonce)
            .arg(txs.len().saturating_sub(1))
            .invoke_async(&mut redis)
            .await?;
        Ok(match done {
            1 => Recorded::Yes,
            2 => Recorded::Stale,
            _ => Recorded::Ended,
        })
    }

    /// Marks the claim `waiting_for_fees` (one event, `data`), unless it waits already, has ended,
    /// or holds more transactions than `record` (another driver sent meanwhile). True when this
    /// call marked it.
    pub async fn wait_for_fees(&self, record: &ClaimRecord, data: &Value) -> RelayResult<bool> {
        let mut redis = self.redis.clone();
        let done: i64 = Script::new(WAIT_FOR_FEES)
            .key(self.key(&record.id))
            .key(self.events_key(&record.id))
            .arg(data.to_string())
            .arg(record.txs.len())
            .invoke_async(&mut redis)
            .await?;
        Ok(done == 1)
    }

    /// Ends the claim in `phase` with `outcome`, unless it has ended already (or, with
    /// [`SettleIf::Unallocated`], holds a nonce); the record expires `ttl_s` later, and so does
    /// its nullifier's index when confirmed (a failed claim frees it at once). True when this
    /// call ended it.
    pub async fn settle(
        &self,
        record: &ClaimRecord,
        phase: Phase,
        outcome: &Value,
        ttl_s: u64,
        only: SettleIf,
    ) -> RelayResult<bool> {
        let mut redis = self.redis.clone();
        let done: i64 = Script::new(SETTLE)
            .key(self.key(&record.id))
            .key(self.events_key(&record.id))
            .key(self.nullifier_key(&record.campaign, &record.nullifier))
            .arg(phase.as_str())
            .arg(outcome.to_string())
            .arg(ttl_s)
            .arg(match only {
                SettleIf::Open => "any",
                SettleIf::Unallocated => "unallocated",
            })
            .arg(&record.id)
            .invoke_async(&mut redis)
            .await?;
        Ok(done == 1)
    }

    /// What `GET /v1/claims/{id}` answers.
    pub fn view(record: &ClaimRecord) -> Value {
        let mut out = json!({
            "id": record.id,
            "campaign": record.campaign,
            "phase": record.phase.as_str(),
            "nullifier": record.nullifier.to_string(),
            "claimant": record.claimant.to_checksum(None),
        });
        if let Some((account, nonce)) = record.slot {
            out["account"] = json!(account.to_checksum(None));
            out["nonce"] = json!(nonce);
        }
        if let Some(tx) = record.txs.last() {
            out["txHash"] = json!(tx.hash.to_string());
            out["transactions"] = json!(record
                .txs
                .iter()
                .map(|t| t.hash.to_string())
                .collect::<Vec<_>>());
        }
        if let Some(outcome) = &record.outcome {
            if let Some(obj) = outcome.as_object() {
                for (k, v) in obj {
                    out[k] = v.clone();
                }
            }
        }
        out
    }
}
