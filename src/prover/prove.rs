//! The Groth16 prover, stage by stage: synthesis, constraint check, QAP (FFTs), then each MSM.
//!
//! The same arithmetic as `ark_groth16::Groth16::create_proof_with_reduction`, unrolled so that
//! progress is reported between the stages and a stage's kernel can be replaced. The witness is
//! checked against every constraint before any expensive work: arkworks only `debug_assert!`s it,
//! so an unsatisfied witness would otherwise panic (debug) or give a proof that does not verify.
//!
//! The kernels: with the key's constraint matrices ([`super::matrices`], from the key file or
//! kept from the first proof) a proof synthesises the witness only and computes `A·z`, `B·z`,
//! `C·z` in 29-bit limbs; the QAP and the MSMs run in the kernel the key was prepared for
//! ([`PreparedProvingKey`]): the 29-bit FFTs and batch-affine GLV MSMs in wasm, arkworks'
//! natively.

use std::sync::Arc;

use ark_ec::CurveGroup;
use ark_ff::{PrimeField, UniformRand};
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
use ark_relations::r1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, OptimizationGoal, SynthesisMode,
};
use ark_std::rand::{CryptoRng, RngCore};

use super::fft::to29;
use super::matrices::{self, Matrices};
use super::prepared::{G1Query, PreparedProvingKey};
use super::qap;
use super::{Progress, Proof, Stage};
use crate::circuit::{ClaimCircuit, SquareChain};
use crate::claim::Claim;
use crate::error::{Error, Result};
use crate::field::Fr;

type G2 = <super::Curve as ark_ec::pairing::Pairing>::G2;

/// Proves a validated claim. Returns the proof; the public signals are `claim.public_signals()`.
pub fn prove_claim<R: RngCore + CryptoRng>(
    claim: &Claim,
    key: &PreparedProvingKey,
    rng: &mut R,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Proof> {
    let (proof, _) = prove_circuit(ClaimCircuit::new(claim), key, rng, progress)?;
    Ok(proof)
}

/// Proves `square-chain-{n}` from `x0`. Returns the proof and the public inputs `[x0, y]`.
pub fn prove_square_chain<R: RngCore + CryptoRng>(
    n: u32,
    x0: Fr,
    key: &PreparedProvingKey,
    rng: &mut R,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(Proof, Vec<Fr>)> {
    prove_circuit(SquareChain::new(n, x0), key, rng, progress)
}

/// Proves any circuit with its witness. Returns the proof and the public inputs.
pub fn prove_circuit<C: ConstraintSynthesizer<Fr>, R: RngCore + CryptoRng>(
    circuit: C,
    key: &PreparedProvingKey,
    rng: &mut R,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(Proof, Vec<Fr>)> {
    prove_circuit_until(circuit, key, rng, progress, &|| false)
}

/// [`prove_circuit`] that stops with [`Error::Cancelled`] at the first stage boundary after
/// `stop()` answers true (a stage itself runs to its end).
pub fn prove_circuit_until<C: ConstraintSynthesizer<Fr>, R: RngCore + CryptoRng>(
    circuit: C,
    key: &PreparedProvingKey,
    rng: &mut R,
    progress: &mut dyn FnMut(&Progress),
    stop: &dyn Fn() -> bool,
) -> Result<(Proof, Vec<Fr>)> {
    let mut stage = |s: Stage| {
        if s != Stage::Done && stop() {
            return Err(Error::Cancelled {
                what: format!("stopped before the {} stage", s.name()),
            });
        }
        progress(&Progress {
            stage: s,
            fraction: s.start_fraction(),
        });
        Ok(())
    };

    stage(Stage::Synthesis)?;
    // With the matrices known, synthesise the witness only.
    let known = key.matrices();
    let cs = ConstraintSystem::new_ref();
    if known.is_some() {
        cs.set_mode(SynthesisMode::Prove {
            construct_matrices: false,
        });
    } else {
        cs.set_optimization_goal(OptimizationGoal::Constraints);
    }
    circuit.generate_constraints(cs.clone())?;
    cs.finalize();

    stage(Stage::ConstraintCheck)?;
    let matrices = match known {
        Some(m) => m,
        None => {
            // A key without matrices: arkworks' check names the failing constraint, then the
            // matrices are kept for the next proofs.
            check_satisfied(&cs)?;
            let ark = cs.to_matrices().ok_or_else(|| Error::ProofFailed {
                what: "the constraint system built no matrices".into(),
            })?;
            let m = Arc::new(Matrices::from_ark(&ark)?);
            drop(ark);
            key.keep_matrices(m.clone());
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
    check_key_fits(&matrices, z.len(), num_public, key)?;
    let z29: Vec<_> = z.iter().map(to29).collect();
    let products = matrices.products(&z29);
    drop(z29);
    if let Some(i) = matrices::first_unsatisfied(&products) {
        return Err(Error::WitnessFailed {
            constraint: format!("constraint #{i}"),
        });
    }

    stage(Stage::Qap)?;
    let public_with_one: Vec<_> = z[..num_public].iter().map(to29).collect();
    let h_bigints = qap::witness_map(products, &public_with_one, key.kernel())?;
    let public = z[1..num_public].to_vec();
    let witness = &z[num_public..];

    let r = Fr::rand(rng);
    let s = Fr::rand(rng);

    stage(Stage::MsmH)?;
    let h_acc = key.msm_g1(G1Query::H, 0, &h_bigints);
    drop(h_bigints);

    stage(Stage::MsmL)?;
    let witness_bigints: Vec<_> = witness.iter().map(|x| x.into_bigint()).collect();
    let l_acc = key.msm_g1(G1Query::L, 0, &witness_bigints);

    let assignment: Vec<_> = public
        .iter()
        .map(|x| x.into_bigint())
        .chain(witness_bigints)
        .collect();
    let (a0, b0, b20) = key.first();
    let vk = key.verifying_key();

    stage(Stage::MsmA)?;
    let g_a = key.delta_g1() * r + vk.alpha_g1 + a0 + key.msm_g1(G1Query::A, 1, &assignment);

    stage(Stage::MsmB1)?;
    let g1_b = key.delta_g1() * s + key.beta_g1() + b0 + key.msm_g1(G1Query::B, 1, &assignment);

    stage(Stage::MsmB2)?;
    let g2_b: G2 = vk.delta_g2 * s + vk.beta_g2 + b20 + key.msm_b_g2(1, &assignment);

    // C = s*A + r*B1 - r*s*delta + L + H
    let g_c = g_a * s + g1_b * r - key.delta_g1() * (r * s) + l_acc + h_acc;
    stage(Stage::Done)?;
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

/// A key made for another circuit (or matrices of another circuit) has other lengths: refuse it
/// before the MSMs.
fn check_key_fits(
    m: &Matrices,
    variables: usize,
    num_public: usize,
    key: &PreparedProvingKey,
) -> Result<()> {
    let domain = GeneralEvaluationDomain::<Fr>::new(m.num_constraints + num_public)
        .map(|d| d.size())
        .unwrap_or(0);
    let fits = variables == m.num_variables()
        && num_public == m.num_instance_variables
        && key.len(G1Query::A) == variables
        && key.len(G1Query::B) == variables
        && key.len_b_g2() == variables
        && key.len(G1Query::L) == variables - num_public
        && key.len(G1Query::H) + 1 == domain
        && key.verifying_key().gamma_abc_g1.len() == num_public;
    if fits {
        Ok(())
    } else {
        Err(Error::key_integrity(format!(
            "the proving key does not fit this circuit ({} constraints, {} variables): it was made for another circuit",
            m.num_constraints, variables
        )))
    }
}
