//! Which threshold circuit proves a claim: the K heaviest attestations, and the smallest K whose
//! heaviest attestations reach the threshold.
//!
//! A threshold claim needs only enough weight, so a circuit with fewer slots proves it faster (the
//! constraint count grows with K). The claim app picks its circuit with [`smallest_circuit`], the
//! runtime's out-of-memory fallback keeps [`heaviest`] attestations of a smaller circuit; both
//! choose the same way: heaviest first, ties to the lower leaf index, then back in leaf order (the
//! circuit wants indices increasing).

use crate::circuit::id::MAX_DEPTH;
use crate::circuit::{CircuitId, ScoreRule};
use crate::error::{Error, Result};

/// What the choice reads of an attestation: its leaf index and its weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weighted {
    /// Leaf index in the tree.
    pub index: u64,
    /// Weight, below 2^32.
    pub weight: u32,
}

/// A threshold circuit and its K.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThresholdCircuit {
    /// `threshold-d{D}-k{K}`.
    pub id: CircuitId,
    /// K, its number of attestation slots.
    pub slots: u32,
}

/// A threshold circuit chosen for a set of attestations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// The circuit, `threshold-d{D}-k{K}`.
    pub circuit: CircuitId,
    /// Its K.
    pub slots: u32,
    /// Positions (in the list given) of the attestations the claim keeps: the K heaviest, in leaf
    /// order.
    pub chosen: Vec<usize>,
    /// The sum of their weights.
    pub score: u64,
    /// Whether `score` reaches the threshold (if not, no circuit given does, and proving fails
    /// with `SCORE_NOT_MET`, as it should).
    pub reaches: bool,
}

/// Positions of the `k` heaviest of `attestations` (ties: the lower leaf index first), in leaf
/// order. All of them when there are `k` or fewer.
pub fn heaviest(attestations: &[Weighted], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..attestations.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&attestations[a], &attestations[b]);
        b.weight.cmp(&a.weight).then(a.index.cmp(&b.index))
    });
    order.truncate(k);
    order.sort_by_key(|&p| attestations[p].index);
    order
}

/// The threshold circuits among `ids` for a tree of `depth`, smallest K first. Circuits of another
/// depth or rule (`exact-...`, `square-chain-...`, a circom circuit) are left out; an id that names no circuit is an
/// error (`UNKNOWN_CIRCUIT`), and so is a depth outside 1..=32 (`INVALID_INPUT`).
pub fn threshold_circuits<S: AsRef<str>>(ids: &[S], depth: u32) -> Result<Vec<ThresholdCircuit>> {
    check_depth(depth)?;
    let mut circuits = Vec::new();
    for id in ids {
        let id: CircuitId = id.as_ref().parse()?;
        if let CircuitId::Claim {
            rule: ScoreRule::Threshold,
            depth: d,
            slots,
        } = id
        {
            if d == depth {
                circuits.push(ThresholdCircuit { id, slots });
            }
        }
    }
    circuits.sort_by_key(|c| c.slots);
    circuits.dedup();
    Ok(circuits)
}

/// The smallest of the threshold `circuits` of `depth` whose K heaviest `attestations` reach
/// `threshold` (the fastest proof), or the largest when none does; `None` when `ids` has no
/// threshold circuit of that depth. Each attestation's index must fit the tree and be its own
/// (`INVALID_INPUT` naming `attestations[i].index`).
pub fn smallest_circuit<S: AsRef<str>>(
    ids: &[S],
    attestations: &[Weighted],
    threshold: u64,
    depth: u32,
) -> Result<Option<Choice>> {
    let circuits = threshold_circuits(ids, depth)?;
    check_indices(attestations, depth)?;
    let choice = |circuit: &ThresholdCircuit| {
        let chosen = heaviest(attestations, circuit.slots as usize);
        let score = chosen
            .iter()
            .map(|&p| u64::from(attestations[p].weight))
            .sum();
        Choice {
            circuit: circuit.id,
            slots: circuit.slots,
            chosen,
            score,
            reaches: score >= threshold,
        }
    };
    Ok(circuits
        .iter()
        .map(choice)
        .find(|c| c.reaches)
        .or_else(|| circuits.last().map(choice)))
}

fn check_depth(depth: u32) -> Result<()> {
    if (1..=MAX_DEPTH).contains(&depth) {
        Ok(())
    } else {
        Err(Error::input(
            "depth",
            format!("{depth} is not in 1..={MAX_DEPTH}"),
        ))
    }
}

/// Indices below 2^depth, none twice (a leaf is one attestation).
fn check_indices(attestations: &[Weighted], depth: u32) -> Result<()> {
    let mut seen = std::collections::HashSet::with_capacity(attestations.len());
    for (i, a) in attestations.iter().enumerate() {
        let field = || format!("attestations[{i}].index");
        if a.index >> depth != 0 {
            return Err(Error::input(
                field(),
                format!("{} is outside a tree of depth {depth}", a.index),
            ));
        }
        if !seen.insert(a.index) {
            return Err(Error::input(
                field(),
                format!("leaf {} is listed twice", a.index),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weighted(pairs: &[(u64, u32)]) -> Vec<Weighted> {
        pairs
            .iter()
            .map(|&(index, weight)| Weighted { index, weight })
            .collect()
    }

    const IDS: [&str; 6] = [
        "threshold-d4-k8",
        "threshold-d4-k2",
        "exact-d4-k1",
        "threshold-d5-k1",
        "square-chain-16",
        "threshold-d4-k4",
    ];

    fn id(choice: &Option<Choice>) -> Option<String> {
        choice.as_ref().map(|c| c.circuit.to_string())
    }

    #[test]
    fn threshold_circuits_of_the_depth_smallest_first() {
        let ids: Vec<String> = threshold_circuits(&IDS, 4)
            .unwrap()
            .iter()
            .map(|c| c.id.to_string())
            .collect();
        assert_eq!(
            ids,
            ["threshold-d4-k2", "threshold-d4-k4", "threshold-d4-k8"]
        );
        assert!(threshold_circuits(&IDS, 6).unwrap().is_empty());
    }

    #[test]
    fn the_heaviest_in_leaf_order() {
        let a = weighted(&[(9, 5), (2, 40), (7, 1), (3, 40), (1, 30)]);
        assert_eq!(heaviest(&a, 3), [4, 1, 3], "leaves 1, 2, 3");
        assert_eq!(heaviest(&a, 1), [1], "a tie goes to the lower index");
        assert_eq!(heaviest(&a, 10), [4, 1, 3, 2, 0], "all, in leaf order");
        assert!(heaviest(&a, 0).is_empty());
    }

    #[test]
    fn the_smallest_circuit_that_reaches_the_threshold() {
        // Heaviest two: 40 + 40 = 80; heaviest four: 80 + 30 + 5 = 115.
        let a = weighted(&[(9, 5), (2, 40), (7, 1), (3, 40), (1, 30)]);
        let k2 = smallest_circuit(&IDS, &a, 80, 4).unwrap().unwrap();
        assert_eq!(k2.circuit.to_string(), "threshold-d4-k2");
        assert_eq!((k2.slots, k2.score, k2.reaches), (2, 80, true));
        assert_eq!(k2.chosen, [1, 3]);
        let k4 = smallest_circuit(&IDS, &a, 81, 4).unwrap().unwrap();
        assert_eq!(k4.circuit.to_string(), "threshold-d4-k4");
        assert_eq!((k4.score, k4.reaches), (115, true));
        assert_eq!(k4.chosen, [4, 1, 3, 0], "leaves 1, 2, 3, 9");
    }

    #[test]
    fn none_reaching_gives_the_largest() {
        let a = weighted(&[(9, 5), (2, 40), (7, 1), (3, 40), (1, 30)]);
        let largest = smallest_circuit(&IDS, &a, 117, 4).unwrap().unwrap();
        assert_eq!(largest.circuit.to_string(), "threshold-d4-k8");
        assert_eq!((largest.score, largest.reaches), (116, false));
        assert_eq!(largest.chosen, [4, 1, 3, 2, 0]);
        // No attestation at all: the largest too (proving then says what is missing).
        let empty = smallest_circuit(&IDS, &[], 1, 4).unwrap().unwrap();
        assert_eq!(empty.circuit.to_string(), "threshold-d4-k8");
        assert!(empty.chosen.is_empty() && !empty.reaches);
    }

    #[test]
    fn ties_keep_the_lower_leaf_index() {
        let a = weighted(&[(6, 10), (4, 10), (5, 10)]);
        let c = smallest_circuit(&["threshold-d3-k2"], &a, 20, 3)
            .unwrap()
            .unwrap();
        assert_eq!(c.chosen, [1, 2], "leaves 4 and 5");
        assert_eq!(c.score, 20);
    }

    #[test]
    fn no_circuit_of_the_depth() {
        let a = weighted(&[(1, 10)]);
        assert_eq!(id(&smallest_circuit(&IDS, &a, 1, 6).unwrap()), None);
        assert_eq!(
            id(&smallest_circuit(&IDS, &a, 1, 5).unwrap()).as_deref(),
            Some("threshold-d5-k1")
        );
    }

    #[test]
    fn wrong_depth_and_indices_are_input_errors() {
        let a = weighted(&[(1, 10)]);
        for depth in [0, 33] {
            let e = smallest_circuit(&IDS, &a, 1, depth).unwrap_err();
            assert_eq!(e.code(), "INVALID_INPUT");
            assert!(e.to_string().contains("depth"), "{e}");
        }
        let outside = weighted(&[(1, 10), (16, 3)]);
        let e = smallest_circuit(&IDS, &outside, 1, 4).unwrap_err();
        assert_eq!(e.code(), "INVALID_INPUT");
        assert!(e.to_string().contains("attestations[1].index"), "{e}");
        let twice = weighted(&[(3, 10), (3, 10)]);
        let e = smallest_circuit(&IDS, &twice, 1, 4).unwrap_err();
        assert!(e.to_string().contains("listed twice"), "{e}");
    }

    #[test]
    fn bad_ids_are_unknown_circuits() {
        for bad in [
            "threshold-d4-k0",
            "threshold-d4",
            "Groth16",
            "threshold-d04-k2",
        ] {
            let e = smallest_circuit(&["threshold-d4-k2", bad], &[], 1, 4).unwrap_err();
            assert_eq!(e.code(), "UNKNOWN_CIRCUIT", "{bad}");
        }
    }
}
