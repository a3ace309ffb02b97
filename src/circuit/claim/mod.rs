//! The reputation-claim circuit: `threshold-d{D}-k{K}` and `exact-d{D}-k{K}`.
//!
//! Public inputs, in order: root, campaignId, claimant, nullifier, threshold (or score).
//! The witness: the secret and K slots; the first m are the claimant's attestations (each with
//! its index, attester, weight and Merkle path), the other K - m are unused and prove nothing.

mod constraints;

use super::id::{CircuitId, ScoreRule};
use crate::claim::Claim;
use crate::field::Fr;

/// One slot's witness values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotWitness {
    /// Whether the slot holds an attestation (the used slots come first).
    pub used: bool,
    /// Leaf index.
    pub index: u64,
    /// Attester.
    pub attester: Fr,
    /// Weight: below 2^32 for an honest prover (a field element, so that tests can try others).
    pub weight: Fr,
    /// D siblings, leaf level first.
    pub siblings: Vec<Fr>,
}

/// The full witness and public inputs of a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimWitness {
    /// Public: the tree root.
    pub root: Fr,
    /// Public: the campaign.
    pub campaign_id: Fr,
    /// Public: the claimant address.
    pub claimant: Fr,
    /// Public: the nullifier.
    pub nullifier: Fr,
    /// Public: the threshold or score.
    pub target: Fr,
    /// Private: the secret.
    pub secret: Fr,
    /// Private: K slots.
    pub slots: Vec<SlotWitness>,
}

/// The claim circuit, with its witness when proving.
#[derive(Debug, Clone)]
pub struct ClaimCircuit {
    /// Threshold or exact.
    pub rule: ScoreRule,
    /// Tree depth D.
    pub depth: u32,
    /// Slot count K.
    pub slots: u32,
    /// Values, or None for setup.
    pub witness: Option<ClaimWitness>,
}

impl ClaimCircuit {
    /// The circuit without values, for setup.
    pub fn blank(rule: ScoreRule, depth: u32, slots: u32) -> Self {
        ClaimCircuit {
            rule,
            depth,
            slots,
            witness: None,
        }
    }

    /// The circuit with the witness of a validated claim.
    pub fn new(claim: &Claim) -> Self {
        let mut slots: Vec<SlotWitness> = claim
            .attestations
            .iter()
            .map(|a| SlotWitness {
                used: true,
                index: a.index,
                attester: a.attester,
                weight: Fr::from(a.weight),
                siblings: a.siblings.clone(),
            })
            .collect();
        slots.resize(
            claim.slots as usize,
            SlotWitness {
                used: false,
                index: 0,
                attester: Fr::from(0u64),
                weight: Fr::from(0u64),
                siblings: vec![Fr::from(0u64); claim.depth as usize],
            },
        );
        let [root, campaign_id, claimant, nullifier, target]: [Fr; 5] = claim
            .public_signals()
            .try_into()
            .expect("five public signals");
        ClaimCircuit {
            rule: claim.rule,
            depth: claim.depth,
            slots: claim.slots,
            witness: Some(ClaimWitness {
                root,
                campaign_id,
                claimant,
                nullifier,
                target,
                secret: claim.secret,
                slots,
            }),
        }
    }

    /// The circuit's id.
    pub fn id(&self) -> CircuitId {
        CircuitId::Claim {
            rule: self.rule,
            depth: self.depth,
            slots: self.slots,
        }
    }
}
