//! The Groth16 prover, stage by stage: synthesis, constraint check, QAP (FFTs), then each MSM.
//!
//! The same arithmetic as `ark_groth16::Groth16::create_proof_with_reduction`, unrolled so that
//! progress is reported between the stages and a stage's kernel can be replaced. The witness is
//! checked against every constraint before any expensive work: arkworks only `debug_assert!`s it,
//! so an unsatisfied witness would otherwise panic (debug) or give a proof that does not verify.
//!
//! The kernels: the constraint matrices are kept after the first proof with a key, so later
//! proofs synthesise the witness only ([`super::qap`]); the MSMs go through [`super::msm`], which
//! on wasm32 uses the 29-bit-limb batch-affine kernel and natively arkworks'.

use std::sync::Arc;

use ark_ec::CurveGroup;
use ark_ff::{PrimeField, UniformRand};
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
use ark_relations::r1cs::{
    ConstraintMatrices, ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef,
    OptimizationGoal, SynthesisMode,
};
use ark_std::rand::{CryptoRng, RngCore};

use super::msm::{self, Kernel};
use super::qap;
use super::{Progress, Proof, ProvingKey, Stage};
use crate::circuit::{ClaimCircuit, SquareChain};
use crate::claim::Claim;
use crate::error::{Error, Result};
use crate::field::Fr;

type G2 = <super::Curve as ark_ec::pairing::Pairing>::G2;

/// Proves a validated claim. Returns the proof; the public signals are `claim.public_signals()`.
pub fn prove_claim<R: RngCore + CryptoRng>(
    claim: &Claim,
    pk: &ProvingKey,
    rng: &mut R,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Proof> {
    let (proof, _) = prove_circuit(ClaimCircuit::new(claim), pk, rng, progress)?;
    Ok(proof)
}

/// Proves `square-chain-{n}` from `x0`. Returns the proof and the public inputs `[x0, y]`.
pub fn prove_square_chain<R: RngCore + CryptoRng>(
    n: u32,
    x0: Fr,
    pk: &ProvingKey,
    rng: &mut R,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(Proof, Vec<Fr>)> {
    prove_circuit(SquareChain::new(n, x0), pk, rng, progress)
}

/// Proves any circuit with its witness. Returns the proof and the public inputs.
pub fn prove_circuit<C: ConstraintSynthesizer<Fr>, R: RngCore + CryptoRng>(
    circuit: C,
    pk: &ProvingKey,
    rng: &mut R,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(Proof, Vec<Fr>)> {
    prove_circuit_with(Kernel::default(), circuit, pk, rng, progress)
}

/// [`prove_circuit`] with the MSM kernel chosen (the default is the fastest for the target).
pub fn prove_circuit_with<C: ConstraintSynthesizer<Fr>, R: RngCore + CryptoRng>(
    kernel: Kernel,
    circuit: C,
    pk: &ProvingKey,
    rng: &mut R,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(Proof, Vec<Fr>)> {
    let mut stage = |s: Stage| {
        progress(&Progress {
            stage: s,
            fraction: s.start_fraction(),
        })
    };

    stage(Stage::Synthesis);
    // With the matrices kept from an earlier proof with this key, synthesise the witness only.
    let kept = qap::cached_matrices(pk);
    let cs = ConstraintSystem::new_ref();
    if kept.is_some() {
        cs.set_mode(SynthesisMode::Prove {
            construct_matrices: false,
        });
    } else {
        cs.set_optimization_goal(OptimizationGoal::Constraints);
    }
    circuit.generate_constraints(cs.clone())?;
    cs.finalize();

    stage(Stage::ConstraintCheck);
    let matrices = match kept {
        Some(m) => m,
        None => {
            // First proof with this key: arkworks' check names the failing constraint.
            check_satisfied(&cs)?;
            let m = Arc::new(cs.to_matrices().ok_or_else(|| Error::ProofFailed {
                what: "the constraint system built no matrices".into(),
            })?);
            qap::keep_matrices(pk, m.clone());
            m
        }
    };
    let (z, num_public) = {
        let cs = cs.borrow().ok_or_else(|| Error::ProofFailed {
            what: "constraint system in use".into(),
        })?;
        let mut z = cs.instance_assignment.clone();
        z.extend_from_slice(&cs.witness_assignment);
        (z, cs.instance_assignment.len())
    };
    drop(cs);
    check_key_fits(&matrices, z.len(), num_public, pk)?;
    let products = qap::products(&matrices, &z);
    if let Some(i) = products.first_unsatisfied() {
        return Err(Error::WitnessFailed {
            constraint: format!("constraint #{i}"),
        });
    }

    stage(Stage::Qap);
    let h_bigints = products.witness_map(&z[..num_public], kernel)?;
    let public = z[1..num_public].to_vec();
    let witness = &z[num_public..];

    let r = Fr::rand(rng);
    let s = Fr::rand(rng);

    stage(Stage::MsmH);
    let h_acc = msm::g1(kernel, &pk.h_query, &h_bigints);
    drop(h_bigints);

    stage(Stage::MsmL);
    let witness_bigints: Vec<_> = witness.iter().map(|x| x.into_bigint()).collect();
    let l_acc = msm::g1(kernel, &pk.l_query, &witness_bigints);

    let assignment: Vec<_> = public
        .iter()
        .map(|x| x.into_bigint())
        .chain(witness_bigints)
        .collect();

    stage(Stage::MsmA);
    let g_a = pk.delta_g1 * r
        + pk.vk.alpha_g1
        + pk.a_query[0]
        + msm::g1(kernel, &pk.a_query[1..], &assignment);

    stage(Stage::MsmB1);
    let g1_b = pk.delta_g1 * s
        + pk.beta_g1
        + pk.b_g1_query[0]
        + msm::g1(kernel, &pk.b_g1_query[1..], &assignment);

    stage(Stage::MsmB2);
    let g2_b: G2 = pk.vk.delta_g2 * s
        + pk.vk.beta_g2
        + pk.b_g2_query[0]
        + msm::g2(kernel, &pk.b_g2_query[1..], &assignment);

    // C = s*A + r*B1 - r*s*delta + L + H
    let g_c = g_a * s + g1_b * r - pk.delta_g1 * (r * s) + l_acc + h_acc;
    stage(Stage::Done);
    Ok((
        Proof {
            a: g_a.into_affine(),
            b: g2_b.into_affine(),
            c: g_c.into_affine(),
        },
        public,
    ))
}

fn check_satisfied(cs: &ConstraintSystemRef<Fr>) -> Result<()> {
    match cs.which_is_unsatisfied()? {
        None => Ok(()),
        Some(constraint) => Err(Error::WitnessFailed { constraint }),
    }
}

/// A key made for another circuit has other query lengths: refuse it before the MSMs.
fn check_key_fits(
    m: &ConstraintMatrices<Fr>,
    variables: usize,
    num_public: usize,
    pk: &ProvingKey,
) -> Result<()> {
    let domain = GeneralEvaluationDomain::<Fr>::new(m.num_constraints + num_public)
        .map(|d| d.size())
        .unwrap_or(0);
    let fits = variables == m.num_instance_variables + m.num_witness_variables
        && num_public == m.num_instance_variables
        && pk.a_query.len() == variables
        && pk.b_g2_query.len() == variables
        && pk.l_query.len() == variables - num_public
        && pk.h_query.len() + 1 == domain
        && pk.vk.gamma_abc_g1.len() == num_public;
    if fits {
        Ok(())
    } else {
        Err(Error::key_integrity(format!(
            "the proving key does not fit this circuit ({} constraints, {} variables): it was made for another circuit",
            m.num_constraints, variables
        )))
    }
}
