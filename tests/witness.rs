//! Soundness that sees under-constrained signals: `tests/soundness.rs` changes a claim and
//! regenerates every intermediate value honestly, so a signal left free by the circuit (a bit
//! that is not boolean, a `used` flag of 2, an unconstrained product) could never show there.
//! Here the honest witness is perturbed one variable at a time, every intermediate value kept:
//! each change must leave some constraint unsatisfied.
#![cfg(not(target_arch = "wasm32"))]

use ark_ff::{Field, One, Zero};
use ark_relations::r1cs::{
    ConstraintMatrices, ConstraintSynthesizer, ConstraintSystem, OptimizationGoal,
};

use airprover::circuit::{CircuitId, ClaimCircuit};
use airprover::claim::Claim;
use airprover::field::Fr;
use airprover::tree::sample;

/// The constraint system of `circuit` with its witness: matrices and the full assignment
/// `[1, public..., witness...]`.
fn synthesize(circuit: ClaimCircuit) -> (ConstraintMatrices<Fr>, Vec<Fr>, usize) {
    let cs = ConstraintSystem::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    circuit.generate_constraints(cs.clone()).unwrap();
    cs.finalize();
    let matrices = cs.to_matrices().unwrap();
    let cs = cs.borrow().unwrap();
    let z = [
        cs.instance_assignment.clone(),
        cs.witness_assignment.clone(),
    ]
    .concat();
    (matrices, z, cs.num_instance_variables)
}

fn dot(row: &[(Fr, usize)], z: &[Fr]) -> Fr {
    row.iter().map(|(c, i)| *c * z[*i]).sum()
}

/// Indices of the constraints that mention each variable.
fn uses(m: &ConstraintMatrices<Fr>, vars: usize) -> Vec<Vec<usize>> {
    let mut uses = vec![Vec::new(); vars];
    for mat in [&m.a, &m.b, &m.c] {
        for (j, row) in mat.iter().enumerate() {
            for &(_, i) in row {
                if uses[i].last() != Some(&j) {
                    uses[i].push(j);
                }
            }
        }
    }
    for u in &mut uses {
        u.sort_unstable();
        u.dedup();
    }
    uses
}

fn holds(m: &ConstraintMatrices<Fr>, z: &[Fr], j: usize) -> bool {
    dot(&m.a[j], z) * dot(&m.b[j], z) == dot(&m.c[j], z)
}

fn claim(id: &str, attestations: usize) -> Claim {
    let circuit: CircuitId = id.parse().unwrap();
    let s = sample::sample(&circuit, attestations, 3).unwrap();
    Claim::from_value(&s.claim).unwrap()
}

/// Perturbs every witness variable of the honest assignment (to value + 1, and to 2 where the
/// value is a bit) and returns those whose change leaves every constraint satisfied, with the
/// perturbed value.
fn free_variables(circuit: ClaimCircuit) -> (Vec<(usize, &'static str)>, usize, usize) {
    let (m, z, public) = synthesize(circuit);
    assert!(
        (0..m.num_constraints).all(|j| holds(&m, &z, j)),
        "the honest witness satisfies the circuit"
    );
    let uses = uses(&m, z.len());
    let mut free = Vec::new();
    let mut tried = 0;
    for i in public..z.len() {
        let honest = z[i];
        let mut values = vec![(honest + Fr::one(), "value + 1")];
        if honest.is_zero() || honest.is_one() {
            values.push((Fr::from(2u64), "a bit set to 2"));
        }
        for (value, how) in values {
            tried += 1;
            let mut zp = z.clone();
            zp[i] = value;
            if uses[i].iter().all(|&j| holds(&m, &zp, j)) {
                free.push((i, how));
            }
        }
    }
    (free, tried, m.num_constraints)
}

#[test]
fn no_witness_variable_can_change_alone() {
    for (id, attestations) in [
        ("threshold-d4-k2", 12),
        ("exact-d4-k2", 12),
        ("threshold-d4-k3", 1),
    ] {
        let c = claim(id, attestations);
        let started = std::time::Instant::now();
        let (free, tried, constraints) = free_variables(ClaimCircuit::new(&c));
        println!(
            "{id} ({} attestation(s)): {tried} perturbations of the witness over {constraints} constraints in {:.2} s, {} left every constraint satisfied",
            c.attestations.len(),
            started.elapsed().as_secs_f64(),
            free.len()
        );
        // No variable may legitimately vary: every one is pinned by some constraint.
        assert!(
            free.is_empty(),
            "{id}: under-constrained witness variables (index, change): {free:?}"
        );
    }
}

fn satisfied(circuit: ClaimCircuit) -> bool {
    let cs = ConstraintSystem::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    circuit.generate_constraints(cs.clone()).unwrap();
    cs.is_satisfied().unwrap()
}

#[test]
fn fewer_attestations_than_slots_prove_and_unused_slots_carry_nothing() {
    // One attestation in a three-slot circuit: the honest witness satisfies it.
    let c = claim("threshold-d4-k3", 1);
    assert_eq!(c.attestations.len(), 1);
    let honest = ClaimCircuit::new(&c);
    assert!(satisfied(honest.clone()));
    // A forged witness: an unused slot given a weight, and the target raised to count it.
    let mut forged = honest.clone();
    let w = forged.witness.as_mut().unwrap();
    assert!(!w.slots[2].used);
    w.slots[2].weight = Fr::from(500u64);
    w.target = Fr::from(c.sum() + 500);
    assert!(!satisfied(forged), "an unused slot's weight counted");
    // The same slot carrying a real attestation of the tree, but not marked used.
    let full = claim("threshold-d4-k3", 12);
    let mut forged = ClaimCircuit::new(&full);
    let w = forged.witness.as_mut().unwrap();
    w.slots[2].used = false;
    assert!(!satisfied(forged), "a marked-unused slot still counted");
}

#[test]
fn a_claimant_of_2_pow_160_or_more_is_refused_by_the_circuit() {
    let c = claim("threshold-d4-k2", 12);
    for claimant in [
        Fr::from(1u64 << 32).square().square() * Fr::from(1u64 << 32),
        -Fr::from(1u64),
    ] {
        // 2^160 and p - 1: validation would refuse both; the circuit is given them directly.
        let mut circuit = ClaimCircuit::new(&c);
        circuit.witness.as_mut().unwrap().claimant = claimant;
        assert!(!satisfied(circuit), "claimant {claimant}");
    }
    let mut circuit = ClaimCircuit::new(&c);
    let top = Fr::from(1u64 << 32).square().square() * Fr::from(1u64 << 32) - Fr::from(1u64);
    circuit.witness.as_mut().unwrap().claimant = top;
    assert!(satisfied(circuit), "2^160 - 1 is an address");
}

#[test]
fn an_index_of_2_pow_depth_or_more_has_no_representation_in_the_circuit() {
    // The circuit holds a leaf index only as D boolean variables (each pinned: see the
    // perturbation test), so an index of 2^D or more given to it directly cannot be expressed:
    // its assignment is bit for bit that of the index mod 2^D, the same leaf of the same tree.
    // Nothing outside the tree can be claimed, and the increasing-index check sees D-bit values.
    let c = claim("threshold-d4-k2", 12);
    let (_, honest, _) = synthesize(ClaimCircuit::new(&c));
    for extra in [1u64 << 4, 1 << 5, 1 << 40] {
        let mut circuit = ClaimCircuit::new(&c);
        circuit.witness.as_mut().unwrap().slots[0].index += extra;
        let (m, z, _) = synthesize(circuit);
        assert_eq!(z, honest, "index + {extra}: the same assignment");
        assert!((0..m.num_constraints).all(|j| holds(&m, &z, j)));
    }
    // Moving the index within the tree (another leaf's bits, same siblings) is refused: below.
}

#[test]
fn siblings_of_one_index_with_the_bits_of_another_fail() {
    let c = claim("threshold-d4-k2", 12);
    let mut circuit = ClaimCircuit::new(&c);
    let w = circuit.witness.as_mut().unwrap();
    let (a, b) = (w.slots[0].index, w.slots[1].index);
    assert_ne!(a, b);
    // Slot 0 keeps its attestation and siblings but claims slot 1's position (and vice versa
    // with the order kept increasing: only the first moves, to just below the second).
    w.slots[0].index = if a + 1 < b { a + 1 } else { a ^ 1 };
    assert!(
        !satisfied(circuit),
        "index {a} moved with its siblings kept"
    );
}
