//! The claim statement as R1CS.
//!
//! What is enforced (a dishonest prover fails each line):
//! - `C = Poseidon(secret)`; `nullifier = Poseidon(secret, campaignId)`.
//! - `claimant < 2^160` and `threshold < 2^64`: the public inputs are what the spec says they are.
//! - Slot 0 is used; a used slot follows only a used slot (the used slots are a prefix).
//! - For each used slot: `weight < 2^32` and `index < 2^D` (bit decompositions), the leaf
//!   `Poseidon(attester, C, weight)` with its path reaches `root`.
//! - Strictly increasing indices: for consecutive used slots `index_j - index_{j-1} - 1 < 2^D`,
//!   so the same attestation cannot be counted twice.
//! - `sum = sum(used_j * weight_j) < 64 * 2^32`, so nothing wraps around the field;
//!   threshold: `sum - threshold < 2^64` (a negative difference is a huge field element);
//!   exact: `sum == score`.

use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_relations::r1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};

use super::{ClaimCircuit, ClaimWitness, SlotWitness};
use crate::circuit::id::ScoreRule;
use crate::circuit::range::{alloc_bits, enforce_below_pow2, from_bits};
use crate::field::Fr;
use crate::poseidon::constraints::{hash2_var, hash_var};

/// Bits of a weight.
const WEIGHT_BITS: usize = 32;
/// Bits of the threshold or score.
const TARGET_BITS: usize = 64;
/// Bits of the claimant address.
const CLAIMANT_BITS: usize = 160;

impl ConstraintSynthesizer<Fr> for ClaimCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let w = self.witness.as_ref();
        let public = |f: fn(&ClaimWitness) -> Fr| {
            FpVar::new_input(cs.clone(), || {
                w.map(f).ok_or(SynthesisError::AssignmentMissing)
            })
        };
        let root = public(|w| w.root)?;
        let campaign_id = public(|w| w.campaign_id)?;
        let claimant = public(|w| w.claimant)?;
        let nullifier = public(|w| w.nullifier)?;
        let target = public(|w| w.target)?;

        enforce_below_pow2(&cs, &claimant, CLAIMANT_BITS)?;
        enforce_below_pow2(&cs, &target, TARGET_BITS)?;

        let secret = FpVar::new_witness(cs.clone(), || {
            w.map(|w| w.secret).ok_or(SynthesisError::AssignmentMissing)
        })?;
        let commitment = hash_var(std::slice::from_ref(&secret))?;
        hash2_var(&secret, &campaign_id)?.enforce_equal(&nullifier)?;

        let depth = self.depth as usize;
        let mut sum = FpVar::<Fr>::zero();
        let mut previous: Option<(Boolean<Fr>, FpVar<Fr>)> = None;
        for j in 0..self.slots as usize {
            let slot = w.map(|w| &w.slots[j]);
            let (used, index) = slot_constraints(&cs, slot, depth, &commitment, &root, &mut sum)?;
            match &previous {
                None => used.enforce_equal(&Boolean::TRUE)?,
                Some((prev_used, prev_index)) => {
                    // used_j implies used_{j-1}.
                    enforce_implies(&used, prev_used)?;
                    // For consecutive used slots: index_j > index_{j-1}.
                    let gap = (&index - prev_index - Fr::from(1u64)) * FpVar::from(used.clone());
                    enforce_below_pow2(&cs, &gap, depth)?;
                }
            }
            previous = Some((used, index));
        }

        match self.rule {
            ScoreRule::Threshold => {
                enforce_below_pow2(&cs, &(&sum - &target), TARGET_BITS)?;
            }
            ScoreRule::Exact => sum.enforce_equal(&target)?,
        }
        Ok(())
    }
}

/// One slot: membership of its leaf (when used), weight and index decompositions. Adds the
/// slot's weight (zero when unused) to `sum` and returns `(used, index)`.
fn slot_constraints(
    cs: &ConstraintSystemRef<Fr>,
    slot: Option<&SlotWitness>,
    depth: usize,
    commitment: &FpVar<Fr>,
    root: &FpVar<Fr>,
    sum: &mut FpVar<Fr>,
) -> Result<(Boolean<Fr>, FpVar<Fr>), SynthesisError> {
    let missing = SynthesisError::AssignmentMissing;
    let used = Boolean::new_witness(cs.clone(), || slot.map(|s| s.used).ok_or(missing))?;
    let index_bits = alloc_bits(cs, slot.map(|s| Fr::from(s.index)), depth)?;
    let weight_bits = alloc_bits(cs, slot.map(|s| s.weight), WEIGHT_BITS)?;
    let weight = from_bits(&weight_bits);
    let attester = FpVar::new_witness(cs.clone(), || slot.map(|s| s.attester).ok_or(missing))?;

    let mut node = hash_var(&[attester, commitment.clone(), weight.clone()])?;
    for (l, bit) in index_bits.iter().enumerate() {
        let sibling =
            FpVar::new_witness(cs.clone(), || slot.map(|s| s.siblings[l]).ok_or(missing))?;
        // left = node + bit * (sibling - node), right = node + sibling - left: one constraint.
        let left = &node + (&sibling - &node) * FpVar::from(bit.clone());
        let right = &node + &sibling - &left;
        node = hash2_var(&left, &right)?;
    }
    node.conditional_enforce_equal(root, &used)?;
    *sum += weight * FpVar::from(used.clone());
    Ok((used, from_bits(&index_bits)))
}

/// `a` implies `b`: `a * (1 - b) = 0`, one constraint.
fn enforce_implies(a: &Boolean<Fr>, b: &Boolean<Fr>) -> Result<(), SynthesisError> {
    let not_b = FpVar::one() - FpVar::from(b.clone());
    FpVar::from(a.clone()).mul_equals(&not_b, &FpVar::zero())
}
