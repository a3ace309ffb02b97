//! `ReputationAirdrop` through alloy: the campaign's parameters read from the contract, the
//! checks a claim passes before anything is sent, and the claim transaction itself (signed
//! locally, so that its hash is known, and recorded, before it is broadcast).

use alloy::consensus::TxEnvelope;
use alloy::eips::eip2718::Encodable2718;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, Bytes, TxHash, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::sol;
use alloy::sol_types::{SolCall, SolInterface};
use alloy::transports::{RpcError, TransportErrorKind};
use num_bigint::BigUint;
use serde_json::Value;

use super::config::CampaignConfig;
use super::error::{Code, RelayError, RelayResult};
pub use super::fees::Fees;
use crate::api;
use crate::circuit::id::{CircuitId, ScoreRule};
use crate::prover::export;
use crate::prover::key_dir::KeyDir;
use crate::prover::keys::KeyKind;
use crate::prover::solidity::Calldata;

sol! {
    /// The parts of `contracts/src/ReputationAirdrop.sol` the relayer uses.
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    interface ReputationAirdrop {
        function campaignId() external view returns (uint256);
        function rule() external view returns (uint8);
        function target() external view returns (uint256);
        function published(uint256 root) external view returns (bool);
        function claimed(uint256 nullifier) external view returns (bool);
        function claim(
            uint256[2] calldata pA,
            uint256[2][2] calldata pB,
            uint256[2] calldata pC,
            uint256[5] calldata pubSignals
        ) external;

        event Claimed(address indexed claimant, uint256 indexed nullifier, uint256 root, uint256 amount);

        error RootNotPublished(uint256 root);
        error WrongCampaign(uint256 expected, uint256 given);
        error ThresholdBelowCampaign(uint256 required, uint256 given);
        error ScoreMismatch(uint256 required, uint256 given);
        error ClaimantNotAnAddress(uint256 given);
        error NullifierUsed(uint256 nullifier);
        error InvalidProof();
        error CampaignNotBound(uint256 expected, uint256 given);
    }
}

/// Public signal positions, in the claim spec's order.
const ROOT: usize = 0;
const CAMPAIGN: usize = 1;
const CLAIMANT: usize = 2;
const NULLIFIER: usize = 3;
const TARGET: usize = 4;

/// How long one RPC call may take before it counts as the node not answering.
pub const RPC_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A campaign connected to its chain: the configuration, the verifying key and what the
/// contract says (its campaign id, rule and target).
#[derive(Debug, Clone)]
pub struct Campaign {
    /// As configured.
    pub config: CampaignConfig,
    /// The RPC node.
    pub provider: DynProvider,
    /// The campaign id the contract holds (bound to its chain and address).
    pub campaign_id: U256,
    /// Threshold (`AtLeast`) or exact score (`Exactly`).
    pub rule: ScoreRule,
    /// The threshold or the score.
    pub target: U256,
    verifying_key: Vec<u8>,
}

/// A claim that passed every check: its transaction's arguments and what identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedClaim {
    /// `claim(...)`'s arguments.
    pub call: ReputationAirdrop::claimCall,
    /// Public signal 3.
    pub nullifier: U256,
    /// Public signal 2, as an address.
    pub claimant: Address,
}

impl Campaign {
    /// Connects `config`: loads the verifying key (pinned by its manifest), checks the node's
    /// chain id and that the contract's campaign id is bound to its deployment, and reads the
    /// rule and the target.
    pub async fn connect(config: CampaignConfig) -> RelayResult<Campaign> {
        let verifying_key = KeyDir::new(&config.keys).load(&config.circuit, KeyKind::Verifying)?;
        let url = config.rpc_url.parse().map_err(|_| {
            RelayError::new(
                Code::Misconfigured,
                format!("campaign {}: rpcUrl is not a URL", config.name),
            )
        })?;
        // A node that stops answering (its host cut off) fails each call after RPC_TIMEOUT, so
        // the relayer logs CHAIN_UNAVAILABLE and retries instead of waiting silently.
        let http = alloy::transports::http::reqwest::Client::builder()
            .timeout(RPC_TIMEOUT)
            .build()
            .map_err(|e| RelayError::new(Code::Misconfigured, format!("rpc client: {e}")))?;
        let provider = ProviderBuilder::new()
            .disable_recommended_fillers()
            .connect_reqwest(http, url)
            .erased();
        let chain_id = provider.get_chain_id().await.map_err(rpc_error)?;
        if chain_id != config.chain_id {
            return Err(RelayError::new(
                Code::Misconfigured,
                format!(
                    "campaign {}: the node is on chain {chain_id}, not {}",
                    config.name, config.chain_id
                ),
            ));
        }
        let contract = ReputationAirdrop::new(config.airdrop, &provider);
        let campaign_id = contract.campaignId().call().await.map_err(contract_error)?;
        let bound = crate::campaign::campaign_id(chain_id, &config.airdrop.0 .0);
        if campaign_id != U256::from_be_slice(&crate::field::fr_to_biguint(&bound).to_bytes_be()) {
            return Err(RelayError::new(
                Code::Misconfigured,
                format!(
                    "campaign {}: the contract's campaign id is not bound to its deployment",
                    config.name
                ),
            ));
        }
        let rule = match contract.rule().call().await.map_err(contract_error)? {
            0 => ScoreRule::Threshold,
            1 => ScoreRule::Exact,
            other => {
                return Err(RelayError::new(
                    Code::Misconfigured,
                    format!("campaign {}: unknown rule {other}", config.name),
                ))
            }
        };
        let CircuitId::Claim {
            rule: circuit_rule, ..
        } = config.circuit
        else {
            return Err(RelayError::new(
                Code::Misconfigured,
                format!(
                    "campaign {}: {} is not a claim circuit",
                    config.name, config.circuit
                ),
            ));
        };
        if circuit_rule != rule {
            return Err(RelayError::new(
                Code::Misconfigured,
                format!(
                    "campaign {}: the contract's rule is not the circuit's",
                    config.name
                ),
            ));
        }
        let target = contract.target().call().await.map_err(contract_error)?;
        Ok(Campaign {
            config,
            provider,
            campaign_id,
            rule,
            target,
            verifying_key,
        })
    }

    fn contract(&self) -> ReputationAirdrop::ReputationAirdropInstance<&DynProvider> {
        ReputationAirdrop::new(self.config.airdrop, &self.provider)
    }

    /// The checks that need no chain, before anything is queued or sent: the circuit, the
    /// proof's format, the signals against the campaign (campaign, threshold or score,
    /// claimant; the contract's order), then the proof against the campaign's verifying key,
    /// natively.
    pub fn check(
        &self,
        circuit: &str,
        proof: &Value,
        public_signals: &Value,
    ) -> RelayResult<CheckedClaim> {
        if circuit != self.config.circuit.to_string() {
            return Err(RelayError::new(
                Code::InvalidInput,
                format!(
                    "circuit: campaign {} takes {} proofs",
                    self.config.name, self.config.circuit
                ),
            ));
        }
        let parsed_proof = export::proof_from_value(proof)?;
        let public = export::public_from_value(public_signals)?;
        if public.len() != 5 {
            return Err(RelayError::new(
                Code::InvalidProof,
                format!("publicSignals: {} of them, not 5", public.len()),
            ));
        }
        let calldata = Calldata::new(&parsed_proof, &public);
        let call = claim_call(&calldata);
        let signals = call.pubSignals;
        if signals[CAMPAIGN] != self.campaign_id {
            return Err(RelayError::new(
                Code::WrongCampaign,
                format!(
                    "the proof is for campaign {}, not {}",
                    signals[CAMPAIGN], self.campaign_id
                ),
            ));
        }
        match self.rule {
            ScoreRule::Threshold if signals[TARGET] < self.target => {
                return Err(RelayError::new(
                    Code::ThresholdBelowCampaign,
                    format!(
                        "the proven threshold {} is below the campaign's {}",
                        signals[TARGET], self.target
                    ),
                ))
            }
            ScoreRule::Exact if signals[TARGET] != self.target => {
                return Err(RelayError::new(
                    Code::ScoreMismatch,
                    format!(
                        "the proven score {} is not the campaign's {}",
                        signals[TARGET], self.target
                    ),
                ))
            }
            _ => {}
        }
        if signals[CLAIMANT] >= U256::from(1) << 160 {
            return Err(RelayError::new(
                Code::ClaimantNotAnAddress,
                "the claimant signal does not fit an address",
            ));
        }
        let valid = api::verify(
            &self.verifying_key,
            &proof.to_string(),
            &public_signals.to_string(),
        )?;
        if !valid {
            return Err(RelayError::new(
                Code::InvalidProof,
                format!(
                    "the proof does not verify against campaign {}'s verifying key",
                    self.config.name
                ),
            ));
        }
        Ok(CheckedClaim {
            nullifier: signals[NULLIFIER],
            claimant: Address::from_word(signals[CLAIMANT].into()),
            call,
        })
    }

    /// The chain's checks: the root is published and the nullifier unused, both read at one block,
    /// whose number is returned (whoever uses the nullifier later does so in a later block).
    pub async fn check_on_chain(&self, claim: &CheckedClaim) -> RelayResult<u64> {
        let contract = self.contract();
        let block = self.block_number().await?;
        let root = claim.call.pubSignals[ROOT];
        if !contract
            .published(root)
            .block(block.into())
            .call()
            .await
            .map_err(contract_error)?
        {
            return Err(RelayError::new(
                Code::RootNotPublished,
                format!("root {root} is not published"),
            ));
        }
        if contract
            .claimed(claim.nullifier)
            .block(block.into())
            .call()
            .await
            .map_err(contract_error)?
        {
            return Err(RelayError::new(
                Code::NullifierUsed,
                "this identity has already claimed in this campaign",
            ));
        }
        Ok(block)
    }

    /// The mined `Claimed` event that used `nullifier`, looked for from block `from` on (the block
    /// at which it was found unused: a bounded range, as RPC providers want for `eth_getLogs`).
    pub async fn claimed_by(&self, nullifier: U256, from: u64) -> RelayResult<Option<ClaimedBy>> {
        use alloy::sol_types::SolEvent;
        let filter = alloy::rpc::types::Filter::new()
            .address(self.config.airdrop)
            .event_signature(ReputationAirdrop::Claimed::SIGNATURE_HASH)
            .topic2(nullifier)
            .from_block(from);
        let logs = self.provider.get_logs(&filter).await.map_err(rpc_error)?;
        // The contract refuses a used nullifier: one event at most (a reorg's removed logs aside).
        let Some(log) = logs.into_iter().find(|l| !l.removed) else {
            return Ok(None);
        };
        let (Some(hash), Some(block)) = (log.transaction_hash, log.block_number) else {
            return Ok(None);
        };
        let event = ReputationAirdrop::Claimed::decode_log_data(log.data())
            .map_err(|e| RelayError::chain(format!("a Claimed event that does not decode: {e}")))?;
        let tx = self
            .provider
            .get_transaction_by_hash(hash)
            .await
            .map_err(rpc_error)?;
        Ok(Some(ClaimedBy {
            hash,
            block,
            claimant: event.claimant,
            sender: tx.map(|t| t.inner.signer()),
        }))
    }

    /// Simulates `claim` from `from` (`eth_call`, then `eth_estimateGas`): a revert is final and
    /// reported by its custom error's name. Returns the gas to send it with (the estimate and a
    /// fifth more).
    pub async fn simulate(&self, claim: &CheckedClaim, from: Address) -> RelayResult<u64> {
        let tx = self.request(claim, from);
        self.provider
            .call(tx.clone())
            .await
            .map_err(revert_or_rpc)?;
        let gas = self
            .provider
            .estimate_gas(tx)
            .await
            .map_err(revert_or_rpc)?;
        Ok(gas + gas / 5)
    }

    fn request(&self, claim: &CheckedClaim, from: Address) -> TransactionRequest {
        TransactionRequest::default()
            .with_from(from)
            .with_to(self.config.airdrop)
            .with_input(Bytes::from(claim.call.abi_encode()))
    }

    /// Signs `claim` from `key` with `nonce`, `gas` and `fees`: the raw transaction and its hash.
    pub async fn sign(
        &self,
        claim: &CheckedClaim,
        key: &super::config::RelayerKey,
        nonce: u64,
        gas: u64,
        fees: Fees,
    ) -> RelayResult<SignedTx> {
        let wallet = EthereumWallet::from(key.signer.clone());
        let envelope: TxEnvelope = self
            .request(claim, key.address())
            .with_nonce(nonce)
            .with_chain_id(self.config.chain_id)
            .with_gas_limit(gas)
            .with_max_fee_per_gas(fees.max_fee)
            .with_max_priority_fee_per_gas(fees.tip)
            .build(&wallet)
            .await
            .map_err(|e| RelayError::new(Code::Internal, format!("signing failed: {e}")))?;
        Ok(SignedTx {
            hash: *envelope.tx_hash(),
            raw: envelope.encoded_2718().into(),
        })
    }

    /// The fees to send with now: the node's EIP-1559 estimate.
    pub async fn fees(&self) -> RelayResult<Fees> {
        let estimate = self
            .provider
            .estimate_eip1559_fees()
            .await
            .map_err(rpc_error)?;
        Ok(Fees {
            max_fee: estimate.max_fee_per_gas,
            tip: estimate.max_priority_fee_per_gas.max(1),
        })
    }

    /// The base fee of the next block (what a transaction's `maxFeePerGas` must reach to be
    /// included in it).
    pub async fn next_base_fee(&self) -> RelayResult<u128> {
        let history = self
            .provider
            .get_fee_history(1, alloy::eips::BlockNumberOrTag::Latest, &[])
            .await
            .map_err(rpc_error)?;
        history
            .next_block_base_fee()
            .ok_or_else(|| RelayError::chain("the node reported no base fee"))
    }

    /// Broadcasts a signed transaction. "Already known" is success (a resend of the same bytes).
    pub async fn broadcast(&self, raw: &[u8]) -> RelayResult<Broadcast> {
        match self.provider.send_raw_transaction(raw).await {
            Ok(_) => Ok(Broadcast::Sent),
            Err(e) => {
                let text = e.to_string().to_lowercase();
                if text.contains("already known") || text.contains("already imported") {
                    Ok(Broadcast::Sent)
                } else if text.contains("nonce too low") {
                    Ok(Broadcast::NonceUsed)
                } else if text.contains("underpriced")
                    || text.contains("base fee")
                    || text.contains("fee too low")
                    || text.contains("fee cap")
                {
                    Ok(Broadcast::Underpriced)
                } else {
                    Err(rpc_error(e))
                }
            }
        }
    }

    /// The outcome of a sent transaction, if it is mined.
    pub async fn outcome(&self, hash: TxHash) -> RelayResult<Option<Mined>> {
        let Some(receipt) = self
            .provider
            .get_transaction_receipt(hash)
            .await
            .map_err(rpc_error)?
        else {
            return Ok(None);
        };
        let block = receipt.block_number.unwrap_or_default();
        let fee_wei = u128::from(receipt.gas_used).saturating_mul(receipt.effective_gas_price);
        if receipt.status() {
            return Ok(Some(Mined::Confirmed {
                hash,
                block,
                gas_used: receipt.gas_used,
                fee_wei,
            }));
        }
        Ok(Some(Mined::Reverted {
            hash,
            block,
            gas_used: receipt.gas_used,
            fee_wei,
            error: self.revert_reason(hash, block).await,
        }))
    }

    /// Why a mined transaction reverted: replayed with `eth_call` on its block's parent state.
    async fn revert_reason(&self, hash: TxHash, block: u64) -> RelayError {
        let replay = async {
            let tx = self
                .provider
                .get_transaction_by_hash(hash)
                .await
                .map_err(rpc_error)?
                .ok_or_else(|| RelayError::chain("the reverted transaction is gone"))?;
            let request = tx.into_request();
            self.provider
                .call(request)
                .block(block.saturating_sub(1).into())
                .await
                .map_err(revert_or_rpc)
        };
        match replay.await {
            Err(e) if e.code != Code::ChainUnavailable => e,
            _ => RelayError::new(Code::Reverted, format!("transaction {hash} reverted")),
        }
    }

    /// Whether the node knows a transaction (mined or pending).
    pub async fn known(&self, hash: TxHash) -> RelayResult<bool> {
        Ok(self
            .provider
            .get_transaction_by_hash(hash)
            .await
            .map_err(rpc_error)?
            .is_some())
    }

    /// The nonce the node would give `account`'s next transaction (pending ones counted).
    pub async fn pending_nonce(&self, account: Address) -> RelayResult<u64> {
        self.provider
            .get_transaction_count(account)
            .pending()
            .await
            .map_err(rpc_error)
    }

    /// The balance of `account` (wei) and how many of its transactions wait in the pool (its
    /// pending nonce minus its mined one): what the relayer's account gauges show.
    pub async fn account_state(&self, account: Address) -> RelayResult<(U256, u64)> {
        let balance = self
            .provider
            .get_balance(account)
            .await
            .map_err(rpc_error)?;
        let mined = self
            .provider
            .get_transaction_count(account)
            .latest()
            .await
            .map_err(rpc_error)?;
        let pending = self.pending_nonce(account).await?;
        Ok((balance, pending.saturating_sub(mined)))
    }

    /// The latest block number.
    pub async fn block_number(&self) -> RelayResult<u64> {
        self.provider.get_block_number().await.map_err(rpc_error)
    }

    /// What `GET /v1/campaigns` shows of this campaign: what a page needs, no secret.
    pub fn public_view(&self) -> Value {
        serde_json::json!({
            "name": self.config.name,
            "chainId": self.config.chain_id,
            "airdrop": self.config.airdrop.to_checksum(None),
            "circuit": self.config.circuit.to_string(),
            "campaignId": self.campaign_id.to_string(),
            "rule": match self.rule { ScoreRule::Threshold => "atLeast", ScoreRule::Exact => "exactly" },
            "target": self.target.to_string(),
            "relayers": self.config.accounts.iter().map(|a| a.to_checksum(None)).collect::<Vec<_>>(),
        })
    }
}

/// A locally signed transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTx {
    /// Its hash.
    pub hash: TxHash,
    /// Its EIP-2718 bytes.
    pub raw: Bytes,
}

/// What a broadcast came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broadcast {
    /// The node has it (now or already).
    Sent,
    /// The nonce is used: one of the transactions for it was mined.
    NonceUsed,
    /// Its fees are too low: below the base fee, or below a pending transaction's for the same
    /// nonce.
    Underpriced,
}

/// The mined transaction that used a nullifier, read from its `Claimed` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedBy {
    /// The transaction.
    pub hash: TxHash,
    /// Its block.
    pub block: u64,
    /// Who was paid.
    pub claimant: Address,
    /// Who sent it, if the node still has the transaction.
    pub sender: Option<Address>,
}

/// A mined claim transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mined {
    /// It succeeded.
    Confirmed {
        /// The transaction.
        hash: TxHash,
        /// Its block.
        block: u64,
        /// Gas it used.
        gas_used: u64,
        /// What it paid (gas used × effective gas price), wei.
        fee_wei: u128,
    },
    /// It reverted.
    Reverted {
        /// The transaction.
        hash: TxHash,
        /// Its block.
        block: u64,
        /// Gas it used.
        gas_used: u64,
        /// What it paid, wei.
        fee_wei: u128,
        /// Why, by the contract's custom error.
        error: RelayError,
    },
}

impl Mined {
    /// The block that holds it.
    pub fn block(&self) -> u64 {
        match self {
            Mined::Confirmed { block, .. } | Mined::Reverted { block, .. } => *block,
        }
    }
}

/// `claim(...)`'s arguments from the proof's calldata.
fn claim_call(calldata: &Calldata) -> ReputationAirdrop::claimCall {
    let word = |n: &BigUint| U256::from_be_slice(&n.to_bytes_be());
    let pair = |p: &[BigUint; 2]| [word(&p[0]), word(&p[1])];
    let mut signals = [U256::ZERO; 5];
    for (slot, n) in signals.iter_mut().zip(&calldata.public) {
        *slot = word(n);
    }
    ReputationAirdrop::claimCall {
        pA: pair(&calldata.a),
        pB: [pair(&calldata.b[0]), pair(&calldata.b[1])],
        pC: pair(&calldata.c),
        pubSignals: signals,
    }
}

/// What a client (and a claim's stored record) reads when the RPC node failed: the transport's
/// own words may quote the RPC URL, which may hold a provider's key.
const CHAIN_DID_NOT_ANSWER: &str =
    "the chain's RPC node did not answer as expected; the relayer's log has the detail";

/// An RPC failure that is not a revert: the chain is unavailable (retried). The detail goes to
/// the operator's log only, with every URL in it cut to its scheme and host.
fn rpc_error(e: RpcError<TransportErrorKind>) -> RelayError {
    tracing::warn!("rpc: {}", redact_urls(&e.to_string()));
    RelayError::chain(CHAIN_DID_NOT_ANSWER)
}

/// `text` with each URL in it cut to `scheme://host[:port]` (user, password, path and query
/// dropped, an ellipsis where a path was): fit for a log.
fn redact_urls(text: &str) -> String {
    const SCHEMES: [&str; 4] = ["https://", "http://", "wss://", "ws://"];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, scheme)) = SCHEMES
        .iter()
        .filter_map(|s| rest.find(s).map(|i| (i, s.len())))
        .min()
    {
        out.push_str(&rest[..at + scheme]);
        let tail = &rest[at + scheme..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | ',' | '>' | ']'))
            .unwrap_or(tail.len());
        let url = &tail[..end];
        let authority = url.split(['/', '?', '#']).next().unwrap_or_default();
        out.push_str(authority.rsplit('@').next().unwrap_or_default());
        if url.len() > authority.len() {
            out.push_str("/…");
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// A revert decoded to the contract's custom error, or an RPC failure.
fn revert_or_rpc(e: RpcError<TransportErrorKind>) -> RelayError {
    match e
        .as_error_resp()
        .and_then(|payload| payload.as_revert_data())
    {
        Some(data) => decode_revert(&data),
        None => rpc_error(e),
    }
}

fn contract_error(e: alloy::contract::Error) -> RelayError {
    match e {
        alloy::contract::Error::TransportError(e) => revert_or_rpc(e),
        other => {
            tracing::warn!("contract call: {}", redact_urls(&other.to_string()));
            RelayError::chain(CHAIN_DID_NOT_ANSWER)
        }
    }
}

/// The custom error in revert data, by name.
pub fn decode_revert(data: &[u8]) -> RelayError {
    use ReputationAirdrop::ReputationAirdropErrors as E;
    let name = match E::abi_decode(data) {
        Ok(E::RootNotPublished(_)) => "RootNotPublished",
        Ok(E::WrongCampaign(_)) => "WrongCampaign",
        Ok(E::ThresholdBelowCampaign(_)) => "ThresholdBelowCampaign",
        Ok(E::ScoreMismatch(_)) => "ScoreMismatch",
        Ok(E::ClaimantNotAnAddress(_)) => "ClaimantNotAnAddress",
        Ok(E::NullifierUsed(_)) => "NullifierUsed",
        Ok(E::InvalidProof(_)) => "InvalidProof",
        Ok(E::CampaignNotBound(_)) => "CampaignNotBound",
        Err(_) => {
            return RelayError::new(
                Code::Reverted,
                format!("reverted with data 0x{}", hex::encode(data)),
            )
        }
    };
    RelayError::new(
        crate::relayer::error::code_of_revert(name),
        format!("reverted: {name}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::sol_types::SolError;

    /// An RPC URL may hold a provider's key: a failing node's transport error (a real one: a
    /// closed port) reaches the client as CHAIN_UNAVAILABLE with a generic message, never the
    /// URL (before, the message was the transport's, quoting the URL whole).
    #[tokio::test]
    async fn rpc_failures_never_quote_the_url() {
        let secret = "v3/0123456789abcdef-provider-key";
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://user:pass@127.0.0.1:{port}/{secret}?apikey=also-secret");
        let provider = ProviderBuilder::new()
            .disable_recommended_fillers()
            .connect_http(url.parse().unwrap())
            .erased();
        let raw = provider.get_chain_id().await.unwrap_err();
        assert!(
            raw.to_string().contains(secret),
            "the transport quotes it: {raw}"
        );
        let e = rpc_error(raw);
        assert_eq!(e.code, Code::ChainUnavailable);
        let contract = ReputationAirdrop::new(Address::ZERO, &provider);
        let e2 = contract_error(contract.campaignId().call().await.unwrap_err());
        assert_eq!(e2.code, Code::ChainUnavailable);
        for e in [e, e2] {
            let shown = e.to_json().to_string();
            for leak in [secret, "also-secret", "user:pass", &port.to_string()] {
                assert!(!shown.contains(leak), "{leak} in {shown}");
            }
        }
    }

    #[test]
    fn urls_are_cut_to_their_host_in_logs() {
        assert_eq!(
            redact_urls(
                "error sending request for url (https://u:p@rpc.example:8545/v3/KEY?x=1): refused"
            ),
            "error sending request for url (https://rpc.example:8545/…): refused"
        );
        assert_eq!(
            redact_urls("http://127.0.0.1:8545 and ws://h/KEY"),
            "http://127.0.0.1:8545 and ws://h/…"
        );
        assert_eq!(redact_urls("no url here"), "no url here");
    }

    #[test]
    fn reverts_decode_to_their_names() {
        let data = ReputationAirdrop::NullifierUsed {
            nullifier: U256::from(7),
        }
        .abi_encode();
        let e = decode_revert(&data);
        assert_eq!(e.code, Code::NullifierUsed);
        assert_eq!(e.message, "reverted: NullifierUsed");
        let e = decode_revert(
            &ReputationAirdrop::CampaignNotBound {
                expected: U256::ZERO,
                given: U256::ZERO,
            }
            .abi_encode(),
        );
        assert_eq!(
            (e.code, e.message.as_str()),
            (Code::Reverted, "reverted: CampaignNotBound")
        );
        assert_eq!(decode_revert(&[1, 2, 3, 4]).code, Code::Reverted);
    }
}
