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
use ark_ff::{BigInt, PrimeField, UniformRand};
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
use ark_relations::r1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, OptimizationGoal, SynthesisMode,
};
use ark_std::rand::{CryptoRng, RngCore};

use super::fft::to29;
use super::matrices::{self, Matrices};
use super::msm::field::Fr29;
use super::prepared::{G1Query, PreparedProvingKey};
use super::qap::{self, Reduction};
use super::{Progress, Proof, Stage};
use crate::circuit::{ClaimCircuit, SquareChain};
use crate::claim::Claim;
use crate::error::{Error, Result};
use crate::field::Fr;

type G1 = <super::Curve as ark_ec::pairing::Pairing>::G1;
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
    let mut stage = stages(progress, stop);
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
    prove_assignment(z, num_public, &matrices, key, rng, &mut stage)
}

/// Proves from a full witness `[1, public.., private..]` (a `.wtns`, circom's witness wasm) with a
/// key whose matrices are known: a key converted from a snarkjs zkey
/// ([`crate::circom::zkey`], [`Reduction::Circom`]) or one of ours that carries them. The same
/// stages, progress, cancellation, kernels and MSM schedule as [`prove_circuit_until`]; the
/// synthesis stage has nothing to do. Returns the proof and the public signals.
///
/// A witness of another length is [`Error::ZkeyMismatch`] (a witness of another circuit). The
/// constraint check needs C, which a zkey does not carry: for such keys the A and B products are
/// computed and the proof, once made, is verified with the key's own verifying key instead (a
/// few milliseconds); one that does not verify is [`Error::WitnessFailed`] and is not returned.
/// (circom's witness wasm checks every constraint itself as it computes the witness; a `.wtns`
/// from elsewhere is checked by this.)
pub fn prove_witness_until<R: RngCore + CryptoRng>(
    witness: &[Fr],
    key: &PreparedProvingKey,
    rng: &mut R,
    progress: &mut dyn FnMut(&Progress),
    stop: &dyn Fn() -> bool,
) -> Result<(Proof, Vec<Fr>)> {
    let mut stage = stages(progress, stop);
    stage(Stage::Synthesis)?;
    let matrices = key.matrices().ok_or_else(|| Error::KeyNotFound {
        what: "the constraint matrices: a proof from a witness needs a key that carries them"
            .into(),
    })?;
    stage(Stage::ConstraintCheck)?;
    let num_public = matrices.num_instance_variables;
    if witness.len() != matrices.num_variables() || witness.first() != Some(&Fr::from(1u64)) {
        return Err(Error::ZkeyMismatch {
            what: format!(
                "the witness has {} values, the key's circuit {} (nVars) starting with the constant 1: a witness of another circuit",
                witness.len(),
                matrices.num_variables()
            ),
        });
    }
    check_key_fits(&matrices, witness.len(), num_public, key)?;
    let (proof, public) = prove_assignment(
        witness.to_vec(),
        num_public,
        &matrices,
        key,
        rng,
        &mut stage,
    )?;
    if key.reduction() == Reduction::Circom
        && !super::verify::verify(key.verifying_key(), &public, &proof)?
    {
        return Err(Error::WitnessFailed {
            constraint: "(unknown: a zkey carries no C matrix, so the proof made from the witness was verified instead, and it does not verify: the witness breaks a constraint, or the zkey disagrees with itself)".into(),
        });
    }
    Ok((proof, public))
}

/// Reports each stage as it starts, and stops with [`Error::Cancelled`] before any stage but
/// the last once `stop()` answers true.
fn stages<'a>(
    progress: &'a mut dyn FnMut(&Progress),
    stop: &'a dyn Fn() -> bool,
) -> impl FnMut(Stage) -> Result<()> + 'a {
    move |s: Stage| {
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
    }
}

/// The proof from the full assignment `z` (`num_public` instance values first, the constant one
/// included), from the constraint check's products on.
fn prove_assignment<R: RngCore + CryptoRng>(
    z: Vec<Fr>,
    num_public: usize,
    matrices: &Matrices,
    key: &PreparedProvingKey,
    rng: &mut R,
    stage: &mut impl FnMut(Stage) -> Result<()>,
) -> Result<(Proof, Vec<Fr>)> {
    let z29: Vec<_> = z.iter().map(to29).collect();
    // A key from a zkey has no C to check with (see prove_witness_until); one of ours made
    // for snarkjs's reduction (a ceremony's key) does.
    let products = if matrices.has_c() {
        let products = matrices.products(&z29);
        if let Some(i) = matrices::first_unsatisfied(&products) {
            return Err(Error::WitnessFailed {
                constraint: format!("constraint #{i}"),
            });
        }
        match key.reduction() {
            Reduction::Libsnark => Products::Abc(products),
            Reduction::Circom => {
                let [a, b, _] = products;
                Products::Ab([a, b])
            }
        }
    } else {
        match key.reduction() {
            Reduction::Circom => Products::Ab(matrices.products_ab(&z29)),
            Reduction::Libsnark => {
                return Err(Error::key_integrity(
                    "the key's constraint matrices have no C, which its reduction needs",
                ))
            }
        }
    };
    drop(z29);

    stage(Stage::Qap)?;
    let public_with_one: Vec<_> = z[..num_public].iter().map(to29).collect();
    let public = z[1..num_public].to_vec();
    let witness: Vec<_> = z[num_public..].iter().map(|x| x.into_bigint()).collect();
    let assignment: Vec<_> = public
        .iter()
        .map(|x| x.into_bigint())
        .chain(witness.iter().copied())
        .collect();
    drop(z);
    let qap = || match products {
        Products::Abc(p) => qap::witness_map(p, &public_with_one, key.kernel()),
        Products::Ab(p) => qap::witness_map_circom(p, &public_with_one, key.kernel()),
    };
    let sums = msms(key, qap, &witness, &assignment, stage)?;
    drop((witness, assignment));

    let r = Fr::rand(rng);
    let s = Fr::rand(rng);
    let (a0, b0, b20) = key.first();
    let vk = key.verifying_key();
    let g_a = key.delta_g1() * r + vk.alpha_g1 + a0 + sums.a;
    let g1_b = key.delta_g1() * s + key.beta_g1() + b0 + sums.b1;
    let g2_b: G2 = vk.delta_g2 * s + vk.beta_g2 + b20 + sums.b2;
    let (l_acc, h_acc) = (sums.l, sums.h);

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

/// `A·z`, `B·z` and, for our own keys, `C·z`.
enum Products {
    Abc([Vec<Fr29>; 3]),
    Ab([Vec<Fr29>; 2]),
}

/// The five MSMs' sums (without the key's constant terms and the blinding).
struct Sums {
    h: G1,
    l: G1,
    a: G1,
    b1: G1,
    b2: G2,
}

/// Whether [`msms`] runs one stage after another even with `parallel`: only benchmarks set it,
/// to measure what running them at once gains ([`set_sequential_msms`]).
#[cfg(feature = "parallel")]
static SEQUENTIAL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Benchmarks only: run the QAP and the MSMs one after another (as the single-threaded build
/// does) instead of at once, for every proof of this process from now on.
#[doc(hidden)]
pub fn set_sequential_msms(on: bool) {
    #[cfg(feature = "parallel")]
    SEQUENTIAL.store(on, std::sync::atomic::Ordering::Relaxed);
    #[cfg(not(feature = "parallel"))]
    let _ = on;
}

/// The MSMs and the QAP that gives H's scalars, one after another in the stages' order.
fn msms_in_order(
    key: &PreparedProvingKey,
    qap: impl FnOnce() -> Result<Vec<BigInt<4>>>,
    witness: &[BigInt<4>],
    assignment: &[BigInt<4>],
    stage: &mut impl FnMut(Stage) -> Result<()>,
) -> Result<Sums> {
    let h_scalars = qap()?;
    stage(Stage::MsmH)?;
    let h = key.msm_g1(G1Query::H, 0, &h_scalars);
    drop(h_scalars);
    stage(Stage::MsmL)?;
    let l = key.msm_g1(G1Query::L, 0, witness);
    stage(Stage::MsmA)?;
    let a = key.msm_g1(G1Query::A, 1, assignment);
    stage(Stage::MsmB1)?;
    let b1 = key.msm_g1(G1Query::B, 1, assignment);
    stage(Stage::MsmB2)?;
    let b2 = key.msm_b_g2(1, assignment);
    Ok(Sums { h, l, a, b1, b2 })
}

/// The QAP and the MSMs: at once with `parallel` ([`msms_at_once`]), unless a benchmark asked
/// for them in order; in order in the single-threaded build.
fn msms(
    key: &PreparedProvingKey,
    qap: impl FnOnce() -> Result<Vec<BigInt<4>>>,
    witness: &[BigInt<4>],
    assignment: &[BigInt<4>],
    stage: &mut impl FnMut(Stage) -> Result<()>,
) -> Result<Sums> {
    #[cfg(feature = "parallel")]
    if !SEQUENTIAL.load(std::sync::atomic::Ordering::Relaxed) {
        return msms_at_once(key, qap, witness, assignment, stage);
    }
    msms_in_order(key, qap, witness, assignment, stage)
}

/// The MSMs and the QAP at once, so that every thread has work: L, A, B1 and B2 need only the
/// witness and start as tasks of their own, while this thread runs the QAP (its FFTs parallel)
/// and then H, the path that takes longest. Each MSM's windows are tasks too, so rayon's
/// work-stealing spreads all of them over the pool.
///
/// Progress stays on this thread (a caller's callback may not be `Send`, a browser's is not):
/// `stage(s)` is reported once every stage before `s` has finished. Outside a rayon pool (the
/// CLI, the service, a browser worker), this thread only waits after H and reports each MSM as
/// it ends; inside one (benchmarks call it in `pool.install`) it helps with the remaining tasks
/// instead, and the stages after H are reported together. A stop asked for ends the proof at the
/// next report; the MSMs that have not started by then never do.
#[cfg(feature = "parallel")]
fn msms_at_once(
    key: &PreparedProvingKey,
    qap: impl FnOnce() -> Result<Vec<BigInt<4>>>,
    witness: &[BigInt<4>],
    assignment: &[BigInt<4>],
    stage: &mut impl FnMut(Stage) -> Result<()>,
) -> Result<Sums> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc;

    // The stages from the QAP to the last MSM, in the prover's order: `stage(ORDER[i])` says
    // everything before it is done.
    const ORDER: &[Stage] = Stage::ALL
        .split_at(Stage::Qap as usize)
        .1
        .split_at(Stage::Done as usize - Stage::Qap as usize)
        .0;
    let mut done = [false; ORDER.len()];
    let mut reported = 0; // Qap's start was reported by the caller
    let mut report = |finished: Stage| -> Result<()> {
        if let Some(i) = ORDER.iter().position(|&s| s == finished) {
            done[i] = true;
        }
        let next = done.iter().position(|d| !d).unwrap_or(ORDER.len());
        while reported < next.min(ORDER.len() - 1) {
            reported += 1;
            stage(ORDER[reported])?;
        }
        Ok(())
    };

    let abandon = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<Stage>();
    let (mut l, mut a, mut b1, mut b2) = (None, None, None, None);
    let h = rayon::in_place_scope(|scope| -> Result<G1> {
        let abandon = &abandon;
        spawn_sum(scope, &mut l, Stage::MsmL, abandon, tx.clone(), || {
            key.msm_g1(G1Query::L, 0, witness)
        });
        spawn_sum(scope, &mut a, Stage::MsmA, abandon, tx.clone(), || {
            key.msm_g1(G1Query::A, 1, assignment)
        });
        spawn_sum(scope, &mut b1, Stage::MsmB1, abandon, tx.clone(), || {
            key.msm_g1(G1Query::B, 1, assignment)
        });
        spawn_sum(scope, &mut b2, Stage::MsmB2, abandon, tx, || {
            key.msm_b_g2(1, assignment)
        });
        let stopped = |e: Error| {
            abandon.store(true, Ordering::Relaxed);
            e
        };
        let h_scalars = qap().map_err(stopped)?;
        report(Stage::Qap).map_err(stopped)?;
        while let Ok(s) = rx.try_recv() {
            report(s).map_err(stopped)?;
        }
        let h = key.msm_g1(G1Query::H, 0, &h_scalars);
        drop(h_scalars);
        report(Stage::MsmH).map_err(stopped)?;
        if rayon::current_thread_index().is_none() {
            // Not a pool thread: nothing to help with, so report each MSM as it ends (every
            // task sends once, and a task that panics drops its sender: this ends).
            while let Ok(s) = rx.recv() {
                report(s).map_err(stopped)?;
            }
        }
        Ok(h)
    })?;
    while let Ok(s) = rx.try_recv() {
        report(s)?;
    }
    let lost = || Error::ProofFailed {
        what: "an MSM task ended without its sum".into(),
    };
    Ok(Sums {
        h,
        l: l.ok_or_else(lost)?,
        a: a.ok_or_else(lost)?,
        b1: b1.ok_or_else(lost)?,
        b2: b2.ok_or_else(lost)?,
    })
}

/// Runs `run` as a task of `scope` into `slot` unless `abandon` is set by the time it starts,
/// then sends `stage` (also when abandoned, so that a waiting reader counts every task).
#[cfg(feature = "parallel")]
fn spawn_sum<'s, T: Send + 's>(
    scope: &rayon::Scope<'s>,
    slot: &'s mut Option<T>,
    stage: Stage,
    abandon: &'s std::sync::atomic::AtomicBool,
    tx: std::sync::mpsc::Sender<Stage>,
    run: impl FnOnce() -> T + Send + 's,
) {
    scope.spawn(move |_| {
        if !abandon.load(std::sync::atomic::Ordering::Relaxed) {
            *slot = Some(run());
        }
        let _ = tx.send(stage);
    });
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
        && key.len(G1Query::H) == key.reduction().h_query_len(domain)
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

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::*;
    use crate::prover::msm::Kernel;
    use crate::prover::{setup, verify::verify};
    use crate::tree::sample::sample;

    /// The MSMs run at once give the proof they give in order (the same randomness makes the same
    /// proof), with both kernels, and report every stage once, in the prover's order.
    #[test]
    fn msms_at_once_prove_what_they_prove_in_order() {
        let id = "threshold-d4-k2".parse().unwrap();
        let keys = setup::setup(&id, &mut ChaCha20Rng::seed_from_u64(1)).unwrap();
        let claim = Claim::from_value(&sample(&id, 10, 2).unwrap().claim).unwrap();
        for kernel in [Kernel::Arkworks, Kernel::Wasm29] {
            let key = PreparedProvingKey::new(
                keys.proving_key.clone(),
                Some(keys.matrices.clone()),
                kernel,
            )
            .unwrap();
            let prove = |sequential: bool| {
                set_sequential_msms(sequential);
                let mut stages = Vec::new();
                let proof =
                    prove_claim(&claim, &key, &mut ChaCha20Rng::seed_from_u64(7), &mut |p| {
                        stages.push(p.stage)
                    });
                set_sequential_msms(false);
                (proof.unwrap(), stages)
            };
            let (in_order, in_order_stages) = prove(true);
            let (at_once, at_once_stages) = prove(false);
            assert_eq!(at_once, in_order, "{kernel:?}");
            assert!(verify(&keys.verifying_key, &claim.public_signals(), &at_once).unwrap());
            assert_eq!(at_once_stages, Stage::ALL, "{kernel:?}");
            assert_eq!(in_order_stages, Stage::ALL, "{kernel:?}");
        }
    }
}
