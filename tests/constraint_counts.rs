//! The constraint counts the README reports. If a circuit changes, this test says by how much, and
//! the README must change with it.
#![cfg(not(target_arch = "wasm32"))]

use airprover::circuit::{constraint_count, CircuitId};

fn count(id: &str) -> usize {
    constraint_count(&id.parse::<CircuitId>().unwrap()).unwrap()
}

#[test]
fn readme_constraint_counts() {
    let counts: Vec<(&str, usize)> = [
        "threshold-d20-k8",
        "threshold-d20-k32",
        "square-chain-65536",
    ]
    .into_iter()
    .map(|id| (id, count(id)))
    .collect();
    println!("{counts:?}");
    assert_eq!(counts, README_COUNTS);
}

#[test]
fn claim_cost_is_linear_in_slots_and_depth() {
    // Per slot: leaf hash, D parent hashes and bit decompositions; fixed: commitment, nullifier
    // and the public range checks.
    let per_slot = count("threshold-d20-k2") - count("threshold-d20-k1");
    assert_eq!(
        count("threshold-d20-k8"),
        count("threshold-d20-k1") + 7 * per_slot
    );
    let per_level = count("threshold-d21-k1") - count("threshold-d20-k1");
    assert_eq!(
        per_level,
        240 + 1 + 1,
        "Poseidon(2), the left/right swap, the index bit"
    );
    // Threshold: a 64-bit range check of sum - threshold; exact: one equality.
    assert_eq!(count("exact-d20-k8") + 64, count("threshold-d20-k8"));
}

const README_COUNTS: [(&str, usize); 3] = [
    ("threshold-d20-k8", 41_995),
    ("threshold-d20-k32", 165_811),
    ("square-chain-65536", 65_536),
];
