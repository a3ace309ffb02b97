//! Random attestation trees with a valid claim, for demos, tests and benchmarks.
//!
//! Deterministic for a seed: the same seed and circuit give the same tree and claim.

use ark_std::UniformRand;
use rand::seq::index;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Value};

use super::{commitment, Attestation, MerkleTree};
use crate::circuit::id::{CircuitId, ScoreRule};
use crate::error::{Error, Result};
use crate::field::{fr_to_hex, Fr};

/// A sampled tree and a valid claim against it.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The claim input (spec format), valid for the circuit.
    pub claim: Value,
    /// The tree's public file: `{ depth, root, leaves: [{ index, attester, subject, weight }] }`.
    pub tree: Value,
}

/// Default number of attestations in a sampled tree.
pub const DEFAULT_ATTESTATIONS: usize = 1000;

/// Samples a tree of `attestations` leaves in which the claimant holds K of them (fewer if the
/// tree is smaller), and the claim that proves them. Threshold claims ask for 3/4 of the sum;
/// exact claims for the sum.
pub fn sample(circuit: &CircuitId, attestations: usize, seed: u64) -> Result<Sample> {
    let CircuitId::Claim { rule, depth, slots } = *circuit else {
        return Err(Error::UnknownCircuit {
            id: circuit.to_string(),
            reason: "sample makes claims: pass a threshold or exact circuit".into(),
        });
    };
    if attestations == 0 || attestations as u128 > 1u128 << depth {
        return Err(Error::input(
            "attestations",
            format!("{attestations} attestations do not fit 1..=2^{depth}"),
        ));
    }
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let secret = Fr::rand(&mut rng);
    let subject = commitment(secret);
    let mine = (slots as usize).min(attestations);
    let mut my_indices = index::sample(&mut rng, attestations, mine).into_vec();
    my_indices.sort_unstable();

    let leaves: Vec<Attestation> = (0..attestations)
        .map(|i| Attestation {
            attester: Fr::from(rng.gen_range(1u64..1 << 40)),
            subject: if my_indices.binary_search(&i).is_ok() {
                subject
            } else {
                Fr::rand(&mut rng)
            },
            weight: rng.gen_range(1..=1000),
        })
        .collect();
    let tree = MerkleTree::new(depth, leaves.iter().map(Attestation::leaf).collect())?;

    let claimed: Vec<Value> = my_indices
        .iter()
        .map(|&i| {
            let a = &leaves[i];
            let siblings: Vec<String> = tree.path(i as u64)?.iter().map(fr_to_hex).collect();
            Ok(json!({
                "index": i,
                "attester": fr_to_hex(&a.attester),
                "weight": a.weight,
                "siblings": siblings,
            }))
        })
        .collect::<Result<_>>()?;
    let sum: u64 = my_indices
        .iter()
        .map(|&i| u64::from(leaves[i].weight))
        .sum();
    let target = match rule {
        ScoreRule::Threshold => sum * 3 / 4,
        ScoreRule::Exact => sum,
    };
    let claimant = format!("0x{:040x}", rng.gen::<u128>());
    let mut claim = json!({
        "circuit": circuit.to_string(),
        "root": fr_to_hex(&tree.root()),
        "secret": fr_to_hex(&secret),
        "campaignId": rng.gen_range(1u64..1 << 32).to_string(),
        "claimant": claimant,
        "attestations": claimed,
    });
    claim[rule.field()] = json!(target.to_string());

    let tree_file = json!({
        "depth": depth,
        "root": fr_to_hex(&tree.root()),
        "leaves": leaves.iter().enumerate().map(|(i, a)| json!({
            "index": i,
            "attester": fr_to_hex(&a.attester),
            "subject": fr_to_hex(&a.subject),
            "weight": a.weight,
        })).collect::<Vec<_>>(),
    });
    Ok(Sample {
        claim,
        tree: tree_file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claim::Claim;

    #[test]
    fn sampled_claims_validate() {
        for id in [
            "threshold-d4-k2",
            "exact-d5-k3",
            "threshold-d20-k8",
            "threshold-d3-k8",
        ] {
            let circuit: CircuitId = id.parse().unwrap();
            let s = sample(&circuit, 8, 1).unwrap();
            let claim = Claim::from_value(&s.claim).unwrap();
            assert_eq!(claim.circuit, circuit);
            assert_eq!(s.tree["leaves"].as_array().unwrap().len(), 8);
        }
    }

    #[test]
    fn deterministic_per_seed() {
        let circuit: CircuitId = "threshold-d6-k4".parse().unwrap();
        assert_eq!(
            sample(&circuit, 20, 7).unwrap().claim,
            sample(&circuit, 20, 7).unwrap().claim
        );
        assert_ne!(
            sample(&circuit, 20, 7).unwrap().claim,
            sample(&circuit, 20, 8).unwrap().claim
        );
    }

    #[test]
    fn rejects_impossible_requests() {
        let circuit: CircuitId = "threshold-d2-k2".parse().unwrap();
        assert!(sample(&circuit, 5, 1).is_err());
        assert!(sample(&circuit, 0, 1).is_err());
        assert!(sample(&"square-chain-4".parse().unwrap(), 4, 1).is_err());
    }
}
