//! Soundness of the claim circuits: an honest witness verifies; every way a dishonest prover
//! could cheat either leaves the constraint system unsatisfied (and a proof forced out of it does
//! not verify) or is caught by the verifier through the public signals.
#![cfg(not(target_arch = "wasm32"))]

use ark_ff::Field;
use ark_groth16::r1cs_to_qap::LibsnarkReduction;
use ark_groth16::Groth16;
use ark_relations::r1cs::{ConstraintSynthesizer, ConstraintSystem, OptimizationGoal};
use ark_std::UniformRand;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use airprover::circuit::{CircuitId, ClaimCircuit};
use airprover::claim::Claim;
use airprover::field::{modulus, Fr};
use airprover::prover::msm::Kernel;
use airprover::prover::prepared::PreparedProvingKey;
use airprover::prover::{prove, setup, verify, Curve, ProvingKey, VerifyingKey};
use airprover::tree::{self, sample, Attestation, MerkleTree};

struct Fixture {
    claim: Claim,
    pk: ProvingKey,
    /// The same key as airprover proves with (with the matrices from setup).
    prepared: PreparedProvingKey,
    vk: VerifyingKey,
}

fn fixture(id: &str) -> Fixture {
    let circuit: CircuitId = id.parse().unwrap();
    let s = sample::sample(&circuit, 12, 3).unwrap();
    let claim = Claim::from_value(&s.claim).unwrap();
    let keys = setup::setup(&circuit, &mut ChaCha20Rng::seed_from_u64(1)).unwrap();
    let prepared = PreparedProvingKey::new(
        keys.proving_key.clone(),
        Some(keys.matrices),
        Kernel::default(),
    )
    .unwrap();
    Fixture {
        claim,
        pk: keys.proving_key,
        prepared,
        vk: keys.verifying_key,
    }
}

fn satisfied(circuit: ClaimCircuit) -> bool {
    let cs = ConstraintSystem::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    circuit.generate_constraints(cs.clone()).unwrap();
    cs.is_satisfied().unwrap()
}

/// Makes a proof from the witness without the satisfiability check (as a cheating prover would,
/// with arkworks directly) and verifies it against the witness's own public inputs.
fn forged_proof_verifies(f: &Fixture, circuit: ClaimCircuit) -> bool {
    let w = circuit.witness.clone().unwrap();
    let public = [w.root, w.campaign_id, w.claimant, w.nullifier, w.target];
    let cs = ConstraintSystem::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    circuit.generate_constraints(cs.clone()).unwrap();
    cs.finalize();
    let matrices = cs.to_matrices().unwrap();
    let full: Vec<Fr> = {
        let cs = cs.borrow().unwrap();
        [
            cs.instance_assignment.clone(),
            cs.witness_assignment.clone(),
        ]
        .concat()
    };
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let proof = Groth16::<Curve, LibsnarkReduction>::create_proof_with_reduction_and_matrices(
        &f.pk,
        Fr::rand(&mut rng),
        Fr::rand(&mut rng),
        &matrices,
        cs.num_instance_variables(),
        cs.num_constraints(),
        &full,
    )
    .unwrap();
    verify::verify(&f.vk, &public, &proof).unwrap()
}

/// Asserts the cheat is caught: unsatisfied, and a proof forced out of it does not verify.
fn assert_cheat_fails(f: &Fixture, circuit: ClaimCircuit, what: &str) {
    assert!(!satisfied(circuit.clone()), "{what}: constraints satisfied");
    assert!(
        !forged_proof_verifies(f, circuit),
        "{what}: forged proof verifies"
    );
}

fn honest(f: &Fixture) -> ClaimCircuit {
    ClaimCircuit::new(&f.claim)
}

#[test]
fn valid_witness_proves_and_verifies() {
    for id in ["threshold-d4-k3", "exact-d4-k3"] {
        let f = fixture(id);
        assert!(satisfied(honest(&f)));
        assert!(
            forged_proof_verifies(&f, honest(&f)),
            "the unchecked path itself works"
        );
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let proof = prove::prove_claim(&f.claim, &f.prepared, &mut rng, &mut |_| {}).unwrap();
        assert!(
            verify::verify(&f.vk, &f.claim.public_signals(), &proof).unwrap(),
            "{id}"
        );
    }
}

#[test]
fn altered_public_signals_do_not_verify() {
    let f = fixture("threshold-d4-k3");
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let proof = prove::prove_claim(&f.claim, &f.prepared, &mut rng, &mut |_| {}).unwrap();
    let names = ["root", "campaignId", "claimant", "nullifier", "threshold"];
    for (i, name) in names.iter().enumerate() {
        let mut public = f.claim.public_signals();
        public[i] += Fr::from(1u64);
        assert!(
            !verify::verify(&f.vk, &public, &proof).unwrap(),
            "altered {name} verifies"
        );
    }
    // Redirecting the airdrop: the same proof for a different claimant.
    let mut public = f.claim.public_signals();
    public[2] = Fr::from(0xdead_beefu64);
    assert!(!verify::verify(&f.vk, &public, &proof).unwrap());
}

#[test]
fn wrong_root_fails() {
    let f = fixture("threshold-d4-k3");
    let mut c = honest(&f);
    c.witness.as_mut().unwrap().root += Fr::from(1u64);
    assert_cheat_fails(&f, c, "wrong root");
}

#[test]
fn wrong_secret_fails() {
    let f = fixture("threshold-d4-k3");
    let mut c = honest(&f);
    let w = c.witness.as_mut().unwrap();
    w.secret += Fr::from(1u64);
    // Even with the nullifier recomputed for the wrong secret, the leaves do not match.
    w.nullifier = tree::nullifier(w.secret, w.campaign_id);
    assert_cheat_fails(&f, c, "wrong secret");
}

#[test]
fn wrong_nullifier_fails() {
    let f = fixture("threshold-d4-k3");
    let mut c = honest(&f);
    c.witness.as_mut().unwrap().nullifier = tree::nullifier(Fr::from(7u64), f.claim.campaign_id);
    assert_cheat_fails(&f, c, "nullifier of another secret");
}

#[test]
fn score_below_threshold_fails() {
    let f = fixture("threshold-d4-k3");
    let mut c = honest(&f);
    c.witness.as_mut().unwrap().target = Fr::from(f.claim.sum() + 1);
    assert_cheat_fails(&f, c, "threshold above the sum");
    // Exact circuits: a score other than the sum.
    let f = fixture("exact-d4-k3");
    for score in [f.claim.sum() - 1, f.claim.sum() + 1] {
        let mut c = honest(&f);
        c.witness.as_mut().unwrap().target = Fr::from(score);
        assert_cheat_fails(&f, c, "exact score off by one");
    }
}

#[test]
fn threshold_that_wraps_around_the_field_fails() {
    // threshold = p - 1: sum - threshold = sum + 1 is small, so without the range check on the
    // threshold itself a claim would "reach" a threshold of -1.
    let f = fixture("threshold-d4-k3");
    let mut c = honest(&f);
    c.witness.as_mut().unwrap().target = -Fr::from(1u64);
    assert_cheat_fails(&f, c, "threshold p - 1");
}

#[test]
fn duplicated_attestation_fails() {
    let f = fixture("threshold-d4-k3");
    let mut c = honest(&f);
    let w = c.witness.as_mut().unwrap();
    // Count the first attestation twice: same index in two used slots.
    w.slots[1] = w.slots[0].clone();
    w.target = Fr::from(0u64);
    assert_cheat_fails(&f, c, "duplicated index");
}

#[test]
fn decreasing_indices_fail() {
    let f = fixture("threshold-d4-k3");
    let mut c = honest(&f);
    let w = c.witness.as_mut().unwrap();
    w.slots.swap(0, 1);
    w.target = Fr::from(0u64);
    assert_cheat_fails(&f, c, "indices out of order");
}

#[test]
fn unused_slots_prove_nothing() {
    let f = fixture("threshold-d4-k3");
    // A used slot after an unused one.
    let mut c = honest(&f);
    c.witness.as_mut().unwrap().slots[1].used = false;
    assert_cheat_fails(&f, c, "gap in used slots");
    // No used slot at all, threshold 0.
    let mut c = honest(&f);
    let w = c.witness.as_mut().unwrap();
    w.slots.iter_mut().for_each(|s| s.used = false);
    w.target = Fr::from(0u64);
    assert_cheat_fails(&f, c, "no used slot");
}

/// A tree that really contains an attestation with an out-of-range weight, and a claimant who
/// tries to use it: either the weight decomposition or the leaf fails.
fn tree_with_weight(weight: Fr) -> (Fixture, ClaimCircuit) {
    let f = fixture("threshold-d4-k1");
    let secret = Fr::from(12345u64);
    let subject = tree::commitment(secret);
    let attester = Fr::from(77u64);
    let leaf = ark_bn254::Fr::from(0u64)
        + airprover::poseidon::hash(&[attester, subject, weight]).unwrap();
    let other = Attestation {
        attester,
        subject: Fr::from(1u64),
        weight: 3,
    }
    .leaf();
    let tree = MerkleTree::new(4, vec![other, leaf]).unwrap();
    let mut c = ClaimCircuit::new(&f.claim);
    let w = c.witness.as_mut().unwrap();
    w.root = tree.root();
    w.secret = secret;
    w.nullifier = tree::nullifier(secret, w.campaign_id);
    w.target = Fr::from(0u64);
    w.slots[0].index = 1;
    w.slots[0].attester = attester;
    w.slots[0].weight = weight;
    w.slots[0].siblings = tree.path(1).unwrap();
    (f, c)
}

#[test]
fn out_of_range_weight_fails() {
    let (f, c) = tree_with_weight(Fr::from(1u64 << 32));
    assert_cheat_fails(&f, c, "weight 2^32");
    // The same construction with an honest weight is accepted: the fixture itself is sound.
    let (_, c) = tree_with_weight(Fr::from(5u64));
    assert!(satisfied(c));
}

#[test]
fn weight_that_wraps_around_the_field_fails() {
    // weight = p - 1 would make the sum negative-looking small numbers add up mod p.
    let (f, c) = tree_with_weight(-Fr::from(1u64));
    assert_cheat_fails(&f, c, "weight p - 1");
    assert_eq!((-Fr::from(1u64)).pow([1u64]), Fr::from(modulus() - 1u32));
}

#[test]
fn claim_validation_rejects_what_the_circuit_would() {
    let f = fixture("threshold-d4-k3");
    let text = f.claim.to_canonical_json();
    let mut stale = text.clone();
    stale["root"] = serde_json::json!("1");
    assert_eq!(
        Claim::from_value(&stale).unwrap_err().code(),
        "PATH_MISMATCH"
    );
    let mut high = text.clone();
    high["threshold"] = serde_json::json!((f.claim.sum() + 1).to_string());
    assert_eq!(
        Claim::from_value(&high).unwrap_err().code(),
        "SCORE_NOT_MET"
    );
    let mut dup = text;
    let first = dup["attestations"][0].clone();
    dup["attestations"][1] = first;
    assert_eq!(Claim::from_value(&dup).unwrap_err().code(), "INVALID_INPUT");
}
